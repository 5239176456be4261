"""The console's People's requests page over HTTP without a browser: a search changes nothing and shows what
erasing the person takes, the erasure then takes exactly that (storage's `forget`, audited as the staff
account), nothing found is said, the confirmation is needed, and no identifier reaches a URL or the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup

from bot.service import Service
from storage.applications import ApplicationFields, record_application
from storage.inbox import InboxEntry, receive
from storage.models import Application, Email, OutboxMessage, Respondent, Submission
from tests.support import Person, count
from tests.support.console import audit_entries, server, signed_in

COORDINATOR, ANALYST, FIELD = "koordynator@um.warszawa.pl", "analityk@um.warszawa.pl", "teren@um.warszawa.pl"
MARTA = "marta.nowak@example.pl"
Client = TestClient[Any, Any]


@pytest.fixture
async def client(service: Service) -> AsyncIterator[Client]:
    async with TestClient(server(service)) as test_client:
        yield test_client


async def seed_marta(service: Service) -> None:
    """Marta wrote twice by email and began the questionnaire there, was sent a reply, and applied to the
    working groups in Telegram giving her address (another identity of hers); Jan's data stays."""
    now = service.conversation.clock()
    marta = Person(service, MARTA, channel="email")
    await marta.begin()
    await Person(service, "jan@example.pl", channel="email").begin()
    telegram = service.respondent("telegram", "777")
    async with service.store.unit() as unit:
        for n, sender in enumerate((MARTA, MARTA, "jan@example.pl")):
            unit.add(
                Email(
                    message_id=f"<{n}@example.pl>",
                    digest=f"{n:064}",
                    raw=b"Subject: opinia\r\n\r\nWiecej zieleni.",
                    size=35,
                    from_hash=service.respondent("email", sender).pseudonym,
                    kind="opinion",
                    received_at=now,
                )
            )
        for n, to in enumerate(("Marta.Nowak@example.pl", "jan@example.pl")):
            unit.add(
                OutboxMessage(
                    to_address=to,
                    message_id=f"<reply-{n}@wspolnota.example>",
                    subject="Re: opinia",
                    body="Dziękujemy",
                    purpose="form",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        applicant = await unit.ensure_respondent("telegram", telegram.pseudonym, now)
        fields = ApplicationFields(name="Marta Nowak", email=MARTA, groups=("otwartosc",), language="pl")
        await record_application(
            unit,
            respondent_id=applicant.id,
            submission_id=None,
            channel="telegram",
            received_at=now,
            late=False,
            fields=fields,
            complete=False,
            now=now,
        )


def counts(html: str, table: str) -> dict[str, int]:
    soup = BeautifulSoup(html, "html.parser")
    cells = soup.select(f"#{table} [data-count]")
    assert cells, html
    return {str(cell["data-count"]): int(cell.get_text()) for cell in cells}


def erase_form(html: str) -> dict[str, str] | None:
    """The confirmation form's fields, if the page has one."""
    soup = BeautifulSoup(html, "html.parser")
    step = soup.find("input", {"name": "step", "value": "erase"})
    if step is None:
        return None
    form = step.find_parent("form")
    assert form is not None
    return {str(field["name"]): str(field.get("value", "")) for field in form.find_all("input")}


async def test_the_preview_counts_what_the_erasure_then_erases(client: Client, service: Service) -> None:
    await seed_marta(service)
    account, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    page = await client.get("/staff/people")
    assert page.status == 200 and "people/erase" in await page.text()
    before = [await count(service.store, model) for model in (Respondent, Submission, Email, OutboxMessage)]

    search = {"csrf": csrf, "step": "preview", "kind": "email", "value": "  Marta.Nowak@Example.PL "}
    preview = await client.post("/staff/people/erase", data=search)

    assert preview.status == 200 and MARTA not in str(preview.url)
    html = await preview.text()
    shown = counts(html, "people-preview")
    # Her email identity and her Telegram one (it applied giving her address); her two emails, the reply to
    # her whatever its case, her application; her questionnaire begun, not finished.
    assert shown == {
        "respondents": 2,
        "completed": 0,
        "open": 1,
        "emails": 2,
        "outbox": 1,
        "inbox": 0,
        "applications": 1,
    }
    assert [await count(service.store, model) for model in (Respondent, Submission, Email, OutboxMessage)] == before
    form = erase_form(html)
    assert form is not None and form["value"] == MARTA and form["kind"] == "email" and "confirm" in form

    erased = await client.post("/staff/people/erase", data=form, allow_redirects=False)

    assert erased.status == 303
    location = erased.headers["Location"]
    assert location.startswith("/staff/people?note=erased&") and "marta" not in location.lower()
    after = await client.get(location)
    assert counts(await after.text(), "people-erased") == shown
    assert [await count(service.store, model) for model in (Respondent, Email, OutboxMessage, Application)] == [
        1,
        1,
        1,
        0,
    ]
    mine = [(e.action, e.details) for e in await audit_entries(service) if e.actor == f"staff:{account}"]
    assert mine[1:] == [
        ("people_lookup", {"kind": "email"}),
        (
            "forget",
            {"channel": "email", "respondents": 2, "emails": 2, "outbox": 1, "inbox": 0, "applications": 1},
        ),
    ]
    logged = str([e.details for e in await audit_entries(service)]).lower()
    assert "marta" not in logged and service.respondent("email", MARTA).pseudonym not in logged

    # Searched again: nothing is stored, nothing to confirm.
    again = await client.post("/staff/people/erase", data=search)
    again_html = await again.text()
    assert again.status == 200 and erase_form(again_html) is None
    assert "Nic nie jest zapisane o tej osobie." in again_html


async def test_a_telegram_user_with_messages_waiting(client: Client, service: Service) -> None:
    person = Person(service, "4242", channel="telegram")
    await person.begin()
    waiting = [InboxEntry("9001", "4242", {"message": {"text": "Sąsiedzi"}})]
    await receive(service.store, "telegram", waiting, service.conversation.clock())
    _, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    search = {"csrf": csrf, "step": "preview", "kind": "telegram", "value": "4242"}
    shown = counts(await (await client.post("/staff/people/erase", data=search)).text(), "people-preview")
    assert (shown["respondents"], shown["open"], shown["inbox"]) == (1, 1, 1)

    erased = await client.post("/staff/people/erase", data={**search, "step": "erase", "confirm": "yes"})

    assert erased.status == 200 and erased.url.path == "/staff/people"  # followed the redirect
    assert counts(await erased.text(), "people-erased") == shown
    assert await count(service.store, Respondent) == 0


async def test_nothing_found_is_said_and_offers_nothing_to_erase(client: Client, service: Service) -> None:
    account, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    found = await client.post(
        "/staff/people/erase", data={"csrf": csrf, "step": "preview", "kind": "paper", "value": "P-0404"}
    )
    html = await found.text()
    assert found.status == 200 and "Nic nie jest zapisane o tej osobie." in html and erase_form(html) is None
    english = await client.post(
        "/staff/people/erase?lang=en", data={"csrf": csrf, "step": "preview", "kind": "paper", "value": "P-0404"}
    )
    assert "Nothing is stored about this person." in await english.text()
    mine = [(e.action, e.details) for e in await audit_entries(service) if e.actor == f"staff:{account}"]
    assert mine[1:] == [("people_lookup", {"kind": "paper"})] * 2


async def test_the_erasure_needs_its_confirmation(client: Client, service: Service) -> None:
    await seed_marta(service)
    account, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    unconfirmed = {"csrf": csrf, "step": "erase", "kind": "email", "value": MARTA}

    refused = await client.post("/staff/people/erase", data=unconfirmed)

    html = await refused.text()
    assert refused.status == 400 and "Zaznacz, że rozumiesz" in html
    assert counts(html, "people-preview")["respondents"] == 2 and erase_form(html) is not None
    assert await count(service.store, Respondent) == 3 and await count(service.store, Application) == 1
    assert "forget" not in [e.action for e in await audit_entries(service)]
    wrong = await client.post("/staff/people/erase", data={**unconfirmed, "confirm": "no"})
    assert wrong.status == 400 and await count(service.store, Respondent) == 3
    assert {e.action for e in await audit_entries(service) if e.actor == f"staff:{account}"} == {
        "staff_sign_in",
        "people_lookup",
    }


@pytest.mark.parametrize(
    "form",
    [
        {"step": "preview", "kind": "email", "value": "   "},
        {"step": "preview", "kind": "phone", "value": "600100200"},
        {"step": "preview", "kind": "email", "value": "a" * 321},
        {"step": "delete", "kind": "email", "value": MARTA},
    ],
)
async def test_a_bad_search_is_the_page_again_with_a_problem(
    client: Client, service: Service, form: dict[str, str]
) -> None:
    _, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    answer = await client.post("/staff/people/erase", data={"csrf": csrf, **form})
    assert answer.status == 400 and "Podaj rodzaj identyfikatora i identyfikator." in await answer.text()
    assert "people_lookup" not in [e.action for e in await audit_entries(service)]


@pytest.mark.parametrize(("email", "role"), [(FIELD, "field"), (ANALYST, "analyst")])
async def test_only_a_coordinator_may_find_and_erase(client: Client, service: Service, email: str, role: str) -> None:
    await seed_marta(service)
    _, csrf = await signed_in(client, service, email, role)
    assert (await client.get("/staff/people")).status == 403
    confirmed = {"csrf": csrf, "step": "erase", "kind": "email", "value": MARTA, "confirm": "yes"}
    assert (await client.post("/staff/people/erase", data=confirmed)).status == 403
    assert await count(service.store, Respondent) == 3
    home = BeautifulSoup(await (await client.get("/staff/")).text(), "html.parser")
    assert "/staff/people" not in {a["href"] for a in home.select("header a")}

"""The console's Quotes page over HTTP without a browser: the candidates masked as `quotes review` lists them,
approving, rejecting, editing, an edit refused as masking would still change it, each decision audited
without its text, and the public report quoting exactly what was approved."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.service import Service
from reports.quote_review import approved_quotes
from reports.report_build import ReportRequest, build_report
from storage.exports import SubmissionFilter
from storage.models import AuditEntry
from tests.support import QUESTIONNAIRE, seed
from tests.support.console import server, signed_in
from tests.support.walks import COMMUNITY

COORDINATOR, ANALYST = "koordynator@um.warszawa.pl", "analityk@um.warszawa.pl"
QUESTION = "community_meaning"
# Submissions 1-4 allowed quoting (tests/support/walks.py); the fourth names someone and gives a phone and email.
KOWALSKA = "Pani […] z parteru, tel. [telefon], [e-mail] — sąsiedzi pomagają."
EDITED = "Sąsiadka z parteru zawsze pomaga."
QUESTION_WORDS = "Czym jest dla Ciebie lokalna wspólnota?"


@pytest.fixture
async def client(service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    await seed(service)
    async with TestClient(server(service)) as test_client:
        yield test_client


async def decide(
    client: TestClient[Any, Any], csrf: str, submission: int, decision: str, text: str | None = None, show: str = "todo"
) -> Any:
    data = {"csrf": csrf, "questionnaire": QUESTIONNAIRE, "show": show, "decision": decision}
    if text is not None:
        data["text"] = text
    return await client.post(f"/staff/quotes/{submission}-{QUESTION}", data=data, allow_redirects=False)


async def shown(client: TestClient[Any, Any], query: str = "") -> BeautifulSoup:
    page = await client.get(f"/staff/quotes{query}")
    assert page.status == 200
    return BeautifulSoup(await page.text(), "html.parser")


def quotes_on(page: BeautifulSoup) -> dict[str, str]:
    """The quotes a page lists: their anchor and the text the public report would print."""
    return {str(item["id"]): item.select_one("blockquote").get_text() for item in page.select("li.quote")}


def counts_on(page: BeautifulSoup) -> list[str]:
    return [a.get_text(" ", strip=True) for a in page.select(".quotes-filter a")]


async def quote_entries(service: Service) -> list[AuditEntry]:
    async with service.store.unit(write=False) as unit:
        entries = await unit.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [entry for entry in entries if entry.action.startswith("quote")]


async def test_an_analyst_may_not_review_quotes(client: TestClient[Any, Any], service: Service) -> None:
    _, csrf = await signed_in(client, service, ANALYST, "analyst")
    assert (await client.get("/staff/quotes")).status == 403
    assert (await decide(client, csrf, 1, "approve")).status == 403
    assert await approved_quotes(service.store, QUESTIONNAIRE) == {}


async def test_the_candidates_are_listed_masked_as_the_review_file_lists_them(
    client: TestClient[Any, Any], service: Service
) -> None:
    await signed_in(client, service, COORDINATOR, "coordinator")
    page = await shown(client)
    assert page.h1.get_text() == "Cytaty do raportu publicznego"
    assert "/staff/quotes" in {a["href"] for a in page.select("header a")}
    # The fifth author did not allow quoting; the fourth's name, phone and email are masked.
    assert quotes_on(page) == {f"quote-{n}-{QUESTION}": COMMUNITY[n - 1] for n in (1, 2, 3)} | {
        f"quote-4-{QUESTION}": KOWALSKA
    }
    html = str(page)
    assert "Kowalska" not in html and "600 100 200" not in html and "jan@example.pl" not in html
    assert "<script>alert" not in html  # a resident's markup is text
    assert counts_on(page) == ["Do decyzji (4)", "Zatwierdzone (0)", "Odrzucone (0)", "Wszystkie (4)"]
    item = page.select_one(f"#quote-4-{QUESTION}")
    assert item is not None and item.h2.get_text() == QUESTION_WORDS
    assert item.select_one("textarea").get_text() == KOWALSKA  # prefilled with the masked text
    assert "do decyzji" in item.get_text()
    english = await shown(client, "?lang=en")
    assert english.h1.get_text() == "Quotes for the public report" and "To decide (4)" in counts_on(english)


async def test_approve_reject_and_edit_each_audited_then_the_public_report_quotes_exactly_them(
    client: TestClient[Any, Any], service: Service
) -> None:
    account, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    approved = await decide(client, csrf, 1, "approve", COMMUNITY[0])
    assert approved.status == 303
    # Back to the list with its filter, at the next quote (Post/Redirect/Get).
    assert approved.headers["Location"] == (
        f"/staff/quotes?questionnaire={QUESTIONNAIRE}&show=todo&note=approved#quote-2-{QUESTION}"
    )
    rejected = await decide(client, csrf, 2, "reject", show="all")
    assert rejected.headers["Location"].endswith(f"show=all&note=rejected#quote-3-{QUESTION}")
    edited = await decide(client, csrf, 4, "approve", EDITED)
    assert edited.status == 303 and "note=edited" in edited.headers["Location"]
    assert "#" not in edited.headers["Location"]  # the last quote: nothing after it

    page = await shown(client, f"?questionnaire={QUESTIONNAIRE}&show=todo&note=edited")
    assert page.select_one('[role="status"]').get_text() == "Cytat zatwierdzony w poprawionej postaci."
    assert list(quotes_on(page)) == [f"quote-3-{QUESTION}"]
    assert counts_on(page) == ["Do decyzji (1)", "Zatwierdzone (2)", "Odrzucone (1)", "Wszystkie (4)"]
    done = quotes_on(await shown(client, "?show=approved"))
    assert done == {f"quote-1-{QUESTION}": COMMUNITY[0], f"quote-4-{QUESTION}": EDITED}
    assert list(quotes_on(await shown(client, "?show=rejected"))) == [f"quote-2-{QUESTION}"]

    # The same decision again changes nothing, and says so.
    again = await decide(client, csrf, 1, "approve", COMMUNITY[0])
    assert "note=unchanged" in again.headers["Location"]

    assert await approved_quotes(service.store, QUESTIONNAIRE) == {(1, QUESTION): COMMUNITY[0], (4, QUESTION): EDITED}
    entries = await quote_entries(service)
    assert [(e.action, e.actor) for e in entries] == [
        ("quote_approve", f"staff:{account}"),
        ("quote_reject", f"staff:{account}"),
        ("quote_approve", f"staff:{account}"),
        ("quote_approve", f"staff:{account}"),
    ]
    assert entries[0].details == {
        "questionnaire": QUESTIONNAIRE,
        "submission": 1,
        "question": QUESTION,
        "edited": False,
        "via": "console",
        "changed": 1,
    }
    assert entries[2].details["edited"] is True and entries[3].details["changed"] == 0
    for entry in entries:  # never the text
        assert not any(
            isinstance(value, str) and ("Sąsiad" in value or "parter" in value) for value in entry.details.values()
        )

    # The public report (what `report --public` builds) quotes exactly the approved texts.
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    request = ReportRequest(SubmissionFilter(QUESTIONNAIRE), 5, True, service.config.population)
    built = await build_report(
        service.store, questionnaire, service.config.events, request, service.conversation.clock()
    )
    assert sorted(re.findall(r"<blockquote>(.*?)</blockquote>", built.html)) == sorted([COMMUNITY[0], EDITED])

    # And so does the one the Data page downloads with "public" ticked (audited as public).
    form = BeautifulSoup(await (await client.get("/staff/data")).text(), "html.parser")
    assert form.select_one('form[action="/staff/data/report"] input[type="checkbox"][name="public"]') is not None
    download = await client.post(
        "/staff/data/report", data={"csrf": csrf, "questionnaire": QUESTIONNAIRE, "format": "html", "public": "1"}
    )
    assert download.status == 200
    assert f'filename="{QUESTIONNAIRE}-public-report-' in download.headers["Content-Disposition"]
    html = await download.text()
    assert sorted(re.findall(r"<blockquote>(.*?)</blockquote>", html)) == sorted([COMMUNITY[0], EDITED])
    assert "Dobre relacje" not in html  # the rejected one
    internal = await client.post("/staff/data/report", data={"csrf": csrf, "questionnaire": QUESTIONNAIRE})
    assert "Dobre relacje" in await internal.text()  # the internal report quotes whoever allowed it
    async with service.store.unit(write=False) as unit:
        reports = list(await unit.session.scalars(select(AuditEntry).where(AuditEntry.action == "report")))
    assert [entry.details["public"] for entry in reports] == [True, False]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Pani Kowalska z parteru zawsze pomaga.", "maskowanie zmieniłoby go na: „Pani […] z parteru zawsze pomaga.”"),
        ("Dzwońcie: 600 100 200.", "[telefon]"),
        ("  \r\n ", "nie można zatwierdzić pustego tekstu"),
    ],
)
async def test_an_edit_that_still_shows_someone_or_is_empty_is_refused(
    client: TestClient[Any, Any], service: Service, text: str, said: str
) -> None:
    _, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    refused = await decide(client, csrf, 3, "approve", text)
    assert refused.status == 400
    page = BeautifulSoup(await refused.text(), "html.parser")
    assert said in page.select_one('[role="alert"]').get_text()
    item = page.select_one(f"#quote-3-{QUESTION}")
    assert item is not None and said in item.select_one(".problem").get_text()
    area = item.select_one("textarea")
    assert area["aria-invalid"] == "true" and area.get_text().strip() == text.replace("\r\n", "\n").strip()
    assert await approved_quotes(service.store, QUESTIONNAIRE) == {}
    assert await quote_entries(service) == []


async def test_unknown_quotes_and_forms_are_refused(client: TestClient[Any, Any], service: Service) -> None:
    _, csrf = await signed_in(client, service, COORDINATOR, "coordinator")
    assert (await decide(client, csrf, 5, "approve", "Wspólnota to ludzie.")).status == 404  # no consent to quote
    assert (await decide(client, csrf, 99, "reject")).status == 404
    nowhere = await client.post("/staff/quotes/x-y", data={"csrf": csrf, "decision": "reject"})
    assert nowhere.status == 404
    other = await client.post(
        f"/staff/quotes/1-{QUESTION}", data={"csrf": csrf, "questionnaire": "nope", "decision": "reject"}
    )
    assert other.status == 404 and "Nie ma takiej ankiety" in await other.text()
    assert (await client.get("/staff/quotes?questionnaire=nope")).status == 404
    maybe = await decide(client, csrf, 1, "maybe")
    assert maybe.status == 400 and "wybierz „Zatwierdź” albo „Odrzuć”" in await maybe.text()
    forged = await client.post(
        f"/staff/quotes/1-{QUESTION}", data={"questionnaire": QUESTIONNAIRE, "decision": "reject"}
    )
    assert forged.status == 403
    assert await quote_entries(service) == []

"""The console's Staff accounts page (coordinators): the list, adding an account and its one-time setup link,
disabling one (never your own), requiring a second factor; each change audited as the command line audits it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pyotp
import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup

from bot.console.app import COOKIE
from bot.service import Service, open_service
from storage.staff_accounts import (
    count_sessions,
    disable_account,
    find_account,
    list_accounts,
    record_failure,
)
from tests.support.console import PASSWORD, add_staff, audit_entries, form_token, server, setup_link, sign_in
from tests.support.settings import FakeClock, make_settings

COORDINATOR, ANALYST, FIELD = "koordynator@um.warszawa.pl", "analityk@um.warszawa.pl", "teren@um.warszawa.pl"
NEW = "nowa.osoba@um.warszawa.pl"
NEW_PASSWORD = "kawa z mlekiem na Pradze"


@pytest.fixture
async def client(service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(server(service)) as test_client:
        yield test_client


async def coordinator(client: TestClient[Any, Any], service: Service) -> tuple[int, str]:
    """Signs the coordinator in: their account id and the CSRF token of the team page."""
    me = await add_staff(service, COORDINATOR, "coordinator")
    assert (await sign_in(client, COORDINATOR)).status == 303
    page = await client.get("/staff/team")
    assert page.status == 200
    return me, form_token(await page.text())


async def changes(service: Service) -> list[tuple[str, str, dict[str, Any]]]:
    """The audit log's account changes (sign-ins left out): actor, action, details."""
    return [
        (e.actor, e.action, e.details)
        for e in await audit_entries(service)
        if e.action.startswith("staff_") and e.action not in ("staff_sign_in", "staff_sign_out", "staff_setup")
    ]


def rows(html: str) -> dict[str, list[str]]:
    """The accounts' table: email → the row's cells as text."""
    soup = BeautifulSoup(html, "html.parser")
    table = soup.select_one(".team-table table")
    assert table is not None, html
    found = {}
    for tr in table.select("tbody tr"):
        cells = [" ".join(cell.get_text(" ").split()) for cell in tr.find_all(["th", "td"])]
        found[cells[0].split()[0]] = cells
    return found


def shown_link(html: str) -> str:
    code = BeautifulSoup(html, "html.parser").select_one("#team-setup-link")
    assert code is not None, html
    return code.get_text().strip()


def problem(html: str) -> str:
    alert = BeautifulSoup(html, "html.parser").select_one(".problem")
    assert alert is not None, html
    return alert.get_text().strip()


async def test_the_list_shows_each_accounts_role_state_and_second_factor(
    client: TestClient[Any, Any], service: Service, clock: FakeClock
) -> None:
    await add_staff(service, ANALYST, "analyst", totp_secret=pyotp.random_base32())
    locked = await add_staff(service, FIELD, "field")
    await record_failure(service.store, locked, clock(), 1, timedelta(minutes=15))
    await setup_link(service, NEW, "field")
    await add_staff(service, "dawna@um.warszawa.pl", "analyst")
    await disable_account(service.store, "dawna@um.warszawa.pl", clock())
    await coordinator(client, service)

    page = await client.get("/staff/team")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    table = rows(await page.text())
    assert set(table) == {COORDINATOR, ANALYST, FIELD, NEW, "dawna@um.warszawa.pl"}
    assert table[COORDINATOR][:4] == [f"{COORDINATOR} (Ty)", "koordynator", "aktywne", "niewymagany"]
    assert table[ANALYST][1:4] == ["analityk", "aktywne", "wymagany, skonfigurowany"]
    assert table[FIELD][2] == "zablokowane do 2026-05-30 14:15"  # Warsaw time (UTC+2 in May)
    assert table[NEW][2] == "czeka na ustawienie hasła (link)"
    assert table["dawna@um.warszawa.pl"][2] == "wyłączone"
    assert table[COORDINATOR][4] == "2026-05-30"
    signed_at = (await audit_entries(service, "staff_sign_in"))[-1].at.astimezone(ZoneInfo("Europe/Warsaw"))
    assert table[COORDINATOR][5] == f"{signed_at:%Y-%m-%d %H:%M}" and table[ANALYST][5] == "—"  # never signed in
    soup = BeautifulSoup(await page.text(), "html.parser")
    # No disabling yourself, nor what is disabled already; an enrolled account needs no second-factor button.
    disable_forms = {
        f.select_one("input[name=account]")["value"] for f in soup.select("form[action='/staff/team/disable']")
    }
    accounts = {a.email: a.id for a in await list_accounts(service.store)}
    assert disable_forms == {str(accounts[e]) for e in (ANALYST, FIELD, NEW)}
    totp_forms = {f.select_one("input[name=account]")["value"] for f in soup.select("form[action='/staff/team/totp']")}
    assert totp_forms == {str(accounts[e]) for e in (COORDINATOR, FIELD, NEW)}

    english = rows(await (await client.get("/staff/team?lang=en")).text())
    assert english[FIELD][1:3] == ["field", "locked until 2026-05-30 14:15"]


async def test_an_added_account_gets_a_setup_link_shown_once_that_works(
    client: TestClient[Any, Any], service: Service
) -> None:
    me, csrf = await coordinator(client, service)
    added = await client.post(
        "/staff/team/add",
        data={"csrf": csrf, "email": " Nowa.Osoba@UM.warszawa.pl ", "role": "analyst"},
        headers={"X-Forwarded-Host": "evil.example"},  # no proxy is trusted: the request's own host
        allow_redirects=False,
    )
    assert added.status == 200 and "Location" not in added.headers
    assert added.headers["Cache-Control"] == "no-store"
    html = await added.text()
    link = shown_link(html)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == str(client.make_url("")).rstrip("/")
    assert parts.path.startswith("/staff/setup/") and len(parts.path.rsplit("/", 1)[1]) >= 32
    assert (
        "Przekaż go tej osobie prywatnym kanałem" in html
        and f"przez {service.settings.staff_setup_hours:g} godz." in html
    )
    assert rows(html)[NEW][1:3] == ["analityk", "czeka na ustawienie hasła (link)"]
    account = await find_account(service.store, NEW)
    assert account is not None and account.role == "analyst"
    assert await changes(service) == [(f"staff:{me}", "staff_add", {"account": account.id, "role": "analyst"})]
    token = parts.path.rsplit("/", 1)[1]
    assert all(token not in str(e.details) and "nowa" not in str(e.details) for e in await audit_entries(service))
    # The list shows it no more: the link lives only on that one answer.
    assert token not in await (await client.get("/staff/team")).text()

    # The new analyst opens the link in their own browser, sets a password and signs in.
    client.session.cookie_jar.clear()
    setup = await client.get(parts.path)
    assert setup.status == 200
    done = await client.post(
        parts.path,
        data={"csrf": form_token(await setup.text()), "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        allow_redirects=False,
    )
    assert done.status == 303 and done.headers["Location"] == "/staff/login?note=done"
    assert (await sign_in(client, NEW, NEW_PASSWORD)).status == 303
    assert (await client.get("/staff/data")).status == 200
    assert (await client.get("/staff/team")).status == 403  # an analyst manages no accounts


async def test_the_setup_link_behind_our_proxy_is_the_sites_public_address(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_WEB_TRUSTED_PROXY="true")
    async with open_service(settings, clock=clock) as service, TestClient(server(service)) as client:
        _, csrf = await coordinator(client, service)
        added = await client.post(
            "/staff/team/add",
            data={"csrf": csrf, "email": NEW, "role": "field"},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ankieta.example"},
        )
        assert added.status == 200
        assert shown_link(await added.text()).startswith("https://ankieta.example/staff/setup/")


@pytest.mark.parametrize(
    ("email", "role", "says"),
    [
        (COORDINATOR, "field", "Konto z tym adresem już istnieje"),
        ("DAWNA@um.warszawa.pl", "field", "Konto z tym adresem już istnieje"),  # disabled, still there
        ("not-an-email", "field", "To nie jest poprawny adres e-mail."),
        (NEW, "admin", "Wybierz rolę"),
        (NEW, "", "Wybierz rolę"),
    ],
)
async def test_a_wrong_add_is_refused_and_changes_nothing(
    client: TestClient[Any, Any], service: Service, clock: FakeClock, email: str, role: str, says: str
) -> None:
    await add_staff(service, "dawna@um.warszawa.pl", "analyst")
    await disable_account(service.store, "dawna@um.warszawa.pl", clock())
    _, csrf = await coordinator(client, service)
    before = await list_accounts(service.store)
    refused = await client.post("/staff/team/add", data={"csrf": csrf, "email": email, "role": role})
    assert refused.status == 400
    html = await refused.text()
    assert says in problem(html)
    assert BeautifulSoup(html, "html.parser").select_one("#team-setup-link") is None
    field = BeautifulSoup(html, "html.parser").select_one("#team-email")
    assert field is not None and field["value"] == email  # kept, to be corrected
    assert await list_accounts(service.store) == before
    assert await changes(service) == []


async def test_disabling_an_account_ends_its_sessions_at_once(client: TestClient[Any, Any], service: Service) -> None:
    analyst = await add_staff(service, ANALYST, "analyst")
    assert (await sign_in(client, ANALYST)).status == 303
    analyst_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/staff/"))[COOKIE].value
    client.session.cookie_jar.clear()
    me, csrf = await coordinator(client, service)

    unconfirmed = await client.post("/staff/team/disable", data={"csrf": csrf, "account": str(analyst)})
    assert unconfirmed.status == 400 and "Zaznacz potwierdzenie" in problem(await unconfirmed.text())
    assert await count_sessions(service.store, analyst) == 1 and await changes(service) == []

    disabled = await client.post(
        "/staff/team/disable", data={"csrf": csrf, "account": str(analyst), "confirm": "yes"}, allow_redirects=False
    )
    assert disabled.status == 303 and disabled.headers["Location"] == "/staff/team?note=disabled"
    page = await client.get(disabled.headers["Location"])
    assert "Konto wyłączone" in await page.text()
    assert rows(await page.text())[ANALYST][2] == "wyłączone"
    assert await count_sessions(service.store, analyst) == 0
    assert await changes(service) == [(f"staff:{me}", "staff_disable", {"account": analyst})]

    # The analyst's browser, on its next request, is sent to sign in; and cannot sign in again.
    client.session.cookie_jar.clear()
    after = await client.get("/staff/data", headers={"Cookie": f"{COOKIE}={analyst_cookie}"}, allow_redirects=False)
    assert after.status == 303 and after.headers["Location"].startswith("/staff/login?next=")
    assert (await sign_in(client, ANALYST)).status == 401


async def test_a_coordinator_cannot_disable_their_own_account(client: TestClient[Any, Any], service: Service) -> None:
    me, csrf = await coordinator(client, service)
    refused = await client.post("/staff/team/disable", data={"csrf": csrf, "account": str(me), "confirm": "yes"})
    assert refused.status == 400
    assert "Nie możesz wyłączyć własnego konta" in problem(await refused.text())
    account = await find_account(service.store, COORDINATOR)
    assert account is not None and not account.disabled
    assert await count_sessions(service.store, me) == 1 and await changes(service) == []
    assert (await client.get("/staff/team")).status == 200  # still signed in


async def test_unknown_accounts_are_not_found(client: TestClient[Any, Any], service: Service) -> None:
    _, csrf = await coordinator(client, service)
    for given in ("999", "abc", ""):
        for action in ("disable", "totp"):
            response = await client.post(
                f"/staff/team/{action}", data={"csrf": csrf, "account": given, "confirm": "yes"}
            )
            assert response.status == 404, (action, given)
            assert "Nie ma takiego konta." in await response.text()
    assert await changes(service) == []


async def test_requiring_a_second_factor(client: TestClient[Any, Any], service: Service, clock: FakeClock) -> None:
    enrolled = await add_staff(service, ANALYST, "analyst", totp_secret=pyotp.random_base32())
    field = await add_staff(service, FIELD, "field")
    me, csrf = await coordinator(client, service)

    # Enrolled already: nothing more to do but say so.
    done = await client.post("/staff/team/totp", data={"csrf": csrf, "account": str(enrolled)}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/staff/team?note=totp"

    # Not enrolled: a new setup link, shown once, and no sign-in without it.
    linked = await client.post("/staff/team/totp", data={"csrf": csrf, "account": str(field)}, allow_redirects=False)
    assert linked.status == 200
    html = await linked.text()
    assert f"Konto {FIELD} musi teraz skonfigurować aplikację uwierzytelniającą" in html
    assert rows(html)[FIELD][2:4] == ["czeka na ustawienie hasła (link)", "wymagany, jeszcze nieskonfigurowany"]
    path = urlsplit(shown_link(html)).path
    assert await changes(service) == [
        (f"staff:{me}", "staff_require_totp", {"account": enrolled}),
        (f"staff:{me}", "staff_require_totp", {"account": field}),
    ]

    client.session.cookie_jar.clear()
    assert (await sign_in(client, FIELD)).status == 401
    setup = await client.get(path)
    soup = BeautifulSoup(await setup.text(), "html.parser")
    secret_field = soup.select_one("input[name=secret]")
    assert secret_field is not None and soup.select_one(".qr svg") is not None
    secret = str(secret_field["value"])
    code = pyotp.TOTP(secret).at(clock())
    form = {"csrf": form_token(str(soup)), "password": PASSWORD, "password_again": PASSWORD, "secret": secret}
    assert (await client.post(path, data={**form, "code": code}, allow_redirects=False)).status == 303
    clock.advance(seconds=30)
    assert (await sign_in(client, FIELD, code=pyotp.TOTP(secret).at(clock()))).status == 303


async def test_a_disabled_account_is_left_alone(
    client: TestClient[Any, Any], service: Service, clock: FakeClock
) -> None:
    gone = await add_staff(service, FIELD, "field")
    await disable_account(service.store, FIELD, clock())
    _, csrf = await coordinator(client, service)
    for action in ("disable", "totp"):
        response = await client.post(
            f"/staff/team/{action}", data={"csrf": csrf, "account": str(gone), "confirm": "yes"}
        )
        assert response.status == 400 and "już wyłączone" in problem(await response.text())
    account = await find_account(service.store, FIELD)
    assert account is not None and not account.totp_required
    assert await changes(service) == []


async def test_field_and_analyst_accounts_see_no_team_page(client: TestClient[Any, Any], service: Service) -> None:
    for email, role in ((FIELD, "field"), (ANALYST, "analyst")):
        await add_staff(service, email, role)
        client.session.cookie_jar.clear()
        assert (await sign_in(client, email)).status == 303
        home = await client.get("/staff/")
        assert "/staff/team" not in {
            a["href"] for a in BeautifulSoup(await home.text(), "html.parser").select("header a")
        }
        assert (await client.get("/staff/team")).status == 403
        csrf = form_token(await home.text())
        posted = await client.post("/staff/team/add", data={"csrf": csrf, "email": NEW, "role": "coordinator"})
        assert posted.status == 403
    assert await find_account(service.store, NEW) is None


async def test_a_new_link_lets_a_colleague_who_forgot_their_password_set_another(
    client: TestClient[Any, Any], service: Service
) -> None:
    me, csrf = await coordinator(client, service)
    colleague = await add_staff(service, ANALYST, "analyst")
    page = BeautifulSoup(await (await client.get("/staff/team")).text(), "html.parser")
    offered = {f.select_one("input[name=account]")["value"] for f in page.select("form[action='/staff/team/link']")}
    assert str(colleague) in offered and str(me) in offered
    answer = await client.post(
        "/staff/team/link", data={"csrf": csrf, "account": str(colleague)}, allow_redirects=False
    )
    assert answer.status == 200 and "Location" not in answer.headers
    path = urlsplit(shown_link(await answer.text())).path
    assert await changes(service) == [(f"staff:{me}", "staff_new_link", {"account": colleague})]
    # The old password works until the link is used; then only the new one, and earlier sessions are over.
    client.session.cookie_jar.clear()
    assert (await sign_in(client, ANALYST)).status == 303
    setup = await client.get(path)
    data = {"csrf": form_token(await setup.text()), "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert (await client.post(path, data=data, allow_redirects=False)).status == 303
    assert (await client.get("/staff/data", allow_redirects=False)).status == 303  # its session ended
    assert (await sign_in(client, ANALYST)).status == 401
    assert (await sign_in(client, ANALYST, NEW_PASSWORD)).status == 303

"""The staff console over HTTP: off without accounts, setting a password (and TOTP), signing in and out,
the cookie, CSRF, session fixation, lockout and rate limits, expiry, disabling, and the dashboard."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.console import dashboard
from bot.console.app import COOKIE, EMAIL_ATTEMPTS, FORM_COOKIE
from bot.service import Service, open_service
from bot.transports.web import COOKIE as RESIDENT_COOKIE
from storage.models import AuditEntry
from storage.staff_accounts import disable_account
from tests.support import TEST_CONFIG, FakeClock, Visitor, make_settings
from tests.support.console import PASSWORD, add_staff, form_token, server, setup_link, sign_in
from tests.support.population import PLANTED, POPULATION_YAML, plant

EMAIL = "ala@um.warszawa.pl"


@pytest.fixture
async def client(service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(server(service)) as test_client:
        yield test_client


def text_of(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ", strip=True)


def staff_cookie(client: TestClient[Any, Any]) -> str | None:
    for cookie in client.session.cookie_jar:
        if cookie.key == COOKIE:
            return cookie.value
    return None


async def actions(service: Service) -> list[str]:
    async with service.store.unit(write=False) as unit:
        return [entry.action for entry in await unit.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


async def test_the_console_is_off_until_an_account_exists(client: TestClient[Any, Any], service: Service) -> None:
    for path in ("/staff/", "/staff/login", "/staff/static/console.css"):
        response = await client.get(path)
        assert response.status == 404 and "Content-Security-Policy" in response.headers
    await add_staff(service, EMAIL, "field")
    assert (await client.get("/staff/login")).status == 200
    await disable_account(service.store, EMAIL, service.conversation.clock())
    assert (await client.get("/staff/login")).status == 404


async def test_a_setup_link_sets_the_password_once(client: TestClient[Any, Any], service: Service) -> None:
    link = await setup_link(service, EMAIL, "analyst")
    page = await client.get(link)
    assert page.status == 200 and EMAIL in await page.text()
    csrf = form_token(await page.text())
    short = await client.post(link, data={"csrf": csrf, "password": "krótkie", "password_again": "krótkie"})
    assert short.status == 400 and "co najmniej 12 znaków" in text_of(await short.text())
    differ = await client.post(link, data={"csrf": csrf, "password": PASSWORD, "password_again": PASSWORD + "!"})
    assert differ.status == 400 and "Hasła się różnią" in text_of(await differ.text())
    forged = await client.post(link, data={"password": PASSWORD, "password_again": PASSWORD}, allow_redirects=False)
    assert forged.status == 403
    done = await client.post(
        link, data={"csrf": csrf, "password": PASSWORD, "password_again": PASSWORD}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == "/staff/login?note=done"
    again = await client.get(link)
    assert again.status == 404 and "nieważny" in text_of(await again.text())
    assert (await sign_in(client, EMAIL)).status == 303
    assert await actions(service) == ["staff_setup", "staff_sign_in"]


async def test_a_required_second_factor_is_enrolled_at_setup(
    client: TestClient[Any, Any], service: Service, clock: FakeClock
) -> None:
    link = await setup_link(service, EMAIL, "coordinator")
    from storage.staff_accounts import require_totp

    await require_totp(service.store, EMAIL, clock())
    page = BeautifulSoup(await (await client.get(link)).text(), "html.parser")
    uri = page.select_one(".uri code")
    assert uri is not None and uri.get_text().startswith("otpauth://totp/")
    assert page.select_one(".qr svg") is not None
    secret = pyotp.parse_uri(uri.get_text()).secret
    fields = {"csrf": form_token(str(page)), "password": PASSWORD, "password_again": PASSWORD, "secret": secret}
    wrong = await client.post(link, data={**fields, "code": "000000"})
    assert wrong.status == 400 and "nie zgadza" in text_of(await wrong.text())
    code = pyotp.TOTP(secret).at(clock())
    assert (await client.post(link, data={**fields, "code": code}, allow_redirects=False)).status == 303
    needs = await sign_in(client, EMAIL)
    assert needs.status == 200 and "Wpisz jeszcze kod" in text_of(await needs.text())
    assert (await sign_in(client, EMAIL, code="123 456" if code != "123456" else "654321")).status == 401
    assert (await sign_in(client, EMAIL, code=code)).status == 401  # spent on enrolling
    clock.advance(seconds=30)
    assert (await sign_in(client, EMAIL, code=pyotp.TOTP(secret).at(clock()))).status == 303


async def test_the_cookie_is_the_consoles_own_and_private(client: TestClient[Any, Any], service: Service) -> None:
    await add_staff(service, EMAIL, "field")
    response = await sign_in(client, EMAIL)
    assert response.status == 303 and response.headers["Location"] == "/staff/"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/staff"
    assert not cookie["secure"]
    assert RESIDENT_COOKIE not in response.cookies
    page = await client.get("/staff/")
    assert page.status == 200 and "Na żywo" in text_of(await page.text())
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in await page.text() and "style=" not in await page.text()


async def test_https_makes_the_cookie_secure(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_WEB_SECURE_COOKIE="true")
    async with open_service(settings, clock=clock) as service, TestClient(server(service)) as client:
        await add_staff(service, EMAIL, "field")
        page = await client.get("/staff/login")
        form_cookie = page.cookies[FORM_COOKIE]
        assert form_cookie["secure"]  # so this client, on plain HTTP, keeps it to itself: sent by hand
        data = {"csrf": form_token(await page.text()), "email": EMAIL, "password": PASSWORD}
        headers = {"Cookie": f"{FORM_COOKIE}={form_cookie.value}"}
        response = await client.post("/staff/login", data=data, headers=headers, allow_redirects=False)
        assert response.status == 303 and response.cookies[COOKIE]["secure"]


async def test_residents_and_staff_cookies_never_stand_in_for_each_other(
    client: TestClient[Any, Any], service: Service
) -> None:
    await add_staff(service, EMAIL, "field")
    visitor = Visitor(client)
    await visitor.open("/")
    resident = client.session.cookie_jar.filter_cookies(client.make_url("/"))[RESIDENT_COOKIE].value
    refused = await client.get("/staff/", allow_redirects=False, headers={"Cookie": f"{COOKIE}={resident}"})
    assert refused.status == 303 and refused.headers["Location"].startswith("/staff/login")
    client.session.cookie_jar.clear()
    assert (await sign_in(client, EMAIL)).status == 303
    staff = staff_cookie(client)
    assert staff is not None
    chat = await client.get("/", headers={"Cookie": f"{RESIDENT_COOKIE}={staff}"})
    assert chat.status == 200 and RESIDENT_COOKIE in chat.cookies  # a new visitor: the staff token is nothing here


async def test_signing_in_gives_a_new_session_every_time(client: TestClient[Any, Any], service: Service) -> None:
    await add_staff(service, EMAIL, "field")
    planted = "chosen-by-an-attacker-" + "x" * 20
    client.session.cookie_jar.update_cookies({COOKIE: planted})
    signed = await sign_in(client, EMAIL)
    first = signed.cookies[COOKIE].value
    assert signed.status == 303 and first != planted
    client.session.cookie_jar.clear()
    planted_page = await client.get("/staff/", allow_redirects=False, headers={"Cookie": f"{COOKIE}={planted}"})
    assert planted_page.status == 303
    client.session.cookie_jar.clear()
    csrf = form_token(await (await client.get("/staff/login")).text())
    client.session.cookie_jar.update_cookies({COOKIE: first})  # signing in again, still signed in
    data = {"csrf": csrf, "email": EMAIL, "password": PASSWORD}
    again = await client.post("/staff/login", data=data, allow_redirects=False)
    second = again.cookies[COOKIE].value
    assert again.status == 303 and second != first
    client.session.cookie_jar.clear()
    stale = await client.get("/staff/", allow_redirects=False, headers={"Cookie": f"{COOKIE}={first}"})
    assert stale.status == 303  # the session it replaced has ended


async def test_posts_need_the_sessions_csrf_token(client: TestClient[Any, Any], service: Service) -> None:
    await add_staff(service, EMAIL, "field")
    page = await client.get("/staff/login")
    no_token = await client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD}, allow_redirects=False)
    assert no_token.status == 403 and staff_cookie(client) is None
    other = await client.post(
        "/staff/login", data={"csrf": "guessed", "email": EMAIL, "password": PASSWORD}, allow_redirects=False
    )
    assert other.status == 403
    assert form_token(await page.text())
    assert (await sign_in(client, EMAIL)).status == 303
    signed_out = await client.post("/staff/logout", data={"csrf": "guessed"}, allow_redirects=False)
    assert signed_out.status == 403
    assert (await client.get("/staff/", allow_redirects=False)).status == 200  # still signed in
    csrf = form_token(await (await client.get("/staff/")).text())
    out = await client.post("/staff/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/staff/login?note=out"
    assert (await client.get("/staff/", allow_redirects=False)).status == 303
    assert await actions(service) == ["staff_sign_in", "staff_sign_out"]


async def test_wrong_details_never_say_whether_the_email_exists(
    client: TestClient[Any, Any], service: Service, clock: FakeClock
) -> None:
    await add_staff(service, EMAIL, "field")
    wrong = await sign_in(client, EMAIL, "not the password")
    nobody = await sign_in(client, "nobody@um.warszawa.pl", PASSWORD)
    assert wrong.status == nobody.status == 401
    said = [BeautifulSoup(await r.text(), "html.parser").select_one("#problem") for r in (wrong, nobody)]
    assert said[0] is not None and said[1] is not None and said[0].get_text() == said[1].get_text()
    for _ in range(EMAIL_ATTEMPTS):  # five more for each: both are now held back alike
        await sign_in(client, EMAIL, "not the password")
        await sign_in(client, "nobody@um.warszawa.pl", "not the password")
    locked = [await sign_in(client, email) for email in (EMAIL, "nobody@um.warszawa.pl")]
    assert [r.status for r in locked] == [429, 429]
    assert text_of(await locked[0].text()) == text_of(await locked[1].text())
    clock.advance(minutes=31)  # the lock (15 minutes) and the window (two of 15) have passed
    assert (await sign_in(client, EMAIL)).status == 303


async def test_one_address_trying_many_accounts_is_held_back(client: TestClient[Any, Any], service: Service) -> None:
    await add_staff(service, EMAIL, "field")
    for n in range(30):
        assert (await sign_in(client, f"guess{n}@um.warszawa.pl")).status == 401
    assert (await sign_in(client, EMAIL)).status == 429


async def test_sessions_end_when_idle_and_when_the_account_is_disabled(
    client: TestClient[Any, Any], service: Service, clock: FakeClock
) -> None:
    await add_staff(service, EMAIL, "field")
    assert (await sign_in(client, EMAIL)).status == 303
    clock.advance(minutes=29)
    assert (await client.get("/staff/", allow_redirects=False)).status == 200
    clock.advance(minutes=31)
    expired = await client.get("/staff/", allow_redirects=False)
    assert expired.status == 303 and expired.headers["Location"] == "/staff/login?next=/staff/&note=expired"
    login = await client.get(expired.headers["Location"])
    assert "Sesja wygasła" in text_of(await login.text())
    await add_staff(service, "ola@um.warszawa.pl", "coordinator")  # the console stays on without Ala
    assert (await sign_in(client, EMAIL)).status == 303
    await disable_account(service.store, EMAIL, clock())
    assert (await client.get("/staff/", allow_redirects=False)).status == 303
    assert (await sign_in(client, EMAIL)).status == 401


async def test_after_signing_in_the_browser_goes_where_it_was_going(
    client: TestClient[Any, Any], service: Service
) -> None:
    await add_staff(service, EMAIL, "field")
    for wanted, lands in [("/staff/dashboard.json", "/staff/dashboard.json"), ("//evil.example/", "/staff/")]:
        client.session.cookie_jar.clear()
        page = await client.get(f"/staff/login?next={wanted}")
        data = {"csrf": form_token(await page.text()), "email": EMAIL, "password": PASSWORD}
        data["next"] = BeautifulSoup(await page.text(), "html.parser").select_one("[name=next]")["value"]  # type: ignore[index]
        response = await client.post("/staff/login", data=data, allow_redirects=False)
        assert response.headers["Location"] == lands


@pytest.fixture
async def population_service(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    (config_dir / "population.yaml").write_text(POPULATION_YAML, encoding="utf-8")
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config_dir), WSPOLNOTA_WEB_RATE_LIMIT="0")
    async with open_service(settings, clock=clock) as service:
        yield service


async def test_the_dashboard_counts_what_arrives(population_service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "FRESH_FOR", 0.0)
    monkeypatch.setattr(dashboard, "COST_SHARE", 0.0)
    service = population_service
    await plant(service, PLANTED)
    await add_staff(service, EMAIL, "field")
    async with TestClient(server(service)) as client:
        assert (await sign_in(client, EMAIL)).status == 303
        page = BeautifulSoup(await (await client.get("/staff/")).text(), "html.parser")
        assert page.select_one('[data-figure="total"]').get_text() == "105"  # type: ignore[union-attr]
        missing = [row.get_text(" ", strip=True) for row in page.select('[data-table="missing"] tbody tr')]
        assert "Dzielnice: Rembertów 0 5" in missing and len(missing) == 3
        before = await (await client.get("/staff/dashboard.json")).json()
        visitor = Visitor(client)
        await visitor.open("/?event=dzien-sasiada-zoliborz-2026-05-30")
        await visitor.press("Zgadzam się, zaczynam")
        await visitor.walk()
        after = await (await client.get("/staff/dashboard.json?lang=en")).json()
        assert after["today"] == before["today"] + 1 and after["total"] == before["total"] + 1
        events = {row["key"]: (row["today"], row["total"]) for row in after["by_event"]}
        assert events["dzien-sasiada-zoliborz-2026-05-30"] == (1, 1) and events["—"] == (105, 105)
        assert after["by_channel"][0]["label"] == "web chat"
        assert sum(row["today"] for row in after["by_hour"]) == after["today"]


async def test_the_dashboard_shows_the_questionnaire_asked_for(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two questionnaires the dashboard offers a choice; an unknown one falls back to the default."""
    monkeypatch.setattr(dashboard, "FRESH_FOR", 0.0)
    monkeypatch.setattr(dashboard, "COST_SHARE", 0.0)
    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    source = (config_dir / "questionnaires" / "sasiedztwo.yaml").read_text(encoding="utf-8")
    second = source.replace("id: sasiedztwo", "id: zielona", 1).replace("Ankieta testowa: sąsiedztwo", "Druga ankieta")
    (config_dir / "questionnaires" / "zielona.yaml").write_text(second, encoding="utf-8")
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config_dir), WSPOLNOTA_WEB_RATE_LIMIT="0")
    async with open_service(settings, clock=clock) as service:
        await add_staff(service, EMAIL, "field")
        async with TestClient(server(service)) as client:
            assert (await sign_in(client, EMAIL)).status == 303
            visitor = Visitor(client)
            await visitor.open("/")
            await visitor.press("Zgadzam się, zaczynam")
            await visitor.walk()
            page = BeautifulSoup(await (await client.get("/staff/")).text(), "html.parser")
            options = [option["value"] for option in page.select("select#questionnaire option")]
            assert sorted(options) == ["sasiedztwo", "zielona"]
            assert page.select_one('[data-figure="total"]').get_text() == "1"  # type: ignore[union-attr]
            other = BeautifulSoup(await (await client.get("/staff/?questionnaire=zielona")).text(), "html.parser")
            assert "Druga ankieta" in other.get_text() and "questionnaire=zielona" in str(
                other.select_one("#dashboard")
            )
            assert other.select_one('[data-figure="total"]').get_text() == "0"  # type: ignore[union-attr]
            figures = await (await client.get("/staff/dashboard.json?questionnaire=zielona")).json()
            assert figures["questionnaire_id"] == "zielona" and figures["total"] == 0
            unknown = await (await client.get("/staff/dashboard.json?questionnaire=nie-ma")).json()
            assert unknown["questionnaire_id"] == "sasiedztwo" and unknown["total"] == 1


async def test_no_personal_data_or_secret_reaches_the_logs(
    client: TestClient[Any, Any], service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """Setting a password, signing in wrongly and rightly, a page, signing out, logged at DEBUG: the logs
    name no email address, password, setup token or session cookie."""
    import logging

    caplog.set_level(logging.DEBUG)
    link = await setup_link(service, EMAIL, "coordinator")
    page = await client.get(link)
    data = {"csrf": form_token(await page.text()), "password": PASSWORD, "password_again": PASSWORD}
    assert (await client.post(link, data=data, allow_redirects=False)).status == 303
    assert (await sign_in(client, EMAIL, "not the password")).status == 401
    assert (await sign_in(client, "nobody@um.warszawa.pl", "not the password")).status == 401
    assert (await sign_in(client, EMAIL)).status == 303
    cookie = staff_cookie(client)
    home = await client.get("/staff/audit")
    assert home.status == 200
    out = await client.post("/staff/logout", data={"csrf": form_token(await home.text())}, allow_redirects=False)
    assert out.status == 303
    # The test server keeps an access log; the service's own server has none (bot/transports/web_server.py).
    records = [record for record in caplog.records if record.name != "aiohttp.access"]
    logged = "\n".join(f"{record.getMessage()} {record.args}" for record in records)
    assert records  # the console and the service did log (a refused sign-in, at least)
    for secret in (EMAIL, "nobody@um.warszawa.pl", PASSWORD, "not the password", link.rsplit("/", 1)[1], cookie):
        assert secret and secret not in logged, secret


async def test_a_forms_answer_links_to_its_page_in_the_other_language(
    client: TestClient[Any, Any], service: Service
) -> None:
    """A page answering a POST (a refused form) offers English on the page a GET can open, not the form's
    address (which answers GET with 405)."""
    await add_staff(service, EMAIL, "analyst")
    assert (await sign_in(client, EMAIL)).status == 303
    csrf = form_token(await (await client.get("/staff/data")).text())
    refused = await client.post("/staff/data/export", data={"csrf": csrf, "format": "xlsx", "since": "jutro"})
    assert refused.status == 400
    link = BeautifulSoup(await refused.text(), "html.parser").select_one("a[hreflang=en]")
    assert link is not None and link["href"] == "/staff/data?lang=en"
    current = BeautifulSoup(await refused.text(), "html.parser").select_one("a[aria-current=page]")
    assert current is not None and current["href"] == "/staff/data"
    assert (await client.get(str(link["href"]))).status == 200


async def test_a_setup_link_works_in_a_browser_already_signed_in(
    client: TestClient[Any, Any], service: Service
) -> None:
    """A coordinator who opens a new colleague's link in their own signed-in browser can still use it
    (the form carries the session's token then), and a forged post is still refused."""
    await add_staff(service, EMAIL, "coordinator")
    assert (await sign_in(client, EMAIL)).status == 303
    link = await setup_link(service, "nowa@um.warszawa.pl", "field")
    page = await client.get(link)
    assert page.status == 200
    data = {"password": PASSWORD, "password_again": PASSWORD}
    assert (await client.post(link, data=data | {"csrf": "forged"}, allow_redirects=False)).status == 403
    done = await client.post(link, data=data | {"csrf": form_token(await page.text())}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/staff/login?note=done"


async def test_the_language_switch_keeps_a_lists_filters(client: TestClient[Any, Any], service: Service) -> None:
    await add_staff(service, EMAIL, "coordinator")
    assert (await sign_in(client, EMAIL)).status == 303
    page = await client.get("/staff/audit?page=2&lang=pl")
    link = BeautifulSoup(await page.text(), "html.parser").select_one("a[hreflang=en]")
    assert link is not None and link["href"] == "/staff/audit?page=2&lang=en"


async def test_browsers_polling_at_once_share_one_computation(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty browsers asking while the figures are computed wait for that one computation; figures that took
    long to compute are kept COST_SHARE times as long (the dashboard's share of the service's time)."""
    import asyncio

    live = dashboard.Dashboard(service)
    computed = 0
    original = live._compute

    async def slow(*args: Any) -> dashboard.Figures:
        nonlocal computed
        computed += 1
        await asyncio.sleep(0.2)
        return await original(*args)

    monkeypatch.setattr(live, "_compute", slow)
    monkeypatch.setattr(dashboard, "FRESH_FOR", 0.0)
    monkeypatch.setattr(dashboard, "COST_SHARE", 1000.0)  # 0.2 s of computing: kept for 200 s
    answers = await asyncio.gather(*(live.figures("pl") for _ in range(20)))
    assert computed == 1 and all(figures is answers[0] for figures in answers)
    assert (await live.figures("pl")) is answers[0]  # kept
    assert computed == 1
    await live.figures("en")  # another language is other figures
    assert computed == 2

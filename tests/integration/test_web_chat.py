"""The web chat over HTTP, as a browser without JavaScript uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.service import Service, open_service
from bot.transports.web import COOKIE, WebChat
from reports.export import export_records
from storage.exports import SubmissionFilter
from storage.models import Answer, InboxItem
from tests.support import FakeClock, Visitor, count, make_settings, submissions

EVENT = "dzien-sasiada-zoliborz-2026-05-30"
KIOSK_TOKEN = "stoisko-zoliborz-" + "k" * 16  # a stand's tablet link: `?kiosk=<token>`


@pytest.fixture
async def web_service(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    settings = make_settings(
        tmp_path / "data",
        WSPOLNOTA_DATABASE_URL=database_url,
        WSPOLNOTA_WEB_RATE_LIMIT="0",
        WSPOLNOTA_WEB_KIOSK_TOKENS=f"zoliborz-1={KIOSK_TOKEN}",
    )
    async with open_service(settings, clock=clock) as service:
        yield service


@pytest.fixture
async def client(web_service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(WebChat(web_service).app())) as test_client:
        yield test_client


async def test_a_visitor_answers_everything_and_it_is_stored_as_from_any_channel(
    client: TestClient[Any, Any], web_service: Service
) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    assert "I agree" in " ".join(b.get_text() for b in visitor.page.find_all("button"))
    await visitor.press("I agree, let's start")
    assert visitor.heading == "Question 1 of 12"
    await visitor.walk()
    assert "Thank you" in visitor.text
    await visitor.press("See or change your answers")
    assert visitor.page.select(".summary li")
    [submission] = await submissions(web_service)
    assert (submission.channel, submission.status, submission.language) == ("web", "completed", "en")
    assert (
        await count(web_service.store, Answer, Answer.submission_id == submission.id) == 13
    )  # "yes" to contact also asks the address


async def test_pages_are_safe_and_the_cookie_private(client: TestClient[Any, Any]) -> None:
    response = await client.get("/")
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    missing = await client.get("/nothing-here")
    assert missing.status == 404 and "Content-Security-Policy" in missing.headers
    html = await response.text()
    assert "<script>" not in html and "style=" not in html  # nothing inline for the CSP to forbid


async def test_a_post_without_the_pages_token_changes_nothing(
    client: TestClient[Any, Any], web_service: Service
) -> None:
    visitor = Visitor(client)
    await visitor.open()
    await visitor.press("Zgadzam się, zaczynam", csrf="forged")
    assert visitor.status == 403
    assert "zbyt długo" in visitor.text
    assert await submissions(web_service) == []
    # No cookie at all (a form posted from another site): sent to the start, nothing stored.
    client.session.cookie_jar.clear()
    response = await client.post("/say", data={"button": "a:accept::"}, allow_redirects=False)
    assert response.status == 303
    assert await submissions(web_service) == []


async def test_a_form_sent_twice_counts_once(client: TestClient[Any, Any], web_service: Service) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    await visitor.press("I agree, let's start")
    await visitor.press("Bemowo")  # district
    await visitor.type("Sąsiedzi, którzy się znają")  # community meaning
    page = visitor.page
    await visitor.press("Openness and respect for others")
    assert visitor.page.select('.choices button[aria-pressed="true"]')
    visitor.page = page  # the same form again (a double click, a resent post): same turn id
    await visitor.press("Openness and respect for others")
    pressed = [b.get_text(strip=True) for b in visitor.page.select('.choices button[aria-pressed="true"]')]
    assert pressed == ["Openness and respect for others"]  # not toggled back off
    items = await count(web_service.store, InboxItem, InboxItem.channel == "web")
    assert items == 4  # accept, district, text, openness; the resent form was recognised, not applied again
    [submission] = await submissions(web_service)
    assert submission.draft == ["openness"]


async def test_bad_input_gets_a_clear_answer(client: TestClient[Any, Any], web_service: Service) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    await visitor.press("I agree, let's start")
    await visitor.press("Wola")
    await visitor.type("x" * 50_000)
    assert visitor.status == 200
    assert "50000 characters" in visitor.text and visitor.heading == "Question 2 of 12"
    await visitor.type("")
    assert visitor.heading == "Question 2 of 12"
    form = {**visitor.fields(visitor.page.select("form.answer")[0]), "text": "y" * 2_000_000}
    huge = await client.post(
        "/say",
        data=io.BytesIO(urlencode(form).encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status == 413
    assert "characters" in BeautifulSoup(await huge.text(), "html.parser").get_text()
    junk = await client.post("/say", data={**visitor.fields(visitor.page.select("form.answer")[0]), "button": "o:::::"})
    assert junk.status == 200
    [submission] = await submissions(web_service)
    assert submission.current == "community_meaning"


async def test_kiosk_starts_afresh_for_each_person_and_marks_help(
    client: TestClient[Any, Any], web_service: Service
) -> None:
    visitor = Visitor(client)
    await visitor.open(f"/?event={EVENT}&kiosk={KIOSK_TOKEN}&lang=pl")
    assert visitor.page.body is not None and "kiosk" in visitor.page.body.get("class", [])
    await visitor.press("Wypełniane z pomocą wolontariuszki lub wolontariusza")
    await visitor.press("Zgadzam się, zaczynam")
    await visitor.walk(text="Tajne zdanie pierwszej osoby")
    assert "Dziękujemy" in visitor.text and "wyczyści się dla kolejnej osoby" in visitor.page.get_text()
    assert int(visitor.page.body["data-idle"]) > 0  # the page clears itself soon
    await visitor.press("Zacznij od nowa dla kolejnej osoby")
    assert "Tajne zdanie" not in str(visitor.page)
    assert visitor.page.find("button", string="Zgadzam się, zaczynam") is not None
    await visitor.press("Zgadzam się, zaczynam")
    assert visitor.heading == "Pytanie 1 z 12"
    first, second = await submissions(web_service)
    assert first.respondent_id != second.respondent_id
    assert (first.event, first.event_known, first.assisted, first.status) == (EVENT, True, True, "completed")
    assert (second.event, second.assisted) == (EVENT, False)
    exported = [
        r async for r in export_records(web_service.store, web_service.config.questionnaires, SubmissionFilter())
    ]
    assert [(r["channel"], r["assisted"]) for r in exported] == [("web", True), ("web", False)]


async def test_a_kiosk_never_says_saved_after_nothing_was_kept(
    client: TestClient[Any, Any], web_service: Service
) -> None:
    """After declining (or cancelling, or deleting) the tablet says it resets, not "your answers are saved"."""
    catalog = web_service.config.catalog
    for language in ("pl", "en", "uk"):
        visitor = Visitor(client)
        await visitor.open(f"/?event={EVENT}&kiosk={KIOSK_TOKEN}&lang={language}")
        await visitor.press(catalog("btn_decline", language))
        page = visitor.page.get_text(" ")
        assert catalog("declined", language) in page
        assert catalog("web_kiosk_cleared", language) in page
        assert catalog("web_kiosk_saved", language) not in page, language
        await visitor.press(catalog("web_next_person", language))


async def test_a_phone_resumes_where_it_left_off(web_service: Service, client: TestClient[Any, Any]) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    await visitor.press("I agree, let's start")
    await visitor.press("Ochota")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    # The page is closed and the service restarted: a new process with nothing in memory.
    async with TestClient(TestServer(WebChat(web_service).app()), cookies={COOKIE: cookie}) as later:
        again = Visitor(later)
        await again.open("/")
        assert again.heading == "Question 2 of 12"
    stranger = Visitor(client)
    client.session.cookie_jar.clear()
    await stranger.open("/")
    assert stranger.page.find("button", string="Zgadzam się, zaczynam") is not None  # a newcomer's start


async def test_the_language_can_change_at_any_point(client: TestClient[Any, Any], web_service: Service) -> None:
    visitor = Visitor(client)
    await visitor.open("/", **{"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.8"})
    assert visitor.page.html is not None and visitor.page.html["lang"] == "uk"
    await visitor.press("Погоджуюся, почнімо")
    await visitor.press("English")
    assert visitor.heading == "Question 1 of 12"
    assert visitor.page.html["lang"] == "en"
    [submission] = await submissions(web_service)
    assert submission.language == "en"


async def test_too_many_posts_are_refused_politely(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_WEB_RATE_LIMIT="20")
    async with open_service(settings, clock=clock) as service, TestClient(TestServer(WebChat(service).app())) as client:
        visitor = Visitor(client)
        await visitor.open("/?lang=en")
        statuses = []
        for _ in range(12):
            await visitor.press("English")
            statuses.append(visitor.status)
        assert 429 in statuses and statuses[0] == 200
        assert "Too many" in visitor.text


async def test_a_resident_sees_and_erases_their_own_answers(client: TestClient[Any, Any], web_service: Service) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    await visitor.press("I agree, let's start")
    await visitor.press("Żoliborz")
    await visitor.press("Show my answers")
    assert "Żoliborz" in visitor.text and visitor.heading == "Question 2 of 12"
    await visitor.press("Delete all my data")
    await visitor.press("Yes, delete everything")
    assert await submissions(web_service) == []
    await visitor.press("Start again")
    assert visitor.page.find("button", string="I agree, let's start") is not None


async def test_something_else_asks_for_its_text(client: TestClient[Any, Any], web_service: Service) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    await visitor.press("I agree, let's start")
    await visitor.press("Skip")
    await visitor.press("Skip")
    await visitor.press("Something else")
    if visitor.page.find(id="answer") is None:
        await visitor.press("Done")
    await visitor.type("Ogrody społeczne")
    assert visitor.heading == "Question 4 of 12"
    [submission] = await submissions(web_service)
    async with web_service.store.unit(write=False) as unit:
        values = await unit.session.scalar(
            select(Answer).where(Answer.submission_id == submission.id, Answer.question_code == "values")
        )
    assert values is not None and (values.options, values.text) == (["other"], "Ogrody społeczne")


async def test_a_whole_server_can_be_a_stands_kiosk(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_WEB_KIOSK="true", WSPOLNOTA_WEB_EVENT=f"{EVENT}__stoisko-2")
    async with open_service(settings, clock=clock) as service, TestClient(TestServer(WebChat(service).app())) as client:
        visitor = Visitor(client)
        await visitor.open("/")
        assert visitor.page.body is not None and "kiosk" in visitor.page.body.get("class", [])
        assert (
            client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE]["max-age"] == ""
        )  # ends with the browser
        await visitor.press("Zgadzam się, zaczynam")
        [submission] = await submissions(service)
        assert (submission.event, submission.stand) == (EVENT, "stoisko-2")

"""Ballot stuffing over HTTP: a script that drops its cookie is throttled and what it adds is flagged;
only a stand's token makes a kiosk. The web chat runs on 127.0.0.1; time moves by the injected clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.service import Service, open_service
from bot.transports.web import COOKIE, WebChat
from handlers.web.guard import BURST, token_digest
from reports.export import export_records
from reports.report import gather, render_report
from storage.exports import SubmissionFilter
from storage.kiosks import add_kiosk, remove_kiosk
from storage.models import Submission
from tests.support import FakeClock, Visitor, make_settings, submissions

EVENT = "dzien-sasiada-zoliborz-2026-05-30"
TOKEN = "stoisko-token-" + "z" * 16


@asynccontextmanager
async def web_chat(tmp_path: Path, clock: FakeClock, **env: str) -> AsyncIterator[tuple[Service, TestClient[Any, Any]]]:
    """The service and its web chat on 127.0.0.1 (per-visitor post limit off: only the hourly ones are tested)."""
    settings = make_settings(tmp_path / "data", WSPOLNOTA_WEB_RATE_LIMIT="0", **env)
    async with (
        open_service(settings, clock=clock) as service,
        TestClient(TestServer(WebChat(service).app(), host="127.0.0.1")) as client,
    ):
        yield service, client


async def stuff_once(client: TestClient[Any, Any]) -> int:
    """What a stuffing script does: forget the cookie, start afresh, take the shortest path, confirm.

    Returns the status of the first page (429 once throttled)."""
    client.session.cookie_jar.clear()
    visitor = Visitor(client)
    await visitor.open("/")
    if visitor.status != 200:
        return visitor.status
    await visitor.press("Zgadzam się, zaczynam")
    for _ in range(40):
        buttons = [b.get_text(strip=True) for b in visitor.page.find_all("button")]
        if "Pomiń" in buttons:
            await visitor.press("Pomiń")
        elif visitor.page.select(".summary"):
            await visitor.press(visitor.page.select(".navigation .primary")[0].get_text(strip=True))
        elif visitor.page.find(id="answer") is not None:
            await visitor.type("x@example.org" if visitor.page.find("input", type="email") else "tak")
        elif visitor.page.select(".choices button"):
            await visitor.press(visitor.choices()[0])
        else:
            break
    assert "Dziękujemy" in visitor.text, visitor.text
    return visitor.status


async def test_a_cookie_dropping_script_is_throttled_and_what_it_adds_is_flagged(
    tmp_path: Path, clock: FakeClock
) -> None:
    # The defaults: 120 new visitors an hour from one address, 10 finished before the rest are flagged.
    async with web_chat(tmp_path, clock) as (service, client):
        started = time.monotonic()
        statuses = [await stuff_once(client) for _ in range(125)]
        elapsed = time.monotonic() - started
        through = statuses.count(200)
        assert through == 120 and statuses[through:] == [429] * 5  # all within the same minute of the clock
        stored = await submissions(service)
        assert len(stored) == 120 and all(s.status == "completed" for s in stored)
        unflagged = [s for s in stored if s.flag is None]
        flagged = [s for s in stored if s.flag is not None]
        assert len(unflagged) == 10  # the handful an address may add unnoticed in an hour
        assert {s.flag for s in flagged} == {BURST}
        assert len({s.client for s in flagged}) == 1  # one place: the same daily tag on every one
        tag = flagged[0].client
        assert tag is not None and len(tag) == 12 and "127.0.0.1" not in tag  # a keyed hash, not the address

        records = [r async for r in export_records(service.store, service.config.questionnaires, SubmissionFilter())]
        assert sum(r["flagged"] == BURST for r in records) == 110 and {r["flagged_from"] for r in records} == {
            None,
            tag,
        }
        honest = SubmissionFilter(exclude_flagged=True)
        kept = [r async for r in export_records(service.store, service.config.questionnaires, honest)]
        assert len(kept) == 10 and all(r["flagged"] is None for r in kept)

        questionnaire = next(iter(service.config.questionnaires.values()))
        tally = await gather(service.store, questionnaire, honest)
        assert (tally.total, tally.flagged, tally.flagged_left_out) == (10, 0, 110)
        html = render_report(questionnaire, tally, honest, clock(), min_cell=5)
        assert "Oznaczone jako podejrzane: <b>110</b>" in html and "pominięte w tym raporcie" in html
        everyone = await gather(service.store, questionnaire, SubmissionFilter())
        assert "Oznaczone jako podejrzane: <b>110</b>" in render_report(questionnaire, everyone, honest, clock(), 5)

        # An hour later the address may start again, and again only ten go unflagged.
        clock.advance(hours=2)
        assert [await stuff_once(client) for _ in range(12)] == [200] * 12
        later = await submissions(service)
        assert sum(s.flag is None for s in later) == 20
    print(f"stuffing: 125 tries, 120 stored, 10 unflagged, 110 flagged, 5 refused; {elapsed:.1f} s")


async def test_a_new_visitor_over_the_limit_gets_a_polite_page_in_polish(tmp_path: Path, clock: FakeClock) -> None:
    async with web_chat(tmp_path, clock, WSPOLNOTA_WEB_NEW_VISITORS_PER_HOUR="3") as (service, client):
        for _ in range(3):
            client.session.cookie_jar.clear()
            assert (await client.get("/")).status == 200
        client.session.cookie_jar.clear()
        refused = await client.get("/")
        assert refused.status == 429
        assert COOKIE not in refused.cookies  # no visitor is made: the next try is refused the same way
        assert int(refused.headers["Retry-After"]) >= 60 and refused.headers["Cache-Control"] == "no-store"
        assert "Content-Security-Policy" in refused.headers
        page = Visitor(client)
        await page._read(refused)
        assert page.page.html is not None and page.page.html["lang"] == "pl"
        assert "rozpoczęto już bardzo wiele ankiet" in page.text
        english = Visitor(client)
        await english.open("/", **{"Accept-Language": "en-GB,en;q=0.9"})
        assert english.status == 429 and "Very many questionnaires" in english.text
        posted = await client.post("/say", data={"button": "a:accept::"}, allow_redirects=False)
        assert posted.status == 429  # a cookie-less post is a new visitor too
        assert await submissions(service) == []
        clock.advance(hours=2)
        assert (await client.get("/")).status == 200


async def test_a_visitor_with_a_cookie_is_not_held_back_by_new_ones(tmp_path: Path, clock: FakeClock) -> None:
    async with web_chat(tmp_path, clock, WSPOLNOTA_WEB_NEW_VISITORS_PER_HOUR="1") as (_, client):
        resident = Visitor(client)
        await resident.open("/?lang=en")
        await resident.press("I agree, let's start")
        cookies = client.session.cookie_jar.filter_cookies(client.make_url("/"))
        client.session.cookie_jar.clear()
        assert (await client.get("/")).status == 429  # the café's next new visitor this hour
        client.session.cookie_jar.update_cookies(cookies)
        await resident.press("Wola")
        assert resident.status == 200 and resident.heading == "Question 2 of 12"


async def test_a_forged_forwarded_for_does_not_reset_the_limit(tmp_path: Path, clock: FakeClock) -> None:
    async with web_chat(tmp_path, clock, WSPOLNOTA_WEB_NEW_VISITORS_PER_HOUR="2") as (_, client):
        statuses = []
        for n in range(4):
            client.session.cookie_jar.clear()
            statuses.append((await client.get("/", headers={"X-Forwarded-For": f"203.0.113.{n}"})).status)
        assert statuses == [200, 200, 429, 429]


async def test_behind_a_trusted_proxy_each_client_has_its_own_allowance(tmp_path: Path, clock: FakeClock) -> None:
    env = {"WSPOLNOTA_WEB_NEW_VISITORS_PER_HOUR": "2", "WSPOLNOTA_WEB_TRUSTED_PROXY": "true"}
    async with web_chat(tmp_path, clock, **env) as (_, client):

        async def new_visitor(forwarded: str) -> int:
            client.session.cookie_jar.clear()
            return (await client.get("/", headers={"X-Forwarded-For": forwarded})).status

        assert [await new_visitor("203.0.113.1") for _ in range(3)] == [200, 200, 429]
        assert await new_visitor("203.0.113.2") == 200  # another resident behind the same proxy
        # What a client writes before the entry our proxy appends is not believed.
        assert await new_visitor("198.51.100.9, 203.0.113.1") == 429


async def test_a_phone_cannot_make_itself_a_kiosk(tmp_path: Path, clock: FakeClock) -> None:
    async with web_chat(tmp_path, clock, WSPOLNOTA_WEB_KIOSK_TOKENS=f"zoliborz-1={TOKEN}") as (service, client):
        phone = Visitor(client)
        for link in (f"/?event={EVENT}&kiosk=1", "/?kiosk=true", "/?kiosk=" + "z" * 30):
            await phone.open(link)
            assert phone.page.body is not None and "kiosk" not in phone.page.body.get("class", [])
            assert phone.page.find("form", action="/assisted") is None
        # Posting the volunteer's mark by hand changes nothing either.
        form = phone.fields(phone.page.select("form[action='/say']")[0])
        await client.post("/assisted", data={"csrf": form["csrf"], "assisted": "yes"})
        await phone.open("/")
        await phone.press("Zgadzam się, zaczynam")
        await phone.press("Wola")
        [submission] = await submissions(service)
        assert (submission.event, submission.assisted) == (EVENT, False)


async def test_a_tablet_with_a_stand_token_is_a_kiosk(tmp_path: Path, clock: FakeClock) -> None:
    env = {"WSPOLNOTA_WEB_KIOSK_TOKENS": f"zoliborz-1={TOKEN}", "WSPOLNOTA_WEB_NEW_VISITORS_PER_HOUR": "1"}
    async with web_chat(tmp_path, clock, **env) as (service, client):
        tablet = Visitor(client)
        await tablet.open(f"/?event={EVENT}&kiosk={TOKEN}&lang=pl")
        assert tablet.page.body is not None and "kiosk" in tablet.page.body.get("class", [])
        await tablet.press("Wypełniane z pomocą wolontariuszki lub wolontariusza")
        await tablet.press("Zgadzam się, zaczynam")
        await tablet.press("Wola")
        # Each next person is a new visitor, on the stand's own allowance, not the address's (1 an hour).
        for _ in range(3):
            await tablet.press("Zacznij od nowa dla kolejnej osoby")
            assert tablet.status == 200 and tablet.page.find("button", string="Zgadzam się, zaczynam") is not None
        await tablet.press("Zgadzam się, zaczynam")
        first, *_, last = await submissions(service)
        assert (first.event, first.assisted) == (EVENT, True) and last.assisted is False


async def test_a_kiosk_staff_added_works_until_removed(tmp_path: Path, clock: FakeClock) -> None:
    async with web_chat(tmp_path, clock) as (service, client):
        token = "added-by-staff-" + "q" * 16
        await add_kiosk(service.store, "wola-2", token_digest(token), clock())
        tablet = Visitor(client)
        await tablet.open(f"/?kiosk={token}")
        assert tablet.page.body is not None and "kiosk" in tablet.page.body.get("class", [])
        await remove_kiosk(service.store, "wola-2")
        clock.advance(seconds=31)  # the web chat reads the kiosks again every half minute
        await tablet.open("/")
        assert tablet.page.body is not None and "kiosk" not in tablet.page.body.get("class", [])


async def test_a_stands_tablet_is_flagged_only_beyond_its_own_allowance(tmp_path: Path, clock: FakeClock) -> None:
    env = {
        "WSPOLNOTA_WEB_KIOSK_TOKENS": f"zoliborz-1={TOKEN}",
        "WSPOLNOTA_WEB_COMPLETIONS_PER_HOUR": "1",
        "WSPOLNOTA_WEB_KIOSK_COMPLETIONS_PER_HOUR": "2",
    }
    async with web_chat(tmp_path, clock, **env) as (service, client):
        tablet = Visitor(client)
        await tablet.open(f"/?kiosk={TOKEN}")
        for _ in range(3):
            await tablet.press("Zgadzam się, zaczynam")
            await tablet.walk()
            await tablet.press("Zacznij od nowa dla kolejnej osoby")
        async with service.store.unit(write=False) as unit:
            rows = (
                await unit.session.execute(select(Submission.flag, Submission.client).order_by(Submission.id))
            ).all()
        assert [tuple(row) for row in rows] == [(None, None), (None, None), ("kiosk-burst", "kiosk:zoliborz-1")]

"""The console's Events page: every event with its links and QR code, as `wspolnota events` gives them, the
posters and the stands' sheet that `wspolnota events posters` writes, and the stands' kiosks — over HTTP
without a browser."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import segno
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup

from bot.service import Config, Service, open_service
from reports.posters import poster_link
from storage.kiosks import add_kiosk
from tests.support import FakeClock, make_settings
from tests.support.console import add_staff, server, sign_in

FIELD = "teren@um.warszawa.pl"
ZOLIBORZ = "dzien-sasiada-zoliborz-2026-05-30"
PUBLIC = "https://ankieta.example.pl"


@pytest.fixture
async def client(service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(server(service)) as test_client:
        await add_staff(service, FIELD, "field")
        assert (await sign_in(test_client, FIELD)).status == 303
        yield test_client


async def page(client: TestClient[Any, Any], path: str, status: int = 200) -> BeautifulSoup:
    response = await client.get(path)
    html = await response.text()
    assert response.status == status, html
    return BeautifulSoup(html, "html.parser")


def pdf_text(body: bytes, tmp_path: Path) -> str:
    """What a reader of the PDF sees (pdftotext, as the command line's tests read the posters)."""
    path = tmp_path / "got.pdf"
    path.write_bytes(body)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return done.stdout


async def test_field_staff_see_every_event_with_its_links_and_code(
    client: TestClient[Any, Any], service: Service
) -> None:
    soup = await page(client, "/staff/events")
    assert soup.h1 is not None and soup.h1.get_text() == "Wydarzenia i plakaty"
    assert soup.select_one('header a[aria-current="page"]')["href"] == "/staff/events"  # type: ignore[index]
    rows = soup.select("table.events tbody tr")
    events = service.config.events
    # Every event, by date, as `wspolnota events` lists them.
    assert [row["data-event"] for row in rows] == [e.slug for e in sorted(events.values(), key=lambda e: e.starts)]
    row = soup.select_one(f'tr[data-event="{ZOLIBORZ}"]')
    assert row is not None
    assert events[ZOLIBORZ].name("pl") in row.get_text() and "Żoliborz" in row.get_text()
    assert "2026-05-30 14:00–18:00" in row.get_text()  # Warsaw time
    # No address given: the web chat's link is the server this browser reached.
    web = row.select_one('[data-link="web"]')
    assert web is not None and web.get_text() == f"http://{client.host}:{client.port}/?event={ZOLIBORZ}"
    assert row.select_one('[data-link="telegram"]') is None and "podaj nazwę bota" in row.get_text()
    # The preview's QR code carries that link (segno draws the same modules for the same text).
    svg = row.select_one(".qr svg")
    assert svg is not None and svg["role"] == "img" and svg.title is not None
    expected = BeautifulSoup(segno.make(web.get_text(), error="m", micro=False).svg_inline(scale=3), "html.parser")
    assert svg.path["d"] == expected.path["d"]  # type: ignore[index]
    # The working groups' meetings are listed for staff, marked.
    marked = [r for r in rows if "Tylko dla osób wybranych" in r.get_text()]
    assert len(marked) == sum(1 for e in events.values() if not e.open_to_public) > 0
    english = await page(client, "/staff/events?lang=en")
    assert events[ZOLIBORZ].name("en") in english.get_text() and "Events and posters" in english.get_text()


async def test_the_links_lead_where_the_form_says(client: TestClient[Any, Any]) -> None:
    soup = await page(client, f"/staff/events?web={PUBLIC}/&bot=@wspolnota_bot")
    row = soup.select_one(f'tr[data-event="{ZOLIBORZ}"]')
    assert row is not None
    assert row.select_one('[data-link="web"]').get_text() == f"{PUBLIC}/?event={ZOLIBORZ}"  # type: ignore[union-attr]
    telegram = row.select_one('[data-link="telegram"]')
    assert telegram is not None and telegram.get_text() == f"https://t.me/wspolnota_bot?start={ZOLIBORZ}"
    posters = [a["href"] for a in row.select("a[download]")]
    assert posters == [
        f"/staff/events/{ZOLIBORZ}/poster?link=web&web=https%3A%2F%2Fankieta.example.pl&bot=wspolnota_bot",
        f"/staff/events/{ZOLIBORZ}/poster?link=telegram&web=https%3A%2F%2Fankieta.example.pl&bot=wspolnota_bot",
    ]
    assert soup.select_one("#events-web")["value"] == f"{PUBLIC}/"  # type: ignore[index]
    assert soup.select_one("#events-bot")["value"] == "wspolnota_bot"  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("web=javascript:alert(1)", "Adres czatu musi"),
        ("web=https://a.pl/?x=1", "Adres czatu musi"),
        ("bot=wspolnota bot", "Nazwa bota"),
    ],
)
async def test_a_bad_address_or_bot_name_is_named(client: TestClient[Any, Any], query: str, problem: str) -> None:
    soup = await page(client, f"/staff/events?{query}", status=400)
    alert = soup.select_one('[role="alert"]')
    assert alert is not None and problem in alert.get_text()
    assert "javascript:" not in " ".join(c.get_text() for c in soup.select("code"))


async def test_a_poster_is_the_commands_poster_carrying_the_chosen_link(
    client: TestClient[Any, Any], service: Service, tmp_path: Path
) -> None:
    response = await client.get(f"/staff/events/{ZOLIBORZ}/poster?web={PUBLIC}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{ZOLIBORZ}.pdf"')
    body = await response.read()
    assert body.startswith(b"%PDF")
    text = pdf_text(body, tmp_path)
    assert f"{PUBLIC}/?event={ZOLIBORZ}" in text and "Bez telefonu? Napisz: wspolnota@um.warszawa.pl" in text

    telegram = await client.get(f"/staff/events/{ZOLIBORZ}/poster?link=telegram&bot=wspolnota_bot")
    assert telegram.status == 200
    assert f"https://t.me/wspolnota_bot?start={ZOLIBORZ}" in pdf_text(await telegram.read(), tmp_path)

    no_bot = await page(client, f"/staff/events/{ZOLIBORZ}/poster?link=telegram", status=400)
    assert "podaj nazwę bota" in no_bot.select_one('[role="alert"]').get_text()  # type: ignore[union-attr]
    assert (await client.get(f"/staff/events/{ZOLIBORZ}/poster?link=fax")).status == 400
    missing = await page(client, "/staff/events/nie-ma-takiego/poster", status=404)
    assert "Nie ma takiego wydarzenia" in missing.get_text()


async def test_the_sheet_of_all_codes(client: TestClient[Any, Any], service: Service, tmp_path: Path) -> None:
    response = await client.get(f"/staff/events/codes?link=web&web={PUBLIC}")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="all-codes.pdf"')
    text = pdf_text(await response.read(), tmp_path)
    assert all(slug in text for slug in service.config.events)  # each event's code on the sheet
    assert (await client.get("/staff/events/codes?link=telegram")).status == 400
    assert (await client.get("/staff/events/codes?bot=x")).status == 400


async def test_the_stands_kiosks_are_listed_by_name(client: TestClient[Any, Any], service: Service) -> None:
    soup = await page(client, "/staff/events")
    assert "Brak kiosków." in soup.get_text()
    await add_kiosk(service.store, "wola-1", "0" * 64, service.conversation.clock())
    cells = [td.get_text() for td in (await page(client, "/staff/events")).select("table.kiosks td")]
    assert cells == ["wola-1", "dodany 2026-05-30 14:00"]


async def test_signed_out_browsers_are_sent_to_sign_in(client: TestClient[Any, Any]) -> None:
    client.session.cookie_jar.clear()
    for path in ("/staff/events", "/staff/events/codes", f"/staff/events/{ZOLIBORZ}/poster"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/staff/login?next=")


def test_posters_carry_the_web_chat_when_its_address_is_known(config: Config) -> None:
    event = config.events[ZOLIBORZ]
    web, telegram = poster_link(PUBLIC, "wspolnota_bot"), poster_link(None, "wspolnota_bot")
    assert web is not None and web(event) == f"{PUBLIC}/?event={ZOLIBORZ}"
    assert telegram is not None and telegram(event) == f"https://t.me/wspolnota_bot?start={ZOLIBORZ}"
    assert poster_link(None, None) is None


async def test_the_public_address_and_the_running_bot_are_the_defaults(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WSPOLNOTA_PUBLIC_URL beats the address the browser used; the Telegram channel's own username, once it
    has started, gives the Telegram links without anyone typing it."""
    settings = make_settings(tmp_path / "data", WSPOLNOTA_PUBLIC_URL=PUBLIC + "/")
    async with open_service(settings, clock=clock) as service:
        await add_staff(service, FIELD, "field")
        async with TestClient(server(service)) as client:
            assert (await sign_in(client, FIELD)).status == 303
            row = (await page(client, "/staff/events")).select_one(f'tr[data-event="{ZOLIBORZ}"]')
            assert row is not None and row.select_one('[data-link="telegram"]') is None
            web = row.select_one('[data-link="web"]')
            assert web is not None and web.get_text() == f"{PUBLIC}/?event={ZOLIBORZ}"
            service.known.telegram_username = "wspolnota_bot"  # as the Telegram channel records it at start
            row = (await page(client, "/staff/events")).select_one(f'tr[data-event="{ZOLIBORZ}"]')
            assert row is not None
            telegram = row.select_one('[data-link="telegram"]')
            assert telegram is not None and telegram.get_text() == f"https://t.me/wspolnota_bot?start={ZOLIBORZ}"

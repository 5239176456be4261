"""The console's working-group applications, over HTTP without a browser: the status figures and the list
with its filters (no names in it), one application read whole, exclude and include audited as the staff
account, an unknown reference, an empty reason, the draw's decisions, pages, and the groups off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.service import Service, open_service
from storage.applications import ApplicationFields
from storage.models import Application, SelectionDraw
from storage.selection import PlacementValues, Role
from tests.support import GROUPS_CONFIG, FakeClock, make_settings
from tests.support.applicants import record_applicant, store_draw_by_hand
from tests.support.console import add_staff, audit_entries, form_token, server, sign_in, signed_in

COORDINATOR, ANALYST = "koordynator@um.warszawa.pl", "analityk@um.warszawa.pl"
AFTER_THE_CALL = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)  # the tests' call closed on 30 September
ON_TIME = datetime(2026, 9, 10, 10, 30, tzinfo=UTC)  # 12:30 in Warsaw
LATE = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
ANNA = ApplicationFields(
    name="Anna Kowalska",
    email="anna@example.org",
    organisation="Fundacja Sąsiedzi",
    sector="ngo",
    groups=("otwartosc", "aktywnosc"),
    description="Prowadzę klub sąsiedzki.\nDrugi wiersz <script>alert(1)</script>",
    available=True,
    privacy_version="2026-09-01",
)
PEOPLE = [  # who, fields, channel, complete, received
    ("anna", ANNA, "email", True, ON_TIME),  # Z-1: in the draw
    ("bob", replace(ANNA, name="Bob Nowak", email="bob@example.org", sector="resident", groups=("otwartosc",)),
     "telegram", True, ON_TIME),  # Z-2: in the draw
    ("cecylia", replace(ANNA, name="Cecylia Wiśniewska", email=None, sector="informal", groups=("aktywnosc",)),
     "web", False, ON_TIME),  # Z-3: incomplete
    ("dorota", replace(ANNA, name="Dorota Zielińska", email="d@example.org", groups=("otwartosc",)),
     "email", True, LATE),  # Z-4: late
    ("anna-web", replace(ANNA, name="KOWALSKA  anna", email="ak@example.org", sector="city_hall",
                         groups=("przynaleznosc",)), "web", True, ON_TIME),  # Z-5: Anna again?
]  # fmt: skip
NAMES = ("Anna", "Kowalska", "KOWALSKA", "Bob", "Cecylia", "Dorota", "anna@example.org", "bob@example.org")


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(GROUPS_CONFIG))
    async with open_service(settings, clock=FakeClock(AFTER_THE_CALL)) as running:
        async with running.store.unit() as unit:
            for who, fields, channel, complete, at in PEOPLE:
                await record_applicant(unit, who, fields, at, channel=channel, late=at == LATE, complete=complete)
        yield running


@pytest.fixture
async def client(service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(server(service)) as test_client:
        yield test_client


async def listed(client: TestClient[Any, Any], query: str = "") -> tuple[int, BeautifulSoup, list[str]]:
    """The list page: its status, its HTML and the references it lists."""
    page = await client.get(f"/staff/groups/applications{query}")
    soup = BeautifulSoup(await page.text(), "html.parser")
    return page.status, soup, [a.get_text() for a in soup.select(".applications-table tbody th a")]


async def stored(service: Service, number: int) -> Application:
    async with service.store.unit(write=False) as unit:
        application = await unit.session.get(Application, number)
        assert application is not None
        return application


async def test_the_figures_and_the_list_filtered_by_codes_without_names(
    client: TestClient[Any, Any], service: Service
) -> None:
    await signed_in(client, service, COORDINATOR, "coordinator")
    status, soup, references = await listed(client)
    assert status == 200
    assert references == ["Z-1", "Z-2", "Z-3", "Z-5", "Z-4"]  # oldest first
    tiles = {
        dt.get_text(): dd.get_text() for dt, dd in zip(soup.select(".tiles dt"), soup.select(".tiles dd"), strict=True)
    }
    assert tiles["Wszystkie"] == "5" and tiles["W losowaniu"] == "3" and tiles["Po terminie"] == "1"
    assert tiles["kompletne"] == "4" and tiles["niekompletne"] == "1"
    by_sector = soup.find("caption", string="W losowaniu według grupy i sektora, wobec miejsc")
    assert by_sector is not None
    table = by_sector.parent
    heads = [th.get_text() for th in table.select("thead th")]
    assert heads == ["Sektor", "Otwartość i relacje", "Aktywność i współpraca", "Przynależność do miejsca"]
    rows = {tr.th.get_text(): [td.get_text() for td in tr.select("td")] for tr in table.select("tbody tr, tfoot tr")}
    # Otwartość: Anna (ngo) and Bob (resident) in the draw for 4 seats; Dorota is late, Cecylia incomplete.
    assert rows["Organizacja pozarządowa"] == ["1", "1", "0"] and rows["Mieszkanka lub mieszkaniec"] == ["1", "0", "0"]
    assert rows["W losowaniu"] == ["2", "1", "1"] and rows["Miejsca"] == ["4", "4", "4"]
    assert rows["Na miejsce"] == ["0,50", "0,25", "0,25"]  # a Polish decimal comma
    first = soup.select_one(".applications-table tbody tr")
    assert first is not None
    cells = [cell.get_text(" ", strip=True) for cell in first.select("th, td")]
    assert cells[:8] == ["Z-1", "2026-09-10 12:30", "e-mail", "Otwartość i relacje, Aktywność i współpraca", "Organizacja pozarządowa",
                         "kompletne", "nie", "Z-5"]  # fmt: skip
    table = str(soup.select_one(".applications-table"))
    assert not any(name in table for name in NAMES)  # names only on one application's page
    assert soup.select_one('a[href="/staff/groups"]') is not None

    assert (await listed(client, "?group=aktywnosc"))[2] == ["Z-1", "Z-3"]
    assert (await listed(client, "?sector=resident"))[2] == ["Z-2"]
    assert (await listed(client, "?status=incomplete"))[2] == ["Z-3"]
    assert (await listed(client, "?status=in_draw"))[2] == ["Z-1", "Z-2", "Z-5"]
    assert (await listed(client, "?late=yes"))[2] == ["Z-4"]
    assert (await listed(client, "?late=no&group=otwartosc"))[2] == ["Z-1", "Z-2"]
    assert (await listed(client, "?duplicates=1"))[2] == ["Z-1", "Z-5"]
    status, soup, references = await listed(client, "?group=otwartosc&sector=city_hall")
    assert status == 200 and references == [] and "Żadne zgłoszenie nie pasuje." in soup.get_text()
    chosen = soup.select_one("#applications-group option[selected]")
    assert chosen is not None and chosen["value"] == "otwartosc"  # the form shows the filter it applied

    status, soup, references = await listed(client, "?group=nieznana")
    assert status == 400 and len(references) == 5
    assert "Nieznana grupa" in soup.select_one('[role="alert"]').get_text()  # type: ignore[union-attr]


async def test_pages_of_the_list_keep_the_filters(
    client: TestClient[Any, Any], service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.console.applications.PER_PAGE", 2)
    await signed_in(client, service, COORDINATOR, "coordinator")
    _, soup, references = await listed(client, "?late=no")
    assert references == ["Z-1", "Z-2"]
    following = soup.find("a", string="Następna strona")
    assert following is not None and following["href"] == "/staff/groups/applications?late=no&page=2"
    _, soup, references = await listed(client, "?late=no&page=2")
    assert references == ["Z-3", "Z-5"]
    assert soup.find("a", string="Poprzednia strona") is not None and soup.find("a", string="Następna strona") is None
    assert (await listed(client, "?late=no&page=9"))[0] == 400


async def test_one_application_whole_with_its_duplicate_and_an_unknown_reference(
    client: TestClient[Any, Any], service: Service
) -> None:
    await signed_in(client, service, COORDINATOR, "coordinator")
    page = await client.get("/staff/groups/applications/Z-1")
    assert page.status == 200
    html = await page.text()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.h1 is not None and soup.h1.get_text() == "Zgłoszenie Z-1"
    text = soup.get_text()
    assert "Anna Kowalska" in text and "anna@example.org" in text and "Fundacja Sąsiedzi" in text
    assert "Otwartość i relacje" in text and "Aktywność i współpraca" in text
    description = soup.select_one(".applications-description")
    assert description is not None
    assert description.get_text() == ANNA.description  # line breaks kept (pre-wrap) …
    assert "<script>" not in html and "&lt;script&gt;" in html  # … and escaped
    assert [a["href"] for a in soup.select(".applications-fields a")] == ["/staff/groups/applications/Z-5"]
    assert soup.select_one('form[action="/staff/groups/applications/Z-1/exclude"] input[name="reason"]') is not None
    assert "Po losowaniu" not in text  # no draw yet

    assert (await client.get("/staff/groups/applications/z1")).status == 200  # as the command line reads it
    for unknown in ("Z-99", "anna", "99999999999"):
        missing = await client.get(f"/staff/groups/applications/{unknown}")
        assert missing.status == 404
        assert "Nie ma zgłoszenia o takim numerze." in await missing.text()
    csrf = form_token(html)
    posted = await client.post("/staff/groups/applications/Z-99/exclude", data={"csrf": csrf, "reason": "x"})
    assert posted.status == 404 and await audit_entries(service, "application_exclude") == []


async def test_exclude_with_a_reason_then_include_each_audited_once_as_the_staff_account(
    client: TestClient[Any, Any], service: Service
) -> None:
    account, _ = await signed_in(client, service, COORDINATOR, "coordinator")
    csrf = form_token(await (await client.get("/staff/groups/applications/Z-2")).text())
    url = "/staff/groups/applications/Z-2"
    # Opening it showed a name and an address: who read them is in the log, by reference only.
    (viewed,) = await audit_entries(service, "application_view")
    assert viewed.actor == f"staff:{account}" and viewed.details == {"application": "Z-2"}

    empty = await client.post(f"{url}/exclude", data={"csrf": csrf, "reason": "   "}, allow_redirects=False)
    assert empty.status == 400
    assert "Podaj powód wykluczenia." in await empty.text()
    assert not (await stored(service, 2)).excluded and await audit_entries(service, "application_exclude") == []
    refused = await client.post(f"{url}/exclude", data={"reason": "bez tokenu"}, allow_redirects=False)
    assert refused.status == 403 and not (await stored(service, 2)).excluded

    done = await client.post(
        f"{url}/exclude", data={"csrf": csrf, "reason": " poniżej   16 lat "}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == f"{url}?note=excluded"
    application = await stored(service, 2)
    assert application.excluded and application.exclusion_reason == "poniżej 16 lat"
    (entry,) = await audit_entries(service, "application_exclude")
    # What `wspolnota groups exclude` writes, with the console's actor.
    assert entry.actor == f"staff:{account}"
    assert entry.details == {"application": "Z-2", "was_excluded": False, "reason": "poniżej 16 lat"}
    page = BeautifulSoup(await (await client.get(done.headers["Location"])).text(), "html.parser")
    assert "Zgłoszenie wykluczone z losowania." in page.select_one('[role="status"]').get_text()  # type: ignore[union-attr]
    assert "poniżej 16 lat" in page.get_text() and "wykluczone" in page.get_text()
    assert page.select_one(f'form[action="{url}/exclude"]') is None
    assert (await listed(client, "?status=excluded"))[2] == ["Z-2"]
    assert (await listed(client, "?status=in_draw"))[2] == ["Z-1", "Z-5"]

    back = await client.post(f"{url}/include", data={"csrf": csrf}, allow_redirects=False)
    assert back.status == 303 and back.headers["Location"] == f"{url}?note=included"
    application = await stored(service, 2)
    assert not application.excluded and application.exclusion_reason is None
    (entry,) = await audit_entries(service, "application_include")
    assert entry.actor == f"staff:{account}" and entry.details == {"application": "Z-2", "was_excluded": True}
    assert len(await audit_entries(service, "application_exclude")) == 1


async def test_the_draws_decisions_in_the_list_and_on_the_page(client: TestClient[Any, Any], service: Service) -> None:
    placements = [
        PlacementValues(1, "otwartosc", Role.SELECTED, 0.75),
        PlacementValues(2, "otwartosc", Role.RESERVE, 0.25, 1),
        PlacementValues(5, "przynaleznosc", Role.NOT_SELECTED, 0.1),
    ]
    await store_draw_by_hand(service.store, placements, AFTER_THE_CALL)
    await signed_in(client, service, COORDINATOR, "coordinator")
    _, soup, _ = await listed(client)
    decisions = [tr.select("td")[-1].get_text() for tr in soup.select(".applications-table tbody tr")]
    assert decisions[:2] == ["wybrana osoba", "rezerwa (miejsce 1)"] and decisions[4] == "niewybrana osoba"
    assert "Losowanie z ziarnem 7" in soup.get_text()
    _, english, _ = await listed(client, "?lang=en")
    decisions = [tr.select("td")[-1].get_text() for tr in english.select(".applications-table tbody tr")]
    assert decisions[:2] == ["selected", "reserve (rank 1)"] and "Draw with seed 7" in english.get_text()
    assert english.h1 is not None and english.h1.get_text() == "Working-group applications"
    page = BeautifulSoup(await (await client.get("/staff/groups/applications/Z-1?lang=pl")).text(), "html.parser")
    assert "Po losowaniu" in page.get_text() and "75%" in page.get_text() and "otwartosc" in page.get_text()
    assert "Ta osoba ma miejsce w grupie" not in page.get_text()  # nobody was told yet

    async with service.store.unit() as unit:  # the decisions are out (as `groups notify` marks the draw)
        draw = (await unit.session.scalars(select(SelectionDraw))).one()
        draw.decisions_at = AFTER_THE_CALL
    html = await (await client.get("/staff/groups/applications/Z-1")).text()
    assert "Ta osoba ma miejsce w grupie" in html  # excluding frees the seat at the next replacement …
    excluded = await client.post(
        "/staff/groups/applications/Z-1/exclude", data={"csrf": form_token(html), "reason": "dwa zgłoszenia"}
    )
    assert excluded.status == 200 and (await stored(service, 1)).excluded  # … and is allowed, as on the command line


async def test_only_coordinators_and_the_groups_off(
    client: TestClient[Any, Any], service: Service, tmp_path: Path
) -> None:
    await signed_in(client, service, ANALYST, "analyst")
    assert (await client.get("/staff/groups/applications")).status == 403
    assert (await client.get("/staff/groups/applications/Z-1")).status == 403

    settings = make_settings(tmp_path / "off")  # the tests' configuration has no recruitment.yaml
    async with open_service(settings, clock=FakeClock(AFTER_THE_CALL)) as off, TestClient(server(off)) as other:
        await add_staff(off, COORDINATOR, "coordinator")
        assert (await sign_in(other, COORDINATOR)).status == 303
        page = await other.get("/staff/groups/applications")
        assert page.status == 200 and "Grupy robocze są wyłączone" in await page.text()
        assert (await other.get("/staff/groups/applications/Z-1")).status == 404

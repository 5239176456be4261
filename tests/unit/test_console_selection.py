"""The console's working-groups page (/staff/groups) over HTTP without a browser: off without a call; a dry run
shown and stored nowhere, with its report; the real draw only with its box ticked, stored and audited; the
decisions queued and the draw standing after them; replacements from the reserve list; the sign-in sheets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.service import Service, open_service
from bot.working_groups import WorkingGroups
from selection.model import Candidate, Draw, GroupDraw, GroupSpec, QuotaInfeasible
from storage.applications import ApplicationFields, withdraw_application
from storage.models import Application, OutboxMessage
from storage.selection import PlacementValues, Role, current_draw, placements_by_application
from tests.support import GROUPS_CONFIG, FakeClock, make_settings
from tests.support.applicants import record_applicant, store_draw_by_hand
from tests.support.console import add_staff, audit_entries, form_token, server, sign_in
from tests.support.extras import require_selection

require_selection()

COORDINATOR = "koordynatorka@um.warszawa.pl"
TWO_DAYS_BEFORE_THE_DECISIONS = datetime(2026, 10, 6, 10, 0, tzinfo=UTC)  # decision date 2026-10-08
GROUPS = ("otwartosc", "aktywnosc", "przynaleznosc")
SECTORS = ("ngo", "informal", "resident")
APPLICANTS = 18  # six a group for its four seats: a lottery in each


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(GROUPS_CONFIG))
    async with open_service(settings, clock=FakeClock(TWO_DAYS_BEFORE_THE_DECISIONS)) as running:
        yield running


async def apply(service: Service, count: int = APPLICANTS) -> list[int]:
    """`count` complete applications on time, one group each in turn, sectors in turn."""
    at = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
    ids = []
    async with service.store.unit() as unit:
        for n in range(count):
            fields = ApplicationFields(
                name=f"Osoba {n} Testowa",
                email=f"osoba{n}@example.pl",
                email_verified=True,
                organisation=f"Organizacja {n}",
                sector=SECTORS[(n // 3) % 3],
                groups=(GROUPS[n % 3],),
                available=True,
            )
            ids.append(await record_applicant(unit, f"p{n}", fields, at))
    return ids


async def drawn_by_hand(service: Service) -> list[int]:
    """The applications of `apply` and a draw with seed 5 stored by hand: the first four selected for
    otwartosc, the next two its reserve list in order. The applications' ids."""
    ids = await apply(service)
    placements = [PlacementValues(a, "otwartosc", Role.SELECTED, 1.0) for a in ids[:4]]
    placements += [PlacementValues(a, "otwartosc", Role.RESERVE, 0.5, n) for n, a in enumerate(ids[4:6], start=1)]
    await store_draw_by_hand(service.store, placements, TWO_DAYS_BEFORE_THE_DECISIONS, seed=5)
    return ids


async def coordinator(service: Service) -> tuple[TestClient[Any, Any], int, str]:
    """A signed-in coordinator's client, the account's id and the CSRF token of the groups page."""
    account = await add_staff(service, COORDINATOR, "coordinator")
    client: TestClient[Any, Any] = TestClient(server(service))
    await client.start_server()
    assert (await sign_in(client, COORDINATOR)).status == 303
    page = await client.get("/staff/groups")
    assert page.status == 200
    return client, account, form_token(await page.text())


@pytest.fixture
async def staff(service: Service) -> AsyncIterator[tuple[TestClient[Any, Any], int, str]]:
    client, account, csrf = await coordinator(service)
    try:
        yield client, account, csrf
    finally:
        await client.close()


def text_of(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


async def test_without_a_call_the_page_says_the_groups_are_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")  # the tests' configuration has no recruitment.yaml
    async with open_service(settings, clock=FakeClock(TWO_DAYS_BEFORE_THE_DECISIONS)) as running:
        client, _, csrf = await coordinator(running)
        try:
            page = await client.get("/staff/groups")
            assert "Grupy robocze są wyłączone: brak pliku config/recruitment.yaml" in text_of(await page.text())
            posted = await client.post("/staff/groups/select", data={"csrf": csrf, "seed": "7", "dry_run": "1"})
            assert posted.status == 409 and "wyłączone" in await posted.text()
            assert (await client.get("/staff/groups/roster/otwartosc")).status == 404
        finally:
            await client.close()


async def test_the_overview_shows_the_call_the_applications_and_the_warning(
    service: Service, staff: tuple[TestClient[Any, Any], int, str]
) -> None:
    client, _, _ = staff
    await apply(service)
    page = text_of(await (await client.get("/staff/groups")).text())
    assert "Zgłoszenia do 2026-09-30 23:59" in page and "Decyzje do 2026-10-08" in page
    assert "Wszystkie 18 W losowaniu 18" in page
    assert "(1. spotkanie): 2026-10-20 17:00, Centrum Wielokulturowe w Warszawie" in page  # Warsaw time
    assert "UWAGA: każda osoba musi dostać odpowiedź do 2026-10-08 (za 2 dni)" in page
    assert "Najpierw losowanie" in page and "Jeszcze nie losowano." in page
    soup = BeautifulSoup(await (await client.get("/staff/groups?lang=en")).text(), "html.parser")
    assert soup.find("a", href="/staff/groups/applications") is not None
    assert "every applicant must hear back by 2026-10-08 (in 2 days)" in soup.get_text()
    assert soup.find("a", href="/staff/groups/roster/aktywnosc?meeting=grupa-robocza-2-2026-10-14") is not None


async def test_a_dry_run_is_shown_with_its_report_and_stores_nothing(
    service: Service, staff: tuple[TestClient[Any, Any], int, str]
) -> None:
    client, _, csrf = staff
    await apply(service)
    for wrong in ("0", "-3", "siedem", "1.5", "", "9" * 20):
        refused = await client.post("/staff/groups/select", data={"csrf": csrf, "seed": wrong, "dry_run": "1"})
        assert refused.status == 400, wrong
        assert "Ziarno musi być liczbą całkowitą większą od 0." in await refused.text()

    dry = await client.post("/staff/groups/select", data={"csrf": csrf, "seed": "7", "dry_run": "1"})
    assert dry.status == 200
    soup = BeautifulSoup(await dry.text(), "html.parser")
    result = soup.select_one("section.groups-dry")
    assert result is not None
    shown = " ".join(result.get_text(" ").split())
    assert "Wynik próbnego losowania (ziarno 7): nic nie zapisano" in shown
    for name in ("Otwartość i relacje", "Aktywność i współpraca", "Przynależność do miejsca"):
        assert name in shown
    assert shown.count("4 z 4 miejsc, pula 6 — losowanie") == 3
    references = [a.get_text() for a in result.select("a[href^='/staff/groups/applications/Z-']")]
    assert len(references) == 18 and len(set(references)) == 18  # 12 seats and 6 on the reserve lists
    assert "Osoba" not in shown and "@example.pl" not in shown
    assert await current_draw(service.store) is None
    assert await audit_entries(service, "selection_draw") == []

    report = await client.post("/staff/groups/select", data={"csrf": csrf, "seed": "7", "dry_run": "1", "report": "1"})
    assert report.status == 200 and report.headers["Content-Type"].startswith("text/html")
    assert 'filename="groups-dry-run-report-seed-7.html"' in report.headers["Content-Disposition"]
    body = await report.text()
    assert "--seed 7" in body and "Osoba" not in body and "Z-" not in body
    assert await current_draw(service.store) is None


async def test_the_real_draw_needs_its_box_then_is_stored_audited_and_reported(
    service: Service, staff: tuple[TestClient[Any, Any], int, str]
) -> None:
    client, account, csrf = staff
    await apply(service)
    unticked = await client.post("/staff/groups/select", data={"csrf": csrf, "seed": "7"})
    assert unticked.status == 400 and "Zaznacz, że ziarno zostało ogłoszone." in await unticked.text()
    assert await current_draw(service.store) is None

    drawn = await client.post(
        "/staff/groups/select", data={"csrf": csrf, "seed": "7", "confirm": "1"}, allow_redirects=False
    )
    assert drawn.status == 303 and drawn.headers["Location"] == "/staff/groups?note=drawn"
    stored = await current_draw(service.store)
    assert stored is not None and stored.seed == 7 and stored.actor == f"staff:{account}"
    [entry] = await audit_entries(service, "selection_draw")
    assert entry.actor == f"staff:{account}" and entry.details == {"seed": 7, "replaced": None}
    page = text_of(await (await client.get("/staff/groups?note=drawn")).text())
    assert "Losowanie zapisane." in page and "Wylosowano z ziarnem 7" in page
    assert "Otwartość i relacje 4 4 0 0 4 0 2" in page  # seats, held, confirmed, declined, waiting, freed, reserve

    report = await client.get("/staff/groups/report")
    assert report.status == 200 and 'filename="groups-report-seed-7.html"' in report.headers["Content-Disposition"]
    assert "--seed 7" in await report.text()
    markdown = await client.get("/staff/groups/report?format=md&lang=en")
    assert markdown.headers["Content-Type"].startswith("text/markdown")
    assert "seed-7.md" in markdown.headers["Content-Disposition"] and "# " in await markdown.text()


async def test_decisions_are_queued_once_confirmed_and_the_draw_then_stands(
    service: Service, staff: tuple[TestClient[Any, Any], int, str]
) -> None:
    client, account, csrf = staff
    await drawn_by_hand(service)

    unticked = await client.post("/staff/groups/notify", data={"csrf": csrf})
    assert unticked.status == 400 and "Zaznacz potwierdzenie" in await unticked.text()
    notified = await client.post("/staff/groups/notify", data={"csrf": csrf, "confirm": "1"}, allow_redirects=False)
    assert notified.status == 303 and notified.headers["Location"] == "/staff/groups?note=notified&told=18"
    async with service.store.unit(write=False) as unit:
        assert len(list(await unit.session.scalars(select(OutboxMessage)))) == 18
    [entry] = await audit_entries(service, "selection_decisions")
    assert entry.actor == f"staff:{account}" and entry.details == {"seed": 5}
    page = text_of(await (await client.get(notified.headers["Location"])).text())
    assert "Decyzje przekazane do wysyłki: 18 os." in page and "Losowanie jest ostateczne." in page
    assert "UWAGA" not in page

    again = await client.post("/staff/groups/select", data={"csrf": csrf, "seed": "8", "confirm": "1"})
    assert again.status == 409
    assert "the draw with seed 5 stands" in text_of(await again.text())
    assert (await current_draw(service.store)).seed == 5  # type: ignore[union-attr]
    assert [e.actor for e in await audit_entries(service, "selection_draw")] == ["test"]  # the hand-made draw only


async def test_a_freed_seat_goes_to_the_reserve_list(
    service: Service, staff: tuple[TestClient[Any, Any], int, str]
) -> None:
    client, account, csrf = staff
    ids = await drawn_by_hand(service)

    early = await client.post("/staff/groups/replace", data={"csrf": csrf})
    assert early.status == 409 and "the decisions are not sent yet" in await early.text()
    assert (await client.post("/staff/groups/notify", data={"csrf": csrf, "confirm": "1"})).status == 200
    async with service.store.unit() as unit:
        application = await unit.session.get(Application, ids[0])
        assert application is not None
        await withdraw_application(unit, application.respondent_id, TWO_DAYS_BEFORE_THE_DECISIONS)

    replaced = await client.post("/staff/groups/replace", data={"csrf": csrf}, allow_redirects=False)
    assert replaced.status == 303
    assert replaced.headers["Location"] == "/staff/groups?note=replaced&freed=1&offered=1"
    seats = await placements_by_application(service.store)
    assert seats[ids[4]][0].role == Role.SELECTED and seats[ids[0]][0].release_reason == "withdrawn"
    [entry] = await audit_entries(service, "selection_replace")
    assert entry.actor == f"staff:{account}" and entry.details == {"released": 1, "offered": 1}
    page = text_of(await (await client.get(replaced.headers["Location"])).text())
    assert "Zwolniono miejsc: 1; zaproponowano: 1." in page
    assert f"Zmiany: zwolnione Z-{ids[0]} (wycofane); zaproponowane Z-{ids[4]}" in page


async def test_sign_in_sheets_download_as_pdf_and_are_audited(
    service: Service, staff: tuple[TestClient[Any, Any], int, str]
) -> None:
    client, account, csrf = staff
    ids = await apply(service)
    await store_draw_by_hand(
        service.store,
        [PlacementValues(a, "otwartosc", Role.SELECTED, 1.0) for a in ids[:4]],
        TWO_DAYS_BEFORE_THE_DECISIONS,
    )
    assert (await client.post("/staff/groups/notify", data={"csrf": csrf, "confirm": "1"})).status == 200

    sheets = await client.get("/staff/groups/roster/otwartosc")
    assert sheets.status == 200 and sheets.headers["Content-Type"] == "application/pdf"
    assert 'filename="lista-obecnosci-otwartosc.pdf"' in sheets.headers["Content-Disposition"]
    assert (await sheets.read()).startswith(b"%PDF")
    one = await client.get("/staff/groups/roster/otwartosc?meeting=grupa-robocza-1-2026-10-20")
    assert one.status == 200
    assert 'filename="lista-obecnosci-otwartosc-grupa-robocza-1-2026-10-20.pdf"' in one.headers["Content-Disposition"]
    entries = await audit_entries(service, "roster")
    assert [(e.actor, e.details) for e in entries] == [(f"staff:{account}", {"group": "otwartosc", "people": 4})] * 2

    assert (await client.get("/staff/groups/roster/nie-ma")).status == 404
    assert (await client.get("/staff/groups/roster/otwartosc?meeting=grupa-robocza-2-2026-10-14")).status == 404
    assert len(await audit_entries(service, "roster")) == 2


async def test_quotas_that_cannot_be_met_are_named_with_what_staff_could_relax(
    service: Service, staff: tuple[TestClient[Any, Any], int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, csrf = staff

    async def infeasible(self: WorkingGroups, seed: int, *, dry_run: bool, actor: str) -> None:
        raise QuotaInfeasible(
            "otwartosc",
            ["informal: at least 3 seats, but only 0 applicants in the pool"],
            ["lower informal's min from 3 to 0 in config/recruitment.yaml"],
        )

    monkeypatch.setattr(WorkingGroups, "select", infeasible)
    refused = await client.post("/staff/groups/select", data={"csrf": csrf, "seed": "3", "dry_run": "1"})
    assert refused.status == 409
    soup = BeautifulSoup(await refused.text(), "html.parser")
    alert = " ".join(soup.select_one("[role=alert]").get_text(" ").split())  # type: ignore[union-attr]
    assert "group otwartosc: the quotas cannot be met: informal: at least 3 seats, but only 0" in alert
    assert "Co można zmienić w config/recruitment.yaml" in alert
    assert "lower informal's min from 3 to 0 in config/recruitment.yaml" in alert
    assert soup.find("input", {"id": "dry-seed"})["value"] == "3"  # type: ignore[index]


async def test_a_dry_run_in_english_shows_its_notes_and_a_group_drawn_without_a_lottery(
    service: Service, staff: tuple[TestClient[Any, Any], int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, csrf = staff
    candidates = tuple(Candidate(n, SECTORS[n % 3], ("aktywnosc",)) for n in range(1, 4))

    async def drawn(self: WorkingGroups, seed: int, *, dry_run: bool, actor: str) -> Draw:
        assert dry_run
        group = GroupDraw(
            "aktywnosc", 4, (1, 2, 3), (1, 2, 3), (), {}, lottery=False, notes=("a second seat for 1 person",)
        )
        return Draw(seed, "maximin", "test", "test", (group,), (GroupSpec("aktywnosc", 4, {}),), candidates)

    monkeypatch.setattr(WorkingGroups, "select", drawn)
    shown = await client.post("/staff/groups/select?lang=en", data={"csrf": csrf, "seed": "12", "dry_run": "1"})
    assert shown.status == 200
    result = BeautifulSoup(await shown.text(), "html.parser").select_one("section.groups-dry")
    assert result is not None
    text = " ".join(result.get_text(" ").split())
    assert "The dry run's result (seed 12): nothing stored" in text
    assert "Activity and cooperation (aktywnosc)" in text
    assert "3 of 4 seats, a pool of 3 — everyone (no more applicants than seats)" in text
    assert "NGO 1 0–4 1" in text and "Selected (application references): Z-1 , Z-2 , Z-3" in text
    assert "Reserve list, in order: none" in text and "a second seat for 1 person" in text


async def test_only_coordinators_reach_the_groups(service: Service) -> None:
    await add_staff(service, "analityk@um.warszawa.pl", "analyst")
    async with TestClient(server(service)) as client:
        assert (await sign_in(client, "analityk@um.warszawa.pl")).status == 303
        assert (await client.get("/staff/groups")).status == 403
        assert (await client.get("/staff/groups/roster/otwartosc")).status == 403
    assert await audit_entries(service, "roster") == []

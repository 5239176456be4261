"""The working groups' draw in the staff console, in Debian's Chromium against `wspolnota run` with a call open
now and 18 applications: a coordinator runs a dry run, sees the groups (references, never names) and downloads
its report; axe-core on /staff/groups before and after; screenshots in test-artifacts/ (laptop and phone)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser

from bot.service import Service
from storage.applications import ApplicationFields
from tests.support import ServiceProcess
from tests.support.applicants import record_applicant
from tests.support.console import add_staff
from tests.support.console_browser import (
    browser_per_test,
    call_open_now,
    fits_a_phone,
    module_service,
    open_page,
    open_phone,
    screenshot,
    serious_violations,
    sign_in,
)
from tests.support.extras import require_selection

require_selection()

EMAIL = "koordynatorka@um.warszawa.pl"
GROUPS = ("otwartosc", "aktywnosc", "przynaleznosc")
SECTORS = ("ngo", "informal", "resident")


async def _seed(service: Service) -> None:
    """18 applications (six a group of four seats) and a coordinator, stored before the service starts."""
    now = service.conversation.clock()
    async with service.store.unit() as unit:
        for n in range(18):
            fields = ApplicationFields(
                name=f"Osoba {n} Testowa",
                email=f"osoba{n}@example.org",
                sector=SECTORS[(n // 3) % 3],
                groups=(GROUPS[n % 3],),
                description="Działam w sąsiedztwie od lat.",
                available=True,
            )
            await record_applicant(unit, f"p{n}", fields, now)
    await add_staff(service, EMAIL, "coordinator")


# `wspolnota run` with the web chat and a call open now, its applications and coordinator seeded.
service = module_service(call_open_now(_seed))
browser = browser_per_test()


async def test_a_coordinator_runs_a_dry_run_and_reads_its_report(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    problems: list[str] = []
    page = await open_page(browser, 1100, 900, problems)
    violations: dict[str, list[str]] = {}
    await page.goto(f"{service.url}/staff/groups")
    assert "/staff/login?next=" in page.url, page.url
    await sign_in(page, EMAIL)
    await page.wait_for_url("**/staff/groups")
    assert await page.locator("h1").inner_text() == "Grupy robocze: losowanie"
    assert "Jeszcze nie losowano." in await page.locator("main").inner_text()
    violations["groups"] = await serious_violations(page)

    await page.get_by_role("button", name="Losuj i zapisz").click()  # no seed, no box: the browser asks first
    assert page.url.endswith("/staff/groups")
    dry = page.get_by_role("form", name="Próbne losowanie")
    await dry.get_by_label("Ziarno losowania").fill("2027")
    await dry.get_by_role("button", name="Losuj próbnie").click()
    result = page.locator("section.groups-dry")
    await result.wait_for(timeout=60_000)  # the draw runs in a child process: a few seconds
    shown = await result.inner_text()
    assert "Wynik próbnego losowania (ziarno 2027): nic nie zapisano" in shown
    assert shown.count("4 z 4 miejsc, pula 6") == 3 and "Przynależność do miejsca" in shown
    assert await result.locator("a[href^='/staff/groups/applications/Z-']").count() == 18
    assert "Osoba" not in shown  # references only
    violations["groups, dry run"] = await serious_violations(page)
    await screenshot(page, "console-groups")

    async with page.expect_download(timeout=60_000) as waiting:
        await result.get_by_role("button", name="Pobierz sprawozdanie z tej próby (HTML)").click()
    download = await waiting.value
    assert download.suggested_filename == "groups-dry-run-report-seed-2027.html"
    report = tmp_path / download.suggested_filename
    await download.save_as(report)
    text = report.read_text(encoding="utf-8")
    assert "--seed 2027" in text and "Osoba" not in text and "Z-" not in text
    reader = await open_page(browser, 1100, 900, problems)
    await reader.goto(report.as_uri())
    assert "Przynależność do miejsca" in await reader.locator("main").inner_text()

    await page.goto(f"{service.url}/staff/groups")
    assert "Jeszcze nie losowano." in await page.locator("main").inner_text()  # the dry run stored nothing
    phone = await open_phone(browser, page, problems)
    await phone.goto(f"{service.url}/staff/groups")
    assert await fits_a_phone(phone)  # tables scroll inside
    await screenshot(phone, "console-groups-phone")
    assert violations == {name: [] for name in violations}, violations
    assert problems == []

"""The working groups' draw in the staff console, in Debian's Chromium against `wspolnota run` with a call open
now and 18 applications: a coordinator runs a dry run, sees the groups (references, never names) and downloads
its report; axe-core on /staff/groups before and after; screenshots in test-artifacts/ (laptop and phone)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from bot.service import open_service
from storage.applications import ApplicationFields
from tests.support import REPOSITORY, ServiceProcess, call_around, free_port, make_settings
from tests.support.applicants import record_applicant
from tests.support.chromium import launch_chromium
from tests.support.console import PASSWORD, add_staff
from tests.support.extras import require_selection

require_selection()

ARTEFACTS = REPOSITORY / "test-artifacts"
EMAIL = "koordynatorka@um.warszawa.pl"
GROUPS = ("otwartosc", "aktywnosc", "przynaleznosc")
SECTORS = ("ngo", "informal", "resident")


async def _seed(data: Path, config: Path) -> None:
    """18 applications (six a group of four seats) and a coordinator, stored before the service starts."""
    settings = make_settings(data, WSPOLNOTA_CONFIG_DIR=str(config))
    async with open_service(settings) as service:
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


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    """`wspolnota run` with the web chat and a call open now, its applications and coordinator seeded."""
    with tempfile.TemporaryDirectory() as folder:
        data, config = Path(folder) / "data", call_around(datetime.now(UTC), Path(folder) / "config")
        asyncio.run(_seed(data, config))
        process = ServiceProcess(
            data, WSPOLNOTA_WEB_PORT=str(free_port()), WSPOLNOTA_WEB_RATE_LIMIT="0", WSPOLNOTA_CONFIG_DIR=str(config)
        )
        process.start_blocking()
        try:
            yield process
        finally:
            assert process.stop_blocking(timeout=20) == 0


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium() as launched:
        yield launched


async def open_page(browser: Browser, width: int, height: int, problems: list[str]) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = await context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    assert len(results.response["passes"]) > 10  # axe ran its rules here
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def test_a_coordinator_runs_a_dry_run_and_reads_its_report(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    page = await open_page(browser, 1100, 900, problems)
    violations: dict[str, list[str]] = {}
    await page.goto(f"{service.url}/staff/groups")
    assert "/staff/login?next=" in page.url, page.url
    await page.get_by_label("Adres e-mail").fill(EMAIL)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
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
    await page.screenshot(path=str(ARTEFACTS / "console-groups.png"), full_page=True)

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
    phone = await open_page(browser, 360, 780, problems)
    await phone.context.add_cookies(await page.context.cookies())
    await phone.goto(f"{service.url}/staff/groups")
    assert await phone.evaluate("() => document.documentElement.scrollWidth <= 360")  # tables scroll inside
    await phone.screenshot(path=str(ARTEFACTS / "console-groups-phone.png"), full_page=True)
    assert violations == {name: [] for name in violations}, violations
    assert problems == []

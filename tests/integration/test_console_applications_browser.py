"""The working groups' applications in the staff console, in Debian's Chromium against `wspolnota run` with a
call open now: a coordinator filters the list, opens an application, excludes it with a reason and sees it
excluded; axe-core on the list and the application; screenshots in test-artifacts/ (laptop and phone)."""

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

ARTEFACTS = REPOSITORY / "test-artifacts"
EMAIL = "koordynatorka@um.warszawa.pl"
APPLICANTS = [  # who, sector, groups: Z-1 … Z-3
    ("ola", "ngo", ("otwartosc", "aktywnosc")),
    ("piotr", "resident", ("otwartosc",)),
    ("rafal", "city_hall", ("aktywnosc",)),
]


async def _seed(data: Path, config: Path) -> None:
    """Three applications and a coordinator, stored before the service starts (the same database)."""
    settings = make_settings(data, WSPOLNOTA_CONFIG_DIR=str(config))
    async with open_service(settings) as service:
        now = service.conversation.clock()
        async with service.store.unit() as unit:
            for who, sector, groups in APPLICANTS:
                fields = ApplicationFields(
                    name=f"{who.title()} Testowy",
                    email=f"{who}@example.org",
                    sector=sector,
                    groups=groups,
                    description=f"Działam w sąsiedztwie od lat.\nTo jest zgłoszenie: {who}.",
                    available=True,
                )
                await record_applicant(unit, who, fields, now)
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
    context = await browser.new_context(viewport={"width": width, "height": height})
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


async def references(page: Page) -> list[str]:
    return await page.locator(".applications-table tbody th a").all_inner_texts()


async def test_a_coordinator_filters_opens_and_excludes_an_application(
    service: ServiceProcess, browser: Browser
) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    page = await open_page(browser, 1100, 900, problems)
    violations: dict[str, list[str]] = {}
    await page.goto(f"{service.url}/staff/groups/applications")
    assert "/staff/login?next=" in page.url, page.url
    await page.get_by_label("Adres e-mail").fill(EMAIL)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url("**/staff/groups/applications")
    assert await page.locator("h1").inner_text() == "Zgłoszenia do grup roboczych"
    assert await references(page) == ["Z-1", "Z-2", "Z-3"]
    assert "Testowy" not in await page.locator(".applications-table").inner_text()  # no names in the list

    await page.get_by_label("Grupa", exact=True).select_option("aktywnosc")
    await page.get_by_role("button", name="Pokaż").click()
    await page.wait_for_url("**/staff/groups/applications?group=aktywnosc*")
    assert await references(page) == ["Z-1", "Z-3"]
    violations["list"] = await serious_violations(page)
    await page.screenshot(path=str(ARTEFACTS / "console-applications.png"), full_page=True)

    await page.get_by_role("link", name="Z-3", exact=True).click()
    await page.wait_for_url("**/staff/groups/applications/Z-3")
    assert await page.locator("h1").inner_text() == "Zgłoszenie Z-3"
    assert "Rafal Testowy" in await page.locator(".applications-fields").first.inner_text()
    assert "\n" in await page.locator(".applications-description").inner_text()  # the applicant's lines kept
    violations["application"] = await serious_violations(page)

    await page.get_by_role("button", name="Wyklucz").click()  # no reason: the browser asks for one first
    assert page.url.endswith("/staff/groups/applications/Z-3")
    await page.get_by_label("Powód (wymagany)").fill("zgłoszenie złożone dwa razy")
    await page.get_by_role("button", name="Wyklucz").click()
    await page.wait_for_url("**/staff/groups/applications/Z-3?note=excluded")
    assert await page.get_by_role("status").inner_text() == "Zgłoszenie wykluczone z losowania."
    fields = await page.locator(".applications-fields").first.inner_text()
    assert "wykluczone" in fields and "zgłoszenie złożone dwa razy" in fields
    assert await page.get_by_role("button", name="Przywróć").is_visible()
    violations["application, excluded"] = await serious_violations(page)
    await page.screenshot(path=str(ARTEFACTS / "console-application.png"), full_page=True)

    await page.get_by_role("link", name="Wszystkie zgłoszenia").click()
    await page.get_by_label("Stan").select_option("excluded")
    await page.get_by_role("button", name="Pokaż").click()
    await page.wait_for_url("**status=excluded*")
    assert await references(page) == ["Z-3"]

    phone = await open_page(browser, 360, 780, problems)
    await phone.context.add_cookies(await page.context.cookies())
    for path in ("/staff/groups/applications", "/staff/groups/applications/Z-1"):
        await phone.goto(f"{service.url}{path}")
        assert await phone.evaluate("() => document.documentElement.scrollWidth <= 360"), path  # tables scroll inside
    await phone.screenshot(path=str(ARTEFACTS / "console-application-phone.png"), full_page=True)
    assert violations == {name: [] for name in violations}, violations
    assert problems == []

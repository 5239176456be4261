"""The Staff accounts page in Debian's Chromium against `wspolnota run`: a coordinator adds an analyst (the
setup link shown once), requires a second factor and disables an account, with the keyboard-reachable forms
a browser shows; axe-core on the page; a screenshot in test-artifacts/console-team.png."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from tests.support import REPOSITORY, ServiceProcess, free_port
from tests.support.chromium import launch_chromium

ARTEFACTS = REPOSITORY / "test-artifacts"
COORDINATOR, ANALYST = "koordynatorka@um.warszawa.pl", "analityk@um.warszawa.pl"
PASSWORD = "zielona herbata o świcie"


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    """`wspolnota run` with only the web chat."""
    with tempfile.TemporaryDirectory() as folder:
        process = ServiceProcess(
            Path(folder) / "data", WSPOLNOTA_WEB_PORT=str(free_port()), WSPOLNOTA_WEB_RATE_LIMIT="0"
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


def staff_add(service: ServiceProcess, email: str, role: str) -> str:
    """The setup link `wspolnota staff add` prints."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", email, "--role", role, "--web", service.url],
        cwd=REPOSITORY,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    assert len(results.response["passes"]) > 10  # axe ran its rules here
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def set_password(page: Page, link: str) -> None:
    await page.goto(link)
    await page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    await page.get_by_label("Hasło jeszcze raz").fill(PASSWORD)
    await page.get_by_role("button", name="Zapisz").click()
    await page.wait_for_url("**/staff/login?note=done")


async def test_a_coordinator_manages_the_team(service: ServiceProcess, browser: Browser) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    context = await browser.new_context(viewport={"width": 1000, "height": 900})
    page = await context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    violations: dict[str, list[str]] = {}

    await set_password(page, staff_add(service, COORDINATOR, "coordinator"))
    await page.get_by_label("Adres e-mail").fill(COORDINATOR)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url("**/staff/")
    await page.get_by_role("link", name="Konta zespołu").click()
    await page.wait_for_url("**/staff/team")
    assert await page.locator("h1").inner_text() == "Konta zespołu"

    # Add an analyst: the answer is the page with the link, not a redirect to an address holding it.
    await page.locator("#team-email").fill(ANALYST)
    await page.locator("#team-role").select_option("analyst")
    await page.get_by_role("button", name="Dodaj konto").click()
    await page.wait_for_url("**/staff/team/add")
    link = (await page.locator("#team-setup-link").inner_text()).strip()
    assert link.startswith(f"{service.url.rstrip('/')}/staff/setup/")
    assert "prywatnym kanałem" in await page.locator(".team-link").inner_text()
    violations["team with a link"] = await serious_violations(page)
    await page.screenshot(path=str(ARTEFACTS / "console-team.png"), full_page=True)

    # The analyst sets a password in their own browser; the coordinator then requires a second factor.
    other = await browser.new_context()
    await set_password(await other.new_page(), link)
    await other.close()
    row = page.locator("tr", has_text=ANALYST)
    await row.get_by_role("button", name="Wymagaj drugiego składnika").click()
    await page.wait_for_url("**/staff/team/totp")
    assert ANALYST in await page.locator(".team-link").inner_text()

    # Disabling asks for the box to be ticked first (the browser will not send the form without it).
    await page.get_by_role("link", name="Wróć do listy kont").click()
    row = page.locator("tr", has_text=ANALYST)
    await row.get_by_role("button", name="Wyłącz").click()
    assert page.url.endswith("/staff/team")  # held back by the browser: `required`
    await row.get_by_label(f"Tak, wyłącz konto {ANALYST}").check()
    await row.get_by_role("button", name="Wyłącz").click()
    await page.wait_for_url("**/staff/team?note=disabled")
    assert "wyłączone" in await page.locator("tr", has_text=ANALYST).inner_text()
    assert await page.locator("tr", has_text=COORDINATOR).get_by_role("button", name="Wyłącz").count() == 0
    violations["team"] = await serious_violations(page)

    # A phone at the stand: the page still fits, the table scrolls inside itself.
    await page.set_viewport_size({"width": 360, "height": 800})
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    violations["team on a phone"] = await serious_violations(page)

    assert violations == {name: [] for name in violations}
    assert problems == []

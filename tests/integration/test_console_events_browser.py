"""The console's Events page in Debian's Chromium against `wspolnota run`: field staff added with the
command sign in, see every event with its links and QR code, download a poster; axe-core finds nothing
serious; screenshots in test-artifacts/ (a laptop and a 360 px phone)."""

from __future__ import annotations

import asyncio
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
EMAIL = "teren@um.warszawa.pl"
PASSWORD = "zielona herbata o świcie"
ZOLIBORZ = "dzien-sasiada-zoliborz-2026-05-30"


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    """`wspolnota run` with only the web chat."""
    with tempfile.TemporaryDirectory() as folder:
        process = ServiceProcess(Path(folder) / "data", WSPOLNOTA_WEB_PORT=str(free_port()))
        process.start_blocking()
        try:
            yield process
        finally:
            assert process.stop_blocking(timeout=20) == 0


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium() as launched:
        yield launched


def field_staff_link(service: ServiceProcess) -> str:
    """A field account's setup link, from `wspolnota staff add` as staff make one."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", EMAIL, "--role", "field", "--web", service.url],
        cwd=REPOSITORY,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


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


async def test_field_staff_print_an_events_poster(service: ServiceProcess, browser: Browser) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    await page.goto(field_staff_link(service))
    await page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    await page.get_by_label("Hasło jeszcze raz").fill(PASSWORD)
    await page.get_by_role("button", name="Zapisz").click()
    await page.wait_for_url("**/staff/login?note=done")
    await page.get_by_label("Adres e-mail").fill(EMAIL)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url("**/staff/")

    await page.get_by_role("link", name="Wydarzenia i plakaty").click()
    await page.wait_for_url("**/staff/events")
    assert await page.locator("h1").inner_text() == "Wydarzenia i plakaty"
    row = page.locator(f'tr[data-event="{ZOLIBORZ}"]')
    assert await row.locator('[data-link="web"]').inner_text() == f"{service.url}/?event={ZOLIBORZ}"
    assert await page.locator(".qr svg").count() == await page.locator("table.events tbody tr").count() > 1
    violations = {"events": await serious_violations(page)}
    await page.screenshot(path=str(ARTEFACTS / "console-events.png"), full_page=True)

    # The bot's name given in the form: Telegram links appear beside the web chat's.
    await page.get_by_label("Nazwa bota w Telegramie").fill("wspolnota_bot")
    await page.get_by_role("button", name="Pokaż linki").click()
    await page.wait_for_url("**/staff/events?*bot=wspolnota_bot*")
    telegram = await row.locator('[data-link="telegram"]').inner_text()
    assert telegram == f"https://t.me/wspolnota_bot?start={ZOLIBORZ}"
    async with page.expect_download() as downloading:
        await row.get_by_role("link", name="Plakat z kodem do Telegrama (PDF)").click()
    download = await downloading.value
    assert download.suggested_filename == f"{ZOLIBORZ}.pdf"
    saved = await download.path()
    assert (await asyncio.to_thread(Path(saved).read_bytes)).startswith(b"%PDF")

    phone = await open_page(browser, 360, 780, problems)
    await phone.context.add_cookies(await page.context.cookies())
    await phone.goto(f"{service.url}/staff/events?lang=en")
    assert await phone.locator("h1").inner_text() == "Events and posters"
    assert await phone.evaluate("() => document.documentElement.scrollWidth <= 360")  # nothing wider than a phone
    violations["events, phone, English"] = await serious_violations(phone)
    await phone.screenshot(path=str(ARTEFACTS / "console-events-phone.png"), full_page=True)
    assert violations == {name: [] for name in violations}, violations
    assert problems == []  # no script error, no CSP violation, nothing missing

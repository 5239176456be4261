"""The staff console in Debian's Chromium against `wspolnota run`: an account added with the command,
its setup link, signing in, and the dashboard counting a resident's answers as they arrive, without a
reload; axe-core on each page; screenshots in test-artifacts/ (a laptop and a 360 px phone)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar
from axe_playwright_python.async_playwright import Axe
from openpyxl import load_workbook
from playwright.async_api import Browser, Page

from tests.support import REPOSITORY, ServiceProcess, Visitor, free_port
from tests.support.chromium import launch_chromium

ARTEFACTS = REPOSITORY / "test-artifacts"
EMAIL = "koordynatorka@um.warszawa.pl"
PASSWORD = "zielona herbata o świcie"


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    """`wspolnota run` with only the web chat, and a coordinator added by `wspolnota staff add`."""
    with tempfile.TemporaryDirectory() as folder:
        process = ServiceProcess(
            Path(folder) / "data", WSPOLNOTA_WEB_PORT=str(free_port()), WSPOLNOTA_WEB_RATE_LIMIT="0"
        )
        process.start_blocking()
        try:
            yield process
        finally:
            assert process.stop_blocking(timeout=20) == 0


def staff_command(service: ServiceProcess, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "staff", *args],
        cwd=REPOSITORY,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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


async def a_resident_answers(url: str) -> None:
    async with ClientSession(url, cookie_jar=CookieJar(unsafe=True)) as session:
        visitor = Visitor(session)  # type: ignore[arg-type]
        await visitor.open("/?lang=en&event=dzien-sasiada-zoliborz-2026-05-30")
        await visitor.press("I agree, let's start")
        await visitor.walk()
        assert "Thank you" in visitor.text


async def test_a_coordinator_watches_answers_arrive(service: ServiceProcess, browser: Browser) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    link = staff_command(service, "add", EMAIL, "--role", "coordinator", "--web", service.url).splitlines()[-1]
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    violations: dict[str, list[str]] = {}

    await page.goto(link)
    violations["setup"] = await serious_violations(page)
    await page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    await page.get_by_label("Hasło jeszcze raz").fill(PASSWORD)
    await page.get_by_role("button", name="Zapisz").click()
    await page.wait_for_url("**/staff/login?note=done")
    violations["login"] = await serious_violations(page)
    await page.screenshot(path=str(ARTEFACTS / "console-login.png"), full_page=True)

    await page.get_by_label("Adres e-mail").fill(EMAIL)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url("**/staff/")
    assert await page.locator("h1").inner_text() == "Na żywo"
    violations["dashboard"] = await serious_violations(page)
    before = int(await page.locator('[data-figure="today"]').inner_text())

    await page.evaluate("() => { window.notReloaded = true; }")
    await a_resident_answers(service.url)
    await page.wait_for_function(
        f"() => document.querySelector('[data-figure=\"today\"]').textContent === '{before + 1}'", timeout=20_000
    )
    assert await page.evaluate("() => window.notReloaded === true")  # updated in place, not reloaded
    assert "Dzień Sąsiada" in await page.locator('[data-table="by_event"]').inner_text()
    assert "czat w przeglądarce" in await page.locator('[data-table="by_channel"]').inner_text()
    await page.screenshot(path=str(ARTEFACTS / "console-dashboard.png"), full_page=True)

    # The spreadsheet for the sociologists, downloaded as a browser does and read back.
    await page.get_by_role("link", name="Dane", exact=True).click()
    await page.wait_for_url("**/staff/data")
    violations["data"] = await serious_violations(page)
    await page.locator("#export-format").select_option("xlsx")
    async with page.expect_download() as downloading:
        await page.locator("form[action$='/data/export'] button[type=submit]").click()
    download = await downloading.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = ARTEFACTS / "console-export.xlsx"
    await download.save_as(saved)
    sheet = load_workbook(saved)["submissions"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "submission" and len(rows) >= 2  # the header and the resident who just answered
    assert "dzien-sasiada-zoliborz-2026-05-30" in {cell for row in rows[1:] for cell in row}
    saved.unlink()
    await page.get_by_role("link", name="Dziennik zdarzeń").click()
    await page.wait_for_url("**/staff/audit")
    violations["audit"] = await serious_violations(page)
    assert "export" in await page.locator("table").inner_text()
    await page.get_by_role("link", name="Na żywo").click()
    await page.wait_for_url("**/staff/")

    await page.get_by_role("link", name="English").click()
    await page.wait_for_url("**/staff/?lang=en")
    assert await page.locator("h1").inner_text() == "Live"
    violations["dashboard, English"] = await serious_violations(page)

    phone = await open_page(browser, 360, 780, problems)
    await phone.context.add_cookies(await page.context.cookies())
    await phone.goto(f"{service.url}/staff/")
    assert await phone.evaluate("() => document.documentElement.scrollWidth <= 360")  # nothing wider than a phone
    await phone.screenshot(path=str(ARTEFACTS / "console-dashboard-phone.png"), full_page=True)

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/staff/login?note=out")
    assert violations == {name: [] for name in violations}, violations
    assert problems == []  # no script error, no CSP violation, nothing missing


async def test_enrolling_a_second_factor_in_the_browser(service: ServiceProcess, browser: Browser) -> None:
    import pyotp

    email = "analityk@um.warszawa.pl"
    staff_command(service, "add", email, "--role", "analyst", "--web", service.url)
    link = staff_command(service, "require-totp", email, "--web", service.url).splitlines()[-1]
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    await page.goto(link)
    assert await serious_violations(page) == []
    await page.screenshot(path=str(ARTEFACTS / "console-setup-totp.png"), full_page=True)
    uri = await page.locator(".uri code").inner_text()
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    await page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    await page.get_by_label("Hasło jeszcze raz").fill(PASSWORD)
    await page.get_by_label("Kod z aplikacji").fill(totp.now())
    await page.get_by_role("button", name="Zapisz").click()
    await page.wait_for_url("**/staff/login?note=done")
    await page.get_by_label("Adres e-mail").fill(email)
    await page.get_by_label("Hasło").fill(PASSWORD)
    # The enrolment's code is spent; the app's next one (accepted a step early, for a fast phone clock) is not.
    await page.get_by_label("Kod z aplikacji").fill(totp.at(time.time(), counter_offset=1))
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url("**/staff/")
    assert "analityk" in await page.locator("footer").inner_text()
    assert problems == []

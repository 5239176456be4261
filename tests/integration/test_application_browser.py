"""An application to the working groups in a real headless Chromium (Debian's), driven by Playwright, against
`wspolnota run` with a call open now: the code typed from the email, the limit shown, no serious
accessibility violation on the application's own pages."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from tests.support import REPOSITORY, ServiceProcess, call_around, free_port
from tests.support.chromium import launch_chromium

ARTEFACTS = REPOSITORY / "test-artifacts"


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with launch_chromium() as browser:
        yield await _phone(browser)


async def _phone(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    return await context.new_page()


def code_in(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        [(body,)] = connection.execute("SELECT body FROM outbox WHERE purpose = 'verification'").fetchall()
    found = re.search(r"\b(\d{6})\b", body)
    assert found
    return str(found.group(1))


async def next_page(page: Page, title: str) -> None:
    await page.wait_for_function("(title) => document.title.startsWith(title)", arg=title)


async def test_an_application_in_a_browser(tmp_path: Path, page: Page) -> None:
    data = tmp_path / "data"
    config = call_around(datetime.now(UTC), tmp_path / "config")
    process = ServiceProcess(data, WSPOLNOTA_WEB_PORT=str(free_port()), WSPOLNOTA_CONFIG_DIR=str(config))
    await process.start()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    axe = Axe()
    serious: dict[str, list[str]] = {}

    async def check(name: str) -> None:
        results = await axe.run(page)
        found = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
        serious[name] = [f"{v['id']}: {v['help']}" for v in found]

    try:
        await page.goto(f"{process.url}/grupy?lang=en")
        assert (await page.locator("#now").inner_text()).startswith("The working groups' call (test)")
        await check("the applicants' notice")
        await page.get_by_role("button", name="I agree, let's start").click()
        await next_page(page, "Question 1")
        await page.locator("#answer").fill("Ola Nowak")
        await page.get_by_role("button", name="Send", exact=True).click()
        await next_page(page, "Question 2")
        await page.locator("input#answer[type=email]").fill("ola@example.org")
        await page.get_by_role("button", name="Send", exact=True).click()
        await page.wait_for_function("() => document.body.innerText.includes('6-digit code')")
        await check("the code")
        await page.locator("#answer").fill(code_in(data / "wspolnota.db"))
        await page.get_by_role("button", name="Send", exact=True).click()
        await next_page(page, "Question 3")
        await page.get_by_role("button", name="Skip").click()
        await next_page(page, "Question 4")
        await page.get_by_role("button", name="Resident").click()
        await next_page(page, "Question 5")
        await page.get_by_role("button", name="Belonging to a place").click()
        await page.get_by_role("button", name="Done").click()
        await next_page(page, "Question 6")
        await page.locator("#answer").fill("I run a neighbours' club.")
        assert (await page.locator("#counter").inner_text()).strip() == "25 / 2000"  # the limit, as stated
        await page.get_by_role("button", name="Send", exact=True).click()
        await next_page(page, "Question 7")
        await check("availability")
        await page.get_by_role("button", name="Yes").click()
        await page.wait_for_selector(".summary")
        await page.get_by_role("button", name="Submit my answers").click()
        await page.wait_for_function("() => document.body.innerText.includes('Thank you, your application is saved')")
        await check("thanks")
        ARTEFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTEFACTS / "web-chat-application-thanks.png"), full_page=True)
        assert await page.get_by_role("button", name="Withdraw my application").count() == 1
    finally:
        await process.stop()
    assert problems == []
    assert serious == {name: [] for name in serious}, serious
    with sqlite3.connect(data / "wspolnota.db") as connection:
        stored = connection.execute("SELECT channel, status, email_verified, groups FROM application").fetchall()
    assert stored == [("web", "complete", 1, '["przynaleznosc"]')]

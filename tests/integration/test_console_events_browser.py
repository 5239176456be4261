"""The console's Events page in Debian's Chromium against `wspolnota run`: field staff added with the
command sign in, see every event with its links and QR code, download a poster; axe-core finds nothing
serious; screenshots in test-artifacts/ (a laptop and a 360 px phone)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser

from tests.support import ServiceProcess
from tests.support.console_browser import (
    browser_per_test,
    first_sign_in,
    fits_a_phone,
    module_service,
    open_page,
    open_phone,
    screenshot,
    serious_violations,
)

EMAIL = "teren@um.warszawa.pl"
ZOLIBORZ = "dzien-sasiada-zoliborz-2026-05-30"


service = module_service(rate_limit=None)  # `wspolnota run` with only the web chat.
browser = browser_per_test()


async def test_field_staff_print_an_events_poster(service: ServiceProcess, browser: Browser) -> None:
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    await first_sign_in(page, service, EMAIL, "field")

    await page.get_by_role("link", name="Wydarzenia i plakaty").click()
    await page.wait_for_url("**/staff/events")
    assert await page.locator("h1").inner_text() == "Wydarzenia i plakaty"
    row = page.locator(f'tr[data-event="{ZOLIBORZ}"]')
    assert await row.locator('[data-link="web"]').inner_text() == f"{service.url}/?event={ZOLIBORZ}"
    assert await page.locator(".qr svg").count() == await page.locator("table.events tbody tr").count() > 1
    violations = {"events": await serious_violations(page)}
    await screenshot(page, "console-events")

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

    phone = await open_phone(browser, page, problems)
    await phone.goto(f"{service.url}/staff/events?lang=en")
    assert await phone.locator("h1").inner_text() == "Events and posters"
    assert await fits_a_phone(phone)  # nothing wider than a phone
    violations["events, phone, English"] = await serious_violations(phone)
    await screenshot(phone, "console-events-phone")
    assert violations == {name: [] for name in violations}, violations
    assert problems == []  # no script error, no CSP violation, nothing missing

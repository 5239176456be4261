"""The staff console in Debian's Chromium against `wspolnota run`: an account added with the command,
its setup link, signing in, and the dashboard counting a resident's answers as they arrive, without a
reload; axe-core on each page; screenshots in test-artifacts/ (a laptop and a 360 px phone)."""

from __future__ import annotations

import time

from openpyxl import load_workbook
from playwright.async_api import Browser

from tests.support.console import PASSWORD
from tests.support.console_browser import (
    ARTEFACTS,
    a_resident_answers,
    browser_per_test,
    choose_password,
    command,
    fits_a_phone,
    module_service,
    open_page,
    open_phone,
    screenshot,
    serious_violations,
    setup_link,
    sign_in,
)
from tests.support.service import ServiceProcess

EMAIL = "koordynatorka@um.warszawa.pl"


service = module_service()  # `wspolnota run` with only the web chat; staff are added by `wspolnota staff add`
browser = browser_per_test()


async def test_a_coordinator_watches_answers_arrive(service: ServiceProcess, browser: Browser) -> None:
    link = setup_link(service, EMAIL, "coordinator")
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    violations: dict[str, list[str]] = {}

    await page.goto(link)
    violations["setup"] = await serious_violations(page)
    await choose_password(page)
    violations["login"] = await serious_violations(page)
    await screenshot(page, "console-login")

    await sign_in(page, EMAIL)
    await page.wait_for_url("**/staff/")
    assert await page.locator("h1").inner_text() == "Na żywo"
    violations["dashboard"] = await serious_violations(page)
    before = int(await page.locator('[data-figure="today"]').inner_text())

    await page.evaluate("() => { window.notReloaded = true; }")
    await a_resident_answers(service.url, "/?lang=en&event=dzien-sasiada-zoliborz-2026-05-30")
    await page.wait_for_function(
        f"() => document.querySelector('[data-figure=\"today\"]').textContent === '{before + 1}'", timeout=20_000
    )
    assert await page.evaluate("() => window.notReloaded === true")  # updated in place, not reloaded
    assert "Dzień Sąsiada" in await page.locator('[data-table="by_event"]').inner_text()
    assert "czat w przeglądarce" in await page.locator('[data-table="by_channel"]').inner_text()
    await screenshot(page, "console-dashboard")

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

    phone = await open_phone(browser, page, problems)
    await phone.goto(f"{service.url}/staff/")
    assert await fits_a_phone(phone)  # nothing wider than a phone
    await screenshot(phone, "console-dashboard-phone")

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/staff/login?note=out")
    assert violations == {name: [] for name in violations}, violations
    assert problems == []  # no script error, no CSP violation, nothing missing


async def test_enrolling_a_second_factor_in_the_browser(service: ServiceProcess, browser: Browser) -> None:
    import pyotp

    email = "analityk@um.warszawa.pl"
    command(service, "staff", "add", email, "--role", "analyst", "--web", service.url)
    link = command(service, "staff", "require-totp", email, "--web", service.url).splitlines()[-1]
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    await page.goto(link)
    assert await serious_violations(page) == []
    await screenshot(page, "console-setup-totp")
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

    # A session that ends while the dashboard is open (here: the account disabled) takes the page to the
    # sign-in form, which says so and leads back to the dashboard, not to its figures.
    command(service, "staff", "add", "zapas@um.warszawa.pl", "--role", "coordinator")  # the console stays on
    command(service, "staff", "disable", email)
    await page.wait_for_url("**/staff/login?**note=expired**", timeout=20_000)
    assert "Sesja wygasła" in await page.locator("main").inner_text()
    assert await page.locator("input[name=next]").get_attribute("value") == "/staff/"
    assert problems == []

"""The Staff accounts page in Debian's Chromium against `wspolnota run`: a coordinator adds an analyst (the
setup link shown once), requires a second factor and disables an account, with the keyboard-reachable forms
a browser shows; axe-core on the page; a screenshot in test-artifacts/console-team.png."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.support import ServiceProcess
from tests.support.console_browser import (
    browser_per_test,
    first_sign_in,
    fits_a_phone,
    module_service,
    open_page,
    screenshot,
    serious_violations,
    set_password,
)

COORDINATOR, ANALYST = "koordynatorka@um.warszawa.pl", "analityk@um.warszawa.pl"


service = module_service()  # `wspolnota run` with only the web chat.
browser = browser_per_test()


async def test_a_coordinator_manages_the_team(service: ServiceProcess, browser: Browser) -> None:
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    violations: dict[str, list[str]] = {}

    await first_sign_in(page, service, COORDINATOR, "coordinator")
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
    await screenshot(page, "console-team")

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
    assert await fits_a_phone(page)
    violations["team on a phone"] = await serious_violations(page)

    assert violations == {name: [] for name in violations}
    assert problems == []

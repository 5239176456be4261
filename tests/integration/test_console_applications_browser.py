"""The working groups' applications in the staff console, in Debian's Chromium against `wspolnota run` with a
call open now: a coordinator filters the list, opens an application, excludes it with a reason and sees it
excluded; axe-core on the list and the application; screenshots in test-artifacts/ (laptop and phone)."""

from __future__ import annotations

from playwright.async_api import Browser, Page

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

EMAIL = "koordynatorka@um.warszawa.pl"
APPLICANTS = [  # who, sector, groups: Z-1 … Z-3
    ("ola", "ngo", ("otwartosc", "aktywnosc")),
    ("piotr", "resident", ("otwartosc",)),
    ("rafal", "city_hall", ("aktywnosc",)),
]


async def _seed(service: Service) -> None:
    """Three applications and a coordinator, stored before the service starts (the same database)."""
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


# `wspolnota run` with the web chat and a call open now, its applications and coordinator seeded.
service = module_service(call_open_now(_seed))
browser = browser_per_test()


async def references(page: Page) -> list[str]:
    return await page.locator(".applications-table tbody th a").all_inner_texts()


async def test_a_coordinator_filters_opens_and_excludes_an_application(
    service: ServiceProcess, browser: Browser
) -> None:
    problems: list[str] = []
    page = await open_page(browser, 1100, 900, problems)
    violations: dict[str, list[str]] = {}
    await page.goto(f"{service.url}/staff/groups/applications")
    assert "/staff/login?next=" in page.url, page.url
    await sign_in(page, EMAIL)
    await page.wait_for_url("**/staff/groups/applications")
    assert await page.locator("h1").inner_text() == "Zgłoszenia do grup roboczych"
    assert await references(page) == ["Z-1", "Z-2", "Z-3"]
    assert "Testowy" not in await page.locator(".applications-table").inner_text()  # no names in the list

    await page.get_by_label("Grupa", exact=True).select_option("aktywnosc")
    await page.get_by_role("button", name="Pokaż").click()
    await page.wait_for_url("**/staff/groups/applications?group=aktywnosc*")
    assert await references(page) == ["Z-1", "Z-3"]
    violations["list"] = await serious_violations(page)
    await screenshot(page, "console-applications")

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
    await screenshot(page, "console-application")

    await page.get_by_role("link", name="Wszystkie zgłoszenia").click()
    await page.get_by_label("Stan").select_option("excluded")
    await page.get_by_role("button", name="Pokaż").click()
    await page.wait_for_url("**status=excluded*")
    assert await references(page) == ["Z-3"]

    phone = await open_phone(browser, page, problems)
    for path in ("/staff/groups/applications", "/staff/groups/applications/Z-1"):
        await phone.goto(f"{service.url}{path}")
        assert await fits_a_phone(phone), path  # tables scroll inside
    await screenshot(phone, "console-application-phone")
    assert violations == {name: [] for name in violations}, violations
    assert problems == []

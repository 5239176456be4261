"""People's requests in Debian's Chromium against `wspolnota run`: a paper form imported with `wspolnota import`,
a coordinator finds it by its id, sees what would be erased, confirms, sees the counts erased, and a second
search finds nothing; axe-core on the preview and after; a screenshot in test-artifacts/console-people.png."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Page

from tests.support import ServiceProcess
from tests.support.console_browser import (
    browser_per_test,
    command,
    first_sign_in,
    open_page,
    screenshot,
    serious_violations,
    web_service,
)

EMAIL = "koordynatorka@um.warszawa.pl"
# One paper form typed into the export's wide layout, as `wspolnota import` reads it.
PAPER_FORM = {
    "submission": "P-0001",
    "language": "pl",
    "event": "dzien-sasiada-zoliborz-2026-05-30",
    "finished_at": "2026-05-30T15:20:00+02:00",
    "district": "zoliborz",
    "community_meaning": "Sąsiedzi pomagają sobie nawzajem.",
    "values": "trust, openness",
    "connection": "4",
    "quote_consent": "yes",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """`wspolnota run` with only the web chat, a paper form imported, a coordinator added by `staff add`."""
    with web_service() as process:
        forms = tmp_path_factory.mktemp("paper") / "forms.csv"
        with forms.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, list(PAPER_FORM), lineterminator="\r\n")
            writer.writeheader()
            writer.writerow(PAPER_FORM)
        command(process, "import", str(forms))
        yield process


browser = browser_per_test()


async def search(page: Page, kind: str, value: str) -> None:
    await page.get_by_label("Rodzaj identyfikatora").select_option(label=kind)
    await page.get_by_label("Identyfikator", exact=True).fill(value)
    await page.get_by_role("button", name="Pokaż, co jest zapisane").click()
    await page.wait_for_selector("#people-preview-heading")


async def test_a_coordinator_erases_a_paper_form_on_request(service: ServiceProcess, browser: Browser) -> None:
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)
    await first_sign_in(page, service, EMAIL, "coordinator")

    await page.get_by_role("link", name="Prośby mieszkańców").click()
    await page.wait_for_url("**/staff/people")
    await search(page, "Numer ankiety papierowej (np. P-0001)", "P-0001")
    assert await page.locator("#people-preview [data-count='respondents']").inner_text() == "1"
    assert await page.locator("#people-preview [data-count='completed']").inner_text() == "1"
    assert "P-0001" not in page.url
    violations = {"preview": await serious_violations(page)}
    await screenshot(page, "console-people")

    await page.get_by_label("Rozumiem, że tego nie można cofnąć").check()
    await page.get_by_role("button", name="Usuń wszystko o tej osobie").click()
    await page.wait_for_url("**/staff/people?note=erased&*")
    assert "P-0001" not in page.url
    assert await page.locator("#people-erased [data-count='completed']").inner_text() == "1"
    violations["erased"] = await serious_violations(page)

    await search(page, "Numer ankiety papierowej (np. P-0001)", "P-0001")
    assert await page.get_by_text("Nic nie jest zapisane o tej osobie.").is_visible()
    assert await page.locator("#people-preview").count() == 0
    assert violations == {name: [] for name in violations}, violations
    assert problems == []  # no script error, no CSP violation, nothing missing

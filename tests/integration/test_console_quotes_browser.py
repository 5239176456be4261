"""The Quotes page in Debian's Chromium against `wspolnota run`: two residents answer in the web chat and allow
quoting, a coordinator approves one's words and rejects the other's, then downloads the public report from
the Data page and opens it: the approved quote is there, the rejected one is not. axe-core on the page;
a screenshot in test-artifacts/console-quotes.png."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser

from tests.support import ServiceProcess
from tests.support.console_browser import (
    a_resident_answers,
    browser_per_test,
    first_sign_in,
    module_service,
    open_page,
    screenshot,
    serious_violations,
)

EMAIL = "koordynatorka@um.warszawa.pl"
KEPT = "Więcej zieleni i ławek przy szkole"
DROPPED = "Mniej samochodów pod blokiem"


service = module_service()  # `wspolnota run` with only the web chat.
browser = browser_per_test()


async def test_a_coordinator_approves_a_quote_and_the_public_report_shows_only_it(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    await a_resident_answers(service.url, text=KEPT)
    await a_resident_answers(service.url, text=DROPPED)
    problems: list[str] = []
    page = await open_page(browser, 1000, 900, problems)

    await first_sign_in(page, service, EMAIL, "coordinator")

    await page.get_by_role("link", name="Cytaty").click()
    await page.wait_for_url("**/staff/quotes")
    assert await page.locator("h1").inner_text() == "Cytaty do raportu publicznego"
    assert await page.get_by_role("link", name="Do decyzji (8)").count() == 1  # four open questions each
    assert await serious_violations(page) == []
    await screenshot(page, "console-quotes")

    # The first quote of each resident is their answer to the first open question.
    kept = page.locator("li.quote", has=page.locator("blockquote", has_text=KEPT)).first
    kept_id = await kept.get_attribute("id")
    await kept.get_by_role("button", name="Zatwierdź").click()
    await page.wait_for_url(re.compile(r".*/staff/quotes\?.*note=approved#quote-"))
    assert await page.get_by_role("status").inner_text() == "Cytat zatwierdzony."
    assert await page.locator(f"#{kept_id}").count() == 0  # decided: no longer to decide
    dropped = page.locator("li.quote", has=page.locator("blockquote", has_text=DROPPED)).first
    await dropped.get_by_role("button", name="Odrzuć").click()
    await page.wait_for_url(re.compile(r".*note=rejected.*"))
    assert await page.get_by_role("link", name="Zatwierdzone (1)").count() == 1
    assert await page.get_by_role("link", name="Odrzucone (1)").count() == 1
    assert await serious_violations(page) == []

    await page.get_by_role("link", name="Dane").click()
    await page.wait_for_url("**/staff/data")
    report = page.locator("section", has=page.get_by_role("heading", name="Raport", exact=True))
    await report.get_by_label("Format").select_option("html")
    await report.get_by_label("Raport publiczny").check()
    async with page.expect_download() as downloading:
        await report.get_by_role("button", name="Pobierz").click()
    download = await downloading.value
    assert "public-report" in download.suggested_filename
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)

    opened = await page.context.new_page()
    await opened.goto(saved.as_uri())
    quotes = [text.strip() for text in await opened.locator("blockquote").all_inner_texts()]
    assert quotes == [KEPT]  # the approved one, once; not the rejected one, nor any undecided
    assert DROPPED not in await opened.locator("body").inner_text()
    assert problems == []  # no script error, no CSP violation

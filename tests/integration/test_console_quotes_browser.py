"""The Quotes page in Debian's Chromium against `wspolnota run`: two residents answer in the web chat and allow
quoting, a coordinator approves one's words and rejects the other's, then downloads the public report from
the Data page and opens it: the approved quote is there, the rejected one is not. axe-core on the page;
a screenshot in test-artifacts/console-quotes.png."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from tests.support import REPOSITORY, ServiceProcess, Visitor, free_port
from tests.support.chromium import launch_chromium

ARTEFACTS = REPOSITORY / "test-artifacts"
EMAIL = "koordynatorka@um.warszawa.pl"
PASSWORD = "zielona herbata o świcie"
KEPT = "Więcej zieleni i ławek przy szkole"
DROPPED = "Mniej samochodów pod blokiem"


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


def setup_link(service: ServiceProcess) -> str:
    """A coordinator added by `wspolnota staff add`: the setup link it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", EMAIL, "--role", "coordinator", "--web", service.url],
        cwd=REPOSITORY,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


async def a_resident_answers(url: str, text: str) -> None:
    """A resident answers every question in the web chat (the open ones with `text`) and allows quoting."""
    async with ClientSession(url, cookie_jar=CookieJar(unsafe=True)) as session:
        visitor = Visitor(session)  # type: ignore[arg-type]
        await visitor.open("/?lang=en")
        await visitor.press("I agree, let's start")
        await visitor.walk(text)  # the first choice everywhere: "Yes" to being quoted
        assert "Thank you" in visitor.text


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    assert len(results.response["passes"]) > 10  # axe ran its rules here
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def test_a_coordinator_approves_a_quote_and_the_public_report_shows_only_it(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    await a_resident_answers(service.url, KEPT)
    await a_resident_answers(service.url, DROPPED)
    link = setup_link(service)
    problems: list[str] = []
    context = await browser.new_context(viewport={"width": 1000, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    await page.goto(link)
    await page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    await page.get_by_label("Hasło jeszcze raz").fill(PASSWORD)
    await page.get_by_role("button", name="Zapisz").click()
    await page.wait_for_url("**/staff/login?note=done")
    await page.get_by_label("Adres e-mail").fill(EMAIL)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url("**/staff/")

    await page.get_by_role("link", name="Cytaty").click()
    await page.wait_for_url("**/staff/quotes")
    assert await page.locator("h1").inner_text() == "Cytaty do raportu publicznego"
    assert await page.get_by_role("link", name="Do decyzji (8)").count() == 1  # four open questions each
    assert await serious_violations(page) == []
    await page.screenshot(path=str(ARTEFACTS / "console-quotes.png"), full_page=True)

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

    opened = await context.new_page()
    await opened.goto(saved.as_uri())
    quotes = [text.strip() for text in await opened.locator("blockquote").all_inner_texts()]
    assert quotes == [KEPT]  # the approved one, once; not the rejected one, nor any undecided
    assert DROPPED not in await opened.locator("body").inner_text()
    assert problems == []  # no script error, no CSP violation

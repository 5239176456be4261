"""People's requests in Debian's Chromium against `wspolnota run`: a paper form imported with `wspolnota import`,
a coordinator finds it by its id, sees what would be erased, confirms, sees the counts erased, and a second
search finds nothing; axe-core on the preview and after; a screenshot in test-artifacts/console-people.png."""

from __future__ import annotations

import csv
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
EMAIL = "koordynatorka@um.warszawa.pl"
PASSWORD = "zielona herbata o świcie"
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
def service() -> Iterator[ServiceProcess]:
    """`wspolnota run` with only the web chat, a paper form imported, a coordinator added by `staff add`."""
    with tempfile.TemporaryDirectory() as folder:
        process = ServiceProcess(
            Path(folder) / "data", WSPOLNOTA_WEB_PORT=str(free_port()), WSPOLNOTA_WEB_RATE_LIMIT="0"
        )
        process.start_blocking()
        try:
            forms = Path(folder) / "forms.csv"
            with forms.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.DictWriter(out, list(PAPER_FORM), lineterminator="\r\n")
                writer.writeheader()
                writer.writerow(PAPER_FORM)
            command(process, "import", str(forms))
            yield process
        finally:
            assert process.stop_blocking(timeout=20) == 0


def command(service: ServiceProcess, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
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


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    assert len(results.response["passes"]) > 10  # axe ran its rules here
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def search(page: Page, kind: str, value: str) -> None:
    await page.get_by_label("Rodzaj identyfikatora").select_option(label=kind)
    await page.get_by_label("Identyfikator", exact=True).fill(value)
    await page.get_by_role("button", name="Pokaż, co jest zapisane").click()
    await page.wait_for_selector("#people-preview-heading")


async def test_a_coordinator_erases_a_paper_form_on_request(service: ServiceProcess, browser: Browser) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    link = command(service, "staff", "add", EMAIL, "--role", "coordinator", "--web", service.url).splitlines()[-1]
    context = await browser.new_context(viewport={"width": 1000, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
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

    await page.get_by_role("link", name="Prośby mieszkańców").click()
    await page.wait_for_url("**/staff/people")
    await search(page, "Numer ankiety papierowej (np. P-0001)", "P-0001")
    assert await page.locator("#people-preview [data-count='respondents']").inner_text() == "1"
    assert await page.locator("#people-preview [data-count='completed']").inner_text() == "1"
    assert "P-0001" not in page.url
    violations = {"preview": await serious_violations(page)}
    await page.screenshot(path=str(ARTEFACTS / "console-people.png"), full_page=True)

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

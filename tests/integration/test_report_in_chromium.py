"""The report opens in a real headless Chromium (Debian's) without errors, with its charts; printed to PDF
by the same browser, nothing is lost on paper, and its pages are kept as PNGs to look at."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.service import Service
from handlers.definitions.population import load_population
from reports.report import gather, render_report
from reports.report_build import ReportRequest, build_report
from reports.report_pdf import print_pdf
from storage.exports import SubmissionFilter
from tests.support import QUESTIONNAIRE, REPOSITORY, TEST_CONFIG, FakeClock, seed
from tests.support.chromium import chromium
from tests.support.extras import require_tool
from tests.support.report_data import seed as seed_report_data


async def test_report_opens_in_chromium(service: Service, clock: FakeClock, tmp_path: Path) -> None:
    browser = chromium()
    await seed(service)
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    filters = SubmissionFilter(questionnaire.id)
    html = render_report(questionnaire, await gather(service.store, questionnaire, filters), filters, clock(), 2)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom, console, shot = await asyncio.to_thread(browse, browser, page, tmp_path)
    assert len(re.findall(r'<img alt="Wykres słupkowy: [^"]+" src="data:image/png;base64,', dom)) >= 4  # the charts
    assert "<script" not in dom.lower()
    assert "Uncaught" not in console and "Refused to" not in console, console[-2000:]
    assert len(shot) > 10_000


def browse(browser: str, page: Path, tmp_path: Path) -> tuple[str, str, bytes]:
    """Loads the page as a person's browser would: its DOM, the console, a screenshot (kept as an artefact)."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    )
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1000,1600", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    artefacts = REPOSITORY / "test-artifacts"
    artefacts.mkdir(exist_ok=True)
    shutil.copy(shot, artefacts / "report.png")
    return dom.stdout, dom.stderr, shot.read_bytes()


async def test_report_printed_to_pdf_keeps_every_table(service: Service, clock: FakeClock, tmp_path: Path) -> None:
    browser = chromium()
    for tool in ("pdfinfo", "pdftotext", "pdftoppm"):  # read_pdf's three
        require_tool(tool, "poppler-utils")
    await seed_report_data(service)
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    population = load_population(REPOSITORY / "config" / "population.yaml")
    request = ReportRequest(SubmissionFilter(QUESTIONNAIRE), 5, False, population)
    built = await build_report(service.store, questionnaire, service.config.events, request, clock())
    pdf = tmp_path / "report.pdf"
    await asyncio.to_thread(print_pdf, built.html, pdf, browser)
    artefacts = REPOSITORY / "test-artifacts" / "report-pdf"
    pages, info, text = await asyncio.to_thread(read_pdf, pdf, artefacts)
    assert pages > 1 and "A4" in info
    # every breakdown and data table made it to paper (a closed <details> would have lost them)
    for caption in ("Według grupy wieku", "Według języka", "Według dzielnicy", "Dane wykresu"):
        assert text.count(caption) == built.html.count(f"<caption>{caption}") >= 2, caption
    assert "Praga-Południe" in text and "praga_poludnie" not in text
    assert f"strona 1 z {pages}" in text and f"strona {pages} z {pages}" in text  # the footer's page numbers
    assert "file://" not in text  # no browser header or footer
    assert len(list(artefacts.glob("page-*.png"))) == pages


def read_pdf(pdf: Path, artefacts: Path) -> tuple[int, str, str]:
    """The PDF's page count, its pdfinfo and its text; its pages kept as PNGs (with the PDF) to look at."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Pages:\s+(\d+)", info)
    assert found is not None, info
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    shutil.rmtree(artefacts, ignore_errors=True)
    artefacts.mkdir(parents=True)
    shutil.copy(pdf, artefacts / "report.pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(artefacts / "page")], check=True, timeout=120)
    return int(found.group(1)), info, text


def test_report_command_writes_a_pdf(tmp_path: Path) -> None:
    """`wspolnota report --format pdf` as staff run it, with Chromium found on PATH."""
    chromium()
    config = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config)
    env = {
        "WSPOLNOTA_DATA_DIR": str(tmp_path / "data"),
        "WSPOLNOTA_SECRET_KEY": "k" * 43,
        "WSPOLNOTA_CONFIG_DIR": str(config),
        "WSPOLNOTA_WEB_ENABLED": "false",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["chat"], env=env, input="1\nSąsiedzi\n").exit_code == 0
    out = tmp_path / "raport.pdf"
    result = runner.invoke(main, ["report", "--format", "pdf", "--min-cell", "1", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out} (1 submission)." in result.output and out.read_bytes().startswith(b"%PDF-")

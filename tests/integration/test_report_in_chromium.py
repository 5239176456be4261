"""The report opens in a real headless Chromium (Debian's) without errors, with its charts."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

from bot.service import Service
from reports.report import gather, render_report
from storage.exports import SubmissionFilter
from tests.support import QUESTIONNAIRE, REPOSITORY, FakeClock, seed
from tests.support.chromium import chromium


async def test_report_opens_in_chromium(service: Service, clock: FakeClock, tmp_path: Path) -> None:
    browser = chromium()
    await seed(service)
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    filters = SubmissionFilter(questionnaire.id)
    html = render_report(questionnaire, await gather(service.store, questionnaire, filters), filters, clock(), 2)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom, console, shot = await asyncio.to_thread(browse, browser, page, tmp_path)
    assert len(re.findall(r'<img alt="" src="data:image/png;base64,', dom)) >= 4  # the charts
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

"""`wspolnota report` as staff run it: HTML and PDF, a clear line without Chromium, a warning and no file
when nothing matches, and --public with no quote that staff did not approve."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.service import open_service
from bot.settings import load_settings
from storage.models import AuditEntry
from tests.support import REPOSITORY, TEST_CONFIG
from tests.support.report_data import seed

KEY = "k" * 43


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config)
    shutil.copy(REPOSITORY / "config" / "population.yaml", config / "population.yaml")
    return {
        "WSPOLNOTA_DATA_DIR": str(tmp_path / "data"),
        "WSPOLNOTA_SECRET_KEY": KEY,
        "WSPOLNOTA_CONFIG_DIR": str(config),
        "WSPOLNOTA_WEB_ENABLED": "false",
    }


def seeded(env: dict[str, str]) -> dict[str, str]:
    async def go() -> None:
        async with open_service(load_settings(env, env_file=None)) as service:
            await seed(service)

    asyncio.run(go())
    return env


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["report", *args], env=env, catch_exceptions=False)


def audited(env: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    async def read() -> list[tuple[str, dict[str, Any]]]:
        async with open_service(load_settings(env, env_file=None)) as service, service.store.sessions() as session:
            return [(e.action, e.details) for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]

    return asyncio.run(read())


def test_html_report_has_names_map_and_bases(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "raport.html"
    result = invoke(seeded(env), "--out", str(out))
    assert result.exit_code == 0 and f"Wrote {out} (65 submissions)." in result.output
    # audited once written: who, how, how many — never what it says
    [details] = [details for action, details in audited(env) if action == "report"]
    assert details["format"] == "html" and details["public"] is False and details["submissions"] == 65
    html = out.read_text(encoding="utf-8")
    assert "n = 62 zakończonych zgłoszeń; 3 niezakończonych nie liczymy" in html
    assert 'class="map"' in html and "Praga-Południe" in html
    assert "Kto odpowiedział, a kto mieszka w Warszawie" in html and "Indeks niepodobieństwa" in html


def test_pdf_without_chromium_is_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "raport.pdf"
    result = invoke(
        {**seeded(env), "WSPOLNOTA_CHROMIUM": "/nonexistent/chromium"}, "--format", "pdf", "--out", str(out)
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == (
        "Error: WSPOLNOTA_CHROMIUM=/nonexistent/chromium: no such program; point it at Chromium or Chrome,"
        " or write the report with --format html"
    )
    assert not out.exists() and not [entry for entry in audited(env) if entry[0] == "report"]
    nothing_on_path = invoke({**env, "PATH": str(tmp_path)}, "--format", "pdf", "--out", str(out))
    assert nothing_on_path.exit_code == 1
    assert (
        "install it (apt-get install chromium)" in nothing_on_path.output and "--format html" in nothing_on_path.output
    )


def test_no_matching_submission_is_a_warning_and_no_file(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "raport.html"
    result = invoke(env, "--out", str(out), "--since", "2030-01-01")
    assert result.exit_code == 0 and "Warning: no submissions match these filters; no report written." in result.output
    assert not out.exists()


def test_public_report_without_approvals_quotes_nobody(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "raport.html"
    internal = tmp_path / "wewnetrzny.html"
    assert invoke(seeded(env), "--out", str(internal)).exit_code == 0
    assert "<blockquote>" in internal.read_text(encoding="utf-8")
    result = invoke(env, "--public", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Warning: no quotes are approved yet" in result.output
    html = out.read_text(encoding="utf-8")
    assert "<blockquote>" not in html and "żadnej nie zatwierdzono do publikacji" in html


def test_public_report_quotes_exactly_what_staff_approved(env: dict[str, str], tmp_path: Path) -> None:
    review = tmp_path / "quotes.csv"
    runner = CliRunner()
    reviewed = runner.invoke(main, ["quotes", "review", "--out", str(review)], env=seeded(env))
    assert reviewed.exit_code == 0, reviewed.output
    rows = list(csv.DictReader(io.StringIO(review.read_text(encoding="utf-8-sig"))))
    assert len(rows) > 1
    rows[0]["approved"], rows[0]["text"] = "tak", "Podwórko nas łączy (po redakcji)."
    rows[1]["approved"] = "nie"
    with review.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    approved = runner.invoke(main, ["quotes", "approve", str(review)], env=env)
    assert approved.exit_code == 0, approved.output
    out = tmp_path / "raport.html"
    assert invoke(env, "--public", "--out", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert re.findall(r"<blockquote>(.*?)</blockquote>", html) == ["Podwórko nas łączy (po redakcji)."]

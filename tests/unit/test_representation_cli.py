"""`wspolnota stats`, Telegram's /stats and `wspolnota weights` as staff use them: the comparison with the
residents in Polish (or English), the weights file with its summary and audit entry, and clear messages
when there is nothing to weight."""

from __future__ import annotations

import asyncio
import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.service import open_service
from bot.settings import load_settings
from storage.models import AuditEntry
from tests.support import TEST_CONFIG, service_environment
from tests.support.population import PLANTED, POPULATION_YAML, plant


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The tests' configuration with a population file."""
    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    (config_dir / "population.yaml").write_text(POPULATION_YAML, encoding="utf-8")
    return service_environment(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config_dir))


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def seed(env: dict[str, str]) -> list[int]:
    async def go() -> list[int]:
        async with open_service(load_settings(env, env_file=None)) as service:
            return await plant(service, PLANTED)

    return asyncio.run(go())


def test_stats_in_polish_by_default_with_who_is_missing(env: dict[str, str]) -> None:
    seed(env)
    result = invoke(env, "stats")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Ukończone: 105 (dziś 0)\n")
    assert "Kto odpowiedział, a kto tu mieszka (GUS, stan na 2024-06-30)" in out
    assert "  Rembertów: 0 (0,0%) · mieszkańcy 5,0% · oczekiwane 5 (−5)" in out
    assert "Najbardziej brakuje teraz:\n  60–74 lata: 20 z oczekiwanych 55\n  Rembertów: 0 z oczekiwanych 5\n" in out

    english = invoke({**env, "WSPOLNOTA_STAFF_LANGUAGE": "en"}, "stats")
    assert english.exit_code == 0 and english.stdout.startswith("Completed: 105 (today 0)\n")
    assert "Most missing now:\n  60–74: 20 of an expected 55\n  Rembertów: 0 of an expected 5\n" in english.stdout

    wrong = invoke({**env, "WSPOLNOTA_STAFF_LANGUAGE": "uk"}, "stats")
    assert wrong.exit_code == 1 and "WSPOLNOTA_STAFF_LANGUAGE" in wrong.output and "Traceback" not in wrong.output


def test_telegram_stats_show_the_same_comparison(env: dict[str, str]) -> None:
    seed(env)

    async def stats() -> str:
        async with open_service(load_settings(env, env_file=None)) as service:
            return await service.staff.stats()  # what Telegram's /stats sends

    text = asyncio.run(stats())
    assert "Dzielnice — ankiet z odpowiedzią: 100" in text and "  Rembertów: 0 z oczekiwanych 5" in text
    assert len(text) < 4096  # one Telegram message


def test_stats_on_an_empty_database_says_so(env: dict[str, str]) -> None:
    result = invoke(env, "stats")
    assert result.exit_code == 0, result.output
    assert "Dzielnice: nikt jeszcze nie odpowiedział" in result.stdout


def test_weights_file_summary_and_audit(env: dict[str, str], tmp_path: Path) -> None:
    ids = seed(env)
    out = tmp_path / "weights.csv"

    result = invoke(env, "weights", "--out", str(out))

    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["submission"]) for row in rows] == ids  # every completed submission, in order
    weights = {int(row["submission"]): row["weight"] for row in rows}
    empty = [sid for sid, w in weights.items() if w == ""]
    assert len(empty) == 3  # the three from outside Warsaw
    given = [float(w) for w in weights.values() if w]
    assert sum(given) / len(given) == pytest.approx(1, abs=1e-5)
    assert "Wagi do: Dzielnice, Wiek — zważonych ankiet: 102" in result.stderr
    assert "Efekt schematu (Kish): " in result.stderr and "Nikt nie odpowiedział z: Rembertów" in result.stderr
    assert f"Wrote 105 rows to {out}." in result.stderr

    async def audited() -> list[dict[str, object]]:
        async with open_service(load_settings(env, env_file=None)) as service, service.store.sessions() as session:
            return [entry.details for entry in await session.scalars(select(AuditEntry))]

    [entry] = asyncio.run(audited())
    assert entry["what"] == "weights" and entry["format"] == "csv"

    stdout = invoke(env, "weights", "--cap", "2")
    assert stdout.exit_code == 0 and stdout.stdout.lstrip("\ufeff").startswith("submission,weight")
    assert "Przycięte do granic [0,50; 2,0] × średnia" in stdout.stderr


def test_weights_with_nothing_to_weight_warn_and_write_nothing(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "weights.csv"
    result = invoke(env, "weights", "--out", str(out))
    assert result.exit_code == 0 and not out.exists()
    assert "Warning: questionnaire 'sasiedztwo': no completed submissions yet; nothing written." in result.stderr


@pytest.mark.parametrize(
    ("change", "args", "expected"),
    [
        ("remove", [], "Error: no "),
        ("empty", [], "has no residents' figures filled in: nothing to weight to"),
        (None, ["-q", "nope"], "Error: --questionnaire: no such questionnaire 'nope'"),
        (None, ["--out", "/nonexistent/w.csv"], "Error: cannot write /nonexistent/w.csv"),
        (None, ["--cap", "1"], "Invalid value for '--cap'"),
    ],
)
def test_weights_errors_are_one_clear_line(
    env: dict[str, str], change: str | None, args: list[str], expected: str
) -> None:
    population = Path(env["WSPOLNOTA_CONFIG_DIR"]) / "population.yaml"
    if change == "remove":
        population.unlink()
    elif change == "empty":
        population.write_text(POPULATION_YAML.replace("{mokotow: 500, wola: 300, ursus: 150, rembertow: 50}", "{}"))
        population.write_text(population.read_text().replace("{age_18_29: 400, age_60_74: 600}", "{}"))
    result = invoke(env, "weights", *args)
    assert result.exit_code != 0 and expected in result.output, result.output
    assert "Traceback" not in result.output

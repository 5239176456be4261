"""Staff commands on bad input: one line naming the file, key or setting and the fix; never a traceback."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.service import open_service
from bot.settings import load_settings
from storage.models import Answer, Respondent, Submission
from tests.support import QUESTIONNAIRE, TEST_CONFIG

WSPOLNOTA = Path(sys.executable).with_name("wspolnota")
KEY = "k" * 43  # as long as a generated key would be


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config)
    return {
        "WSPOLNOTA_DATA_DIR": str(tmp_path / "data"),
        "WSPOLNOTA_SECRET_KEY": KEY,
        "WSPOLNOTA_CONFIG_DIR": str(config),
        "WSPOLNOTA_WEB_ENABLED": "false",
    }


def invoke(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def one_line_error(result: Result) -> str:
    """The command failed with status 1 and said why in one line, with no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_impossible_event_date_is_a_problem_with_file_and_key_in_check_and_run(env: dict[str, str]) -> None:
    events = Path(env["WSPOLNOTA_CONFIG_DIR"]) / "events.yaml"
    edit(events, "starts: 2026-05-30T14:00:00+02:00", "starts: 2026-02-30T14:00:00+02:00")
    for command in ("check", "run"):
        line = one_line_error(invoke(env, command))
        assert f"{events}: events[dzien-sasiada-zoliborz-2026-05-30].starts: '2026-02-30T14:00:00+02:00'" in line
        assert "is not a real date and time (day value is outside expected range)" in line


def test_check_lists_every_problem_of_every_file_and_setting_at_once(env: dict[str, str]) -> None:
    config = Path(env["WSPOLNOTA_CONFIG_DIR"])
    questionnaire = config / "questionnaires" / f"{QUESTIONNAIRE}.yaml"
    edit(questionnaire, "max_choices: 3", "max_choice: 3")  # schema
    edit(questionnaire, "    min: 1\n    max: 5\n", "    min: 1\n    max: 1\n")  # semantic, same file
    edit(config / "events.yaml", "ends: 2026-05-30T18:00:00+02:00", "ends: 2026-05-30T12:00:00+02:00")  # semantic
    edit(config / "events.yaml", "kind: consultation_meeting", "kind: picnic")  # schema, same file
    with (config / "messages.yaml").open("a", encoding="utf-8") as messages:
        messages.write("\nnot_a_message:\n  pl: a\n  en: b\n  uk: c\n")
    result = invoke({**env, "WSPOLNOTA_LOG_LEVEL": "LOUD", "WSPOLNOTA_SECRET_KEY": "short"}, "check")
    assert result.exit_code == 1 and "Traceback" not in result.output
    for expected in [
        "environment: WSPOLNOTA_LOG_LEVEL: use DEBUG, INFO, WARNING or ERROR",
        "environment: WSPOLNOTA_SECRET_KEY: too short",
        f"{questionnaire}: questions[values].max_choice: unknown key (a typo?)",
        f"{questionnaire}: questions[connection].max: must be greater than `min`",
        f"{config / 'events.yaml'}: events[dzien-sasiada-zoliborz-2026-05-30].ends: must be later than `starts`",
        f"{config / 'events.yaml'}: events[spotkanie-konsultacyjne-2026-05-29].kind: Input should be",
        f"{config / 'messages.yaml'}: not_a_message: unknown message key (a typo?)",
    ]:
        assert expected in result.output, result.output
    assert "Configuration has 7 problems:" in result.output


def test_check_passes_and_names_the_database(env: dict[str, str]) -> None:
    result = invoke(env, "check")
    assert result.exit_code == 0, result.output
    assert "OK database:" in result.output and "(created on first use)" in result.output


def seed(env: dict[str, str], submissions: int) -> None:
    """Stores many completed submissions with a long answer each (enough to fill a pipe's buffer)."""

    async def go() -> None:
        async with open_service(load_settings(env, env_file=None)) as service, service.store.unit() as unit:
            at = datetime(2026, 5, 30, 10, tzinfo=UTC)
            for n in range(submissions):
                respondent = Respondent(channel="web", pseudonym=f"{n:064d}", created_at=at)
                unit.add(respondent)
                await unit.flush()
                submission = Submission(
                    respondent_id=respondent.id,
                    questionnaire_id=QUESTIONNAIRE,
                    questionnaire_version=1,
                    channel="web",
                    language="pl",
                    privacy_version="2026-05-01",
                    status="completed",
                    step="done",
                    started_at=at,
                    updated_at=at,
                    finished_at=at,
                )
                unit.add(submission)
                await unit.flush()
                unit.add(
                    Answer(
                        submission_id=submission.id,
                        question_code="community_meaning",
                        answered_at=at,
                        text="Sąsiedzi, którzy sobie pomagają. " * 40,
                    )
                )

    asyncio.run(go())


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_into_head_exits_0_quietly_when_the_pipe_closes(env: dict[str, str], fmt: str) -> None:
    seed(env, 300)  # about 400 kB: far more than a pipe holds, so the export meets the closed pipe
    with subprocess.Popen(
        [str(WSPOLNOTA), "export", "--format", fmt], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as exporter:
        assert exporter.stdout is not None and exporter.stderr is not None
        head = subprocess.run(["head", "-1"], stdin=exporter.stdout, capture_output=True, check=True)
        exporter.stdout.close()  # head has gone; only it held the pipe's reading end
        errors = exporter.stderr.read().decode()
        assert exporter.wait(timeout=60) == 0, errors
    assert errors == "", errors  # no traceback, no "Exception ignored", no closed event loop
    assert len(head.stdout.splitlines()) == 1


def test_export_to_a_missing_folder_names_the_path_and_why(env: dict[str, str]) -> None:
    line = one_line_error(invoke(env, "export", "--out", "/nonexistent/x.csv"))
    assert line == "Error: cannot write /nonexistent/x.csv: the folder /nonexistent does not exist"


def test_report_and_posters_to_an_unusable_path_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    line = one_line_error(invoke(env, "report", "--out", "/nonexistent/r.html"))
    assert line == "Error: cannot write /nonexistent/r.html: the folder /nonexistent does not exist"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_line_error(invoke(env, "events", "--web", "https://x.pl", "posters", "--out", str(blocker / "posters")))
    assert line.startswith(f"Error: {blocker / 'posters'}: ")


@pytest.mark.parametrize("command", ["export", "stats", "report", "chat"])
def test_an_unknown_questionnaire_lists_the_known_ones(env: dict[str, str], command: str) -> None:
    line = one_line_error(invoke(env, command, "-q", "nope", input=""))
    assert line == f"Error: --questionnaire: no such questionnaire 'nope' (known: {QUESTIONNAIRE})"


@pytest.mark.parametrize("period", ["99999y", "99999999999999999999d"])
def test_purge_further_back_than_the_calendar_is_one_line(env: dict[str, str], period: str) -> None:
    line = one_line_error(invoke(env, "purge", "--older-than", period, "--yes"))
    assert line == f"Error: --older-than {period}: that goes back before the year 1; use a shorter period"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("postgres//x", "not a database URL"),
        ("nonsense", "not a database URL"),
        ("sqlite+nope:///x", "the driver 'sqlite+nope' cannot be loaded"),
        ("mysql://u@localhost/x", "unsupported database 'mysql'"),
    ],
)
@pytest.mark.parametrize("command", [["check"], ["run"], ["stats"], ["export"], ["db", "upgrade"], ["events"]])
def test_a_garbled_database_url_is_named_by_every_command(
    env: dict[str, str], url: str, why: str, command: list[str]
) -> None:
    line = one_line_error(invoke({**env, "WSPOLNOTA_DATABASE_URL": url}, *command))
    assert line.startswith(f"Configuration problem: environment: WSPOLNOTA_DATABASE_URL: {why}")


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_short_secret_key_is_refused_with_how_to_make_one(env: dict[str, str], command: str) -> None:
    line = one_line_error(invoke({**env, "WSPOLNOTA_SECRET_KEY": "abcde"}, command))
    assert "WSPOLNOTA_SECRET_KEY: too short: use at least 32 characters" in line
    assert "python -c 'import secrets; print(secrets.token_urlsafe(48))'" in line


def test_a_generated_key_is_long_enough(env: dict[str, str]) -> None:
    without = {name: value for name, value in env.items() if name != "WSPOLNOTA_SECRET_KEY"}
    assert invoke(without, "stats").exit_code == 0
    assert len((Path(env["WSPOLNOTA_DATA_DIR"]) / "secret.key").read_text().strip()) >= 32
    assert invoke(without, "check").exit_code == 0


def damage(database: Path) -> None:
    """Breaks the cell pointers of one of the answer table's pages, as a bad disk or copy would."""
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = [
        row[0] for row in connection.execute("SELECT pageno FROM dbstat WHERE name = 'answer' AND pagetype = 'leaf'")
    ]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    assert len(pages) > 2
    with database.open("r+b") as handle:
        handle.seek((pages[len(pages) // 2] - 1) * page_size + 8)
        handle.write(b"\x00\x09\x00\x00")


def test_a_damaged_sqlite_file_is_caught_by_check_and_run_and_explained_by_stats_and_export(
    env: dict[str, str],
) -> None:
    seed(env, 60)
    database = Path(env["WSPOLNOTA_DATA_DIR"]) / "wspolnota.db"
    damage(database)
    recover = f"`sqlite3 {database} .recover | sqlite3 recovered.db`"
    checked = one_line_error(invoke(env, "check"))
    assert checked.startswith(f"Configuration problem: {database}: PRAGMA quick_check: damaged (")
    assert recover in checked
    refused = one_line_error(invoke(env, "run"))
    assert refused.startswith(f"Error: the database {database} is damaged (") and "restore the latest backup" in refused
    for command in (["stats"], ["export", "--format", "jsonl"]):
        line = one_line_error(invoke(env, *command))
        assert line.startswith(f"Error: the database {database} is damaged (database disk image is malformed)")
        assert recover in line


def test_an_unexpected_error_is_one_line_and_its_traceback_only_at_debug(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import reports.stats

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the counts went\nwrong")

    monkeypatch.setattr(reports.stats, "collect_stats", broken)
    line = one_line_error(invoke(env, "stats"))
    assert line.startswith("Error: unexpected RuntimeError: the counts went wrong (run with WSPOLNOTA_LOG_LEVEL=DEBUG")
    assert not [record for record in caplog.records if record.exc_info]
    with caplog.at_level(logging.DEBUG, logger="bot.cli"):
        one_line_error(invoke({**env, "WSPOLNOTA_LOG_LEVEL": "DEBUG"}, "stats"))
    assert [record for record in caplog.records if record.exc_info and record.name == "bot.cli"]


def test_events_when_telegram_cannot_be_asked_says_to_give_the_bot(env: dict[str, str]) -> None:
    unreachable = {**env, "WSPOLNOTA_TELEGRAM_TOKEN": "1:x", "WSPOLNOTA_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"}
    line = one_line_error(invoke(unreachable, "events"))
    assert line.startswith("Error: could not ask Telegram for the bot's name (") and "--bot NAME" in line

"""Golden numbers on a seeded dataset, on SQLite and PostgreSQL: every export format and layout read back
and compared to the database, the filters, per-option counts, the scale mean and small-cell suppression."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from bot.service import open_service
from reports.report import gather, render_report
from storage.exports import SubmissionFilter
from storage.models import Answer, Respondent, Submission
from tests.support import QUESTIONNAIRE, make_settings, service_environment

WOLA = "dzien-sasiada-wola"
# stand (names the person), channel, event, status, day started (10:00 UTC), answers
PEOPLE: list[tuple[str, str, str | None, str, int, dict[str, dict[str, Any]]]] = [
    (
        "s1",
        "telegram",
        WOLA,
        "completed",
        10,
        {
            "district": {"options": ["wola"]},
            "community_meaning": {"text": "Sąsiedzi pomagają sobie."},
            "values": {"options": ["trust", "openness"]},
            "connection": {"number": 5},
            "quote_consent": {"options": ["yes"]},
        },
    ),
    (
        "s2",
        "telegram",
        WOLA,
        "completed",
        11,
        {
            "district": {"options": ["wola"]},
            "community_meaning": {"text": "+48 dzwońcie"},
            "values": {"options": ["trust"]},
            "connection": {"number": 4},
        },
    ),
    (
        "s3",
        "email",
        None,
        "completed",
        20,
        {
            "district": {"options": ["mokotow"]},
            "values": {"options": ["trust", "other"], "text": "=SUM(A1)"},
            "connection": {"number": 3},
        },
    ),
    (
        "s4",
        "web",
        None,
        "active",
        21,
        {"district": {"options": ["wola"]}, "values": {"skipped": True}, "connection": {"number": 2}},
    ),
    (
        "s5",
        "terminal",
        WOLA,
        "completed",
        25,
        {
            "district": {"options": ["ursus"]},
            "values": {"options": ["openness", "mutual_help"]},
            "connection": {"number": 1},
            "email": {"text": "x@example.pl"},
        },
    ),
    ("s6", "telegram", None, "consent", 12, {"district": {"options": ["wola"]}}),  # never exported
]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = service_environment(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    asyncio.run(seed(env))
    return env


async def seed(env: dict[str, str]) -> None:
    settings = make_settings(Path(env["WSPOLNOTA_DATA_DIR"]), WSPOLNOTA_DATABASE_URL=env["WSPOLNOTA_DATABASE_URL"])
    async with open_service(settings) as service, service.store.unit() as unit:
        for stand, channel, event, status, day, answers in PEOPLE:
            at = datetime(2026, 5, day, 10, tzinfo=UTC)
            respondent = Respondent(channel=channel, pseudonym=stand * 32, created_at=at)
            unit.add(respondent)
            await unit.flush()
            submission = Submission(
                respondent_id=respondent.id,
                questionnaire_id=QUESTIONNAIRE,
                questionnaire_version=1,
                channel=channel,
                event=event,
                event_known=event is not None,
                stand=stand,
                language="pl",
                privacy_version="2026-05-01",
                status=status,
                step="done",
                started_at=at,
                updated_at=at,
                finished_at=at if status == "completed" else None,
            )
            unit.add(submission)
            await unit.flush()
            for code, value in answers.items():
                unit.add(Answer(submission_id=submission.id, question_code=code, answered_at=at, **value))


def export(env: dict[str, str], tmp_path: Path, fmt: str, *args: str) -> Path:
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(main, ["export", "--format", fmt, "--out", str(out), *args], env=env)
    assert result.exit_code == 0, result.output
    return out


def read(path: Path) -> list[dict[str, Any]]:
    """An export read back with the reader a user would use: csv module, openpyxl, json."""
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    if path.suffix == ".xlsx":
        rows = list(load_workbook(path).active.iter_rows(values_only=True))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def stored(env: dict[str, str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The answers as the database holds them, by (stand, question)."""

    async def query() -> dict[tuple[str, str], dict[str, Any]]:
        settings = make_settings(Path(env["WSPOLNOTA_DATA_DIR"]), WSPOLNOTA_DATABASE_URL=env["WSPOLNOTA_DATABASE_URL"])
        async with open_service(settings) as service, service.store.unit(write=False) as unit:
            rows = await unit.session.execute(
                select(Submission.stand, Answer).join(Answer).where(Submission.status != "consent")
            )
            return {
                (stand, a.question_code): {
                    "options": a.options,
                    "text": a.text,
                    "number": a.number,
                    "skipped": a.skipped,
                }
                for stand, a in rows
            }

    return asyncio.run(query())


# The wide layout of the seeded people, by stand, as CSV text ("" for no value).
WIDE = {
    "s1": {"district": "wola", "values__trust": "1", "values__openness": "1", "values__mutual_help": "0",
           "values__other": "0", "values__text": "", "connection": "5", "quote_consent": "yes",
           "community_meaning": "Sąsiedzi pomagają sobie."},
    "s2": {"district": "wola", "values__trust": "1", "values__openness": "0", "values__mutual_help": "0",
           "values__other": "0", "values__text": "", "connection": "4", "quote_consent": "",
           "community_meaning": "'+48 dzwońcie"},
    "s3": {"district": "mokotow", "values__trust": "1", "values__openness": "0", "values__mutual_help": "0",
           "values__other": "1", "values__text": "'=SUM(A1)", "connection": "3", "quote_consent": "",
           "community_meaning": ""},
    "s4": {"district": "wola", "values__trust": "", "values__openness": "", "values__mutual_help": "",
           "values__other": "", "values__text": "", "connection": "2", "quote_consent": "", "community_meaning": ""},
    "s5": {"district": "ursus", "values__trust": "0", "values__openness": "1", "values__mutual_help": "1",
           "values__other": "0", "values__text": "", "connection": "1", "quote_consent": "", "community_meaning": ""},
}  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_wide_export_reads_back_as_seeded(env: dict[str, str], tmp_path: Path, fmt: str) -> None:
    rows = read(export(env, tmp_path, fmt))
    assert [row["stand"] for row in rows] == ["s1", "s2", "s3", "s4", "s5"]  # oldest first; consent never
    for row in rows:
        got = {key: row[key] for key in WIDE[row["stand"]]}
        # openpyxl gives numbers and None where the csv module gives text and ""; the ' that keeps Excel from
        # running a CSV cell is no part of the text in XLSX, where the cell is a string whatever it starts with
        expected = WIDE[row["stand"]] if fmt == "csv" else {k: v.lstrip("'") for k, v in WIDE[row["stand"]].items()}
        assert {k: "" if v is None else str(v) for k, v in got.items()} == expected
    assert "email" not in rows[0]
    by_stand = {row["stand"]: row for row in rows}
    assert by_stand["s1"]["channel"] == "telegram" and by_stand["s1"]["event"] == WOLA
    assert by_stand["s4"]["status"] == "active" and by_stand["s4"]["finished_at"] in ("", None)
    # CSV keeps ISO 8601 in UTC; XLSX has a real date in Warsaw time (10:00 UTC is 12:00 in May)
    assert by_stand["s3"]["started_at"] in ("2026-05-20T10:00:00+00:00", datetime(2026, 5, 20, 12, 0))


def test_jsonl_export_matches_the_database(env: dict[str, str], tmp_path: Path) -> None:
    records = {r["stand"]: r for r in read(export(env, tmp_path, "jsonl", "--include-contact"))}
    assert records["s1"]["answers"] == {
        "community_meaning": "Sąsiedzi pomagają sobie.",
        "connection": 5,
        "district": "wola",
        "quote_consent": "yes",
        "values": ["trust", "openness"],
    }
    assert records["s3"]["answers"]["values"] == ["trust", "other"]
    assert records["s3"]["answers"]["values__text"] == "=SUM(A1)"  # JSON keeps the text as written
    assert records["s4"]["answers"]["values"] is None  # skipped
    assert records["s5"]["answers"]["email"] == "x@example.pl"  # asked for
    database = stored(env)
    assert len(database) == sum(
        len(record["answers"]) - ("values__text" in record["answers"]) for record in records.values()
    )
    for (stand, code), value in database.items():
        exported = records[stand]["answers"][code]
        if value["skipped"]:
            assert exported is None
        elif value["number"] is not None:
            assert exported == value["number"]
        elif code == "values":
            assert exported == value["options"]
        elif value["options"] is not None:
            assert [exported] == value["options"]
        else:
            assert exported == value["text"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_long_export_has_a_row_per_pick(env: dict[str, str], tmp_path: Path, fmt: str) -> None:
    rows = read(export(env, tmp_path, fmt, "--layout", "long"))
    assert len(rows) == 21  # s1: 6, s2: 4, s3: 4, s4: 3, s5: 4 (no email)
    value_rows = {(row["submission"], row["option"], row["value"]) for row in rows if row["question"] == "values"}
    s1, s2, s3, s4, s5 = sorted({row["submission"] for row in rows}, key=int)  # seeded in this order
    other = "'=SUM(A1)" if fmt == "csv" else "=SUM(A1)"  # CSV for Excel neutralised; XLSX stores text as text
    empty = "" if fmt == "csv" else None
    assert value_rows == {
        (s1, "trust", empty),
        (s1, "openness", empty),
        (s2, "trust", empty),
        (s3, "trust", empty),
        (s3, "other", other),
        (s4, empty, empty),  # skipped
        (s5, "openness", empty),
        (s5, "mutual_help", empty),
    }
    picks = [row["option"] for row in rows if row["question"] == "values" and row["option"]]
    assert sorted(picks) == ["mutual_help", "openness", "openness", "other", "trust", "trust", "trust"]


@pytest.mark.parametrize(
    ("args", "stands"),
    [
        ((), ["s1", "s2", "s3", "s4", "s5"]),
        (("--event", WOLA), ["s1", "s2", "s5"]),
        (("--channel", "telegram"), ["s1", "s2"]),
        (("--since", "2026-05-20"), ["s3", "s4", "s5"]),
        (("--until", "2026-05-20"), ["s1", "s2"]),
        (("--since", "2026-05-11", "--until", "2026-05-21"), ["s2", "s3"]),
        (("--completed-only",), ["s1", "s2", "s3", "s5"]),
        (("--completed-only", "--event", WOLA, "--channel", "terminal"), ["s5"]),
    ],
)
def test_filters_choose_the_submissions(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], stands: list[str]
) -> None:
    assert [record["stand"] for record in read(export(env, tmp_path, "jsonl", *args))] == stands


async def test_report_counts_per_option_mean_and_suppression(database_url: str, tmp_path: Path) -> None:
    env = service_environment(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    await seed(env)
    settings = make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    async with open_service(settings) as service:
        questionnaire = service.config.questionnaires[QUESTIONNAIRE]
        everyone = SubmissionFilter(QUESTIONNAIRE)
        tally = await gather(service.store, questionnaire, everyone)
        completed = await gather(service.store, questionnaire, SubmissionFilter(QUESTIONNAIRE, completed_only=True))
    now = datetime(2026, 5, 30, tzinfo=UTC)
    assert (tally.total, tally.completed) == (5, 4)
    values = tally.closed["values"]
    assert values.answered == 4  # s4 skipped
    assert {code: n for code, n in values.picked.items() if n} == {
        "trust": 3,
        "openness": 2,
        "mutual_help": 1,
        "other": 1,
    }
    assert tally.groups[("values", "district", "wola")].answered == 2
    html = render_report(questionnaire, tally, everyone, now, min_cell=2)
    assert "Zgłoszenia: <b>5</b>, w tym zakończone: <b>4</b> (80% ukończeń)" in html
    # answers count from completed submissions only (s4 is unfinished): (5 + 4 + 3 + 1) / 4
    assert "Średnia 3,25 (skala 1–5)" in html and "1 niezakończonych nie liczymy" in html
    assert "Średnia 3,25 (skala 1–5)" in render_report(questionnaire, completed, everyone, now, min_cell=2)
    # values by district (the report's own tests cover suppression): Mokotów and Ursus answered once each,
    # merged into one row and never printed on their own; Wola's single "openness" is hidden
    values = html[html.index('id="q-values"') :]
    by_district = values[
        values.index("<caption>Według dzielnicy") : values.index("</table>", values.index("<caption>Według dzielnicy"))
    ]
    assert "Mokotów" not in by_district and "Ursus" not in by_district and "pozostałe grupy (2), razem" in by_district
    assert "pozostałe grupy (" not in render_report(questionnaire, tally, everyone, now, min_cell=1)

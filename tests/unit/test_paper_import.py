"""`wspolnota import`: paper questionnaires typed into the export's wide layout (CSV, XLSX), checked by the
engine's rules with every problem named by row and column, recorded as channel `paper` once, and a dataset
exported and imported again keeps its answers."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.cli import main, paper
from bot.service import open_service
from handlers.definitions.questionnaire import load_questionnaires
from handlers.engine.messages import Action
from handlers.paper.forms import read_forms
from handlers.paper.sheet import Sheet
from reports.tables import wide_columns
from storage.models import AuditEntry, Submission
from tests.support import QUESTIONNAIRE, TEST_CONFIG, Person, make_settings, service_environment

ZOLIBORZ = "dzien-sasiada-zoliborz-2026-05-30"
HEADER = [
    *("submission", "language", "event", "started_at", "finished_at"),
    *("district", "community_meaning", "values", "values__text", "connection", "participation"),
    *("quote_consent", "contact_consent", "email", "grassroots_example"),
]
GOOD = {
    "submission": "P-0001",
    "language": "pl",
    "event": ZOLIBORZ,
    "finished_at": "2026-05-30T15:20:00+02:00",
    "district": "zoliborz",
    "community_meaning": "Sąsiedzi pomagają sobie nawzajem.",
    "values": "trust, openness",
    "connection": "4",
    "quote_consent": "yes",
}


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


# Rows 2–12 of a file with planted errors, and what the import says about each (all at once).
PLANTED = [
    row(),
    row(submission="P-0002", values="openness, opennes"),
    row(submission="P-0003", connection="7"),
    row(submission="P-0004", event="dzien-sasiada-zoliborz"),
    row(submission="P-0005", language="de"),
    row(submission="P-0006", values="grassroots"),  # the example the question then needs is not there
    row(submission="P-0007", email="anna@example.pl"),  # asked only after contact_consent
    row(submission="P-0001", district="wola"),
    row(submission="P-0009", values="trust, openness, mutual_help, cooperation"),
    row(submission="P-0010", finished_at="2024-06-01 12:00"),  # before the questionnaire opened
    row(submission="P-0011", contact_consent="report", email="not-an-address"),
]
PROBLEMS = [
    "row 3, column values: 'opennes' is not an option "
    "(openness, mutual_help, trust, cooperation, inclusion, shared_space, …); did you mean 'openness'?",
    "row 4, column connection: '7' is not a number from 1 to 5",
    "row 5, column event: 'dzien-sasiada-zoliborz' is not a known event (did you mean '" + ZOLIBORZ + "'?)",
    "row 6, column language: 'de' is not a language (pl, en, uk)",
    "row 7, column grassroots_example: needs an answer (asked when values includes 'grassroots')",
    "row 8, column email: answered, but the questionnaire asks it only when contact_consent is answered",
    "row 9, column submission: 'P-0001' is also the id in row 2",
    "row 10, column values: 'trust, openness, mutual_help, cooperation': pick at most 3",
    "row 11, column finished_at: questionnaire sasiedztwo was not open on 2024-06-01 12:00+02:00",
    "row 12, column email: 'not-an-address' is not an email address",
]


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return service_environment(tmp_path / "data", WSPOLNOTA_WEB_ENABLED="false", WSPOLNOTA_DATABASE_URL=database_url)


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] = HEADER) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], header: list[str] = HEADER) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "submissions"
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(name) for name in header])
    workbook.save(path)
    return path


def stored(env: dict[str, str], channel: str = "paper") -> list[Submission]:
    """The submissions of a channel with their answers, oldest first."""

    async def query() -> list[Submission]:
        async with open_service(settings_of(env)) as service, service.store.sessions() as session:
            found = await session.scalars(
                select(Submission)
                .where(Submission.channel == channel)
                .options(selectinload(Submission.answers))
                .order_by(Submission.id)
            )
            return list(found.all())

    return asyncio.run(query())


def audited(env: dict[str, str]) -> list[dict[str, Any]]:
    async def query() -> list[dict[str, Any]]:
        async with open_service(settings_of(env)) as service, service.store.sessions() as session:
            entries = await session.scalars(select(AuditEntry).where(AuditEntry.action == "import"))
            return [{"actor": entry.actor, **entry.details} for entry in entries]

    return asyncio.run(query())


def settings_of(env: dict[str, str]) -> Any:
    return make_settings(
        Path(env["WSPOLNOTA_DATA_DIR"]), **{k: v for k, v in env.items() if k.startswith("WSPOLNOTA_")}
    )


def problems_said(result: Result) -> list[str]:
    return [line.strip() for line in result.output.splitlines() if line.startswith("  row ")]


def test_a_csv_with_planted_errors_is_refused_whole_with_every_problem_named(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = invoke(env, "import", str(write_csv(tmp_path / "paper.csv", PLANTED)))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert problems_said(result) == PROBLEMS
    assert "10 problems in 10 rows" in result.output
    assert result.output.strip().splitlines()[-1] == (
        f"Error: nothing imported from {tmp_path / 'paper.csv'}: fix the problems above "
        "(or import the others with --skip-invalid)"
    )
    assert stored(env) == []
    assert audited(env) == []


def test_an_xlsx_with_planted_errors_is_refused_whole_with_every_problem_named(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Typed cells as a spreadsheet keeps them: numbers and a date without a zone (Warsaw time).
    rows: list[dict[str, Any]] = [dict(values) for values in PLANTED]
    for values in rows:
        values["connection"] = int(values["connection"])
    rows[9]["finished_at"] = datetime(2024, 6, 1, 12, 0)
    result = invoke(env, "import", str(write_xlsx(tmp_path / "paper.xlsx", rows)))
    assert result.exit_code == 1
    assert problems_said(result) == PROBLEMS
    assert stored(env) == []


def test_skip_invalid_imports_the_valid_rows_as_paper_and_says_what_was_left_out(
    env: dict[str, str], tmp_path: Path
) -> None:
    rows = [*PLANTED, row(submission="P-0012", language="uk", event="", finished_at="", values="", connection="")]
    result = invoke(env, "import", "--skip-invalid", str(write_csv(tmp_path / "paper.csv", rows)))
    assert result.exit_code == 0, result.output
    assert problems_said(result) == PROBLEMS
    assert "Imported 2 paper forms" in result.output and "10 rows with problems left out" in result.output
    first, second = stored(env)
    assert (first.channel, first.status, first.language, first.event, first.event_known) == (
        "paper",
        "completed",
        "pl",
        ZOLIBORZ,
        True,
    )
    assert first.finished_at is not None and first.finished_at.isoformat().startswith("2026-05-30T13:20:00")
    assert {code: (a.options, a.text, a.number) for code, a in first.answers.items()} == {
        "district": (["zoliborz"], None, None),
        "community_meaning": (None, "Sąsiedzi pomagają sobie nawzajem.", None),
        "values": (["openness", "trust"], None, None),  # questionnaire order
        "connection": (None, None, 4),
        "quote_consent": (["yes"], None, None),
    }
    assert (second.language, second.event, second.finished_at is not None) == ("uk", None, True)
    [entry] = audited(env)
    assert entry["actor"].startswith("cli:")
    assert entry | {"actor": None} == {
        "actor": None,
        "file": str(tmp_path / "paper.csv"),
        "questionnaire": QUESTIONNAIRE,
        "rows": 12,
        "imported": 2,
        "already_imported": 0,
        "skipped_invalid": 10,
    }


def test_a_file_longer_than_a_transaction_is_checked_whole_then_recorded_in_chunks(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paper, "CHUNK", 2)
    rows = [row(submission=f"P-{n:04d}", finished_at=f"2026-05-30T1{n}:00:00+02:00") for n in range(1, 6)]
    rows[4]["connection"] = "9"  # the last chunk's
    path = write_csv(tmp_path / "paper.csv", rows)
    refused = invoke(env, "import", str(path))
    assert refused.exit_code == 1 and problems_said(refused) == [
        "row 6, column connection: '9' is not a number from 1 to 5"
    ]
    assert stored(env) == []  # nothing of the chunks before it
    result = invoke(env, "import", "--skip-invalid", str(path))
    assert "Imported 4 paper forms" in result.output
    assert [s.finished_at.hour for s in stored(env) if s.finished_at] == [9, 10, 11, 12]  # UTC
    assert [entry["imported"] for entry in audited(env)] == [4]


def test_importing_the_same_file_again_adds_nothing_and_says_so(env: dict[str, str], tmp_path: Path) -> None:
    rows = [row(), row(submission="P-0002", district="wola"), row(submission="P-0003", language="en")]
    path = write_csv(tmp_path / "paper.csv", rows)
    first = invoke(env, "import", str(path))
    assert first.exit_code == 0, first.output
    assert f"Imported 3 paper forms from {path}." in first.output
    again = invoke(env, "import", str(path))
    assert again.exit_code == 0, again.output
    assert f"Nothing new in {path}: 3 paper forms imported before." in again.output
    more = write_csv(tmp_path / "more.csv", [*rows, row(submission="P-0004")])
    third = invoke(env, "import", str(more))
    assert "Imported 1 paper form from" in third.output and "3 forms imported before" in third.output
    assert [s.stand for s in stored(env)] == [None] * 4
    assert len(stored(env)) == 4
    # A row changed since its import: said, and the stored answers stay.
    changed = write_csv(tmp_path / "changed.csv", [rows[0], row(submission="P-0002", district="ursus"), rows[2]])
    fourth = invoke(env, "import", str(changed))
    assert fourth.exit_code == 0
    assert "Note: row 3: P-0002 was imported before with other answers; those are kept." in fourth.output
    assert "Note: row 2" not in fourth.output and "Note: row 4" not in fourth.output
    assert stored(env)[1].answers["district"].options == ["wola"]
    assert [entry["imported"] for entry in audited(env)] == [3, 1]  # the import that added nothing is not logged


def test_dry_run_checks_and_stores_nothing(env: dict[str, str], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "paper.csv", [row(), row(submission="P-0002")])
    result = invoke(env, "import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert f"Dry run: 2 paper forms from {path} would be imported; nothing was stored." in result.output
    assert stored(env) == [] and audited(env) == []
    refused = invoke(env, "import", "--dry-run", str(write_csv(tmp_path / "bad.csv", PLANTED)))
    assert refused.exit_code == 1 and problems_said(refused) == PROBLEMS


def test_the_form_s_own_times_are_kept_else_the_import_s(env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        row(started_at="30.05.2026 14:05", finished_at="30.05.2026 14:20"),  # Warsaw time
        row(submission="P-0002", finished_at=""),
        row(submission="P-0003", finished_at="2126-05-30 14:20"),
        row(submission="P-0004", started_at="2026-05-30T15:00:00+02:00", finished_at="2026-05-30T14:00:00+02:00"),
        row(submission="P-0005", finished_at="wczoraj"),
    ]
    result = invoke(env, "import", "--skip-invalid", str(write_csv(tmp_path / "times.csv", rows)))
    assert problems_said(result) == [
        "row 4, column finished_at: 2126-05-30 14:20+02:00 is in the future",
        "row 5, column finished_at: is earlier than started_at",
        "row 6, column finished_at: 'wczoraj' is not a date and time like 2026-05-30 14:00",
    ]
    first, second = stored(env)
    assert first.started_at.isoformat()[:19] == "2026-05-30T12:05:00"  # UTC
    assert first.finished_at is not None and first.finished_at.isoformat()[:19] == "2026-05-30T12:20:00"
    assert second.finished_at is not None and second.finished_at.year == datetime.now().year  # the import's time
    assert second.started_at == second.finished_at


def test_option_labels_in_any_language_and_the_export_s_0_1_columns_are_read(
    env: dict[str, str], tmp_path: Path
) -> None:
    header = [
        *("submission", "language", "district", "values__openness", "values__mutual_help", "values__trust"),
        *("values__other", "values__text", "participation", "priority_area", "quote_consent", "connection"),
    ]
    rows = [
        {
            "submission": "P-0001",
            "district": "Mokotów",
            "values__openness": "1",
            "values__mutual_help": "0",
            "values__trust": "",
            "values__other": "1",
            "values__text": "'=Życzliwość",  # the export's anti-formula ' is not part of the answer
            "participation": "Czasem – kilka razy w roku",
            "priority_area": "Належність та ідентифікація з місцем",
            "quote_consent": "tak",
            "connection": "5",
        },
        {
            "submission": "P-0002",
            "language": "EN",
            "district": "praga-poludnie",
            "values__openness": "0",
            "values__mutual_help": "1",
            "participation": "Often – every month or more",
            "priority_area": "activity",
            "quote_consent": "No",
        },
    ]
    result = invoke(env, "import", str(write_csv(tmp_path / "labels.csv", rows, header)))
    assert result.exit_code == 0, result.output
    first, second = stored(env)
    assert {code: (a.options, a.text, a.number) for code, a in first.answers.items()} == {
        "district": (["mokotow"], None, None),
        "values": (["openness", "other"], "=Życzliwość", None),
        "participation": (["sometimes"], None, None),
        "priority_area": (["belonging"], None, None),
        "quote_consent": (["yes"], None, None),
        "connection": (None, None, 5),
    }
    assert second.language == "en"
    assert {code: a.options for code, a in second.answers.items()} == {
        "district": ["praga_poludnie"],
        "values": ["mutual_help"],
        "participation": ["often"],
        "priority_area": ["activity"],
        "quote_consent": ["no"],
    }


def test_a_typo_in_a_column_name_is_named_and_nothing_is_imported(env: dict[str, str], tmp_path: Path) -> None:
    header = ["submission", "district", "valeus", "connection"]
    rows = [{"submission": "P-0001", "district": "wola", "valeus": "trust", "connection": "3"}]
    result = invoke(env, "import", "--skip-invalid", str(write_csv(tmp_path / "typo.csv", rows, header)))
    assert result.exit_code == 1
    assert (
        "  column 'valeus': (column 3) is not a column of questionnaire sasiedztwo: did you mean 'values'?"
    ) in result.output.splitlines()
    assert "Error: nothing imported" in result.output
    assert stored(env) == []


def test_the_long_layout_is_named_as_such(env: dict[str, str], tmp_path: Path) -> None:
    header = ["submission", "respondent", "channel", "question", "option", "value"]
    path = write_csv(tmp_path / "long.csv", [{"submission": "1", "question": "district", "option": "wola"}], header)
    result = invoke(env, "import", str(path))
    assert result.exit_code == 1
    assert "  this is the long layout (a row per answer): import reads the wide layout" in result.output.splitlines()


def test_a_file_without_the_id_column_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    result = invoke(env, "import", str(write_csv(tmp_path / "noid.csv", [{"district": "wola"}], ["district"])))
    assert result.exit_code == 1
    assert "column 'submission': is missing: each row needs the paper form's own id (e.g. P-0001)" in result.output


@pytest.mark.parametrize("content", ["", "\ufeff\r\n", ",".join(HEADER) + "\r\n"])
def test_an_empty_file_is_a_warning_not_a_crash(env: dict[str, str], tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")
    result = invoke(env, "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Warning: {path} has ")
    assert result.output.strip().endswith("nothing imported.")


def test_an_empty_workbook_is_a_warning_too(env: dict[str, str], tmp_path: Path) -> None:
    result = invoke(env, "import", str(write_xlsx(tmp_path / "empty.xlsx", [], HEADER)))
    assert result.exit_code == 0 and "has no rows under its header; nothing imported." in result.output


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("missing.csv", None, "missing.csv: no such file"),
        ("paper.xls", b"x", "paper.xls: import reads .csv or .xlsx files"),
        ("paper.xlsx", b"not a zip", "paper.xlsx: not an XLSX workbook"),
        ("paper.csv", "submission,district\r\nP-1,Mokotów\r\n".encode("cp1250"), "the file is not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_clear_error(
    env: dict[str, str], tmp_path: Path, name: str, content: bytes | None, said: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = invoke(env, "import", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and said in line


def test_a_semicolon_csv_from_polish_excel_is_read(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("submission;district;connection\r\nP-0001;Wola;2\r\n", encoding="utf-8-sig")
    result = invoke(env, "import", str(path))
    assert result.exit_code == 0, result.output
    [form] = stored(env)
    assert {code: (a.options, a.number) for code, a in form.answers.items()} == {
        "district": (["wola"], None),
        "connection": (None, 2),
    }


# -- the adapter alone: a row's cells, no database -------------------------------------------------


def read_row(cells: dict[str, Any]) -> list[str]:
    """The problems the adapter finds in one row of a file with these columns (and what it read)."""
    questionnaire = load_questionnaires(TEST_CONFIG / "questionnaires")[QUESTIONNAIRE]
    header = list(cells)
    sheet = Sheet(header, [(2, list(cells.values()))])
    now = datetime(2026, 6, 1, tzinfo=UTC)
    reading = read_forms(
        sheet, questionnaire, columns=wide_columns(questionnaire, include_contact=True), events=[ZOLIBORZ], now=now
    )
    [form] = reading.forms
    return [str(problem) for problem in [*reading.problems, *form.problems]]


@pytest.mark.parametrize(
    ("cells", "said"),
    [
        (
            {"submission": "17", "channel": "web", "district": "wola"},
            [
                "row 2, column submission: '17' is the number of a web submission in an export, "
                "not a paper form's id: write the form's own id (e.g. P-0001)"
            ],
        ),
        (
            {"submission": "Ankieta nr 12 z Woli", "district": "wola"},
            [
                "row 2, column submission: 'Ankieta nr 12 z Woli' is not a paper form's id: "
                "up to 16 letters, digits, '-', '_', '.' or '/' (e.g. P-0001)"
            ],
        ),
        (
            {"submission": "", "district": "wola"},
            ["row 2, column submission: is empty: give the paper form's own id (e.g. P-0001)"],
        ),
        (
            {"submission": "P-1", "values": "trust", "values__trust": 1},
            ["row 2, column values: give either the column values or the columns values__*, not both"],
        ),
        (
            {"submission": "P-1", "values__trust": "x", "values__openness": "maybe"},
            ["row 2, column values__openness: 'maybe' is not 1 or 0"],
        ),
        (
            {"submission": "P-1", "values": "trust", "values__text": "sąsiedzi"},
            ["row 2, column values__text: a text for 'other', but column values does not pick it"],
        ),
        (
            {"submission": "P-1", "values__text": "sąsiedzi"},
            ["row 2, column values__text: a text for 'other', but column values is empty"],
        ),
        ({"submission": "P-1", "connection": 4.0, "quote_consent": True}, []),  # a spreadsheet's number and tick
        ({"submission": "P-1", "district": "Wola", "": "a note"}, ["row 2: has cells under no column name"]),
        ({"submission": "P-1", "district": "wola", "": None}, []),  # an empty column without a name
        ({"submission": "P-1", "event": ""}, ["row 2: has no answers"]),
        (
            {"submission": "P-1", "district": "wola", "questionnaire": "other"},
            ["row 2, column questionnaire: 'other', but this import is into 'sasiedztwo' (choose it with -q)"],
        ),
        (
            {"submission": "P-1", "district": "wola", "values": "wola"},
            [
                "row 2, column values: 'wola' is not an option "
                "(openness, mutual_help, trust, cooperation, inclusion, shared_space, …)"
            ],
        ),
        (
            {"sumbission": "P-1", "district": "wola"},
            [
                "column 'submission': is missing: each row needs the paper form's own id (e.g. P-0001)",
                "column 'sumbission': (column 1) is not a column of questionnaire sasiedztwo: "
                "did you mean 'submission'?",
                "row 2, column submission: is empty: give the paper form's own id (e.g. P-0001)",
            ],
        ),
    ],
)
def test_the_adapter_names_what_is_wrong_in_a_row(cells: dict[str, Any], said: list[str]) -> None:
    assert read_row(cells) == said


# -- the round trip: answered in the chat, exported, imported as paper, exported again ------------


async def answer_in_the_chat(env: dict[str, str]) -> None:
    """Three residents answer through the engine in the terminal channel, each differently."""
    async with open_service(settings_of(env)) as service:
        anna = Person(service, "anna")
        await anna.begin(source=ZOLIBORZ)
        await anna.tap("zoliborz")
        await anna.send("+48 to nie telefon, tylko wspólnota")
        await anna.tap("grassroots")
        await anna.tap("other")
        await anna.act(Action.DONE)
        await anna.send("=Sąsiedzka pomoc")  # the "other" text, formula-like
        await anna.tap("5")
        await anna.act(Action.SKIP)  # participation
        await anna.send("Podwórko.")
        for _ in range(4):
            await anna.act(Action.SKIP)  # hinders, priority_area, vision_2030, age_band
        await anna.tap("no")  # quote_consent
        await anna.act(Action.DONE)  # contact_consent: nothing
        assert anna.last.question == "grassroots_example"
        await anna.send("Ogród społeczny na Żoliborzu.")
        await anna.tap("privacy")  # no_quote_reason
        await anna.act(Action.CONFIRM)

        bohdan = Person(service, "bohdan")
        await bohdan.begin(language="uk")
        await bohdan.tap("outside_warsaw")
        await bohdan.send("Громада — це люди.")
        await bohdan.tap("trust")
        await bohdan.act(Action.DONE)
        assert bohdan.last.question == "connection"
        await bohdan.tap("1")
        await bohdan.tap("never")
        for _ in range(4):
            await bohdan.act(Action.SKIP)  # helps, hinders, priority_area, vision_2030
        await bohdan.tap("age_30_44")
        await bohdan.tap("yes")
        await bohdan.act(Action.DONE)
        assert bohdan.last.question == "outside_warsaw_where"
        await bohdan.send("Łomianki")
        await bohdan.act(Action.CONFIRM)

        celina = Person(service, "celina", channel="web")
        await celina.begin(language="en")
        for _ in range(1):
            await celina.act(Action.SKIP)  # district
        await celina.send("Neighbours.")
        await celina.tap("mutual_help")
        await celina.tap("inclusion")
        await celina.tap("shared_space")
        await celina.act(Action.DONE)
        await celina.tap("3")
        await celina.tap("often")
        for _ in range(5):
            await celina.act(Action.SKIP)
        await celina.tap("yes")
        await celina.act(Action.DONE)
        await celina.act(Action.CONFIRM)


def export(env: dict[str, str], out: Path, *args: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(main, ["export", "--out", str(out), *args], env=env)
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))


METADATA_KEPT = ("language", "event", "questionnaire", "status")


def answers(row: dict[str, str], metadata: tuple[str, ...]) -> dict[str, str]:
    """A wide row's answer columns (and the metadata an import keeps)."""
    skip = {"submission", "respondent", "channel", "event_known", "stand", "assisted", "flagged", "flagged_from"}
    skip |= {"questionnaire_version", "privacy_version", "started_at", "finished_at", "language", "event"}
    skip |= {"questionnaire", "status"}
    return {k: v for k, v in row.items() if k not in skip} | {k: row[k] for k in metadata}


def cells(path: Path) -> list[Any]:
    if path.suffix == ".csv":
        return [cell for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))) for cell in r]
    return [cell for r in load_workbook(path)["submissions"].iter_rows(values_only=True) for cell in r]


def with_paper_ids(path: Path) -> Path:
    """The export's own submission numbers replaced by paper forms' ids (P-0001…), in its own format."""
    if path.suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        papers = [{**r, "submission": f"P-{n:04d}"} for n, r in enumerate(rows, start=1)]
        return write_csv(path.with_name("paper.csv"), papers, list(rows[0]))
    workbook = load_workbook(path)
    sheet = workbook["submissions"]
    column = [cell.value for cell in sheet[1]].index("submission") + 1
    for n in range(2, sheet.max_row + 1):
        sheet.cell(row=n, column=column, value=f"P-{n - 1:04d}")
    workbook.save(path.with_name("paper.xlsx"))
    return path.with_name("paper.xlsx")


@pytest.mark.parametrize(
    "how",
    [
        ("--format", "csv"),  # for Excel: a BOM, formula-like texts prefixed with '
        ("--format", "xlsx", "--labels", "pl"),  # dates as date cells, a codebook sheet, Polish labels
        ("--format", "csv", "--for", "analysis", "--labels", "uk"),  # texts as written, Ukrainian labels
    ],
    ids=["csv", "xlsx-labels-pl", "csv-analysis-labels-uk"],
)
def test_a_dataset_exported_and_imported_again_keeps_its_answers(
    env: dict[str, str], tmp_path: Path, how: tuple[str, ...]
) -> None:
    asyncio.run(answer_in_the_chat(env))
    before = export(env, tmp_path / "before.csv", "--completed-only")
    assert len(before) == 3
    exported = tmp_path / f"export.{how[1]}"
    assert CliRunner().invoke(main, ["export", *how, "--out", str(exported)], env=env).exit_code == 0
    label = {"pl": "Żoliborz", "uk": "Жолібож"}.get(how[-1], "zoliborz")
    assert label in cells(exported)  # the file holds what it should: codes, or labels
    result = invoke(env, "import", str(with_paper_ids(exported)))
    assert result.exit_code == 0, result.output
    assert "Imported 3 paper forms" in result.output
    after = export(env, tmp_path / "after.csv", "--channel", "paper")
    assert [r["respondent"] for r in after] == ["P-0001", "P-0002", "P-0003"]
    assert [r["channel"] for r in after] == ["paper"] * 3
    assert [answers(r, METADATA_KEPT) for r in after] == [answers(r, METADATA_KEPT) for r in before]
    # to the second: an XLSX keeps times to the second
    assert [r["finished_at"][:19] for r in after] == [r["finished_at"][:19] for r in before]
    # An export of the paper forms imported again is recognised (their ids are in `respondent`).
    again = invoke(env, "import", str(write_csv(tmp_path / "again.csv", after, list(after[0]))))
    assert "Nothing new" in again.output and "3 paper forms imported before" in again.output
    assert "Note:" not in again.output  # the same answers


def test_one_paper_form_can_be_erased_by_its_id(env: dict[str, str], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "paper.csv", [row(), row(submission="P-0002", district="wola")])
    assert invoke(env, "import", str(path)).exit_code == 0
    erased = invoke(env, "forget", "--paper", "P-0001", "--yes")
    assert erased.exit_code == 0 and "Erased: 1 respondent" in erased.output
    assert [s.answers["district"].options for s in stored(env)] == [["wola"]]
    assert "Nothing was stored" in invoke(env, "forget", "--paper", "P-0001", "--yes").output
    both = invoke(env, "forget", "--paper", "P-0002", "--email", "a@example.pl", "--yes")
    assert both.exit_code == 2 and "exactly one of" in both.output

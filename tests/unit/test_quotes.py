"""`wspolnota quotes review|approve` run as staff would: the candidates masked, a marked and edited file
read back, bad rows named with their numbers, re-approving changing nothing, and what a public report may
quote (`approved_quotes`)."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.service import open_service
from bot.settings import load_settings
from handlers.engine.messages import Action
from reports.quote_review import approved_quotes
from storage.models import Answer, AuditEntry, Submission
from tests.support import QUESTIONNAIRE, Person, seed, service_environment

# Submissions 1-5 (tests/support/walks.py): one community_meaning text each; the fifth author said no.
KOWALSKA = "Pani […] z parteru, tel. [telefon], [e-mail] — sąsiedzi pomagają."


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = service_environment(tmp_path / "data")
    settings = load_settings(environment, env_file=None)

    async def seeded() -> None:
        async with open_service(settings) as service:
            await seed(service)

    asyncio.run(seeded())
    return environment


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def write_rows(path: Path, rows: list[dict[str, str]], *, delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def approved(env: dict[str, str]) -> dict[tuple[int, str], str]:
    async def read() -> dict[tuple[int, str], str]:
        async with open_service(load_settings(env, env_file=None)) as service:
            return await approved_quotes(service.store, QUESTIONNAIRE)

    return asyncio.run(read())


def audit_actions(env: dict[str, str]) -> list[tuple[str, dict[str, object]]]:
    async def read() -> list[tuple[str, dict[str, object]]]:
        async with open_service(load_settings(env, env_file=None)) as service, service.store.sessions() as session:
            entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            return [(entry.action, entry.details) for entry in entries if entry.action.startswith("quotes")]

    return asyncio.run(read())


def test_review_approve_round_trip_with_an_edited_text(env: dict[str, str], tmp_path: Path) -> None:
    review = tmp_path / "quotes.csv"
    result = invoke(env, "quotes", "review", "--out", str(review))
    assert result.exit_code == 0, result.output
    assert "Wrote 4 quotes" in result.output and "4 to decide" in result.output
    rows = read_rows(review)
    assert list(rows[0]) == ["submission", "question", "text", "approved"]
    assert [(row["submission"], row["question"], row["approved"]) for row in rows] == [
        (str(n), "community_meaning", "") for n in (1, 2, 3, 4)
    ]  # the fifth author did not allow quoting
    assert rows[3]["text"] == KOWALSKA  # masked before staff see it
    assert review.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads it as UTF-8

    rows[0]["approved"] = "tak"
    rows[1]["approved"] = "Nie"
    rows[3]["approved"] = "x"
    rows[3]["text"] = "Sąsiadka z parteru zawsze pomaga."  # staff's own wording
    write_rows(review, rows, delimiter=";")  # as Excel in Polish saves a CSV
    result = invoke(env, "quotes", "approve", str(review))
    assert result.exit_code == 0, result.output
    assert "2 approved (1 with an edited text), 1 rejected, 1 undecided; 3 decisions new or changed" in result.output

    assert approved(env) == {
        (1, "community_meaning"): "Sąsiedzi, którzy pomagają sobie na podwórku.",
        (4, "community_meaning"): "Sąsiadka z parteru zawsze pomaga.",
    }
    # A second review keeps the marks and the edited text; the undecided one is still to decide.
    again = tmp_path / "again.csv"
    assert "3 decided before, 1 to decide" in invoke(env, "quotes", "review", "-o", str(again)).output
    marks = {(row["submission"], row["approved"], row["text"]) for row in read_rows(again)}
    assert ("4", "yes", "Sąsiadka z parteru zawsze pomaga.") in marks and ("2", "no", rows[1]["text"]) in marks
    assert ("3", "", rows[2]["text"]) in marks

    actions = audit_actions(env)
    assert [action for action, _ in actions] == ["quotes-review", "quotes-approve", "quotes-review"]
    assert actions[1][1]["approved"] == 2 and actions[1][1]["edited"] == 1


def test_approving_the_same_file_again_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    review = tmp_path / "quotes.csv"
    invoke(env, "quotes", "review", "--out", str(review))
    rows = read_rows(review)
    for row in rows:
        row["approved"] = "yes"
    write_rows(review, rows)
    assert "4 decisions new or changed" in invoke(env, "quotes", "approve", str(review)).output
    first = approved(env)
    result = invoke(env, "quotes", "approve", str(review))
    assert result.exit_code == 0 and "4 approved, 0 rejected, 0 undecided; 0 decisions new or changed" in result.output
    assert approved(env) == first and len(first) == 4
    # Clearing a mark withdraws the approval: the quote is undecided again.
    rows[0]["approved"] = ""
    write_rows(review, rows)
    assert "1 decision new or changed" in invoke(env, "quotes", "approve", str(review)).output
    assert (1, "community_meaning") not in approved(env)


def test_bad_rows_are_named_and_nothing_is_recorded(env: dict[str, str], tmp_path: Path) -> None:
    review = tmp_path / "quotes.csv"
    invoke(env, "quotes", "review", "--out", str(review))
    rows = read_rows(review)
    rows[0]["approved"] = "maybe"
    rows[1]["submission"] = "abc"
    rows[2]["approved"] = "yes"
    rows[2]["text"] = ""
    rows[3]["approved"] = "yes"
    extra = [{**rows[3]}, {"submission": "5", "question": "community_meaning", "text": "x", "approved": "yes"}]
    write_rows(review, rows + extra)
    result = CliRunner().invoke(main, ["quotes", "approve", str(review)], env=env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "5 problems, nothing recorded" in result.output
    assert "row 2: approved 'maybe': write yes, tak, 1 or x; no, nie or 0; or leave it empty" in result.output
    assert "row 3: submission 'abc' is not a number" in result.output
    assert "row 4: approved with an empty text" in result.output
    assert "row 6: submission 4, question community_meaning is on row 5 already" in result.output
    assert "row 7: submission 5, question community_meaning is no quote candidate" in result.output  # said no
    assert approved(env) == {}
    assert [action for action, _ in audit_actions(env)] == ["quotes-review"]


def test_a_candidate_from_another_file_or_questionnaire_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    review = tmp_path / "quotes.csv"
    write_rows(review, [{"submission": "1", "question": "helps", "text": "x", "approved": "yes"}])
    result = CliRunner().invoke(main, ["quotes", "approve", str(review)], env=env)
    assert result.exit_code == 1 and "row 2: submission 1, question helps is no quote candidate" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"submission,question,text\n1,community_meaning,x\n", "row 1: the header lacks approved"),
        ("submission,question,text,approved\n1,community_meaning,Żółw,yes\n".encode("cp1250"), "is not UTF-8"),
    ],
)
def test_an_unreadable_file_is_refused_in_one_line(
    env: dict[str, str], tmp_path: Path, content: bytes, message: str
) -> None:
    review = tmp_path / "quotes.csv"
    review.write_bytes(content)
    result = CliRunner().invoke(main, ["quotes", "approve", str(review)], env=env)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_staff_errors_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    missing = CliRunner().invoke(main, ["quotes", "approve", str(tmp_path / "nope.csv")], env=env)
    assert missing.exit_code == 1 and "Error: cannot read" in missing.output and "no such file" in missing.output
    folder = CliRunner().invoke(main, ["quotes", "review", "--out", str(tmp_path / "no" / "q.csv")], env=env)
    assert folder.exit_code == 1 and "does not exist" in folder.output
    unknown = CliRunner().invoke(main, ["quotes", "review", "-o", str(tmp_path / "q.csv"), "-q", "nope"], env=env)
    assert unknown.exit_code == 1 and "no such questionnaire 'nope'" in unknown.output
    assert "Traceback" not in missing.output + folder.output + unknown.output


def test_no_candidates_is_a_warning_not_an_empty_file(tmp_path: Path) -> None:
    env = service_environment(tmp_path / "data")
    out = tmp_path / "quotes.csv"
    result = CliRunner().invoke(main, ["quotes", "review", "--out", str(out)], env=env)
    assert result.exit_code == 0 and "Warning: no quotes to review" in result.output
    assert not out.exists()


def test_an_approval_lapses_when_the_answer_or_the_consent_changes(env: dict[str, str], tmp_path: Path) -> None:
    review = tmp_path / "quotes.csv"
    invoke(env, "quotes", "review", "--out", str(review))
    rows = read_rows(review)
    for row in rows:
        row["approved"] = "1"
    write_rows(review, rows)
    invoke(env, "quotes", "approve", str(review))
    assert len(approved(env)) == 4

    async def change() -> None:
        async with open_service(load_settings(env, env_file=None)) as service, service.store.unit() as unit:
            answers = {
                (answer.submission_id, answer.question_code): answer
                for answer in await unit.session.scalars(select(Answer).where(Answer.submission_id.in_([2, 3, 4])))
            }
            answers[(2, "community_meaning")].text = "Inne słowa niż te zatwierdzone."  # the words changed
            answers[(3, "quote_consent")].options = ["no"]  # the author withdrew the consent
            await unit.session.delete(await unit.session.get(Submission, 4))  # erased: its decision goes too

    asyncio.run(change())
    assert set(approved(env)) == {(1, "community_meaning")}
    invoke(env, "quotes", "review", "-o", str(review))
    rows = read_rows(review)
    # The changed answer is to decide again; the withdrawn consent and the erased submission are no candidates.
    assert [(row["submission"], row["approved"]) for row in rows] == [("1", "yes"), ("2", "")]


def test_the_masking_marks_are_kept_when_a_quote_starts_like_a_formula(env: dict[str, str], tmp_path: Path) -> None:
    async def one_more() -> None:
        async with open_service(load_settings(env, env_file=None)) as service:
            person = Person(service, "r9", channel="telegram")
            await person.begin()
            await person.tap("wola")
            await person.send("=) +48 600 100 200 to mój numer")
            await person.send("1")
            await person.send("3")
            for _ in range(6):
                await person.act(Action.SKIP)
            await person.send("tak")
            await person.act(Action.DONE)
            await person.act(Action.CONFIRM)

    asyncio.run(one_more())
    review = tmp_path / "quotes.csv"
    invoke(env, "quotes", "review", "--out", str(review))
    assert "'=) [telefon] to mój numer" in review.read_text(encoding="utf-8-sig")  # no formula in Excel
    rows = read_rows(review)
    rows[-1]["approved"] = "yes"
    write_rows(review, rows)
    invoke(env, "quotes", "approve", str(review))
    assert approved(env)[(6, "community_meaning")] == "=) [telefon] to mój numer"


def test_rows_are_numbered_as_a_spreadsheet_numbers_them_whatever_the_texts_hold() -> None:
    from reports.quote_review import read_review

    text = 'submission,question,text,approved\n1,q,"Dwie\nlinie",yes\n2,q,x,perhaps\n\n3,q,"\'=) ok",tak\n'
    review = read_review(text, "quotes.csv")
    assert review.problems == [(3, "approved 'perhaps': write yes, tak, 1 or x; no, nie or 0; or leave it empty")]
    assert [(number, row.text, row.approved) for number, row in review.rows] == [
        (2, "Dwie\nlinie", "yes"),
        (5, "=) ok", "yes"),
    ]


async def test_review_and_approval_on_each_database(database_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from reports.quote_review import ReviewFile, ReviewRow, approve_review, review_rows
    from tests.support import make_settings

    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    async with open_service(make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)) as service:
        await seed(service)
        questionnaire = service.config.questionnaires[QUESTIONNAIRE]
        rows = await review_rows(service.store, questionnaire)
        assert [(row.submission, row.text) for row in rows][3] == (4, KOWALSKA)
        marked = [(n + 2, ReviewRow(row.submission, row.question, row.text, "yes")) for n, row in enumerate(rows)]
        review = ReviewFile("quotes.csv", marked, [])
        result = await approve_review(service.store, questionnaire, review, actor="cli:test", now=now)
        assert (result.approved, result.changed) == (4, 4)
        again = await approve_review(service.store, questionnaire, review, actor="cli:test", now=now)
        assert again.changed == 0
        quotes = await approved_quotes(service.store, QUESTIONNAIRE)
        assert quotes[(4, "community_meaning")] == KOWALSKA and len(quotes) == 4
        assert await approved_quotes(service.store, "no-such-questionnaire") == {}

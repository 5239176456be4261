"""Quotes staff approve before a public report shows them: the review file written, read back and recorded.

`wspolnota quotes review` writes every candidate — an open answer whose author allowed quoting — masked,
one a row (`submission`, `question`, `text`, `approved`); staff mark `approved` (yes/tak/1/x, no/nie/0,
or leave it empty) and may edit the text; `wspolnota quotes approve` reads the file back and records
it. `approved_quotes` gives the report what it may publish.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from handlers.definitions.questionnaire import Questionnaire, QuestionType
from reports.masking import mask
from storage.quotes import (
    APPROVED,
    QUOTE_CONSENT,
    REJECTED,
    QuoteDecision,
    quote_candidates,
    record_decisions,
)
from storage.quotes import approved_quotes as approved_quotes  # the report's API, here beside the review
from storage.repository import Store

CONSENT = QUOTE_CONSENT  # the question whose "yes" allows quoting, and that answer
COLUMNS = ("submission", "question", "text", "approved")
YES = frozenset({"yes", "tak", "1", "x", "y", "t", "так", "true"})
NO = frozenset({"no", "nie", "0", "n", "ні", "false"})
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run a cell starting so


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One quote in the review file."""

    submission: int
    question: str
    text: str
    approved: str  # "yes", "no" or "" (undecided)


@dataclass
class ApproveResult:
    """What one `quotes approve` recorded."""

    approved: int = 0
    rejected: int = 0
    undecided: int = 0
    edited: int = 0  # approved with a text staff changed from the masked one
    changed: int = 0  # decisions new or different from those stored
    warnings: list[str] = field(default_factory=list)


class ReviewProblems(Exception):
    """The review file cannot be recorded; each problem names its row (nothing was recorded)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: {len(problems)} problem(s): " + "; ".join(problems))
        self.source = source
        self.problems = problems


def open_questions(questionnaire: Questionnaire) -> list[str]:
    """The codes of the questionnaire's open questions, in its order."""
    return [question.code for question in questionnaire.questions if question.type is QuestionType.TEXT]


async def review_rows(store: Store, questionnaire: Questionnaire, *, masked: bool = True) -> list[ReviewRow]:
    """Every candidate quote, masked, by submission and question; decided ones keep their mark (and an
    approved one the text staff approved). With `masked` False, texts not approved stay as written, for a
    caller that shows only some of them and masks those (`shown_text`): masking thousands takes seconds."""
    codes = open_questions(questionnaire)
    order = {code: n for n, code in enumerate(codes)}
    candidates = await quote_candidates(store, questionnaire.id, codes, CONSENT)
    rows = []
    for candidate in sorted(candidates, key=lambda c: (c.submission_id, order[c.question_code])):
        if candidate.decision == APPROVED and candidate.published:
            text, mark = candidate.published, "yes"
        else:
            text = mask(candidate.text) if masked else candidate.text
            mark = "no" if candidate.decision == REJECTED else ""
        rows.append(ReviewRow(candidate.submission_id, candidate.question_code, text, mark))
    return rows


def shown_text(row: ReviewRow) -> str:
    """What a row of `review_rows(..., masked=False)` shows: the approved text, or the written one masked."""
    return row.text if row.approved == "yes" else mask(row.text)


def write_review(rows: Iterable[ReviewRow], out: TextIO) -> None:
    """Writes the review file's rows as CSV (the caller opens it as UTF-8 with a BOM for Excel)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        text = "'" + row.text if row.text.startswith(_FORMULA) else row.text
        writer.writerow([row.submission, row.question, text, row.approved])


def decode_review(data: bytes, source: str) -> str:
    """The review file's text.

    Raises:
        ReviewProblems: when it is not UTF-8 (Cyrillic and Polish letters would be lost).
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReviewProblems(
            source,
            [
                "the file is not UTF-8: save it as 'CSV UTF-8' in Excel, or choose the UTF-8 character set in "
                "LibreOffice (otherwise Cyrillic and Polish letters are lost)"
            ],
        ) from None


@dataclass(frozen=True, slots=True)
class ReviewFile:
    """The review file as read: its good rows with their row numbers, and the problems of the others."""

    source: str
    rows: list[tuple[int, ReviewRow]]
    problems: list[tuple[int, str]]  # (row number, what is wrong)


def read_review(text: str, source: str) -> ReviewFile:
    """The review file's rows with their row numbers (the header is row 1, as a spreadsheet counts), and
    the problem of each row that cannot be read.

    Raises:
        ReviewProblems: when a column is missing (no row can be read).
    """
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","  # Excel in Polish saves with ;
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ReviewProblems(source, [f"row 1: the header lacks {', '.join(missing)} (it needs {', '.join(COLUMNS)})"])
    rows: list[tuple[int, ReviewRow]] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[int, str], int] = {}
    # Numbered by records, as a spreadsheet numbers its rows: a text may hold line breaks, a line may be empty.
    for number, cells in enumerate(reader, start=2):
        record = dict(zip(header, cells, strict=False))
        values = {column: (record.get(column) or "").strip() for column in COLUMNS}
        if not any(values.values()):
            continue  # an empty row
        row, problem = _row(values, record.get("text") or "")
        if problem:
            problems.append((number, problem))
            continue
        assert row is not None
        key = (row.submission, row.question)
        if key in seen:
            problems.append((number, f"submission {key[0]}, question {key[1]} is on row {seen[key]} already"))
            continue
        seen[key] = number
        rows.append((number, row))
    return ReviewFile(source, rows, problems)


def _row(values: dict[str, str], raw_text: str) -> tuple[ReviewRow | None, str | None]:
    try:
        submission = int(values["submission"])
    except ValueError:
        return None, f"submission {values['submission']!r} is not a number"
    if not values["question"]:
        return None, "the question is empty"
    mark = values["approved"].lower()
    if mark in YES:
        approved = "yes"
    elif mark in NO:
        approved = "no"
    elif mark == "":
        approved = ""
    else:
        return None, f"approved {values['approved']!r}: write yes, tak, 1 or x; no, nie or 0; or leave it empty"
    text = raw_text.strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA):
        text = text[1:]  # the guard write_review put there
    if approved == "yes" and (problem := approval_problem(text)):
        return None, problem
    return ReviewRow(submission, values["question"], text, approved), None


def approval_problem(text: str) -> str | None:
    """Why a text staff approve cannot be published at all (it is empty), or None."""
    return None if text.strip() else "approved with an empty text"


def masking_warning(text: str) -> str | None:
    """What masking would still hide in a text staff approve (a name, an address, contact data), or None."""
    masked = mask(text)
    if masked == text:
        return None
    return f"the approved text may still name someone or hold contact data (masking would make it {masked!r})"


async def approve_review(
    store: Store,
    questionnaire: Questionnaire,
    review: ReviewFile,
    *,
    actor: str,
    now: datetime,
) -> ApproveResult:
    """Records the decisions in the review file's rows — all of them, or none when any row is wrong; quotes
    left out of the file keep their decisions. The approved text is the file's, as staff left it.

    Raises:
        ReviewProblems: naming every wrong row (unreadable, or no quote candidate of this questionnaire).
    """
    candidates = {
        (c.submission_id, c.question_code): c
        for c in await quote_candidates(store, questionnaire.id, open_questions(questionnaire), CONSENT)
    }
    rows = review.rows
    problems = review.problems + [
        (
            number,
            f"submission {row.submission}, question {row.question} is no quote candidate in "
            f"'{questionnaire.id}' (no such open answer, or its author did not allow quoting)",
        )
        for number, row in rows
        if (row.submission, row.question) not in candidates
    ]
    if problems:
        raise ReviewProblems(review.source, [f"row {number}: {problem}" for number, problem in sorted(problems)])
    result = ApproveResult()
    decisions = []
    for number, row in rows:
        candidate = candidates[(row.submission, row.question)]
        if row.approved == "yes":
            result.approved += 1
            if row.text != mask(candidate.text):
                result.edited += 1
            if warning := masking_warning(row.text):
                result.warnings.append(f"row {number}: {warning}; published as written")
            decisions.append(QuoteDecision(row.submission, row.question, APPROVED, row.text, candidate.text))
        elif row.approved == "no":
            result.rejected += 1
            decisions.append(QuoteDecision(row.submission, row.question, REJECTED, None, candidate.text))
        else:
            result.undecided += 1
            decisions.append(QuoteDecision(row.submission, row.question, None, None, candidate.text))
    details = {
        "questionnaire": questionnaire.id,
        "file": review.source,
        "approved": result.approved,
        "rejected": result.rejected,
        "undecided": result.undecided,
        "edited": result.edited,
    }
    result.changed = await record_decisions(store, decisions, actor=actor, now=now, details=details)
    return result


class QuoteRefused(Exception):
    """One decision that cannot be recorded: why, in the review file's words, and what masking would make of
    the text (when that is the reason)."""

    def __init__(self, reason: str, masked: str | None = None) -> None:
        super().__init__(reason)
        self.masked = masked


@dataclass(frozen=True, slots=True)
class QuoteDecided:
    """What deciding one quote recorded."""

    decision: str  # APPROVED or REJECTED
    edited: bool  # approved with a text other than the masked answer
    changed: bool  # the stored decision is new or different


async def decide_quote(
    store: Store,
    questionnaire: Questionnaire,
    key: tuple[int, str],
    decision: str,
    text: str | None,
    *,
    actor: str,
    now: datetime,
    via: str,
) -> QuoteDecided:
    """Records staff's decision on one quote (submission, question), audited as `quote_approve` or
    `quote_reject` with the questionnaire, submission and question (never the text). The approved text is
    `text` as given (None: the masked answer). Stricter than a review file, which only warns: an approved text
    that masking would still change is refused, since the one deciding can fix it on the spot.

    Raises:
        LookupError: no such quote candidate in this questionnaire.
        QuoteRefused: an empty approved text, or one masking would change.
    """
    if decision not in (APPROVED, REJECTED):
        raise ValueError(f"a decision is {APPROVED} or {REJECTED}, not {decision!r}")
    candidates = await quote_candidates(store, questionnaire.id, open_questions(questionnaire), CONSENT)
    candidate = next((c for c in candidates if (c.submission_id, c.question_code) == key), None)
    if candidate is None:
        raise LookupError(key)
    masked = mask(candidate.text)
    published = None
    if decision == APPROVED:
        published = masked if text is None else text.strip()
        if problem := approval_problem(published):
            raise QuoteRefused(problem)
        if published != masked and (warning := masking_warning(published)):
            raise QuoteRefused(warning, mask(published))
    edited = published is not None and published != masked
    details = {
        "questionnaire": questionnaire.id,
        "submission": candidate.submission_id,
        "question": candidate.question_code,
        "edited": edited,
        "via": via,
    }
    action = "quote_approve" if decision == APPROVED else "quote_reject"
    stored = QuoteDecision(candidate.submission_id, candidate.question_code, decision, published, candidate.text)
    changed = await record_decisions(store, [stored], actor=actor, now=now, details=details, action=action)
    return QuoteDecided(decision, edited, changed > 0)

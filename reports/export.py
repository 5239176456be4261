"""Exports submissions for analysis: JSON Lines and CSV, one record per submission."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Mapping
from typing import IO, Any

from handlers.questionnaire import Question, Questionnaire, QuestionType
from storage.models import Answer, Submission
from storage.repository import Store, SubmissionFilter, stream_submissions

METADATA = (
    "submission",
    "respondent",
    "channel",
    "event",
    "event_known",
    "stand",
    "language",
    "questionnaire",
    "questionnaire_version",
    "privacy_version",
    "status",
    "started_at",
    "finished_at",
)
OTHER_SUFFIX = "__other"
# Cells that spreadsheets would run as formulas (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _value(question: Question | None, answer: Answer) -> Any:
    if answer.skipped:
        return None
    if answer.number is not None:
        return answer.number
    if answer.options is not None:
        if question is not None and question.type is not QuestionType.MULTIPLE_CHOICE:
            return answer.options[0] if answer.options else None
        return list(answer.options)
    return answer.text


def build_record(
    submission: Submission, pseudonym: str, questionnaire: Questionnaire | None, *, include_contact: bool
) -> dict[str, Any]:
    """One submission with its answers keyed by question code (an "other" text under `code__other`)."""
    record: dict[str, Any] = {
        "submission": submission.id,
        "respondent": pseudonym[:16],
        "channel": submission.channel,
        "event": submission.event,
        "event_known": submission.event_known,
        "stand": submission.stand,
        "language": submission.language,
        "questionnaire": submission.questionnaire_id,
        "questionnaire_version": submission.questionnaire_version,
        "privacy_version": submission.privacy_version,
        "status": submission.status,
        "started_at": submission.started_at.isoformat(),
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
    }
    answers: dict[str, Any] = {}
    for code, answer in sorted(submission.answers.items()):
        question = questionnaire.question(code) if questionnaire else None
        if question is not None and question.type is QuestionType.EMAIL and not include_contact:
            continue
        answers[code] = _value(question, answer)
        if answer.options is not None and answer.text is not None:
            answers[code + OTHER_SUFFIX] = answer.text
    record["answers"] = answers
    return record


async def export_records(
    store: Store,
    questionnaires: Mapping[str, Questionnaire],
    filters: SubmissionFilter,
    *,
    include_contact: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    """Streams export records without holding the whole table in memory."""
    async for submission, pseudonym in stream_submissions(store, filters):
        questionnaire = questionnaires.get(submission.questionnaire_id)
        yield build_record(submission, pseudonym, questionnaire, include_contact=include_contact)


def neutralise(cell: Any) -> Any:
    """Makes a cell safe to open in a spreadsheet: text starting like a formula gets a leading '."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def csv_columns(questionnaire: Questionnaire | None, *, include_contact: bool) -> list[str]:
    """The CSV header: metadata, then one column per question code (plus `code__other`)."""
    columns = list(METADATA)
    for question in questionnaire.questions if questionnaire else ():
        if question.type is QuestionType.EMAIL and not include_contact:
            continue
        columns.append(question.code)
        if any(option.other for option in question.options):
            columns.append(question.code + OTHER_SUFFIX)
    return columns


async def write_jsonl(records: AsyncIterator[dict[str, Any]], out: IO[str]) -> int:
    """Writes one JSON object per line; returns how many."""
    count = 0
    async for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


async def write_csv(records: AsyncIterator[dict[str, Any]], out: IO[str], columns: list[str]) -> int:
    """Writes a CSV with a header; multiple choices are joined with `;`. Returns how many rows."""
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    count = 0
    async for record in records:
        row = {**record, **record["answers"]}
        writer.writerow({k: neutralise(";".join(v) if isinstance(v, list) else v) for k, v in row.items()})
        count += 1
    return count

"""Export records: one per submission with its answers by question code (JSON Lines), and stored emails."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import IO, Any

from handlers.questionnaire import Question, Questionnaire, QuestionType
from storage.repository import Store, SubmissionFilter, stream_answer_rows

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
OTHER_SUFFIX = "__text"  # the text of an "other: ___" option (apart from the option's own column)
# Cells that spreadsheets would run as formulas (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _value(question: Question | None, options: list[str] | None, text: str | None, number: int | None) -> Any:
    if number is not None:
        return number
    if options is not None:
        if question is not None and question.type is not QuestionType.MULTIPLE_CHOICE:
            return options[0] if options else None
        return list(options)
    return text


async def export_records(
    store: Store,
    questionnaires: Mapping[str, Questionnaire],
    filters: SubmissionFilter,
    *,
    include_contact: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    """Streams one record per submission (answers keyed by question code; an "other" text under
    `code__text`) without holding the table in memory."""
    record: dict[str, Any] | None = None
    questionnaire: Questionnaire | None = None
    async for row in stream_answer_rows(store, filters):
        if record is None or record["submission"] != row.id:
            if record is not None:
                yield record
            questionnaire = questionnaires.get(row.questionnaire_id)
            record = {
                "submission": row.id,
                "respondent": row.pseudonym[:16],
                "channel": row.channel,
                "event": row.event,
                "event_known": row.event_known,
                "stand": row.stand,
                "language": row.language,
                "questionnaire": row.questionnaire_id,
                "questionnaire_version": row.questionnaire_version,
                "privacy_version": row.privacy_version,
                "status": row.status,
                "started_at": row.started_at.isoformat(),
                "finished_at": row.finished_at.isoformat() if row.finished_at else None,
                "answers": {},
            }
        code = row.question_code
        if code is None:
            continue  # a submission with no answer yet
        question = questionnaire.question(code) if questionnaire else None
        if question is not None and question.type is QuestionType.EMAIL and not include_contact:
            continue
        answers = record["answers"]
        answers[code] = None if row.skipped else _value(question, row.options, row.text, row.number)
        if row.options is not None and row.text is not None and not row.skipped:
            answers[code + OTHER_SUFFIX] = row.text
    if record is not None:
        yield record


def neutralise(cell: Any) -> Any:
    """Makes a cell safe to open in a spreadsheet: text starting like a formula gets a leading '."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


async def write_jsonl(records: AsyncIterator[dict[str, Any]], out: IO[str]) -> int:
    """Writes one JSON object per line; returns how many."""
    count = 0
    async for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


EMAIL_COLUMNS = [
    *("email", "received_at", "kind", "reason", "language", "subject", "own_text", "text"),
    *("attachments", "truncated", "submission", "respondent"),
]


async def email_rows(
    store: Store, filters: SubmissionFilter, *, include_contact: bool = False
) -> AsyncIterator[dict[str, Any]]:
    """Streams the stored emails: the writer's own words and the whole text, how each was classified."""
    from sqlalchemy import select

    from storage.models import Contact, Email

    query = select(Email, Contact.address).outerjoin(Contact, Contact.respondent_id == Email.respondent_id)
    if filters.since:
        query = query.where(Email.received_at >= filters.since)
    if filters.until:
        query = query.where(Email.received_at < filters.until)
    query = query.order_by(Email.id).execution_options(yield_per=500)
    async with store.unit(write=False) as unit:
        result = await unit.session.stream(query)
        async for email, address in result:
            row = {
                "email": email.id,
                "received_at": email.received_at.isoformat(),
                "kind": email.kind,
                "reason": email.reason,
                "language": email.language,
                "subject": email.subject,
                "own_text": email.own_text,
                "text": email.text,
                "attachments": len(email.attachments or []),
                "truncated": email.truncated,
                "submission": email.submission_id,
                "respondent": (email.from_hash or "")[:16] or None,
            }
            if include_contact:
                row["address"] = address
            yield row

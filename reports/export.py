"""Export records: one per submission with its answers by question code (JSON Lines), and stored emails."""

from __future__ import annotations

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
OTHER_SUFFIX = "__text"  # the text of an "other: ___" option (apart from the option's own column)
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
    """One submission with its answers keyed by question code (an "other" text under `code__text`)."""
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

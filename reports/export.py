"""Export records: one per submission with its answers by question code (JSON Lines), and stored emails."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import IO, Any

from handlers.definitions.questionnaire import Questionnaire, QuestionType
from storage.exports import SubmissionFilter, stream_emails, stream_submission_rows
from storage.repository import Store

METADATA = (
    "submission",
    "respondent",
    "channel",
    "event",
    "event_known",
    "stand",
    "assisted",
    "flagged",
    "flagged_from",
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
FORMULA_START = frozenset("=+-@\t\r")


async def export_records(
    store: Store,
    questionnaires: Mapping[str, Questionnaire],
    filters: SubmissionFilter,
    *,
    include_contact: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    """Streams one record per submission (answers keyed by question code, in code order; an "other"
    text under `code__text`) without holding the table in memory."""
    types: dict[str, dict[str, QuestionType]] = {}
    async for row in stream_submission_rows(store, filters):
        (submission, pseudonym, channel, event, event_known, stand, assisted, flag, client, language) = row[:10]
        (questionnaire_id, version, privacy_version, status, started_at, finished_at, given) = row[10:]
        if (kinds := types.get(questionnaire_id)) is None:
            questionnaire = questionnaires.get(questionnaire_id)
            kinds = types[questionnaire_id] = {q.code: q.type for q in questionnaire.questions} if questionnaire else {}
        answers: dict[str, Any] = {}
        for code, options, text, number, skipped in sorted(given or ()):
            kind = kinds.get(code)
            if kind is QuestionType.EMAIL and not include_contact:
                continue
            if skipped:
                answers[code] = None
            elif number is not None:
                answers[code] = number
            elif options is None:
                answers[code] = text
            else:
                # One pick is kept as a list in storage; only a multiple choice (or an unknown question) stays one.
                single = kind is not None and kind is not QuestionType.MULTIPLE_CHOICE
                answers[code] = (options[0] if options else None) if single else options
                if text is not None:
                    answers[code + OTHER_SUFFIX] = text
        yield {
            "submission": submission,
            "respondent": pseudonym[:16],
            "channel": channel,
            "event": event,
            "event_known": event_known,
            "stand": stand,
            "assisted": assisted,
            "flagged": flag,  # why the web chat doubts it (`burst`, `kiosk-burst`), else None
            "flagged_from": client,  # the same tag: the same place on the same day
            "language": language,
            "questionnaire": questionnaire_id,
            "questionnaire_version": version,
            "privacy_version": privacy_version,
            "status": status,
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat() if finished_at else None,
            "answers": answers,
        }


def neutralise(cell: Any) -> Any:
    """Makes a cell safe to open in a spreadsheet: text starting like a formula gets a leading '."""
    if isinstance(cell, str) and cell[:1] in FORMULA_START:
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
    *("attachments", "truncated", "submission", "respondent", "reply_to_differs"),
]


async def email_rows(
    store: Store, filters: SubmissionFilter, *, include_contact: bool = False
) -> AsyncIterator[dict[str, Any]]:
    """Streams the stored emails: the writer's own words and the whole text, how each was classified."""
    async for email, address in stream_emails(store, filters):
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
            # A Reply-To other than From: we answered From only; staff may decide to write there.
            "reply_to_differs": email.reply_to is not None,
        }
        if include_contact:
            row["address"] = address
            row["reply_to"] = email.reply_to
        yield row

"""What staff take out of the service, the same from the command line and from a Telegram chat:
live counts, and an export that writes its audit entry before its first row."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from handlers.definitions.i18n import Language
from handlers.definitions.questionnaire import Questionnaire
from reports import stats as live
from reports.export import EMAIL_COLUMNS, email_rows, export_records
from reports.tables import LONG_COLUMNS, long_rows, wide_columns, wide_row, write_csv_rows
from storage.audit import audit
from storage.exports import SubmissionFilter
from storage.repository import Store

logger = logging.getLogger(__name__)

Row = dict[str, Any]
CSV_ENCODING = "utf-8-sig"  # CSV gets a BOM so Excel reads Polish letters as UTF-8


@dataclass(frozen=True, slots=True)
class ExportChoice:
    """What staff asked to export, and how (the CLI's options; Telegram's /export takes the defaults)."""

    what: str = "submissions"  # or "emails"
    fmt: str = "csv"  # csv, xlsx or jsonl: recorded in the audit entry, written by the caller
    layout: str = "wide"  # a row per submission, or "long": a row per answer
    labels: Language | None = None  # option labels in this language instead of codes
    include_contact: bool = False


@dataclass(frozen=True, slots=True)
class Export:
    """An export under way: its rows and their columns, and the submission records behind them (for
    JSON Lines); streams, read once, nothing held in memory."""

    rows: AsyncIterator[Row]
    columns: list[str]
    records: AsyncIterator[Row]


async def describe_live_stats(store: Store, questionnaire: Questionnaire, now: datetime) -> str:
    """Live counts of one questionnaire as text: today and in total, by event and channel, per question."""
    figures = await live.collect_stats(store, now, questionnaire.id)
    return live.describe_stats(figures, [q.code for q in questionnaire.questions])


async def start_export(
    store: Store,
    questionnaires: Mapping[str, Questionnaire],
    questionnaire: Questionnaire,
    filters: SubmissionFilter,
    choice: ExportChoice,
    *,
    actor: str,
    now: datetime,
    via: str | None = None,
) -> Export:
    """Records who exports what (never the data itself), then hands over the rows to write."""
    details: dict[str, Any] = {
        "what": choice.what,
        "format": choice.fmt,
        "layout": choice.layout,
        "filters": repr(filters),
        "include_contact": choice.include_contact,
    }
    await audit(store, actor, "export", details | ({"via": via} if via else {}), now)
    if choice.include_contact:
        logger.warning("Export includes contact data (filters: %s)", filters)
    records = export_records(store, questionnaires, filters, include_contact=choice.include_contact)
    if choice.what == "emails":
        rows = email_rows(store, filters, include_contact=choice.include_contact)
        return Export(rows, EMAIL_COLUMNS + (["address", "reply_to"] if choice.include_contact else []), records)
    if choice.layout == "long":
        return Export(_flatten(records, lambda r: long_rows(r, questionnaire, choice.labels)), LONG_COLUMNS, records)
    rows = _flatten(records, lambda r: [wide_row(r, questionnaire, choice.labels)])
    return Export(rows, wide_columns(questionnaire, include_contact=choice.include_contact), records)


async def export_csv(
    store: Store,
    questionnaires: Mapping[str, Questionnaire],
    questionnaire: Questionnaire,
    out: IO[str],
    *,
    actor: str,
    now: datetime,
    via: str | None = None,
) -> int:
    """Writes every submission of a questionnaire as CSV, a row each, without contact data (audited);
    returns the number of rows. `out` adds the BOM when opened with `CSV_ENCODING`."""
    filters = SubmissionFilter(questionnaire.id)
    choice = ExportChoice()
    export = await start_export(store, questionnaires, questionnaire, filters, choice, actor=actor, now=now, via=via)
    return await write_csv_rows(export.rows, out, export.columns)


async def _flatten(records: AsyncIterator[Row], rows_of: Callable[[Row], list[Row]]) -> AsyncIterator[Row]:
    async for record in records:
        for row in rows_of(record):
            yield row

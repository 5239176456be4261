"""Spreadsheet layouts of the export: wide (a row per submission) and long (a row per answer), and their writers."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from handlers.definitions.i18n import Language
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from reports.codebook import YES_NO
from reports.export import FORMULA_START, METADATA, OTHER_SUFFIX

LONG_COLUMNS = [
    "submission",
    "respondent",
    "channel",
    "event",
    "stand",
    "assisted",
    "language",
    "questionnaire_version",
    "status",
    "started_at",
    "finished_at",
    "question",
    "option",
    "value",
    "skipped",
]
BOOLEANS = ("event_known", "assisted")  # 1/0 in the tables, as statistical tools read them
DATES = frozenset({"started_at", "finished_at"})  # real dates in Europe/Warsaw in XLSX
WARSAW = ZoneInfo("Europe/Warsaw")
WIDTH_SAMPLE = 1000  # XLSX column widths follow the longest value among the first rows
MAX_WIDTH = 60
Row = dict[str, Any]


def wide_columns(questionnaire: Questionnaire, *, include_contact: bool) -> list[str]:
    """Metadata, then a column per question code; a multiple choice gets a 0/1 column per option."""
    columns = list(METADATA)
    for question in _exported(questionnaire, include_contact):
        if question.type is QuestionType.MULTIPLE_CHOICE:
            columns += [f"{question.code}__{option.code}" for option in question.options]
        else:
            columns.append(question.code)
        if any(option.other for option in question.options):
            columns.append(question.code + OTHER_SUFFIX)
    return columns


def _exported(questionnaire: Questionnaire, include_contact: bool) -> list[Question]:
    return [q for q in questionnaire.questions if include_contact or q.type is not QuestionType.EMAIL]


def _label(question: Question, code: str, labels: Language | None) -> str:
    if labels is None:
        return code
    option = question.option(code)
    if option is not None:
        return option.label(labels)
    answer = YES_NO.get(code)
    return answer[1][labels] if answer is not None else code


# How each question fills its wide columns: ("value" | "multi", code, labels or option columns, its "other" column).
_Plan = list[tuple[str, str, Any, str]]
_plans: dict[tuple[int, Language | None], tuple[Questionnaire, _Plan]] = {}


def _wide_plan(questionnaire: Questionnaire, labels: Language | None) -> _Plan:
    """Works out once per questionnaire and language what `wide_row` does for every record."""
    key = (id(questionnaire), labels)
    if (known := _plans.get(key)) is None or known[0] is not questionnaire:
        plan: _Plan = []
        for question in questionnaire.questions:
            code = question.code
            if question.type is QuestionType.MULTIPLE_CHOICE:
                columns = [(f"{code}__{option.code}", option.code) for option in question.options]
                plan.append(("multi", code, columns, code + OTHER_SUFFIX))
            elif labels is not None and question.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
                names = {value: _label(question, value, labels) for value in (*question.option_codes, "yes", "no")}
                plan.append(("value", code, names, code + OTHER_SUFFIX))
            else:
                plan.append(("value", code, None, code + OTHER_SUFFIX))
        if len(_plans) > 64:  # questionnaires are loaded once per service; tests load many
            _plans.clear()
        known = _plans[key] = (questionnaire, plan)
    return known[1]


def wide_row(record: Row, questionnaire: Questionnaire, labels: Language | None = None) -> Row:
    """One submission as one spreadsheet row (codes, or labels in a language)."""
    row = {key: record[key] for key in METADATA}
    for key in BOOLEANS:
        row[key] = int(row[key])
    answers = record["answers"]
    for kind, code, how, other in _wide_plan(questionnaire, labels):
        value = answers.get(code)
        if kind == "multi":
            for column, option in how:
                row[column] = None if value is None else 1 if option in value else 0
        elif how is not None and isinstance(value, str):
            row[code] = how.get(value, value)
        else:
            row[code] = value
        if other in answers:
            row[other] = answers[other]
    return row


def long_rows(record: Row, questionnaire: Questionnaire, labels: Language | None = None) -> list[Row]:
    """One submission as one row per answer (a row per picked option) for statistical tools."""
    base = {key: record[key] for key in LONG_COLUMNS[:11]}
    base["assisted"] = int(base["assisted"])
    base["skipped"] = 0
    rows = []
    for code, value in record["answers"].items():
        if code.endswith(OTHER_SUFFIX):
            continue
        question = questionnaire.question(code)
        if question is None:
            continue
        other = record["answers"].get(code + OTHER_SUFFIX)
        if isinstance(value, list):
            for option in value:
                choice = question.option(option)
                text = other if choice is not None and choice.other else None
                rows.append({**base, "question": code, "option": _label(question, option, labels), "value": text})
        elif question.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO) and isinstance(value, str):
            rows.append({**base, "question": code, "option": _label(question, value, labels), "value": other})
        else:
            skipped = int(value is None)  # only a skipped question is kept without a value
            rows.append({**base, "question": code, "option": None, "value": value, "skipped": skipped})
    return rows


async def write_csv_rows(
    rows: AsyncIterator[Row], out: IO[str], columns: list[str], *, neutralised: bool = True
) -> int:
    """Writes rows as CSV; returns how many. `neutralised` (for Excel) prefixes formula-like cells with
    `'`; a CSV for statistical tools keeps every text as written."""
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    async for row in rows:
        if neutralised:
            # `neutralise` inlined: this runs for every cell of a million-answer export.
            writer.writerow(
                [("'" + v if isinstance(v, str) and v[:1] in FORMULA_START else v) for v in map(row.get, columns)]
            )
        else:
            writer.writerow(list(map(row.get, columns)))
        count += 1
    return count


Sheet = tuple[str, list[str], Sequence[Row]]  # a further sheet of an XLSX: its name, columns and rows


async def write_xlsx_rows(
    rows: AsyncIterator[Row],
    path: Path,
    columns: list[str],
    sheet: str,
    tick: Callable[[], None] | None = None,
    *,
    dates: Collection[str] = (),
    more: Sequence[Sheet] = (),
) -> int:
    """Writes rows to an XLSX file in streaming mode: bold, frozen header with a filter, widths that fit
    the first rows; returns how many. Text is stored as text (never a formula); the `dates` columns
    (ISO 8601 text) become real date cells in Europe/Warsaw. `more` sheets follow the first."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    iterator = aiter(rows)
    sample: list[Row] = []
    async for row in iterator:
        sample.append(row)
        if len(sample) >= WIDTH_SAMPLE:
            break
    _start_sheet(worksheet, columns, sample, dates)
    date_at = [index for index, name in enumerate(columns) if name in dates]
    count = 0

    def put(row: Row) -> None:
        values = [_xlsx_cell(worksheet, row.get(name)) for name in columns]
        for index in date_at:
            values[index] = _date_cell(worksheet, row.get(columns[index]))
        worksheet.append(values)

    for row in sample:
        put(row)
        count += 1
        if tick is not None:
            tick()
    if len(sample) >= WIDTH_SAMPLE:
        async for row in iterator:
            put(row)
            count += 1
            if tick is not None:
                tick()
    worksheet.auto_filter.ref = f"A1:{_letter(len(columns))}{count + 1}"
    for name, sheet_columns, sheet_rows in more:
        extra = workbook.create_sheet(name)
        _start_sheet(extra, sheet_columns, sheet_rows, ())
        for row in sheet_rows:
            extra.append([_xlsx_cell(extra, row.get(column)) for column in sheet_columns])
    workbook.save(path)
    return count


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _start_sheet(worksheet: Any, columns: list[str], sample: Sequence[Row], dates: Collection[str]) -> None:
    """Sets the widths from the header and the sample rows (capped), freezes and writes the bold header."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    worksheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        longest = (
            19 if name in dates else max((len(str(v)) for r in sample if (v := r.get(name)) is not None), default=0)
        )
        width = min(max(len(name) + 3, longest + 2, 8), MAX_WIDTH)  # + 3: room for the filter's button
        worksheet.column_dimensions[_letter(index)].width = width
    header = []
    for name in columns:
        cell = WriteOnlyCell(worksheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    worksheet.append(header)


def _xlsx_cell(worksheet: Any, value: Any) -> Any:
    """A value as XLSX stores it: booleans as 1/0, text as text even when it starts like a formula."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value[:1] in FORMULA_START:
        from openpyxl.cell import WriteOnlyCell

        # openpyxl would write `=…` as a formula: a string cell, shown with Excel's hidden quote prefix,
        # stays text even when someone edits it.
        cell = WriteOnlyCell(worksheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def _date_cell(worksheet: Any, value: Any) -> Any:
    """An ISO 8601 time (or datetime) as a date cell in Warsaw time; empty stays empty."""
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(WARSAW).replace(tzinfo=None)
    cell = WriteOnlyCell(worksheet, value=moment.replace(microsecond=0))
    cell.number_format = "yyyy-mm-dd hh:mm:ss"
    return cell

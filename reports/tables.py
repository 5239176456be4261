"""Spreadsheet layouts of the export: wide (a row per submission) and long (a row per answer), and their writers."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

from handlers.definitions.i18n import Language
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from reports.export import FORMULA_START, METADATA, OTHER_SUFFIX, neutralise

LONG_COLUMNS = [
    "submission",
    "respondent",
    "channel",
    "event",
    "language",
    "questionnaire_version",
    "question",
    "option",
    "value",
]
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
    return {"yes": "tak", "no": "nie"}.get(code, code) if labels == "pl" else code


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
    base = {key: record[key] for key in ("submission", "respondent", "channel", "event", "language")}
    base["questionnaire_version"] = record["questionnaire_version"]
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
            rows.append({**base, "question": code, "option": None, "value": value})
    return rows


async def write_csv_rows(rows: AsyncIterator[Row], out: IO[str], columns: list[str]) -> int:
    """Writes rows as CSV (formula-like cells neutralised); returns how many."""
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    async for row in rows:
        # `neutralise` inlined: this runs for every cell of a million-answer export.
        writer.writerow(
            [("'" + v if isinstance(v, str) and v[:1] in FORMULA_START else v) for v in map(row.get, columns)]
        )
        count += 1
    return count


async def write_xlsx_rows(
    rows: AsyncIterator[Row], path: Path, columns: list[str], sheet: str, tick: Callable[[], None] | None = None
) -> int:
    """Writes rows to an XLSX file in streaming mode: bold header, frozen, sensible widths."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = min(max(len(name) + 2, 10), 40)
    header = []
    for name in columns:
        cell = WriteOnlyCell(worksheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    worksheet.append(header)
    count = 0
    async for row in rows:
        worksheet.append([neutralise(row.get(name)) for name in columns])
        count += 1
        if tick is not None:
            tick()
    workbook.save(path)
    return count

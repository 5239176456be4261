"""A spreadsheet's cells from the bytes of a CSV or XLSX file: a header and rows, nothing interpreted yet."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

Cell = str | int | float | bool | datetime | date | None
SHEET = "submissions"  # the export's sheet; any other workbook is read from its first sheet


class UnreadableSheet(Exception):
    """The file cannot be read as a table; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Sheet:
    """A table as a spreadsheet shows it: the header (row 1) and the rows after it, blank rows left out."""

    header: list[str]
    rows: list[tuple[int, list[Cell]]]  # (the spreadsheet's row number, the cells)


def read_sheet(name: str, data: bytes) -> Sheet:
    """Reads a CSV (UTF-8, comma, semicolon or tab) or XLSX file's table.

    Raises:
        UnreadableSheet: not a CSV or XLSX file, not UTF-8, or not a workbook.
    """
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == "csv":
        return _table(_csv_rows(data))
    if suffix == "xlsx":
        return _table(_xlsx_rows(data))
    raise UnreadableSheet(f"{name}: import reads .csv or .xlsx files (the layout `wspolnota export` writes)")


def _csv_rows(data: bytes) -> list[list[Cell]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableSheet(
            "the file is not UTF-8: in Excel save it as \u201cCSV UTF-8 (comma delimited)\u201d"
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel in Polish saves with semicolons
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_rows(data: bytes) -> list[list[Cell]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as err:
        raise UnreadableSheet(f"not an XLSX workbook ({err})") from None
    try:
        sheet: Any = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _table(rows: list[list[Cell]]) -> Sheet:
    """The first non-blank row is the header; blank rows after it are left out, numbered as a spreadsheet does."""
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(_filled(cell) for cell in row)]
    if not numbered:
        return Sheet([], [])
    (_, header), *body = numbered
    names = ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in header]
    return Sheet(names, body)


def _filled(cell: Cell) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))

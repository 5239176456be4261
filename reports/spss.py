"""SPSS (.sav) and Stata (.dta) exports through pyreadstat: the wide layout with variable and value labels,
choices numbered in questionnaire order, declared missing values, dates in Europe/Warsaw.

pyreadstat writes a whole pandas DataFrame at once, so the submissions are gathered first, column by
column in compact arrays (8 bytes a number, shared strings for repeated metadata): a row per submission
(about 11 answers each), never the answers themselves, is held.
"""

from __future__ import annotations

from array import array
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from handlers.definitions.i18n import Language
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType, condition_holds
from reports.codebook import (
    DATE_METADATA,
    MISSING,
    NOT_SHOWN,
    SKIPPED,
    STATA_MISSING,
    UNFINISHED,
    Variable,
    codebook,
    numbered,
)
from reports.tables import WARSAW

Format = Literal["sav", "dta"]
# Date-times as the formats count them (numbers, so pyreadstat need not copy the table to convert them):
# SPSS in seconds since 14 October 1582, Stata's %tc in milliseconds since 1960, both from 1970 here.
SPSS_EPOCH, STATA_EPOCH = 12_219_379_200, 315_619_200
# What the formats take: Stata's names are 32 characters, and pyreadstat names a value label set after its
# variable with a number added (up to 4 digits here); a variable label is 80 characters; SPSS's 255 bytes.
STATA_NAME, STATA_LABEL, SPSS_LABEL_BYTES = 28, 80, 255
_MEASURES = {"single_choice": "nominal", "yes_no": "nominal", "option": "nominal", "scale": "ordinal"}
_EPOCH = datetime(1970, 1, 1)


def missing_reason(question: Question, answers: Mapping[str, Any], completed: bool) -> int | None:
    """Why a question has no answer: SKIPPED, NOT_SHOWN (its show-if did not hold), UNFINISHED (the
    submission stopped before it), or None (due but never recorded: system-missing).

    In an unfinished submission a question is counted as not shown only when every answer its show-if
    looks at is already there; else the respondent had not got that far.
    """
    if question.code in answers:
        return SKIPPED if answers[question.code] is None else None
    shown = all(condition_holds(condition, answers) for condition in question.show_if)
    if not shown and (completed or all(condition.question in answers for condition in question.show_if)):
        return NOT_SHOWN
    return None if completed else UNFINISHED


class _Columns:
    """The wide layout gathered column by column."""

    def __init__(self, variables: list[Variable], fmt: Format) -> None:
        self.variables = variables
        self.fmt = fmt
        self.numbers: dict[str, array[float]] = {}
        self.times: dict[str, array[float]] = {}
        self.texts: dict[str, list[str]] = {}
        self.shared: dict[str, str] = {}
        self.filling: list[Callable[[dict[str, Any], dict[str, int | None]], None]] = []
        for variable in variables:
            self.filling.append(self._filler(variable))

    def _filler(self, variable: Variable) -> Callable[[dict[str, Any], dict[str, int | None]], None]:
        name, question = variable.name, variable.question
        if variable.kind == "metadata":
            if name in ("started_at", "finished_at"):
                times = self.times[name] = array("d")
                return lambda record, _: times.append(_seconds(record[name]))
            if variable.numeric:
                numbers = self.numbers[name] = array("d")
                return lambda record, _: numbers.append(float("nan") if (n := record.get(name)) is None else float(n))
            texts = self.texts[name] = []
            shared = self.shared
            return lambda record, _: texts.append(shared.setdefault(value := record[name] or "", value))
        assert question is not None
        code = question.code
        if variable.numeric:
            numbers = self.numbers[name] = array("d")
            if variable.kind == "option":
                option = name[len(code) + 2 :]

                def fill_option(record: dict[str, Any], why: dict[str, int | None]) -> None:
                    value = record["answers"].get(code)
                    numbers.append(float(option in value) if value is not None else _absent(why[code]))

                return fill_option
            codes = numbered(question)

            def fill_number(record: dict[str, Any], why: dict[str, int | None]) -> None:
                value = record["answers"].get(code)
                if value is None:
                    numbers.append(_absent(why[code]))
                elif isinstance(value, int):
                    numbers.append(float(value))
                else:
                    numbers.append(float(codes.get(str(value), "nan")))

            return fill_number
        # A text's missing answer is empty: Stata has no missing text, and ReadStat writes SPSS's record of
        # more than one missing value per long text so that PSPP reports it broken and ignores it.
        texts = self.texts[name] = []
        return lambda record, _: texts.append(record["answers"].get(name) or "")

    def add(self, record: dict[str, Any], questions: list[Question]) -> None:
        answers, completed = record["answers"], record["status"] == "completed"
        why = {question.code: missing_reason(question, answers, completed) for question in questions}
        for fill in self.filling:
            fill(record, why)

    def frame(self) -> Any:
        import numpy as np
        import pandas as pd

        data: dict[str, Any] = {}
        for variable in self.variables:
            name = variable.name
            if name in self.times:
                seconds = np.frombuffer(self.times.pop(name), dtype=np.float64)
                data[name] = seconds + SPSS_EPOCH if self.fmt == "sav" else (seconds + STATA_EPOCH) * 1000
            elif name in self.numbers:
                numbers = np.frombuffer(self.numbers.pop(name), dtype=np.float64)
                if self.fmt == "dta" and variable.missing:
                    # Stata's .a/.b/.c go in as letters, so the column holds objects: one per distinct
                    # value, shared by every cell (NaN, code -1 from factorize, is the table's last).
                    codes, distinct = pd.factorize(numbers)
                    table = [STATA_MISSING.get(int(n), float(n)) for n in distinct] + [float("nan")]
                    data[name] = np.array(table, dtype=object)[codes]
                else:
                    data[name] = numbers
            else:
                data[name] = np.array(self.texts.pop(name), dtype=object)
        return pd.DataFrame(data, copy=False)


def _absent(reason: int | None) -> float:
    return float("nan") if reason is None else float(reason)


def _seconds(value: str | None) -> float:
    """An ISO 8601 time as Warsaw wall-clock whole seconds since 1970 (what SPSS and Stata show)."""
    if not value:
        return float("nan")
    local = datetime.fromisoformat(value).astimezone(WARSAW).replace(tzinfo=None, microsecond=0)
    return (local - _EPOCH).total_seconds()


async def write_statistical(
    records: AsyncIterator[dict[str, Any]],
    questionnaire: Questionnaire,
    path: Path,
    fmt: Format,
    *,
    labels: Language = "pl",
    include_contact: bool = False,
    weighted: bool = False,
    tick: Callable[[], None] | None = None,
) -> int:
    """Writes the submissions as an SPSS .sav or a Stata .dta file; returns how many.

    Variable labels are the questions' texts in `labels`; a single choice is numbered 1..n in
    questionnaire order, yes/no is 1/0, a multiple choice is a 0/1 variable per option, each with
    value labels; missing answers carry SKIPPED (-1), NOT_SHOWN (-2) or UNFINISHED (-3), declared as
    user-missing in SPSS and written as the extended missing values .a, .b, .c in Stata. `weighted`: the
    records carry a `weight` (None: not weighted), written last.
    """
    import pyreadstat

    variables = codebook(questionnaire, include_contact=include_contact, weighted=weighted)
    columns = _Columns(variables, fmt)
    questions = [q for q in questionnaire.questions if include_contact or q.type is not QuestionType.EMAIL]
    count = 0
    async for record in records:
        columns.add(record, questions)
        count += 1
        if tick is not None:
            tick()
    frame = columns.frame()
    names = _stata_names(variables) if fmt == "dta" else {v.name: v.name for v in variables}
    frame.columns = [names[v.name] for v in variables]
    variable_labels: dict[str, str | None] = {names[v.name]: _fitted(v.labels[labels], fmt) for v in variables}
    value_labels: dict[str, dict[Any, str]] = {
        names[v.name]: v.value_labels(labels) for v in variables if v.numeric and v.question is not None
    }
    if fmt == "dta":  # the missing values' labels go on .a, .b, .c
        for v in variables:
            if v.numeric and v.question is not None:
                found = value_labels[names[v.name]]
                for code, letter in STATA_MISSING.items():
                    if code in found:
                        found[letter] = found.pop(code)
    title = f"{questionnaire.id} v{questionnaire.version}"
    if fmt == "dta":
        pyreadstat.write_dta(
            frame,
            path,
            file_label=title,
            column_labels=variable_labels,
            variable_value_labels=value_labels,
            missing_user_values={names[v.name]: list(STATA_MISSING.values()) for v in variables if _declared(v)},
            variable_format=dict.fromkeys(DATE_METADATA, "%tc"),
        )
        return count
    missing: dict[str, list[Any]] = {v.name: list(MISSING) for v in variables if _declared(v)}
    pyreadstat.write_sav(
        frame,
        path,
        file_label=title,
        column_labels=variable_labels,
        variable_value_labels=value_labels,
        missing_ranges=missing,
        variable_measure={v.name: _MEASURES[v.kind] for v in variables if v.kind in _MEASURES},
        variable_format={v.name: "F8.0" for v in variables if v.numeric} | dict.fromkeys(DATE_METADATA, "DATETIME20"),
        note=f"Missing values: {SKIPPED} skipped, {NOT_SHOWN} not shown (show-if), {UNFINISHED} unfinished.",
    )
    return count


def _declared(variable: Variable) -> bool:
    return variable.numeric and variable.missing


def _fitted(label: str, fmt: Format) -> str:
    """A variable label cut to what the format holds (Stata: 80 characters; SPSS: 255 bytes)."""
    if fmt == "dta":
        return label if len(label) <= STATA_LABEL else label[: STATA_LABEL - 1] + "…"
    if len(label.encode()) <= SPSS_LABEL_BYTES:
        return label
    cut = label.encode()[: SPSS_LABEL_BYTES - 3].decode(errors="ignore")
    return cut + "…"


def _stata_names(variables: list[Variable]) -> dict[str, str]:
    """Variable names Stata takes, still unique: a long option's column becomes `code__N`, N its place."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for variable in variables:
        name = variable.name
        if len(name) > STATA_NAME and variable.kind == "option" and variable.question is not None:
            codes = [option.code for option in variable.question.options]
            name = f"{variable.question.code}__{codes.index(name[len(variable.question.code) + 2 :]) + 1}"
        name = name[:STATA_NAME]
        number = 1
        while name in taken:
            suffix = f"_{number}"
            name = variable.name[: STATA_NAME - len(suffix)] + suffix
            number += 1
        taken.add(name)
        names[variable.name] = name
    return names

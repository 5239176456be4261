"""Paper questionnaires typed into the export's wide layout: each row read into the answers the engine then
checks (an Inbound of channel `paper`, like an emailed form), and every problem worded for staff with its
row and column.

The cells are read the way the engine reads typed answers (`parse_answer`: option codes, numbers, labels in
pl/en/uk); limits, show-if and required questions are the engine's to judge. This module only says, in
staff's words, which cell the engine refused and why.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from handlers.definitions.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, as_language
from handlers.definitions.questionnaire import Condition, Question, Questionnaire, QuestionType, visible_questions
from handlers.engine.answers import AnswerValue, Rejection, check_value, parse_answer
from handlers.engine.messages import Inbound, RespondentRef
from handlers.engine.presenter import WARSAW
from handlers.paper.sheet import Cell, Sheet

CHANNEL = "paper"
OTHER_SUFFIX = "__text"  # the export's column for an "other: ___" text
# A paper form's own id: short enough to show whole in the export's `respondent` column (16 characters).
PAPER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,15}")
FORMULA_START = frozenset("=+-@\t\r")  # what the export prefixes with ' in a spreadsheet
_PICKED = {"1", "x", "true"}
_NOT_PICKED = {"0", "false"}
_DAY_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in the file: a row and column, or the file as a whole (row None)."""

    row: int | None  # as a spreadsheet numbers it: the header is row 1
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row is not None else []
        if self.column is not None:
            where.append(f"column {self.column}" if self.row is not None else f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True, slots=True)
class PaperForm:
    """One row: a paper form's id, what it says about itself, and its answers by question code."""

    row: int
    paper_id: str
    language: Language
    event: str | None
    stand: str | None
    started_at: datetime | None
    finished_at: datetime | None
    answers: tuple[tuple[str, AnswerValue], ...]
    problems: tuple[Problem, ...] = ()  # found reading the row; the engine's come later

    @property
    def pseudonym(self) -> str:
        """Who the form is in the engine: its id, or (an unusable id) a name no id can take."""
        return self.paper_id if PAPER_ID.fullmatch(self.paper_id) else f"#row {self.row}"


@dataclass(frozen=True, slots=True)
class Reading:
    """What a file holds for one questionnaire: its rows' forms, and problems with the file as a whole."""

    forms: list[PaperForm]
    problems: list[Problem]  # the columns' (a typo'd name, a duplicate): nothing can be imported


def questionnaire_named(sheet: Sheet) -> set[str]:
    """The questionnaire ids the file's `questionnaire` column names (none when it has no such column)."""
    if "questionnaire" not in sheet.header:
        return set()
    index = sheet.header.index("questionnaire")
    return {text for _, row in sheet.rows if (text := cell_text(row[index] if index < len(row) else None))}


def read_forms(
    sheet: Sheet,
    questionnaire: Questionnaire,
    *,
    columns: Sequence[str],
    events: Collection[str],
    now: datetime,
) -> Reading:
    """Reads every row of a file in the export's wide layout (`columns`: what the export writes for this
    questionnaire, metadata and answers; a multiple choice also as one column of codes or labels)."""
    problems = _check_columns(sheet.header, questionnaire, columns)
    forms: list[PaperForm] = []
    seen: dict[str, int] = {}
    for number, cells in sheet.rows:
        form = _read_row(number, sheet.header, cells, questionnaire, events, now)
        if form.paper_id in seen:
            duplicate = Problem(number, "submission", f"'{form.paper_id}' is also the id in row {seen[form.paper_id]}")
            form = replace(form, paper_id=f"#row {number}", problems=(duplicate, *form.problems))
        elif PAPER_ID.fullmatch(form.paper_id):
            seen[form.paper_id] = number
        forms.append(form)
    return Reading(forms, problems)


def inbound_of(form: PaperForm, questionnaire: Questionnaire) -> Inbound:
    """The form as the engine's input: every answer at once, checked as if given one by one (as an email's)."""
    return Inbound(
        RespondentRef(CHANNEL, form.pseudonym),
        language=form.language,
        questionnaire=questionnaire.id,
        form=form.answers,
    )


# -- the columns ----------------------------------------------------------------------------------


def _check_columns(header: Sequence[str], questionnaire: Questionnaire, columns: Sequence[str]) -> list[Problem]:
    known = list(dict.fromkeys([*columns, *_list_columns(questionnaire)]))
    if {"question", "option", "value"} <= set(header) and "question" not in known:
        return [Problem(None, None, "this is the long layout (a row per answer): import reads the wide layout")]
    problems: list[Problem] = []
    if "submission" not in header:
        problems.append(Problem(None, "submission", "is missing: each row needs the paper form's own id (e.g. P-0001)"))
    counted: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            continue
        counted[name] = counted.get(name, 0) + 1
        if counted[name] == 2:
            problems.append(Problem(None, name, "appears twice"))
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
            hint = f"did you mean '{close[0]}'?" if close else "see the columns `wspolnota export` writes"
            problems.append(
                Problem(None, name, f"(column {position}) is not a column of questionnaire {questionnaire.id}: {hint}")
            )
    return problems


def _list_columns(questionnaire: Questionnaire) -> list[str]:
    """A multiple choice may also come as one column of codes or labels (`values`: "trust, openness")."""
    return [q.code for q in questionnaire.questions if q.type is QuestionType.MULTIPLE_CHOICE]


# -- a row ----------------------------------------------------------------------------------------


def _read_row(
    number: int,
    header: Sequence[str],
    row: Sequence[Cell],
    questionnaire: Questionnaire,
    events: Collection[str],
    now: datetime,
) -> PaperForm:
    problems: list[Problem] = []

    def problem(column: str | None, message: str) -> None:
        problems.append(Problem(number, column, message))

    cells: dict[str, Cell] = {name: row[i] for i, name in enumerate(header) if name and i < len(row)}
    if any(cell_text(cell) for cell in row[len(header) :]) or any(
        cell_text(row[i]) for i, name in enumerate(header) if not name and i < len(row)
    ):
        problem(None, "has cells under no column name")
    paper_id = _paper_id(cells, problem)
    language = _language(cell_text(cells.get("language")), problem)
    event = cell_text(cells.get("event")) or None
    if event is not None and event not in events:
        close = difflib.get_close_matches(event, list(events), n=1, cutoff=0.75)
        hint = f"did you mean '{close[0]}'?" if close else "see `wspolnota events`"
        problem("event", f"'{event}' is not a known event ({hint})")
    stand = cell_text(cells.get("stand"))[:64] or None
    named = cell_text(cells.get("questionnaire"))
    if named and named != questionnaire.id:
        problem("questionnaire", f"'{named}', but this import is into '{questionnaire.id}' (choose it with -q)")
    started = _moment(cells.get("started_at"), "started_at", now, problem)
    finished = _moment(cells.get("finished_at"), "finished_at", now, problem)
    if started and finished and finished < started:
        problem("finished_at", "is earlier than started_at")
    answers: list[tuple[str, AnswerValue]] = []
    for question in questionnaire.questions:
        read = _answer(question, cells, problem)
        if read is None:
            continue
        value, as_written = read
        checked = check_value(question, value)  # the engine's own rules, for a precise word now
        if isinstance(checked, Rejection):
            problem(question.code, refusal(question, checked, as_written))
        answers.append((question.code, value))
    if not answers and not problems:
        problem(None, "has no answers")
    return PaperForm(number, paper_id, language, event, stand, started, finished, tuple(answers), tuple(problems))


def _paper_id(cells: Mapping[str, Cell], problem: Any) -> str:
    """The form's own id: `submission`, or in an export of paper forms (channel paper) the `respondent` column."""
    channel = cell_text(cells.get("channel"))
    respondent = cell_text(cells.get("respondent"))
    paper_id = respondent if channel == CHANNEL and respondent else cell_text(cells.get("submission"))
    if not paper_id:
        problem("submission", "is empty: give the paper form's own id (e.g. P-0001)")
    elif paper_id.isdigit() and channel and channel != CHANNEL:
        problem(
            "submission",
            f"'{paper_id}' is the number of a {channel} submission in an export, not a paper form's id: "
            "write the form's own id (e.g. P-0001)",
        )
    elif not PAPER_ID.fullmatch(paper_id):
        problem(
            "submission",
            f"'{paper_id}' is not a paper form's id: up to 16 letters, digits, '-', '_', '.' or '/' (e.g. P-0001)",
        )
    return paper_id


def _language(text: str, problem: Any) -> Language:
    if not text:
        return DEFAULT_LANGUAGE
    language = as_language(text.lower())
    if language is None:
        problem("language", f"'{text}' is not a language ({', '.join(LANGUAGES)})")
        return DEFAULT_LANGUAGE
    return language


def _moment(cell: Cell, column: str, now: datetime, problem: Any) -> datetime | None:
    """A date and time: ISO 8601 as the export writes it, 30.05.2026 14:00, or a spreadsheet's own; Warsaw time
    unless it says otherwise."""
    if isinstance(cell, datetime):
        moment = cell
    elif isinstance(cell, date):
        moment = datetime.combine(cell, time())
    else:
        text = cell_text(cell)
        if not text:
            return None
        moment = _parse_moment(text)  # type: ignore[assignment]
        if moment is None:
            problem(column, f"'{text}' is not a date and time like 2026-05-30 14:00")
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WARSAW)
    if moment > now:
        problem(column, f"{moment.isoformat(' ', 'minutes')} is in the future")
        return None
    return moment


def _parse_moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern)  # naive: the caller takes it as Warsaw time
        except ValueError:
            continue
    return None


def _answer(question: Question, cells: Mapping[str, Cell], problem: Any) -> tuple[AnswerValue, str] | None:
    """One question's answer from its column(s), and how it was written; None when the row gives none."""
    code = question.code
    value: AnswerValue | None = None
    written = ""
    if question.type is QuestionType.MULTIPLE_CHOICE:
        columns = {option.code: f"{code}__{option.code}" for option in question.options}
        ticks = {option: cell_text(cells.get(column)) for option, column in columns.items() if column in cells}
        listed = cell_text(cells.get(code))
        if any(ticks.values()):
            if listed:
                problem(code, f"give either the column {code} or the columns {code}__*, not both")
            picks = []
            for option, tick in ticks.items():
                if tick.lower() in _PICKED:
                    picks.append(option)
                elif tick and tick.lower() not in _NOT_PICKED:
                    problem(columns[option], f"'{tick}' is not 1 or 0")
            value, written = AnswerValue(options=picks), ", ".join(picks)
        elif listed:
            value, written = _choices(question, listed, problem), listed
    else:
        written = cell_text(cells.get(code))
        if not written:
            value = None
        elif question.type in (QuestionType.TEXT, QuestionType.EMAIL):
            value = AnswerValue(text=written)
        else:
            parsed = parse_answer(question, written)  # a code, a number or a label in any language
            if isinstance(parsed, Rejection):
                problem(code, refusal(question, parsed, written))
            else:
                value = parsed
    other = cell_text(cells.get(code + OTHER_SUFFIX))
    if other:
        picked_other = value is not None and any(
            (choice := question.option(c)) is not None and choice.other for c in value.options or ()
        )
        if value is not None and picked_other:
            value = AnswerValue(options=value.options, text=other)
        elif value is not None or written:
            problem(code + OTHER_SUFFIX, f"a text for 'other', but column {code} does not pick it")
        else:
            problem(code + OTHER_SUFFIX, f"a text for 'other', but column {code} is empty")
    return (value, written) if value is not None else None


def _choices(question: Question, listed: str, problem: Any) -> AnswerValue | None:
    """A multiple choice written in one cell: codes, numbers or labels, separated by commas or semicolons."""
    parsed = parse_answer(question, listed)
    if not isinstance(parsed, Rejection):
        return parsed
    if parsed.key != "error_choice":
        problem(question.code, refusal(question, parsed, listed))
        return None
    parts = [part.strip() for part in re.split(r"[,;\n]+", listed) if part.strip()]
    wrong = [part for part in parts if (one := parse_answer(question, part)) and isinstance(one, Rejection)]
    for part in wrong or [listed]:
        problem(question.code, refusal(question, Rejection("error_choice"), part))
    return None


def cell_text(cell: Cell) -> str:
    """A cell as text: a whole number without ".0", a tick as 1/0, a date in ISO 8601, and without the ' the
    export put before text a spreadsheet would run as a formula."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    text = str(cell).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_START:
        return text[1:]
    return text


# -- the engine's refusals in staff's words -----------------------------------------------------


def refusal(question: Question, rejection: Rejection, written: str) -> str:
    """Why the engine refuses a cell, for staff: what was written and what the question takes."""
    values = rejection.values
    key = rejection.key
    if key == "error_choice":
        return f"'{written}' is not an option ({_options(question)}){_close(question, written)}"
    if key == "error_number":
        return f"'{written}' is not a number from {values.get('min')} to {values.get('max')}"
    if key == "error_email":
        return f"'{written}' is not an email address"
    if key == "error_too_long":
        return f"{values.get('length')} characters, at most {values.get('limit')}"
    if key == "error_too_few":
        return f"'{written}': pick at least {values.get('min')}"
    if key == "error_too_many":
        return f"'{written}': pick at most {values.get('max')}"
    if key == "error_empty":
        return "is empty"
    if key == "error_required":
        return "needs an answer"
    return key


def not_asked(question: Question) -> str:
    """An answer the engine did not record because the questionnaire does not ask the question given the others."""
    return f"answered, but the questionnaire asks it only when {_conditions(question.show_if)}"


def unanswered(question: Question) -> str:
    """A required question the engine found without an answer."""
    when = f" (asked when {_conditions(question.show_if)})" if question.show_if else ""
    return f"needs an answer{when}"


def same_answers(questionnaire: Questionnaire, form: PaperForm, stored: Mapping[str, AnswerValue]) -> bool:
    """Whether a form imported before holds what its row says now (each answer as the engine would store it)."""
    given: dict[str, tuple[Any, ...]] = {}
    for code, value in form.answers:
        question = questionnaire.question(code)
        checked = check_value(question, value) if question is not None else Rejection("error_choice")
        if isinstance(checked, Rejection):
            return False
        given[code] = (checked.options, checked.text, checked.number)
    kept = {code: (v.options, v.text, v.number) for code, v in stored.items() if not v.skipped}
    return given == kept


def missing_required(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> list[Question]:
    """The required questions shown (given the answers stored) that have no answer.

    The engine takes an emailed opinion as a whole contribution, so a form with the opinion question answered
    is recorded without its required ones; a paper form is a whole questionnaire, and needs them.
    """
    values = {q.code: _value(q, answers.get(q.code)) for q in questionnaire.questions}
    shown = visible_questions(questionnaire, values)
    return [q for q in shown if q.required and values[q.code] is None]


def _value(question: Question, value: AnswerValue | None) -> Any:
    """The answer as show-if conditions see it (as the engine's `Turn._value`): None when skipped or absent."""
    if value is None or value.skipped:
        return None
    if question.type is QuestionType.SCALE:
        return value.number
    if question.type in (QuestionType.TEXT, QuestionType.EMAIL):
        return value.text
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return value.options
    return value.options or None


def _options(question: Question) -> str:
    if question.type is QuestionType.SCALE:
        return f"{question.min}–{question.max}"
    codes = list(question.option_codes)
    return ", ".join(codes[:6]) + (", …" if len(codes) > 6 else "")


def _close(question: Question, written: str) -> str:
    close = difflib.get_close_matches(written.strip().lower(), list(question.option_codes), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def _conditions(conditions: Sequence[Condition]) -> str:
    said = []
    for c in conditions:
        if c.answered is not None:
            said.append(f"{c.question} is {'answered' if c.answered else 'not answered'}")
        elif c.equals is not None:
            said.append(f"{c.question} is '{c.equals}'")
        elif c.not_equals is not None:
            said.append(f"{c.question} is not '{c.not_equals}'")
        elif c.contains is not None:
            said.append(f"{c.question} includes '{c.contains}'")
    return " and ".join(said)

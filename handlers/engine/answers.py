"""Reading a typed answer into stored values, and showing a stored answer back to its author."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

from handlers.definitions.i18n import LANGUAGES, Catalog, Language
from handlers.definitions.questionnaire import Question, QuestionType
from storage.repository import AnswerValue as AnswerValue  # the value type adapters use too

MAX_INPUT = 20_000  # anything longer is refused before it is looked at
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_YES = {"tak", "t", "yes", "y", "так", "та", "ok", "+"}
_NO = {"nie", "n", "no", "ні", "нi", "ни", "-"}


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a typed answer was not accepted: a catalog key and its placeholders."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


def clean_text(text: str) -> str:
    """Normalises what a person typed: NFC, no control or direction-override characters, trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text).strip()


def _fold(text: str) -> str:
    """Folds case and Polish/Ukrainian diacritics so `mokotow` matches `Mokotów`."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ł", "l"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s.!,;:()\"'«»„”]+", " ", text).strip()


def _match_option(question: Question, word: str) -> str | None:
    """Finds the option code a typed word means: its number, its code, or its label in any language."""
    folded = _fold(word)
    codes = question.option_codes
    if not folded:
        return None
    if question.type is QuestionType.YES_NO:
        if folded in _YES or folded == "1":
            return "yes"
        if folded in _NO or folded == "2":
            return "no"
        return None
    if folded.isdigit():
        number = int(folded)
        if question.type is QuestionType.SCALE:
            return str(number) if str(number) in codes else None
        return codes[number - 1] if 1 <= number <= len(codes) else None
    for option in question.options:
        if folded == _fold(option.code) or any(folded == _fold(option.label(lang)) for lang in LANGUAGES):
            return option.code
    return None


def _split_picks(text: str) -> list[str]:
    parts = [part for part in re.split(r"[,;\n]+", text) if part.strip()]
    if len(parts) == 1 and re.fullmatch(r"[\d\s]+", parts[0]):
        parts = parts[0].split()
    return parts


def parse_answer(question: Question, text: str) -> AnswerValue | Rejection:
    """Turns typed text into an answer to a question, or says why it cannot be one."""
    if not text:
        return Rejection("error_empty")
    kind = question.type
    if kind is QuestionType.TEXT:
        if len(text) > question.max_length:
            return Rejection("error_too_long", {"length": len(text), "limit": question.max_length})
        return AnswerValue(text=text)
    if kind is QuestionType.EMAIL:
        try:
            address = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            return Rejection("error_email")
        return AnswerValue(text=address)
    if kind is QuestionType.MULTIPLE_CHOICE:
        picks: list[str] = []
        for part in _split_picks(text):
            code = _match_option(question, part)
            if code is None:
                return Rejection("error_choice")
            if code not in picks:
                picks.append(code)
        return check_picks(question, picks)
    code = _match_option(question, text)
    if code is None:
        if kind is QuestionType.SCALE:
            return Rejection("error_number", {"min": question.min, "max": question.max})
        return Rejection("error_choice")
    return answer_for_choice(question, code)


def answer_for_choice(question: Question, code: str) -> AnswerValue:
    """Builds the stored value for one picked option (a scale keeps its number)."""
    if question.type is QuestionType.SCALE:
        return AnswerValue(number=int(code))
    return AnswerValue(options=[code])


def check_picks(question: Question, picks: list[str]) -> AnswerValue | Rejection:
    """Checks a multiple-choice selection against the question's min and max."""
    if len(picks) < question.min_choices:
        return Rejection("error_too_few", {"min": question.min_choices})
    if len(picks) > question.pick_limit:
        return Rejection("error_too_many", {"max": question.pick_limit})
    ordered = [code for code in question.option_codes if code in picks]
    return AnswerValue(options=ordered)


def check_value(question: Question, value: AnswerValue) -> AnswerValue | Rejection:
    """Checks an answer given whole (a line of an emailed form) by the rules typed answers follow."""
    kind = question.type
    if value.skipped:
        return Rejection("error_required") if question.required else AnswerValue(skipped=True)
    if kind in (QuestionType.TEXT, QuestionType.EMAIL):
        text = clean_text(value.text or "")
        if not text:
            return Rejection("error_empty")
        return parse_answer(question, text)
    if kind is QuestionType.SCALE:
        if value.number is None or not question.min <= value.number <= question.max:
            return Rejection("error_number", {"min": question.min, "max": question.max})
        return AnswerValue(number=value.number)
    picks = [code for code in dict.fromkeys(value.options or ())]
    if any(code not in question.option_codes for code in picks):
        return Rejection("error_choice")
    if kind is QuestionType.MULTIPLE_CHOICE:
        checked = check_picks(question, picks)
    elif len(picks) != 1:
        return Rejection("error_choice")
    else:
        checked = AnswerValue(options=picks)
    if isinstance(checked, Rejection):
        return checked
    other = value.text if any((o := question.option(c)) is not None and o.other for c in picks) else None
    return AnswerValue(options=checked.options, text=clean_text(other)[: question.max_length] if other else None)


def needs_other_text(question: Question, value: AnswerValue) -> bool:
    """Tells whether the picked options include an "other" whose text is still missing."""
    return value.text is None and any(
        (option := question.option(code)) is not None and option.other for code in value.options or ()
    )


def valid_options(question: Question, options: Iterable[str] | None) -> list[str]:
    """Keeps the stored option codes this version of the question still has."""
    known = set(question.option_codes)
    return [code for code in options or () if code in known]


def describe_answer(question: Question, value: AnswerValue, catalog: Catalog, language: Language) -> str:
    """Shows a stored answer in the respondent's language, for the summary and re-asks."""
    if value.skipped:
        return catalog("skipped", language)
    if question.type is QuestionType.SCALE:
        return f"{value.number} / {question.max}"
    if question.type is QuestionType.YES_NO:
        picked = (value.options or [""])[0]
        return catalog("btn_yes" if picked == "yes" else "btn_no", language)
    if question.type in (QuestionType.TEXT, QuestionType.EMAIL):
        return value.text or ""
    labels = []
    for code in value.options or ():
        option = question.option(code)
        if option is None:
            continue
        label = option.label(language)
        labels.append(f"{label}: {value.text}" if option.other and value.text else label)
    return ", ".join(labels) or catalog("nothing_chosen", language)

"""The questionnaire as a numbered plain-text form, and reading a resident's reply to it."""

from __future__ import annotations

import re
import string
from collections.abc import Collection
from dataclasses import dataclass, field

from handlers.definitions.i18n import Catalog, Language
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from handlers.email.quotes import starts_signature
from handlers.engine.answers import AnswerValue, clean_text, parse_answer

LETTERS = string.ascii_lowercase
_NUMBERED = re.compile(r"^\s*(?:pyt(?:anie)?\.?\s*)?(\d{1,2})\s*(?:[.):]|\s[-–])\s*(.*)$", re.IGNORECASE)
_ANSWER_PREFIX = re.compile(r"^\s*(?:odp(?:owied[zź])?\.?|answer|відповідь|відп\.?)\s*[:.]?\s*", re.IGNORECASE)
# "a i c", "a oraz c", "a and c": between two letters the Polish "i" is a word, not option i.
_CONJUNCTION = re.compile(r"(?<=\S)\s+(?:i|oraz|and|та|і|й)\s+(?=\S)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;/+&]+")
_LETTER = re.compile(r"\(?([a-z])[).]?", re.IGNORECASE)  # "b", "B", "b)", "(b)", "b."
# Cyrillic letters that look like our Latin ones, as a Ukrainian keyboard types them: "а, с" is "a, c".
_LOOK_ALIKES = str.maketrans("авсеіорАВСЕІОР", "abceiopABCEIOP")


def choice_example(question: Question) -> str:
    """Letters that answer this choice question validly: "a, c" where two picks are allowed, else "b".

    Never an "other" option (it needs a text) and never fewer picks than the question's minimum.
    """
    letters = [LETTERS[i] for i, option in enumerate(question.options) if not option.other] or ["a"]
    if question.type is QuestionType.MULTIPLE_CHOICE and question.pick_limit >= 2 and len(letters) >= 2:
        count = min(max(2, question.min_choices), question.pick_limit, len(letters))
        spaced = letters[::2]
        return ", ".join(spaced[:count] if len(spaced) >= count else letters[:count])
    return letters[1] if len(letters) > 1 else letters[0]


def form_examples(questionnaire: Questionnaire) -> list[str]:
    """Sample answers for the form's intro, each valid for the question whose number it carries.

    One single choice ("1. b") and one multiple choice ("3: a, c"), from questions always shown.
    """
    examples: dict[QuestionType, str] = {}
    for number, question in enumerate(questionnaire.questions, start=1):
        if question.show_if or question.type in examples or len(question.options) < 2:
            continue
        if question.type is QuestionType.SINGLE_CHOICE:
            examples[question.type] = f"{number}. {choice_example(question)}"
        elif question.type is QuestionType.MULTIPLE_CHOICE and question.pick_limit >= 2:
            examples[question.type] = f"{number}: {choice_example(question)}"
    return [examples[kind] for kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE) if kind in examples]


def render_form(
    questionnaire: Questionnaire,
    catalog: Catalog,
    language: Language,
    only: Collection[str] | None = None,
    *,
    hints: bool = False,
) -> str:
    """Writes every question (or `only` these codes) as a numbered item, choices lettered a), b), …, for any
    mail client; a question keeps its number in the whole questionnaire, so a reply is read the same way."""
    blocks = []
    for number, question in enumerate(questionnaire.questions, start=1):
        if question.type is QuestionType.EMAIL or (only is not None and question.code not in only):
            continue  # a reply by email already gives us the address
        lines = [f"{number}. {question.label(language)}"]
        if hints and question.hint:
            lines += [f"   {line}" for line in question.hint(language).splitlines() if line.strip()]
        if question.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
            options = [f"{LETTERS[i]}) {option.label(language)}" for i, option in enumerate(question.options)]
            lines += [f"   {option}" for option in options]
            if question.type is QuestionType.MULTIPLE_CHOICE:
                example = choice_example(question)
                if question.pick_limit >= len(question.options):
                    hint = catalog("form_pick_any", language, example=example)
                else:
                    hint = catalog("form_pick_many", language, max=question.pick_limit, example=example)
                lines.append("   " + hint)
        elif question.type is QuestionType.YES_NO:
            lines.append(f"   a) {catalog('btn_yes', language)}   b) {catalog('btn_no', language)}")
        elif question.type is QuestionType.SCALE:
            low = question.min_label(language) if question.min_label else question.min
            high = question.max_label(language) if question.max_label else question.max
            scale = catalog("form_scale", language, min=question.min, max=question.max, min_label=low, max_label=high)
            lines.append(f"   {scale}")
        else:
            lines.append("   " + catalog("form_own_words", language))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


@dataclass(frozen=True, slots=True)
class FormReading:
    """What a reply to the form says: answers we are sure of, and text left for staff."""

    answers: dict[str, AnswerValue] = field(default_factory=dict)
    unclear: dict[int, str] = field(default_factory=dict)  # question number → what was written


def _numbered_questions(questionnaire: Questionnaire) -> dict[int, Question]:
    return {n: q for n, q in enumerate(questionnaire.questions, start=1) if q.type is not QuestionType.EMAIL}


def _letters(text: str) -> list[str] | None:
    """The option letters in "b", "B)", "a, c", "a i c", "a oraz c", "а, с"; None when anything else is written.

    A lone "i" (Polish, Ukrainian "і"), "and", "oraz", "та" or "й" between two letters joins them: it is not option i).
    """
    letters = []
    for token in _SEPARATORS.split(_CONJUNCTION.sub(",", text.strip().rstrip(".!")).translate(_LOOK_ALIKES)):
        if not token:
            continue
        match = _LETTER.fullmatch(token)
        if match is None:
            return None
        letters.append(match.group(1).lower())
    return letters or None


def _by_letters(question: Question, text: str) -> AnswerValue | None:
    """Reads "b" or "a, c" as option letters, when every letter names an option."""
    letters = _letters(text)
    codes = list(question.option_codes)
    if not letters or any(LETTERS.index(letter) >= len(codes) for letter in letters):
        return None
    picked = [codes[LETTERS.index(letter)] for letter in dict.fromkeys(letters)]
    if question.type is QuestionType.MULTIPLE_CHOICE:
        if not question.min_choices <= len(picked) <= question.pick_limit:
            return None
        return AnswerValue(options=[code for code in codes if code in picked])
    return AnswerValue(options=picked) if len(picked) == 1 else None


def read_form_reply(questionnaire: Questionnaire, text: str) -> FormReading:
    """Reads answers written under numbers ("1. b", "3: a, c", text under "6."), also inline among quotes.

    An answer is taken only when it is unambiguous for its question; anything else is kept
    as written, under its number, for staff to read.
    """
    questions = _numbered_questions(questionnaire)
    written: dict[int, list[str]] = {}
    current: int | None = None
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        if starts_signature(raw_line):
            break  # a signature or "Sent from my phone": no answers after it
        quoted = raw_line.lstrip().startswith(">")
        line = raw_line.lstrip().lstrip(">").strip() if quoted else raw_line.strip()
        match = _NUMBERED.match(line)
        if quoted:
            # Our own form, quoted back: it tells which question the next own lines answer.
            if match and int(match.group(1)) in questions:
                current = int(match.group(1))
            continue
        if match and int(match.group(1)) in questions:
            current = int(match.group(1))
            rest = match.group(2).strip()
            # "1. W której dzielnicy mieszkasz? b" or the question copied without quotes.
            for language in ("pl", "en", "uk"):
                label = questions[current].label(language).strip()
                if rest.lower().startswith(label.lower()):
                    rest = rest[len(label) :].strip()
                    break
            written.setdefault(current, [])
            if rest:
                written[current].append(rest)
            continue
        if not line:
            # An answer runs to a blank line, unless nothing was written under the number yet.
            if current is not None and written.get(current):
                current = None
            continue
        if current is not None:
            written.setdefault(current, []).append(line)
    reading = FormReading()
    for number, lines in written.items():
        question = questions[number]
        answer_text = clean_text(_ANSWER_PREFIX.sub("", "\n".join(lines)))
        if not answer_text:
            continue
        value = _read_one(question, answer_text)
        if value is None:
            reading.unclear[number] = answer_text
        else:
            reading.answers[question.code] = value
    return reading


def _read_one(question: Question, text: str) -> AnswerValue | None:
    if question.type is QuestionType.TEXT:
        parsed = parse_answer(question, text)
        return parsed if isinstance(parsed, AnswerValue) else None
    if question.type is QuestionType.YES_NO and (letters := _letters(text)) in (["a"], ["b"]):
        return AnswerValue(options=["yes" if letters == ["a"] else "no"])
    if question.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        by_letters = _by_letters(question, text.split("\n")[0])
        if by_letters is not None:
            return by_letters
    parsed = parse_answer(question, text.strip().rstrip("."))
    if isinstance(parsed, AnswerValue) and not (
        parsed.options and any((o := question.option(code)) is not None and o.other for code in parsed.options)
    ):
        return parsed
    return None

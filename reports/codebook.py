"""The codebook: every variable of the analysis exports with its question's text in each language, its type,
its values in questionnaire order with their labels, the missing-value codes and the show-if rule."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from handlers.definitions.i18n import LANGUAGES, Language
from handlers.definitions.questionnaire import Condition, Question, Questionnaire, QuestionType
from reports.export import METADATA, OTHER_SUFFIX

# Declared missing values in SPSS (and .a/.b/.c in Stata): why a question has no answer.
SKIPPED, NOT_SHOWN, UNFINISHED = -1, -2, -3
Words = dict[Language, str]
MISSING: dict[int, Words] = {
    SKIPPED: {"pl": "pominięte", "en": "skipped", "uk": "пропущено"},
    NOT_SHOWN: {"pl": "nie pokazano (warunek)", "en": "not shown (show-if)", "uk": "не показано (умова)"},
    UNFINISHED: {"pl": "nie dokończono", "en": "unfinished (not reached)", "uk": "не завершено"},
}
STATA_MISSING = {SKIPPED: "a", NOT_SHOWN: "b", UNFINISHED: "c"}  # Stata's extended missing values .a .b .c
CHOSEN: dict[int, Words] = {
    1: {"pl": "wybrano", "en": "chosen", "uk": "обрано"},
    0: {"pl": "nie wybrano", "en": "not chosen", "uk": "не обрано"},
}
YES_NO: dict[str, tuple[int, Words]] = {
    "yes": (1, {"pl": "tak", "en": "yes", "uk": "так"}),
    "no": (0, {"pl": "nie", "en": "no", "uk": "ні"}),
}
# The submission's own columns, described in each language (SAV/DTA variable labels, the codebook).
METADATA_LABELS: dict[str, Words] = {
    "submission": {"pl": "Numer zgłoszenia", "en": "Submission id", "uk": "Номер анкети"},
    "respondent": {
        "pl": "Respondent (16-znakowy pseudonim z kluczem)",
        "en": "Respondent (16-character keyed pseudonym)",
        "uk": "Респондент (16-символьний псевдонім із ключем)",
    },
    "channel": {
        "pl": "Kanał: web, telegram, email, terminal, paper",
        "en": "Channel: web, telegram, email, terminal, paper",
        "uk": "Канал: web, telegram, email, terminal, paper",
    },
    "event": {
        "pl": "Wydarzenie (slug z kodu QR lub linku)",
        "en": "Event slug from the QR code or link",
        "uk": "Подія (slug із QR-коду чи посилання)",
    },
    "event_known": {
        "pl": "Wydarzenie jest w events.yaml (1/0)",
        "en": "The event is in events.yaml (1/0)",
        "uk": "Подія є в events.yaml (1/0)",
    },
    "stand": {"pl": "Stoisko na wydarzeniu", "en": "Stand at the event", "uk": "Стенд на події"},
    "assisted": {
        "pl": "Wypełnione z pomocą wolontariusza (1/0)",
        "en": "Filled in with a volunteer's help (1/0)",
        "uk": "Заповнено з допомогою волонтера (1/0)",
    },
    "flagged": {
        "pl": "Dlaczego czat w przeglądarce ma wątpliwości (burst, kiosk-burst)",
        "en": "Why the web chat doubts it (burst, kiosk-burst)",
        "uk": "Чому вебчат має сумніви (burst, kiosk-burst)",
    },
    "flagged_from": {
        "pl": "Dzienny znacznik miejsca (z kluczem)",
        "en": "Keyed daily tag of the flagged place",
        "uk": "Щоденна позначка місця (з ключем)",
    },
    "language": {"pl": "Język odpowiedzi", "en": "Language answered in", "uk": "Мова відповідей"},
    "questionnaire": {"pl": "Ankieta (id)", "en": "Questionnaire id", "uk": "Опитування (id)"},
    "questionnaire_version": {"pl": "Wersja ankiety", "en": "Questionnaire version", "uk": "Версія опитування"},
    "privacy_version": {
        "pl": "Wersja przyjętej informacji o danych",
        "en": "Privacy notice version accepted",
        "uk": "Версія прийнятої інформації про дані",
    },
    "status": {
        "pl": "Status: active (niedokończone) lub completed",
        "en": "Status: active (unfinished) or completed",
        "uk": "Статус: active (не завершено) або completed",
    },
    "started_at": {
        "pl": "Rozpoczęto (czas warszawski)",
        "en": "Started (Europe/Warsaw)",
        "uk": "Розпочато (варшавський час)",
    },
    "finished_at": {
        "pl": "Zakończono (czas warszawski)",
        "en": "Finished (Europe/Warsaw)",
        "uk": "Завершено (варшавський час)",
    },
}
NUMERIC_METADATA = frozenset({"submission", "event_known", "assisted", "questionnaire_version"})
DATE_METADATA = frozenset({"started_at", "finished_at"})
MISSING_NOTE = "; ".join(f"{code} = {words['en']}" for code, words in MISSING.items())


@dataclass(frozen=True, slots=True)
class Value:
    """One value a variable takes: its number in SAV/DTA, the option's code and its label in each language."""

    number: int
    code: str
    labels: Words


@dataclass(frozen=True, slots=True)
class Variable:
    """One column of the wide export."""

    name: str
    kind: str  # the question's type, `option` (a multiple choice's 0/1), `other_text`, or `metadata`
    labels: Words  # what the variable holds: the question's text (and the option's, for a 0/1 column)
    question: Question | None = None
    position: int = 0  # the question's number in the questionnaire (0: metadata)
    values: tuple[Value, ...] = ()
    numeric: bool = False
    missing: bool = False  # takes the codes SKIPPED, NOT_SHOWN, UNFINISHED

    def value_labels(self, language: Language) -> dict[int, str]:
        """Number → label in a language, the missing codes included."""
        found = {value.number: value.labels[language] for value in self.values}
        if self.missing and self.numeric:
            found |= {code: words[language] for code, words in MISSING.items()}
        return found


# The raking weight an export adds when asked (`export --weights`), after the answers.
WEIGHT = Variable(
    "weight",
    "metadata",
    {
        "pl": "Waga: raking do mieszkańców Warszawy (średnio 1)",
        "en": "Weight: raked to Warsaw's residents (mean 1)",
        "uk": "Вага: зважування до мешканців Варшави (у середньому 1)",
    },
    numeric=True,
)


def numbered(question: Question) -> dict[str, int]:
    """A choice's option codes → numbers: 1..n in questionnaire order; yes 1, no 0; a scale its own number."""
    if question.type is QuestionType.YES_NO:
        return {code: number for code, (number, _) in YES_NO.items()}
    if question.type is QuestionType.SCALE:
        return {code: int(code) for code in question.option_codes}
    return {code: position for position, code in enumerate(question.option_codes, start=1)}


def codebook(questionnaire: Questionnaire, *, include_contact: bool = False, weighted: bool = False) -> list[Variable]:
    """Every variable of the wide export, in its order: the metadata, each question's, then the weight if asked."""
    variables = [
        Variable(
            name,
            "metadata",
            METADATA_LABELS[name],
            numeric=name in NUMERIC_METADATA,
        )
        for name in METADATA
    ]
    for position, question in enumerate(questionnaire.questions, start=1):
        if question.type is QuestionType.EMAIL and not include_contact:
            continue
        text = {language: question.label(language) for language in LANGUAGES}
        code = question.code
        if question.type is QuestionType.MULTIPLE_CHOICE:
            chosen = tuple(Value(number, "", words) for number, words in CHOSEN.items())
            for option in question.options:
                labels = {language: f"{text[language]}: {option.label(language)}" for language in LANGUAGES}
                name = f"{code}__{option.code}"
                variables.append(Variable(name, "option", labels, question, position, chosen, True, True))
        elif question.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO, QuestionType.SCALE):
            values = tuple(_values(question))
            variables.append(Variable(code, question.type.value, text, question, position, values, True, True))
        else:
            variables.append(Variable(code, question.type.value, text, question, position, missing=True))
        other = next((option for option in question.options if option.other), None)
        if other is not None:
            labels = {language: f"{text[language]}: {other.label(language)} (text)" for language in LANGUAGES}
            variables.append(Variable(code + OTHER_SUFFIX, "other_text", labels, question, position))
    return [*variables, WEIGHT] if weighted else variables


def _values(question: Question) -> Iterable[Value]:
    numbers = numbered(question)
    if question.type is QuestionType.YES_NO:
        for code, (number, said) in YES_NO.items():
            yield Value(number, code, said)
    elif question.type is QuestionType.SCALE:
        ends = {str(question.min): question.min_label, str(question.max): question.max_label}
        for code, number in numbers.items():
            text = ends.get(code)
            words: Words = {language: (text(language) if text else code) for language in LANGUAGES}
            yield Value(number, code, words)
    else:
        for option in question.options:
            yield Value(numbers[option.code], option.code, {language: option.label(language) for language in LANGUAGES})


def describe_show_if(question: Question | None) -> str:
    """The question's show-if rule in words: `district equals mokotow and values answered`."""
    if question is None:
        return ""
    return " and ".join(_condition(condition) for condition in question.show_if)


def _condition(condition: Condition) -> str:
    if condition.answered is not None:
        return f"{condition.question} {'answered' if condition.answered else 'not answered'}"
    for test in ("equals", "not_equals", "contains"):
        value = getattr(condition, test)
        if value is not None:
            return f"{condition.question} {test.replace('_', ' ')} {value}"
    return condition.question


# The codebook as a table: a row per variable, then a row per value it takes.
CODEBOOK_COLUMNS = [
    "variable",
    "question",
    "position",
    "type",
    "value",
    "code",
    "label_pl",
    "label_en",
    "label_uk",
    "show_if",
    "missing",
]


def codebook_rows(questionnaire: Questionnaire, *, include_contact: bool = False) -> list[dict[str, Any]]:
    """The codebook as rows of CODEBOOK_COLUMNS: a variable's row (value empty), then one per value."""
    rows: list[dict[str, Any]] = []
    for variable in codebook(questionnaire, include_contact=include_contact):
        question = variable.question
        rows.append(
            {
                "variable": variable.name,
                "question": question.code if question else None,
                "position": variable.position or None,
                "type": variable.kind,
                **{f"label_{language}": variable.labels[language] for language in LANGUAGES},
                "show_if": describe_show_if(question) or None,
                "missing": _missing_note(variable),
            }
        )
        for value in variable.values:
            rows.append(
                {
                    "variable": variable.name,
                    "question": question.code if question else None,
                    "value": value.number,
                    "code": value.code or None,
                    **{f"label_{language}": value.labels[language] for language in LANGUAGES},
                }
            )
    return rows


def _missing_note(variable: Variable) -> str | None:
    if not variable.missing:
        return None
    return MISSING_NOTE if variable.numeric else "empty whatever the reason (text)"


def write_codebook_csv(questionnaire: Questionnaire, out: IO[str], *, include_contact: bool = False) -> int:
    """Writes the codebook as CSV; returns its rows."""
    writer = csv.DictWriter(out, CODEBOOK_COLUMNS)
    writer.writeheader()
    rows = codebook_rows(questionnaire, include_contact=include_contact)
    writer.writerows(rows)
    return len(rows)


def codebook_markdown(questionnaire: Questionnaire, *, include_contact: bool = False) -> str:
    """The codebook as a Markdown document: the missing codes, the metadata, then a section per question."""
    lines = [
        f"# Codebook: {questionnaire.title('pl')} ({questionnaire.id}, version {questionnaire.version})",
        "",
        "Columns of the wide export (`wspolnota export`); in SPSS (`.sav`) and Stata (`.dta`) the choices are "
        "numbered as below and these missing values are declared:",
        "",
        "| code | SPSS | Stata | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for code, words in MISSING.items():
        lines.append(f"| {code} | {code} | .{STATA_MISSING[code]} | {words['en']} ({words['pl']}) |")
    lines += [
        "",
        "An empty cell (system-missing) is an answer that was never recorded although the question was due.",
        "",
        "## Metadata",
        "",
        "| variable | meaning |",
        "| --- | --- |",
    ]
    variables = codebook(questionnaire, include_contact=include_contact)
    lines += [f"| `{v.name}` | {v.labels['en']} |" for v in variables if v.kind == "metadata"]
    for position, question in enumerate(questionnaire.questions, start=1):
        own = [v for v in variables if v.question is question]
        if not own:
            continue
        lines += ["", f"## {position}. `{question.code}` ({question.type.value})", ""]
        lines += [f"- {language}: {_cell(question.label(language))}" for language in LANGUAGES]
        if rule := describe_show_if(question):
            lines.append(f"- shown if: {rule}")
        if limits := _limits(question):
            lines.append(f"- {limits}")
        lines.append("- variables: " + ", ".join(f"`{v.name}`" for v in own))
        values = next((v.values for v in own if v.values), ())
        if values and question.type is not QuestionType.MULTIPLE_CHOICE:
            lines += ["", "| value | code | pl | en | uk |", "| --- | --- | --- | --- | --- |"]
            lines += [
                f"| {value.number} | `{value.code}` | "
                + " | ".join(_cell(value.labels[language]) for language in LANGUAGES)
                + " |"
                for value in values
            ]
        elif question.type is QuestionType.MULTIPLE_CHOICE:
            lines += ["", "| variable (1 = chosen, 0 = not) | code | pl | en | uk |", "| --- | --- | --- | --- | --- |"]
            lines += [
                f"| `{question.code}__{option.code}` | `{option.code}` | "
                + " | ".join(_cell(option.label(language)) for language in LANGUAGES)
                + " |"
                for option in question.options
            ]
    return "\n".join(lines) + "\n"


def _limits(question: Question) -> str:
    """What an answer may be: how many choices, the scale's range, a text's length."""
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return f"choices: {question.min_choices} to {question.pick_limit}"
    if question.type is QuestionType.SCALE:
        return f"scale: {question.min} to {question.max}"
    if question.type is QuestionType.TEXT:
        return f"text: at most {question.max_length} characters"
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

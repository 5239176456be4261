"""Questionnaires as data: the model, loading from YAML and validation with readable errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from handlers.definitions.config_files import ConfigError, Problem, describe_validation_errors, read_yaml
from handlers.definitions.i18n import Text
from handlers.definitions.privacy import Privacy, check_privacy

CODE_PATTERN = r"^[a-z][a-z0-9_]{0,23}$"  # fits Telegram callback_data with room to spare
Code = Annotated[str, Field(pattern=CODE_PATTERN)]
_OPTIONAL_TIME: TypeAdapter[datetime | None] = TypeAdapter(datetime | None)


class QuestionType(StrEnum):
    TEXT = "text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SCALE = "scale"
    YES_NO = "yes_no"
    EMAIL = "email"


CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})


class QuestionnaireKind(StrEnum):
    """What a questionnaire is for: residents' opinions, or an application to the working groups.

    An application is built from `config/recruitment.yaml` (never a file of its own), is never the
    default questionnaire, and its answers (names, addresses) never reach consultation exports or the report.
    """

    CONSULTATION = "consultation"
    APPLICATION = "application"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One answer a respondent can pick; `code` is what is stored, `label` only what is shown."""

    code: Code
    label: Text
    other: bool = False  # picking it asks for a short text ("other: ___")


class Condition(_Strict):
    """Show a question only when an earlier answer matches; exactly one test per condition."""

    question: Code
    answered: bool | None = None
    equals: str | int | None = None
    not_equals: str | int | None = None
    contains: str | None = None

    def tests(self) -> list[str]:
        """Names the tests this condition sets (a valid one sets exactly one)."""
        return [name for name in ("answered", "equals", "not_equals", "contains") if getattr(self, name) is not None]


class Question(_Strict):
    """One question of a questionnaire."""

    code: Code
    type: QuestionType
    label: Text
    hint: Text | None = None
    required: bool = False
    options: tuple[Option, ...] = ()
    max_length: int = Field(default=2000, ge=1, le=20000)
    min_choices: int = Field(default=1, ge=0)
    max_choices: int | None = Field(default=None, ge=1)
    min: int = 1
    max: int = 5
    min_label: Text | None = None
    max_label: Text | None = None
    show_if: tuple[Condition, ...] = ()
    # An email question whose address is confirmed by a code mailed to it before the next question (the
    # working groups' application form only: questionnaire files may not set it).
    verified: bool = False

    @field_validator("show_if", mode="before")
    @classmethod
    def _one_condition_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, Mapping) else value

    @cached_property
    def option_codes(self) -> tuple[str, ...]:
        """Codes a respondent may pick (yes/no questions have two fixed ones)."""
        if self.type is QuestionType.YES_NO:
            return ("yes", "no")
        if self.type is QuestionType.SCALE:
            return tuple(str(n) for n in range(self.min, self.max + 1))
        return tuple(option.code for option in self.options)

    def option(self, code: str) -> Option | None:
        """Returns the option with this code, if the question has one."""
        return next((option for option in self.options if option.code == code), None)

    @property
    def pick_limit(self) -> int:
        """How many options a multiple-choice answer may hold."""
        return self.max_choices or len(self.options)


class Questionnaire(_Strict):
    """A versioned questionnaire definition, as staff write it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    version: int = Field(ge=1)
    kind: QuestionnaireKind = QuestionnaireKind.CONSULTATION
    title: Text
    intro: Text | None = None
    thanks: Text | None = None
    opens: datetime | None = None
    closes: datetime | None = None
    privacy: Privacy
    questions: tuple[Question, ...] = Field(min_length=1)
    # The open question a plain email (an opinion, not a reply to our form) answers; default: the first text one.
    email_opinion: str | None = None

    @cached_property
    def _by_code(self) -> dict[str, Question]:
        return {question.code: question for question in reversed(self.questions)}

    def question(self, code: str) -> Question | None:
        """Returns the question with this code, if there is one."""
        return self._by_code.get(code)

    def structure_digest(self) -> str:
        """Hashes what stored answers depend on (codes, types, limits), not the wording.

        Fixing a label needs no new version; changing a code or type without one would
        corrupt answers already stored, and start-up refuses it.
        """
        shape = [
            {
                "code": q.code,
                "type": q.type.value,
                "options": [[o.code, o.other] for o in q.options],
                "limits": [q.max_length, q.min_choices, q.max_choices, q.min, q.max],
                **({"verified": True} if q.verified else {}),  # absent when false: older digests stay valid
            }
            for q in self.questions
        ]
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def opinion_question(self) -> Question | None:
        """The question a written opinion (an email) is recorded under."""
        if self.email_opinion is not None:
            return self.question(self.email_opinion)
        return next((q for q in self.questions if q.type is QuestionType.TEXT), None)

    def is_open(self, now: datetime) -> bool:
        """Tells whether residents may answer at this moment."""
        if self.opens is not None and now < self.opens:
            return False
        return self.closes is None or now <= self.closes


def _question_key(raw: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    """Turns a pydantic location into a key staff can find: `questions[values].options[2].label`."""
    parts: list[str] = []
    node: Any = raw
    for step in loc:
        if isinstance(step, int):
            code = (
                node[step].get("code")
                if isinstance(node, list) and step < len(node) and isinstance(node[step], Mapping)
                else None
            )
            parts[-1] += f"[{code}]" if code else f"[{step + 1}]"
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def _check_semantics(q: Questionnaire, file: str) -> list[Problem]:
    """Finds the mistakes the schema cannot see: duplicates, dangling references, limits."""
    problems: list[Problem] = []

    def problem(key: str, reason: str) -> None:
        problems.append(Problem(file, key, reason))

    if q.kind is QuestionnaireKind.APPLICATION:
        problem("kind", "the application form is built from config/recruitment.yaml, not written as a questionnaire")
    if q.opens and q.closes and q.opens >= q.closes:
        problem("closes", "must be later than `opens`")
    for when in ("opens", "closes"):
        value = getattr(q, when)
        if value is not None and value.tzinfo is None:
            problem(when, "needs a time zone, e.g. 2026-05-15T00:00:00+02:00")
    if q.email_opinion is not None:
        target = q.question(q.email_opinion)
        if target is None or target.type is not QuestionType.TEXT:
            problem("email_opinion", f"'{q.email_opinion}' is not the code of a text question")
    seen: dict[str, int] = {}
    for index, question in enumerate(q.questions):
        key = f"questions[{question.code}]"
        if question.code in seen:
            problem(key, f"duplicate question code (also question {seen[question.code] + 1})")
        seen.setdefault(question.code, index)
        is_choice = question.type in CHOICE_TYPES
        if is_choice and len(question.options) < 2:
            problem(f"{key}.options", f"a {question.type.value} question needs at least two options")
        if not is_choice and question.options:
            problem(f"{key}.options", f"a {question.type.value} question takes no options")
        if question.verified:  # a code needs a sender and a purpose: the call's (config/recruitment.yaml)
            problem(f"{key}.verified", "only the working groups' application form confirms an address by a code")
        codes = [option.code for option in question.options]
        for duplicate in sorted({c for c in codes if codes.count(c) > 1}):
            problem(f"{key}.options[{duplicate}]", "duplicate option code")
        if sum(option.other for option in question.options) > 1:
            problem(f"{key}.options", "only one option may be `other: true`")
        if question.type is QuestionType.MULTIPLE_CHOICE:
            if question.max_choices is not None and question.max_choices > len(question.options):
                problem(
                    f"{key}.max_choices",
                    f"is {question.max_choices} but there are only {len(question.options)} options",
                )
            if question.min_choices > question.pick_limit:
                problem(f"{key}.min_choices", f"is larger than max_choices ({question.pick_limit})")
        if question.type is QuestionType.SCALE:
            if not question.min < question.max:
                problem(f"{key}.max", "must be greater than `min`")
            elif question.max - question.min > 10:
                problem(f"{key}.max", "a scale has at most 11 points")
        for position, condition in enumerate(question.show_if):
            _check_condition(q, index, condition, f"{key}.show_if[{position + 1}]", problem)
    return problems


def _check_condition(q: Questionnaire, index: int, condition: Condition, key: str, problem: Any) -> None:
    tests = condition.tests()
    if len(tests) != 1:
        problem(key, "set exactly one of answered, equals, not_equals, contains")
        return
    target = q.question(condition.question)
    earlier = {question.code for question in q.questions[:index]}
    if target is None:
        problem(f"{key}.question", f"no question has the code '{condition.question}'")
        return
    if condition.question not in earlier:
        problem(f"{key}.question", f"'{condition.question}' must come before the question it controls")
        return
    test = tests[0]
    value = getattr(condition, test)
    if test == "contains" and target.type is not QuestionType.MULTIPLE_CHOICE:
        problem(key, "`contains` works only on multiple_choice questions")
    free_text = target.type in (QuestionType.TEXT, QuestionType.EMAIL)
    if test != "answered" and not free_text and str(value) not in target.option_codes:
        problem(
            f"{key}.{test}",
            f"'{value}' is not an answer code of '{target.code}' ({', '.join(target.option_codes)})",
        )


def _check_what_is_valid(raw: Mapping[str, Any], file: str) -> list[Problem]:
    """Runs the semantic checks on the questions that are valid on their own.

    So one run of `wspolnota check` lists every mistake, not the schema's first and then the
    rest after a fix. Conditions on a question that is itself invalid are not judged.
    """
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list | tuple):
        return []
    questions: list[Question] = []
    invalid: set[str] = set()
    for item in raw_questions:
        try:
            questions.append(Question.model_validate(item))
        except ValidationError:
            if isinstance(item, Mapping) and isinstance(item.get("code"), str):
                invalid.add(item["code"])
    dates: dict[str, datetime | None] = {}
    for when in ("opens", "closes"):
        try:
            dates[when] = _OPTIONAL_TIME.validate_python(raw.get(when))
        except ValidationError:
            dates[when] = None
    if not questions:
        return []
    # Only what the semantic checks read; the rest (title, privacy…) is described by the schema's errors.
    checkable: dict[str, Any] = {"questions": tuple(questions), **dates}
    partial = Questionnaire.model_construct(**checkable)
    return [
        problem
        for problem in _check_semantics(partial, file)
        if not any(f"'{code}'" in problem.reason for code in invalid)
    ]


def parse_questionnaire(raw: Any, file: str) -> Questionnaire:
    """Validates a questionnaire read from a file.

    Raises:
        ConfigError: listing every problem found, each with file, key and reason.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError([Problem(file, "(top)", "expected a mapping of keys such as id, version, questions")])
    try:
        questionnaire = Questionnaire.model_validate(raw)
    except ValidationError as err:
        problems = describe_validation_errors(err, file, lambda loc: _question_key(raw, loc))
        raise ConfigError(problems + _check_what_is_valid(raw, file)) from None
    problems = _check_semantics(questionnaire, file) + check_privacy(questionnaire.privacy, file)
    if problems:
        raise ConfigError(problems)
    return questionnaire


def load_questionnaires(folder: Path) -> dict[str, Questionnaire]:
    """Loads every `*.yaml` questionnaire in a folder, keyed by id.

    Raises:
        ConfigError: listing every problem in every file at once.
    """
    problems: list[Problem] = []
    found: dict[str, Questionnaire] = {}
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise ConfigError([Problem(str(folder), "(folder)", "no questionnaire files (*.yaml)")])
    for path in files:
        try:
            questionnaire = parse_questionnaire(read_yaml(path), str(path))
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        if questionnaire.id in found:
            problems.append(Problem(str(path), "id", f"'{questionnaire.id}' is used by another file too"))
        found[questionnaire.id] = questionnaire
    if problems:
        raise ConfigError(problems)
    return found


def visible_questions(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> list[Question]:
    """Lists the questions to ask given the answers so far, in order."""
    return [q for q in questionnaire.questions if all(condition_holds(c, answers) for c in q.show_if)]


def condition_holds(condition: Condition, answers: Mapping[str, Any]) -> bool:
    """Evaluates one show-if condition against answers (code → value; skipped ones absent)."""
    value = answers.get(condition.question)
    if condition.answered is not None:
        # An empty selection (a multiple choice with min 0) counts as not answered.
        return (value is not None and value != []) is condition.answered
    picked = _as_codes(value)
    if condition.equals is not None:
        return str(condition.equals) in picked and len(picked) == 1
    if condition.not_equals is not None:
        return str(condition.not_equals) not in picked
    if condition.contains is not None:
        return condition.contains in picked
    return True


def _as_codes(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str | int):
        return {str(value)}
    if isinstance(value, Iterable):
        return {str(v) for v in value}
    return {str(value)}

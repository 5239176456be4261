"""Who lives in Warsaw, as data: residents per answer code of a questionnaire's question (district, age band),
to compare with who answered (config/population.yaml)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from handlers.definitions.config_files import ConfigError, Problem, describe_validation_errors, read_yaml
from handlers.definitions.questionnaire import Questionnaire, QuestionType

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
# StrictInt: "12 000" or 12.5 in a hand-edited file is a mistake to name, not a number to guess.
Residents = Annotated[StrictInt, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Margin(_Strict):
    """One known distribution of residents (a margin): residents per answer code of one question.

    Answer codes in neither `residents` nor `outside` (such as `prefer_not`) count as not given.
    """

    question: Code
    residents: dict[Code, Residents] = Field(default_factory=dict)  # empty: not filled in yet, not compared
    total: Residents | None = None  # when given, must be the sum of `residents` (a check on typing)
    outside: tuple[Code, ...] = ()  # answers meaning "I do not live here" (outside_warsaw): never compared

    @property
    def present(self) -> bool:
        """Whether staff filled it in: a margin without residents is not compared."""
        return bool(self.residents)

    @property
    def residents_total(self) -> int:
        return sum(self.residents.values())

    def share(self, code: str) -> float:
        """The share of residents in one category (0 for a code that is not one)."""
        return self.residents.get(code, 0) / self.residents_total if self.residents else 0.0


class Population(_Strict):
    """Warsaw's residents by the margins known (source and date named, as a published figure must be)."""

    source: str = Field(min_length=1)
    date: dt.date
    margins: dict[Code, Margin] = Field(min_length=1)

    def present_margins(self) -> dict[str, Margin]:
        """The margins staff filled in, in the file's order."""
        return {name: margin for name, margin in self.margins.items() if margin.present}

    def asked_in(self, questionnaire: Questionnaire) -> Population:
        """The margins whose question this questionnaire asks (another questionnaire may ask none)."""
        asked = {name: m for name, m in self.margins.items() if questionnaire.question(m.question) is not None}
        return self.model_copy(update={"margins": asked})


def parse_population(raw: Any, file: str, questionnaires: Mapping[str, Questionnaire] | None = None) -> Population:
    """Validates the population file (against the questionnaires' options when given, see `check_population`).

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError([Problem(file, "(top)", "expected `source:`, `date:` and `margins:` (see the shipped file)")])
    try:
        population = Population.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(describe_validation_errors(err, file, _key_of)) from None
    problems: list[Problem] = []
    questions: dict[str, str] = {}
    for name, margin in population.margins.items():
        key = f"margins.{name}"
        if margin.total is not None and margin.residents and margin.total != margin.residents_total:
            problems.append(
                Problem(
                    file,
                    f"{key}.total",
                    f"{margin.total} is not the sum of `residents` ({margin.residents_total}): "
                    "correct a number or the total",
                )
            )
        both = sorted(set(margin.outside) & set(margin.residents))
        if both:
            problems.append(Problem(file, f"{key}.outside", f"{', '.join(both)} also in `residents`: one or the other"))
        if margin.question in questions:
            problems.append(
                Problem(
                    file, f"{key}.question", f"'{margin.question}' is already `margins.{questions[margin.question]}`"
                )
            )
        questions.setdefault(margin.question, name)
    if questionnaires is not None:
        problems += check_population(population, questionnaires, file)
    if problems:
        raise ConfigError(problems)
    return population


def _key_of(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]")  # pydantic marks a wrong key itself so


def load_population(path: Path, questionnaires: Mapping[str, Questionnaire] | None = None) -> Population | None:
    """Loads the population file (checked against the questionnaires' options when given); None when there is
    none (the comparison is then off).

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if not path.exists():
        return None
    return parse_population(read_yaml(path), str(path), questionnaires)


def check_population(population: Population, questionnaires: Mapping[str, Questionnaire], file: str) -> list[Problem]:
    """The problems of the population file against the questionnaires: some questionnaire must ask each
    margin's question, as a single choice, and every code in the file must be one of its options (a typo
    would never match an answer)."""
    problems: list[Problem] = []
    for name, margin in population.margins.items():
        if questionnaires and all(q.question(margin.question) is None for q in questionnaires.values()):
            problems.append(Problem(file, f"margins.{name}.question", f"no questionnaire asks '{margin.question}'"))
        for questionnaire in questionnaires.values():
            question = questionnaire.question(margin.question)
            if question is None:
                continue  # this questionnaire does not ask it: nothing to compare there
            where = f"questionnaire {questionnaire.id}"
            if question.type is not QuestionType.SINGLE_CHOICE:
                problems.append(
                    Problem(file, f"margins.{name}.question", f"'{margin.question}' in {where} is not a single choice")
                )
                continue
            options = set(question.option_codes)
            known = ", ".join(sorted(options))
            for field, codes in (("residents", list(margin.residents)), ("outside", list(margin.outside))):
                for code in codes:
                    if code not in options:
                        problems.append(
                            Problem(
                                file,
                                f"margins.{name}.{field}.{code}",
                                f"not an option of '{margin.question}' in {where} (its codes: {known})",
                            )
                        )
    return problems

"""The coding frame staff write for the open answers (`config/themes.yaml`): named themes with their
keywords per language, the lemmatiser's fix-ups and synonyms, and words that carry no theme."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.definitions.config_files import ConfigError, Problem, describe_validation_errors, read_yaml
from handlers.definitions.i18n import Language
from handlers.definitions.questionnaire import Questionnaire, QuestionType

THEMES_FILE = "themes.yaml"  # in the configuration folder, beside the questionnaires

Word = Annotated[str, Field(min_length=1, max_length=80)]
ThemeCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThemeLabel(_Strict):
    """A theme's name; Polish is required, the others fall back to it."""

    pl: Word
    en: Word | None = None
    uk: Word | None = None

    def __call__(self, language: Language) -> str:
        """Returns the label in a language, or the Polish one."""
        return str(getattr(self, language) or self.pl)


class FrameTheme(_Strict):
    """One theme staff named: an answer belongs to it when it holds one of its keywords (as lemmas)."""

    code: ThemeCode
    label: ThemeLabel
    keywords: dict[Language, tuple[Word, ...]]
    questions: tuple[str, ...] = ()  # the open questions it is for; empty: every open question

    def applies_to(self, question: str) -> bool:
        """Tells whether the theme is counted for this question."""
        return not self.questions or question in self.questions


class CodingFrame(_Strict):
    """Everything `config/themes.yaml` holds; an empty frame when there is no file."""

    themes: tuple[FrameTheme, ...] = ()
    # word or lemma → the lemma it counts as (the lemmatiser's known mistakes: razem → razem, not raz)
    lemmas: dict[Language, dict[Word, Word]] = {}
    # lemma → the words merged into it (synonyms and variants: one theme, not three)
    synonyms: dict[Language, dict[Word, tuple[Word, ...]]] = {}
    stopwords: dict[Language, tuple[Word, ...]] = {}  # besides the shipped lists
    keep: dict[Language, tuple[Word, ...]] = {}  # words the shipped lists drop that are themes here


def load_coding_frame(path: Path, questionnaires: Mapping[str, Questionnaire] | None = None) -> CodingFrame:
    """Loads the coding frame (a missing file means no named themes).

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if not path.exists():
        return CodingFrame()
    return parse_coding_frame(read_yaml(path), str(path), questionnaires)


def parse_coding_frame(raw: Any, file: str, questionnaires: Mapping[str, Questionnaire] | None = None) -> CodingFrame:
    """Validates a coding frame; its questions are checked against the questionnaires when given.

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if raw is None:
        return CodingFrame()
    if not isinstance(raw, Mapping):
        raise ConfigError([Problem(file, "(top)", "expected `themes:` followed by a list of themes")])

    def key_of(loc: tuple[int | str, ...]) -> str:
        if len(loc) >= 2 and loc[0] == "themes" and isinstance(loc[1], int):
            items = raw.get("themes") or []
            item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            code = item.get("code") if isinstance(item, Mapping) else None
            return ".".join([f"themes[{code or loc[1] + 1}]", *map(str, loc[2:])])
        return ".".join(map(str, loc))

    try:
        frame = CodingFrame.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(describe_validation_errors(err, file, key_of)) from None
    problems: list[Problem] = []
    open_questions = {
        question.code
        for questionnaire in (questionnaires or {}).values()
        for question in questionnaire.questions
        if question.type is QuestionType.TEXT
    }
    seen: set[str] = set()
    for theme in frame.themes:
        key = f"themes[{theme.code}]"
        if theme.code in seen:
            problems.append(Problem(file, key, "duplicate code"))
        seen.add(theme.code)
        if not any(theme.keywords.values()):
            problems.append(Problem(file, f"{key}.keywords", "needs at least one keyword in some language"))
        for question in theme.questions:
            if questionnaires is not None and question not in open_questions:
                known = ", ".join(sorted(open_questions)) or "none"
                problems.append(
                    Problem(file, f"{key}.questions", f"no open question '{question}' (open questions: {known})")
                )
    if problems:
        raise ConfigError(problems)
    return frame

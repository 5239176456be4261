"""Languages, translated texts and the catalog of the engine's own messages."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.definitions.config_files import ConfigError, Problem, describe_validation_errors, read_yaml

Language = Literal["pl", "en", "uk"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "pl"
LANGUAGE_NAMES: dict[Language, str] = {"pl": "Polski", "en": "English", "uk": "Українська"}

NonEmpty = Annotated[str, Field(min_length=1)]


class Text(BaseModel):
    """One resident-facing text in every language; Polish is the reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pl: NonEmpty
    en: NonEmpty
    uk: NonEmpty

    def __call__(self, language: Language) -> str:
        """Returns the text in a language."""
        return str(getattr(self, language))


def as_language(value: str | None) -> Language | None:
    """Reads a language code such as `uk` or `en-GB`; None when it is not one of ours."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    if code == "ua":  # a common misspelling of Ukrainian's ISO 639-1 code
        code = "uk"
    return code if code in LANGUAGES else None


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Catalog:
    """The engine's own messages (buttons, errors, prompts), looked up by key and language."""

    def __init__(self, texts: Mapping[str, Text]) -> None:
        self._texts = dict(texts)

    def __call__(self, key: str, language: Language, **values: Any) -> str:
        """Returns a message in a language with its placeholders filled in."""
        return self._texts[key](language).format(**values)

    def keys(self) -> set[str]:
        """Lists the message keys the catalog holds."""
        return set(self._texts)

    def for_channel(self, channel: str) -> Catalog:
        """This catalog as one channel shows it: `<channel>_<key>` (e.g. `telegram_help`) replaces `<key>`.

        Words about one channel's controls (its /commands, its buttons) live in its own keys, so a
        text the engine shares among channels never names another channel's controls.
        """
        prefix = f"{channel}_"
        overrides = {key: self._texts[prefix + key] for key in self._texts if prefix + key in self._texts}
        return Catalog({**self._texts, **overrides}) if overrides else self


def _under(prefix: str) -> Callable[[tuple[int | str, ...]], str]:
    return lambda loc: ".".join([prefix, *map(str, loc)])


def load_catalog(path: Path, required: Mapping[str, set[str]]) -> Catalog:
    """Loads the message catalog and checks it has every key the engine uses.

    `required` maps each key to the placeholders its text must use.

    Raises:
        ConfigError: naming every missing key, translation or placeholder at once.
    """
    raw = read_yaml(path)
    file = str(path)
    if not isinstance(raw, Mapping):
        raise ConfigError([Problem(file, "(top)", "expected a mapping of message keys to translations")])
    problems: list[Problem] = []
    texts: dict[str, Text] = {}
    for key, value in raw.items():
        try:
            texts[str(key)] = Text.model_validate(value)
        except ValidationError as err:
            problems.extend(describe_validation_errors(err, file, _under(str(key))))
    for key in sorted(set(required) - set(texts)):
        problems.append(Problem(file, key, "missing message"))
    for key, text in texts.items():
        if key not in required:
            problems.append(Problem(file, key, "unknown message key (a typo?)"))
            continue
        for language in LANGUAGES:
            try:
                used = _placeholders(text(language))
            except ValueError as err:
                problems.append(Problem(file, f"{key}.{language}", f"broken placeholder: {err}"))
                continue
            if used != required[key]:
                expected = ", ".join(f"{{{name}}}" for name in sorted(required[key])) or "none"
                problems.append(Problem(file, f"{key}.{language}", f"placeholders must be exactly: {expected}"))
    if problems:
        raise ConfigError(problems)
    return Catalog(texts)

"""Languages, translated texts and the catalog of the engine's own messages."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from babel.core import Locale
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


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def plural_categories(language: Language) -> frozenset[str]:
    """The plural forms a language tells apart (CLDR, through Babel): pl and uk one/few/many/other, en one/other."""
    return frozenset(_locale(language).plural_form.tags | {"other"})


def plural_category(language: Language, count: int | Decimal) -> str:
    """Which plural form a number takes in a language: pl 1 → one, 2 → few, 5 → many, 22 → few, 1502 → few."""
    return str(_locale(language).plural_form(count))


def plural(language: Language, count: int, forms: Mapping[str, str]) -> str:
    """The word form for a number, from one per plural category, e.g. {"one": "odpowiedź", "few": "odpowiedzi",
    "many": "odpowiedzi", "other": "odpowiedzi"}; `other` stands in for a category not given."""
    return forms.get(plural_category(language, count)) or forms["other"]


def _number(value: Any) -> int | Decimal | None:
    if isinstance(value, int | Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


# A message in one language: one text, or one text per plural category (chosen by the message's `plural`).
Variants = NonEmpty | dict[str, NonEmpty]


class Message(BaseModel):
    """One catalog message in every language.

    A text with a counted noun ("1502 znaki", "5 znaków") gives, in each language that needs it,
    one text per plural category of that language instead of one text; `plural` names the
    placeholder whose number chooses among them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pl: Variants
    en: Variants
    uk: Variants
    plural: str | None = None

    def variants(self, language: Language) -> dict[str, str]:
        """The language's texts by plural category ({"other": text} when it has just one)."""
        value = getattr(self, language)
        return {"other": value} if isinstance(value, str) else dict(value)

    def render(self, language: Language, values: Mapping[str, Any]) -> str:
        """The text in a language, in the plural form its count takes, with its placeholders filled in."""
        variants = self.variants(language)
        count = _number(values[self.plural]) if self.plural and len(variants) > 1 else None
        category = plural_category(language, count) if count is not None else "other"
        return variants.get(category, variants["other"]).format(**values)


class Catalog:
    """The engine's own messages (buttons, errors, prompts), looked up by key and language."""

    def __init__(self, texts: Mapping[str, Message]) -> None:
        self._texts = dict(texts)

    def __call__(self, key: str, language: Language, **values: Any) -> str:
        """Returns a message in a language with its placeholders filled in (and its plural form chosen)."""
        return self._texts[key].render(language, values)

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


def _check_variants(file: str, key: str, language: Language, text: Message, required: set[str]) -> list[Problem]:
    """A language's text (or texts per plural category): the right categories, each with exactly its placeholders."""
    problems: list[Problem] = []
    variants = text.variants(language)
    if not isinstance(getattr(text, language), str):  # texts per plural category
        categories = plural_categories(language)
        if text.plural is None:
            problems.append(Problem(file, f"{key}.{language}", "texts per plural form need `plural:` naming the count"))
        elif set(variants) != categories:
            expected = ", ".join(sorted(categories))
            problems.append(
                Problem(file, f"{key}.{language}", f"plural forms in {language} must be exactly: {expected}")
            )
    single = isinstance(getattr(text, language), str)
    for category, template in variants.items():
        where = f"{key}.{language}" if single else f"{key}.{language}.{category}"
        try:
            used = _placeholders(template)
        except ValueError as err:
            problems.append(Problem(file, where, f"broken placeholder: {err}"))
            continue
        if used != required:
            expected = ", ".join(f"{{{name}}}" for name in sorted(required)) or "none"
            problems.append(Problem(file, where, f"placeholders must be exactly: {expected}"))
    return problems


def load_catalog(path: Path, required: Mapping[str, set[str]]) -> Catalog:
    """Loads the message catalog and checks it has every key the engine uses.

    `required` maps each key to the placeholders its text must use. A message with a `plural:`
    placeholder may give, per language, one text per plural category of that language (all of
    them, `other` included); each of those texts uses the same placeholders.

    Raises:
        ConfigError: naming every missing key, translation or placeholder at once.
    """
    raw = read_yaml(path)
    file = str(path)
    if not isinstance(raw, Mapping):
        raise ConfigError([Problem(file, "(top)", "expected a mapping of message keys to translations")])
    problems: list[Problem] = []
    texts: dict[str, Message] = {}
    for key, value in raw.items():
        try:
            texts[str(key)] = Message.model_validate(value)
        except ValidationError as err:
            problems.extend(describe_validation_errors(err, file, _under(str(key))))
    for key in sorted(set(required) - set(texts)):
        problems.append(Problem(file, key, "missing message"))
    for key, text in texts.items():
        if key not in required:
            problems.append(Problem(file, key, "unknown message key (a typo?)"))
            continue
        if text.plural is not None and text.plural not in required[key]:
            named = ", ".join(f"{{{name}}}" for name in sorted(required[key])) or "none"
            problems.append(Problem(file, f"{key}.plural", f"must name one of its placeholders: {named}"))
        for language in LANGUAGES:
            problems.extend(_check_variants(file, key, language, text, required[key]))
    if problems:
        raise ConfigError(problems)
    return Catalog(texts)

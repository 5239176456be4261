"""Counted nouns take the plural form of their number (Babel's CLDR rules), in the catalog and in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.service import MESSAGES
from handlers.definitions.config_files import ConfigError
from handlers.definitions.i18n import Catalog, load_catalog, plural, plural_categories, plural_category
from tests.support import SHIPPED_CONFIG


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CONFIG / "messages.yaml", MESSAGES)


@pytest.mark.parametrize(
    ("language", "count", "category"),
    [
        ("pl", 1, "one"),
        ("pl", 2, "few"),
        ("pl", 5, "many"),
        ("pl", 12, "many"),
        ("pl", 22, "few"),
        ("pl", 25, "many"),
        ("pl", 1500, "many"),
        ("pl", 1502, "few"),
        ("uk", 1, "one"),
        ("uk", 2, "few"),
        ("uk", 5, "many"),
        ("en", 1, "one"),
        ("en", 2, "other"),
    ],
)
def test_the_plural_category_of_a_number(language: str, count: int, category: str) -> None:
    assert plural_category(language, count) == category  # type: ignore[arg-type]


def test_the_categories_each_language_tells_apart() -> None:
    assert plural_categories("pl") == plural_categories("uk") == {"one", "few", "many", "other"}
    assert plural_categories("en") == {"one", "other"}


@pytest.mark.parametrize(
    ("language", "length", "words"),
    [
        ("pl", 1, "ma 1 znak,"),
        ("pl", 2, "ma 2 znaki,"),
        ("pl", 5, "ma 5 znaków,"),
        ("pl", 12, "ma 12 znaków,"),
        ("pl", 22, "ma 22 znaki,"),
        ("pl", 25, "ma 25 znaków,"),
        ("pl", 1500, "ma 1500 znaków,"),
        ("pl", 1502, "ma 1502 znaki,"),
        ("uk", 1, "має 1 символ,"),
        ("uk", 2, "має 2 символи,"),
        ("uk", 5, "має 5 символів,"),
        ("en", 1, "has 1 character and"),
        ("en", 2, "has 2 characters and"),
    ],
)
def test_a_message_takes_the_plural_form_of_its_count(catalog: Catalog, language: str, length: int, words: str) -> None:
    assert words in catalog("error_too_long", language, length=length, limit=1500)  # type: ignore[arg-type]


def test_the_other_counted_messages(catalog: Catalog) -> None:
    assert catalog("error_too_few", "pl", min=1) == "Wybierz co najmniej 1 odpowiedź."
    assert catalog("error_too_few", "pl", min=2) == "Wybierz co najmniej 2 odpowiedzi."
    assert catalog("error_too_few", "uk", min=5) == "Оберіть щонайменше 5 відповідей."
    assert catalog("web_characters", "pl", limit=1502) == "Najwyżej 1502 znaki."
    assert catalog("web_characters", "pl", limit=1500) == "Najwyżej 1500 znaków."
    assert catalog("web_characters", "en", limit=1) == "Up to 1 character."
    assert "najwyżej 3 litery" in catalog("form_pick_many", "pl", max=3, example="a, c")
    assert "najwyżej 5 liter" in catalog("form_pick_many", "pl", max=5, example="a, c")


def test_plural_picks_a_word_form_in_code() -> None:
    forms = {"one": "odpowiedź", "few": "odpowiedzi", "many": "odpowiedzi", "other": "odpowiedzi"}
    assert [plural("pl", n, forms) for n in (1, 2, 5)] == ["odpowiedź", "odpowiedzi", "odpowiedzi"]
    assert plural("en", 1, {"one": "answer", "other": "answers"}) == "answer"


GOOD = """
counted:
  plural: n
  pl: {one: "{n} znak", few: "{n} znaki", many: "{n} znaków", other: "{n} znaku"}
  en: {one: "{n} character", other: "{n} characters"}
  uk: "{n} символів"
"""


def test_a_catalog_with_plural_forms_loads(tmp_path: Path) -> None:
    path = tmp_path / "messages.yaml"
    path.write_text(GOOD)
    loaded = load_catalog(path, {"counted": {"n"}})
    assert [loaded("counted", "pl", n=n) for n in (1, 3, 7)] == ["1 znak", "3 znaki", "7 znaków"]
    assert loaded("counted", "uk", n=2) == "2 символів"  # one text for every number is allowed


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            GOOD.replace(' few: "{n} znaki",', ""),
            "counted.pl: plural forms in pl must be exactly: few, many, one, other",
        ),
        (GOOD.replace("  plural: n\n", ""), "counted.pl: texts per plural form need `plural:` naming the count"),
        (GOOD.replace("plural: n", "plural: m"), "counted.plural: must name one of its placeholders: {n}"),
        (GOOD.replace('few: "{n} znaki"', 'few: "znaki"'), "counted.pl.few: placeholders must be exactly: {n}"),
        (GOOD.replace('other: "{n} characters"', 'two: "{n} characters"'), "counted.en: plural forms in en"),
    ],
)
def test_check_names_each_wrong_plural(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "messages.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_catalog(path, {"counted": {"n"}})
    assert problem in str(err.value)

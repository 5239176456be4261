"""Themes on a corpus of Polish, Ukrainian and English answers with planted themes: the planted ones in the
top ten, no stopwords or the question's own word, phrases kept whole, the coding frame's themes first and
counted in every language, distinct quotes."""

from __future__ import annotations

import pytest

from handlers.definitions.questionnaire import Question
from handlers.definitions.themes import parse_coding_frame
from reports.themes import (
    Lexicon,
    Theme,
    ThemeCounter,
    detect_language,
    find_themes,
    lemmas,
    methods_note,
)
from tests.unit import themes_corpus as corpus

QUESTION = Question.model_validate(
    {
        "code": "community_meaning",
        "type": "text",
        "label": {
            "pl": "Czym jest dla Ciebie wspólnota?",
            "en": "What does community mean to you?",
            "uk": "Що для вас означає спільнота?",
        },
    }
)
FRAME = parse_coding_frame(
    {
        "themes": [
            {
                "code": "dom_sasiedzki",
                "label": {"pl": "Dom sąsiedzki", "en": "Neighbourhood house"},
                "keywords": {
                    "pl": ["dom sąsiedzki", "klub sąsiedzki"],
                    "uk": ["сусідський дім"],
                    "en": ["neighbourhood house"],
                },
            },
            {
                "code": "plac_zabaw",
                "label": {"pl": "Plac zabaw"},
                "keywords": {"pl": ["plac zabaw"], "uk": ["дитячий майданчик"], "en": ["playground"]},
            },
            {
                "code": "brak_czasu",
                "label": {"pl": "Brak czasu"},
                "keywords": {"pl": ["brak czasu", "nie mam czasu"], "uk": ["брак часу"]},
            },
            {
                "code": "elsewhere",
                "label": {"pl": "Gdzie indziej"},
                "keywords": {"pl": ["dom kultury"]},
                "questions": ["x"],
            },
        ],
        "synonyms": {"pl": {"festyn": ["piknik"]}},
    },
    "themes.yaml",
)


def count(lexicon: Lexicon | None = None, *, allowed: bool = True) -> ThemeCounter:
    counter = ThemeCounter(QUESTION, lexicon)
    for n, (text, language) in enumerate(corpus.answers()):
        counter.add(text, allowed, language=language, group=f"event-{n % 5}")
    return counter


@pytest.fixture(scope="module")
def automatic() -> list[Theme]:
    return count().themes(top=10)


@pytest.fixture(scope="module")
def framed() -> list[Theme]:
    return count(Lexicon(FRAME)).themes(top=10)


def test_the_planted_themes_are_in_the_top_ten(automatic: list[Theme]) -> None:
    keys = [theme.keywords[0] for theme in automatic]
    assert len(automatic) == 10
    for expected in corpus.EXPECTED_POLISH:
        assert expected in keys, f"{expected!r} not in the top ten: {keys}"


def test_no_stopword_and_not_the_question_s_own_word(automatic: list[Theme]) -> None:
    words = {word for theme in automatic for keyword in theme.keywords for word in keyword.split()}
    assert not words & set(corpus.NEVER), words & set(corpus.NEVER)
    assert "спільнота" not in words and "community" not in words  # the question's word in uk and en


def test_dom_kultury_is_one_phrase_not_two_words(automatic: list[Theme]) -> None:
    by_key = {theme.keywords[0]: theme for theme in automatic}
    assert by_key["dom kultura"].label == "domu kultury"  # shown as residents write it
    assert by_key["dom kultura"].answers == 9
    assert "kultura" not in by_key and "dom" not in by_key  # its halves are not themes of their own
    assert by_key["dom sąsiedzki"].answers == 8  # "Dom sasiedzki" too: the diacritics restored


def test_ranked_by_distinctiveness_not_raw_count() -> None:
    counter = ThemeCounter(QUESTION)
    benches = ["Ławka pod blokiem.", "Nowa ławka przy szkole.", "Ławka i kwiaty.", "Zepsuta ławka."]
    work = ["Po pracy nie ma siły.", "Praca do wieczora.", "Dużo pracy.", "Praca, dom, praca.", "Ciągle praca."]
    for text in [*work, *benches, "Cisza."]:
        counter.add(text, True)
    keys = [theme.keywords[0] for theme in counter.themes()]
    # "praca" is in more answers (5) than "ławka" (4), but far more common in Polish at large
    assert keys.index("ławka") < keys.index("praca")


def test_ukrainian_and_english_answers_count_in_the_frame_s_themes(framed: list[Theme]) -> None:
    by_code = {theme.code: theme for theme in framed if theme.kind == "frame"}
    # 8 Polish (one without diacritics) + 3 Ukrainian + 2 English
    assert by_code["dom_sasiedzki"].answers == 13
    assert by_code["plac_zabaw"].answers == 7 + 2 + 1  # "plac do zabaw" too
    assert by_code["brak_czasu"].answers == 6 + 1
    assert "elsewhere" not in by_code  # a theme for another question
    assert by_code["dom_sasiedzki"].keywords == (
        "dom sąsiedzki",
        "klub sąsiedzki",
        "neighbourhood house",
        "сусідський дім",
    )
    assert any(_is_cyrillic(quote) for quote in by_code["dom_sasiedzki"].quotes)  # quotes across languages


def test_the_frame_s_themes_come_first_and_the_automatic_ones_do_not_repeat_them(framed: list[Theme]) -> None:
    kinds = [theme.kind for theme in framed]
    assert kinds[:3] == ["frame"] * 3 and set(kinds[3:]) == {"automatic"}
    assert [theme.answers for theme in framed[:3]] == sorted((theme.answers for theme in framed[:3]), reverse=True)
    automatic = {theme.keywords[0] for theme in framed[3:]}
    assert not automatic & {"dom sąsiedzki", "plac zabawa", "brak czas", "сусідський дім"}
    assert "dom kultura" in automatic


def test_every_quote_is_distinct_and_shown_once(framed: list[Theme], automatic: list[Theme]) -> None:
    for themes in (framed, automatic):
        quotes = [quote for theme in themes for quote in theme.quotes]
        assert len(quotes) == len(set(quotes)) and len(quotes) >= 20
        assert all(len(theme.quotes) <= 3 for theme in themes)


def test_quotes_only_from_those_who_allowed_it() -> None:
    themes = count(allowed=False).themes()
    assert themes and all(theme.quotes == () for theme in themes)
    found = find_themes([("Więcej ławek na podwórku.", True), ("Ławki i zieleń na podwórku!", False), ("Nic.", True)])
    podworko = next(theme for theme in found if theme.keywords == ("podwórko",))
    assert podworko.answers == 2
    assert {quote for theme in found for quote in theme.quotes} == {"Więcej ławek na podwórku."}


def test_the_same_answer_twice_is_quoted_once() -> None:
    counter = ThemeCounter(QUESTION)
    for _ in range(4):
        counter.add("Darmowe sale na spotkania mieszkańców w domu kultury.", True)
    counter.add("Zajęcia w domu kultury dla seniorów.", True)
    [theme, *_] = counter.themes()
    assert theme.keywords == ("dom kultura",) and theme.answers == 5
    assert len(theme.quotes) == 2


@pytest.mark.parametrize(
    ("text", "hint", "language"),
    [
        ("Dom kultury i plac zabaw dla dzieci na naszym osiedlu.", "uk", "pl"),  # a Ukrainian answering in Polish
        ("Sonsiedzi ktorzy sie lubia i pomagaja sobie", "pl", "pl"),  # no diacritics
        ("Для мене громада – це сусіди, які допомагають одне одному.", "pl", "uk"),
        ("Neighbours who help each other with shopping.", "pl", "en"),
        ("Neighbours helping neighbours, gardening together.", "pl", "en"),  # no function word: lingua
        ("Sasiedzi pomagaja sobie nawzajem codziennie", "en", "pl"),  # one function word: lingua
        ("park", "en", "en"),  # too short to tell: the questionnaire's language
        ("brak czasu", "pl", "pl"),
        ("ok", "uk", "pl"),  # Latin letters are not Ukrainian
        ("1234", None, "pl"),
    ],
)
def test_each_answer_s_language(text: str, hint: str | None, language: str) -> None:
    assert detect_language(text, hint) == language


def test_lemmas_in_the_answer_s_language_with_the_lemmatiser_s_mistakes_fixed() -> None:
    assert lemmas("Sadzimy to razem na osiedla podwórku") == {"sadzić", "osiedle", "podwórko"}
    assert "sąsiad" in lemmas("sasiedzi z podworka")  # typed without diacritics
    assert lemmas("Сусіди допомагають одне одному", "uk") == {"сусід", "допомагати"}
    assert lemmas("Neighbours helping each other", "en") == {"neighbour", "help"}


def test_the_frame_s_synonyms_merge_into_one_theme() -> None:
    counter = ThemeCounter(QUESTION, Lexicon(FRAME))
    for text in ("Festyn na podwórku.", "Piknik sąsiedzki w parku.", "Pikniki i festyny co roku."):
        counter.add(text, True)
    [festyn] = [theme for theme in counter.themes() if theme.keywords == ("festyn",)]
    assert festyn.answers == 3


def test_an_empty_question_has_no_themes() -> None:
    counter = ThemeCounter(QUESTION)
    counter.add("  ", True)
    counter.add("-", True)
    assert counter.answers == 2 and counter.themes() == []


def test_the_methods_note_says_how_themes_were_found() -> None:
    polish = methods_note("pl", {"pl": 69, "uk": 10, "en": 6})
    english = methods_note("en")
    for word in ("lingua", "simplemma", "wordfreq", "config/themes.yaml", "dom kultury"):
        assert word in polish and word in english
    assert "pl 69, en 6, uk 10" in polish
    assert "ukraińsku" in polish and "Ukrainian" in english


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def test_quotes_come_from_different_groups_first() -> None:
    counter = ThemeCounter(QUESTION)
    texts = {
        f"Ławka numer {word} pod blokiem, bardzo potrzebna.": group
        for word, group in zip(
            ("jeden", "dwa", "trzy", "cztery", "pięć", "sześć"),
            ("wola", "wola", "wola", "wola", "ochota", "bemowo"),
            strict=True,
        )
    }
    for text, group in texts.items():
        counter.add(text, True, group=group)
    quoted = [quote for theme in counter.themes() for quote in theme.quotes]
    assert sorted(texts[quote] for quote in quoted[:3]) == ["bemowo", "ochota", "wola"]


def test_a_long_answer_is_quoted_to_a_sentence_s_end() -> None:
    counter = ThemeCounter(QUESTION)
    counter.add("Dom kultury jest blisko. " * 20, True)
    counter.add("Chodzę do domu kultury.", False)
    [quote] = [quote for theme in counter.themes(quote_chars=100) for quote in theme.quotes]
    assert quote.endswith("blisko. …") and len(quote) <= 100

"""The words of an answer: its language among pl, uk and en, its lemmas in that language, which of them
carry no theme (stopwords), and how common a word or phrase is in general language (wordfreq)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import simplemma

from handlers.definitions.i18n import LANGUAGES, Language, as_language
from handlers.definitions.questionnaire import Questionnaire
from handlers.definitions.themes import THEMES_FILE, CodingFrame, load_coding_frame

# Polish and Ukrainian stopwords from the stop-words package; its English list (1,333 words) holds content
# words residents use as themes (help, home, group, problem, free), so English has NLTK's list of
# function words (179, the `stopwords` corpus), written out here.
_STOPWORD_LISTS: dict[Language, str] = {"pl": "polish", "uk": "ukrainian"}
_ENGLISH_STOPWORDS = frozenset(
    """i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him
    his himself she she's her hers herself it it's its itself they them their theirs themselves what which who
    whom this that that'll these those am is are was were be been being have has had having do does did doing
    a an the and but if or because as until while of at by for with about against between into through during
    before after above below to from up down in out on off over under again further then once here there when
    where why how all any both each few more most other some such no nor not only own same so than too very s
    t can will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn
    didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't
    needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't""".split()
)
# What every consultation needs beside the stop-words lists (from the staff's review of the first report,
# ../shared/reviews/staff.md §4): simplemma's known mistakes, and generic words that name no theme.
# The coding frame adds to both (its `lemmas`, `synonyms`, `stopwords`) and may `keep` a word.
BUILT_IN_LEMMAS: dict[Language, dict[str, str]] = {
    "pl": {
        "razem": "razem",  # simplemma: raz ("once")
        **dict.fromkeys(("osiedla", "osiedli"), "osiedle"),  # simplemma: osiedlać
        **dict.fromkeys(("ogródki", "ogródków", "ogródkach"), "ogródek"),  # simplemma: ogródka
        **dict.fromkeys(("ludzie", "ludzi", "ludźmi", "ludziom"), "ludzie"),  # simplemma: człowiek
    },
    "uk": {},
    "en": {},
}
BUILT_IN_STOPWORDS: dict[Language, frozenset[str]] = {
    "pl": frozenset(
        """tam tu tutaj siebie sobie więcej mniej raz razem wiedzieć mieć móc chcieć musieć człowiek ludzie osoba
        rzecz sprawa coś ktoś nikt nic bardzo dużo mało często czasem zawsze nigdy trochę dobry fajny fajnie duży
        mały sposób mówić robić zrobić dać iść przyjść wszystek inny sam swój jakiś żaden każdy taki można trzeba
        powinien np itp itd etc czyli zwłaszcza ok okej""".split()
    ),
    "uk": frozenset(
        """там тут себе собі більше менше разом знати мати бути могти хотіти людина люди річ дуже багато мало
        часто завжди ніколи трохи добрий свій інший кожен весь можна треба потрібно мене мені одне одного одному
        один одна вони нас нам наш наша наші який яка які також просто""".split()
    ),
    "en": frozenset(
        """people person thing things really lot lots also just get make think know would could should good
        great like way much many more less every each other together""".split()
    ),
}
# Clauses: two lemmas are neighbours only inside one (a comma or a full stop ends a phrase).
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\n\r\"„”“«»…/|–—]|\s-\s")
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_FOLD = str.maketrans("ąćęłńóśźż", "acelnoszz")


# --- languages -----------------------------------------------------------------------------------


@cache
def _detector() -> Any:
    from lingua import Language as Lingua
    from lingua import LanguageDetectorBuilder

    # Only our three languages: the models load lazily, and a close call is left undecided.
    languages = (Lingua.POLISH, Lingua.UKRAINIAN, Lingua.ENGLISH)
    return LanguageDetectorBuilder.from_languages(*languages).with_minimum_relative_distance(0.05).build()


_LINGUA_CODES: dict[str, Language] = {"POLISH": "pl", "UKRAINIAN": "uk", "ENGLISH": "en"}


# Function words only one of the two Latin-script languages has (not "a", "i", "to", "on", "we", "by"):
# two of one and none of the other decide without lingua, which is most of the time (lingua is ~0.2 ms).
_POLISH_MARKS = frozenset(
    """w z na się sie nie że ze jest są sa dla po przez przy oraz bo który która które którzy ktory ktora
    ktore ktorzy jak co ale od czy tylko już juz bardzo mam mamy nas nam mnie jej ich ten ta te tym tego gdzie
    kiedy też tez sobie""".split()
)
_ENGLISH_MARKS = frozenset(
    """the and of is are with for that this who where they you it in at be have has our my there their would
    should can not from an what when""".split()
)
_POLISH_LETTERS = re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]")


def detect_language(text: str, hint: str | None = None) -> Language:
    """The language of one answer among pl, uk and en: Cyrillic script is Ukrainian; Latin text is Polish
    or English by its function words and letters, or else by lingua; a text too short or too close to
    call is taken in `hint` (the questionnaire's language), else Polish."""
    fallback = as_language(hint) or "pl"
    cyrillic = len(_CYRILLIC.findall(text))
    latin = len(_LATIN.findall(text))
    if cyrillic > latin:
        return "uk"
    if latin == 0:
        return fallback
    words = _WORD.findall(text.lower())
    if len(words) < 3 and fallback != "uk":
        return fallback  # "ok", "park", "brak czasu": the questionnaire's language knows better
    polish = sum(word in _POLISH_MARKS for word in words) + 2 * bool(_POLISH_LETTERS.search(text))
    english = sum(word in _ENGLISH_MARKS for word in words)
    if polish >= 2 and english == 0:
        return "pl"
    if english >= 2 and polish == 0:
        return "en"
    found = _detector().detect_language_of(text[:400])
    language = _LINGUA_CODES.get(found.name) if found is not None else None
    if language is None or language == "uk":  # Latin letters are not Ukrainian
        return fallback if fallback != "uk" else "pl"
    return language


# --- words ---------------------------------------------------------------------------------------


def _fold(word: str) -> str:
    return word.translate(_FOLD)


@cache
def _polish_frequencies() -> dict[str, float]:
    import wordfreq

    return wordfreq.get_frequency_dict("pl")


@cache
def _polish_by_folded() -> dict[str, str]:
    """Polish words by their form without diacritics → the most frequent word with them (wordfreq)."""
    best: dict[str, str] = {}
    for word in _polish_frequencies():  # most frequent first
        folded = _fold(word)
        if folded != word:
            best.setdefault(folded, word)
    return best


def _restore_diacritics(word: str) -> str:
    """`sasiedzi` → `sąsiedzi` when the word with diacritics is far more common (typed on a phone)."""
    restored = _polish_by_folded().get(word)
    if restored is None:
        return word
    frequencies = _polish_frequencies()
    return restored if frequencies.get(word, 0.0) * 20 < frequencies[restored] else word


@cache
def zipf(key: str, language: Language) -> float:
    """How common a lemma or phrase is in general language, on wordfreq's Zipf scale (log10 of the
    frequency per billion words: 0 unknown, 7 `the`).

    For a phrase, wordfreq's own estimate takes it to be as common as its rarer word (an upper bound) and
    independent words would make it as rare as their product (a lower bound): the mean of the two.
    """
    import wordfreq

    words = key.split()
    estimate = float(wordfreq.zipf_frequency(key, language))
    if len(words) == 1:
        return estimate
    independent = sum(float(wordfreq.zipf_frequency(word, language)) for word in words) - 9 * (len(words) - 1)
    return (estimate + max(independent, 0.0)) / 2


class Token(NamedTuple):
    """One word of an answer: as written (lower case), its lemma, the lemma for matching, a stopword?"""

    word: str
    lemma: str
    match: str  # the lemma without Polish diacritics: `podworko` and `podwórko` meet
    stop: bool


class Lexicon:
    """How words become lemmas in each language: simplemma, with the coding frame's fix-ups, synonyms and
    stopwords; each distinct word is looked up once."""

    def __init__(self, frame: CodingFrame | None = None) -> None:
        from stop_words import get_stop_words  # type: ignore[import-untyped]

        self.frame = frame or CodingFrame()
        self._tokens: dict[Language, dict[str, Token]] = {language: {} for language in LANGUAGES}
        self._fixes: dict[Language, dict[str, str]] = {}
        self._stop: dict[Language, frozenset[str]] = {}
        for language in LANGUAGES:
            fixes = dict(BUILT_IN_LEMMAS[language])
            fixes.update({word.lower(): lemma.lower() for word, lemma in self.frame.lemmas.get(language, {}).items()})
            for lemma, variants in self.frame.synonyms.get(language, {}).items():
                fixes.update({variant.lower(): lemma.lower() for variant in variants})
            self._fixes[language] = fixes
            keep = {word.lower() for word in self.frame.keep.get(language, ())}
            listed = (
                {word.lower() for word in get_stop_words(_STOPWORD_LISTS[language])}
                if language in _STOPWORD_LISTS
                else set(_ENGLISH_STOPWORDS)
            )
            listed |= BUILT_IN_STOPWORDS[language] | {word.lower() for word in self.frame.stopwords.get(language, ())}
            self._stop[language] = frozenset(listed - keep)

    def token(self, word: str, language: Language) -> Token:
        """The lemma of one lower-case word in a language, and whether it carries no theme."""
        known = self._tokens[language].get(word)
        if known is None:
            known = self._tokens[language][word] = self._look_up(word, language)
        return known

    def _look_up(self, word: str, language: Language) -> Token:
        fixes = self._fixes[language]
        lemma = fixes.get(word)
        if lemma is None:
            written = word
            # The frugal dictionaries: 70 MB and half the loading time of the default ones (400 MB).
            if language == "pl" and word.isascii() and not simplemma.is_known(word, lang="pl", low_memory=True):
                written = _restore_diacritics(word)
            lemma = simplemma.lemmatize(written, lang=language, low_memory=True).lower()
            if " " in lemma:  # a lemma of several words would read as a phrase
                lemma = word
            lemma = fixes.get(lemma, lemma)
        stop = len(lemma) < 3 or word in self._stop[language] or lemma in self._stop[language]
        return Token(word, lemma, _fold(lemma), stop)

    def clauses(self, text: str, language: Language) -> list[list[Token]]:
        """The answer's words as tokens, clause by clause."""
        clauses = []
        for clause in _CLAUSE.split(text.lower()):
            tokens = [self.token(word, language) for word in _WORD.findall(clause)]
            if tokens:
                clauses.append(tokens)
        return clauses

    def lemmas(self, text: str, language: Language) -> set[str]:
        """The distinct lemmas of a text that can carry a theme."""
        return {token.lemma for clause in self.clauses(text, language) for token in clause if not token.stop}

    @staticmethod
    def key(tokens: Iterable[Token]) -> str:
        """A lemma or a phrase as one string: lemmas joined by spaces."""
        return " ".join(token.lemma for token in tokens)


def load_lexicon(config_dir: Path, questionnaires: Mapping[str, Questionnaire] | None = None) -> Lexicon:
    """The lexicon with the coding frame in `config_dir` (themes.yaml; automatic themes only without it).

    Raises:
        ConfigError: naming the frame's mistakes by file and key.
    """
    return Lexicon(load_coding_frame(config_dir / THEMES_FILE, questionnaires))


@cache
def default_lexicon() -> Lexicon:
    """The lexicon with no coding frame."""
    return Lexicon()


def lemmas(text: str, language: Language = "pl") -> set[str]:
    """The distinct meaningful lemmas of one answer (stopwords dropped)."""
    return default_lexicon().lemmas(text, language)

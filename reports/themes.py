"""The main themes of open answers (lemmas with counts), and quotes safe to publish."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import simplemma

# Words that carry no theme in these answers (Polish, after lemmatisation).
STOPWORDS = frozenset(
    """
    a aby ale albo ani być by bardzo bez bo co coś czy dla do dużo gdy gdzie i ich im inny jak jaki jakiś
    jeden jeśli jest już każdy kiedy kto który lub ma mieć mieszkać mój może móc na nad nas nasz nawet nie
    nic niż o od on ona one oni oraz po pod przez przy się sobie swój sam są ta tak także te ten to tu tutaj
    tylko tym u w we więc wszystko wszyscy wtedy z za ze że żeby ja ty my wy też już jeszcze bardziej mieć
    można trzeba taki który ktoś gdyby będzie były było był była jako żeby bo np itp the and of to in
    """.split()
)
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+?\d[\d\s().-]{7,}\d)")
# A capitalised word not at the start of a sentence looks like a name: masked in quotes.
_NAME = re.compile(r"(?<=[^.!?\s]\s)[A-ZĄĆĘŁŃÓŚŹŻ][a-ząćęłńóśźż]{2,}")


@dataclass(frozen=True, slots=True)
class Theme:
    """A frequent lemma, in how many answers it appears, and a few quotes that mention it."""

    lemma: str
    answers: int
    quotes: tuple[str, ...]


@lru_cache(maxsize=200_000)
def _lemma(word: str) -> str | None:
    # Answers repeat their words a great deal: each distinct word is looked up once.
    lemma = simplemma.lemmatize(word, lang="pl").lower()
    return lemma if lemma not in STOPWORDS and len(lemma) > 2 else None


def lemmas(text: str) -> set[str]:
    """The distinct meaningful lemmas of one answer (Polish lemmatisation; stopwords dropped)."""
    return {lemma for word in _WORD.findall(text.lower()) if (lemma := _lemma(word)) is not None}


def mask(text: str) -> str:
    """Hides emails, phone numbers and name-like words in a quote."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub("[telefon]", text)
    return _NAME.sub("[…]", text)


def find_themes(
    answers: Sequence[tuple[str, bool]], *, top: int = 8, quotes: int = 3, quote_chars: int = 300
) -> list[Theme]:
    """Counts lemmas across answers (each answer once); quotes come only from those who allowed quoting."""
    per_answer = [(text, allowed, lemmas(text)) for text, allowed in answers if text.strip()]
    counts = Counter(lemma for _, _, found in per_answer for lemma in found)
    themes = []
    for lemma, n in counts.most_common(top):
        if n < 2:
            break  # a word one person used is not a theme
        chosen = [
            mask(text if len(text) <= quote_chars else text[: quote_chars - 1] + "…")
            for text, allowed, found in per_answer
            if allowed and lemma in found
        ][:quotes]
        themes.append(Theme(lemma, n, tuple(chosen)))
    return themes

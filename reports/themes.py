"""The main themes of open answers (lemmas with counts), and quotes safe to publish."""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable
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
    lemma = simplemma.lemmatize(word, lang="pl", low_memory=True).lower()
    return lemma if lemma not in STOPWORDS and len(lemma) > 2 else None


def lemmas(text: str) -> set[str]:
    """The distinct meaningful lemmas of one answer (Polish lemmatisation; stopwords dropped)."""
    return {lemma for word in _WORD.findall(text.lower()) if (lemma := _lemma(word)) is not None}


def mask(text: str) -> str:
    """Hides emails, phone numbers and name-like words in a quote."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub("[telefon]", text)
    return _NAME.sub("[…]", text)


class ThemeCounter:
    """Counts the lemmas of open answers as they stream by (each answer once), keeping only the first
    few quotable answers per lemma, so memory stays bounded however many answers there are."""

    def __init__(self, quotes: int = 3) -> None:
        self.answers = 0
        self._quotes = quotes
        self._counts: Counter[str] = Counter()
        self._quotable: dict[str, list[str]] = {}  # lemma → the first answers with it whose authors allowed quoting

    def add(self, text: str, allowed: bool) -> None:
        """Counts one answer; `allowed` tells whether its author agreed to be quoted."""
        self.answers += 1
        if not text.strip():
            return
        found = lemmas(text)
        self._counts.update(found)
        if allowed:
            for lemma in found:
                kept = self._quotable.get(lemma)
                if kept is None:
                    self._quotable[lemma] = [text]
                elif len(kept) < self._quotes:
                    kept.append(text)

    def themes(self, *, top: int = 8, quote_chars: int = 300) -> list[Theme]:
        """The most frequent lemmas (ties by lemma), each with its first quotes, shortened and masked."""
        themes = []
        for lemma, n in heapq.nsmallest(top, self._counts.items(), key=lambda item: (-item[1], item[0])):
            if n < 2:
                break  # a word one person used is not a theme
            quotes = self._quotable.get(lemma, [])
            shortened = [text if len(text) <= quote_chars else text[: quote_chars - 1] + "…" for text in quotes]
            themes.append(Theme(lemma, n, tuple(mask(text) for text in shortened)))
        return themes


def find_themes(answers: Iterable[tuple[str, bool]], *, top: int = 8, quotes: int = 3) -> list[Theme]:
    """Counts lemmas across answers (each answer once); quotes come only from those who allowed quoting."""
    counter = ThemeCounter(quotes)
    for text, allowed in answers:
        counter.add(text, allowed)
    return counter.themes(top=top)

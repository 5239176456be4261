"""The themes of open answers: the coding frame's named themes first, then the words and phrases most
distinctive of the answers, each with how many answers hold it and distinct quotes safe to publish.

Each answer is read in its own language (pl, uk or en), its words turned into lemmas, stopwords and the
question's own words dropped (`reports.lexicon`). Counting streams: memory grows with the vocabulary, not
the answers.
"""

from __future__ import annotations

import bisect
import itertools
import math
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from handlers.definitions.i18n import LANGUAGES, Language
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from handlers.definitions.themes import FrameTheme
from reports.lexicon import Lexicon, Token, default_lexicon, detect_language, lemmas, load_lexicon, zipf
from reports.masking import mask as mask  # quotes: names, addresses, emails, phones (re-exported)

__all__ = [  # the lexicon's names stay importable from here, as report.py and the CLI use them
    "Lexicon",
    "QuestionnaireThemes",
    "Theme",
    "ThemeCounter",
    "detect_language",
    "find_themes",
    "gather_themes",
    "lemmas",
    "load_lexicon",
    "mask",
    "methods_note",
]

QUOTE_CONSENT = "quote_consent"  # the question whose "yes" allows quoting
DISTRICT = "district"
MIN_AUTOMATIC = 3  # automatic themes shown even when the frame's fill the list
COLLOCATION = 0.2  # Dice share above which two neighbouring lemmas count as one phrase ("dom kultury")
TOO_COMMON = 6.0  # Zipf frequency (wordfreq) at which a word is too common to be a theme (tam, więcej)
_KEPT_QUOTES = 6  # candidates kept per theme while counting (a sample spread over the whole run)


@dataclass(frozen=True, slots=True)
class Theme:
    """A theme of one question's answers: its label, the lemmas that mark it, how many answers, quotes."""

    label: str
    keywords: tuple[str, ...]
    answers: int
    quotes: tuple[str, ...]
    kind: Literal["frame", "automatic"] = "automatic"
    language: Language | None = None  # an automatic theme's language; None for the frame's (every language)
    code: str | None = None  # a frame theme's code

    @property
    def lemma(self) -> str:
        """The label (the name the report used before there were phrases and a coding frame)."""
        return self.label


# --- counting ------------------------------------------------------------------------------------


class _Candidate(NamedTuple):
    rank: tuple[int, int]  # (0 for a quote of a readable length, else 1; a hash of the text)
    text: str
    group: str
    language: Language


@dataclass(frozen=True, slots=True)
class _Keyword:
    theme: str
    full: tuple[str, ...]  # every lemma of the keyword (for matching in order)
    content: tuple[str, ...]  # without stopwords, two lemmas or more: "plac zabaw" finds "plac do zabaw"


@dataclass
class _Language:
    """What one language's answers gave: answers, lemma and phrase counts, phrase forms."""

    answers: int = 0
    units: Counter[str] = field(default_factory=Counter)  # lemma → answers
    pairs: Counter[str] = field(default_factory=Counter)  # "lemma lemma" → answers with them side by side
    inside: Counter[tuple[str, int]] = field(default_factory=Counter)  # (pair, 0|1) → answers with that word only there
    forms: dict[str, Counter[str]] = field(default_factory=dict)  # pair → its written forms


class ThemeCounter:
    """Counts one open question's answers as they stream by: the frame's themes, lemmas and phrases per
    language, and a sample of quotable answers per theme spread over the whole run."""

    def __init__(self, question: Question | None = None, lexicon: Lexicon | None = None, quotes: int = 3) -> None:
        self.answers = 0
        self.by_language: Counter[Language] = Counter()
        self.question = question
        self._lexicon = lexicon or default_lexicon()
        self._quotes = quotes
        code = question.code if question is not None else ""
        self._frame = [theme for theme in self._lexicon.frame.themes if theme.applies_to(code)]
        self._frame_counts: Counter[str] = Counter()
        self._keywords: dict[Language, dict[str, list[_Keyword]]] = {}
        self._frame_keys: dict[Language, set[str]] = {}
        self._own: dict[Language, frozenset[str]] = {}
        self._languages: dict[Language, _Language] = {}
        self._candidates: dict[tuple[Language | None, str], list[_Candidate]] = {}

    def _prepare(self, language: Language) -> None:
        """The frame's keywords and the question's own words as lemmas of a language, on its first answer
        (a language's dictionary takes seconds to load: none is loaded for a language nobody wrote in)."""
        if language in self._own:
            return
        self._compile(language)
        own = self.question.label(language) if self.question is not None else ""
        self._own[language] = frozenset(self._lexicon.lemmas(own, language))

    def _compile(self, language: Language) -> None:
        index: dict[str, list[_Keyword]] = {}
        keys: set[str] = set()
        for theme in self._frame:
            for keyword in theme.keywords.get(language, ()):
                tokens = [token for clause in self._lexicon.clauses(keyword, language) for token in clause]
                if not tokens:
                    continue
                content = tuple(token.match for token in tokens if not token.stop)
                if len(content) < 2:
                    content = ()  # "nie mam czasu" must not match every "czas"
                entry = _Keyword(theme.code, tuple(token.match for token in tokens), content)
                index.setdefault(entry.full[0], []).append(entry)
                if content and content != entry.full:
                    index.setdefault(content[0], []).append(entry)
                keys.add(Lexicon.key(token for token in tokens if not token.stop))
        self._keywords[language] = index
        self._frame_keys[language] = keys

    def add(self, text: str, allowed: bool, *, language: str | None = None, group: str | None = None) -> None:
        """Counts one answer; `allowed` tells whether its author agreed to be quoted, `language` is the
        questionnaire's language (a hint) and `group` where it came from (quotes are spread over groups)."""
        self.answers += 1
        if not text.strip():
            return
        lang = detect_language(text, language)
        self.by_language[lang] += 1
        self._prepare(lang)
        clauses = self._lexicon.clauses(text, lang)
        matched = self._match(clauses, lang)
        self._frame_counts.update(matched)
        found, pairs = self._count(clauses, lang)
        if not allowed:
            return
        length = len(text.strip())
        candidate = _Candidate(
            (0 if 20 <= length <= 300 else 1, zlib.crc32(" ".join(text.lower().split()).encode())),
            text.strip(),
            group or "",
            lang,
        )
        for code in matched:
            self._keep((None, code), candidate)
        for key in found:
            self._keep((lang, key), candidate)
        for key in pairs:
            self._keep((lang, key), candidate)

    def _match(self, clauses: list[list[Token]], language: Language) -> set[str]:
        index = self._keywords[language]
        if not index:
            return set()
        matched: set[str] = set()
        for clause in clauses:
            full = [token.match for token in clause]
            content = [token.match for token in clause if not token.stop]
            for sequence, attribute in ((full, "full"), (content, "content")):
                for i, lemma in enumerate(sequence):
                    for keyword in index.get(lemma, ()):
                        wanted = getattr(keyword, attribute)
                        if wanted and tuple(sequence[i : i + len(wanted)]) == wanted:
                            matched.add(keyword.theme)
        return matched

    def _count(self, clauses: list[list[Token]], language: Language) -> tuple[set[str], list[str]]:
        """Counts the answer's lemmas and neighbouring pairs once each; returns the lemmas and the pairs
        seen at least twice so far (only those keep quotes: most pairs are never seen again)."""
        counts = self._languages.get(language)
        if counts is None:
            counts = self._languages[language] = _Language()
        counts.answers += 1
        own = self._own[language]
        units: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        forms: dict[tuple[str, str], str] = {}
        for clause in clauses:
            content = [(i, token) for i, token in enumerate(clause) if not token.stop and token.lemma not in own]
            units.update(token.lemma for _, token in content)
            for (i, first), (j, second) in itertools.pairwise(content):
                if first.lemma != second.lemma:
                    pairs[(first.lemma, second.lemma)] += 1
                    # as written, with the small words between: "konflikty o parkowanie"
                    forms.setdefault((first.lemma, second.lemma), " ".join(token.word for token in clause[i : j + 1]))
        counts.units.update(units.keys())
        repeated = []
        for (one, two), n in pairs.items():
            key = f"{one} {two}"
            counts.pairs[key] += 1
            # A word that appears in this answer only inside the phrase is not counted alone if it is one.
            counts.inside[(key, 0)] += units[one] == n
            counts.inside[(key, 1)] += units[two] == n
            if counts.pairs[key] >= 2:
                counts.forms.setdefault(key, Counter())[forms[(one, two)]] += 1
                repeated.append(key)
        return set(units), repeated

    def _keep(self, key: tuple[Language | None, str], candidate: _Candidate) -> None:
        """Keeps the candidates with the lowest rank: a fixed sample, the same on every run, no duplicates."""
        kept = self._candidates.get(key)
        if kept is None:
            self._candidates[key] = [candidate]
            return
        if len(kept) >= _KEPT_QUOTES and candidate.rank >= kept[-1].rank:
            return
        at = bisect.bisect_left(kept, candidate.rank, key=lambda c: c.rank)
        if at < len(kept) and kept[at].rank == candidate.rank:
            return  # the same text again
        kept.insert(at, candidate)
        if len(kept) > _KEPT_QUOTES:
            kept.pop()

    def themes(self, *, top: int = 10, quote_chars: int = 300) -> list[Theme]:
        """The frame's themes found in the answers (most answers first), then the most distinctive lemmas
        and phrases up to `top` themes in all (at least MIN_AUTOMATIC), each with distinct quotes."""
        order = {theme.code: i for i, theme in enumerate(self._frame)}
        named = sorted((t for t in self._frame if self._frame_counts[t.code]), key=lambda t: order[t.code])
        named.sort(key=lambda t: -self._frame_counts[t.code])
        found: list[tuple[Theme, tuple[Language | None, str]]] = [
            (_named(theme, self._frame_counts[theme.code]), (None, theme.code)) for theme in named
        ]
        found += self._automatic(max(top - len(found), MIN_AUTOMATIC))
        used: set[int] = set()
        themes = []
        for theme, key in found:
            quotes = self._pick_quotes(self._quotable(key), used)
            shown = tuple(mask(_shorten(candidate.text, quote_chars)) for candidate in quotes)
            themes.append(
                Theme(theme.label, theme.keywords, theme.answers, shown, theme.kind, theme.language, theme.code)
            )
        return themes

    def _quotable(self, key: tuple[Language | None, str]) -> list[_Candidate]:
        """A theme's candidate quotes. A phrase keeps its own only from its second answer on (most pairs
        of words are never seen twice): its words' candidates that hold it are added."""
        kept = self._candidates.get(key, [])
        language, lemmas_ = key
        words = lemmas_.split(" ")
        if language is None or len(words) != 2:
            return kept
        found = {candidate.rank: candidate for candidate in kept}
        for word in words:
            for candidate in self._candidates.get((language, word), []):
                if candidate.rank not in found and lemmas_ in self._pairs_of(candidate.text, language):
                    found[candidate.rank] = candidate
        return sorted(found.values())

    def _pairs_of(self, text: str, language: Language) -> set[str]:
        own = self._own[language]
        pairs: set[str] = set()
        for clause in self._lexicon.clauses(text, language):
            content = [token.lemma for token in clause if not token.stop and token.lemma not in own]
            pairs.update(f"{first} {second}" for first, second in itertools.pairwise(content))
        return pairs

    def _pick_quotes(self, candidates: list[_Candidate], used: set[int]) -> list[_Candidate]:
        """Quotes never used for another theme, from as many groups and languages as there are."""
        picked: list[_Candidate] = []
        for strict in (2, 1, 0):  # a new group and language, then a new group, then any
            for candidate in candidates:
                if len(picked) == self._quotes:
                    return picked
                if candidate.rank[1] in used:
                    continue
                if strict and any(p.group == candidate.group for p in picked):
                    continue
                if strict == 2 and any(p.language == candidate.language for p in picked):
                    continue
                picked.append(candidate)
                used.add(candidate.rank[1])
        return picked

    def _automatic(self, limit: int) -> list[tuple[Theme, tuple[Language | None, str]]]:
        scored: list[tuple[float, Theme]] = []
        for language, counts in self._languages.items():
            least = max(2, math.ceil(counts.answers * 0.005))
            frame_keys = self._frame_keys[language]
            units = Counter(counts.units)
            phrases: dict[str, int] = {}
            for key, n in counts.pairs.items():
                first, second = key.split(" ")
                if n < least or 2 * n / (counts.units[first] + counts.units[second]) < COLLOCATION:
                    continue
                phrases[key] = n
                units[first] -= counts.inside[(key, 0)]
                units[second] -= counts.inside[(key, 1)]
            for key, n in [*units.items(), *phrases.items()]:
                if n < least or key in frame_keys:
                    continue
                general = zipf(key, language)
                if general >= TOO_COMMON:
                    continue
                # How much more often than in general language: answers' share against the word's
                # frequency (a floor for words wordfreq does not know, typos among them).
                score = n * math.log((n / counts.answers) / 10 ** (max(general, 1.0) - 9))
                forms = counts.forms.get(key)
                label = forms.most_common(1)[0][0] if key in phrases and forms else key
                scored.append((score, Theme(label, (key,), n, (), "automatic", language)))
        scored.sort(key=lambda item: (-item[0], item[1].label))
        return [(theme, (theme.language, theme.keywords[0])) for _, theme in scored[:limit]]


def _named(theme: FrameTheme, answers: int) -> Theme:
    keywords = tuple(keyword for language in LANGUAGES for keyword in theme.keywords.get(language, ()))
    return Theme(theme.label("pl"), keywords, answers, (), "frame", None, theme.code)


def _shorten(text: str, limit: int) -> str:
    """Cuts a long answer at a sentence's end or a space before `limit`, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    sentence = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence >= limit // 2:
        return cut[: sentence + 1] + " …"
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit // 2 else cut).rstrip(",;:- ") + "…"


def find_themes(
    answers: Iterable[tuple[str, bool]], *, top: int = 8, quotes: int = 3, question: Question | None = None
) -> list[Theme]:
    """Counts the themes of answers given as (text, quoting allowed)."""
    counter = ThemeCounter(question, quotes=quotes)
    for text, allowed in answers:
        counter.add(text, allowed)
    return counter.themes(top=top)


# --- a questionnaire's open questions ------------------------------------------------------------


class QuestionnaireThemes:
    """A ThemeCounter per open question of a questionnaire, fed whole export records."""

    def __init__(self, questionnaire: Questionnaire, lexicon: Lexicon | None = None, quotes: int = 3) -> None:
        self.questionnaire = questionnaire
        self.counters = {
            question.code: ThemeCounter(question, lexicon, quotes)
            for question in questionnaire.questions
            if question.type is QuestionType.TEXT
        }

    def add(self, record: Mapping[str, Any]) -> None:
        """Counts one submission's open answers (a record as `reports.export.export_records` gives it)."""
        answers = record["answers"]
        allowed = answers.get(QUOTE_CONSENT) == "yes"
        group = f"{record.get('event') or '—'}/{answers.get(DISTRICT) or '—'}"
        for code, counter in self.counters.items():
            value = answers.get(code)
            if value is not None:
                counter.add(str(value), allowed, language=record.get("language"), group=group)


async def gather_themes(
    records: AsyncIterator[Mapping[str, Any]], questionnaire: Questionnaire, lexicon: Lexicon | None = None
) -> QuestionnaireThemes:
    """Counts the themes of every open question over the records as they stream by."""
    themes = QuestionnaireThemes(questionnaire, lexicon)
    async for record in records:
        themes.add(record)
    return themes


# --- the methods note ----------------------------------------------------------------------------


def methods_note(language: Literal["pl", "en"] = "pl", by_language: Mapping[Language, int] | None = None) -> str:
    """How the themes were found, in words for the report's methods section."""
    counted = ""
    if by_language:
        parts = [f"{code} {by_language.get(code, 0)}" for code in LANGUAGES if by_language.get(code)]
        counted = (
            (" Odpowiedzi według języka: " if language == "pl" else " Answers by language: ") + ", ".join(parts) + "."
        )
    if language == "pl":
        return (
            "Tematy odpowiedzi otwartych. Język każdej odpowiedzi rozpoznano automatycznie (lingua, spośród"
            " polskiego, ukraińskiego i angielskiego; przy bardzo krótkiej odpowiedzi przyjęto język ankiety),"
            " a słowa sprowadzono do form podstawowych w tym języku (simplemma, z poprawkami i synonimami z ramy"
            " kodowej). Pominięto słowa funkcyjne (listy stop-words dla każdego języka) i słowa samego pytania."
            " Najpierw podano tematy nazwane przez zespół w ramie kodowej (config/themes.yaml): odpowiedź należy"
            " do tematu, gdy zawiera jedno z jego słów kluczowych w swoim języku, więc odpowiedzi po ukraińsku"
            " i angielsku liczą się w tych samych tematach. Potem tematy znalezione automatycznie, osobno dla"
            " każdego języka: słowa i wyrażenia dwuwyrazowe (np. „dom kultury”, gdy oba słowa występują"
            " przeważnie razem), uszeregowane według tego, o ile częściej pojawiają się w odpowiedziach niż"
            " w języku ogólnym (wordfreq), a nie według samej liczby. Odpowiedź liczy się w temacie raz, może"
            " należeć do kilku tematów. Cytaty pochodzą wyłącznie od osób, które zgodziły się na cytowanie,"
            " żaden nie powtarza się w dwóch miejscach, a dobierane są z różnych wydarzeń, dzielnic i języków."
            + counted
        )
    return (
        "Themes of the open answers. Each answer's language was detected (lingua, among Polish, Ukrainian"
        " and English; a very short answer is taken in the questionnaire's language) and its words reduced to"
        " lemmas in that language (simplemma, with the coding frame's corrections and synonyms). Function words"
        " (the stop-words lists of each language) and the question's own words were left out. The themes staff"
        " named in the coding frame (config/themes.yaml) come first: an answer belongs to one when it holds one"
        " of its keywords in the answer's language, so Ukrainian and English answers count in the same themes."
        " Automatic themes follow, per language: words and two-word phrases (such as 'dom kultury', when the two"
        " words mostly occur together), ranked by how much more often they occur in the answers than in general"
        " language (wordfreq), not by raw count. An answer counts once in a theme and may belong to several."
        " Quotes come only from residents who agreed to be quoted; no quote appears twice, and they are drawn"
        " from different events, districts and languages." + counted
    )

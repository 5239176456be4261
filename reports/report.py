"""The consultation report: one self-contained HTML file (and, printed by Chromium, a PDF) with stated
bases, charts with their data tables, protected breakdowns, themes, quotes and the district map."""

from __future__ import annotations

import inspect
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from handlers.definitions.events import Event
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from reports import themes
from reports.export import OTHER_SUFFIX, export_records
from reports.report_html import (
    STYLE,
    Breakdown,
    chart_figure,
    decimal,
    group_names,
    options_of,
    render_breakdown,
    render_quotes,
    render_themes,
    simple_table,
)
from reports.report_map import rates, render_map, thousands
from reports.themes import ThemeCounter, mask
from storage.exports import SubmissionFilter, count_flagged
from storage.repository import Store

WARSAW = ZoneInfo("Europe/Warsaw")
QUOTE_CONSENT = "quote_consent"  # the question whose "yes" allows quoting
DISTRICT = "district"
AGE_BAND = "age_band"
BREAKDOWNS = ("channel", "event", DISTRICT, AGE_BAND, "language")  # what each closed question is split by
OTHER_TEXTS_KEPT = 60  # "other" texts listed per question (the count covers them all)
# No script may run in the report, whatever a resident wrote; images only inline.
_CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
)

# The themes module grows (languages, the question's own words): the report uses what it offers.
_THEMES_KNOW_QUESTIONS = "question" in inspect.signature(ThemeCounter.__init__).parameters
_THEMES_KNOW_LANGUAGES = "language" in inspect.signature(ThemeCounter.add).parameters
ApprovedQuotes = Mapping[tuple[int, str], str]  # (submission, question) → the text staff approved
Where = tuple[str, ...]  # the group of each breakdown, in BREAKDOWNS order ("—" when unknown)


@dataclass
class Counts:
    """How many answered a closed question, and how many picked each option."""

    answered: int = 0
    picked: Counter[str] = field(default_factory=Counter)


def warsaw_day(stamp: str) -> date:
    """The day in Warsaw of a stored ISO time (a time without a zone is UTC, as the database keeps it)."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(WARSAW).date()


@dataclass
class Tally:
    """Everything the report counts, gathered while the records stream by (memory stays flat).

    The base of every figure about answers is the completed submissions; unfinished ones are counted
    in the overview only, and said to be left out.
    """

    total: int = 0
    completed: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)  # completed ones, as all the by_* counts
    by_event: Counter[str] = field(default_factory=Counter)
    by_day: Counter[date] = field(default_factory=Counter)  # the day it was completed, in Warsaw
    by_language: Counter[str] = field(default_factory=Counter)
    assisted: int = 0  # filled in with a volunteer's help
    flagged: int = 0  # flagged by the web chat (many finished from one place in an hour), counted in
    flagged_left_out: int = 0  # flagged ones the filters left out (`--exclude-flagged`)
    texts: dict[str, ThemeCounter] = field(default_factory=dict)
    other: Counter[str] = field(default_factory=Counter)  # "other: ___" texts written, per question
    other_quotable: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    approved: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # --public quotes
    public: bool = False  # quotes only from `approved`, never chosen automatically
    # (question, where, picks) → how many: few distinct combinations, split into counts when read
    answers: Counter[tuple[str, Where, tuple[str, ...]]] = field(default_factory=Counter)

    @property
    def unfinished(self) -> int:
        return self.total - self.completed

    def add(self, record: dict[str, Any], questionnaire: Questionnaire, approved: ApprovedQuotes | None = None) -> None:
        """Counts one submission (its answers only when it was completed)."""
        self.total += 1
        if record["status"] != "completed":
            return
        self.completed += 1
        self.by_channel[record["channel"]] += 1
        self.by_language[record["language"] or "—"] += 1
        self.assisted += bool(record.get("assisted"))
        self.flagged += bool(record.get("flagged"))
        self.by_event[record["event"] or "—"] += 1
        self.by_day[warsaw_day(record["finished_at"] or record["started_at"])] += 1
        answers = record["answers"]
        allowed = answers.get(QUOTE_CONSENT) == "yes" and not self.public
        where = (
            str(record["channel"] or "—"),
            str(record["event"] or "—"),
            str(answers.get(DISTRICT) or "—"),
            str(answers.get(AGE_BAND) or "—"),
            str(record["language"] or "—"),
        )
        for question in questionnaire.questions:
            value = answers.get(question.code)
            if approved is not None:
                self._approve(record["submission"], question.code, approved)
            if value is None or question.type is QuestionType.EMAIL:
                continue
            if question.type is QuestionType.TEXT:
                counter = self.texts.get(question.code)
                if counter is None:
                    counter = self.texts[question.code] = theme_counter(question)
                group = f"{where[1]}/{where[2]}"  # quotes spread over events and districts
                if _THEMES_KNOW_LANGUAGES:
                    counter.add(str(value), allowed, language=record["language"], group=group)
                else:  # a themes module that reads Polish only
                    counter.add(str(value), allowed)
                continue
            picks = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            self.answers[(question.code, where, picks)] += 1
            other = answers.get(question.code + OTHER_SUFFIX)
            if isinstance(other, str) and other.strip():
                self.other[question.code] += 1
                kept = self.other_quotable[question.code]
                if allowed and len(kept) < OTHER_TEXTS_KEPT:
                    kept.append(mask(other.strip()))

    def _approve(self, submission: int, code: str, approved: ApprovedQuotes) -> None:
        for key in (code, code + OTHER_SUFFIX):
            text = approved.get((submission, key))
            if text and text.strip():
                self.approved[code].append(text.strip())

    @cached_property
    def closed(self) -> dict[str, Counts]:
        """Closed questions' answers: how many answered, how many picked each option (never per combination)."""
        closed: dict[str, Counts] = defaultdict(Counts)
        for (code, _, picks), n in self.answers.items():
            _count(closed[code], picks, n)
        return closed

    @cached_property
    def groups(self) -> dict[tuple[str, str, str], Counts]:
        """The same by (question, one of BREAKDOWNS, group)."""
        groups: dict[tuple[str, str, str], Counts] = defaultdict(Counts)
        for (code, where, picks), n in self.answers.items():
            for key, group in zip(BREAKDOWNS, where, strict=True):
                _count(groups[(code, key, group)], picks, n)
        return groups


def theme_counter(question: Question) -> ThemeCounter:
    """The themes module's counter for one open question (its own words are not themes)."""
    if _THEMES_KNOW_QUESTIONS:
        return ThemeCounter(question=question)
    return ThemeCounter()  # a themes module that does not know questions


def _count(counts: Counts, picks: tuple[str, ...], n: int) -> None:
    counts.answered += n
    for pick in picks:
        counts.picked[pick] += n


async def gather(
    store: Store, questionnaire: Questionnaire, filters: SubmissionFilter, approved: ApprovedQuotes | None = None
) -> Tally:
    """Reads the submissions the report covers, counting as they stream by.

    `approved` (for a report meant for publication) is the only source of quotes when given.
    """
    tally = Tally(public=approved is not None)
    async for record in export_records(store, {questionnaire.id: questionnaire}, filters):
        tally.add(record, questionnaire, approved)
    if filters.exclude_flagged:
        tally.flagged_left_out = await count_flagged(store, filters)
    return tally


def _base(tally: Tally) -> str:
    """The report's base in words: what is counted and what is not."""
    left = f"; {tally.unfinished} niezakończonych nie liczymy" if tally.unfinished else ""
    return f"n = {tally.completed} zakończonych zgłoszeń{left}"


def render_report(
    questionnaire: Questionnaire,
    tally: Tally,
    filters: SubmissionFilter,
    now: datetime,
    min_cell: int,
    *,
    events: Mapping[str, Event] | None = None,
    residents: Mapping[str, int] | None = None,
    representation: str = "",
) -> str:
    """Writes the report as HTML; every resident's word is escaped.

    `residents` per district code draws the map; `representation` is a ready section (HTML) comparing
    who answered with who lives in Warsaw.
    """
    names = group_names(questionnaire, events or {}, tally.by_event)
    days = sorted(tally.by_day)
    span = f"{days[0]:%d.%m.%Y}–{days[-1]:%d.%m.%Y}" if days else "—"
    parts = [
        '<header><p class="kicker">Program Wspólnota · raport z konsultacji</p>'
        f"<h1>{escape(questionnaire.title('pl'))}</h1>"
        f"<p>Odpowiedzi z dni {span} (czas warszawski); stan na {now.astimezone(WARSAW):%d.%m.%Y, %H:%M}."
        f" Podstawa: {_base(tally)}.</p></header>",
        _contents(questionnaire, bool(residents), bool(representation)),
        '<h2 id="przeglad">Przegląd</h2>',
        f"<p>Zgłoszenia: <b>{tally.total}</b>, w tym zakończone: <b>{tally.completed}</b>"
        f" ({tally.completed / tally.total:.0%} ukończeń).</p>"
        if tally.total
        else "<p>Brak zgłoszeń.</p>",
        f"<p>Wypełnione z pomocą wolontariusza: <b>{tally.assisted}</b>.</p>" if tally.assisted else "",
        _flagged_note(tally),
        f'<p class="base">Tabele przeglądu: {_base(tally)}.</p>',
        '<div class="overview">',
        simple_table("Według kanału", "Kanał", tally.by_channel, names["channel"]),
        simple_table("Według języka", "Język", tally.by_language, names["language"]),
        "</div>",
        simple_table("Według wydarzenia", "Wydarzenie", tally.by_event, names["event"]),
        simple_table(
            "Według dnia (czas warszawski)",
            "Dzień",
            Counter({f"{day:%Y-%m-%d}": n for day, n in tally.by_day.items()}),
            {f"{day:%Y-%m-%d}": f"{day:%d.%m.%Y}" for day in tally.by_day},
        ),
    ]
    parts += _map_section(questionnaire, tally, residents)
    if representation:
        parts.append(representation)
    for number, question in enumerate(questionnaire.questions, start=1):
        if question.type is QuestionType.EMAIL:
            continue
        # The heading, the base and the chart stay on one page (closed by the question's own part).
        answered = (tally.texts[question.code].answers if question.code in tally.texts else 0) or tally.closed.get(
            question.code, Counts()
        ).answered
        kind = "question" if answered else "question empty"  # nobody answered: no page of its own
        parts.append(f'<section class="{kind}"><div class="lead"><h2 id="q-{escape(question.code)}">{number}. ')
        parts.append(f"{escape(question.label('pl'))}</h2>")
        if question.type is QuestionType.TEXT:
            parts.append(_open_question(question, tally))
        else:
            parts.append(_closed_question(question, tally, names, min_cell))
        parts.append("</section>")
    parts.append(_methods(tally, filters, now, min_cell, residents))
    return (
        '<!doctype html><html lang="pl"><head><meta charset="utf-8">'
        f"<title>{escape(questionnaire.title('pl'))} — raport z konsultacji</title>{_CSP}"
        f"<style>{STYLE}</style></head><body>" + "\n".join(p for p in parts if p) + "</body></html>"
    )


def _contents(questionnaire: Questionnaire, with_map: bool, with_representation: bool) -> str:
    """A table of contents: the sections a reader can jump to (on paper, the order of the pages)."""
    entries = [("przeglad", "Przegląd")]
    entries += [("mapa", "Skąd są osoby, które odpowiedziały")] if with_map else []
    entries += [("reprezentacja", "Kto odpowiedział, a kto mieszka w Warszawie")] if with_representation else []
    entries += [
        (f"q-{q.code}", f"{number}. {q.label('pl')}")
        for number, q in enumerate(questionnaire.questions, start=1)
        if q.type is not QuestionType.EMAIL
    ]
    entries.append(("metoda", "Metoda"))
    items = "".join(f'<li><a href="#{escape(anchor)}">{escape(title)}</a></li>' for anchor, title in entries)
    return f'<nav class="contents" aria-label="Spis treści"><h2>Spis treści</h2><ol>{items}</ol></nav>'


def _map_section(questionnaire: Questionnaire, tally: Tally, residents: Mapping[str, int] | None) -> list[str]:
    """The district map, when the questionnaire asks for the district and the residents are known."""
    district = next((q for q in questionnaire.questions if q.code == DISTRICT), None)
    if district is None or not residents:
        return []
    picked = tally.closed.get(DISTRICT, Counts()).picked
    codes, labels = options_of(district)
    found = rates(picked, residents, dict(zip(codes, labels, strict=True)))
    outside = sum(n for code, n in picked.items() if code not in residents)
    answered = tally.closed.get(DISTRICT, Counts()).answered
    return [
        '<section class="map-section"><h2 id="mapa">Skąd są osoby, które odpowiedziały</h2>',
        f'<p class="base">Odpowiedzi na 10 tys. mieszkańców dzielnicy: zakończone zgłoszenia z podaną dzielnicą'
        f" ({answered - outside} z {tally.completed}; spoza Warszawy: {outside};"
        f" bez odpowiedzi na to pytanie: {tally.completed - answered}). Mieszkańcy:"
        f" {thousands(sum(residents.values()))} według config/population.yaml.</p>",
        render_map(found),
        "</section>",
    ]


def _closed_question(question: Question, tally: Tally, names: dict[str, dict[str, str]], min_cell: int) -> str:
    codes, labels = options_of(question)
    counts = tally.closed.get(question.code, Counts())
    picked = [counts.picked[code] for code in codes]
    without = tally.completed - counts.answered
    base = f"n = {counts.answered} zakończonych zgłoszeń z odpowiedzią na to pytanie"
    base += f"; bez odpowiedzi (pominięte lub niezadane): {without}" if without else ""
    base += f"; {tally.unfinished} niezakończonych nie liczymy" if tally.unfinished else ""
    note = ""
    if question.type is QuestionType.MULTIPLE_CHOICE:
        note = "Wielokrotny wybór: odsetek osób, które wybrały daną odpowiedź (sumy przekraczają 100%)."
    if question.type is QuestionType.SCALE and counts.answered:
        mean = sum(int(c) * n for c, n in zip(codes, picked, strict=True)) / counts.answered
        note = f"Średnia {decimal(mean, 2)} (skala {question.min}–{question.max})."
    parts = [f'<p class="base">{escape(base)}.</p>', f"<p>{escape(note)}</p>" if note else ""]
    if not counts.answered:
        return "".join(parts) + "</div>"
    figure, data = chart_figure(question.label("pl"), labels, picked, counts.answered)
    parts += [figure, "</div>", data]
    if tally.other.get(question.code):
        quotes = tally.approved.get(question.code, []) if tally.public else tally.other_quotable[question.code]
        parts.append(
            f"<h3>Inne odpowiedzi wpisane przez mieszkańców ({tally.other[question.code]})</h3>"
            + render_quotes(quotes, public=tally.public)
        )
    for key in BREAKDOWNS:
        if key == question.code:
            continue  # the district by district says nothing
        if (question.code, key) == (DISTRICT, AGE_BAND):
            # The same cross-table as the age band by district, printed once: two protections of one
            # table, each hiding other cells, could be laid over each other to undo both.
            continue
        groups = {g: c for (code, by, g), c in tally.groups.items() if code == question.code and by == key}
        if len(groups) < 2:
            continue
        order = sorted(groups, key=lambda g: (g == "—", names[key].get(g, g)))
        parts.append(
            render_breakdown(
                Breakdown(
                    key=key,
                    groups=[names[key].get(g, g) for g in order],
                    sizes=[groups[g].answered for g in order],
                    cells=[[groups[g].picked[code] for code in codes] for g in order],
                    labels=labels,
                    rows_add_up=question.type is not QuestionType.MULTIPLE_CHOICE,
                ),
                min_cell,
            )
        )
    return "".join(parts)


def _open_question(question: Question, tally: Tally) -> str:
    texts = tally.texts.get(question.code) or theme_counter(question)
    base = (
        f'<p class="base">Odpowiedzi: {texts.answers} (zakończone zgłoszenia)'
        + (f"; {tally.unfinished} niezakończonych nie liczymy" if tally.unfinished else "")
        + ".</p>"
    )
    themes_found = render_themes(texts, public=tally.public)
    # Without answers, the sentence saying so stays with its heading.
    parts = [base, themes_found, "</div>"] if not texts.answers else [base, "</div>", themes_found]
    if tally.public:
        parts.append(
            "<h3>Cytaty zatwierdzone do publikacji</h3>"
            + render_quotes(tally.approved.get(question.code, []), public=True)
        )
    return "".join(parts)


def _methods(
    tally: Tally, filters: SubmissionFilter, now: datetime, min_cell: int, residents: Mapping[str, int] | None
) -> str:
    quotes = (
        "W tej wersji do publikacji cytaty pochodzą wyłącznie z listy zatwierdzonej przez zespół"
        " (<code>wspolnota quotes approve</code>); innych nie pokazujemy."
        if tally.public
        else "Cytaty pochodzą wyłącznie od osób, które zgodziły się na anonimowe cytowanie, z ukrytymi adresami"
        " e-mail, numerami telefonów i słowami wyglądającymi na imiona i nazwiska; przed publikacją zespół"
        " zatwierdza cytaty, a wersja do publikacji (<code>--public</code>) pokazuje tylko zatwierdzone."
    )
    mapping = (
        " Mapa: schemat kafelkowy 18 dzielnic (położenie przybliżone), kolor według liczby zakończonych zgłoszeń"
        " na 10 tys. mieszkańców dzielnicy (pięć przedziałów równej szerokości)."
        if residents
        else ""
    )
    return (
        '<section class="methods"><h2 id="metoda">Metoda</h2>'
        f"<p>Dane według stanu na {now.astimezone(WARSAW):%d.%m.%Y %H:%M} (czas warszawski; w tym czasie liczone są"
        f" też dni). Filtry: {escape(_filters(filters))}. Podstawa: {_base(tally)}; odpowiedzi z niezakończonych"
        " ankiet nie wchodzą do wyników. Przy każdym pytaniu podajemy, ile osób na nie odpowiedziało."
        " Pytania wielokrotnego wyboru liczone są osobno dla każdej odpowiedzi (odsetek osób, które ją wybrały).</p>"
        f"<p>Ochrona małych liczebności: w tabelach krzyżowych ukrywamy liczby od 1 do {min_cell - 1} oraz całe"
        f" grupy mniejsze niż {min_cell} osób (bez podawania ich liczebności), a obok każdej ukrytej liczby —"
        " kolejną najmniejszą w tym samym wierszu lub kolumnie (tłumienie uzupełniające), tak by ukrytych"
        " wartości nie dało się odtworzyć przez odejmowanie od sum; każdą tabelę sprawdzamy, czy żadnej ukrytej"
        " wartości nie wyznaczają równania z liczb wydrukowanych i sum. Małe grupy łączymy w „pozostałe”.</p>"
        f"<p>{escape(_themes_note(tally))} {quotes}{mapping}</p>"
        "</section>"
    )


def _themes_note(tally: Tally) -> str:
    """How the themes were found, as the themes module words it."""
    words = getattr(themes, "methods_note", None)
    if words is None:
        return "Tematy odpowiedzi otwartych to najczęstsze słowa po lematyzacji, liczone raz na odpowiedź."
    by_language: Counter[str] = Counter()
    for counter in tally.texts.values():
        by_language.update(getattr(counter, "by_language", {}))
    return str(words("pl", by_language))


def _flagged_note(tally: Tally) -> str:
    """How many submissions the web chat flagged, and whether they are counted here."""
    why = (
        " (z jednego adresu sieciowego lub jednego tabletu na stoisku zakończono w ciągu godziny więcej ankiet,"
        " niż przyjmujemy bez oznaczenia; kolumna <code>flagged</code> w eksporcie)"
    )
    if tally.flagged_left_out:
        return f"<p>Oznaczone jako podejrzane: <b>{tally.flagged_left_out}</b>{why} — pominięte w tym raporcie.</p>"
    if tally.flagged:
        return (
            f"<p>Oznaczone jako podejrzane: <b>{tally.flagged}</b>{why} — ujęte w tym raporcie;"
            " <code>wspolnota report --exclude-flagged</code> je pomija.</p>"
        )
    return "<p>Oznaczone jako podejrzane: <b>0</b>.</p>"


def _filters(filters: SubmissionFilter) -> str:
    names = ("questionnaire_id", "completed_only", "event", "channel", "since", "until", "exclude_flagged")
    shown = []
    for name in names:
        value = getattr(filters, name)
        if isinstance(value, datetime):
            value = f"{value.astimezone(WARSAW):%d.%m.%Y}"
        if value:
            shown.append(f"{name}={value}")
    return ", ".join(shown) or "brak"

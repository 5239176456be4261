"""The consultation report: one self-contained HTML file with charts, breakdowns, themes and quotes."""

from __future__ import annotations

import base64
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib.figure import Figure

from handlers.definitions.i18n import plural
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from reports.export import export_records
from reports.themes import ThemeCounter
from storage.exports import SubmissionFilter, count_flagged
from storage.repository import Store

WARSAW = ZoneInfo("Europe/Warsaw")
QUOTE_CONSENT = "quote_consent"  # the question whose "yes" allows quoting
DISTRICT = "district"
ANSWERS = {"one": "odpowiedź", "few": "odpowiedzi", "many": "odpowiedzi", "other": "odpowiedzi"}  # 1, 2, 5, 1,5
CHANNEL_NAMES = {"web": "czat w przeglądarce", "telegram": "Telegram", "email": "e-mail", "terminal": "terminal"}
# No script may run in the report, whatever a resident wrote; images only inline.
_CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
)


@dataclass
class Counts:
    """How many answered a closed question, and how many picked each option."""

    answered: int = 0
    picked: Counter[str] = field(default_factory=Counter)


Where = tuple[str, str, str]  # channel, event, district ("—" when unknown)


@dataclass
class Tally:
    """Everything the report counts, gathered while the records stream by (memory stays flat)."""

    total: int = 0
    completed: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)
    by_event: Counter[str] = field(default_factory=Counter)
    by_day: Counter[str] = field(default_factory=Counter)
    assisted: int = 0  # filled in with a volunteer's help
    flagged: int = 0  # flagged by the web chat (many finished from one place in an hour), counted in
    flagged_left_out: int = 0  # flagged ones the filters left out (`--exclude-flagged`)
    texts: dict[str, ThemeCounter] = field(default_factory=lambda: defaultdict(ThemeCounter))
    # (question, where, picks) → how many: few distinct combinations, split into counts when read
    answers: Counter[tuple[str, Where, tuple[str, ...]]] = field(default_factory=Counter)

    def add(self, record: dict[str, Any], questionnaire: Questionnaire) -> None:
        """Counts one submission."""
        self.total += 1
        self.completed += record["status"] == "completed"
        self.by_channel[record["channel"]] += 1
        self.assisted += bool(record.get("assisted"))
        self.flagged += bool(record.get("flagged"))
        self.by_event[record["event"] or "—"] += 1
        self.by_day[(record["finished_at"] or record["started_at"])[:10]] += 1
        answers = record["answers"]
        allowed = answers.get(QUOTE_CONSENT) == "yes"
        where = (str(record["channel"] or "—"), str(record["event"] or "—"), str(answers.get(DISTRICT) or "—"))
        for question in questionnaire.questions:
            value = answers.get(question.code)
            if value is None or question.type is QuestionType.EMAIL:
                continue
            if question.type is QuestionType.TEXT:
                self.texts[question.code].add(str(value), allowed)
                continue
            picks = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            self.answers[(question.code, where, picks)] += 1

    @cached_property
    def closed(self) -> dict[str, Counts]:
        """Closed questions' answers: how many answered, how many picked each option (never per combination)."""
        closed: dict[str, Counts] = defaultdict(Counts)
        for (code, _, picks), n in self.answers.items():
            _count(closed[code], picks, n)
        return closed

    @cached_property
    def groups(self) -> dict[tuple[str, str, str], Counts]:
        """The same by (question, "channel" | "event" | "district", group)."""
        groups: dict[tuple[str, str, str], Counts] = defaultdict(Counts)
        for (code, where, picks), n in self.answers.items():
            for key, group in zip(("channel", "event", DISTRICT), where, strict=True):
                _count(groups[(code, key, group)], picks, n)
        return groups


def _count(counts: Counts, picks: tuple[str, ...], n: int) -> None:
    counts.answered += n
    for pick in picks:
        counts.picked[pick] += n


async def gather(store: Store, questionnaire: Questionnaire, filters: SubmissionFilter) -> Tally:
    """Reads the submissions the report covers, counting as they stream by."""
    tally = Tally()
    async for record in export_records(store, {questionnaire.id: questionnaire}, filters):
        tally.add(record, questionnaire)
    if filters.exclude_flagged:
        tally.flagged_left_out = await count_flagged(store, filters)
    return tally


def _chart(labels: list[str], counts: list[int], total: int) -> str:
    """A horizontal bar chart as an inline PNG (its text is drawn, never interpreted)."""
    height = 0.45 * len(labels) + 0.8
    figure = Figure(figsize=(7.5, height))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, counts, color="#c8102e")
    axes.set_yticks(positions, [label[:45] for label in labels])
    for position, count in zip(positions, counts, strict=True):
        share = f"{count} ({count / total:.0%})" if total else str(count)
        axes.text(count, position, " " + share, va="center", fontsize=8)
    axes.set_xlim(0, max([*counts, 1]) * 1.25)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _options(question: Question) -> tuple[list[str], list[str]]:
    """A closed question's answer codes and their Polish labels."""
    if question.type is QuestionType.SCALE:
        codes = [str(n) for n in range(question.min, question.max + 1)]
        return codes, codes
    if question.type is QuestionType.YES_NO:
        return ["yes", "no"], ["tak", "nie"]
    return [o.code for o in question.options], [o.label("pl") for o in question.options]


def _breakdown(question: Question, tally: Tally, key: str, min_cell: int) -> str:
    """A table of the question's answers by channel, event or district; small cells are hidden."""
    groups = {
        group: counts for (code, by, group), counts in tally.groups.items() if code == question.code and by == key
    }
    if len(groups) < 2:
        return ""
    codes, labels = _options(question)
    head = "".join(f"<th>{escape(label[:20])}</th>" for label in labels)
    rows = []
    for group, counts in sorted(groups.items()):
        if counts.answered < min_cell:
            cells = f'<td colspan="{len(codes)}">(&lt; {min_cell})</td>'
        else:
            cells = "".join(
                f"<td>{n}</td>" if n >= min_cell or n == 0 else f"<td>&lt; {min_cell}</td>"
                for n in (counts.picked[code] for code in codes)
            )
        name = CHANNEL_NAMES.get(group, group) if key == "channel" else group
        rows.append(f"<tr><th>{escape(name)}</th><td>{counts.answered}</td>{cells}</tr>")
    title = {"channel": "kanał", "event": "wydarzenie", DISTRICT: "dzielnica"}[key]
    return (
        f"<details><summary>Według: {title}</summary><table><tr><th></th><th>n</th>{head}</tr>"
        + "".join(rows)
        + "</table></details>"
    )


def _table(counter: Counter[str], names: dict[str, str] | None = None) -> str:
    rows = "".join(
        f"<tr><th>{escape((names or {}).get(k, k))}</th><td>{v}</td></tr>" for k, v in sorted(counter.items())
    )
    return f"<table>{rows}</table>"


def render_report(
    questionnaire: Questionnaire, tally: Tally, filters: SubmissionFilter, now: datetime, min_cell: int
) -> str:
    """Writes the report as HTML; every resident's word is escaped."""
    parts = [
        f"<h1>{escape(questionnaire.title('pl'))} — raport z konsultacji</h1>",
        "<h2>Przegląd</h2>",
        f"<p>Zgłoszenia: <b>{tally.total}</b>, w tym zakończone: <b>{tally.completed}</b>"
        f" ({tally.completed / tally.total:.0%} ukończeń).</p>"
        if tally.total
        else "<p>Brak zgłoszeń.</p>",
        f"<p>Wypełnione z pomocą wolontariusza: <b>{tally.assisted}</b>.</p>" if tally.assisted else "",
        _flagged_note(tally),
        "<h3>Według kanału</h3>",
        _table(tally.by_channel, CHANNEL_NAMES),
        "<h3>Według wydarzenia</h3>",
        _table(tally.by_event),
        "<h3>Według dnia</h3>",
        _table(tally.by_day),
    ]
    for number, question in enumerate(questionnaire.questions, start=1):
        if question.type is QuestionType.EMAIL:
            continue
        parts.append(f"<h2>{number}. {escape(question.label('pl'))}</h2>")
        if question.type is QuestionType.TEXT:
            texts = tally.texts.get(question.code, ThemeCounter())
            parts.append(f"<p>Odpowiedzi: {texts.answers}.</p>")
            for theme in texts.themes():
                quotes = "".join(f"<blockquote>{escape(q)}</blockquote>" for q in theme.quotes)
                answers = f"{theme.answers} {plural('pl', theme.answers, ANSWERS)}"
                parts.append(f"<h4>„{escape(theme.lemma)}” — {answers}</h4>{quotes}")
            continue
        codes, labels = _options(question)
        counts = tally.closed.get(question.code, Counts())
        picked = [counts.picked[code] for code in codes]
        note = ""
        if question.type is QuestionType.MULTIPLE_CHOICE:
            note = "wielokrotny wybór: odsetek osób, które wybrały daną odpowiedź"
        if question.type is QuestionType.SCALE and counts.answered:
            mean = sum(int(c) * n for c, n in zip(codes, picked, strict=True)) / counts.answered
            note = f"średnia {mean:.2f} (skala {question.min}–{question.max})"
        parts.append(f"<p>Odpowiedzi: {counts.answered}. {escape(note)}</p>")
        if counts.answered:
            parts.append(_chart(labels, picked, counts.answered))
            for key in ("channel", "event", DISTRICT):
                if key != DISTRICT or question.code != DISTRICT:
                    parts.append(_breakdown(question, tally, key, min_cell))
    parts += [
        "<h2>Metoda</h2>",
        f"<p>Dane według stanu na {now.astimezone(WARSAW):%d.%m.%Y %H:%M}. Filtry: {escape(_filters(filters))}."
        f" Liczba zgłoszeń: {tally.total}. Pytania wielokrotnego wyboru liczone są osobno dla każdej"
        " odpowiedzi (odsetek osób, które ją wybrały). Komórki tabel mniejsze niż"
        f" {min_cell} są ukryte, by chronić anonimowość. Tematy odpowiedzi otwartych to najczęstsze słowa"
        " po lematyzacji (simplemma, język polski) z pominięciem słów funkcyjnych, liczone raz na odpowiedź;"
        " cytaty pochodzą wyłącznie od osób, które zgodziły się na anonimowe cytowanie, z ukrytymi adresami"
        " e-mail, numerami telefonów i słowami wyglądającymi na nazwiska.</p>",
    ]
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
        "blockquote{border-left:3px solid #c8102e;margin:.5em 0;padding:.2em .8em;background:#f7f7f7}"
        "img{max-width:100%}"
    )
    return (
        '<!doctype html><html lang="pl"><head><meta charset="utf-8">'
        f"<title>{escape(questionnaire.title('pl'))}</title>{_CSP}"
        f"<style>{style}</style></head><body>" + "\n".join(p for p in parts if p) + "</body></html>"
    )


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
    return ", ".join(f"{name}={getattr(filters, name)}" for name in names if getattr(filters, name)) or "brak"

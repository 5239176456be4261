"""The consultation report: one self-contained HTML file with charts, breakdowns, themes and quotes."""

from __future__ import annotations

import base64
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib.figure import Figure

from handlers.questionnaire import Question, Questionnaire, QuestionType
from reports.export import OTHER_SUFFIX, export_records
from reports.themes import find_themes
from storage.repository import Store, SubmissionFilter

WARSAW = ZoneInfo("Europe/Warsaw")
QUOTE_CONSENT = "quote_consent"  # the question whose "yes" allows quoting
DISTRICT = "district"
# No script may run in the report, whatever a resident wrote; images only inline.
_CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
)


@dataclass
class Tally:
    """Everything the report counts, gathered in one pass over the export records."""

    total: int = 0
    completed: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)
    by_event: Counter[str] = field(default_factory=Counter)
    by_day: Counter[str] = field(default_factory=Counter)
    records: list[dict[str, Any]] = field(default_factory=list)


async def gather(store: Store, questionnaire: Questionnaire, filters: SubmissionFilter) -> Tally:
    """Reads the submissions the report covers."""
    tally = Tally()
    async for record in export_records(store, {questionnaire.id: questionnaire}, filters):
        tally.total += 1
        tally.completed += record["status"] == "completed"
        tally.by_channel[record["channel"]] += 1
        tally.by_event[record["event"] or "—"] += 1
        tally.by_day[(record["finished_at"] or record["started_at"])[:10]] += 1
        tally.records.append(record)
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


def _closed(question: Question, records: list[dict[str, Any]]) -> tuple[list[str], list[str], list[int], int]:
    """Codes, labels, counts (per option: respondents who chose it) and how many answered."""
    answered = [r["answers"][question.code] for r in records if r["answers"].get(question.code) is not None]
    if question.type is QuestionType.SCALE:
        codes = [str(n) for n in range(question.min, question.max + 1)]
        counts = Counter(str(value) for value in answered)
        return codes, codes, [counts[c] for c in codes], len(answered)
    codes = list(question.option_codes)
    labels = ["tak", "nie"] if question.type is QuestionType.YES_NO else [o.label("pl") for o in question.options]
    counts = Counter()
    for value in answered:
        counts.update(value if isinstance(value, list) else [value])  # per option, never per combination
    return codes, labels, [counts[c] for c in codes], len(answered)


def _breakdown(question: Question, records: list[dict[str, Any]], key: str, min_cell: int) -> str:
    """A table of the question's answers by channel, event or district; small cells are hidden."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        group = record["answers"].get(DISTRICT) if key == DISTRICT else record.get(key)
        groups[str(group or "—")].append(record)
    if len(groups) < 2:
        return ""
    codes, labels, _, _ = _closed(question, records)
    head = "".join(f"<th>{escape(label[:20])}</th>" for label in labels)
    rows = []
    for group, members in sorted(groups.items()):
        _, _, counts, answered = _closed(question, members)
        if answered < min_cell:
            cells = f'<td colspan="{len(codes)}">(&lt; {min_cell})</td>'
        else:
            cells = "".join(
                f"<td>{count}</td>" if count >= min_cell or count == 0 else f"<td>&lt; {min_cell}</td>"
                for count in counts
            )
        rows.append(f"<tr><th>{escape(group)}</th><td>{answered}</td>{cells}</tr>")
    title = {"channel": "kanał", "event": "wydarzenie", DISTRICT: "dzielnica"}[key]
    return (
        f"<details><summary>Według: {title}</summary><table><tr><th></th><th>n</th>{head}</tr>"
        + "".join(rows)
        + "</table></details>"
    )


def _table(counter: Counter[str]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in sorted(counter.items()))
    return f"<table>{rows}</table>"


def render_report(
    questionnaire: Questionnaire, tally: Tally, filters: SubmissionFilter, now: datetime, min_cell: int
) -> str:
    """Writes the report as HTML; every resident's word is escaped."""
    records = tally.records
    parts = [
        f"<h1>{escape(questionnaire.title('pl'))} — raport z konsultacji</h1>",
        "<h2>Przegląd</h2>",
        f"<p>Zgłoszenia: <b>{tally.total}</b>, w tym zakończone: <b>{tally.completed}</b>"
        f" ({tally.completed / tally.total:.0%} ukończeń).</p>"
        if tally.total
        else "<p>Brak zgłoszeń.</p>",
        "<h3>Według kanału</h3>",
        _table(tally.by_channel),
        "<h3>Według wydarzenia</h3>",
        _table(tally.by_event),
        "<h3>Według dnia</h3>",
        _table(tally.by_day),
    ]
    allowed = {r["submission"] for r in records if r["answers"].get(QUOTE_CONSENT) == "yes"}
    for number, question in enumerate(questionnaire.questions, start=1):
        if question.type is QuestionType.EMAIL:
            continue
        parts.append(f"<h2>{number}. {escape(question.label('pl'))}</h2>")
        if question.type is QuestionType.TEXT or question.code.endswith(OTHER_SUFFIX):
            texts = [
                (str(r["answers"][question.code]), r["submission"] in allowed)
                for r in records
                if r["answers"].get(question.code)
            ]
            parts.append(f"<p>Odpowiedzi: {len(texts)}.</p>")
            for theme in find_themes(texts):
                quotes = "".join(f"<blockquote>{escape(q)}</blockquote>" for q in theme.quotes)
                parts.append(f"<h4>„{escape(theme.lemma)}” — {theme.answers} odpowiedzi</h4>{quotes}")
            continue
        codes, labels, counts, answered = _closed(question, records)
        note = ""
        if question.type is QuestionType.MULTIPLE_CHOICE:
            note = "wielokrotny wybór: odsetek osób, które wybrały daną odpowiedź"
        if question.type is QuestionType.SCALE and answered:
            mean = sum(int(c) * n for c, n in zip(codes, counts, strict=True)) / answered
            note = f"średnia {mean:.2f} (skala {question.min}–{question.max})"
        parts.append(f"<p>Odpowiedzi: {answered}. {escape(note)}</p>")
        if answered:
            parts.append(_chart(labels, counts, answered))
            for key in ("channel", "event", DISTRICT):
                if key != DISTRICT or question.code != DISTRICT:
                    parts.append(_breakdown(question, records, key, min_cell))
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


def _filters(filters: SubmissionFilter) -> str:
    names = ("questionnaire_id", "completed_only", "event", "channel", "since", "until")
    return ", ".join(f"{name}={getattr(filters, name)}" for name in names if getattr(filters, name)) or "brak"

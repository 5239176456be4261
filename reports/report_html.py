"""The report's pieces of HTML: charts with alt text and their data tables, protected breakdowns, names
of groups instead of codes, themes and quotes, and the stylesheet for the screen and for paper."""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from matplotlib.figure import Figure

from handlers.definitions.events import Event
from handlers.definitions.i18n import plural
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from reports.report_cells import protect

ANSWERS = {"one": "odpowiedź", "few": "odpowiedzi", "many": "odpowiedzi", "other": "odpowiedzi"}  # 1, 2, 5, 1,5
CHANNEL_NAMES = {
    "web": "czat w przeglądarce",
    "telegram": "Telegram",
    "email": "e-mail",
    "terminal": "terminal (z pomocą zespołu)",
    "paper": "ankieta papierowa",
}
LANGUAGE_NAMES = {"pl": "polski", "en": "angielski", "uk": "ukraiński"}
BY = {
    "channel": "kanału",
    "event": "wydarzenia",
    "district": "dzielnicy",
    "age_band": "grupy wieku",
    "language": "języka",
}
UNKNOWN = {
    "channel": "nieznany",
    "event": "bez wydarzenia",
    "district": "nie podano",
    "age_band": "nie podano",
    "language": "nieznany",
}
WIDE = 8  # a breakdown with more answers than this (and fewer groups) is turned on its side for paper


def decimal(value: float, places: int) -> str:
    """A number with a decimal comma (3,80), as Polish readers expect."""
    return f"{value:.{places}f}".replace(".", ",")


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def options_of(question: Question) -> tuple[list[str], list[str]]:
    """A closed question's answer codes and their Polish labels, in the questionnaire's order."""
    if question.type is QuestionType.SCALE:
        codes = [str(n) for n in range(question.min, question.max + 1)]
        labels = list(codes)
        if question.min_label is not None:
            labels[0] = f"{codes[0]} – {question.min_label('pl')}"
        if question.max_label is not None:
            labels[-1] = f"{codes[-1]} – {question.max_label('pl')}"
        return codes, labels
    if question.type is QuestionType.YES_NO:
        return ["yes", "no"], ["tak", "nie"]
    return [o.code for o in question.options], [o.label("pl") for o in question.options]


def group_names(
    questionnaire: Questionnaire, events: Mapping[str, Event], seen_events: Mapping[str, int]
) -> dict[str, dict[str, str]]:
    """For each breakdown, the name readers see for each stored code (never a slug or a code)."""
    names: dict[str, dict[str, str]] = {
        "channel": dict(CHANNEL_NAMES),
        "language": dict(LANGUAGE_NAMES),
        "event": {},
    }
    for slug in seen_events:
        event = events.get(slug)
        if event is not None:
            names["event"][slug] = f"{event.name('pl')} ({event.starts:%d.%m.%Y})"
        elif slug != "—":
            names["event"][slug] = f"wydarzenie spoza listy ({slug})"
    for question in questionnaire.questions:
        if question.code in ("district", "age_band"):
            codes, labels = options_of(question)
            names[question.code] = dict(zip(codes, labels, strict=True))
    for key, unknown in UNKNOWN.items():
        names.setdefault(key, {})["—"] = unknown
    return names


def simple_table(caption: str, head: str, counter: Counter[Any], names: Mapping[str, str]) -> str:
    """A table of counts by name (sorted by name; the unknown group last), with shares."""
    total = sum(counter.values())
    keys = sorted(counter, key=lambda k: (k == "—", str(names.get(k, k))))
    rows = "".join(
        f'<tr><th scope="row">{escape(str(names.get(k, k)))}</th><td>{counter[k]}</td>'
        f"<td>{percent(counter[k], total)}</td></tr>"
        for k in keys
    )
    return (
        f'<table class="data"><caption>{escape(caption)}</caption><thead><tr><th scope="col">{escape(head)}</th>'
        f'<th scope="col">Liczba</th><th scope="col">Odsetek</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def chart_figure(title: str, labels: list[str], counts: list[int], total: int) -> tuple[str, str]:
    """A horizontal bar chart (an inline PNG, its text drawn, never interpreted) with its alt text, and
    its data as a table."""
    height = 0.42 * len(labels) + 0.8
    figure = Figure(figsize=(7.5, height))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, counts, color="#c8102e")
    axes.set_yticks(positions, [label if len(label) <= 48 else label[:47] + "…" for label in labels])
    for position, count in zip(positions, counts, strict=True):
        axes.text(count, position, f" {count} ({percent(count, total)})", va="center", fontsize=8)
    axes.set_xlim(0, max([*counts, 1]) * 1.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    top = max(range(len(counts)), key=lambda k: (counts[k], -k))
    alt = (
        f"Wykres słupkowy: {title} (n = {total}). Najczęstsza odpowiedź: {labels[top]} — {counts[top]}"
        f" ({percent(counts[top], total)}). Wszystkie liczby w tabeli pod wykresem."
    )
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{n}</td><td>{percent(n, total)}</td></tr>'
        for label, n in zip(labels, counts, strict=True)
    )
    png = base64.b64encode(buffer.getvalue()).decode()
    return (
        f'<figure class="chart"><img alt="{escape(alt)}" src="data:image/png;base64,{png}"></figure>',
        f'<table class="data"><caption>Dane wykresu (n = {total})</caption><thead><tr><th scope="col">Odpowiedź</th>'
        f'<th scope="col">Liczba</th><th scope="col">Odsetek</th></tr></thead><tbody>{rows}</tbody></table>',
    )


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One closed question's answers by one kind of group, before protection."""

    key: str  # one of BY
    groups: list[str]  # names
    sizes: list[int]  # answers per group
    cells: list[list[int]]  # per group, per answer
    labels: list[str]  # the answers
    rows_add_up: bool  # one answer per person


def _cell(value: int, n: int) -> str:
    """A count with its share of the group (a zero needs none)."""
    return f"{value}<small> {percent(value, n)}</small>" if value else "0"


def render_breakdown(breakdown: Breakdown, min_cell: int) -> str:
    """The table with small cells protected (complementary suppression; see reports/report_cells.py)."""
    shield = protect(breakdown.sizes, breakdown.cells, min_cell, rows_add_up=breakdown.rows_add_up)
    width = len(breakdown.labels)
    # One mark for every hidden cell: telling small ones from their complements would undo the latter.
    hidden_mark = '<span class="hidden" title="ukryte">•</span>'
    matrix: list[tuple[str, str, list[str]]] = []  # group, n, cells
    for i, group in enumerate(breakdown.groups):
        if i in shield.hidden_rows:
            continue
        n = breakdown.sizes[i]
        cells = [_cell(breakdown.cells[i][j], n) if shield.shows(i, j) else hidden_mark for j in range(width)]
        matrix.append((escape(group), str(n), cells))
    if not matrix:
        return (
            f'<h3>Według {BY[breakdown.key]}</h3><p class="note">Wszystkie grupy są mniejsze niż {min_cell} osób'
            " lub ich liczby dałoby się odtworzyć: tabeli nie pokazujemy.</p>"
        )
    if shield.hidden_rows:
        rest = sorted(shield.hidden_rows)
        n_rest = sum(breakdown.sizes[i] for i in rest)
        cells = [
            hidden_mark if j in shield.merged_hidden else _cell(sum(breakdown.cells[i][j] for i in rest), n_rest)
            for j in range(width)
        ]
        matrix.append((f"pozostałe grupy ({len(rest)}), razem", str(n_rest), cells))
    head = "".join(f'<th scope="col">{escape(label)}</th>' for label in breakdown.labels)
    note = (
        f'<p class="note">Podstawa: osoby z każdej grupy, które odpowiedziały (n); odsetki w wierszu.'
        f" • — liczba ukryta: od 1 do {min_cell - 1} albo ukryta obok takiej, by nie dało się jej odtworzyć"
        f" odejmowaniem. Grupy mniejsze niż {min_cell} osób są połączone w „pozostałe grupy”.</p>"
    )
    caption = f"<caption>Według {BY[breakdown.key]}</caption>"
    if width > WIDE and width > len(matrix):  # turned on its side: answers down, groups across
        top = "".join(f'<th scope="col">{group}</th>' for group, _, _ in matrix)
        n_row = "".join(f"<td>{n}</td>" for _, n, _ in matrix)
        body = f'<tr><th scope="row">n</th>{n_row}</tr>' + "".join(
            f'<tr><th scope="row">{escape(label)}</th>' + "".join(f"<td>{row[2][j]}</td>" for row in matrix) + "</tr>"
            for j, label in enumerate(breakdown.labels)
        )
        table = f'<table class="breakdown">{caption}<thead><tr><th></th>{top}</tr></thead><tbody>{body}</tbody></table>'
    else:
        body = "".join(
            f'<tr><th scope="row">{group}</th><td>{n}</td>' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
            for group, n, cells in matrix
        )
        table = (
            f'<table class="breakdown">{caption}<thead><tr><th></th><th scope="col">n</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )
    return f'<div class="breakdown-block">{table}{note}</div>'


def render_themes(counter: Any, *, public: bool) -> str:
    """The open question's themes as the themes module finds them (its quotes only when not public)."""
    parts = []
    for theme in counter.themes():
        label = getattr(theme, "label", None) or getattr(theme, "lemma", "")
        found = getattr(theme, "answers", None)
        count = int(found if found is not None else getattr(theme, "count", 0))
        keywords = [k for k in getattr(theme, "keywords", ()) if k != label]
        words = f' <span class="keywords">({escape(", ".join(keywords))})</span>' if keywords else ""
        share = f", {percent(count, counter.answers)} odpowiedzi" if counter.answers else ""
        parts.append(f"<h4>„{escape(str(label))}” — {count} {plural('pl', count, ANSWERS)}{share}{words}</h4>")
        if not public:
            parts.append("".join(f"<blockquote>{escape(q)}</blockquote>" for q in getattr(theme, "quotes", ())))
    return "".join(parts) or "<p>Za mało odpowiedzi, by wskazać tematy.</p>"


def render_quotes(quotes: list[str], *, public: bool) -> str:
    """Distinct quotes, escaped; none is a sentence saying why."""
    distinct = list(dict.fromkeys(quotes))
    if not distinct:
        why = "żadnej nie zatwierdzono do publikacji" if public else "nikt z piszących nie zgodził się na cytowanie"
        return f'<p class="note">Treści nie cytujemy: {why}.</p>'
    return "".join(f"<blockquote>{escape(q)}</blockquote>" for q in distinct)


STYLE = """
body{font-family:"DejaVu Sans",sans-serif;max-width:62em;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
header h1{margin:.2em 0}.kicker{color:#c8102e;font-weight:bold;margin:0}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.2em .45em;text-align:left;
vertical-align:top}td{text-align:right}caption{text-align:left;font-weight:bold;padding:.2em 0}
table.breakdown{font-size:.85em}table.breakdown small{color:#666;display:block}
table.breakdown caption{font-size:1.15em;padding:.6em 0 .2em}.hidden{font-weight:bold;font-size:1.3em;color:#555}
.lead{break-inside:avoid;page-break-inside:avoid}
.base,.note{color:#444;font-size:.9em}.keywords{font-weight:normal;color:#555}
blockquote{border-left:3px solid #c8102e;margin:.5em 0;padding:.2em .8em;background:#f7f7f7}
figure{margin:.8em 0}img{max-width:100%}.overview{display:flex;gap:2em;flex-wrap:wrap}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3em 1.2em;font-size:.85em}
.swatch{display:inline-block;width:1em;height:1em;border:1px solid #888;margin-right:.3em;vertical-align:middle}
svg.map{max-width:100%;height:auto}.contents ol{list-style:none;padding-left:0;columns:2;font-size:.9em}
@page{size:A4;margin:15mm 13mm 17mm;
@bottom-center{content:"Program Wspólnota — raport z konsultacji · strona " counter(page) " z " counter(pages);
font-size:8pt;color:#555}}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt}
h1,h2,h3,h4{break-after:avoid;page-break-after:avoid}
h2{margin-top:1.2em}section.question,section.methods,section.map-section{break-before:page}
section.question.empty{break-before:auto}
table,figure,blockquote,.breakdown-block,svg{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}tr{break-inside:avoid;page-break-inside:avoid}
table.breakdown{font-size:7.5pt;width:100%}img{max-height:120mm}
.map-section table.data{font-size:7.5pt}.map-section td,.map-section th{padding:.05em .45em}
a{color:inherit;text-decoration:none}
}
"""

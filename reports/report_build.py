"""The report put together from what it needs: the counts, the events' names, the residents per district,
the quotes staff approved (for publication) and who answered against who lives here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from handlers.definitions.events import Event
from handlers.definitions.population import Population
from handlers.definitions.questionnaire import Questionnaire
from reports.report import DISTRICT, ApprovedQuotes, Tally, gather, render_report
from reports.report_html import decimal, options_of
from reports.representation import Representation, representation
from storage.exports import SubmissionFilter
from storage.quotes import approved_quotes
from storage.repository import Store

logger = logging.getLogger(__name__)
MARGIN_NAMES = {"district": "Dzielnica", "age_band": "Grupa wieku"}


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What staff asked for."""

    filters: SubmissionFilter
    min_cell: int = 5
    public: bool = False  # quotes only from those staff approved
    population: Population | None = None  # config/population.yaml: the map and who answered against who lives here


@dataclass
class BuiltReport:
    html: str
    tally: Tally
    warnings: list[str] = field(default_factory=list)


async def build_report(
    store: Store, questionnaire: Questionnaire, events: Mapping[str, Event], request: ReportRequest, now: datetime
) -> BuiltReport:
    """Counts the submissions and writes the report's HTML, saying what it had to leave out."""
    warnings: list[str] = []
    approved: ApprovedQuotes | None = None
    if request.public:
        approved = await _approved_quotes(store, questionnaire.id, warnings)
    tally = await gather(store, questionnaire, request.filters, approved)
    residents: dict[str, int] = {}
    section = ""
    if request.population is not None:
        margin = next((m for m in request.population.margins.values() if m.question == DISTRICT), None)
        residents = dict(margin.residents) if margin is not None else {}
        if request.population.present_margins():
            found = await representation(store, questionnaire.id, request.population, filters=request.filters)
            section = render_representation(questionnaire, found)
    html = render_report(
        questionnaire,
        tally,
        request.filters,
        now,
        request.min_cell,
        events=events,
        residents=residents,
        representation=section,
    )
    return BuiltReport(html, tally, warnings)


async def _approved_quotes(store: Store, questionnaire_id: str, warnings: list[str]) -> ApprovedQuotes:
    found = await approved_quotes(store, questionnaire_id)
    if not found:
        warnings.append("no quotes are approved yet (wspolnota quotes approve): the public report has none")
    return found


def render_representation(questionnaire: Questionnaire, found: Representation) -> str:
    """Shares of respondents against shares of residents per margin, with the dissimilarity index."""
    parts = [
        '<section class="representation"><h2 id="reprezentacja">Kto odpowiedział, a kto mieszka w Warszawie</h2>',
        f'<p class="base">Podstawa: zakończone zgłoszenia ({found.completed}); mieszkańcy: {escape(found.source)}'
        + ("" if "stan na" in found.source else f" (stan na {found.date:%d.%m.%Y})")
        + ".</p>",
    ]
    for margin in found.margins:
        question = next((q for q in questionnaire.questions if q.code == margin.question), None)
        labels = dict(zip(*options_of(question), strict=True)) if question is not None else {}
        index = margin.dissimilarity
        rows = "".join(
            f'<tr><th scope="row">{escape(labels.get(c.code, c.code))}</th><td>{c.respondents}</td>'
            f"<td>{decimal(100 * c.respondent_share, 1)}%</td><td>{decimal(100 * c.resident_share, 1)}%</td>"
            f"<td>{decimal(c.expected, 1)}</td></tr>"
            for c in margin.categories
        )
        name = MARGIN_NAMES.get(margin.name, margin.name)
        parts.append(
            f"<h3>{escape(name)}</h3>"
            f'<p class="base">n = {margin.base}; spoza Warszawy: {margin.outside}; bez odpowiedzi lub'
            f" „wolę nie podawać”: {margin.not_given}."
            + (
                f" Indeks niepodobieństwa: <b>{decimal(index, 2)}</b> (0 — odpowiadający wyglądają jak mieszkańcy,"
                " 1 — zupełnie inaczej; tyle osób musiałoby być w innej grupie).</p>"
                if index is not None
                else "</p>"
            )
            + f'<table class="data"><caption>{escape(name)}: odpowiadający i mieszkańcy</caption><thead><tr>'
            f'<th scope="col">{escape(name)}</th><th scope="col">Odpowiedzi</th><th scope="col">Udział wśród'
            ' odpowiadających</th><th scope="col">Udział wśród mieszkańców</th><th scope="col">Oczekiwane'
            f"</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    missing = found.most_missing()
    if missing:
        items = "".join(
            f"<li>{escape(dict(zip(*_labels(questionnaire, m.question), strict=True)).get(c.code, c.code))}:"
            f" {c.respondents} z oczekiwanych {round(c.expected)}</li>"
            for m, c in missing
        )
        parts.append(f"<p>Najbardziej brakuje głosów z grup:</p><ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _labels(questionnaire: Questionnaire, code: str) -> tuple[list[str], list[str]]:
    question = next((q for q in questionnaire.questions if q.code == code), None)
    return options_of(question) if question is not None else ([], [])

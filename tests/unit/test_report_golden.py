"""The publishable report on a seeded dataset: stated bases, Warsaw days, names not codes, every chart with
alt text and a table, breakdowns by age band and language, suppression that subtraction cannot undo,
the district map, the "other" texts, and only approved quotes when it is meant for publication."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

from bot.service import Service
from reports.report import gather, render_report
from reports.report_map import load_residents
from storage.exports import SubmissionFilter
from tests.support import QUESTIONNAIRE, REPOSITORY
from tests.support.report_data import ZOLIBORZ, seed

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def text_of(html: str) -> str:
    """What a reader sees: the page without its tags (and without the inline images)."""
    return unescape(re.sub(r"<[^>]+>", " ", html))


def table_after(html: str, heading: str) -> str:
    start = html.index(heading)
    return html[start : html.index("</table>", start)]


async def report(service: Service, **kwargs: Any) -> str:
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    filters = SubmissionFilter(QUESTIONNAIRE)
    tally = await gather(service.store, questionnaire, filters, kwargs.pop("approved", None))
    return render_report(
        questionnaire,
        tally,
        filters,
        NOW,
        5,
        events=service.config.events,
        residents=load_residents(REPOSITORY / "config" / "population.yaml"),
    )


async def test_bases_days_and_names(service: Service) -> None:
    await seed(service)
    html = await report(service)
    seen = text_of(html)
    assert "n = 62 zakończonych zgłoszeń; 3 niezakończonych nie liczymy" in seen
    # Warsaw days: 30 May 23:59 and 31 May 00:00 fall on different days
    days = text_of(table_after(html, "Według dnia (czas warszawski)"))
    assert re.search(r"30\.05\.2026\s+60\b", days) and re.search(r"31\.05\.2026\s+2\b", days)
    # names, not codes or slugs
    assert "Praga-Południe" in seen and "praga_poludnie" not in seen
    assert "Warszawski Dzień Sąsiada – Park Żeromskiego (30.05.2026)" in seen
    assert ZOLIBORZ not in seen.replace("wydarzenie spoza listy (dzien-sasiada-nieznany)", "")
    assert "wydarzenie spoza listy (dzien-sasiada-nieznany)" in seen and "bez wydarzenia" in seen
    # breakdowns by age band and language besides channel, event and district
    for by in ("Według kanału", "Według wydarzenia", "Według dzielnicy", "Według grupy wieku", "Według języka"):
        assert by in seen
    assert "18–29 lat" in seen and "ukraiński" in seen and "angielski" in seen


async def test_every_chart_has_alt_text_and_a_data_table(service: Service) -> None:
    await seed(service)
    html = await report(service)
    images = re.findall(r"<img ([^>]*)>", html)
    assert len(images) >= 4
    for image in images:
        alt = re.search(r'alt="([^"]*)"', image)
        assert alt is not None and alt.group(1).startswith("Wykres słupkowy:") and "n = " in alt.group(1)
    assert html.count("<caption>Dane wykresu") == len(images)
    assert "<details" not in html  # nothing folded away from paper
    # the map: an SVG with its own title, a legend and a table per district (6 / 185 633 × 10 000 = 0,3)
    assert re.search(r'<svg class="map" role="img" aria-labelledby="map-title"', html)
    assert 'aria-label="Legenda mapy"' in html
    rates = text_of(table_after(html, "Odpowiedzi według dzielnicy na 10 tys."))
    assert re.search(r"Praga-Południe\s+6\s+185\xa0633\s+0,3", rates) and re.search(r"Rembertów\s+0\s", rates)


async def test_small_cells_cannot_be_recovered_by_subtraction(service: Service) -> None:
    await seed(service)
    html = await report(service)
    (REPOSITORY / "test-artifacts").mkdir(exist_ok=True)
    (REPOSITORY / "test-artifacts" / "report-golden.html").write_text(html, encoding="utf-8")
    consent = html[html.index('id="q-quote_consent"') :]
    by_district = table_after(consent, "<caption>Według dzielnicy")
    rows = {
        unescape(re.sub(r"<[^>]+>", "", name)): re.findall(r"<td>(.*?)</td>", cells)
        for name, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', by_district)
    }
    # Praga-Południe's 1 "nie" is hidden with its 5 "tak" (else 6 - 5 gives it)
    praga = rows["Praga-Południe"]
    assert praga[0] == "6" and all("ukryte" in cell for cell in praga[1:])
    # and in each answer's column a second cell is hidden, so the chart's totals do not give them back
    for column in (1, 2):
        assert sum("ukryte" in cells[column] for cells in rows.values()) >= 2
    # Wilanów (n=1) is never printed: merged with the next smallest group, which makes the merged row >= 5
    values = html[html.index('id="q-values"') :]
    by_district = text_of(table_after(values, "<caption>Według dzielnicy"))
    assert "Wilanów" not in by_district and "Praga-Południe" not in by_district
    assert "pozostałe grupy (2), razem" in by_district and re.search(r"\bn\s+31\s+24\s+7\b", by_district)
    # the report says how
    assert "tłumienie uzupełniające" in html


async def test_other_texts_are_masked_and_only_with_consent(service: Service) -> None:
    await seed(service)
    seen = text_of(await report(service))
    assert "Inne odpowiedzi wpisane przez mieszkańców (2)" in seen
    assert "Sąsiedzka pomoc" in seen and "600 100 200" not in seen and "Kowalskiego" not in seen
    assert "Tajny tekst" not in seen


async def test_public_report_quotes_only_what_staff_approved(service: Service) -> None:
    ids = await seed(service)
    unapproved = "Sąsiedzi pomagają sobie na podwórku."
    internal = await report(service)
    assert f"<blockquote>{unapproved}</blockquote>" in internal
    nothing = await report(service, approved={})
    assert "<blockquote>" not in nothing and "żadnej nie zatwierdzono do publikacji" in nothing
    approved = {(ids[0], "community_meaning"): "Podwórko łączy ludzi (zatwierdzone)."}
    public = await report(service, approved=approved)
    assert re.findall(r"<blockquote>(.*?)</blockquote>", public) == ["Podwórko łączy ludzi (zatwierdzone)."]


async def test_one_cross_table_is_printed_once(service: Service) -> None:
    """District by age band and age band by district are one table: printed once (two protections of it,
    hiding different cells, could be laid over each other)."""
    await seed(service)
    html = await report(service)
    district = html[html.index('id="q-district"') : html.index('id="q-community_meaning"')]
    age = html[html.index('id="q-age_band"') :]
    assert "<caption>Według grupy wieku" not in district and "<caption>Według języka" in district
    assert "<caption>Według dzielnicy" in age

"""The report on a seeded dataset: counts per option, suppression, themes, escaped and masked quotes."""

from __future__ import annotations

import re

from bot.service import Service
from reports.report import gather, render_report
from reports.themes import find_themes, mask
from storage.exports import SubmissionFilter
from tests.support import QUESTIONNAIRE, FakeClock, seed


async def test_report_counts_suppresses_and_escapes(service: Service, clock: FakeClock) -> None:
    await seed(service)
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    filters = SubmissionFilter(questionnaire.id)
    tally = await gather(service.store, questionnaire, filters)
    assert (tally.total, tally.completed) == (5, 5)
    html = render_report(questionnaire, tally, filters, clock(), min_cell=3)
    assert "Zgłoszenia: <b>5</b>" in html and "100% ukończeń" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # a resident's text never runs
    assert "600 100 200" not in html and "jan@example.pl" not in html and "Kowalska" not in html
    assert re.search(r"<h4>„[^”]+” — \d+ odpowied", html)  # themes, counted once per answer
    assert "Średnia 3,80" in html  # 3,4,5,3,4, with a decimal comma
    assert html.count("data:image/png;base64,") >= 4
    # by district: Wola 4 and Ursus 1; Ursus under 3 is merged with Wola, which leaves nothing to print
    assert 'Według dzielnicy</h3><p class="note">Wszystkie grupy są mniejsze niż 3' in html
    assert re.search(r"default-src 'none'", html)
    assert '<th scope="row">Telegram</th><td>2</td><td>40%</td>' in html
    assert '<th scope="row">terminal (z pomocą zespołu)</th><td>3</td>' in html
    assert "Wypełnione z pomocą wolontariusza: <b>1</b>" in html


def test_themes_count_answers_and_quote_only_with_consent() -> None:
    themes = find_themes([("Więcej ławek na podwórku.", True), ("Ławki i zieleń na podwórku!", False), ("Nic.", True)])
    by_lemma = {theme.lemma: theme for theme in themes}
    assert by_lemma["podwórko"].answers == 2
    # quoted once (never in two themes' slots), never without consent
    assert [quote for theme in themes for quote in theme.quotes] == ["Więcej ławek na podwórku."]
    masked = mask("Pisałam do Ani Nowak, nowak@example.pl, +48 600 100 200.")
    assert "Nowak" not in masked and "@" not in masked and "600" not in masked

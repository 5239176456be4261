"""The report on a seeded dataset: counts per option, suppression, themes, escaped and masked quotes."""

from __future__ import annotations

import re

from bot.service import Service
from handlers.engine.messages import Action
from reports.report import gather, render_report
from reports.themes import find_themes, mask
from storage.repository import SubmissionFilter
from tests.conftest import FakeClock, Person

COMMUNITY = [
    "Sąsiedzi, którzy pomagają sobie na podwórku.",
    "Dobre relacje z sąsiadami i wspólne podwórko.",
    "<script>alert('x')</script> sąsiad to podstawa",
    "Pani Kowalska z parteru, tel. 600 100 200, jan@example.pl — sąsiedzi pomagają.",
    "Wspólnota to ludzie.",
]


async def seed(service: Service) -> None:
    for n, text in enumerate(COMMUNITY):
        person = Person(service, f"r{n}", channel="telegram" if n % 2 else "terminal", assisted=n == 0)
        await person.begin(source="dzien-sasiada-wola" if n < 3 else None)
        await person.tap("wola" if n < 4 else "ursus")
        await person.send(text)
        await person.send("1, 2" if n % 2 else "2, 3")  # values
        await person.send(str(3 + n % 3))  # connection
        for _ in range(6):
            await person.act(Action.SKIP)
        await person.send("tak" if n != 4 else "nie")  # quote consent (the last one says no)
        await person.act(Action.DONE)
        await person.act(Action.CONFIRM)


async def test_report_counts_suppresses_and_escapes(service: Service, clock: FakeClock) -> None:
    await seed(service)
    questionnaire = service.config.questionnaires["wizja-i-wartosci"]
    filters = SubmissionFilter(questionnaire.id)
    tally = await gather(service.store, questionnaire, filters)
    assert (tally.total, tally.completed) == (5, 5)
    html = render_report(questionnaire, tally, filters, clock(), min_cell=3)
    assert "Zgłoszenia: <b>5</b>" in html and "100% ukończeń" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # a resident's text never runs
    assert "600 100 200" not in html and "jan@example.pl" not in html and "Kowalska" not in html
    assert "„sąsiad” — 4 odpowiedzi" in html  # a theme, lemmatised, counted once per answer
    assert "średnia 3.80" in html  # 3,4,5,3,4
    assert html.count("data:image/png;base64,") >= 4
    assert "(&lt; 3)" in html  # a breakdown group with fewer than 3 answers is hidden
    assert re.search(r"default-src 'none'", html)
    assert "<tr><th>Telegram</th><td>2</td></tr>" in html and "<th>terminal</th><td>3</td>" in html
    assert "Wypełnione z pomocą wolontariusza: <b>1</b>" in html


def test_themes_count_answers_and_quote_only_with_consent() -> None:
    themes = find_themes([("Więcej ławek na podwórku.", True), ("Ławki i zieleń na podwórku!", False), ("Nic.", True)])
    by_lemma = {theme.lemma: theme for theme in themes}
    assert by_lemma["podwórko"].answers == 2 and by_lemma["podwórko"].quotes == ("Więcej ławek na podwórku.",)
    masked = mask("Pisałam do Ani Nowak, nowak@example.pl, +48 600 100 200.")
    assert "Nowak" not in masked and "@" not in masked and "600" not in masked

"""Live counts on a seeded dataset: the figures staff see in /stats."""

from __future__ import annotations

from bot.service import Service
from handlers.engine.messages import Action
from reports.stats import collect_stats, describe_stats
from tests.support import FakeClock, Person, answer_everything


async def test_counts_by_event_channel_and_question(service: Service, clock: FakeClock) -> None:
    for n, event in enumerate(["dzien-sasiada-wola", "dzien-sasiada-wola", None]):
        person = Person(service, f"done-{n}", channel="telegram" if n else "terminal")
        await person.begin(source=event)
        await answer_everything(person)
        await person.act(Action.CONFIRM)
    halfway = Person(service, "halfway")
    await halfway.begin()
    await halfway.tap("wola")
    await halfway.act(Action.SKIP)

    stats = await collect_stats(service.store, clock())
    assert (stats.completed_total, stats.completed_today, stats.started) == (3, 3, 4)
    assert stats.by_event == {"dzien-sasiada-wola": 2, "—": 1}
    assert stats.by_channel == {"telegram": 2, "terminal": 1}
    assert stats.per_question["district"] == 4  # the halfway one counts too
    assert stats.per_question["community_meaning"] == 3  # skipped answers do not
    assert round(stats.completion_rate, 2) == 0.75
    text = describe_stats(stats, ["district", "community_meaning"])
    assert "Ukończone: 3 (dziś 3)" in text and "district: 4" in text and "ukończono 75%" in text
    english = describe_stats(stats, ["district", "community_meaning"], "en")
    assert "Completed: 3 (today 3)" in english and "completion rate 75%" in english

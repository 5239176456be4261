"""The live dashboard's figures: completed submissions today and in all by event, channel and hour (Warsaw
time), the completion rate, and the groups of residents most missing now — from reports.stats,
storage.counts and reports.representation, the figures `wspolnota stats` shows."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from bot.console.page import Layout, Page
from bot.console.texts import TEXTS, ConsoleLanguage
from bot.service import Service
from handlers.definitions.questionnaire import Questionnaire
from reports.representation import representation
from reports.stats import WARSAW, collect_stats, percent
from storage.counts import completions_since

FRESH_FOR = 2.0  # seconds the figures are shared between browsers polling at once, at the least
COST_SHARE = 5.0  # figures that took t seconds are kept for COST_SHARE × t (the dashboard's share: 1/COST_SHARE)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a table: what it counts, today's and the total (None: not counted that way)."""

    key: str
    label: str
    today: int
    total: int | None = None


@dataclass(frozen=True, slots=True)
class Missing:
    label: str
    respondents: int
    expected: int


@dataclass(frozen=True, slots=True)
class Figures:
    questionnaire_id: str
    questionnaire: str
    updated: str  # HH:MM:SS in Warsaw
    today: int
    total: int
    started: int
    completion_rate: str
    by_event: list[Row]
    by_channel: list[Row]
    by_hour: list[Row]
    hour_max: int  # the busiest hour's count, the bars' scale
    missing: list[Missing]
    missing_state: str  # "shown", "none", "off", "empty"
    population_source: str
    population_date: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Dashboard:
    """Computes the figures for one questionnaire (the default one unless asked for another) and language,
    shared by every browser watching: browsers asking while they are computed wait for that computation, and
    finished figures are kept for FRESH_FOR seconds, or COST_SHARE times as long as they took to compute
    (a big consultation's figures take a second or more: the dashboard then never takes more than about a
    fifth of the service's time, however many browsers poll, and residents' answers keep their pace)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._kept: dict[tuple[str, ConsoleLanguage], tuple[float, Figures]] = {}  # (fresh until, figures)
        self._computing: dict[tuple[str, ConsoleLanguage], asyncio.Task[Figures]] = {}

    def questionnaire(self, wanted: str | None) -> Questionnaire:
        """The questionnaire asked for, or the default one when none (or an unknown one) is asked for."""
        questionnaires = self.service.config.questionnaires
        found = questionnaires.get(wanted or "")
        return found if found is not None else questionnaires[self.service.conversation.default_questionnaire]

    async def figures(self, language: ConsoleLanguage, wanted: str | None = None) -> Figures:
        questionnaire = self.questionnaire(wanted)
        key = (questionnaire.id, language)
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
        task = self._computing.get(key)
        if task is None:
            task = asyncio.create_task(self._computed(key, questionnaire, language))
            self._computing[key] = task
            task.add_done_callback(lambda _: self._computing.pop(key, None))
        # A browser that goes away does not cancel the others' computation.
        return await asyncio.shield(task)

    async def _computed(
        self, key: tuple[str, ConsoleLanguage], questionnaire: Questionnaire, language: ConsoleLanguage
    ) -> Figures:
        started = time.monotonic()
        figures = await self._compute(questionnaire, language)
        took = time.monotonic() - started
        self._kept[key] = (time.monotonic() + max(FRESH_FOR, COST_SHARE * took), figures)
        return figures

    async def _compute(self, questionnaire: Questionnaire, language: ConsoleLanguage) -> Figures:
        text = TEXTS[language]
        now = self.service.conversation.clock()
        stats = await collect_stats(self.service.store, now, questionnaire.id, per_question=False)
        midnight = now.astimezone(WARSAW).replace(hour=0, minute=0, second=0, microsecond=0)
        today = await completions_since(self.service.store, midnight, questionnaire.id)
        events_today = Counter((event or "—") for event, _, _ in today)
        channels_today = Counter(channel for _, channel, _ in today)
        hours = Counter(finished.astimezone(WARSAW).hour for _, _, finished in today)

        by_event = [
            Row(slug, self._event_name(slug, language), events_today.get(slug, 0), stats.by_event.get(slug, 0))
            for slug in sorted(set(stats.by_event) | set(events_today), key=lambda s: (-stats.by_event.get(s, 0), s))
        ]
        by_channel = [
            Row(channel, text.get(f"channel_{channel}", channel), channels_today.get(channel, 0), count)
            for channel, count in sorted(stats.by_channel.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        last_hour = now.astimezone(WARSAW).hour
        first_hour = min([*hours, last_hour])
        by_hour = [Row(f"{h:02d}", f"{h:02d}:00", hours.get(h, 0)) for h in range(first_hour, last_hour + 1)]

        missing: list[Missing] = []
        state, source, date = "off", "", ""
        population = self.service.config.population
        if population is not None:
            compared = await representation(self.service.store, questionnaire.id, population.asked_in(questionnaire))
            source, date = compared.source.split(":")[0], compared.date.isoformat()
            if not any(margin.base for margin in compared.margins):
                state = "empty"
            else:
                for margin, category in compared.most_missing():
                    question = questionnaire.question(margin.question)
                    option = question.option(category.code) if question is not None else None
                    label = option.label(language) if option is not None else category.code
                    name = text.get(margin.name, margin.name)
                    missing.append(Missing(f"{name}: {label}", category.respondents, round(category.expected)))
                state = "shown" if missing else "none"
        return Figures(
            questionnaire.id,
            questionnaire.title(language),
            now.astimezone(WARSAW).strftime("%H:%M:%S"),
            stats.completed_today,
            stats.completed_total,
            stats.started,
            percent(stats.completion_rate, language, 0),
            by_event,
            by_channel,
            by_hour,
            max([1, *hours.values()]),
            missing,
            state,
            source,
            date,
        )

    def _event_name(self, slug: str, language: ConsoleLanguage) -> str:
        if slug == "—":
            return TEXTS[language]["no_event"]
        event = self.service.config.events.get(slug)
        return event.name(language) if event is not None else slug


class DashboardPage(Page):
    """`/staff/`: the figures on a page, and as JSON for the page's script to refresh them in place."""

    def __init__(self, console: Layout) -> None:
        super().__init__(console)
        self.live = Dashboard(self.service)

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        figures = await self._figures(request)
        language = self.language(request)
        questionnaires = [(q.id, q.title(language)) for q in self.service.config.questionnaires.values()]
        return self.render(request, "dashboard.html", {"f": figures, "questionnaires": questionnaires})

    async def dashboard_figures(self, request: web.Request) -> web.StreamResponse:
        figures = await self._figures(request)
        return web.json_response(figures.as_json(), headers={"Cache-Control": "no-store"})

    async def _figures(self, request: web.Request) -> Figures:
        return await self.live.figures(self.language(request), request.query.get("questionnaire"))

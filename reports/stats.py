"""Live counts for staff: the same figures for `/stats` in Telegram and the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.definitions.recruitment import Recruitment
from reports.applications import collect_application_figures, describe_application_summary
from storage.counts import count_submissions
from storage.repository import Store

WARSAW = ZoneInfo("Europe/Warsaw")


@dataclass(frozen=True, slots=True)
class Stats:
    """How many answers came in, and from where."""

    completed_total: int
    completed_today: int
    started: int  # accepted the privacy notice (active or completed)
    by_event: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    per_question: dict[str, int] = field(default_factory=dict)  # answers given (not skipped)

    @property
    def completion_rate(self) -> float:
        return self.completed_total / self.started if self.started else 0.0


async def collect_stats(store: Store, now: datetime, questionnaire_id: str | None = None) -> Stats:
    """Counts submissions and answers (completed ones, unless said otherwise)."""
    midnight = now.astimezone(WARSAW).replace(hour=0, minute=0, second=0, microsecond=0)
    since = midnight.astimezone(now.tzinfo) if now.tzinfo else midnight
    counts = await count_submissions(store, since=since, questionnaire_id=questionnaire_id)
    by_event = {(event or "—"): n for event, n in counts.by_event.items()}
    return Stats(
        counts.completed, counts.completed_since, counts.started, by_event, counts.by_channel, counts.per_question
    )


def describe_stats(stats: Stats, question_order: list[str]) -> str:
    """Shows the counts as plain text."""
    lines = [
        f"Completed: {stats.completed_total} (today {stats.completed_today})",
        f"Started: {stats.started}, completion rate {stats.completion_rate:.0%}",
        "",
        "By channel: " + (", ".join(f"{k} {v}" for k, v in sorted(stats.by_channel.items())) or "—"),
        "By event:",
        *[f"  {k}: {v}" for k, v in sorted(stats.by_event.items(), key=lambda kv: -kv[1])],
        "",
        "Answers per question:",
        *[f"  {code}: {stats.per_question.get(code, 0)}" for code in question_order],
    ]
    return "\n".join(lines)


async def describe_applications(store: Store, call: Recruitment | None) -> str | None:
    """The working groups' applications in a few lines for /stats and `wspolnota stats`; None when off."""
    if call is None:
        return None
    figures = await collect_application_figures(store, call)
    return "Working groups\n" + describe_application_summary(figures)

"""Live counts for staff: the same figures for `/stats` in Telegram and the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Status, Submission
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
    scope: list[ColumnElement[bool]] = [Submission.status.in_([Status.ACTIVE, Status.COMPLETED])]
    if questionnaire_id:
        scope.append(Submission.questionnaire_id == questionnaire_id)
    done = Submission.status == Status.COMPLETED
    async with store.unit(write=False) as unit:
        s = unit.session
        started = await s.scalar(select(func.count()).select_from(Submission).where(*scope)) or 0
        total = await s.scalar(select(func.count()).select_from(Submission).where(*scope, done)) or 0
        today = (
            await s.scalar(
                select(func.count()).select_from(Submission).where(*scope, done, Submission.finished_at >= since)
            )
            or 0
        )
        by_event = await _counts(
            s, select(Submission.event, func.count()).where(*scope, done).group_by(Submission.event)
        )
        by_channel = await _counts(
            s, select(Submission.channel, func.count()).where(*scope, done).group_by(Submission.channel)
        )
        per_question = await _counts(
            s,
            select(Answer.question_code, func.count())
            .join(Submission, Submission.id == Answer.submission_id)
            .where(*scope, Answer.skipped.is_(False))
            .group_by(Answer.question_code),
        )
    return Stats(int(total), int(today), int(started), by_event, by_channel, per_question)


async def _counts(session: AsyncSession, query: Executable) -> dict[str, int]:
    return {(key or "—"): int(n) for key, n in await session.execute(query)}


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

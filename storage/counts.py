"""Live counts of submissions and answers, read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ACTIVE, COMPLETED, Answer, Submission
from storage.repository import Store


@dataclass(frozen=True, slots=True)
class SubmissionCounts:
    """Submissions under way or completed, and where the completed ones came from (None: no event)."""

    started: int  # accepted the privacy notice (active or completed)
    completed: int
    completed_since: int
    by_event: dict[str | None, int]  # completed ones
    by_channel: dict[str, int]  # completed ones
    per_question: dict[str, int]  # answers given (not skipped), in submissions started or completed


async def count_submissions(
    store: Store, *, since: datetime, questionnaire_id: str | None = None, per_question: bool = True
) -> SubmissionCounts:
    """Counts submissions (all questionnaires', or one's) and their answers; `since` bounds completed_since.
    Without `per_question` the answers are not counted (the costliest count; the live dashboard needs none)."""
    scope: list[ColumnElement[bool]] = [Submission.status.in_([ACTIVE, COMPLETED])]
    if questionnaire_id:
        scope.append(Submission.questionnaire_id == questionnaire_id)
    done = Submission.status == COMPLETED
    submissions = select(func.count()).select_from(Submission)
    async with store.unit(write=False) as unit:
        s = unit.session
        started = await s.scalar(submissions.where(*scope)) or 0
        completed = await s.scalar(submissions.where(*scope, done)) or 0
        completed_since = await s.scalar(submissions.where(*scope, done, Submission.finished_at >= since)) or 0
        by_event = await _counts(
            s, select(Submission.event, func.count()).where(*scope, done).group_by(Submission.event)
        )
        by_channel = await _counts(
            s, select(Submission.channel, func.count()).where(*scope, done).group_by(Submission.channel)
        )
        answers: dict[str, int] = {}
        if per_question:
            answers = await _counts(
                s,
                select(Answer.question_code, func.count())
                .join(Submission, Submission.id == Answer.submission_id)
                .where(*scope, Answer.skipped.is_(False))
                .group_by(Answer.question_code),
            )
    return SubmissionCounts(int(started), int(completed), int(completed_since), by_event, by_channel, answers)


async def _counts(session: AsyncSession, query: Any) -> dict[Any, int]:
    return {key: int(n) for key, n in await session.execute(query)}


async def completions_since(
    store: Store, since: datetime, questionnaire_id: str | None = None
) -> list[tuple[str | None, str, datetime]]:
    """Each submission completed since `since`: its event, channel and when it was finished (a day's worth)."""
    scope: list[ColumnElement[bool]] = [Submission.status == COMPLETED, Submission.finished_at >= since]
    if questionnaire_id:
        scope.append(Submission.questionnaire_id == questionnaire_id)
    query = select(Submission.event, Submission.channel, Submission.finished_at).where(*scope)
    async with store.unit(write=False) as unit:
        rows = await unit.session.execute(query)
        return [(event, channel, finished) for event, channel, finished in rows if finished is not None]

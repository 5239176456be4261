"""Each completed submission's answers to a few single-choice questions (district, age band): who answered,
to compare with who lives here."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from sqlalchemy import String, cast, func, select

from storage.exports import SubmissionFilter, _filtered
from storage.models import Answer, Submission
from storage.repository import Store


async def read_margin_answers(
    store: Store, filters: SubmissionFilter, questions: Collection[str]
) -> dict[int, dict[str, str]]:
    """Every completed submission the filters choose (by id), with its picked option per question asked;
    a question skipped or not reached is absent. The filters' `completed_only` is implied."""
    chosen = _filtered(select(Submission.id), replace(filters, completed_only=True))
    picked = _filtered(
        select(Answer.submission_id, Answer.question_code, Answer.options)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Answer.question_code.in_(list(questions)), Answer.skipped.is_(False)),
        replace(filters, completed_only=True),
    )
    async with store.unit(write=False) as unit:
        found: dict[int, dict[str, str]] = {int(sid): {} for sid in await unit.session.scalars(chosen)}
        if questions:
            for sid, code, options in await unit.session.execute(picked):
                if options and int(sid) in found:
                    found[int(sid)][str(code)] = str(options[0])
    return found


@dataclass(frozen=True, slots=True)
class MarginCounts:
    """How many completed submissions the filters choose, and per question how many picked each option."""

    submissions: int
    picked: dict[str, Counter[str]] = field(default_factory=dict)  # question → option → submissions


async def count_margin_answers(store: Store, filters: SubmissionFilter, questions: Collection[str]) -> MarginCounts:
    """What `read_margin_answers` gives, counted by the database: a few rows, however many answered (the
    live dashboard asks every few seconds). Options are grouped as stored (their JSON text, so PostgreSQL's
    json type groups too) and read back here."""
    completed = replace(filters, completed_only=True)
    total = _filtered(select(func.count()).select_from(Submission), completed)
    stored = cast(Answer.options, String)
    grouped = _filtered(
        select(Answer.question_code, stored, func.count())
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Answer.question_code.in_(list(questions)), Answer.skipped.is_(False), Answer.options.is_not(None))
        .group_by(Answer.question_code, stored),
        completed,
    )
    picked: dict[str, Counter[str]] = {question: Counter() for question in questions}
    async with store.unit(write=False) as unit:
        submissions = int(await unit.session.scalar(total) or 0)
        if questions:
            for code, text, count in await unit.session.execute(grouped):
                options = json.loads(text) if text else None
                if options:
                    picked[str(code)][str(options[0])] += int(count)
    return MarginCounts(submissions, picked)

"""Each completed submission's answers to a few single-choice questions (district, age band): who answered,
to compare with who lives here."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from sqlalchemy import select

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

"""Quotes for a public report: the open answers whose authors allowed quoting, and staff's decisions on them."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from storage.audit import audit_in
from storage.models import ACTIVE, COMPLETED, Answer, QuoteReview, Submission
from storage.repository import Store

APPROVED, REJECTED = "approved", "rejected"
# The question whose answer allows quoting, and that answer (the questionnaires' convention; see config/).
QUOTE_CONSENT = ("quote_consent", "yes")


@dataclass(frozen=True, slots=True)
class QuoteCandidate:
    """An open answer that may be quoted, and staff's decision on it if the answer still reads as then."""

    submission_id: int
    question_code: str
    text: str  # the resident's own words, unmasked
    decision: str | None = None  # APPROVED, REJECTED, or None (undecided, or decided on words since changed)
    published: str | None = None  # the approved text


@dataclass(frozen=True, slots=True)
class QuoteDecision:
    """What staff decided on one candidate: None undecided (a decision taken before is withdrawn)."""

    submission_id: int
    question_code: str
    decision: str | None
    text: str | None  # what is published when approved
    source: str  # the answer's words the decision is about


def digest(text: str) -> str:
    """A short fingerprint of an answer's words: a decision holds while it matches."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def quote_candidates(
    store: Store,
    questionnaire_id: str,
    open_questions: Collection[str],
    consent: tuple[str, str],
) -> list[QuoteCandidate]:
    """The non-empty answers to `open_questions` in this questionnaire's active or completed submissions
    whose author answered the `consent` question (code, option) with that option, by submission and
    question, each with its standing decision.
    """
    consent_code, consent_option = consent
    codes = set(open_questions)
    query: Any = (
        select(Answer.submission_id, Answer.question_code, Answer.text, Answer.options, QuoteReview)
        .join(Submission, Submission.id == Answer.submission_id)
        .outerjoin(
            QuoteReview,
            and_(QuoteReview.submission_id == Answer.submission_id, QuoteReview.question_code == Answer.question_code),
        )
        .where(
            Submission.questionnaire_id == questionnaire_id,
            Submission.status.in_([ACTIVE, COMPLETED]),
            Answer.question_code.in_([*codes, consent_code]),
            Answer.skipped.is_(False),
        )
        .order_by(Answer.submission_id)
    )
    allowed: set[int] = set()
    found: list[QuoteCandidate] = []
    async with store.unit(write=False) as unit:
        rows = await unit.session.execute(query)
        for submission_id, code, text, options, review in rows:
            if code == consent_code:
                if options == [consent_option]:
                    allowed.add(submission_id)
                continue
            if code not in codes or text is None or not text.strip():
                continue
            if review is not None and review.source_digest == digest(text):
                found.append(QuoteCandidate(submission_id, code, text, review.decision, review.text))
            else:
                found.append(QuoteCandidate(submission_id, code, text))
    return [candidate for candidate in found if candidate.submission_id in allowed]


async def approved_quotes(
    store: Store, questionnaire_id: str, consent: tuple[str, str] = QUOTE_CONSENT
) -> dict[tuple[int, str], str]:
    """What a public report may quote, by (submission id, question code): the text staff approved
    (masked, perhaps edited), only while the answer reads as when it was approved and its author still
    allows quoting (the `consent` question's code and option)."""
    consent_code, consent_option = consent
    in_questionnaire = (
        select(Submission.id)
        .where(Submission.questionnaire_id == questionnaire_id, Submission.status.in_([ACTIVE, COMPLETED]))
        .scalar_subquery()
    )
    approved = (
        select(
            QuoteReview.submission_id,
            QuoteReview.question_code,
            QuoteReview.text,
            QuoteReview.source_digest,
            Answer.text,
        )
        .join(
            Answer,
            and_(Answer.submission_id == QuoteReview.submission_id, Answer.question_code == QuoteReview.question_code),
        )
        .where(QuoteReview.decision == APPROVED, QuoteReview.submission_id.in_(in_questionnaire))
    )
    consents = select(Answer.submission_id, Answer.options).where(
        Answer.question_code == consent_code,
        Answer.skipped.is_(False),
        Answer.submission_id.in_(select(QuoteReview.submission_id).where(QuoteReview.decision == APPROVED)),
    )
    async with store.unit(write=False) as unit:
        allowed = {sid for sid, options in await unit.session.execute(consents) if options == [consent_option]}
        return {
            (sid, code): published
            for sid, code, published, source, text in await unit.session.execute(approved)
            if sid in allowed and published and text is not None and digest(text) == source
        }


async def record_decisions(
    store: Store,
    decisions: Iterable[QuoteDecision],
    *,
    actor: str,
    now: datetime,
    details: dict[str, Any],
    action: str = "quotes-approve",
) -> int:
    """Stores staff's decisions and the audit entry (`action`: a whole review file, or one quote decided in
    the console) in one transaction; returns how many changed (recording the same decisions again changes
    nothing)."""
    changed = 0
    async with store.unit() as unit:
        for decision in decisions:
            key = (decision.submission_id, decision.question_code)
            review = await unit.session.get(QuoteReview, key)
            source = digest(decision.source)
            if decision.decision is None:
                if review is not None:
                    await unit.session.delete(review)
                    changed += 1
                continue
            text = decision.text if decision.decision == APPROVED else None
            if review is None:
                unit.add(
                    QuoteReview(
                        submission_id=decision.submission_id,
                        question_code=decision.question_code,
                        decision=decision.decision,
                        text=text,
                        source_digest=source,
                        decided_at=now,
                        actor=actor,
                    )
                )
                changed += 1
            elif (review.decision, review.text, review.source_digest) != (decision.decision, text, source):
                review.decision, review.text, review.source_digest = decision.decision, text, source
                review.decided_at, review.actor = now, actor
                changed += 1
        audit_in(unit, actor, action, {**details, "changed": changed}, now)
    return changed

"""Confirming an email address a respondent gave: a code mailed to it, kept as a digest, with its tries.

One row per submission (the address its email question holds); it goes with the submission, and
with the respondent when they are erased. The engine decides; this module only keeps the state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.repository import Unit


class EmailVerification(Base):
    """The code last mailed to confirm a submission's email address, and how it went."""

    __tablename__ = "email_verification"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    code_digest: Mapped[str] = mapped_column(String(64))  # never the code itself
    wrong: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes typed since this one was sent
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)  # to this submission, every address counted
    sent_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"EmailVerification(submission_id={self.submission_id}, verified={self.verified_at is not None})"


async def find_verification(unit: Unit, submission_id: int) -> EmailVerification | None:
    """The submission's verification, if a code was ever sent for it."""
    return await unit.session.get(EmailVerification, submission_id)


async def issue_code(
    unit: Unit, submission_id: int, address: str, code_digest: str, now: datetime
) -> EmailVerification:
    """Keeps a new code for an address (replacing an earlier one): not verified, no wrong tries yet."""
    verification = await find_verification(unit, submission_id)
    if verification is None:
        verification = EmailVerification(submission_id=submission_id, codes_sent=0)
        unit.add(verification)
    verification.address = address
    verification.code_digest = code_digest
    verification.wrong = 0
    verification.codes_sent += 1
    verification.sent_at = now
    verification.verified_at = None
    return verification


async def drop_verification(unit: Unit, submission_id: int) -> None:
    """Forgets a submission's verification (its application was withdrawn)."""
    await unit.session.execute(delete(EmailVerification).where(EmailVerification.submission_id == submission_id))

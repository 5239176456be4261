"""Where a submission is: the engine's state machine, stored as plain strings by storage."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    CONSENT = "consent"  # privacy notice shown, not accepted yet; deleted on decline
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Step(StrEnum):
    QUESTION = "question"
    OTHER = "other"  # an "other" option was picked; waiting for its text
    VERIFY = "verify"  # an email address was given; waiting for the code mailed to it
    SUMMARY = "summary"
    DONE = "done"

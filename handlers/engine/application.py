"""What an application to the working groups adds to a questionnaire's walk: the email address confirmed by
a code mailed to it, the application recorded beside the answers, and its withdrawal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handlers.definitions.application_form import (
    AVAILABLE,
    DESCRIPTION,
    EMAIL,
    GROUPS,
    NAME,
    ORGANISATION,
    SECTOR,
    application_questionnaire,
)
from handlers.definitions.events import Event
from handlers.definitions.i18n import Catalog, Language
from handlers.definitions.questionnaire import Questionnaire
from handlers.definitions.recruitment import Recruitment
from storage.applications import ApplicationFields
from storage.outbox import QueuedMail
from storage.repository import AnswerValue
from storage.verification import EmailVerification

CODE_DIGITS = 6
MAX_WRONG = 5  # wrong codes per code sent; then only a new code helps
MAX_CODES = 5  # codes mailed for one submission, so nobody can make us mail a stranger again and again
CODE_VALID = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Call:
    """The call for applications as the engine needs it: the form, and our address (the code's sender)."""

    questionnaire: Questionnaire
    contact: str  # signs the code's email and names the domain of its Message-ID
    decision_date: date  # every applicant hears back by the end of this day

    @classmethod
    def of(cls, recruitment: Recruitment, catalog: Catalog, events: Mapping[str, Event]) -> Call:
        """The call as `config/recruitment.yaml` states it, with its form built."""
        form = application_questionnaire(recruitment, catalog, events)
        return cls(form, recruitment.contact, recruitment.decision_date)


def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(submission_id: int, address: str, code: str) -> str:
    """What is stored instead of a code: bound to its submission and address, so a digest proves nothing elsewhere."""
    return hashlib.sha256(f"{submission_id}:{address.lower()}:{code}".encode()).hexdigest()


def read_code(text: str) -> str | None:
    """The code in what was typed ("123 456", "123-456" too); None when it is not six digits."""
    digits = "".join(c for c in text if not c.isspace() and c != "-")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


def code_matches(verification: EmailVerification, submission_id: int, code: str) -> bool:
    """Compares a typed code with the stored digest in constant time."""
    return hmac.compare_digest(verification.code_digest, code_digest(submission_id, verification.address, code))


def code_expired(verification: EmailVerification, now: datetime) -> bool:
    """Tells whether the code was sent too long ago to be taken."""
    return now - verification.sent_at > CODE_VALID


def code_mail(
    call: Call, catalog: Catalog, language: Language, *, address: str, code: str, respondent_id: int
) -> QueuedMail:
    """The short email carrying a code, in the applicant's language."""
    domain = call.contact.rsplit("@", 1)[-1]
    hours = int(CODE_VALID.total_seconds() // 3600)
    body = "\n\n".join(
        [
            catalog("verify_mail_body", language, code=code, hours=hours),
            catalog("mail_signature", language, address=call.contact),
        ]
    )
    return QueuedMail(
        to_address=address,
        message_id=f"<wsp-{uuid.uuid4().hex}@{domain}>",
        subject=catalog("verify_mail_subject", language),
        body=body,
        purpose="verification",
        respondent_id=respondent_id,
    )


def application_fields(
    stored: Callable[[str], AnswerValue | None],
    *,
    email_verified: bool,
    language: str,
    privacy_version: str | None,
) -> ApplicationFields:
    """An application's fields from the form's answers (a skipped or missing answer is None)."""

    def value(code: str) -> AnswerValue | None:
        answer = stored(code)
        return None if answer is None or answer.skipped else answer

    def text(code: str) -> str | None:
        answer = value(code)
        return answer.text if answer is not None and answer.text else None

    def options(code: str) -> tuple[str, ...]:
        answer = value(code)
        return tuple(answer.options or ()) if answer is not None else ()

    available = options(AVAILABLE)
    return ApplicationFields(
        name=text(NAME),
        email=text(EMAIL),
        email_verified=email_verified and text(EMAIL) is not None,
        organisation=text(ORGANISATION),
        sector=next(iter(options(SECTOR)), None),
        groups=options(GROUPS),
        description=text(DESCRIPTION),
        available=None if not available else available[0] == "yes",
        language=language,
        privacy_version=privacy_version,
    )

"""The email adapter's two directions: a parsed email into engine input, engine replies into our email.

Pure functions: no database, no network. The engine decides what is recorded (the same rules as
on Telegram and the web); this module only reads the email and words the answer to it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from handlers.definitions.i18n import Catalog, Language
from handlers.definitions.questionnaire import Questionnaire
from handlers.email.classify import has_own_words
from handlers.email.form import FormReading, form_examples, read_form_reply, render_form
from handlers.email.parse import ParsedEmail
from handlers.engine.messages import Inbound, Reply, ReplyKind, RespondentRef

REFERENCE = re.compile(r"\[W-(\d+)\]")  # our reference in a subject: the submission's number
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|odp|aw|fwd?|pd)\s*:)+", re.IGNORECASE)


def reply_address(email: ParsedEmail) -> str:
    """Where to answer: the From address, always.

    A Reply-To that differs is kept for staff (`other_reply_to`) but never mailed automatically:
    anyone can write one, and answering it would make us mail third parties.
    """
    return email.from_address or ""


_NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|nie-?odpowiadaj|noreply-[\w.-]+|mailer-daemon)@", re.IGNORECASE)


def unanswerable(address: str) -> bool:
    """An address that says not to answer it (noreply@…, a website's form relay): we store, never mail it."""
    return not address or bool(_NO_REPLY.match(address.strip()))


def other_reply_to(email: ParsedEmail) -> str | None:
    """The Reply-To address when it is not the From address (for staff), else None."""
    if email.reply_to and email.reply_to.lower() != (email.from_address or "").lower():
        return email.reply_to
    return None


def answers_us(email: ParsedEmail, domain: str) -> bool:
    """A reply to one of our messages (threaded to our Message-ID domain), or one quoting our reference."""
    ours = f"@{domain}>"
    threaded = any(ref.endswith(ours) for ref in (*email.references, email.in_reply_to or ""))
    return threaded or bool(REFERENCE.search(email.subject))


def inbound_from_email(
    email: ParsedEmail, respondent: RespondentRef, questionnaire: Questionnaire, *, replying: bool
) -> tuple[Inbound | None, FormReading]:
    """A reply to our form becomes its answers; any other email is an opinion in the writer's own words.

    Answers the form reader is not sure of are not guessed: they stay in the reading, for staff.
    An email with neither answers nor words of its own is no contribution: None (the caller
    stores it as `empty` and sends nothing to the engine).
    """
    reading = read_form_reply(questionnaire, email.text) if replying else FormReading()
    inbound = Inbound(respondent, language=email.language, questionnaire=questionnaire.id)
    if reading.answers:
        return replace(inbound, form=tuple(reading.answers.items())), reading
    if not has_own_words(email.own_text):
        return None, reading
    return replace(inbound, opinion=email.own_text), reading


@dataclass(frozen=True, slots=True)
class MailReply:
    """What to send back: the body and why (`form`, `summary` or `closed`), and the subject to use
    when the resident's email had none."""

    purpose: str
    body: str
    subject: str = ""


def render_reply(
    replies: Sequence[Reply],
    reading: FormReading,
    questionnaire: Questionnaire,
    catalog: Catalog,
    language: Language,
    *,
    form_due: bool,
    contact: str,
) -> MailReply | None:
    """Words the answer to one email, or None when none is due; every one signed with `contact`.

    A form reply gets "this is how we recorded your answers", with what was not taken and why;
    an opinion gets the questionnaire as a numbered form (once per sender in a while).
    """
    signature = catalog("mail_signature", language, address=contact)
    subject = catalog("mail_subject", language)
    closed = next((reply for reply in replies if reply.kind is ReplyKind.CLOSED), None)
    if closed is not None:
        return MailReply("closed", f"{closed.text}\n\n{signature}", subject) if form_due else None
    examples = _examples(questionnaire, catalog, language)
    if not reading.answers:
        if not form_due:
            return None
        body = [
            catalog("mail_thanks", language),
            catalog("mail_form_intro", language) + examples,
            catalog("mail_privacy_below", language),
            render_form(questionnaire, catalog, language),
            questionnaire.privacy.full_notice(language, "email"),
            signature,
        ]
        return MailReply("form", "\n\n".join(body), subject)
    numbers = {question.code: n for n, question in enumerate(questionnaire.questions, start=1)}
    lines = [reply.text for reply in replies if reply.kind is ReplyKind.RECORDED]
    for reply in replies:
        question = questionnaire.question(reply.question or "") if reply.kind is ReplyKind.PROBLEM else None
        if question is not None:
            lines.append(f"{numbers[question.code]}. {question.label(language)}\n   → {reply.text}")
    unclear = catalog("mail_unclear", language)
    for number, written in sorted(reading.unclear.items()):
        label = questionnaire.questions[number - 1].label(language)
        lines.append(f"{number}. {label}\n   → {written} ({unclear})")
    lines.append(catalog("mail_correct", language) + examples)
    lines.append(signature)
    return MailReply("summary", "\n\n".join(lines), subject)


def _examples(questionnaire: Questionnaire, catalog: Catalog, language: Language) -> str:
    """The sentence of sample answers made from the questionnaire's own questions (after a space), or ""."""
    quoted = [catalog("mail_quote", language, text=example) for example in form_examples(questionnaire)]
    return " " + catalog("mail_form_examples", language, examples=", ".join(quoted)) if quoted else ""


def threading(
    email: ParsedEmail,
    domain: str,
    reference: int,
    default_subject: str = "",
    *,
    tag: str = "W",
    id_prefix: str = "wsp-",
) -> tuple[str, str, str | None, str | None]:
    """Our reply's subject (with the [W-n] reference, or `tag`'s), Message-ID, In-Reply-To and References.

    An email without a subject (or only "Re:") gets `default_subject` rather than "Re:  [W-12]".
    An application's reply is tagged [Z-n] and its Message-ID starts `wsp-z-`, so a reply to it is known.
    """
    if not _REPLY_PREFIX.sub("", email.subject).strip() and default_subject:
        subject = default_subject
    elif email.subject.lower().startswith(("re:", "odp:")):
        subject = email.subject
    else:
        subject = f"Re: {email.subject}"
    if not re.search(rf"\[{tag}-\d+\]", subject):
        subject = f"{subject} [{tag}-{reference}]".strip()
    references = " ".join([*email.references, email.message_id or ""]).strip() or None
    return subject, f"<{id_prefix}{uuid.uuid4().hex}@{domain}>", email.message_id, references

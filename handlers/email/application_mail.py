"""Applications to the working groups by email: which emails answer our application mail, the engine's
input made from one, and the acknowledgement we send back.

Pure functions, like replies.py: the reader (applications.py) says what an email applies for, the engine
records it by the form's own rules (the same as in Telegram and the web chat), and this module words
the answer — what we recorded, and a short numbered form for what is still missing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from handlers.definitions.application_form import DESCRIPTION, GROUPS, NAME, ORGANISATION, SECTOR
from handlers.definitions.i18n import LANGUAGES, Catalog, Language, Text
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType
from handlers.email.applications import ApplicationReading
from handlers.email.classify import has_own_words
from handlers.email.form import FormReading, render_form
from handlers.email.parse import ParsedEmail
from handlers.email.replies import MailReply
from handlers.engine.answers import AnswerValue
from handlers.engine.messages import APPLICATION, Action, Inbound, Reply, ReplyKind, RespondentRef

APPLICATION_REFERENCE = re.compile(r"\[Z-(\d+)\]")  # an application's reference in a subject
APPLICATION_MESSAGE_ID = "wsp-z-"  # the start of our application mail's Message-IDs


def answers_application_mail(email: ParsedEmail, domain: str) -> bool:
    """A reply to one of our application messages (by its Message-ID) or one quoting an application's reference."""
    ours = f"@{domain}>"
    threaded = any(
        ref.startswith(f"<{APPLICATION_MESSAGE_ID}") and ref.endswith(ours)
        for ref in (*email.references, email.in_reply_to or "")
    )
    return threaded or bool(APPLICATION_REFERENCE.search(email.subject))


CONSENT = "consent"  # the acknowledgement's last item: yes to the applicants' notice at its end


def with_consent(form: Questionnaire, catalog: Catalog) -> Questionnaire:
    """The form as our acknowledgement numbers it: its questions, then consent to the applicants' notice (an
    application rests on consent; in a chat it is the notice's own screen, in email this item)."""
    label = Text(**{language: catalog("mail_application_consent", language) for language in LANGUAGES})
    consent = Question(code=CONSENT, type=QuestionType.YES_NO, label=label, required=True)
    return form.model_copy(update={"questions": (*form.questions, consent)})


def application_inbound(
    email: ParsedEmail,
    reading: ApplicationReading,
    respondent: RespondentRef,
    form: Questionnaire,
    answered: FormReading,
    *,
    received_at: datetime | None,
) -> Inbound:
    """The engine's input from an application email: what the reader found, and what was written under our
    numbers (which wins); a withdrawal withdraws at once (our reply confirms it).

    The description is the writer's own words, cut at the form's stated limit (the email keeps it all);
    a reply that only answers our numbered questions leaves an earlier description as it was.
    """
    given = answered.answers.get(CONSENT)
    consent = given is not None and given.options == ["yes"]
    inbound = Inbound(
        respondent, language=email.language, questionnaire=APPLICATION, received_at=received_at, consent=consent
    )
    if reading.withdraws:
        return replace(inbound, action=Action.WITHDRAW, argument="yes")
    answers: dict[str, AnswerValue] = {}
    if reading.name:
        answers[NAME] = AnswerValue(text=reading.name)
    if reading.organisation:
        answers[ORGANISATION] = AnswerValue(text=reading.organisation)
    if reading.sector:
        answers[SECTOR] = AnswerValue(options=[reading.sector])
    if reading.groups:
        answers[GROUPS] = AnswerValue(options=list(reading.groups))
    question = form.question(DESCRIPTION)
    if question is not None and not answered.answers and has_own_words(reading.description):
        answers[DESCRIPTION] = AnswerValue(text=reading.description[: question.max_length].rstrip())
    answers.update((code, value) for code, value in answered.answers.items() if code != CONSENT)
    return replace(inbound, form=tuple((code, value) for code, value in answers.items() if form.question(code)))


def render_application_reply(
    replies: Sequence[Reply],
    form: Questionnaire,
    catalog: Catalog,
    language: Language,
    *,
    missing: Collection[str],
    decision_date: str,
    notice: str,
    contact: str,
) -> MailReply:
    """Words our one answer to an application email: a late note first when it came after the deadline,
    what we recorded, what the engine did not take and why, a numbered form for what is still missing
    (numbered as in the whole form, so the reply is read the same way), when decisions come, the
    applicants' privacy notice and our signature. A withdrawal gets its confirmation only."""
    signature = catalog("mail_signature", language, address=contact)
    if any(reply.kind is ReplyKind.GOODBYE for reply in replies):  # the engine's word after a withdrawal
        body = [catalog("mail_application_withdrawn", language), signature]
        return MailReply("application", "\n\n".join(body), catalog("mail_application_subject", language))
    numbers = {question.code: n for n, question in enumerate(form.questions, start=1)}
    body = [reply.text for reply in replies if reply.kind is ReplyKind.CLOSED]  # late: said first
    body.append(catalog("mail_application_thanks", language))
    recorded = [row for reply in replies if reply.kind is ReplyKind.RECORDED for row in reply.answers]
    body += [f"{label}\n   → {_indented(shown)}" for label, shown in recorded]
    for reply in replies:  # what was not taken, and why (what is missing is asked in the form below)
        question = form.question(reply.question or "") if reply.kind is ReplyKind.PROBLEM else None
        if question is not None and question.code not in missing:
            body.append(f"{numbers[question.code]}. {question.label(language)}\n   → {reply.text}")
    if missing:
        body += [
            catalog("mail_application_missing", language),
            render_form(form, catalog, language, only=missing, hints=True),
        ]
    else:
        body.append(catalog("mail_application_complete", language))
    body += [
        catalog("mail_application_decision", language, decision_date=decision_date),
        f"{catalog('mail_application_privacy', language)}\n{notice}",
        signature,
    ]
    return MailReply("application", "\n\n".join(body), catalog("mail_application_subject", language))


def _indented(text: str) -> str:
    """An answer of several lines kept under its arrow."""
    return "\n     ".join(line.strip() for line in text.splitlines() if line.strip())

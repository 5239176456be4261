"""The mailbox's intake: each email stored once with its raw bytes, sent through the engine, answered once.

Everything one batch of emails causes commits in one transaction: the emails, what the engine
recorded from them, our replies in the outbox and how far the mailbox has been read. A crash
before the commit leaves the batch to be read again; after it, a re-read email is recognised
(Message-ID and digest) and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default
from typing import Any, NamedTuple

from bot.group_mail import DECISION_ID
from bot.working_groups import WorkingGroups, working_groups
from handlers.definitions.application_form import long_day
from handlers.definitions.i18n import Catalog, Language, as_language
from handlers.definitions.questionnaire import Questionnaire, QuestionType
from handlers.definitions.recruitment import Recruitment
from handlers.email.application_mail import (
    APPLICATION_MESSAGE_ID,
    CONSENT,
    answers_application_mail,
    application_inbound,
    render_application_reply,
    with_consent,
)
from handlers.email.applications import ApplicationReading, read_application
from handlers.email.attendance import calendar_answer_subject, read_attendance
from handlers.email.calendar import calendar_replies
from handlers.email.classify import MailKind, Verdict, classify
from handlers.email.form import FormReading, read_form_reply
from handlers.email.parse import ParsedEmail, parse_email
from handlers.email.replies import (
    answers_us,
    inbound_from_email,
    other_reply_to,
    render_reply,
    reply_address,
    threading,
    unanswerable,
)
from handlers.engine.application import Call
from handlers.engine.conversation import Conversation
from handlers.engine.messages import Inbound, Reply, RespondentRef
from storage.applications import applications_by_address, applications_of
from storage.emails import ReceivedEmail, link_emails, store_emails
from storage.models import Submission
from storage.outbox import QueuedMail, mailed_since, queue_mail
from storage.repository import Store, Unit
from storage.selection import Attendance

CHANNEL = "email"


@dataclass(frozen=True, slots=True)
class MailPolicy:
    """The mailbox's identity and manners."""

    address: str  # the programme's address (From of our replies)
    domain: str  # our Message-IDs end with @domain, so replies to us are recognised
    reply_window: timedelta = timedelta(days=7)  # one form per sender in this window
    max_bytes: int = 256 * 1024


class Delivered(NamedTuple):
    """One email as the mailbox hands it over: its source, its UID, and when our mailbox received it."""

    raw: bytes
    uid: int | None = None
    arrived: datetime | None = None  # the IMAP INTERNALDATE; None where the server gave none


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """What became of one email."""

    email_id: int | None  # None: seen before, nothing done
    verdict: Verdict
    submission_id: int | None = None
    answers: list[str] = field(default_factory=list)  # question codes recorded from a form reply
    queued: str | None = None  # "form", "summary" or "closed" when a reply was queued


@dataclass(frozen=True, slots=True)
class SeatAnswer:
    """What an email says to a seat's offer: yes, no, or nothing we can read (None: kept for staff)."""

    attendance: Attendance | None
    uid: str | None  # the invitation a calendar reply answers


def _has_calendar(raw: bytes) -> bool:
    head = raw[:200_000].lower()
    return b"text/calendar" in head or b"application/ics" in head or b".ics" in head


class Mailroom:
    """Receives emails exactly once and hands people's ones to the engine, like any other channel's input."""

    def __init__(
        self,
        store: Store,
        conversation: Conversation,
        questionnaire: Questionnaire,
        catalog: Catalog,
        policy: MailPolicy,
        respondent_of: Callable[[str], RespondentRef],
        recruitment: Recruitment | None = None,
        groups: WorkingGroups | None = None,
    ) -> None:
        self.store = store
        self.groups = groups  # the working groups after the draw: seats' answers by email
        self.recruitment = recruitment  # the call for working-group applications; None: applications are off
        self._consent_form: tuple[Questionnaire, Questionnaire] | None = None
        self.conversation = conversation
        self.questionnaire = questionnaire
        self.catalog = catalog
        self.policy = policy
        self.respondent_of = respondent_of

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.conversation.clock

    async def receive(
        self,
        raw: bytes,
        *,
        folder: str | None = None,
        uidvalidity: int | None = None,
        uid: int | None = None,
        arrived: datetime | None = None,
    ) -> MailOutcome:
        """Handles one raw email in one transaction; an email seen before changes nothing."""
        [outcome] = await self.receive_many([(raw, uid, arrived)], folder=folder, uidvalidity=uidvalidity)
        return outcome

    async def receive_many(
        self,
        items: Sequence[tuple[bytes, int | None] | tuple[bytes, int | None, datetime | None]],
        *,
        folder: str | None = None,
        uidvalidity: int | None = None,
        then: Callable[[Unit], Awaitable[None]] | None = None,
    ) -> list[MailOutcome]:
        """Handles a batch of raw emails (with their UIDs, and when our mailbox received each: the IMAP
        INTERNALDATE) in one transaction.

        Parsing runs in a worker thread, so a batch of big emails does not stall the other
        channels. `then` adds more work to the same transaction (the reader's position).
        """
        delivered = [Delivered(*item) for item in items]
        parsed = await asyncio.to_thread(
            lambda: [parse_email(item.raw, max_bytes=self.policy.max_bytes) for item in delivered]
        )
        verdicts = [self._classify(email) for email in parsed]
        answers = {i: found for i, item in enumerate(delivered) if (found := self._seat_answer(item.raw, parsed[i]))}
        for i, answer in answers.items():
            verdicts[i] = Verdict(MailKind.ATTENDANCE if answer.attendance else MailKind.FOR_STAFF)
        now = self.clock()
        async with self.store.unit() as unit:
            received = [
                self._received(item, email, verdict, folder, uidvalidity)
                for item, email, verdict in zip(delivered, parsed, verdicts, strict=True)
            ]
            ids = await store_emails(unit, received, now)
            outcomes = [MailOutcome(email_id, verdict) for email_id, verdict in zip(ids, verdicts, strict=True)]
            people = [
                i
                for i, (email_id, email, verdict) in enumerate(zip(ids, parsed, verdicts, strict=True))
                if email_id is not None and verdict.answerable and email.from_address
            ]
            people = [i for i in people if i not in answers]
            for i, answer in answers.items():
                if ids[i] is not None and answer.attendance is not None and self.groups is not None:
                    await self._record_seat_answer(unit, parsed[i], answer)
            if people:
                await self._from_people(unit, people, ids, parsed, received, outcomes, now)
            if then is not None:
                await then(unit)
        return outcomes

    def _seat_answer(self, raw: bytes, email: ParsedEmail) -> SeatAnswer | None:
        """A working-group seat's answer: a calendar reply to our invitation, a mail client's "Accepted: …", or a
        reply to a decision or reminder of ours (`tak, będę`, `niestety nie mogę`, or else something for staff).
        None for everything else (and always while the working groups are off)."""
        if self.groups is None or not email.from_address:
            return None
        replies = calendar_replies(message_from_bytes(raw, policy=default)) if _has_calendar(raw) else []
        ours = f"@{self.policy.domain}>"
        threaded = any(
            ref.startswith(f"<{DECISION_ID}") and ref.endswith(ours)
            for ref in (*email.references, email.in_reply_to or "")
        )
        if replies:
            whole = [reply for reply in replies if reply.recurrence_id is None]
            if not whole:  # an answer about one meeting of the series (Outlook can decline one): for staff
                return SeatAnswer(None, replies[0].uid)
            reply = whole[0]
            partstat = reply.partstat.upper()
            attendance = {"ACCEPTED": Attendance.CONFIRMED, "DECLINED": Attendance.DECLINED}.get(partstat)
            return SeatAnswer(attendance, reply.uid)
        read = read_attendance(email.subject, email.own_text)
        if read is not None and (threaded or calendar_answer_subject(email.subject)):
            return SeatAnswer(Attendance(read.value), None)
        return SeatAnswer(None, None) if threaded else None

    async def _record_seat_answer(self, unit: Unit, email: ParsedEmail, answer: SeatAnswer) -> None:
        """Records the answer for the sender's seat: the application with this address, or of this sender."""
        assert self.groups is not None and answer.attendance is not None and email.from_address
        address = email.from_address.lower()
        sender = await unit.find_respondent(CHANNEL, self.respondent_of(address).pseudonym)
        ids = await applications_by_address(unit, address, sender.id if sender is not None else None)
        await self.groups.answer_in(unit, answer.attendance, application_ids=ids, uid=answer.uid)

    def _classify(self, email: ParsedEmail) -> Verdict:
        """Only a person's own words are answered: automatic mail, spam, spoofs, recalls and empty
        emails are stored with the reason, and nothing else happens."""
        verdict = classify(
            email.headers,
            content_type=email.content_type,
            from_address=email.from_address,
            subject=email.subject,
            own_addresses=frozenset({self.policy.address.lower()}),
            own_domain=self.policy.domain,
            from_name=email.from_name,
            text=email.text,
            own_text=email.own_text,
        )
        if (
            verdict.kind is MailKind.EMPTY
            and answers_us(email, self.policy.domain)
            and read_form_reply(self.questionnaire, email.text).answers
        ):
            return Verdict(MailKind.OPINION)  # answers written among the quoted questions are their own words
        return verdict

    def _received(
        self,
        item: Delivered,
        email: ParsedEmail,
        verdict: Verdict,
        folder: str | None,
        uidvalidity: int | None,
    ) -> ReceivedEmail:
        raw = item.raw
        return ReceivedEmail(
            raw=raw[: self.policy.max_bytes],
            message_id=email.message_id or "",
            digest=email.digest,
            size=len(raw),
            truncated=email.truncated,
            kind=verdict.kind.value,
            subject=email.subject,
            language=email.language,
            reason=verdict.reason,
            text=email.text,
            own_text=email.own_text,
            reply_to=other_reply_to(email),
            from_hash=self.respondent_of(email.from_address).pseudonym if email.from_address else None,
            attachments=[{"name": a.name, "type": a.type, "size": a.size} for a in email.attachments],
            folder=folder,
            uidvalidity=uidvalidity,
            uid=item.uid,
            arrived=item.arrived,
        )

    async def _from_people(
        self,
        unit: Unit,
        people: list[int],
        ids: list[int | None],
        parsed: list[ParsedEmail],
        received: list[ReceivedEmail],
        outcomes: list[MailOutcome],
        now: datetime,
    ) -> None:
        """Sends people's emails through the engine, then links them and queues one reply each where due.

        An application to the working groups (its words, or a reply to our application mail) goes to the
        call's form and gets its acknowledgement; every other email is the consultation's.
        """
        refs = {i: self.respondent_of(reply_address(parsed[i])) for i in people}
        readings: dict[int, FormReading] = {}
        inbounds: dict[int, Inbound] = {}
        applying: dict[int, ApplicationReading] = {}
        call = self.conversation.call
        for i in people:
            application = self._application(parsed[i], outcomes[i].verdict)
            if application is not None and call is not None:
                applying[i], readings[i] = application
                inbounds[i] = application_inbound(
                    parsed[i], applying[i], refs[i], call.questionnaire, readings[i], received_at=received[i].arrived
                )
                continue
            inbound, readings[i] = inbound_from_email(
                parsed[i], refs[i], self.questionnaire, replying=answers_us(parsed[i], self.policy.domain)
            )
            if inbound is not None:  # classify() already kept emails without own words out; never an empty opinion
                inbounds[i] = inbound
        people = list(inbounds)
        if not people:
            return
        replies = dict(zip(people, await self.conversation.handle_within(unit, list(inbounds.values())), strict=True))
        await unit.flush()
        form = call.questionnaire.id if call is not None else ""
        keys = {i: (CHANNEL, refs[i].pseudonym, form if i in applying else self.questionnaire.id) for i in people}
        submissions = await unit.latest_submissions(list(set(keys.values())), with_answers=bool(applying))
        mailed = await mailed_since(unit, [reply_address(parsed[i]) for i in people], now - self.policy.reply_window)
        applicants = [found.respondent_id for i in applying if (found := submissions.get(keys[i])) is not None]
        applications = await applications_of(unit, applicants)
        links: list[tuple[int, int, int | None, str | None]] = []
        for i in people:
            email, submission, reading, shown = parsed[i], submissions.get(keys[i]), readings[i], replies[i]
            email_id = ids[i]
            assert email_id is not None
            if i in applying and call is not None:
                held = applications.get(submission.respondent_id) if submission is not None else None
                reference = held.id if held is not None else email_id
                outcomes[i] = self._acknowledge(unit, call, email, email_id, reference, submission, shown, now)
                if submission is not None:
                    links.append((email_id, submission.respondent_id, submission.id, MailKind.APPLICATION.value))
                continue
            form_reply = bool(reading.answers) and submission is not None
            verdict = Verdict(MailKind.FORM_REPLY) if form_reply else outcomes[i].verdict
            answers = list(reading.answers) if form_reply else []
            if submission is not None:
                kind = MailKind.FORM_REPLY.value if form_reply else None
                links.append((email_id, submission.respondent_id, submission.id, kind))
            # Nothing recorded (the questionnaire is closed): a word on that, once in a while, is all.
            address = reply_address(email)
            language = shown[-1].language if shown else as_language(email.language) or "pl"
            due = address.lower() not in mailed
            reply = render_reply(
                shown, reading, self.questionnaire, self.catalog, language, form_due=due, contact=self.policy.address
            )
            if reply is None:
                outcomes[i] = MailOutcome(email_id, verdict, submission.id if submission else None, answers)
                continue
            if reply.purpose != "summary":
                mailed.add(address.lower())  # a second email of theirs in this batch gets no second form
            reference = submission.id if submission is not None else email_id
            threaded = threading(email, self.policy.domain, reference, default_subject=reply.subject)
            subject, message_id, in_reply_to, references = threaded
            mail = QueuedMail(
                to_address=address,
                message_id=message_id,
                subject=subject,
                body=reply.body,
                purpose=reply.purpose,
                respondent_id=submission.respondent_id if submission else None,
                in_reply_to=in_reply_to,
                references=references,
            )
            queue_mail(unit, mail, now)
            outcomes[i] = MailOutcome(email_id, verdict, submission.id if submission else None, answers, reply.purpose)
        await link_emails(unit, links)

    def _acknowledged_form(self, call: Call) -> Questionnaire:
        """The call's form as our acknowledgement numbers it (consent last), made once."""
        if self._consent_form is None or self._consent_form[0] is not call.questionnaire:
            self._consent_form = (call.questionnaire, with_consent(call.questionnaire, self.catalog))
        return self._consent_form[1]

    def _application(self, email: ParsedEmail, verdict: Verdict) -> tuple[ApplicationReading, FormReading] | None:
        """What an email applies for, when it is an application (or a reply to our application mail)."""
        call = self.conversation.call
        if self.recruitment is None or call is None:
            return None
        ours = answers_application_mail(email, self.policy.domain)
        reading = read_application(email, self.recruitment, answers_our_application_mail=ours, verdict=verdict)
        if not (reading.applies or ours):
            return None
        form = self._acknowledged_form(call)
        return reading, read_form_reply(form, email.text) if ours else FormReading()

    def _acknowledge(
        self,
        unit: Unit,
        call: Call,
        email: ParsedEmail,
        email_id: int,
        reference: int,
        submission: Submission | None,
        shown: list[Reply],
        now: datetime,
    ) -> MailOutcome:
        """Queues our one answer to an application email (`[Z-reference]`): what we recorded and a form for
        what is missing."""
        form = call.questionnaire
        language: Language = shown[-1].language if shown else as_language(email.language) or "pl"
        given = submission.answers if submission is not None else {}
        missing = [
            q.code for q in form.questions if q.required and q.code not in given and q.type is not QuestionType.EMAIL
        ]
        if submission is None or submission.privacy_version is None:
            missing.append(CONSENT)  # asked last, under the form's own numbers
        reply = render_application_reply(
            shown,
            self._acknowledged_form(call),
            self.catalog,
            language,
            missing=missing,
            decision_date=long_day(call.decision_date, language),
            notice=form.privacy.full_notice(language, CHANNEL),
            contact=self.policy.address,
        )
        verdict = Verdict(MailKind.APPLICATION)
        recorded = submission.id if submission is not None else None
        if unanswerable(reply_address(email)):  # a form relay's noreply@: kept for staff, never mailed
            return MailOutcome(email_id, verdict, recorded, sorted(given))
        subject, message_id, in_reply_to, references = threading(
            email,
            self.policy.domain,
            reference,
            default_subject=reply.subject,
            tag="Z",
            id_prefix=APPLICATION_MESSAGE_ID,
        )
        mail = QueuedMail(
            to_address=reply_address(email),
            message_id=message_id,
            subject=subject,
            body=reply.body,
            purpose=reply.purpose,
            respondent_id=submission.respondent_id if submission is not None else None,
            in_reply_to=in_reply_to,
            references=references,
        )
        queue_mail(unit, mail, now)
        return MailOutcome(email_id, verdict, recorded, sorted(given), reply.purpose)


def build_mailroom(service: Any) -> Mailroom:
    """The mailroom for the service's default questionnaire and settings."""
    settings = service.settings
    conversation: Conversation = service.conversation
    policy = MailPolicy(
        address=settings.mail_from,
        domain=settings.mail_domain,
        reply_window=timedelta(days=settings.mail_reply_window_days),
        max_bytes=settings.mail_max_bytes,
    )
    return Mailroom(
        service.store,
        conversation,
        conversation.questionnaires[conversation.default_questionnaire],
        service.config.catalog,
        policy,
        lambda address: service.respondent(CHANNEL, address.lower(), address),
        service.config.recruitment,
        working_groups(service),
    )

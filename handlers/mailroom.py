"""Emails into stored opinions, answers from the emailed form, and one polite reply per sender."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handlers.answers import describe_answer
from handlers.email_classify import MailKind, Verdict, classify
from handlers.email_form import read_form_reply, render_form
from handlers.email_parse import ParsedEmail, parse_email
from handlers.i18n import Catalog
from handlers.messages import RespondentRef
from handlers.questionnaire import Questionnaire
from storage.models import Email, OutboxMessage, Status, Step, Submission
from storage.repository import AnswerValue, Store, Unit

REFERENCE = re.compile(r"\[W-(\d+)\]")


@dataclass(frozen=True, slots=True)
class MailPolicy:
    """The mailbox's identity and manners."""

    address: str  # the programme's address (From of our replies)
    domain: str  # our Message-IDs end with @domain, so replies to us are recognised
    reply_window: timedelta = timedelta(days=7)  # one form per sender in this window
    max_bytes: int = 256 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one email."""

    email_id: int | None  # None: seen before, nothing done
    verdict: Verdict
    submission_id: int | None = None
    answers: list[str] = field(default_factory=list)  # question codes recorded from a form reply
    queued: str | None = None  # "form" or "summary" when a reply was queued


class Mailroom:
    """Receives emails exactly once: stores, classifies, records answers and queues the reply together."""

    def __init__(
        self,
        store: Store,
        questionnaire: Questionnaire,
        catalog: Catalog,
        policy: MailPolicy,
        respondent_of: Callable[[str], RespondentRef],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.questionnaire = questionnaire
        self.catalog = catalog
        self.policy = policy
        self.respondent_of = respondent_of
        self.clock = clock

    async def receive(
        self, raw: bytes, *, folder: str | None = None, uidvalidity: int | None = None, uid: int | None = None
    ) -> Received:
        """Handles one raw email in one transaction; a message seen before changes nothing."""
        [outcome] = await self.receive_many([(raw, uid)], folder=folder, uidvalidity=uidvalidity)
        return outcome

    async def receive_many(
        self,
        items: Sequence[tuple[bytes, int | None]],
        *,
        folder: str | None = None,
        uidvalidity: int | None = None,
        then: Callable[[Unit], Awaitable[None]] | None = None,
    ) -> list[Received]:
        """Handles a batch of raw emails (with their UIDs) in one transaction.

        Parsing runs in a worker thread, so a batch of big emails does not stall the other
        channels. `then` adds more work to the same transaction (the reader's position).
        """
        parsed = await asyncio.to_thread(
            lambda: [parse_email(raw, max_bytes=self.policy.max_bytes) for raw, _ in items]
        )
        now = self.clock()
        outcomes = []
        async with self.store.unit() as unit:
            for (raw, uid), email in zip(items, parsed, strict=True):
                verdict = classify(
                    email.headers,
                    content_type=email.content_type,
                    from_address=email.from_address,
                    subject=email.subject,
                    own_addresses=frozenset({self.policy.address.lower()}),
                    own_domain=self.policy.domain,
                )
                email_id = await self._store(unit, raw, email, verdict, now, folder, uidvalidity, uid)
                if email_id is None:
                    outcomes.append(Received(None, verdict))
                elif verdict.automatic or not email.from_address:
                    outcomes.append(Received(email_id, verdict))
                else:
                    outcomes.append(await self._from_person(unit, email_id, email, verdict, now))
            if then is not None:
                await then(unit)
        return outcomes

    async def _store(
        self,
        unit: Unit,
        raw: bytes,
        parsed: ParsedEmail,
        verdict: Verdict,
        now: datetime,
        folder: str | None,
        uidvalidity: int | None,
        uid: int | None,
    ) -> int | None:
        insert = pg_insert if unit.dialect == "postgresql" else sqlite_insert
        sender = self.respondent_of(parsed.from_address).pseudonym if parsed.from_address else None
        kept = raw[: self.policy.max_bytes]
        statement = (
            insert(Email)
            .values(
                message_id=parsed.message_id or "",
                digest=parsed.digest,
                raw=kept,
                size=len(raw),
                truncated=parsed.truncated,
                folder=folder,
                uidvalidity=uidvalidity,
                uid=uid,
                from_hash=sender,
                subject=parsed.subject,
                language=parsed.language,
                kind=verdict.kind.value,
                reason=verdict.reason,
                text=parsed.text,
                own_text=parsed.own_text,
                attachments=[{"name": a.name, "type": a.type, "size": a.size} for a in parsed.attachments],
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["message_id", "digest"])
            .returning(Email.id)
        )
        return (await unit.session.execute(statement)).scalar_one_or_none()

    async def _from_person(
        self, unit: Unit, email_id: int, parsed: ParsedEmail, verdict: Verdict, now: datetime
    ) -> Received:
        assert parsed.from_address is not None
        ref = self.respondent_of(parsed.reply_to or parsed.from_address)
        respondent_id = await unit.respondent_id(ref.channel, ref.pseudonym, now)
        await unit.upsert_contact(respondent_id, parsed.reply_to or parsed.from_address, now)
        reading = read_form_reply(self.questionnaire, parsed.text) if self._answers_us(parsed) else None
        submission = await unit.latest_submission(
            ref.channel, ref.pseudonym, self.questionnaire.id, with_answers=bool(reading and reading.answers)
        )
        if submission is None:
            submission = Submission(
                respondent_id=respondent_id,
                questionnaire_id=self.questionnaire.id,
                questionnaire_version=self.questionnaire.version,
                channel=ref.channel,
                language=parsed.language,
                status=Status.ACTIVE,
                step=Step.SUMMARY,
                editing=False,
                event_known=False,
                started_at=now,
                updated_at=now,
                answers={},
            )
            unit.add(submission)
            await unit.flush()
        await unit.session.execute(
            update(Email).where(Email.id == email_id).values(respondent_id=respondent_id, submission_id=submission.id)
        )
        if reading is not None and reading.answers:
            # They replied to our mail, which carried the privacy notice: that is their consent.
            submission.privacy_version = submission.privacy_version or self.questionnaire.privacy.version
            for code, value in reading.answers.items():
                unit.save_answer(submission, code, value, now)
            submission.updated_at = now
            await unit.session.execute(update(Email).where(Email.id == email_id).values(kind=MailKind.FORM_REPLY.value))
            summary = self._summary(parsed, submission, list(reading.answers), reading.unclear)
            unit.add(summary)
            return Received(email_id, Verdict(MailKind.FORM_REPLY), submission.id, list(reading.answers), "summary")
        if await self._replied_recently(unit, respondent_id, now):
            return Received(email_id, verdict, submission.id)
        unit.add(self._form(parsed, submission))
        return Received(email_id, verdict, submission.id, queued="form")

    def _answers_us(self, parsed: ParsedEmail) -> bool:
        """A reply to one of our messages, or one that quotes our form back."""
        ours = f"@{self.policy.domain}>"
        threaded = any(ref.endswith(ours) for ref in (*parsed.references, parsed.in_reply_to or ""))
        return threaded or bool(REFERENCE.search(parsed.subject))

    async def _replied_recently(self, unit: Unit, respondent_id: int, now: datetime) -> bool:
        since = now - self.policy.reply_window
        count = await unit.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.respondent_id == respondent_id, OutboxMessage.created_at >= since)
        )
        return bool(count)

    def _message(self, parsed: ParsedEmail, submission: Submission, purpose: str, body: str) -> OutboxMessage:
        now = self.clock()
        subject = parsed.subject if parsed.subject.lower().startswith(("re:", "odp:")) else f"Re: {parsed.subject}"
        if not REFERENCE.search(subject):
            subject = f"{subject} [W-{submission.id}]".strip()
        references = " ".join([*parsed.references, parsed.message_id or ""]).strip() or None
        return OutboxMessage(
            respondent_id=submission.respondent_id,
            to_address=parsed.reply_to or parsed.from_address or "",
            message_id=f"<wsp-{uuid.uuid4().hex}@{self.policy.domain}>",
            subject=subject,
            body=body,
            in_reply_to=parsed.message_id,
            references=references,
            purpose=purpose,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )

    def _form(self, parsed: ParsedEmail, submission: Submission) -> OutboxMessage:
        language = parsed.language
        q = self.questionnaire
        body = "\n\n".join(
            [
                self.catalog("mail_thanks", language),
                self.catalog("mail_form_intro", language),
                render_form(q, self.catalog, language),
                f"{q.title(language)}\n{q.privacy.text(language)}",
            ]
        )
        return self._message(parsed, submission, "form", body)

    def _summary(
        self, parsed: ParsedEmail, submission: Submission, codes: list[str], unclear: dict[int, str]
    ) -> OutboxMessage:
        language = parsed.language
        lines = [self.catalog("mail_recorded", language)]
        for number, question in enumerate(self.questionnaire.questions, start=1):
            row = submission.answers.get(question.code)
            if question.code in codes and row is not None:
                value = AnswerValue(options=row.options, text=row.text, number=row.number, skipped=row.skipped)
                shown = describe_answer(question, value, self.catalog, language)
                lines.append(f"{number}. {question.label(language)}\n   → {shown}")
            elif number in unclear:
                note = self.catalog("mail_unclear", language)
                lines.append(f"{number}. {question.label(language)}\n   → {unclear[number]} ({note})")
        lines.append(self.catalog("mail_correct", language))
        return self._message(parsed, submission, "summary", "\n\n".join(lines))

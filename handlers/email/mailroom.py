"""Emails into stored opinions, answers from the emailed form, and one polite reply per sender."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handlers.definitions.i18n import Catalog
from handlers.definitions.questionnaire import Questionnaire
from handlers.email.classify import MailKind, Verdict, classify
from handlers.email.form import read_form_reply, render_form
from handlers.email.parse import ParsedEmail, parse_email
from handlers.engine.answers import describe_answer
from handlers.engine.messages import RespondentRef
from storage.models import Email, OutboxMessage, Status, Step, Submission
from storage.repository import AnswerValue, Store, Unit

REFERENCE = re.compile(r"\[W-(\d+)\]")


def _address(parsed: ParsedEmail) -> str:
    """Where to answer: Reply-To when given, else From."""
    return parsed.reply_to or parsed.from_address or ""


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
        verdicts = [self._classify(email) for email in parsed]
        async with self.store.unit() as unit:
            ids = await self._store_all(unit, items, parsed, verdicts, now, folder, uidvalidity)
            outcomes = [Received(email_id, verdict) for email_id, verdict in zip(ids, verdicts, strict=True)]
            people = [
                i
                for i, (email_id, email, verdict) in enumerate(zip(ids, parsed, verdicts, strict=True))
                if email_id is not None and not verdict.automatic and email.from_address
            ]
            if people:
                await self._from_people(unit, people, ids, parsed, outcomes, now)
            if then is not None:
                await then(unit)
        return outcomes

    def _classify(self, email: ParsedEmail) -> Verdict:
        return classify(
            email.headers,
            content_type=email.content_type,
            from_address=email.from_address,
            subject=email.subject,
            own_addresses=frozenset({self.policy.address.lower()}),
            own_domain=self.policy.domain,
        )

    async def _store_all(
        self,
        unit: Unit,
        items: Sequence[tuple[bytes, int | None]],
        parsed: list[ParsedEmail],
        verdicts: list[Verdict],
        now: datetime,
        folder: str | None,
        uidvalidity: int | None,
    ) -> list[int | None]:
        """Inserts the batch in one statement; a message stored before (or twice in it) gets None."""
        insert = pg_insert if unit.dialect == "postgresql" else sqlite_insert
        rows = []
        for (raw, uid), email, verdict in zip(items, parsed, verdicts, strict=True):
            sender = self.respondent_of(email.from_address).pseudonym if email.from_address else None
            rows.append(
                {
                    "message_id": email.message_id or "",
                    "digest": email.digest,
                    "raw": raw[: self.policy.max_bytes],
                    "size": len(raw),
                    "truncated": email.truncated,
                    "folder": folder,
                    "uidvalidity": uidvalidity,
                    "uid": uid,
                    "from_hash": sender,
                    "subject": email.subject,
                    "language": email.language,
                    "kind": verdict.kind.value,
                    "reason": verdict.reason,
                    "text": email.text,
                    "own_text": email.own_text,
                    "attachments": [{"name": a.name, "type": a.type, "size": a.size} for a in email.attachments],
                    "received_at": now,
                }
            )
        statement = (
            insert(Email)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["message_id", "digest"])
            .returning(Email.message_id, Email.digest, Email.id)
        )
        new = {(message_id, digest): email_id for message_id, digest, email_id in await unit.session.execute(statement)}
        # A second copy within the batch finds its key taken by the first: None, like one stored before.
        return [new.pop((str(row["message_id"]), str(row["digest"])), None) for row in rows]

    async def _from_people(
        self,
        unit: Unit,
        people: list[int],
        ids: list[int | None],
        parsed: list[ParsedEmail],
        outcomes: list[Received],
        now: datetime,
    ) -> None:
        """Links people's emails to submissions, records form answers and queues replies, in few statements."""
        refs = {i: self.respondent_of(_address(parsed[i])) for i in people}
        respondent_ids = await unit.respondent_ids([(ref.channel, ref.pseudonym) for ref in refs.values()], now)
        await unit.upsert_contacts({respondent_ids[refs[i].pseudonym]: _address(parsed[i]) for i in people}, now)
        readings = {}
        for i in people:
            if self._answers_us(parsed[i]):
                form = read_form_reply(self.questionnaire, parsed[i].text)
                if form.answers:
                    readings[i] = form
        keys = {i: (ref.channel, ref.pseudonym, self.questionnaire.id) for i, ref in refs.items()}
        plain_keys = [keys[i] for i in people if i not in readings]
        submissions = await unit.latest_submissions(plain_keys, with_answers=False)
        submissions |= await unit.latest_submissions([keys[i] for i in readings], with_answers=True)
        replied = await self._replied_recently(unit, list(respondent_ids.values()), now)
        for i in people:
            if keys[i] not in submissions:
                submissions[keys[i]] = self._new_submission(respondent_ids[refs[i].pseudonym], parsed[i], now)
                unit.add(submissions[keys[i]])
        await unit.flush()
        links: dict[str, list[dict[str, object]]] = {"plain": [], "form": []}
        for i in people:
            email, submission = parsed[i], submissions[keys[i]]
            respondent_id = respondent_ids[refs[i].pseudonym]
            link: dict[str, object] = {"id": ids[i], "respondent_id": respondent_id, "submission_id": submission.id}
            if (reading := readings.get(i)) is not None:
                # They replied to our mail, which carried the privacy notice: that is their consent.
                submission.privacy_version = submission.privacy_version or self.questionnaire.privacy.version
                for code, value in reading.answers.items():
                    unit.save_answer(submission, code, value, now)
                submission.updated_at = now
                links["form"].append({**link, "kind": MailKind.FORM_REPLY.value})
                unit.add(self._summary(email, submission, list(reading.answers), reading.unclear))
                answered = list(reading.answers)
                outcomes[i] = Received(ids[i], Verdict(MailKind.FORM_REPLY), submission.id, answered, "summary")
                continue
            links["plain"].append(link)
            if respondent_id in replied:
                outcomes[i] = Received(ids[i], outcomes[i].verdict, submission.id)
                continue
            replied.add(respondent_id)  # a second email of theirs in this batch gets no second form
            unit.add(self._form(email, submission))
            outcomes[i] = Received(ids[i], outcomes[i].verdict, submission.id, queued="form")
        for rows in links.values():
            if rows:  # an UPDATE by primary key for many rows at once
                await unit.session.execute(update(Email), rows)

    def _new_submission(self, respondent_id: int, parsed: ParsedEmail, now: datetime) -> Submission:
        return Submission(
            respondent_id=respondent_id,
            questionnaire_id=self.questionnaire.id,
            questionnaire_version=self.questionnaire.version,
            channel="email",
            language=parsed.language,
            status=Status.ACTIVE,
            step=Step.SUMMARY,
            editing=False,
            event_known=False,
            started_at=now,
            updated_at=now,
            answers={},
        )

    def _answers_us(self, parsed: ParsedEmail) -> bool:
        """A reply to one of our messages, or one that quotes our form back."""
        ours = f"@{self.policy.domain}>"
        threaded = any(ref.endswith(ours) for ref in (*parsed.references, parsed.in_reply_to or ""))
        return threaded or bool(REFERENCE.search(parsed.subject))

    async def _replied_recently(self, unit: Unit, respondent_ids: list[int], now: datetime) -> set[int]:
        since = now - self.policy.reply_window
        rows = await unit.session.scalars(
            select(OutboxMessage.respondent_id)
            .where(OutboxMessage.respondent_id.in_(respondent_ids), OutboxMessage.created_at >= since)
            .distinct()
        )
        return {respondent_id for respondent_id in rows if respondent_id is not None}

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

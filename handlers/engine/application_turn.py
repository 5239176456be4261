"""An application to the working groups, walked like a questionnaire: the email address confirmed by a code
mailed to it before the next question, the application recorded beside the answers when the summary is
confirmed (and again when a completed one is corrected), withdrawn after one confirmation, and what the
call still answers once it is closed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from handlers.definitions.events import Event
from handlers.definitions.questionnaire import Question, Questionnaire
from handlers.engine.answers import Rejection, check_value, clean_text
from handlers.engine.application import (
    MAX_CODES,
    MAX_WRONG,
    Call,
    application_fields,
    code_digest,
    code_expired,
    code_mail,
    code_matches,
    new_code,
    read_code,
)
from handlers.engine.messages import Action, Inbound, Reply, ReplyKind, parse_command
from handlers.engine.presenter import Presenter
from handlers.engine.states import Status, Step
from handlers.engine.turn import Turn
from storage.applications import record_application, withdraw_application
from storage.outbox import queue_mail
from storage.repository import AnswerValue, Unit
from storage.verification import drop_verification, find_verification, issue_code

# What an application still answers once the call is closed: nothing is applied to it by these.
_ALWAYS_ANSWERED = frozenset(
    {Action.HELP, Action.LANGUAGE, Action.PRIVACY, Action.EVENTS, Action.MYDATA, Action.FORGET, Action.WITHDRAW}
)


class ApplicationTurn(Turn):
    """One input applied to an application's submission, inside one transaction."""

    def __init__(
        self,
        unit: Unit,
        inbound: Inbound,
        *,
        questionnaire: Questionnaire,
        presenter: Presenter,
        events: Mapping[str, Event],
        now: datetime,
        call: Call,
    ) -> None:
        super().__init__(unit, inbound, questionnaire=questionnaire, presenter=presenter, events=events, now=now)
        self.call = call

    # -- the call's dates ----------------------------------------------------------------------

    def _answered_when_closed(self) -> bool:
        """Once closed, its notice, erasure and withdrawal still answer, and an email received after the
        deadline is still recorded (as late); before it opens, nothing is."""
        inbound = self.inbound
        if inbound.opinion is not None or inbound.form:
            opens = self.questionnaire.opens
            return opens is None or (inbound.received_at or self.now) >= opens
        action = inbound.action
        if action is None and inbound.text is not None:
            command = parse_command(clean_text(inbound.text))
            action = command[0] if command is not None else None
        return action in _ALWAYS_ANSWERED

    def _closed(self, now: datetime, *, late: bool = False) -> Reply:
        return self.presenter.closed(self.questionnaire, self.language, now, late=late, decided=self.call.decision_date)

    # -- an application written in one go (an email) -------------------------------------------

    async def _written_from(self) -> None:
        """An emailed application: the address it came from is the one we answer, so it is the verified one."""
        ref = self.inbound.respondent
        email = next((q for q in self.questionnaire.questions if q.verified), None)
        if email is not None and ref.channel == "email" and ref.address:
            checked = check_value(email, AnswerValue(text=ref.address))
            if not isinstance(checked, Rejection):
                self._save(email.code, checked)

    def _written_notice(self) -> None:
        """An application rests on consent: the notice's version is kept once the writer says yes to it."""
        sub = self.submission
        assert sub is not None
        if self.inbound.consent:
            sub.privacy_version = sub.privacy_version or self.questionnaire.privacy.version

    def _written_completes(self, recorded: list[Question], missing: list[Question]) -> bool:
        # A description alone is not yet an application, nor one without the writer's consent.
        sub = self.submission
        return not missing and sub is not None and sub.privacy_version is not None

    async def _settle_written(self, replies: list[Reply], *, recorded: bool, missing: bool) -> list[Reply]:
        """Records what the email gave (late when our mailbox received it after the deadline)."""
        if not recorded:
            return replies
        received = self.inbound.received_at or self.now
        consented = self.submission is not None and self.submission.privacy_version is not None
        await self._record(received, complete=not missing and consented, verified=True)
        closes = self.questionnaire.closes
        return [self._closed(received, late=True), *replies] if closes and received > closes else replies

    async def _settle_cancel(self) -> None:
        sub = self.submission
        if sub is not None and sub.status == Status.CANCELLED:
            await drop_verification(self.unit, sub.id)  # the address goes with the answers

    def _show(self) -> list[Reply]:
        sub = self.submission
        if sub is not None and sub.status == Status.CANCELLED:  # withdrawn in this step
            return [self.presenter.goodbye("withdrawn", self.language)]
        return super()._show()

    # -- the address confirmed, the application recorded or withdrawn ----------------------------

    async def _settle(self, replies: list[Reply], editing: bool) -> list[Reply]:
        """Finishes an application's step: mails a code for an email just given, records what changed."""
        sub = self.submission
        if sub is None:
            return replies
        if self._email_given is not None:
            question = self.questionnaire.question(self._email_given)
            stored = self._stored(question) if question is not None else None
            address = stored.text if stored is not None else None
            verification = await find_verification(self.unit, sub.id) if sub.id is not None else None
            confirmed = verification is not None and verification.verified_at is not None
            if address and not (confirmed and verification is not None and verification.address == address):
                sub.editing = editing  # after the code, back to where the resident was going
                sub.step, sub.current, sub.draft = Step.VERIFY, self._email_given, None
                notes = [r for r in replies if r.kind is ReplyKind.PROBLEM]
                if sub.status == Status.COMPLETED:  # corrected: recorded now, complete again once confirmed
                    await self._record(self.now, complete=self._complete(), verified=False)
                return [*notes, *await self._send_code(address)]
        if sub.status == Status.COMPLETED and (self._confirmed or self._changed):
            await self._record(self.now, complete=self._complete(), verified=await self._email_verified())
        return replies

    async def _send_code(self, address: str, *, again: bool = False) -> list[Reply]:
        """Mails a new code to the address (in this step's transaction) and asks for it."""
        sub = self.submission
        assert sub is not None
        await self.unit.flush()
        verification = await find_verification(self.unit, sub.id)
        if verification is not None and verification.codes_sent >= MAX_CODES:
            return [self._problem("verify_too_many_codes"), *self._show()]
        code = new_code()
        await issue_code(self.unit, sub.id, address, code_digest(sub.id, address, code), self.now)
        mail = code_mail(
            self.call,
            self.presenter.catalog,
            self.language,
            address=address,
            code=code,
            respondent_id=sub.respondent_id,
        )
        queue_mail(self.unit, mail, self.now)
        notes = [self.presenter.note("verify_sent_again", self.language)] if again else []
        return [*notes, *self._show()]

    async def _on_verify(self, action: Action | None, text: str | None, choice: str | None) -> list[Reply]:
        """Waiting for the code mailed to the address just given: the right one confirms it and moves on."""
        sub = self.submission
        assert sub is not None and sub.current is not None
        question = self.questionnaire.question(sub.current)
        stored = self._stored(question) if question is not None else None
        if question is None or stored is None or not stored.text:
            return self._advance(None)
        if action is Action.BACK:
            self._go_to(question.code)
            return self._show()
        verification = await find_verification(self.unit, sub.id)
        if action is Action.RESEND or verification is None or verification.address != stored.text:
            return await self._send_code(stored.text, again=verification is not None)
        if text is None:
            return self._show()
        code = read_code(text)
        if verification.wrong >= MAX_WRONG:
            return [self._problem("verify_locked"), *self._show()]
        if code is None:
            return [self._problem("verify_format"), *self._show()]
        if code_expired(verification, self.now):
            return [self._problem("verify_expired"), *self._show()]
        if not code_matches(verification, sub.id, code):
            verification.wrong += 1
            key = "verify_locked" if verification.wrong >= MAX_WRONG else "verify_wrong"
            return [self._problem(key), *self._show()]
        verification.verified_at = self.now
        self._changed = True
        replies = [self.presenter.note("verify_done", self.language), *self._advance(question.code)]
        return await self._settle(replies, sub.editing)

    async def _email_verified(self) -> bool:
        """Whether the form's email address is the one a right code confirmed."""
        sub = self.submission
        question = next((q for q in self.questionnaire.questions if q.verified), None)
        if sub is None or sub.id is None or question is None:
            return False
        stored = self._stored(question)
        verification = await find_verification(self.unit, sub.id)
        return (
            stored is not None
            and verification is not None
            and verification.verified_at is not None
            and verification.address == stored.text
        )

    def _complete(self) -> bool:
        return not [q for q in self._visible() if q.required and self._value(q) is None]

    async def _record(self, received_at: datetime, *, complete: bool, verified: bool) -> None:
        """Records the application beside the answers (a later call corrects the same one)."""
        sub = self.submission
        assert sub is not None
        await self.unit.flush()
        codes = {q.code: q for q in self.questionnaire.questions}
        fields = application_fields(
            lambda code: self._stored(codes[code]) if code in codes else None,
            email_verified=verified,
            language=sub.language,
            privacy_version=sub.privacy_version,
        )
        closes = self.questionnaire.closes
        await record_application(
            self.unit,
            respondent_id=sub.respondent_id,
            submission_id=sub.id,
            channel=self.inbound.respondent.channel,
            received_at=received_at,
            late=closes is not None and received_at > closes,
            fields=fields,
            complete=complete and fields.email_verified,
            now=self.now,
        )

    async def _withdraw(self, argument: str | None) -> list[Reply]:
        """Withdraws the application after one confirmation: kept for staff as withdrawn, the answers gone."""
        if argument == "no":
            return [self.presenter.note("withdraw_kept", self.language), *self._show()]
        if argument != "yes":
            return [self.presenter.withdraw_question(self.language)]
        sub, ref = self.submission, self.inbound.respondent
        respondent = await self.unit.find_respondent(ref.channel, ref.pseudonym)
        withdrawn = await withdraw_application(self.unit, respondent.id, self.now) if respondent else None
        if sub is not None and sub.status != Status.CONSENT:
            self._drop(list(sub.answers))
            await drop_verification(self.unit, sub.id)
            sub.status, sub.step, sub.current, sub.draft = Status.CANCELLED, Step.DONE, None, None
            sub.finished_at = sub.finished_at or self.now
        elif withdrawn is None:
            return [self.presenter.note("withdraw_none", self.language), *self._show()]
        return [self.presenter.goodbye("withdrawn", self.language)]

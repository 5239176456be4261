"""One respondent's input applied to their submission: the questionnaire's state machine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from handlers.definitions.events import Event, parse_source
from handlers.definitions.i18n import DEFAULT_LANGUAGE, Language, as_language
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType, visible_questions
from handlers.engine.answers import (
    MAX_INPUT,
    Rejection,
    answer_for_choice,
    check_picks,
    check_value,
    clean_text,
    needs_other_text,
    parse_answer,
    valid_options,
)
from handlers.engine.messages import Action, Inbound, Reply, parse_command
from handlers.engine.presenter import Presenter, progress
from handlers.engine.states import Status, Step
from storage.erasure import erase_person, resident
from storage.models import Submission
from storage.repository import AnswerValue, Unit


class Turn:
    """One input applied to one submission, inside one transaction."""

    def __init__(
        self,
        unit: Unit,
        inbound: Inbound,
        *,
        questionnaire: Questionnaire,
        presenter: Presenter,
        events: Mapping[str, Event],
        now: datetime,
    ) -> None:
        self.unit = unit
        self.inbound = inbound
        self.questionnaire = questionnaire
        self.presenter = presenter
        self.events = events
        self.now = now
        self.language: Language = as_language(inbound.language) or DEFAULT_LANGUAGE
        self.submission: Submission | None = None
        self._visible_cache: list[Question] | None = None
        self.forgotten = False  # the respondent asked to erase everything in this step
        # What this step did that a kind of questionnaire may still act on once its synchronous part is
        # done (`_settle`): an address to confirm was given, answers changed, the summary was confirmed.
        self._email_given: str | None = None  # the code of the verified email question just answered
        self._changed = False
        self._confirmed = False
        self.key = (inbound.respondent.channel, inbound.respondent.pseudonym, questionnaire.id)

    # -- entry ---------------------------------------------------------------------------------

    def replay(self, submission: Submission | None) -> list[Reply]:
        """Shows where the respondent is, without applying the input again."""
        self.submission = submission
        if self.submission is not None:
            self.language = self.submission.language  # type: ignore[assignment]
        return self._show()

    async def run(self, submission: Submission | None) -> list[Reply]:
        inbound = self.inbound
        if not self.questionnaire.is_open(self.now) and not self._answered_when_closed():
            return [self._closed(self.now)]
        self.submission = submission
        if self.submission is not None:
            self.language = self.submission.language  # type: ignore[assignment]
            self._mark()
        if inbound.unsupported is not None:
            key = "error_edited" if inbound.unsupported == "edited" else "error_not_text"
            return [self._problem(key), *self._show()]
        if inbound.opinion is not None or inbound.form:
            return await self._on_written()
        action, argument, text = inbound.action, inbound.argument, None
        if inbound.text is not None:
            if len(inbound.text) > MAX_INPUT:
                shown = self._show()
                # Quote the question's own limit (as its page says); MAX_INPUT only bounds the work done.
                limit = next((reply.max_length for reply in reversed(shown) if reply.max_length), MAX_INPUT)
                return [self._problem("error_too_long", length=len(inbound.text), limit=limit), *shown]
            text = clean_text(inbound.text)
            command = parse_command(text)
            if command is not None and action is None:
                action, argument = command
                text = None
            elif text.startswith("/") and action is None and len(text) < 40 and " " not in text:
                return [self._problem("error_unknown_command"), *self._show()]
        if action is Action.LANGUAGE:
            return await self._change_language(argument)
        if action is Action.HELP:
            return [self.presenter.help(self.language), *self._show()]
        if action is Action.FORGET:
            return await self._forget(argument)
        if action is Action.WITHDRAW:
            return await self._withdraw(argument)
        if action is Action.RESEND and (self.submission is None or self.submission.step != Step.VERIFY):
            return self._show()
        if action in (Action.PRIVACY, Action.EVENTS, Action.MYDATA):
            return [*self._information(action), *self._show()]
        if self.submission is None or self.submission.status == Status.CONSENT:
            return await self._consent(action, argument)
        self.submission.questionnaire_version = self.questionnaire.version
        self.submission.updated_at = self.now
        if action is Action.START:
            return self._welcome_back()
        if action is Action.CANCEL:
            replies = self._cancel()
            await self._settle_cancel()
            return replies
        if inbound.question is not None and (
            self.submission.step not in (Step.QUESTION, Step.OTHER, Step.VERIFY)
            or inbound.question != self.submission.current
        ):
            return [self._problem("error_stale"), *self._show()]
        editing = self.submission.editing
        if self.submission.step == Step.QUESTION:
            replies = self._on_question(action, argument, text, inbound.choice)
        elif self.submission.step == Step.OTHER:
            replies = self._on_other(action, text, inbound.choice)
        elif self.submission.step == Step.VERIFY:
            return await self._on_verify(action, text, inbound.choice)
        else:
            replies = self._on_summary(action, argument)
        return await self._settle(replies, editing)

    # -- what a kind of questionnaire adds (an application: handlers/engine/application_turn.py) ------

    def _answered_when_closed(self) -> bool:
        """Whether this input is answered although the questionnaire is closed (a consultation's: never)."""
        return False

    def _closed(self, now: datetime) -> Reply:
        return self.presenter.closed(self.questionnaire, self.language, now)

    async def _withdraw(self, argument: str | None) -> list[Reply]:
        """Only an application can be withdrawn."""
        return [self._problem("error_unknown_command"), *self._show()]

    async def _settle(self, replies: list[Reply], editing: bool) -> list[Reply]:
        """What a step leaves to do once its synchronous part is done (a consultation: nothing)."""
        return replies

    async def _settle_cancel(self) -> None:
        """What cancelling leaves to do (a consultation: nothing beyond dropping the answers)."""

    async def _on_verify(self, action: Action | None, text: str | None, choice: str | None) -> list[Reply]:
        """Waiting for a code: only an application's form asks for one."""
        return self._advance(None)

    async def _written_from(self) -> None:
        """Before a written contribution is read (an application's: the address it came from)."""

    async def _settle_written(self, replies: list[Reply], *, recorded: bool, missing: bool) -> list[Reply]:
        """After a written contribution is read (an application's: recorded, late or not)."""
        return replies

    def _written_notice(self) -> None:
        """Writing to the consultation is taking part: our reply carries its notice (its version is kept)."""
        sub = self.submission
        assert sub is not None
        sub.privacy_version = sub.privacy_version or self.questionnaire.privacy.version

    def _written_completes(self, recorded: list[Question], missing: list[Question]) -> bool:
        """An opinion alone completes a consultation's email; otherwise every required answer must be there."""
        return not missing or self.questionnaire.opinion_question in recorded

    # -- consent -------------------------------------------------------------------------------

    async def _consent(self, action: Action | None, argument: str | None) -> list[Reply]:
        ref = self.inbound.respondent
        source = argument if action is Action.START and argument else self.inbound.source
        event, stand = parse_source(source)
        if action is Action.DECLINE:
            if self.submission is not None:
                await self.unit.delete_submission(self.submission)
            return [self.presenter.goodbye("declined", self.language)]
        if self.submission is None:
            await self._open_pending()
        assert self.submission is not None
        if event is not None:
            submission = self.submission
            submission.event, submission.stand, submission.event_known = event, stand, event in self.events
        if action is not Action.ACCEPT:
            return [self.presenter.privacy(self.questionnaire, self.language)]
        self.submission.status = Status.ACTIVE
        self.submission.privacy_version = self.questionnaire.privacy.version
        self.submission.started_at = self.submission.updated_at = self.now
        if ref.address:
            await self.unit.flush()
            await self.unit.set_contact(self.submission.respondent_id, ref.address, self.now)
        visible = self._visible()
        self._go_to(visible[0].code)
        intro = self.presenter.intro(self.questionnaire, self.language)
        return [*([intro] if intro else []), *self._show()]

    async def _open_pending(self) -> None:
        """Starts a submission waiting for consent; declining deletes it with everything else."""
        ref = self.inbound.respondent
        respondent = await self.unit.ensure_respondent(ref.channel, ref.pseudonym, self.now)
        self.submission = Submission(
            respondent_id=respondent.id,
            questionnaire_id=self.questionnaire.id,
            questionnaire_version=self.questionnaire.version,
            channel=ref.channel,
            language=self.language,
            status=Status.CONSENT,
            step=Step.QUESTION,
            editing=False,
            event_known=False,
            assisted=self.inbound.assisted,
            started_at=self.now,
            updated_at=self.now,
            answers={},
        )
        self._mark()
        self.unit.add(self.submission)

    def _mark(self) -> None:
        """Keeps what the channel says about this step: a volunteer's help, a reason to doubt it.

        Both stay once set; a flag no longer lands on a submission already confirmed.
        """
        sub, inbound = self.submission, self.inbound
        assert sub is not None
        sub.assisted = sub.assisted or inbound.assisted
        if inbound.flag and not sub.flag and sub.status != Status.COMPLETED:
            sub.flag, sub.client = inbound.flag[:16], (inbound.client or "")[:40] or None

    # -- a contribution written in one go (an email) --------------------------------------------

    async def _on_written(self) -> list[Reply]:
        """An opinion and/or several answers at once, each by the rules of one answer at a time.

        Writing to us is taking part: our reply carries the privacy notice. The contribution is
        complete once it holds an opinion, or every required question shown is answered; a later
        one corrects the same submission, never starts a second.
        """
        inbound, questionnaire = self.inbound, self.questionnaire
        if self.submission is None:
            await self._open_pending()
        submission = self.submission
        assert submission is not None
        was_completed = submission.status == Status.COMPLETED
        await self._written_from()
        if submission.status == Status.CONSENT:
            submission.status, submission.started_at = Status.ACTIVE, self.now
            if inbound.respondent.address:
                await self.unit.flush()
                await self.unit.set_contact(submission.respondent_id, inbound.respondent.address, self.now)
        self._written_notice()
        submission.questionnaire_version, submission.updated_at = questionnaire.version, self.now
        problems: list[Reply] = []
        recorded: list[Question] = []

        def refuse(question: Question, key: str, **values: Any) -> None:
            problems.append(replace(self._problem(key, **values), question=question.code))

        opinion = questionnaire.opinion_question
        if inbound.opinion is not None and opinion is not None:
            text = clean_text(inbound.opinion)
            earlier = self._stored(opinion)
            if earlier is not None and earlier.text and text and text not in earlier.text:
                text = f"{earlier.text}\n\n{text}"  # a second email adds to the first
            if not text:
                pass
            elif opinion not in self._visible():
                refuse(opinion, "error_not_asked")
            else:
                if len(text) > opinion.max_length:  # the whole email stays in the mailbox archive
                    refuse(opinion, "error_too_long", length=len(text), limit=opinion.max_length)
                    text = text[: opinion.max_length - 1] + "…"
                self._save(opinion.code, AnswerValue(text=text))
                recorded.append(opinion)
        order = {question.code: n for n, question in enumerate(questionnaire.questions)}
        for code, value in sorted(inbound.form, key=lambda item: order.get(item[0], len(order))):
            question = questionnaire.question(code)
            if question is None:
                continue
            if question not in self._visible():  # its show_if, given the answers before it
                refuse(question, "error_not_asked")
                continue
            checked = check_value(question, value)
            if isinstance(checked, Rejection):
                refuse(question, checked.key, **checked.values)
                continue
            self._save(code, checked)
            recorded.append(question)
        visible = self._visible()
        missing = [q for q in visible if q.required and self._value(q) is None]
        # Nothing recorded (an empty opinion, every answer refused) is no contribution: never completed.
        if submission.status != Status.COMPLETED and recorded and self._written_completes(recorded, missing):
            shown = {q.code for q in visible}
            self._drop([code for code in submission.answers if questionnaire.question(code) and code not in shown])
            submission.status, submission.step, submission.current = Status.COMPLETED, Step.DONE, None
            submission.finished_at = submission.finished_at or self.now
        elif submission.status != Status.COMPLETED:
            for question in missing:
                refuse(question, "error_required")
        answers = [(question, stored) for question in recorded if (stored := self._stored(question)) is not None]
        replies = [*problems, self.presenter.recorded(questionnaire, self.language, answers)]
        return await self._settle_written(replies, recorded=bool(recorded) or was_completed, missing=bool(missing))

    # -- questions -----------------------------------------------------------------------------

    def _on_question(
        self, action: Action | None, argument: str | None, text: str | None, choice: str | None
    ) -> list[Reply]:
        sub = self.submission
        assert sub is not None and sub.current is not None
        question = self.questionnaire.question(sub.current)
        if question is None or question.code not in {q.code for q in self._visible()}:
            return self._advance(None)  # the questionnaire changed under this submission
        if action is Action.BACK:
            return self._back(question)
        if action is Action.SKIP:
            if question.required:
                return [self._problem("error_required"), *self._show()]
            self._save(question.code, AnswerValue(skipped=True))
            return self._advance(question.code)
        if action is Action.DONE and question.type is QuestionType.MULTIPLE_CHOICE:
            picks = sub.draft if sub.draft is not None else self._stored_options(question)
            return self._accept(question, check_picks(question, picks))
        if choice is not None:
            if choice not in question.option_codes:
                return [self._problem("error_choice"), *self._show()]
            if question.type is QuestionType.MULTIPLE_CHOICE:
                return self._toggle(question, choice)
            return self._accept(question, answer_for_choice(question, choice))
        if text is not None:
            return self._accept(question, parse_answer(question, text))
        return self._show()

    def _toggle(self, question: Question, choice: str) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        picks = list(sub.draft if sub.draft is not None else self._stored_options(question))
        if choice in picks:
            picks.remove(choice)
        elif len(picks) >= question.pick_limit:
            return [self._problem("error_too_many", max=question.pick_limit), *self._show()]
        else:
            picks.append(choice)
        sub.draft = [code for code in question.option_codes if code in picks]
        return self._show()

    def _accept(self, question: Question, parsed: AnswerValue | Rejection) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        if isinstance(parsed, Rejection):
            return [self._problem(parsed.key, **parsed.values), *self._show()]
        if needs_other_text(question, parsed):
            sub.draft = parsed.options
            sub.step = Step.OTHER
            return self._show()
        sub.draft = None
        self._save(question.code, parsed)
        if question.verified:
            self._email_given = question.code
        return self._advance(question.code)

    def _on_other(self, action: Action | None, text: str | None, choice: str | None) -> list[Reply]:
        sub = self.submission
        assert sub is not None and sub.current is not None
        question = self.questionnaire.question(sub.current)
        if question is None:
            return self._advance(None)
        if action is Action.BACK or choice is not None:
            sub.step = Step.QUESTION
            if question.type is not QuestionType.MULTIPLE_CHOICE:
                sub.draft = None
            return self._on_question(None, None, None, choice) if choice is not None else self._show()
        if action is Action.SKIP:  # keep the pick, without the text
            return self._save_other(question, None)
        if text is None:
            return self._show()
        if not text:
            return [self._problem("error_empty"), *self._show()]
        if len(text) > question.max_length:
            return [self._problem("error_too_long", length=len(text), limit=question.max_length), *self._show()]
        return self._save_other(question, text)

    def _save_other(self, question: Question, text: str | None) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        value = AnswerValue(options=list(sub.draft or []), text=text)
        sub.draft = None
        sub.step = Step.QUESTION
        self._save(question.code, value)
        return self._advance(question.code)

    def _back(self, question: Question) -> list[Reply]:
        visible = [q.code for q in self._visible()]
        position = visible.index(question.code)
        if position == 0:
            return [self.presenter.note("note_first_question", self.language), *self._show()]
        self._go_to(visible[position - 1])
        return self._show()

    # -- moving on -----------------------------------------------------------------------------

    def _advance(self, answered: str | None) -> list[Reply]:
        """Goes to the next question to ask, or to the summary when none is left."""
        sub = self.submission
        assert sub is not None
        visible = self._visible()
        if sub.editing or sub.status == Status.COMPLETED or answered is None:
            pending = [q.code for q in visible if not self._answered(q)]
            if pending:
                self._go_to(pending[0])
                return self._show()
            return self._to_summary()
        order = [q.code for q in self.questionnaire.questions]
        after = order.index(answered)
        following = [q.code for q in visible if order.index(q.code) > after]
        if following:
            self._go_to(following[0])
            return self._show()
        return self._to_summary()

    def _go_to(self, code: str) -> None:
        sub = self.submission
        assert sub is not None
        sub.step, sub.current, sub.draft = Step.QUESTION, code, None

    def _to_summary(self) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        sub.step, sub.current, sub.draft, sub.editing = Step.SUMMARY, None, None, False
        return self._show()

    def _on_summary(self, action: Action | None, argument: str | None) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        visible = self._visible()
        if action is Action.EDIT and argument in {q.code for q in visible}:
            self._go_to(argument)
            sub.editing = True
            return self._show()
        if action is Action.BACK and sub.step == Step.SUMMARY and sub.status == Status.ACTIVE:
            self._go_to(visible[-1].code)
            return self._show()
        if action is Action.CONFIRM and sub.step == Step.SUMMARY:
            return self._confirm(visible)
        if sub.status == Status.COMPLETED and sub.step == Step.DONE:
            sub.step = Step.SUMMARY
            return [self.presenter.note("note_already_done", self.language), *self._show()]
        return self._show()

    def _confirm(self, visible: list[Question]) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        missing = [q for q in visible if q.required and self._value(q) is None]
        if missing:
            self._go_to(missing[0].code)
            sub.editing = True
            return [self._problem("error_required"), *self._show()]
        shown = {q.code for q in visible}
        # Answers to questions the respondent's own changes have hidden are no longer theirs to give.
        self._drop([code for code in sub.answers if self.questionnaire.question(code) and code not in shown])
        sub.status, sub.step = Status.COMPLETED, Step.DONE
        sub.finished_at = sub.finished_at or self.now
        self._confirmed = True
        return [self.presenter.thanks(self.questionnaire, self.language)]

    def _welcome_back(self) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        if sub.status == Status.COMPLETED:
            sub.step, sub.current, sub.draft, sub.editing = Step.SUMMARY, None, None, False
            return [self.presenter.note("note_already_done", self.language), *self._show()]
        return [self.presenter.note("note_welcome_back", self.language), *self._show()]

    def _cancel(self) -> list[Reply]:
        sub = self.submission
        assert sub is not None
        if sub.status == Status.COMPLETED:
            sub.step, sub.current, sub.draft, sub.editing = Step.DONE, None, None, False
            return [self.presenter.goodbye("note_kept", self.language)]
        self._drop(list(sub.answers))
        sub.status, sub.finished_at = Status.CANCELLED, self.now
        return [self.presenter.goodbye("cancelled", self.language)]

    def _information(self, action: Action) -> list[Reply]:
        """What /privacy, /events and /mydata show before the current question."""
        sub = self.submission
        if action is Action.EVENTS:
            return [self.presenter.events(list(self.events.values()), self.language, self.now)]
        if action is Action.PRIVACY:
            return [self.presenter.privacy_notice(self.questionnaire, self.language)]
        questions = self.questionnaire.questions
        answers = [] if sub is None else [(q, self._stored(q)) for q in questions if q.code in sub.answers]
        return [self.presenter.my_data(self.language, answers)]

    async def _forget(self, argument: str | None) -> list[Reply]:
        ref = self.inbound.respondent
        if argument == "yes":
            await erase_person(
                self.unit,
                channel=ref.channel,
                pseudonym=ref.pseudonym,
                address=ref.address,
                actor=resident(ref.channel),
                now=self.now,
                loaded=self.submission,
            )
            self.submission, self.forgotten = None, True
            return [self.presenter.goodbye("forgotten", self.language)]
        if argument == "no":
            return [self.presenter.note("note_kept", self.language), *self._show()]
        return [self.presenter.forget_question(self.language)]

    async def _change_language(self, argument: str | None) -> list[Reply]:
        language = as_language(argument)
        if language is None:
            return [self.presenter.languages(self.language)]
        self.language = language
        if self.submission is None:
            await self._open_pending()  # so the choice outlives this message
        assert self.submission is not None
        self.submission.language = language
        self.submission.updated_at = self.now
        return [self.presenter.note("note_language", language), *self._show()]

    # -- reading state -------------------------------------------------------------------------

    def _show(self) -> list[Reply]:
        """Renders where the respondent is now."""
        sub = self.submission
        if sub is None or sub.status == Status.CONSENT:
            return [self.presenter.privacy(self.questionnaire, self.language)]
        visible = self._visible()
        if sub.step in (Step.QUESTION, Step.OTHER, Step.VERIFY) and sub.current is not None:
            question = self.questionnaire.question(sub.current)
            if question is not None and question.code in {q.code for q in visible}:
                position = progress(visible, question)
                stored = self._stored(question)
                if sub.step == Step.OTHER:
                    return [self.presenter.other(question, self.language)]
                if sub.step == Step.VERIFY and stored is not None and stored.text:
                    return [self.presenter.verify(question, self.language, position, stored.text)]
                return [self.presenter.question(question, self.language, position, stored, sub.draft)]
        if sub.status == Status.COMPLETED and sub.step == Step.DONE:
            return [self.presenter.thanks(self.questionnaire, self.language)]
        answers = [(q, self._stored(q)) for q in visible]
        completed = sub.status == Status.COMPLETED
        return [self.presenter.summary(self.questionnaire, self.language, answers, completed=completed)]

    def _save(self, code: str, value: AnswerValue) -> None:
        assert self.submission is not None
        self.unit.save_answer(self.submission, code, value, self.now)
        self._visible_cache = None
        self._changed = True

    def _drop(self, codes: list[str]) -> None:
        assert self.submission is not None
        self.unit.drop_answers(self.submission, codes)
        self._visible_cache = None

    def _visible(self) -> list[Question]:
        """The questions shown given the answers so far (computed once per change)."""
        if self._visible_cache is None:
            values = {q.code: self._value(q) for q in self.questionnaire.questions}
            self._visible_cache = visible_questions(self.questionnaire, values)
        return self._visible_cache

    def _stored(self, question: Question) -> AnswerValue | None:
        sub = self.submission
        assert sub is not None
        row = sub.answers.get(question.code)
        if row is None:
            return None
        options = valid_options(question, row.options) if row.options is not None else None
        return AnswerValue(options=options, text=row.text, number=row.number, skipped=row.skipped)

    def _answered(self, question: Question) -> bool:
        """Tells whether a question has an answer or was skipped (a vanished option is no answer)."""
        stored = self._stored(question)
        return stored is not None and (stored.skipped or self._value(question) is not None)

    def _stored_options(self, question: Question) -> list[str]:
        stored = self._stored(question)
        return list(stored.options or []) if stored is not None and not stored.skipped else []

    def _value(self, question: Question) -> Any:
        """The answer as show-if conditions see it: None when skipped or not given."""
        stored = self._stored(question)
        if stored is None or stored.skipped:
            return None
        if question.type is QuestionType.SCALE:
            return stored.number
        if question.type in (QuestionType.TEXT, QuestionType.EMAIL):
            return stored.text
        return stored.options or None if question.type is not QuestionType.MULTIPLE_CHOICE else stored.options

    def _problem(self, key: str, **values: Any) -> Reply:
        return self.presenter.problem(key, self.language, **values)

"""The channel-agnostic engine: carries a respondent from the privacy notice to stored answers."""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from handlers.definitions.events import Event, parse_source
from handlers.definitions.i18n import DEFAULT_LANGUAGE, as_language
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.application import Call
from handlers.engine.application_turn import ApplicationTurn
from handlers.engine.group_commit import GroupCommit
from handlers.engine.messages import (
    APPLICATION,
    APPLICATION_ENTRY,
    CONSULTATION,
    Action,
    Inbound,
    Reply,
    parse_command,
)
from handlers.engine.presenter import Presenter
from handlers.engine.states import Status
from handlers.engine.turn import Turn
from storage.inbox import InboxEntry, find_deliveries, record_handled
from storage.models import InboxItem, Submission
from storage.repository import Store, SubmissionKey, Unit

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Tells the time, in UTC."""
    return datetime.now(UTC)


class Conversation:
    """Walk respondents through questionnaires, one input at a time, every step committed."""

    def __init__(
        self,
        store: Store,
        questionnaires: Mapping[str, Questionnaire],
        events: Mapping[str, Event],
        presenter: Presenter,
        *,
        default_questionnaire: str | None = None,
        clock: Clock = utc_now,
        call: Call | None = None,
    ) -> None:
        self.store = store
        self.questionnaires = dict(questionnaires)
        self.events = dict(events)
        self.presenter = presenter
        self.default_questionnaire = default_questionnaire or next(iter(self.questionnaires))
        self.clock = clock
        # The call for working-group applications: its form is registered and answered like a questionnaire,
        # but never the default one, never an event's, and never among `questionnaires` (exports, reports).
        self.call = call
        # Steps of one respondent run one at a time; different respondents share transactions.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()
        self.batches: GroupCommit[Inbound, list[Reply]] = GroupCommit(self._run_batch)

    async def register(self) -> None:
        """Stores a snapshot of each questionnaire version (start-up).

        Raises:
            VersionConflict: a questionnaire's structure changed without a new version.
        """
        now = self.clock()
        application = [self.call.questionnaire] if self.call is not None else []
        for q in [*self.questionnaires.values(), *application]:
            await self.store.register_questionnaire(
                q.id, q.version, q.structure_digest(), q.model_dump(mode="json"), now
            )

    def questionnaire_for(self, inbound: Inbound) -> Questionnaire:
        """Picks the questionnaire an input is about (its own, the application, its event's, or the default).

        Where the respondent is now (an input that names none) is `_route`'s to decide.
        """
        if inbound.questionnaire in self.questionnaires:
            return self.questionnaires[inbound.questionnaire]
        application = self.call.questionnaire if self.call is not None else None
        if application is not None and inbound.questionnaire in (APPLICATION, application.id):
            return application
        event_slug, _ = parse_source(inbound.source)
        event = self.events.get(event_slug or "")
        if event is not None and event.questionnaire in self.questionnaires:
            return self.questionnaires[event.questionnaire]
        return self.questionnaires[self.default_questionnaire]

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Record what the respondent said and return what to show next."""
        ref = inbound.respondent
        lock = self._locks.setdefault((ref.channel, ref.pseudonym), asyncio.Lock())
        async with lock:
            return await self.batches.submit(inbound)

    async def show(self, inbound: Inbound) -> list[Reply]:
        """Shows where a respondent is, changing nothing (a page opened again, a resumed visit)."""
        async with self.store.unit(write=False) as unit:
            inbound, off = self._entry(inbound)
            found = await unit.latest_submissions(self._candidates(inbound))
            step = self._turn(unit, self._route(inbound, found))
            return [*off, *step.replay(found.get(step.key))]

    def _turn(self, unit: Unit, inbound: Inbound) -> Turn:
        questionnaire = self.questionnaire_for(inbound)
        presenter = self.presenter.for_channel(inbound.respondent.channel)
        now = self.clock()
        if self.call is not None and questionnaire is self.call.questionnaire:
            return ApplicationTurn(
                unit,
                inbound,
                questionnaire=questionnaire,
                presenter=presenter,
                events=self.events,
                now=now,
                call=self.call,
            )
        return Turn(unit, inbound, questionnaire=questionnaire, presenter=presenter, events=self.events, now=now)

    # -- which questionnaire: the consultation, or an application to the working groups ----------

    def _entry(self, inbound: Inbound) -> tuple[Inbound, list[Reply]]:
        """Reads which questionnaire an input asks for: `/grupy`, `/start grupy` (or a web page's choice) the
        application, `/start` the consultation, a withdrawal the application; the rest names none.

        Without a call for applications `/grupy` says so, over the consultation as it stands.
        """
        action, argument = inbound.action, inbound.argument
        if action is None and inbound.text is not None and inbound.opinion is None and not inbound.form:
            command = parse_command(inbound.text.strip())
            action, argument = command if command is not None else (None, None)
        wanted = inbound.questionnaire
        if wanted is None and action is Action.START:
            wanted = APPLICATION if argument == APPLICATION_ENTRY else CONSULTATION
        elif wanted is None and action in (Action.WITHDRAW, Action.RESEND):
            wanted = APPLICATION
        names = {APPLICATION, APPLICATION_ENTRY} | ({self.call.questionnaire.id} if self.call is not None else set())
        if wanted in names:
            if self.call is None:  # said before the consultation's current screen
                language = as_language(inbound.language) or DEFAULT_LANGUAGE
                off = self.presenter.for_channel(inbound.respondent.channel).note("application_off", language)
                return replace(inbound, questionnaire=CONSULTATION, text=None, action=None, argument=None), [off]
            if action is Action.START:  # `grupy` names the application, not an event
                inbound = replace(inbound, text=None, action=Action.START, argument=None)
            return replace(inbound, questionnaire=APPLICATION), []
        return replace(inbound, questionnaire=wanted), []

    def _candidates(self, inbound: Inbound) -> list[SubmissionKey]:
        """The submissions a step may be about: its questionnaire's, and the application's where it may follow."""
        ref = inbound.respondent
        keys = [(ref.channel, ref.pseudonym, self.questionnaire_for(inbound).id)]
        if self.call is not None:
            consultation = self.questionnaire_for(replace(inbound, questionnaire=CONSULTATION))
            keys += [(ref.channel, ref.pseudonym, q.id) for q in (consultation, self.call.questionnaire)]
        return list(dict.fromkeys(keys))

    def _route(self, inbound: Inbound, found: Mapping[SubmissionKey, Submission]) -> Inbound:
        """An input naming no questionnaire goes where the respondent last was: the application when they last
        answered there (closed or not: it says so), else the consultation (the event's or the default one)."""
        if inbound.questionnaire is not None or self.call is None:
            return inbound
        ref = inbound.respondent
        consultation = found.get((ref.channel, ref.pseudonym, self.questionnaire_for(inbound).id))
        application = found.get((ref.channel, ref.pseudonym, self.call.questionnaire.id))
        if application is None or application.status == Status.CANCELLED:
            return inbound
        if consultation is None or _last(application, consultation):
            return replace(inbound, questionnaire=APPLICATION)
        return inbound

    def _keep_newest(self, step: Turn, found: Mapping[SubmissionKey, Submission]) -> None:
        """The questionnaire a respondent just answered in is the one they are in: its submission is the newest
        (by a microsecond where a clock stands still, as a test's does)."""
        if self.call is None or step.submission is None or step.forgotten:
            return
        ref = step.inbound.respondent
        mine = step.submission
        for key, other in found.items():
            theirs = key[:2] == (ref.channel, ref.pseudonym) and other is not mine
            if theirs and other.updated_at and mine.updated_at and mine.updated_at <= other.updated_at:
                mine.updated_at = other.updated_at + timedelta(microseconds=1)

    async def _run_batch(self, inbounds: list[Inbound]) -> list[list[Reply]]:
        """Applies steps of different respondents in one transaction; replies only after it commits.

        A step that carries a delivery is recorded with it, once: a delivery handled before is only
        shown where the respondent is (a redelivery after a crash changes nothing).
        """
        async with self.store.unit() as unit:
            return await self._apply(unit, inbounds)

    async def handle_within(self, unit: Unit, inbounds: Sequence[Inbound]) -> list[list[Reply]]:
        """Applies inputs inside a transaction the caller holds, so what it stores beside them (the
        mailbox: the emails and our replies to them) commits with their effect, or not at all.

        One respondent's inputs are applied in order, each seeing the one before.
        """
        return await self._apply(unit, inbounds)

    async def _apply(self, unit: Unit, inbounds: Sequence[Inbound]) -> list[list[Reply]]:
        """Applies steps within one unit; one respondent's steps in order, each building on the one before."""
        entries = [self._entry(inbound) for inbound in inbounds]
        found: dict[SubmissionKey, Submission] = await unit.latest_submissions(
            sorted({key for inbound, _ in entries for key in self._candidates(inbound)})
        )
        seen = await self._deliveries_seen(unit, inbounds)
        results: list[list[Reply]] = []
        fresh: dict[str, list[InboxEntry]] = defaultdict(list)
        for inbound, off in entries:
            # Routed only now: an earlier input of the same respondent in this batch may have moved them.
            step = self._turn(unit, self._route(inbound, found))
            delivery = step.inbound.delivery
            item = seen.get((delivery.channel, delivery.external_id)) if delivery else None
            # Handled before, or "already stored" but gone (erased by /forget): apply nothing.
            handled = item.handled_at is not None if item else delivery is not None and delivery.payload is None
            if handled:
                results.append(step.replay(found.get(step.key)))
                continue
            results.append([*off, *await step.run(found.get(step.key))])
            if step.forgotten:  # erased everywhere: nothing of theirs is left to build on
                ref = step.inbound.respondent
                for key in [key for key in found if key[:2] == (ref.channel, ref.pseudonym)]:
                    del found[key]
            if step.submission is not None and not step.forgotten:
                self._keep_newest(step, found)
                found[step.key] = step.submission  # the same respondent's next input here builds on it
            if item is not None:
                item.handled_at = step.now
            elif delivery is not None:
                # Kept until the reply is sent (a crash re-sends it); after /forget, neither it nor whose chat it was.
                payload, chat = (None, None) if step.forgotten else (delivery.payload, delivery.chat)
                fresh[delivery.channel].append(InboxEntry(delivery.external_id, chat, payload))
        for channel, items in fresh.items():
            await record_handled(unit, channel, items, self.clock())
        return results

    @staticmethod
    async def _deliveries_seen(unit: Unit, inbounds: Sequence[Inbound]) -> dict[tuple[str, str], InboxItem]:
        wanted: dict[str, list[str]] = defaultdict(list)
        for inbound in inbounds:
            if inbound.delivery is not None:
                wanted[inbound.delivery.channel].append(inbound.delivery.external_id)
        seen = {}
        for channel, external_ids in wanted.items():
            for external_id, item in (await find_deliveries(unit, channel, external_ids)).items():
                seen[(channel, external_id)] = item
        return seen


def _last(application: Submission, consultation: Submission) -> bool:
    """Tells whether the application is where the respondent answered last (the newer on a tie)."""
    return (application.updated_at, application.id or 0) > (consultation.updated_at, consultation.id or 0)

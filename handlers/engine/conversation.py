"""The channel-agnostic engine: carries a respondent from the privacy notice to stored answers."""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from handlers.definitions.events import Event, parse_source
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.group_commit import GroupCommit
from handlers.engine.messages import Inbound, Reply
from handlers.engine.presenter import Presenter
from handlers.engine.turn import Turn
from storage.inbox import InboxEntry, find_deliveries, record_handled
from storage.models import InboxItem
from storage.repository import Store, Unit

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
    ) -> None:
        self.store = store
        self.questionnaires = dict(questionnaires)
        self.events = dict(events)
        self.presenter = presenter
        self.default_questionnaire = default_questionnaire or next(iter(self.questionnaires))
        self.clock = clock
        # Steps of one respondent run one at a time; different respondents share transactions.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()
        self.batches: GroupCommit[Inbound, list[Reply]] = GroupCommit(self._run_batch)

    async def register(self) -> None:
        """Stores a snapshot of each questionnaire version (start-up).

        Raises:
            VersionConflict: a questionnaire's structure changed without a new version.
        """
        now = self.clock()
        for q in self.questionnaires.values():
            await self.store.register_questionnaire(
                q.id, q.version, q.structure_digest(), q.model_dump(mode="json"), now
            )

    def questionnaire_for(self, inbound: Inbound) -> Questionnaire:
        """Picks the questionnaire an input is about (its own, its event's, or the default)."""
        if inbound.questionnaire in self.questionnaires:
            return self.questionnaires[inbound.questionnaire]
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
            step = self._turn(unit, inbound)
            found = await unit.latest_submissions([step.key])
            return step.replay(found.get(step.key))

    def _turn(self, unit: Unit, inbound: Inbound) -> Turn:
        return Turn(
            unit,
            inbound,
            questionnaire=self.questionnaire_for(inbound),
            presenter=self.presenter.for_channel(inbound.respondent.channel),
            events=self.events,
            now=self.clock(),
        )

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
        steps = [self._turn(unit, inbound) for inbound in inbounds]
        found = await unit.latest_submissions([step.key for step in steps])
        seen = await self._deliveries_seen(unit, inbounds)
        results: list[list[Reply]] = []
        fresh: dict[str, list[InboxEntry]] = defaultdict(list)
        for step in steps:
            delivery = step.inbound.delivery
            item = seen.get((delivery.channel, delivery.external_id)) if delivery else None
            # Handled before, or "already stored" but gone (erased by /forget): apply nothing.
            handled = item.handled_at is not None if item else delivery is not None and delivery.payload is None
            if handled:
                results.append(step.replay(found.get(step.key)))
                continue
            results.append(await step.run(found.get(step.key)))
            if step.submission is not None and not step.forgotten:
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

"""The storage API the engine and the staff tools use; SQL stays behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, delete, func, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from storage.db import SQLITE_BEGIN
from storage.models import Answer, Contact, InboxItem, QuestionnaireVersion, Respondent, Status, Submission

SubmissionKey = tuple[str, str, str]  # channel, pseudonym, questionnaire id


class VersionConflict(Exception):
    """A questionnaire's structure changed without a new version number."""

    def __init__(self, questionnaire_id: str, version: int) -> None:
        super().__init__(
            f"questionnaire '{questionnaire_id}' version {version}: codes, types or limits changed "
            f"since answers were stored under this version; raise `version` to {version + 1}"
        )


@dataclass(frozen=True, slots=True)
class AnswerValue:
    """What one answer holds, independent of the table."""

    options: list[str] | None = None
    text: str | None = None
    number: int | None = None
    skipped: bool = False


class Unit:
    """One transaction: everything one respondent's step reads and writes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    async def find_respondent(self, channel: str, pseudonym: str) -> Respondent | None:
        """Returns the respondent with this pseudonym on this channel, if known."""
        result = await self.session.scalars(
            select(Respondent).where(Respondent.channel == channel, Respondent.pseudonym == pseudonym)
        )
        return result.first()

    async def ensure_respondent(self, channel: str, pseudonym: str, now: datetime) -> Respondent:
        """Returns the respondent, creating it if needed (safe when two steps race)."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        await self.session.execute(
            insert(Respondent)
            .values(channel=channel, pseudonym=pseudonym, created_at=now)
            .on_conflict_do_nothing(index_elements=["channel", "pseudonym"])
        )
        respondent = await self.find_respondent(channel, pseudonym)
        assert respondent is not None
        return respondent

    async def latest_submission(
        self, channel: str, pseudonym: str, questionnaire_id: str, *, with_answers: bool = True
    ) -> Submission | None:
        """Returns the respondent's newest submission that is not cancelled (with its answers unless told)."""
        key = (channel, pseudonym, questionnaire_id)
        return (await self.latest_submissions([key], with_answers=with_answers)).get(key)

    async def respondent_id(self, channel: str, pseudonym: str, now: datetime) -> int:
        """Returns the respondent's id, creating the respondent if needed, in one statement."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(Respondent).values(channel=channel, pseudonym=pseudonym, created_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["channel", "pseudonym"], set_={"channel": statement.excluded.channel}
        )
        return int((await self.session.execute(statement.returning(Respondent.id))).scalar_one())

    async def respondent_ids(self, keys: Sequence[tuple[str, str]], now: datetime) -> dict[str, int]:
        """Returns respondents' ids by pseudonym, creating the missing ones, in one statement."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        rows = [{"channel": c, "pseudonym": p, "created_at": now} for c, p in dict.fromkeys(keys)]
        statement = insert(Respondent).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["channel", "pseudonym"], set_={"channel": statement.excluded.channel}
        )
        result = await self.session.execute(statement.returning(Respondent.pseudonym, Respondent.id))
        return {pseudonym: respondent_id for pseudonym, respondent_id in result}

    async def upsert_contacts(self, addresses: dict[int, str], now: datetime) -> None:
        """Keeps the addresses needed to reach respondents again (by respondent id), in one statement."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        rows = [{"respondent_id": r, "address": a, "updated_at": now} for r, a in addresses.items()]
        statement = insert(Contact).values(rows)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["respondent_id"],
                set_={"address": statement.excluded.address, "updated_at": statement.excluded.updated_at},
            )
        )

    async def upsert_contact(self, respondent_id: int, address: str, now: datetime) -> None:
        """Keeps the address needed to reach a respondent again, in one statement."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(Contact).values(respondent_id=respondent_id, address=address, updated_at=now)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["respondent_id"], set_={"address": address, "updated_at": now}
            )
        )

    async def latest_submissions(
        self, keys: Sequence[SubmissionKey], *, with_answers: bool = True
    ) -> dict[SubmissionKey, Submission]:
        """Loads, in one query, each respondent's newest live submission with its answers.

        Keys are (channel, pseudonym, questionnaire id). On PostgreSQL the rows are locked
        until commit, so steps from another process never interleave with these.
        """
        if not keys:
            return {}
        query = (
            select(Submission, Respondent.channel, Respondent.pseudonym)
            .join(Respondent, Respondent.id == Submission.respondent_id)
            .where(
                # Two IN lists (not a row-value IN) so SQLite searches the (channel, pseudonym)
                # index; with a row value or an ORDER BY it scans every submission.
                Respondent.channel.in_({k[0] for k in keys}),
                Respondent.pseudonym.in_({k[1] for k in keys}),
                Submission.questionnaire_id.in_({k[2] for k in keys}),
                Submission.status != Status.CANCELLED,
            )
        )
        if with_answers:
            query = query.options(selectinload(Submission.answers))
        if self.dialect == "postgresql":
            query = query.with_for_update(of=Submission)
        wanted = set(keys)
        found: dict[SubmissionKey, Submission] = {}
        for submission, channel, pseudonym in await self.session.execute(query):
            key = (channel, pseudonym, submission.questionnaire_id)
            if key in wanted and (key not in found or found[key].id < submission.id):
                found[key] = submission  # the newest wins
        return found

    def add(self, row: Any) -> None:
        """Adds a new row to the transaction."""
        self.session.add(row)

    async def flush(self) -> None:
        """Sends pending changes so generated ids are known."""
        await self.session.flush()

    def save_answer(self, submission: Submission, code: str, value: AnswerValue, now: datetime) -> None:
        """Records an answer, replacing an earlier answer to the same question."""
        answer = submission.answers.get(code)
        if answer is None:
            answer = Answer(submission_id=submission.id, question_code=code, answered_at=now)
            submission.answers[code] = answer
        answer.options = value.options
        answer.text = value.text
        answer.number = value.number
        answer.skipped = value.skipped
        answer.answered_at = now

    def drop_answers(self, submission: Submission, codes: Sequence[str]) -> None:
        """Removes answers (a cancelled pass, or questions no longer shown)."""
        for code in codes:
            submission.answers.pop(code, None)

    async def delete_submission(self, submission: Submission) -> None:
        """Deletes a submission, and its respondent when nothing else of theirs is kept."""
        respondent_id = submission.respondent_id
        await self.session.delete(submission)
        await self.session.flush()
        others = await self.session.scalar(
            select(func.count()).select_from(Submission).where(Submission.respondent_id == respondent_id)
        )
        if not others:
            await self.session.execute(delete(Respondent).where(Respondent.id == respondent_id))

    async def find_deliveries(self, channel: str, external_ids: Sequence[str]) -> dict[str, InboxItem]:
        """Loads inbox items received before, by their upstream id (locked on PostgreSQL)."""
        if not external_ids:
            return {}
        query = select(InboxItem).where(InboxItem.channel == channel, InboxItem.external_id.in_(external_ids))
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return {item.external_id: item for item in await self.session.scalars(query)}

    async def record_handled(self, channel: str, items: Sequence[Received], now: datetime) -> None:
        """Stores received items together with the effect that handled them."""
        if items:
            await self.session.execute(_insert_received(self.dialect, channel, items, now, handled=True))

    async def forget_respondent(
        self, channel: str, pseudonym: str, loaded: Submission | None = None, address: str | None = None
    ) -> bool:
        """Erases a respondent with their contact data, submissions, answers and received messages.

        `loaded` is a submission of theirs this transaction holds, so the session forgets it too;
        `address` is their chat, whose messages still waiting in the inbox are erased as well.
        Tells whether anything existed.
        """
        if loaded is not None:
            await self.session.delete(loaded)
        if address is not None:
            await self.session.execute(
                update(InboxItem).where(InboxItem.channel == channel, InboxItem.chat == address).values(payload=None)
            )
        result = await self.session.execute(
            delete(Respondent).where(Respondent.channel == channel, Respondent.pseudonym == pseudonym)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_contact(self, respondent_id: int, address: str, now: datetime) -> None:
        """Keeps the address needed to reach a respondent again."""
        contact = await self.session.get(Contact, respondent_id)
        if contact is None:
            self.session.add(Contact(respondent_id=respondent_id, address=address, updated_at=now))
        elif contact.address != address:
            contact.address = address
            contact.updated_at = now


class Store:
    """Opens units of work; built once at start-up with the service's session factory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        engine: AsyncEngine = sessions.kw["bind"]
        self._reader = engine
        self._writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})

    @asynccontextmanager
    async def unit(self, *, write: bool = True) -> AsyncIterator[Unit]:
        """Runs one transaction; it commits when the block ends without an exception.

        A writing unit takes SQLite's write lock up front (BEGIN IMMEDIATE), so its reads
        and writes see one state; a reading one lets writers go on beside it.
        """
        async with self.sessions(bind=self._writer if write else self._reader) as session, session.begin():
            yield Unit(session)

    async def register_questionnaire(
        self, questionnaire_id: str, version: int, digest: str, definition: dict[str, Any], now: datetime
    ) -> None:
        """Keeps a snapshot of a questionnaire version, refusing a changed structure under an old number.

        Raises:
            VersionConflict: when this version was registered before with another structure.
        """
        async with self.unit() as unit:
            known = await unit.session.get(QuestionnaireVersion, (questionnaire_id, version))
            if known is None:
                unit.add(
                    QuestionnaireVersion(
                        questionnaire_id=questionnaire_id,
                        version=version,
                        digest=digest,
                        definition=definition,
                        registered_at=now,
                    )
                )
                return
            if known.digest != digest:
                stored = await unit.session.scalar(
                    select(func.count())
                    .select_from(Submission)
                    .where(Submission.questionnaire_id == questionnaire_id, Submission.questionnaire_version == version)
                )
                if stored:
                    raise VersionConflict(questionnaire_id, version)
                known.digest = digest
            # Wording may change freely; keep the newest labels for exports.
            known.definition = definition


@dataclass(frozen=True, slots=True)
class SubmissionFilter:
    """Which submissions an export or report covers."""

    questionnaire_id: str | None = None
    completed_only: bool = False
    event: str | None = None
    channel: str | None = None
    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before
    exclude_flagged: bool = False  # leave out submissions the web chat flagged (see Submission.flag)


def _filtered(query: Any, filters: SubmissionFilter) -> Any:
    """Narrows a query over submissions to what the filters ask for."""
    statuses = [Status.COMPLETED] if filters.completed_only else [Status.ACTIVE, Status.COMPLETED]
    query = query.where(Submission.status.in_(statuses))
    if filters.questionnaire_id:
        query = query.where(Submission.questionnaire_id == filters.questionnaire_id)
    if filters.event:
        query = query.where(Submission.event == filters.event)
    if filters.channel:
        query = query.where(Submission.channel == filters.channel)
    if filters.since:
        query = query.where(Submission.started_at >= filters.since)
    if filters.until:
        query = query.where(Submission.started_at < filters.until)
    if filters.exclude_flagged:
        query = query.where(Submission.flag.is_(None))
    return query


async def count_flagged(store: Store, filters: SubmissionFilter) -> int:
    """How many of the submissions the filters choose (flagged ones included) are flagged."""
    query = select(func.count()).select_from(Submission).where(Submission.flag.is_not(None))
    query = _filtered(query, replace(filters, exclude_flagged=False))
    async with store.unit(write=False) as unit:
        return int(await unit.session.scalar(query) or 0)


async def stream_submission_rows(store: Store, filters: SubmissionFilter) -> AsyncIterator[Any]:
    """Yields one flat Core row per submission, oldest first; its last column holds the answers as
    a list of [code, options, text, number, skipped] in no set order (None when there are none).

    The database gathers each submission's answers into one JSON value: one row per submission for
    Python to handle instead of one per answer (12 times fewer), which is what makes exports fast.
    """
    async with store.unit(write=False) as unit:
        if unit.dialect == "postgresql":
            fields: Any = func.json_build_array(
                Answer.question_code, Answer.options, Answer.text, Answer.number, Answer.skipped
            )
            gathered: Any = func.json_agg(fields)
        else:
            fields = func.json_array(
                Answer.question_code, func.json(Answer.options), Answer.text, Answer.number, Answer.skipped
            )
            gathered = func.json_group_array(fields)
        answers = select(gathered).where(Answer.submission_id == Submission.id).scalar_subquery()
        query = (
            select(
                Submission.id,
                Respondent.pseudonym,
                Submission.channel,
                Submission.event,
                Submission.event_known,
                Submission.stand,
                Submission.assisted,
                Submission.flag,
                Submission.client,
                Submission.language,
                Submission.questionnaire_id,
                Submission.questionnaire_version,
                Submission.privacy_version,
                Submission.status,
                Submission.started_at,
                Submission.finished_at,
                type_coerce(answers, JSON),
            )
            .join(Respondent, Respondent.id == Submission.respondent_id)
            .order_by(Submission.id)
        )
        query = _filtered(query, filters)
        connection = await unit.session.connection()  # Core: no ORM loading for plain columns
        result = await connection.stream(query.execution_options(yield_per=1000))
        async for partition in result.partitions():  # one hop to the driver per 1,000 rows
            for row in partition:
                yield row


@dataclass(frozen=True, slots=True)
class Received:
    """One item a channel received: its id upstream, the chat it belongs to, and its content."""

    external_id: str
    chat: str | None
    payload: dict[str, Any] | None


async def receive(
    store: Store, channel: str, items: Sequence[Received], now: datetime, replied: Sequence[str] = ()
) -> dict[str, int]:
    """Stores received items durably, skipping ones seen before; returns the new ones' ids by external id.

    `replied` marks earlier items answered in the same transaction (saves one per batch).
    """
    if not items and not replied:
        return {}
    async with store.unit() as unit:
        if replied:
            await _mark_replied(unit, channel, replied, now)
        if not items:
            return {}
        statement = _insert_received(unit.dialect, channel, items, now, handled=False)
        result = await unit.session.execute(statement.returning(InboxItem.external_id, InboxItem.id))
        return {external_id: item_id for external_id, item_id in result}


def _insert_received(dialect: str, channel: str, items: Sequence[Received], now: datetime, *, handled: bool) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {
            "channel": channel,
            "external_id": i.external_id,
            "chat": i.chat,
            "payload": i.payload,
            "received_at": now,
            "handled_at": now if handled else None,
        }
        for i in items
    ]
    return insert(InboxItem).values(rows).on_conflict_do_nothing(index_elements=["channel", "external_id"])


async def unreplied(store: Store, channel: str, limit: int = 200) -> list[InboxItem]:
    """Lists received items not yet answered, oldest first."""
    async with store.unit(write=False) as unit:
        query = (
            select(InboxItem)
            .where(InboxItem.channel == channel, InboxItem.replied_at.is_(None))
            .order_by(InboxItem.id)
            .limit(limit)
        )
        return list(await unit.session.scalars(query))


async def mark_replied(store: Store, channel: str, external_ids: Sequence[str], now: datetime) -> None:
    """Marks items answered (and handled), erasing the message they held."""
    if external_ids:
        async with store.unit() as unit:
            await _mark_replied(unit, channel, external_ids, now)


async def _mark_replied(unit: Unit, channel: str, external_ids: Sequence[str], now: datetime) -> None:
    await unit.session.execute(
        update(InboxItem)
        .where(InboxItem.channel == channel, InboxItem.external_id.in_(external_ids))
        .values(replied_at=now, handled_at=func.coalesce(InboxItem.handled_at, now), payload=None)
    )

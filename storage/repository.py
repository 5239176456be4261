"""The engine's unit of work (one transaction per step) and the store that opens units; SQL stays behind it.

The rest of the storage API sits beside it, one concept per module: `inbox` (what a channel received),
`exports` (submissions streamed for exports and the report), `counts` (live figures), `outbox` (replies
to send), `mailbox_state` (how far the mailbox is read), `emails`, `kiosks`, `audit` and `erasure`.
A function taking a `Store` runs its own transaction; one taking a `Unit` works inside the caller's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from storage.db import SQLITE_BEGIN
from storage.dialect import insert, locked
from storage.models import CANCELLED, Answer, Contact, QuestionnaireVersion, Respondent, Submission

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
        await self.session.execute(
            insert(self.dialect, Respondent)
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
                Submission.status != CANCELLED,
            )
        )
        if with_answers:
            query = query.options(selectinload(Submission.answers))
        query = locked(query, self.dialect, of=Submission)
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

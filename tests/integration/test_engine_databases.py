"""The whole engine on each database: SQLite and a real PostgreSQL, through the service as it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select

from bot.service import Service, open_service
from handlers.engine.messages import Action, ReplyKind
from storage.models import Answer, Base, Status, Submission
from tests.conftest import FakeClock, Person, make_settings
from tests.unit.test_conversation import answer_everything


async def test_migrations_match_the_models(database_url: str, tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    async with open_service(settings, clock=clock) as service:

        def differences(connection: Connection) -> list[object]:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

        async with service.engine.connect() as connection:
            assert await connection.run_sync(differences) == []


async def test_walk_restart_and_review(database_url: str, tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    async with open_service(settings, clock=clock) as service:
        person = Person(service, "maria")
        await person.begin(source="dzien-sasiada-ochota-2026-06-06")
        await person.tap("ochota")
    async with open_service(settings, clock=clock) as service:
        person = Person(service, "maria")
        await person.start()
        assert person.kinds == [ReplyKind.INFO, ReplyKind.QUESTION]
        await person.act(Action.BACK)
        await answer_everything(person)
        await person.act(Action.CONFIRM)
        assert person.last.kind is ReplyKind.THANKS
        await person.start()
        assert person.last.kind is ReplyKind.SUMMARY
        async with service.store.sessions() as session:
            [submission] = (await session.scalars(select(Submission))).all()
            assert submission.status == Status.COMPLETED
            assert submission.event == "dzien-sasiada-ochota-2026-06-06" and submission.event_known
            assert await session.scalar(select(func.count()).select_from(Answer)) == 12


async def test_many_respondents_at_once_share_transactions(database_url: str, tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    async with open_service(settings, clock=clock) as service:

        async def resident(n: int) -> None:
            person = Person(service, f"resident-{n}", channel="telegram")
            await person.begin()
            await answer_everything(person)
            await person.act(Action.CONFIRM)
            assert person.last.kind is ReplyKind.THANKS

        await asyncio.gather(*(resident(n) for n in range(25)))
        await _assert_counts(service, submissions=25, answers=25 * 12)


async def _assert_counts(service: Service, *, submissions: int, answers: int) -> None:
    async with service.store.sessions() as session:
        done = await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.status == Status.COMPLETED)
        )
        assert done == submissions
        assert await session.scalar(select(func.count()).select_from(Answer)) == answers


async def test_upgrading_a_database_with_answers_keeps_every_answer(database_url: str) -> None:
    """Each migration after the first runs on data: none may rebuild a table and lose its rows."""
    from datetime import UTC, datetime

    from sqlalchemy import DateTime, bindparam, text

    from storage.db import create_engine, upgrade

    def sql(statement: str) -> object:
        return text(statement).bindparams(bindparam("now", type_=DateTime(timezone=True)))

    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0004")
        now = datetime(2026, 5, 30, 10, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(
                sql("INSERT INTO respondent (id, channel, pseudonym, created_at) VALUES (1, 'web', 'p', :now)"),
                {"now": now},
            )
            await connection.execute(
                sql(
                    "INSERT INTO submission (id, respondent_id, questionnaire_id, questionnaire_version, channel,"
                    " event_known, language, status, step, editing, started_at, updated_at)"
                    " VALUES (1, 1, 'wizja-i-wartosci', 1, 'web', false, 'pl', 'active', 'question', false, :now, :now)"
                ),
                {"now": now},
            )
            await connection.execute(
                sql(
                    "INSERT INTO answer (submission_id, question_code, text, skipped, answered_at)"
                    " VALUES (1, 'helps', 'Sąsiedzi', false, :now)"
                ),
                {"now": now},
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM answer"))).scalar() == 1
            assert (await connection.execute(text("SELECT assisted FROM submission"))).scalar() in (False, 0)
    finally:
        await engine.dispose()


async def test_upgrading_a_0005_database_with_answers_keeps_them_and_flags_nothing(database_url: str) -> None:
    """0006 adds the flag columns and the kiosk table with plain ADD COLUMN / CREATE TABLE: no rebuild, no cascade."""
    from datetime import UTC, datetime

    from sqlalchemy import DateTime, bindparam, text

    from storage.db import create_engine, upgrade

    def sql(statement: str) -> object:
        return text(statement).bindparams(bindparam("now", type_=DateTime(timezone=True)))

    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0005")
        now = datetime(2026, 5, 30, 10, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(
                sql("INSERT INTO respondent (id, channel, pseudonym, created_at) VALUES (1, 'web', 'p', :now)"),
                {"now": now},
            )
            await connection.execute(
                sql(
                    "INSERT INTO submission (id, respondent_id, questionnaire_id, questionnaire_version, channel,"
                    " event_known, assisted, language, status, step, editing, started_at, updated_at)"
                    " VALUES (1, 1, 'wizja-i-wartosci', 1, 'web', false, true, 'pl', 'completed', 'done', false,"
                    " :now, :now)"
                ),
                {"now": now},
            )
            for code in ("helps", "district"):
                await connection.execute(
                    sql(
                        "INSERT INTO answer (submission_id, question_code, text, skipped, answered_at)"
                        f" VALUES (1, '{code}', 'Sąsiedzi', false, :now)"
                    ),
                    {"now": now},
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM answer"))).scalar() == 2
            row = (await connection.execute(text("SELECT assisted, flag, client FROM submission"))).one()
            assert (bool(row[0]), row[1], row[2]) == (True, None, None)
            assert (await connection.execute(text("SELECT count(*) FROM kiosk"))).scalar() == 0
    finally:
        await engine.dispose()

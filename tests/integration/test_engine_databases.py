"""The whole engine on each database: SQLite and a real PostgreSQL, through the service as it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select

from bot.service import Service, open_service
from handlers.engine.messages import Action, ReplyKind
from handlers.engine.states import Status
from storage.models import Answer, Base, Submission
from tests.support import FakeClock, Person, answer_everything, make_settings


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
                    " VALUES (1, 1, 'sasiedztwo', 1, 'web', false, 'pl', 'active', 'question', false, :now, :now)"
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
                    " VALUES (1, 1, 'sasiedztwo', 1, 'web', false, true, 'pl', 'completed', 'done', false,"
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


async def test_upgrading_a_0006_database_completes_email_submissions_with_their_opinion(database_url: str) -> None:
    """0007: email submissions (left `active` before email went through the engine) complete; a plain
    email's own words become the opinion answer where there is none; every answer already given stays."""
    from datetime import UTC, datetime

    from sqlalchemy import JSON, DateTime, bindparam, text

    from storage.db import create_engine, upgrade

    now = datetime(2026, 5, 30, 10, tzinfo=UTC)

    def sql(statement: str) -> object:
        return text(statement).bindparams(bindparam("now", type_=DateTime(timezone=True)))

    definition = {
        "id": "q",
        "questions": [
            {"code": "district", "type": "single_choice"},
            {"code": "meaning", "type": "text", "max_length": 2000},
            {"code": "helps", "type": "text"},
        ],
    }
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0006")
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO questionnaire_version VALUES ('q', 1, 'abc', :definition, :now)").bindparams(
                    bindparam("definition", type_=JSON), bindparam("now", type_=DateTime(timezone=True))
                ),
                {"now": now, "definition": definition},
            )
            for n in (1, 2, 3):
                await connection.execute(
                    sql(
                        f"INSERT INTO respondent (id, channel, pseudonym, created_at) VALUES ({n}, 'email', 'p{n}', :now)"
                    ),
                    {"now": now},
                )
                channel = "email" if n < 3 else "web"
                await connection.execute(
                    sql(
                        "INSERT INTO submission (id, respondent_id, questionnaire_id, questionnaire_version, channel,"
                        " event_known, assisted, language, status, step, editing, started_at, updated_at)"
                        f" VALUES ({n}, {n}, 'q', 1, '{channel}', false, false, 'pl', 'active', 'summary', false,"
                        " :now, :now)"
                    ),
                    {"now": now},
                )
            # 1: two plain emails, no answers; 2: a form reply with answers, the opinion already given.
            for email_id, submission, kind, words in (
                (1, 1, "person", "Sąsiedzi, którzy się znają."),
                (2, 1, "person", "I wspólne podwórko."),
                (3, 2, "form_reply", "1. b"),
            ):
                await connection.execute(
                    sql(
                        "INSERT INTO email (id, message_id, digest, raw, size, truncated, subject, language, kind,"
                        " text, own_text, respondent_id, submission_id, received_at)"
                        f" VALUES ({email_id}, '<m{email_id}@x>', 'd{email_id}', :raw, 3, false, '', 'pl', '{kind}',"
                        f" '{words}', '{words}', {submission}, {submission}, :now)"
                    ).bindparams(raw=b"raw"),
                    {"now": now},
                )
            for code, value in (("district", "wola"), ("meaning", "Już odpowiedziane.")):
                await connection.execute(
                    sql(
                        "INSERT INTO answer (submission_id, question_code, text, skipped, answered_at)"
                        f" VALUES (2, '{code}', '{value}', false, :now)"
                    ),
                    {"now": now},
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(text("SELECT id, status, step, finished_at FROM submission ORDER BY id"))
            ).all()
            assert [(r[0], r[1], r[2]) for r in rows] == [
                (1, "completed", "done"),
                (2, "completed", "done"),
                (3, "active", "summary"),
            ]
            assert rows[0][3] is not None
            answers = (
                await connection.execute(
                    text("SELECT submission_id, question_code, text FROM answer ORDER BY submission_id, question_code")
                )
            ).all()
            assert [tuple(a) for a in answers] == [
                (1, "meaning", "Sąsiedzi, którzy się znają.\n\nI wspólne podwórko."),
                (2, "district", "wola"),
                (2, "meaning", "Już odpowiedziane."),
            ]
            options = (await connection.execute(text("SELECT options FROM answer WHERE submission_id = 1"))).scalar()
            assert options is None  # SQL NULL, not the JSON text 'null'
    finally:
        await engine.dispose()


async def test_upgrading_a_0007_database_keeps_every_email_and_answer_and_adds_reply_to(database_url: str) -> None:
    """0008 adds email.reply_to with a plain ADD COLUMN: no rebuild, so nothing cascades; old emails have none."""
    from datetime import UTC, datetime

    from sqlalchemy import DateTime, bindparam, text

    from storage.db import create_engine, upgrade

    now = datetime(2026, 5, 30, 10, tzinfo=UTC)

    def sql(statement: str) -> object:
        return text(statement).bindparams(bindparam("now", type_=DateTime(timezone=True)))

    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0007")
        async with engine.begin() as connection:
            await connection.execute(
                sql("INSERT INTO respondent (id, channel, pseudonym, created_at) VALUES (1, 'email', 'p', :now)"),
                {"now": now},
            )
            await connection.execute(
                sql(
                    "INSERT INTO submission (id, respondent_id, questionnaire_id, questionnaire_version, channel,"
                    " event_known, assisted, language, status, step, editing, started_at, updated_at)"
                    " VALUES (1, 1, 'sasiedztwo', 1, 'email', false, false, 'pl', 'completed', 'done', false,"
                    " :now, :now)"
                ),
                {"now": now},
            )
            await connection.execute(
                sql(
                    "INSERT INTO answer (submission_id, question_code, text, skipped, answered_at)"
                    " VALUES (1, 'community_meaning', 'Sąsiedzi', false, :now)"
                ),
                {"now": now},
            )
            await connection.execute(
                sql(
                    "INSERT INTO email (id, message_id, digest, raw, size, truncated, subject, language, kind,"
                    " text, own_text, respondent_id, submission_id, received_at)"
                    " VALUES (1, '<m1@x>', 'd1', :raw, 3, false, 'Opinia', 'pl', 'opinion',"
                    " 'Sąsiedzi', 'Sąsiedzi', 1, 1, :now)"
                ).bindparams(raw=b"raw"),
                {"now": now},
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT kind, own_text, submission_id, reply_to FROM email"))).one()
            assert tuple(row) == ("opinion", "Sąsiedzi", 1, None)
            assert (await connection.execute(text("SELECT count(*) FROM answer"))).scalar() == 1
            assert (await connection.execute(text("SELECT status FROM submission"))).scalar() == "completed"
            await connection.execute(text("UPDATE email SET reply_to = 'ktos@example.com'"))
    finally:
        await engine.dispose()

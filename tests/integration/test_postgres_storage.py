"""The storage layer against real databases: the same tests on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.engine.states import Status
from storage.db import MIGRATIONS, create_engine, create_sessions, current_revision, upgrade
from storage.exports import SubmissionFilter, stream_submission_rows
from storage.models import Answer, Contact, QuestionnaireVersion, Respondent, Submission
from storage.repository import AnswerValue, Store, Unit, VersionConflict
from tests.support import count

NOW = datetime(2026, 5, 30, 12, 0, tzinfo=UTC)
TABLES = {"respondent", "contact", "questionnaire_version", "submission", "answer"}


@pytest.fixture
async def blank_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database, disposed afterwards."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(blank_engine: AsyncEngine) -> Store:
    """The storage API over the migrated database."""
    await upgrade(blank_engine)
    return Store(create_sessions(blank_engine))


async def start_submission(
    unit: Unit,
    pseudonym: str = "anna",
    *,
    questionnaire_id: str = "wizja",
    version: int = 1,
    status: Status = Status.ACTIVE,
) -> Submission:
    """Creates a respondent (if new) and a submission of theirs, with ids assigned."""
    respondent = await unit.ensure_respondent("telegram", pseudonym, NOW)
    submission = Submission(
        respondent_id=respondent.id,
        questionnaire_id=questionnaire_id,
        questionnaire_version=version,
        channel="telegram",
        language="pl",
        status=status,
        started_at=NOW,
        updated_at=NOW,
        answers={},
    )
    unit.add(submission)
    await unit.flush()
    return submission


async def load(store: Store, pseudonym: str = "anna", questionnaire_id: str = "wizja") -> Submission:
    """Reads a respondent's latest submission with its answers, in a transaction of its own."""
    async with store.unit() as unit:
        submission = await unit.latest_submission("telegram", pseudonym, questionnaire_id)
    assert submission is not None
    return submission


async def load_in(unit: Unit, questionnaire_id: str) -> Submission:
    """Reads anna's latest submission of a questionnaire inside an open unit."""
    submission = await unit.latest_submission("telegram", "anna", questionnaire_id)
    assert submission is not None
    return submission


async def test_migrations_create_the_tables_and_can_run_again(blank_engine: AsyncEngine) -> None:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert await current_revision(blank_engine) is None

    await upgrade(blank_engine)
    await upgrade(blank_engine)

    async with blank_engine.connect() as connection:
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    assert tables >= TABLES | {"alembic_version"}
    assert await current_revision(blank_engine) == head


async def test_ensure_respondent_returns_the_same_row_every_time(store: Store) -> None:
    async with store.unit() as unit:
        first = await unit.ensure_respondent("telegram", "anna", NOW)
    async with store.unit() as unit:
        again = await unit.ensure_respondent("telegram", "anna", NOW + timedelta(days=1))
        other_channel = await unit.ensure_respondent("email", "anna", NOW)

    assert again.id == first.id
    assert again.created_at == NOW
    assert other_channel.id != first.id
    assert await count(store, Respondent) == 2


async def test_ensure_respondent_racing_units_create_one_row(store: Store) -> None:
    racers = 6
    together = asyncio.Barrier(racers)

    async def arrive() -> int:
        async with store.unit() as unit:
            # Every unit has opened its transaction before any of them inserts. Only PostgreSQL
            # really races here: SQLite's BEGIN IMMEDIATE makes the units take turns.
            await together.wait()
            respondent = await unit.ensure_respondent("telegram", "anna", NOW)
            return respondent.id

    ids = await asyncio.wait_for(asyncio.gather(*(arrive() for _ in range(racers))), timeout=20)

    assert len(set(ids)) == 1
    assert await count(store, Respondent) == 1


TEXTS = {
    "polish": "Zażółć gęślą jaźń — ŻÓŁW na Śródmieściu, „cudzysłów”",
    "ukrainian": "Привіт! Ґанок, їжак, Європа — дякую за опитування",
    "emoji": "👍🏽 🇵🇱 👨‍👩‍👧‍👦 🏙️ ❤️‍🔥",
    "rtl": "مرحبا بالعالم \u200f שלום עולם",
    "long": ("Wspólnota 🌳 Warszawa — więcej zieleni. " * 1300)[:50_000],
}


async def test_answers_round_trip_unicode_option_lists_and_numbers(store: Store) -> None:
    assert len(TEXTS["long"]) == 50_000
    async with store.unit() as unit:
        submission = await start_submission(unit)
        for code, text in TEXTS.items():
            unit.save_answer(submission, code, AnswerValue(text=text), NOW)
        unit.save_answer(submission, "places", AnswerValue(options=["park", "biblioteka", "інше 🚲"]), NOW)
        unit.save_answer(submission, "age", AnswerValue(number=0), NOW)
        unit.save_answer(submission, "low", AnswerValue(number=-(2**31)), NOW)
        unit.save_answer(submission, "high", AnswerValue(number=2**31 - 1), NOW)
        unit.save_answer(submission, "skipped", AnswerValue(skipped=True), NOW)
        submission.draft = ["a", "ż"]

    stored = await load(store)

    assert {code: stored.answers[code].text for code in TEXTS} == TEXTS
    assert stored.answers["places"].options == ["park", "biblioteka", "інше 🚲"]
    assert [stored.answers[code].number for code in ("age", "low", "high")] == [0, -(2**31), 2**31 - 1]
    skipped = stored.answers["skipped"]
    assert (skipped.skipped, skipped.options, skipped.text, skipped.number) == (True, None, None, None)
    assert stored.answers["polish"].skipped is False
    assert stored.draft == ["a", "ż"]


async def test_datetimes_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    warsaw_evening = datetime(2026, 7, 1, 21, 15, 30, 123456, tzinfo=ZoneInfo("Europe/Warsaw"))
    async with store.unit() as unit:
        submission = await start_submission(unit)
        unit.save_answer(submission, "q1", AnswerValue(text="tak"), warsaw_evening)

    answered_at = (await load(store)).answers["q1"].answered_at

    assert answered_at == warsaw_evening
    assert answered_at.utcoffset() == timedelta(0)
    assert answered_at == datetime(2026, 7, 1, 19, 15, 30, 123456, tzinfo=UTC)
    assert answered_at.isoformat() == "2026-07-01T19:15:30.123456+00:00"


async def test_a_naive_datetime_is_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with store.unit() as unit:
            await unit.ensure_respondent("telegram", "anna", datetime(2026, 5, 30, 12, 0))

    assert await count(store, Respondent) == 0


async def test_saving_an_answer_twice_updates_its_one_row(store: Store) -> None:
    async with store.unit() as unit:
        submission = await start_submission(unit)
        unit.save_answer(submission, "q1", AnswerValue(options=["park"]), NOW)
    async with store.unit() as unit:
        submission = await load_in(unit, "wizja")
        unit.save_answer(submission, "q1", AnswerValue(text="jednak coś innego"), NOW + timedelta(minutes=5))

    assert await count(store, Answer) == 1
    answer = (await load(store)).answers["q1"]
    assert (answer.options, answer.text) == (None, "jednak coś innego")
    assert answer.answered_at == NOW + timedelta(minutes=5)


async def test_the_database_refuses_a_second_row_for_one_question(store: Store) -> None:
    async with store.unit() as unit:
        submission = await start_submission(unit)
        unit.save_answer(submission, "q1", AnswerValue(text="pierwsza"), NOW)

    with pytest.raises(IntegrityError):
        async with store.unit() as unit:
            unit.add(Answer(submission_id=submission.id, question_code="q1", text="druga", answered_at=NOW))

    assert (await load(store)).answers["q1"].text == "pierwsza"


async def test_dropped_answers_are_deleted(store: Store) -> None:
    async with store.unit() as unit:
        submission = await start_submission(unit)
        for code in ("q1", "q2", "q3"):
            unit.save_answer(submission, code, AnswerValue(text=code), NOW)
    async with store.unit() as unit:
        submission = await load_in(unit, "wizja")
        unit.drop_answers(submission, ["q1", "q3", "never-answered"])

    assert sorted((await load(store)).answers) == ["q2"]
    assert await count(store, Answer) == 1


async def test_deleting_the_only_submission_removes_answers_contact_and_respondent(store: Store) -> None:
    async with store.unit() as unit:
        submission = await start_submission(unit)
        unit.save_answer(submission, "q1", AnswerValue(text="tak"), NOW)
        await unit.set_contact(submission.respondent_id, "anna@example.org", NOW)
    async with store.unit() as unit:
        submission = await load_in(unit, "wizja")
        await unit.delete_submission(submission)

    assert [await count(store, model) for model in (Answer, Submission, Contact, Respondent)] == [0, 0, 0, 0]


async def test_deleting_one_submission_keeps_the_respondents_other_one(store: Store) -> None:
    async with store.unit() as unit:
        older = await start_submission(unit, questionnaire_id="wizja")
        unit.save_answer(older, "q1", AnswerValue(text="zostaje"), NOW)
        newer = await start_submission(unit, questionnaire_id="ankieta-2")
        unit.save_answer(newer, "q1", AnswerValue(text="znika"), NOW)
    async with store.unit() as unit:
        await unit.delete_submission(await load_in(unit, "ankieta-2"))

    assert await count(store, Respondent) == 1
    assert await count(store, Submission) == 1
    assert [answer.text for answer in (await load(store)).answers.values()] == ["zostaje"]


async def test_set_contact_keeps_one_address_and_updates_it(store: Store) -> None:
    async with store.unit() as unit:
        respondent = await unit.ensure_respondent("email", "anna", NOW)
        await unit.set_contact(respondent.id, "anna@example.org", NOW)
    async with store.unit() as unit:
        await unit.set_contact(respondent.id, "anna@example.org", NOW + timedelta(days=1))
    async with store.unit() as unit:
        await unit.set_contact(respondent.id, "anna.kowalska@example.org", NOW + timedelta(days=2))

    async with store.sessions() as session:
        contacts = (await session.scalars(select(Contact))).all()
    assert [(c.address, c.updated_at) for c in contacts] == [("anna.kowalska@example.org", NOW + timedelta(days=2))]


DEFINITION: dict[str, Any] = {
    "title": {"pl": "Wizja i wartości", "uk": "Бачення і цінності"},
    "questions": [{"code": "q1", "type": "choice", "options": ["park", "żłobek"], "max": 3}],
}


async def stored_version(store: Store, version: int = 1) -> QuestionnaireVersion:
    async with store.sessions() as session:
        row = await session.get(QuestionnaireVersion, ("wizja", version))
    assert row is not None
    return row


async def test_register_questionnaire_keeps_a_snapshot(store: Store) -> None:
    await store.register_questionnaire("wizja", 1, "aaaa", DEFINITION, NOW)
    await store.register_questionnaire("wizja", 1, "aaaa", DEFINITION, NOW + timedelta(days=1))

    row = await stored_version(store)
    assert (row.digest, row.definition, row.registered_at) == ("aaaa", DEFINITION, NOW)
    assert await count(store, QuestionnaireVersion) == 1


async def test_register_questionnaire_accepts_a_changed_structure_before_any_submission(store: Store) -> None:
    await store.register_questionnaire("wizja", 1, "aaaa", DEFINITION, NOW)
    async with store.unit() as unit:
        await start_submission(unit, version=2)  # answers under another version do not pin version 1
    changed = {**DEFINITION, "questions": []}

    await store.register_questionnaire("wizja", 1, "bbbb", changed, NOW)

    row = await stored_version(store)
    assert (row.digest, row.definition) == ("bbbb", changed)


async def test_register_questionnaire_refuses_a_changed_structure_once_answers_exist(store: Store) -> None:
    await store.register_questionnaire("wizja", 1, "aaaa", DEFINITION, NOW)
    async with store.unit() as unit:
        await start_submission(unit, version=1)
    reworded = {**DEFINITION, "title": {"pl": "Wizja i wartości Warszawy"}}

    with pytest.raises(VersionConflict, match="raise `version` to 2"):
        await store.register_questionnaire("wizja", 1, "bbbb", {"questions": []}, NOW)
    await store.register_questionnaire("wizja", 1, "aaaa", reworded, NOW)
    await store.register_questionnaire("wizja", 2, "bbbb", {"questions": []}, NOW)

    row = await stored_version(store)
    assert (row.digest, row.definition) == ("aaaa", reworded)
    assert (await stored_version(store, 2)).digest == "bbbb"


async def test_submission_rows_carry_answers_and_pseudonyms_oldest_first(store: Store) -> None:
    async with store.unit() as unit:
        for pseudonym, questionnaire_id, status in [
            ("anna", "wizja", Status.COMPLETED),
            ("borys", "wizja", Status.ACTIVE),
            ("celina", "wizja", Status.CANCELLED),
            ("dmytro", "inna", Status.COMPLETED),
            ("ewa", "wizja", Status.COMPLETED),
        ]:
            submission = await start_submission(unit, pseudonym, questionnaire_id=questionnaire_id, status=status)
            unit.save_answer(submission, "q1", AnswerValue(text=f"{pseudonym} ✓"), NOW)

    everything = [(r.questionnaire_id, r.pseudonym) async for r in stream_submission_rows(store, SubmissionFilter())]
    completed = [
        (r.pseudonym, {code: text for code, _, text, _, _ in r[-1]})
        async for r in stream_submission_rows(store, SubmissionFilter("wizja", completed_only=True))
    ]

    assert everything == [("wizja", "anna"), ("wizja", "borys"), ("inna", "dmytro"), ("wizja", "ewa")]
    assert completed == [("anna", {"q1": "anna ✓"}), ("ewa", {"q1": "ewa ✓"})]


async def test_margins_counted_by_the_database_match_those_read_one_by_one(store: Store) -> None:
    """The live dashboard's count of who answered what (GROUP BY the stored JSON, on PostgreSQL's json type
    too) is what reading every completed submission's answers gives."""
    from collections import Counter

    from storage.margins import count_margin_answers, read_margin_answers

    people = {
        "anna": (Status.COMPLETED, ["wola"], ["age_30_44"]),
        "basia": (Status.COMPLETED, ["wola"], None),
        "celina": (Status.COMPLETED, ["żoliborz"], ["age_18_29"]),
        "dorota": (Status.COMPLETED, None, ["age_30_44"]),
        "ewa": (Status.ACTIVE, ["wola"], ["age_30_44"]),  # not finished: not counted
    }
    async with store.unit() as unit:
        for name, (status, district, age) in people.items():
            submission = await start_submission(unit, name, status=status)
            if district is not None:
                unit.save_answer(submission, "district", AnswerValue(options=district), NOW)
            else:
                unit.save_answer(submission, "district", AnswerValue(skipped=True), NOW)
            if age is not None:
                unit.save_answer(submission, "age_band", AnswerValue(options=age), NOW)
    filters = SubmissionFilter("wizja")
    questions = ["district", "age_band"]
    counted = await count_margin_answers(store, filters, questions)
    read = await read_margin_answers(store, filters, questions)
    assert counted.submissions == len(read) == 4
    for question in questions:
        expected = Counter(answers[question] for answers in read.values() if question in answers)
        assert counted.picked[question] == expected
    assert counted.picked["district"] == Counter({"wola": 2, "żoliborz": 1})

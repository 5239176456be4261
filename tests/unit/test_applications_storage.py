"""Working-group applications in storage, on SQLite and on a throwaway PostgreSQL: one per person,
updated in place, withdrawn, judged by staff, found twice, erased and purged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.applications import (
    ApplicationFields,
    ApplicationStatus,
    Duplicate,
    UnknownApplication,
    exclude_application,
    fields_of,
    find_application,
    find_duplicates,
    in_the_draw,
    include_application,
    list_applications,
    name_key,
    parse_reference,
    record_application,
    withdraw_application,
)
from storage.db import create_engine, create_sessions, upgrade
from storage.erasure import forget, purge
from storage.models import Application, AuditEntry, Respondent
from storage.repository import Store
from tests.support import count

NOW = datetime(2027, 9, 10, 12, 0, tzinfo=UTC)
ANNA = ApplicationFields(
    name="Anna  Kowalska",
    email="Anna.Kowalska@Example.org ",
    organisation="Fundacja Sąsiedzi",
    sector="ngo",
    groups=("otwartosc", "aktywnosc"),
    description="Prowadzę klub sąsiedzki na Woli.",
    available=True,
    language="pl",
    privacy_version="2027-09-01",
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> Store:
    return Store(create_sessions(engine))


async def apply(
    store: Store,
    who: str,
    fields: ApplicationFields = ANNA,
    *,
    channel: str = "telegram",
    complete: bool = True,
    late: bool = False,
    at: datetime = NOW,
) -> Application:
    """Records an application as the engine will: in a unit, for a respondent of a channel."""
    async with store.unit() as unit:
        respondent = await unit.ensure_respondent(channel, who, at)
        return await record_application(
            unit,
            respondent_id=respondent.id,
            submission_id=None,
            channel=channel,
            received_at=at,
            late=late,
            fields=fields,
            complete=complete,
            now=at,
        )


async def test_the_migration_makes_the_table_the_model_describes(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        columns = await connection.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("application")})
    assert columns == set(Application.__table__.columns.keys())


async def test_a_later_call_updates_the_one_application_and_keeps_the_first_receipt(store: Store) -> None:
    first = await apply(store, "anna", replace(ANNA, sector=None), complete=False)
    assert first.reference == f"Z-{first.id}" and first.status == ApplicationStatus.INCOMPLETE
    assert (first.name, first.email) == ("Anna Kowalska", "anna.kowalska@example.org")

    later = NOW + timedelta(days=25)
    second = await apply(store, "anna", ANNA, complete=True, late=True, at=later)

    assert second.id == first.id and await count(store, Application) == 1
    assert second.status == ApplicationStatus.COMPLETE and second.sector == "ngo"
    # When it arrived stays: a correction after the deadline does not make an on-time application late.
    assert (second.received_at, second.late, second.updated_at) == (NOW, False, later)
    async with store.unit(write=False) as unit:
        found = await find_application(unit, second.respondent_id)
    assert found is not None and fields_of(found) == replace(
        ANNA, name="Anna Kowalska", email="anna.kowalska@example.org"
    )


async def test_two_steps_of_one_person_at_once_make_one_application(store: Store) -> None:
    first, second = await asyncio.gather(apply(store, "anna", complete=False), apply(store, "anna"))
    assert first.id == second.id and await count(store, Application) == 1


async def test_a_late_application_stays_late(store: Store) -> None:
    await apply(store, "bob", late=True, complete=False)
    assert (await apply(store, "bob", late=False)).late is True


async def test_withdrawing_marks_it_and_a_new_completion_revives_it(store: Store) -> None:
    applied = await apply(store, "anna")
    async with store.unit() as unit:
        withdrawn = await withdraw_application(unit, applied.respondent_id, NOW + timedelta(hours=1))
        nobody = await withdraw_application(unit, applied.respondent_id + 100, NOW)
    assert withdrawn is not None and withdrawn.status == ApplicationStatus.WITHDRAWN and nobody is None
    assert (await apply(store, "anna")).status == ApplicationStatus.COMPLETE


async def test_staff_exclude_and_include_by_reference_in_the_audit_log(store: Store) -> None:
    applied = await apply(store, "anna")
    excluded = await exclude_application(store, f"z{applied.id}", reason="not 16 yet", actor="cli:staff", now=NOW)
    assert (excluded.excluded, excluded.exclusion_reason) == (True, "not 16 yet")
    included = await include_application(store, applied.reference, actor="cli:staff", now=NOW)
    assert (included.excluded, included.exclusion_reason) == (False, None)
    with pytest.raises(UnknownApplication, match="Z-999"):
        await include_application(store, "Z-999", actor="cli:staff", now=NOW)
    with pytest.raises(UnknownApplication):
        await exclude_application(store, "anna", reason="x", actor="cli:staff", now=NOW)
    async with store.sessions() as session:
        entries = [(e.action, e.details) for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert entries == [
        ("application_exclude", {"application": applied.reference, "was_excluded": False, "reason": "not 16 yet"}),
        ("application_include", {"application": applied.reference, "was_excluded": True}),
    ]


async def test_an_applicants_correction_keeps_staffs_exclusion(store: Store) -> None:
    applied = await apply(store, "anna")
    await exclude_application(store, applied.reference, reason="not 16 yet", actor="cli:staff", now=NOW)
    corrected = await apply(store, "anna", replace(ANNA, organisation="Fundacja Inna"))
    assert corrected.id == applied.id and corrected.organisation == "Fundacja Inna"
    assert (corrected.excluded, corrected.exclusion_reason) == (True, "not 16 yet")


def test_references_and_names_as_staff_and_people_write_them() -> None:
    assert [parse_reference(r) for r in ("Z-12", "z12", " 12 ", "Z-", "12a", "")] == [12, 12, 12, None, None, None]
    assert name_key("Łucja  ŻAK-Wiśniewska") == name_key("wisniewska, zak lucja") == "lucja wisniewska zak"
    assert name_key("  ") is None and name_key(None) is None


async def test_one_person_from_two_addresses_or_two_channels_is_a_possible_duplicate(store: Store) -> None:
    a = await apply(store, "anna@example.org", channel="email")
    b = await apply(store, "anna-private", replace(ANNA, name="KOWALSKA Anna", email="anna@private.pl"))
    c = await apply(store, "anna-web", replace(ANNA, name="Someone Else"), channel="web")
    await apply(store, "other", replace(ANNA, name="Jan Nowak", email="jan@example.org"))
    withdrawn = await apply(store, "withdrawn", replace(ANNA, email="x@example.org"))
    async with store.unit() as unit:
        await withdraw_application(unit, withdrawn.respondent_id, NOW)

    assert await find_duplicates(store) == [
        Duplicate("email", (a.reference, c.reference)),
        Duplicate("name", (a.reference, b.reference)),
    ]
    assert [x.reference for x in await list_applications(store)][:3] == [a.reference, b.reference, c.reference]


async def test_forget_by_email_erases_applications_by_respondent_and_by_their_address(store: Store) -> None:
    emailed = await apply(store, "anna-hash", channel="email")
    from_telegram = await apply(store, "anna-telegram", replace(ANNA, email="ANNA.kowalska@example.org"))
    other = await apply(store, "jan", replace(ANNA, name="Jan", email="jan@example.org"))

    erased = await forget(
        store, channel="email", pseudonym="anna-hash", address="anna.kowalska@example.org", actor="cli:x", now=NOW
    )

    assert erased.applications == 2 and erased.anything
    async with store.sessions() as session:
        left = {a.id for a in await session.scalars(select(Application))}
        audit = (await session.scalars(select(AuditEntry))).one()
    assert left == {other.id} and emailed.id not in left and from_telegram.id not in left
    assert audit.details["applications"] == 2


async def test_forget_by_telegram_id_erases_their_application(store: Store) -> None:
    await apply(store, "tg-hash")
    erased = await forget(store, channel="telegram", pseudonym="tg-hash", address="4242", actor="cli:x", now=NOW)
    assert (erased.applications, erased.respondents) == (1, 1)
    assert await count(store, Application) == 0


async def test_purge_erases_old_applications_and_keeps_the_people_of_newer_ones(store: Store) -> None:
    await apply(store, "old", at=NOW - timedelta(days=800))
    await apply(store, "new", at=NOW)
    counts = await purge(store, before=NOW - timedelta(days=730), actor="cli:x", now=NOW)
    assert (counts["applications"], counts["respondents"]) == (1, 1)
    assert await count(store, Application) == 1 and await count(store, Respondent) == 1


def test_in_the_draw_only_complete_on_time_eligible_and_not_excluded() -> None:
    def application(**changes: object) -> Application:
        values: dict[str, object] = {"status": "complete", "late": False, "excluded": False, "available": True}
        return Application(**(values | changes))

    assert in_the_draw(application()) and in_the_draw(application(available=None))
    for changes in ({"status": "incomplete"}, {"status": "withdrawn"}, {"late": True}, {"excluded": True}):
        assert not in_the_draw(application(**changes)), changes
    assert not in_the_draw(application(available=False))  # cannot attend the group's meetings

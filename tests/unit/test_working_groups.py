"""The working groups after a draw, on a draw stored by hand (no lottery needed): decisions once each even after
a crash, a new draw refused once they are out, answers recorded once, replacements within the quotas,
cancellations and reminders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.group_mail import GroupsError
from bot.service import Service, open_service
from bot.working_groups import WorkingGroups, working_groups
from handlers.definitions.recruitment import WARSAW
from storage import selection as stored
from storage.applications import ApplicationFields, withdraw_application
from storage.models import Notice, OutboxMessage
from storage.selection import Attendance, PlacementValues, Role, live_seats, placements_by_application
from tests.support import SHIPPED_CONFIG, FakeClock, make_settings
from tests.support.applicants import record_applicant, store_draw_by_hand

AFTER_THE_CALL = datetime(2027, 10, 2, 8, 0, tzinfo=UTC)
# 30 applicants of group otwartosc: 24 seats by sector within the quotas, then a reserve of 6.
SEATED = ["ngo"] * 5 + ["informal"] * 4 + ["resident"] * 6 + ["district_office"] * 3
SEATED += ["city_institution"] * 3 + ["city_hall"] * 3
RESERVE = ["city_hall", "resident", "ngo", "informal", "district_office", "resident"]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG))
    async with open_service(settings, clock=FakeClock(AFTER_THE_CALL)) as running:
        yield running


def groups_of(service: Service) -> WorkingGroups:
    found = working_groups(service)
    assert found is not None
    return found


async def applicants(service: Service, sectors: list[str], *, late: int = 0, incomplete: int = 0) -> list[int]:
    now = service.conversation.clock()
    ids = []
    async with service.store.unit() as unit:
        for n, sector in enumerate(sectors):
            fields = ApplicationFields(
                name=f"Osoba {n}", email=f"osoba{n}@example.pl", sector=sector, groups=("otwartosc",), available=True
            )
            ids.append(await record_applicant(unit, f"p{n}", fields, now, late=n < late, complete=n >= incomplete))
    return ids


async def draw_by_hand(service: Service, ids: list[int]) -> None:
    placements = [PlacementValues(a, "otwartosc", Role.SELECTED, 0.8) for a in ids[:24]]
    placements += [PlacementValues(a, "otwartosc", Role.RESERVE, 0.2, n) for n, a in enumerate(ids[24:], start=1)]
    await store_draw_by_hand(service.store, placements, service.conversation.clock())


async def outbox(service: Service, purpose: str | None = None) -> list[OutboxMessage]:
    async with service.store.unit(write=False) as unit:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if purpose:
            query = query.where(OutboxMessage.purpose == purpose)
        return list(await unit.session.scalars(query))


async def test_everyone_hears_once_even_after_a_crash_and_the_draw_then_stands(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await applicants(service, SEATED + RESERVE + ["ngo", "ngo", "resident"], late=0)
    await draw_by_hand(service, ids[:30])
    async with service.store.unit() as unit:  # one withdrew: told nothing
        application = await unit.session.get(stored.Application, ids[-1])
        assert application is not None
        await withdraw_application(unit, application.respondent_id, service.conversation.clock())
    groups = groups_of(service)
    calls = 0
    real = stored.record_notice

    async def crash_on_the_15th(*args: object, **kwargs: object) -> bool:
        nonlocal calls
        calls += 1
        if calls == 15:
            raise RuntimeError("the power went out")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("bot.working_groups.record_notice", crash_on_the_15th)
    monkeypatch.setattr("bot.working_groups.BATCH", 10)
    with pytest.raises(RuntimeError):
        await groups.notify("test")
    told_before = len(await outbox(service))
    assert 0 < told_before < 32
    monkeypatch.setattr("bot.working_groups.record_notice", real)
    assert await _notices(service) == told_before  # the crashed batch left nothing behind
    assert await groups.notify("test") == 32 - told_before
    mails = await outbox(service)
    assert len(mails) == 32  # 33 applicants, one withdrawn: one message each
    assert len({m.to_address for m in mails}) == 32
    assert await groups.notify("test") == 0
    seats = [m for m in mails if m.calendar]
    assert len(seats) == 24
    reserve = [m for m in mails if "listę rezerwową" in m.body]
    assert len(reserve) == 6 and any("na miejsce 1." in m.body for m in reserve)
    assert sum("nie przydzieliło" in m.body for m in mails) == 2
    with pytest.raises(GroupsError, match="stands"):
        await groups.select(8, dry_run=False, actor="test")


async def _notices(service: Service) -> int:
    async with service.store.unit(write=False) as unit:
        return int(await unit.session.scalar(select(func.count()).select_from(Notice)) or 0)


async def test_late_and_incomplete_applicants_hear_why(service: Service) -> None:
    ids = await applicants(service, ["ngo", "ngo", "resident"], late=1, incomplete=2)
    await draw_by_hand(service, [])
    assert await groups_of(service).notify("test") == len(ids)
    bodies = [m.body for m in await outbox(service)]
    assert sum("po terminie naboru" in b for b in bodies) == 1
    assert sum("brakowało w nim odpowiedzi" in b for b in bodies) == 1


async def test_answers_are_recorded_once_and_a_refusal_is_replaced_within_the_quotas(service: Service) -> None:
    ids = await applicants(service, SEATED + RESERVE)
    await draw_by_hand(service, ids)
    groups = groups_of(service)
    await groups.notify("test")
    city_hall = ids[SEATED.index("city_hall")]  # a city_hall seat: the group may lose it only to another
    async with service.store.unit() as unit:
        assert len(await groups.answer_in(unit, Attendance.CONFIRMED, application_ids=[ids[0]])) == 1
        assert await groups.answer_in(unit, Attendance.CONFIRMED, application_ids=[ids[0]]) == []  # twice: once
        assert await groups.answer_in(unit, Attendance.DECLINED, application_ids=[city_hall])
    [done] = [r for r in await groups.replace("test") if r.group == "otwartosc"]
    assert done.released == []  # a refusal frees its seat at once
    [refused] = (await placements_by_application(service.store))[city_hall]
    assert refused.release_reason == "declined" and refused.attendance == Attendance.DECLINED
    assert done.offered == [ids[24]]  # the first on the list, a city_hall person: the quotas hold
    offers = await outbox(service, "offer")
    assert len(offers) == 1 and offers[0].calendar and "zwolniło się miejsce" in offers[0].body
    again = await groups.replace("test")
    assert all(not r.offered and not r.released for r in again)


async def test_unconfirmed_seats_are_freed_after_the_time_to_confirm(service: Service) -> None:
    ids = await applicants(service, SEATED + RESERVE)
    await draw_by_hand(service, ids)
    groups = groups_of(service)
    await groups.notify("test")
    async with service.store.unit() as unit:
        for application in ids[1:24]:
            await groups.answer_in(unit, Attendance.CONFIRMED, application_ids=[application])
    clock = service.conversation.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=8)
    [done] = [r for r in await groups.replace("test") if r.group == "otwartosc"]
    assert done.released == [(ids[0], "no_answer")]
    assert len(done.offered) == 1


async def test_a_cancelled_optional_meeting_sends_a_calendar_cancel_and_no_reminder(service: Service) -> None:
    ids = await applicants(service, SEATED)
    await draw_by_hand(service, ids)
    groups = groups_of(service)
    await groups.notify("test")
    async with service.store.unit() as unit:
        await groups.answer_in(unit, Attendance.CONFIRMED, application_ids=[ids[0]])
    with pytest.raises(GroupsError, match="optional"):
        await groups.cancel_meeting("grupa-1-spotkanie-1-2027-10-25", "test")
    assert await groups.cancel_meeting("grupa-1-spotkanie-3-2027-11-22", "test") == 24
    assert await groups.cancel_meeting("grupa-1-spotkanie-3-2027-11-22", "test") == 0
    [cancel, *_] = await outbox(service, "cancel")
    assert cancel.calendar is not None
    parsed = Calendar.from_ical(cancel.calendar)
    assert str(parsed["METHOD"]) == "CANCEL"
    third = service.config.events["grupa-1-spotkanie-3-2027-11-22"]
    clock = service.conversation.clock
    assert isinstance(clock, FakeClock)
    clock.now = datetime.combine(third.starts.astimezone(WARSAW).date() - timedelta(days=1), time(11), WARSAW)
    assert await groups.remind() == 0
    first = service.config.events["grupa-1-spotkanie-1-2027-10-25"]
    clock.now = datetime.combine(first.starts.astimezone(WARSAW).date() - timedelta(days=1), time(11), WARSAW)
    assert await groups.remind() == 1  # the confirmed one only
    assert await groups.remind() == 0


async def test_an_answer_after_the_last_meeting_changes_nothing(service: Service) -> None:
    ids = await applicants(service, SEATED)
    await draw_by_hand(service, ids)
    groups = groups_of(service)
    await groups.notify("test")
    clock = service.conversation.clock
    assert isinstance(clock, FakeClock)
    clock.now = datetime(2027, 12, 1, 12, tzinfo=UTC)
    async with service.store.unit() as unit:
        assert await groups.answer_in(unit, Attendance.DECLINED, application_ids=[ids[0]]) == []
        assert len(await live_seats(unit)) == 24
    placements = await placements_by_application(service.store)
    assert placements[ids[0]][0].attendance is None


async def test_a_changed_meeting_updates_everyones_invitation_with_a_higher_sequence(service: Service) -> None:
    ids = await applicants(service, SEATED)
    await draw_by_hand(service, ids)
    groups = groups_of(service)
    with pytest.raises(GroupsError, match="not sent yet"):
        await groups.update_invitations("test")
    await groups.notify("test")
    assert await groups.update_invitations("test") == 24
    updates = await outbox(service, "update")
    assert len(updates) == 24 and all("zmieniły się szczegóły" in m.body for m in updates)
    first = next(m for m in await outbox(service, "decision") if m.to_address == updates[0].to_address)
    before, after = (Calendar.from_ical(m.calendar or "") for m in (first, updates[0]))
    [old] = [e for e in before.walk("VEVENT") if "RECURRENCE-ID" not in e]
    [new] = [e for e in after.walk("VEVENT") if "RECURRENCE-ID" not in e]
    assert str(old["UID"]) == str(new["UID"]) and int(new["SEQUENCE"]) == int(old["SEQUENCE"]) + 1
    assert str(after["METHOD"]) == "REQUEST"


async def test_the_service_sends_the_decisions_itself_on_the_decision_date_and_reminds_the_day_before(
    service: Service,
) -> None:
    ids = await applicants(service, SEATED)
    await draw_by_hand(service, ids)
    groups = groups_of(service)
    clock = service.conversation.clock
    assert isinstance(clock, FakeClock)
    clock.now = datetime(2027, 10, 8, 6, 59, tzinfo=UTC)  # 08:59 in Warsaw on the decision date
    assert await groups.tick() == {}
    assert await outbox(service) == []
    clock.advance(minutes=1)
    assert (await groups.tick())["told"] == 24
    assert len(await outbox(service, "decision")) == 24
    assert (await groups.tick())["told"] == 0  # never twice
    async with service.store.unit() as unit:
        await groups.answer_in(unit, Attendance.CONFIRMED, application_ids=ids[:2])
    clock.now = datetime(2027, 10, 24, 8, 0, tzinfo=UTC)  # 10:00 in Warsaw the day before the first meeting
    assert (await groups.tick())["reminded"] == 2
    assert (await groups_of(service).tick())["reminded"] == 0  # a restarted service: once

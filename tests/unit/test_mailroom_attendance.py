"""Answers to a seat's invitation as Outlook, Gmail and Apple Mail send them (tests/emails/calendar), and plain
replies, through the mailroom: recorded as the person's confirmation or refusal, never answered; an answer
about one meeting, a tentative one or a question are kept for staff."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.mailroom import Mailroom, build_mailroom
from bot.service import Service, open_service
from handlers.email.calendar import calendar_replies
from storage.applications import ApplicationFields
from storage.models import Email, OutboxMessage, Placement
from storage.selection import Attendance, PlacementValues, Role, placements_by_application
from tests.support import SHIPPED_CONFIG, FakeClock, make_settings
from tests.support.applicants import record_applicant, store_draw_by_hand
from tests.support.emails import build_email

CALENDAR = Path(__file__).resolve().parent.parent / "emails" / "calendar"
AFTER_THE_DECISIONS = datetime(2027, 10, 9, 8, 0, tzinfo=UTC)
PEOPLE = {  # fixture: (the sender's address, the group of their seat)
    "01-outlook-pl-accepted-series.eml": ("jan.kowalski@example.pl", "otwartosc"),
    "02-gmail-en-accepted-series.eml": ("anna.nowak@example.com", "otwartosc"),
    "03-apple-mail-pl-accepted.eml": ("ewa.wisniewska@example.pl", "przynaleznosc"),
    "04-outlook-en-declined-one-meeting.eml": ("olena.shevchenko@example.com", "otwartosc"),
    "05-gmail-pl-tentative.eml": ("piotr.zielinski@example.com", "aktywnosc"),
    "06-broken-calendar-part.eml": ("marek.nowicki@example.pl", "aktywnosc"),
    "07-windows-1250-niestety-nie-moge.eml": ("k.wojcik@example.pl", "otwartosc"),
}
EXPECTED = {
    "01-outlook-pl-accepted-series.eml": Attendance.CONFIRMED,
    "02-gmail-en-accepted-series.eml": Attendance.CONFIRMED,
    "03-apple-mail-pl-accepted.eml": Attendance.CONFIRMED,
    "04-outlook-en-declined-one-meeting.eml": None,  # one meeting only: for staff, the seat stays
    "05-gmail-pl-tentative.eml": None,
    "06-broken-calendar-part.eml": Attendance.CONFIRMED,  # the calendar part is broken; "Zaakceptowano:" and "Tak, będę."
    "07-windows-1250-niestety-nie-moge.eml": Attendance.DECLINED,
}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG))
    async with open_service(settings, clock=FakeClock(AFTER_THE_DECISIONS)) as running:
        yield running


async def seated(service: Service) -> dict[str, int]:
    """Everyone in PEOPLE holds an offered seat in their group; returns their applications by fixture."""
    now = service.conversation.clock()
    ids = {}
    async with service.store.unit() as unit:
        for n, (name, (address, group)) in enumerate(sorted(PEOPLE.items())):
            fields = ApplicationFields(name=address, email=address, sector="ngo", groups=(group,), available=True)
            ids[name] = await record_applicant(unit, f"p{n}", fields, now, channel="web")
    placements = [PlacementValues(ids[name], group, Role.SELECTED, 1.0) for name, (_, group) in PEOPLE.items()]
    await store_draw_by_hand(service.store, placements, now)
    async with service.store.unit() as unit:
        for placement in await unit.session.scalars(select(Placement)):
            placement.offered_at = now
    return ids


async def count(service: Service, table: type) -> int:
    async with service.store.unit(write=False) as unit:
        return int(await unit.session.scalar(select(func.count()).select_from(table)) or 0)


async def test_calendar_answers_from_every_client_are_recorded_and_never_answered(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await seated(service)
    mailroom: Mailroom = build_mailroom(service)
    assert mailroom.groups is not None
    # Each fixture answers an invitation with its own UID: our seats carry those UIDs here.
    uids = {}
    for name in PEOPLE:
        replies = calendar_replies(message_from_bytes((CALENDAR / name).read_bytes(), policy=default))
        if replies:
            uids[ids[name]] = replies[0].uid
    monkeypatch.setattr(mailroom.groups, "seat_uid", lambda seat: uids.get(seat.application_id, "none"))
    decision = "<wsp-d-0123abcd@wspolnota.um.warszawa.pl>"  # a decision of ours, answered by fixture 07
    for name in sorted(PEOPLE):
        raw = (CALENDAR / name).read_bytes()
        if name.startswith("07"):
            raw = re.sub(rb"(?m)^(In-Reply-To|References): <[^>]+>", rb"\1: " + decision.encode(), raw)
        await mailroom.receive(raw)
    assert await count(service, OutboxMessage) == 0  # recorded, never answered
    placements = await placements_by_application(service.store)
    for name, expected in EXPECTED.items():
        [seat] = placements[ids[name]]
        assert seat.attendance == expected, name
        assert (seat.released_at is not None) == (expected is Attendance.DECLINED), name
    async with service.store.unit(write=False) as unit:
        kinds = {e.subject[:20]: e.kind for e in await unit.session.scalars(select(Email))}
    assert sorted(set(kinds.values())) == ["attendance", "for_staff"]

    # The same answers again (a client re-sending, the mailbox read twice): nothing changes, nothing is sent.
    for name in sorted(PEOPLE):
        await mailroom.receive((CALENDAR / name).read_bytes())
    assert await count(service, OutboxMessage) == 0


async def test_a_question_in_reply_to_a_decision_is_kept_for_staff_not_answered(service: Service) -> None:
    ids = await seated(service)
    mailroom = build_mailroom(service)
    question = build_email(
        "Czy mogę przyjść z dzieckiem na pierwsze spotkanie?",
        sender="jan.kowalski@example.pl",
        subject="Re: Program Wspólnota – odpowiedź w sprawie grup roboczych [Z-1]",
        headers={"In-Reply-To": "<wsp-d-feed@wspolnota.um.warszawa.pl>"},
    )
    outcome = await mailroom.receive(question)
    assert outcome.verdict.kind == "for_staff"
    assert await count(service, OutboxMessage) == 0
    yes = build_email(
        "Tak, będę!\n\nJan",
        sender="Jan.Kowalski@example.pl",
        subject="Re: Program Wspólnota – odpowiedź w sprawie grup roboczych [Z-1]",
        headers={"In-Reply-To": "<wsp-d-feed@wspolnota.um.warszawa.pl>"},
    )
    assert (await mailroom.receive(yes)).verdict.kind == "attendance"
    seat = (await placements_by_application(service.store))[ids["01-outlook-pl-accepted-series.eml"]][0]
    assert seat.attendance == Attendance.CONFIRMED
    assert await count(service, OutboxMessage) == 0

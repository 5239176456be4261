"""The working groups after the call, end to end against real Dovecot and SMTP servers, on SQLite and PostgreSQL:
120 applications, one command draws three groups of 24 within the sector quotas, everyone hears back once,
the selected get invitations their calendar can take, their answers come back to our mailbox and are recorded
(never answered), a refusal is replaced from the reserve list, and reminders arrive the day before, once."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar
from sqlalchemy import select

from bot.cli import main
from bot.mailroom import build_mailroom
from bot.service import Service, open_service
from bot.transports.mailbox import MailboxReader
from bot.transports.mailer import Mailer
from bot.working_groups import WorkingGroups, working_groups
from handlers.definitions.recruitment import WARSAW
from storage.applications import ApplicationFields
from storage.models import OutboxMessage
from storage.selection import Attendance, Role, placements_by_application
from tests.support import SHIPPED_CONFIG, FakeClock, make_settings, service_environment
from tests.support.applicants import record_applicant
from tests.support.dovecot import DovecotServer
from tests.support.emails import build_email
from tests.support.extras import require_selection
from tests.support.smtp import RecordingSMTPServer

require_selection()

DURING_THE_CALL = datetime(2027, 9, 15, 10, 0, tzinfo=UTC)
AFTER_THE_CALL = datetime(2027, 10, 2, 8, 0, tzinfo=UTC)
SECTORS = ["ngo"] * 30 + ["informal"] * 20 + ["resident"] * 35 + ["district_office"] * 12
SECTORS += ["city_institution"] * 13 + ["city_hall"] * 10
GROUPS = ["otwartosc", "aktywnosc", "przynaleznosc"]


@pytest.fixture
async def service(
    tmp_path: Path, database_url: str, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> AsyncIterator[Service]:
    settings = make_settings(
        tmp_path / "data",
        WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG),
        WSPOLNOTA_DATABASE_URL=database_url,
        **dovecot.environment(),
        **smtp_server.environment(),
    )
    async with open_service(settings, clock=FakeClock(DURING_THE_CALL)) as running:
        yield running


async def apply(service: Service, count: int) -> None:
    """`count` people apply (as the engine records them): mostly one group, some two or three."""
    rng = random.Random(120)
    now = service.conversation.clock()
    async with service.store.unit() as unit:
        for n in range(count):
            channel = "telegram" if n % 20 == 0 else "email"
            wanted = rng.sample(GROUPS, k=rng.choice([1, 1, 1, 2, 3]))
            fields = ApplicationFields(
                name=f"Osoba {n} Testowa",
                email=f"osoba{n}@example.pl",
                email_verified=True,
                organisation=f"Organizacja {n}",
                sector=SECTORS[n % len(SECTORS)],
                groups=tuple(wanted),
                description="Od lat działam w swojej okolicy.",
                available=True,
                language=["pl", "pl", "pl", "en", "uk"][n % 5],
                privacy_version="2027-09-01",
            )
            chat = str(7000 + n) if channel == "telegram" else None
            await record_applicant(unit, f"p{n}", fields, now, channel=channel, chat=chat)


async def staff(service: Service, *arguments: str) -> str:
    """Runs a staff command as staff would, in its own service on the same database and files."""
    environment = service_environment(
        service.settings.data_dir,
        WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG),
        WSPOLNOTA_DATABASE_URL=service.settings.database,
    )
    result = await asyncio.to_thread(CliRunner().invoke, main, list(arguments), env=environment)
    assert result.exit_code == 0, result.output
    return result.output


async def send_all(mailer: Mailer) -> int:
    sent = 0
    while due := await mailer.send_due():
        sent += due
    return sent


def invitation_of(message: EmailMessage) -> Calendar:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    return Calendar.from_ical(part.get_content())


def calendar_reply(invite: Calendar, attendee: str, partstat: str) -> bytes:
    """The REPLY a calendar program sends when its user accepts or declines (as Outlook writes it)."""
    event = next(c for c in invite.walk("VEVENT"))
    ics = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "PRODID:Microsoft Exchange Server 2010",
            "VERSION:2.0",
            "METHOD:REPLY",
            "BEGIN:VEVENT",
            f"ATTENDEE;PARTSTAT={partstat}:mailto:{attendee}",
            f"UID:{event['UID']}",
            f"SEQUENCE:{event.get('SEQUENCE', 0)}",
            "DTSTAMP:20271003T101500Z",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    reply = EmailMessage()
    reply["From"] = attendee
    reply["To"] = "wspolnota@um.warszawa.pl"
    reply["Subject"] = f"Zaakceptowano: {event['SUMMARY']}"
    reply["Message-ID"] = f"<reply-{attendee}@example.pl>"
    reply.set_content("")
    reply.add_alternative(ics, subtype="calendar", params={"method": "REPLY"})
    return bytes(reply)


async def test_from_120_applications_to_three_groups_invitations_answers_replacements_and_reminders(
    service: Service, dovecot: DovecotServer, smtp_server: RecordingSMTPServer
) -> None:
    await apply(service, 120)
    clock = service.conversation.clock
    assert isinstance(clock, FakeClock)
    clock.now = AFTER_THE_CALL

    # Staff draw (a dry run first: nothing stored), then for real; the same seed gives the same groups.
    assert "Dry run" in await staff(service, "groups", "select", "--seed", "2027", "--dry-run")
    assert not await placements_by_application(service.store)
    await staff(service, "groups", "select", "--seed", "2027")
    first = await placements_by_application(service.store)
    await staff(service, "groups", "select", "--seed", "2027")
    again = await placements_by_application(service.store)
    seats = {a: sorted(p.group_code for p in ps if p.role == Role.SELECTED) for a, ps in first.items()}
    assert seats == {a: sorted(p.group_code for p in ps if p.role == Role.SELECTED) for a, ps in again.items()}
    call = service.config.recruitment
    assert call is not None
    by_group: dict[str, list[int]] = {g: [] for g in GROUPS}
    for application, placements in again.items():
        for placement in placements:
            if placement.role == Role.SELECTED:
                by_group[placement.group_code].append(application)
    sector_of = {n + 1: SECTORS[n % len(SECTORS)] for n in range(120)}  # application ids are 1..120 in order
    for group, members in by_group.items():
        assert len(members) == 24, group
        for sector, count in Counter(sector_of[a] for a in members).items():
            quota = call.quota(group, sector)
            assert quota.min <= count <= quota.max, (group, sector, count)
    report = await staff(service, "groups", "report")
    assert "2027" in report and "Z-" not in report and "@" not in report

    # Decisions: one per applicant, by email (and in Telegram for those who applied there); never twice.
    assert "120 applicants" in await staff(service, "groups", "notify")
    assert "0 applicants" in await staff(service, "groups", "notify")
    mailer = Mailer(service.settings, service.outbox, clock)
    # One message each; someone holding two seats (only where a group could not be filled otherwise) gets
    # one per seat, each with its group's invitation.
    seated = {a for a, ps in again.items() if any(p.role == Role.SELECTED for p in ps)}
    total = 72 + 120 - len(seated)
    assert await send_all(mailer) == total
    sent = await smtp_server.wait_for(total)
    assert sorted(set(m.message["To"] for m in sent)) == sorted(f"osoba{n}@example.pl" for n in range(120))
    invited = [m for m in sent if any(p.get_content_type() == "text/calendar" for p in m.message.walk())]
    assert len(invited) == 72
    invite = invitation_of(invited[0].message)
    event = next(iter(invite.walk("VEVENT")))
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Warsaw"
    assert str(event["ATTENDEE"]).lower() == f"mailto:{invited[0].message['To']}"
    assert any(p.get_filename() and p.get_filename().endswith(".ics") for p in invited[0].message.walk())
    async with service.store.unit(write=False) as unit:
        telegram = list(await unit.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "telegram")))
    assert len(telegram) == 6 and all(row.body for row in telegram)

    # Answers come back to our mailbox: a calendar acceptance and a plain refusal; neither is answered.
    accepting, declining = invited[0], invited[1]
    dovecot.append(calendar_reply(invite, accepting.message["To"], "ACCEPTED"))
    dovecot.append(
        build_email(
            "Niestety nie mogę, przepraszam.\n\nPozdrawiam",
            sender=declining.message["To"],
            subject=f"Re: {declining.message['Subject']}",
            headers={"In-Reply-To": declining.message["Message-ID"]},
        )
    )
    reader = MailboxReader(service.settings, build_mailroom(service), service.mailbox_positions)
    assert await reader.once() == 2
    assert await send_all(mailer) == 0  # recorded, never answered with a form
    placements = await placements_by_application(service.store)
    answers = {
        p.attendance for ps in placements.values() for p in ps if p.role == Role.SELECTED and p.attendance is not None
    }
    assert answers == {Attendance.CONFIRMED, Attendance.DECLINED}

    # Staff replace the refusal from that group's reserve list: the next person gets an offer with an invitation.
    replaced = await staff(service, "groups", "replace")
    assert "offered to Z-" in replaced
    assert await send_all(mailer) == 1
    [offer] = (await smtp_server.wait_for(total + 1))[-1:]
    assert "zwolniło się miejsce" in offer.message.get_body(("plain",)).get_content()
    invitation_of(offer.message)

    # Reminders the day before the first meeting, to the confirmed only, once even across a restart.
    groups = working_groups(service)
    assert isinstance(groups, WorkingGroups)
    confirmed = next(p for ps in placements.values() for p in ps if p.attendance == Attendance.CONFIRMED)
    first_meeting = service.config.events[next(g for g in call.groups if g.code == confirmed.group_code).meetings[0]]
    day_before = first_meeting.starts.astimezone(WARSAW).date() - timedelta(days=1)
    clock.now = datetime.combine(day_before, time(10, 30), WARSAW).astimezone(UTC)
    assert await groups.remind() == 1
    assert await groups.remind() == 0
    restarted = working_groups(service)
    assert restarted is not None and await restarted.remind() == 0
    assert await send_all(mailer) == 1
    [reminder] = (await smtp_server.wait_for(total + 2))[-1:]
    assert reminder.message["To"] == accepting.message["To"]

    # The export carries the outcome.
    lines = (await staff(service, "groups", "export", "--format", "jsonl")).splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    decisions = Counter(record["decision"] for record in records)
    assert decisions["selected"] == len(seated) + 1  # and the offer (the refusal stays "selected", declined)
    assert {record["attendance"] for record in records} >= {"confirmed", "declined"}
    assert all(record["probability"] is not None for record in records if record["decision"])

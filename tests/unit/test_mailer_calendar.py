"""The mailer's messages with a calendar invitation: iMIP as Gmail, Outlook and Apple Mail read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.transports.mailer import Mailer, build_message
from handlers.email.calendar import Meeting, calendar_replies, cancellation, invitation
from tests.support import make_settings
from tests.support.smtp import RecordingSMTPServer

WARSAW = ZoneInfo("Europe/Warsaw")
SENT_AT = datetime(2027, 10, 8, 10, 0, tzinfo=UTC)
MEETINGS = [
    Meeting(
        datetime(2027, 10, 25, 17, tzinfo=WARSAW),
        datetime(2027, 10, 25, 20, tzinfo=WARSAW),
        "Grupa robocza I – Otwartość i nawiązywanie relacji",
        "Centrum Wielokulturowe w Warszawie, ul. Jagiellońska 54",
    ),
    Meeting(
        datetime(2027, 11, 8, 17, tzinfo=WARSAW),
        datetime(2027, 11, 8, 20, tzinfo=WARSAW),
        "Grupa robocza I – Otwartość i nawiązywanie relacji",
        "Centrum Wielokulturowe w Warszawie, ul. Jagiellońska 54",
    ),
]
PEOPLE = {
    "organizer": "wspolnota@um.warszawa.pl",
    "organizer_name": "Program Wspólnota",
    "attendee": "jan.kowalski@example.pl",
    "attendee_name": "Jan Kowalski",
}
INVITATION = invitation(uid="g1-abc@wspolnota", sequence=0, meetings=MEETINGS, stamp=SENT_AT, language="pl", **PEOPLE)
CANCELLATION = cancellation(
    uid="g1-abc@wspolnota",
    sequence=1,
    meeting=MEETINGS[1],
    recurrence_id=MEETINGS[1].start,
    stamp=SENT_AT,
    **PEOPLE,
)
BODY = "Dzień dobry,\n\nzapraszamy na spotkania grupy roboczej „Otwartość i nawiązywanie relacji”.\n"


@dataclass(frozen=True)
class Row:
    id: int = 7
    to_address: str = "jan.kowalski@example.pl"
    message_id: str = "<20271008100000.invite7@wspolnota.um.warszawa.pl>"
    subject: str = "Program Wspólnota – zaproszenie na spotkania grupy roboczej"
    body: str = BODY
    in_reply_to: str | None = "<abc@example.pl>"
    references: str | None = "<abc@example.pl>"
    calendar: str | None = None


HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "X-Wspolnota-Reference",
]


def sent(message: EmailMessage) -> Message:
    """The message as the SMTP server receives it, parsed back."""
    return message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)


def test_without_a_calendar_the_message_is_plain_text_as_before() -> None:
    message = build_message(Row(), "wspolnota@um.warszawa.pl", SENT_AT)
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert message.get_content_charset() == "utf-8"
    assert [name for name in message if name not in ("MIME-Version", "Content-Type", "Content-Transfer-Encoding")] == [
        *HEADERS
    ]
    assert "Content-Class" not in message
    assert message.get_content() == BODY


def test_an_invitation_is_text_and_calendar_alternatives_and_an_ics_attachment() -> None:
    message = sent(build_message(Row(calendar=INVITATION), "wspolnota@um.warszawa.pl", SENT_AT))
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    text, calendar = alternative.get_payload()
    assert text.get_content_type() == "text/plain"
    assert text.get_content().replace("\r\n", "\n") == BODY
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"  # Outlook needs the method here too
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get("Content-Disposition") is None  # inline: the part the clients' buttons answer
    assert calendar.get_payload(decode=True) == INVITATION.encode("utf-8")  # iCalendar's CRLF lines kept
    assert Calendar.from_ical(calendar.get_payload(decode=True))["METHOD"] == "REQUEST"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "zaproszenie.ics"
    assert attachment.get_payload(decode=True) == INVITATION.encode("utf-8")
    assert message["Content-Class"] == "urn:content-classes:calendarmessage"


def test_an_invitation_keeps_every_header() -> None:
    row = Row(calendar=INVITATION)
    plain = build_message(Row(), "wspolnota@um.warszawa.pl", SENT_AT)
    message = build_message(row, "wspolnota@um.warszawa.pl", SENT_AT)
    for name in HEADERS:
        assert message[name] == plain[name], name
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Wspolnota-Reference"] == "20271008100000.invite7"


def test_a_cancellation_is_sent_as_odwolanie_ics_with_method_cancel() -> None:
    message = sent(build_message(Row(calendar=CANCELLATION), "wspolnota@um.warszawa.pl", SENT_AT))
    alternative, attachment = message.get_payload()
    calendar = alternative.get_payload()[1]
    assert calendar.get_param("method") == "CANCEL"
    assert attachment.get_filename() == "odwolanie.ics"
    assert Calendar.from_ical(attachment.get_payload(decode=True))["METHOD"] == "CANCEL"


def test_our_own_invitation_coming_back_is_no_answer() -> None:
    message = sent(build_message(Row(calendar=INVITATION), "wspolnota@um.warszawa.pl", SENT_AT))
    assert calendar_replies(message) == []  # a REQUEST, e.g. forwarded to us, records nothing


@dataclass
class OneRowOutbox:
    rows: list[Row]
    attempts: list[tuple[int, str | None]] = field(default_factory=list)

    async def due(self, now: datetime, limit: int) -> Sequence[Row]:
        rows, self.rows = self.rows, []
        return rows

    async def record_attempt(self, message_id: int, error: str | None, now: datetime) -> bool:
        self.attempts.append((message_id, error))
        return True


async def test_the_mailer_sends_the_invitation(smtp_server: RecordingSMTPServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, **smtp_server.environment())
    outbox = OneRowOutbox([Row(calendar=INVITATION)])
    assert await Mailer(settings, outbox, lambda: SENT_AT).send_due() == 1
    [mail] = await smtp_server.wait_for(1, timeout=10)
    assert outbox.attempts == [(7, None)]
    calendar = next(part for part in mail.message.walk() if part.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST"
    assert Calendar.from_ical(calendar.get_payload(decode=True)).walk("VEVENT")[0]["UID"] == "g1-abc@wspolnota"


async def test_a_calendar_without_a_method_is_an_error_not_a_crash(
    smtp_server: RecordingSMTPServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, **smtp_server.environment())
    outbox = OneRowOutbox([Row(calendar="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")])
    assert await Mailer(settings, outbox, lambda: SENT_AT).send_due() == 0
    [(row_id, error)] = outbox.attempts
    assert row_id == 7
    assert error is not None
    assert "METHOD" in error

"""Calendar invitations (iTIP over email, RFC 5546 and 6047) for the working groups, and the answers to them.

An invitation is ONE event series per group and person (one UID): the group's first meeting with its
later meetings as instances. Where the meetings fall on the same weekday a whole number of weeks apart
(every group of the programme: every other Monday, Tuesday or Wednesday) the series is an RRULE, since
Outlook drops a VEVENT whose RDATEs have no RRULE (MS-OXCICAL 2.1.3.1.1.20.18); otherwise the later
meetings are RDATEs, which Gmail and Apple Calendar show. A later meeting whose place, time of day,
length or text differs from the first one gets its own VEVENT with the same UID and a RECURRENCE-ID.

Times are written in Europe/Warsaw (TZID) with a VTIMEZONE of the form Outlook and Google write
themselves (one STANDARD and one DAYLIGHT rule), so every client puts 17:00 at 17:00 on both sides of
the change to winter time on 31 October.

Pure: no storage, no network. `calendar_replies` reads the answers (METHOD:REPLY) that calendar
programs send back and never raises on a broken part.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress

logger = logging.getLogger(__name__)

WARSAW = ZoneInfo("Europe/Warsaw")
PRODID = "-//Urzad m.st. Warszawy//Program Wspolnota//PL"
CALENDAR_TYPES = ("text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics")
MAX_CALENDAR_BYTES = 512 * 1024  # a reply is a few kB; anything far larger is not one

# Europe/Warsaw as Outlook and Google Calendar write it: the EU rule since 1996 (last Sunday of March
# 02:00 CET → CEST, last Sunday of October 03:00 CEST → CET). A VTIMEZONE with one RRULE per
# subcomponent is the form every client reads; the tests check it against the tz database.
_WARSAW_VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/Warsaw\r\n"
    "X-LIC-LOCATION:Europe/Warsaw\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\n"
    "TZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\n"
    "TZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)

_WEEKDAYS = {
    "pl": ("pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "uk": ("пн", "вт", "ср", "чт", "пт", "сб", "нд"),
}
_SCHEDULE = {"pl": "Terminy spotkań:", "en": "Meeting dates:", "uk": "Дати зустрічей:"}
_OPTIONAL_MARK = {"pl": "termin opcjonalny", "en": "optional date", "uk": "необов'язкова дата"}
_OPTIONAL_NOTE = {
    "pl": (
        "Termin opcjonalny: to spotkanie odbędzie się tylko wtedy, gdy grupa będzie go potrzebować. "
        "Napiszemy do Ciebie, czy się odbędzie."
    ),
    "en": (
        "Optional date: this meeting takes place only if the group needs it. "
        "We will write to you whether it takes place."
    ),
    "uk": (
        "Необов'язкова дата: ця зустріч відбудеться лише тоді, коли вона буде потрібна групі. "
        "Ми напишемо Вам, чи вона відбудеться."
    ),
}
LANGUAGES = tuple(_WEEKDAYS)


@dataclass(frozen=True)
class Meeting:
    """One meeting as the invitation shows it; `start` and `end` are aware datetimes."""

    start: datetime
    end: datetime
    summary: str
    location: str
    description: str = ""
    optional: bool = False


@dataclass(frozen=True)
class CalendarReply:
    """An attendee's answer (METHOD:REPLY) to an invitation, or to one instance of it."""

    uid: str
    attendee: str  # the email address, lower-case
    partstat: str  # ACCEPTED, DECLINED, TENTATIVE, DELEGATED, NEEDS-ACTION
    sequence: int
    recurrence_id: datetime | None  # aware; None: the answer is for the whole series


def series_uid(*, series: str, attendee: str, domain: str) -> str:
    """A stable UID for one person's invitation to one series (a group's meetings, the closing meeting).

    The same series and address always give the same UID, so an updated invitation (a higher
    SEQUENCE) replaces the earlier one in the person's calendar; the address appears only hashed.
    """
    digest = hashlib.sha256(f"{series}\n{attendee.strip().lower()}".encode()).hexdigest()[:20]
    return f"{series}-{digest}@{domain}"


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {moment!r}")
    return moment


def _local(moment: datetime) -> datetime:
    """The same instant on Warsaw's wall clock (written with TZID=Europe/Warsaw)."""
    return _aware(moment, "a meeting's time").astimezone(WARSAW)


def _utc(moment: datetime) -> datetime:
    return _aware(moment, "stamp").astimezone(UTC)


def _weekly_interval(starts: Sequence[datetime]) -> int | None:
    """Weeks between meetings when all fall on one weekday a constant number of weeks apart, else None."""
    days = [moment.date() for moment in starts]
    gaps = {(later - earlier).days for earlier, later in pairwise(days)}
    if len(gaps) != 1:
        return None
    gap = gaps.pop()
    return gap // 7 if gap > 0 and gap % 7 == 0 else None


def _instance_starts(meetings: Sequence[Meeting]) -> list[datetime]:
    """Each meeting's RECURRENCE-ID: the start the series' rule gives it (the RDATE when there is no rule)."""
    starts = [_local(meeting.start) for meeting in meetings]
    if len(starts) > 1 and _weekly_interval(starts) is not None:
        first = starts[0]
        # The rule's instance keeps the first meeting's time of day on the wall clock.
        return [datetime.combine(moment.date(), first.time(), WARSAW) for moment in starts]
    return starts


def _ordered(meetings: Sequence[Meeting]) -> list[Meeting]:
    if not meetings:
        raise ValueError("an invitation needs at least one meeting")
    for meeting in meetings:
        if _local(meeting.end) <= _local(meeting.start):
            raise ValueError(f"a meeting ends before it starts: {meeting!r}")
    ordered = sorted(meetings, key=lambda meeting: meeting.start)
    if len({meeting.start for meeting in ordered}) != len(ordered):
        raise ValueError("two meetings of one series start at the same time")
    return ordered


def recurrence_id(meetings: Sequence[Meeting], meeting: Meeting) -> datetime:
    """The RECURRENCE-ID `invitation(meetings=…)` gives `meeting` (for `cancellation` of that one meeting).

    It is the meeting's start, except when a meeting of an RRULE series was moved to another time of
    day: then it is the rule's instance on that day (the first meeting's time of day).
    """
    ordered = _ordered(meetings)
    return _instance_starts(ordered)[ordered.index(meeting)]


def _schedule(meetings: Sequence[Meeting], language: str) -> str:
    """The list of the series' dates, the optional one marked, each with its place when places differ."""
    places = {meeting.location for meeting in meetings}
    lines = [_SCHEDULE[language]]
    for meeting in meetings:
        start, end = _local(meeting.start), _local(meeting.end)
        line = f"– {start:%d.%m.%Y} ({_WEEKDAYS[language][start.weekday()]}), {start:%H:%M}–{end:%H:%M}"
        if len(places) > 1:
            line += f", {meeting.location}"
        if meeting.optional:
            line += f" – {_OPTIONAL_MARK[language]}"
        lines.append(line)
    return "\n".join(lines)


def _description(meeting: Meeting, meetings: Sequence[Meeting], language: str) -> str:
    parts = [meeting.description.strip()] if meeting.description.strip() else []
    if meeting.optional:
        parts.append(_OPTIONAL_NOTE[language])
    if len(meetings) > 1:
        parts.append(_schedule(meetings, language))
    return "\n\n".join(parts)


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(Timezone.from_ical(_WARSAW_VTIMEZONE))
    return calendar


def _text(calendar: Calendar) -> str:
    content: bytes = calendar.to_ical()
    return content.decode("utf-8")


def _organizer(address: str, name: str) -> vCalAddress:
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["CN"] = name
    return organizer


def _attendee(address: str, name: str | None, *, rsvp: bool) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{address}")
    if name:
        attendee.params["CN"] = name
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    if rsvp:
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        attendee.params["RSVP"] = "TRUE"
    return attendee


def _event(
    *,
    uid: str,
    sequence: int,
    stamp: datetime,
    organizer: vCalAddress,
    attendee: vCalAddress,
    meeting: Meeting,
    status: str,
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _local(meeting.start))
    event.add("dtend", _local(meeting.end))
    event.add("summary", meeting.summary)
    event.add("location", meeting.location)
    event.add("organizer", organizer)
    event.add("attendee", attendee)
    event.add("status", status)
    event.add("transp", "OPAQUE")
    event.add("class", "PUBLIC")
    return event


def _differs(meeting: Meeting, first: Meeting, meetings: Sequence[Meeting], language: str) -> bool:
    """Whether an instance needs its own VEVENT: another place, time of day, length or text."""
    start, first_start = _local(meeting.start), _local(first.start)
    return (
        meeting.location != first.location
        or meeting.summary != first.summary
        or start.time() != first_start.time()
        or meeting.end - meeting.start != first.end - first.start
        or _description(meeting, meetings, language) != _description(first, meetings, language)
    )


def invitation(
    *,
    uid: str,
    sequence: int,
    organizer: str,
    organizer_name: str,
    attendee: str,
    attendee_name: str | None,
    meetings: Sequence[Meeting],
    stamp: datetime,
    language: str,
) -> str:
    """An iTIP REQUEST (METHOD:REQUEST) inviting `attendee` to `meetings` as one series with one UID.

    One meeting gives a single event (the closing meeting). A later invitation with the same UID and a
    higher `sequence` updates the person's calendar entry. `organizer` receives the calendar answers.
    """
    if language not in LANGUAGES:
        raise ValueError(f"no calendar texts in language {language!r}")
    ordered = _ordered(meetings)
    first = ordered[0]
    organizer_address = _organizer(organizer, organizer_name)
    attendee_address = _attendee(attendee, attendee_name, rsvp=True)

    def event_for(meeting: Meeting) -> Event:
        return _event(
            uid=uid,
            sequence=sequence,
            stamp=stamp,
            organizer=organizer_address,
            attendee=attendee_address,
            meeting=meeting,
            status="CONFIRMED",
        )

    calendar = _calendar("REQUEST")
    master = event_for(first)
    master.add("description", _description(first, ordered, language))
    instances = _instance_starts(ordered)
    if len(ordered) > 1:
        interval = _weekly_interval([_local(meeting.start) for meeting in ordered])
        if interval is not None:
            weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[_local(first.start).weekday()]
            rule = {"FREQ": "WEEKLY", "INTERVAL": interval, "BYDAY": weekday, "COUNT": len(ordered), "WKST": "MO"}
            master.add("rrule", rule)
        else:
            master.add("rdate", instances[1:])
    calendar.add_component(master)
    for meeting, instance in zip(ordered[1:], instances[1:], strict=True):
        if not _differs(meeting, first, ordered, language):
            continue
        override = event_for(meeting)
        override.add("recurrence-id", instance)
        override.add("description", _description(meeting, ordered, language))
        calendar.add_component(override)
    return _text(calendar)


def cancellation(
    *,
    uid: str,
    sequence: int,
    organizer: str,
    organizer_name: str,
    attendee: str,
    attendee_name: str | None,
    meeting: Meeting,
    recurrence_id: datetime | None,
    stamp: datetime,
) -> str:
    """An iTIP CANCEL: of one instance of a series (its `recurrence_id`) or, with None, of the whole event.

    `sequence` must be higher than the invitation's. For the whole series pass its first meeting.
    """
    calendar = _calendar("CANCEL")
    event = _event(
        uid=uid,
        sequence=sequence,
        stamp=stamp,
        organizer=_organizer(organizer, organizer_name),
        attendee=_attendee(attendee, attendee_name, rsvp=False),
        meeting=meeting,
        status="CANCELLED",
    )
    if recurrence_id is not None:
        event.add("recurrence-id", _local(recurrence_id))
    calendar.add_component(event)
    return _text(calendar)


_METHOD_LINE = re.compile(r"^METHOD(?:;[^:\r\n]*)?:([A-Za-z-]+)\s*$", re.MULTILINE)


def calendar_method(ics: str) -> str:
    """The iTIP method of an iCalendar text (REQUEST, CANCEL, REPLY…), upper-case; ValueError without one."""
    found = _METHOD_LINE.search(ics)
    if found is None:
        raise ValueError("the calendar has no METHOD")
    return found.group(1).upper()


def _part_text(part: Message) -> str | None:
    """A calendar part's text, whatever its transfer encoding and charset; None when unreadable."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload.strip() or len(payload) > MAX_CALENDAR_BYTES:
        return None
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "windows-1250"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def _is_calendar_part(part: Message) -> bool:
    if part.get_content_maintype() == "multipart":
        return False
    if part.get_content_type() in CALENDAR_TYPES:
        return True
    filename = part.get_filename() or ""
    return part.get_content_type() == "application/octet-stream" and filename.lower().endswith(".ics")


def _when(value: Any) -> datetime | None:
    """A RECURRENCE-ID as an aware datetime in Warsaw (floating and date values read as Warsaw's)."""
    moment = getattr(value, "dt", value)
    if isinstance(moment, datetime):
        return moment.astimezone(WARSAW) if moment.tzinfo is not None else moment.replace(tzinfo=WARSAW)
    if isinstance(moment, date):
        return datetime.combine(moment, datetime.min.time(), WARSAW)
    return None


def _address(value: Any) -> str | None:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    text = text.strip().strip("<>").lower()
    return text if "@" in text else None


def _replies_in(text: str) -> list[CalendarReply]:
    """The answers in one calendar text with METHOD:REPLY (none for another method)."""
    calendar = Calendar.from_ical(text)
    if str(calendar.get("METHOD", "")).strip().upper() != "REPLY":
        return []
    replies = []
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", "")).strip()
        if not uid:
            continue
        try:
            sequence = int(str(event.get("SEQUENCE", 0)).strip() or 0)
        except ValueError:
            sequence = 0
        broken = {str(name).upper() for name, _ in getattr(event, "errors", ())}
        if broken & {"UID", "ATTENDEE", "RECURRENCE-ID"}:
            continue  # e.g. an unreadable instance: never taken for an answer to the whole series
        instance = _when(event["RECURRENCE-ID"]) if "RECURRENCE-ID" in event else None
        if instance is None and "RECURRENCE-ID" in event:
            continue
        attendees = event.get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            address = _address(attendee)
            if address is None:
                continue
            params = getattr(attendee, "params", {})
            partstat = str(params.get("PARTSTAT", "NEEDS-ACTION")).strip().upper()
            replies.append(CalendarReply(uid, address, partstat, sequence, instance))
    return replies


def calendar_replies(message: Message) -> list[CalendarReply]:
    """Every calendar answer (METHOD:REPLY) in a message, once each, in order; never raises.

    Reads text/calendar and application/ics parts in any transfer encoding and charset (Gmail sends
    the same answer twice: inline and as invite.ics). A part that cannot be read is skipped.
    """
    found: list[CalendarReply] = []
    try:
        parts = list(message.walk())
    except Exception:  # a broken MIME tree: nothing can be read from it
        logger.warning("A message's MIME structure could not be walked for calendar answers")
        return []
    for part in parts:
        try:
            if not _is_calendar_part(part):
                continue
            text = _part_text(part)
            if text is None:
                continue
            replies = _replies_in(text)
        except Exception as err:  # a broken part is skipped, whatever broke in it
            logger.info("A calendar part was skipped: %s", type(err).__name__)
            continue
        found.extend(reply for reply in replies if reply not in found)
    return found

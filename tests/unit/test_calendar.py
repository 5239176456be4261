"""Calendar invitations to the working groups read back with icalendar; the calendar answers of real clients."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from handlers.email.calendar import (
    CalendarReply,
    Meeting,
    calendar_method,
    calendar_replies,
    cancellation,
    invitation,
    recurrence_id,
    series_uid,
)

WARSAW = ZoneInfo("Europe/Warsaw")
REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES = REPOSITORY / "tests" / "emails" / "calendar"
EVENTS = {
    event["slug"]: event for event in yaml.safe_load((REPOSITORY / "config" / "events.yaml").read_text())["events"]
}
STAMP = datetime(2027, 10, 8, 10, 0, tzinfo=UTC)
ORGANIZER = "wspolnota@um.warszawa.pl"
UID = series_uid(series="otwartosc", attendee="jan.kowalski@example.pl", domain="wspolnota.um.warszawa.pl")


def meeting(slug: str, summary: str | None = None) -> Meeting:
    event = EVENTS[slug]
    return Meeting(
        start=event["starts"],
        end=event["ends"],
        summary=summary or "Grupa robocza I – Otwartość i nawiązywanie relacji",
        location=event["address"],
        description="Spotkanie grupy roboczej Programu Wspólnota.",
        optional=bool(event.get("optional", False)),
    )


GROUP_1 = [
    meeting("grupa-1-spotkanie-1-2027-10-25"),
    meeting("grupa-1-spotkanie-2-2027-11-08"),
    meeting("grupa-1-spotkanie-3-2027-11-22"),
]
CLOSING = meeting("spotkanie-podsumowujace", "Spotkanie podsumowujące wszystkich grup roboczych")


def invite(meetings: list[Meeting] = GROUP_1, **changes: Any) -> str:
    arguments: dict[str, Any] = {
        "uid": UID,
        "sequence": 0,
        "organizer": ORGANIZER,
        "organizer_name": "Program Wspólnota",
        "attendee": "jan.kowalski@example.pl",
        "attendee_name": "Jan Kowalski",
        "meetings": meetings,
        "stamp": STAMP,
        "language": "pl",
    }
    arguments.update(changes)
    return invitation(**arguments)


def events(ics: str) -> list[Event]:
    return list(Calendar.from_ical(ics).walk("VEVENT"))


def master_of(ics: str) -> Event:
    (master,) = [event for event in events(ics) if "RECURRENCE-ID" not in event]
    return master


def overrides_of(ics: str) -> list[Event]:
    return [event for event in events(ics) if "RECURRENCE-ID" in event]


def instances(event: Event) -> list[datetime]:
    """The series' starts as a calendar program computes them: the RRULE expanded, RDATEs added."""
    start = event.decoded("DTSTART")
    found = [start]
    if "RRULE" in event:
        rule = event["RRULE"].to_ical().decode()
        found = list(rrulestr(rule, dtstart=start))
    rdates = event.get("RDATE", [])
    for rdate in rdates if isinstance(rdates, list) else [rdates]:
        found += [value.dt for value in rdate.dts]
    return sorted(set(found))


# --- invitations ---------------------------------------------------------------------------------------


def test_an_invitation_is_an_itip_request() -> None:
    ics = invite()
    calendar = Calendar.from_ical(ics)
    assert calendar["METHOD"] == "REQUEST"
    assert calendar_method(ics) == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert "\r\n" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))  # folded as RFC 5545 asks


def test_one_series_with_one_uid_for_the_group() -> None:
    ics = invite()
    assert {str(event["UID"]) for event in events(ics)} == {UID}
    master = master_of(ics)
    assert master["DTSTART"].params["TZID"] == "Europe/Warsaw"
    assert master["DTEND"].params["TZID"] == "Europe/Warsaw"
    assert "DTSTART;TZID=Europe/Warsaw:20271025T170000" in ics
    assert "DTEND;TZID=Europe/Warsaw:20271025T200000" in ics
    assert master["STATUS"] == "CONFIRMED"
    assert master.decoded("DTSTAMP") == STAMP


def test_the_meetings_fall_at_the_right_instants_across_the_change_to_winter_time() -> None:
    starts = instances(master_of(invite()))
    assert [start.astimezone(UTC) for start in starts] == [
        datetime(2027, 10, 25, 15, 0, tzinfo=UTC),  # 17:00 CEST
        datetime(2027, 11, 8, 16, 0, tzinfo=UTC),  # 17:00 CET, after 31 October
        datetime(2027, 11, 22, 16, 0, tzinfo=UTC),
    ]
    assert [start.astimezone(UTC) for start in starts] == [m.start.astimezone(UTC) for m in GROUP_1]
    assert all(start.astimezone(WARSAW).hour == 17 for start in starts)


def test_every_group_of_the_season_is_one_weekly_rule_outlook_can_read() -> None:
    for group in (1, 2, 3):
        slugs = sorted(slug for slug in EVENTS if slug.startswith(f"grupa-{group}-"))
        meetings = [meeting(slug) for slug in slugs]
        master = master_of(invite(meetings))
        assert master["RRULE"]["FREQ"] == ["WEEKLY"]
        assert master["RRULE"]["INTERVAL"] == [2]
        assert master["RRULE"]["COUNT"] == [3]
        assert master["RRULE"]["BYDAY"] == [("MO", "TU", "WE")[group - 1]]
        assert master["RRULE"]["WKST"] == ["MO"]
        assert "RDATE" not in master  # Outlook drops a VEVENT with RDATEs and no RRULE
        assert [start.astimezone(UTC) for start in instances(master)] == [m.start.astimezone(UTC) for m in meetings]


def test_irregular_dates_are_rdates_in_warsaw_time() -> None:
    meetings = [GROUP_1[0], meeting("grupa-3-spotkanie-2-2027-11-10"), CLOSING]
    ics = invite(meetings)
    master = master_of(ics)
    assert "RRULE" not in master
    assert "RDATE;TZID=Europe/Warsaw:20271110T170000,20271130T170000" in ics
    assert [start.astimezone(UTC) for start in instances(master)] == [m.start.astimezone(UTC) for m in meetings]
    # The closing meeting has another summary and place: its own VEVENT.
    (closing,) = [event for event in overrides_of(ics) if event.decoded("RECURRENCE-ID").day == 30]
    assert closing["LOCATION"] == "Pałac Ślubów, pl. Zamkowy 6"
    assert closing["SUMMARY"] == "Spotkanie podsumowujące wszystkich grup roboczych"


def test_the_vtimezone_agrees_with_the_tz_database() -> None:
    calendar = Calendar.from_ical(invite())
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert vtimezone["TZID"] == "Europe/Warsaw"
    zone = vtimezone.to_tz()
    moment = datetime(2026, 1, 1, 0, 30)
    while moment < datetime(2030, 1, 1):
        assert moment.replace(tzinfo=zone).utcoffset() == moment.replace(tzinfo=WARSAW).utcoffset(), moment
        moment += timedelta(hours=5)
    assert datetime(2027, 10, 25, 17, tzinfo=zone).utcoffset() == timedelta(hours=2)
    assert datetime(2027, 11, 8, 17, tzinfo=zone).utcoffset() == timedelta(hours=1)


def test_organizer_and_attendee_as_itip_asks() -> None:
    master = master_of(invite())
    organizer = master["ORGANIZER"]
    assert str(organizer) == "mailto:wspolnota@um.warszawa.pl"
    assert organizer.params["CN"] == "Program Wspólnota"
    attendee = master["ATTENDEE"]
    assert str(attendee) == "mailto:jan.kowalski@example.pl"
    assert attendee.params["CN"] == "Jan Kowalski"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "TRUE"
    assert "CN" not in master_of(invite(attendee_name=None))["ATTENDEE"].params


def test_sequence_and_a_stable_uid() -> None:
    assert master_of(invite(sequence=3))["SEQUENCE"] == 3
    assert all(event["SEQUENCE"] == 3 for event in events(invite(sequence=3)))
    assert invite() == invite()  # the same inputs, the same text
    again = series_uid(series="otwartosc", attendee=" Jan.Kowalski@Example.pl ", domain="wspolnota.um.warszawa.pl")
    assert again == UID
    assert UID.endswith("@wspolnota.um.warszawa.pl")
    assert "kowalski" not in UID
    assert series_uid(series="otwartosc", attendee="ewa@example.pl", domain="x.pl") != series_uid(
        series="otwartosc", attendee="jan@example.pl", domain="x.pl"
    )
    assert series_uid(series="otwartosc", attendee="ewa@example.pl", domain="x.pl") != series_uid(
        series="aktywnosc", attendee="ewa@example.pl", domain="x.pl"
    )


@pytest.mark.parametrize(
    ("language", "marker", "note"),
    [
        ("pl", "termin opcjonalny", "Termin opcjonalny:"),
        ("en", "optional date", "Optional date:"),
        ("uk", "необов'язкова дата", "Необов'язкова дата:"),
    ],
)
def test_the_optional_meeting_is_marked(language: str, marker: str, note: str) -> None:
    ics = invite(language=language)
    master = master_of(ics)
    lines = str(master["DESCRIPTION"]).splitlines()
    assert [line for line in lines if marker in line] == [line for line in lines if "22.11.2027" in line]
    assert note not in str(master["DESCRIPTION"])
    (optional,) = overrides_of(ics)  # only the optional third meeting differs from the first
    assert optional.decoded("RECURRENCE-ID") == datetime(2027, 11, 22, 17, tzinfo=WARSAW)
    assert optional["RECURRENCE-ID"].params["TZID"] == "Europe/Warsaw"
    assert optional.decoded("DTSTART") == datetime(2027, 11, 22, 17, tzinfo=WARSAW)
    assert str(optional["DESCRIPTION"]).startswith("Spotkanie grupy roboczej Programu Wspólnota.\n\n" + note)
    assert optional["ATTENDEE"].params["RSVP"] == "TRUE"


def test_a_meeting_in_another_place_or_at_another_hour_gets_its_own_vevent() -> None:
    moved = Meeting(
        start=datetime(2027, 11, 8, 18, 0, tzinfo=WARSAW),
        end=datetime(2027, 11, 8, 20, 30, tzinfo=WARSAW),
        summary=GROUP_1[1].summary,
        location="Praska Biblioteka, ul. Jagiellońska 17",
        description=GROUP_1[1].description,
    )
    meetings = [GROUP_1[0], moved, GROUP_1[2]]
    ics = invite(meetings)
    master = master_of(ics)
    assert master["RRULE"]["COUNT"] == [3]
    by_day = {event.decoded("RECURRENCE-ID").date(): event for event in overrides_of(ics)}
    assert set(by_day) == {date(2027, 11, 8), date(2027, 11, 22)}
    override = by_day[date(2027, 11, 8)]
    # The rule's instance (17:00) is moved to 18:00–20:30 in another place.
    assert override.decoded("RECURRENCE-ID") == datetime(2027, 11, 8, 17, tzinfo=WARSAW)
    assert override.decoded("DTSTART") == datetime(2027, 11, 8, 18, tzinfo=WARSAW)
    assert override.decoded("DTEND") == datetime(2027, 11, 8, 20, 30, tzinfo=WARSAW)
    assert override["LOCATION"] == "Praska Biblioteka, ul. Jagiellońska 17"
    assert str(override["UID"]) == UID
    assert recurrence_id(meetings, moved) == datetime(2027, 11, 8, 17, tzinfo=WARSAW)
    assert recurrence_id(meetings, GROUP_1[2]) == GROUP_1[2].start


def test_the_closing_meeting_is_a_single_event() -> None:
    ics = invite([CLOSING])
    (event,) = events(ics)
    assert "RRULE" not in event
    assert "RDATE" not in event
    assert "RECURRENCE-ID" not in event
    assert event.decoded("DTSTART") == datetime(2027, 11, 30, 17, tzinfo=WARSAW)
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 11, 30, 16, tzinfo=UTC)
    assert event["SUMMARY"] == "Spotkanie podsumowujące wszystkich grup roboczych"
    assert str(event["DESCRIPTION"]) == "Spotkanie grupy roboczej Programu Wspólnota."


def test_times_given_in_another_offset_are_written_in_warsaw_time() -> None:
    utc = Meeting(datetime(2027, 11, 30, 16, tzinfo=UTC), datetime(2027, 11, 30, 19, tzinfo=UTC), "S", "L")
    assert "DTSTART;TZID=Europe/Warsaw:20271130T170000" in invite([utc])


@pytest.mark.parametrize(
    "changes",
    [
        {"meetings": []},
        {"language": "de"},
        {"meetings": [Meeting(datetime(2027, 11, 30, 17), datetime(2027, 11, 30, 20), "S", "L")]},
        {"meetings": [Meeting(CLOSING.end, CLOSING.start, "S", "L")]},
        {"meetings": [CLOSING, CLOSING]},
    ],
)
def test_wrong_input_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        invite(**changes)


# --- cancellations -------------------------------------------------------------------------------------


def cancel(**changes: Any) -> str:
    arguments: dict[str, Any] = {
        "uid": UID,
        "sequence": 1,
        "organizer": ORGANIZER,
        "organizer_name": "Program Wspólnota",
        "attendee": "jan.kowalski@example.pl",
        "attendee_name": "Jan Kowalski",
        "meeting": GROUP_1[2],
        "recurrence_id": recurrence_id(GROUP_1, GROUP_1[2]),
        "stamp": datetime(2027, 11, 10, 9, 0, tzinfo=timezone(timedelta(hours=1))),
    }
    arguments.update(changes)
    return cancellation(**arguments)


def test_cancelling_one_meeting_of_the_series() -> None:
    ics = cancel()
    assert Calendar.from_ical(ics)["METHOD"] == "CANCEL"
    assert calendar_method(ics) == "CANCEL"
    (event,) = events(ics)
    assert str(event["UID"]) == UID
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert "RECURRENCE-ID;TZID=Europe/Warsaw:20271122T170000" in ics
    assert event.decoded("RECURRENCE-ID") == datetime(2027, 11, 22, 17, tzinfo=WARSAW)
    assert event.decoded("DTSTAMP") == datetime(2027, 11, 10, 8, 0, tzinfo=UTC)
    assert str(event["ATTENDEE"]) == "mailto:jan.kowalski@example.pl"
    assert str(event["ORGANIZER"]) == "mailto:wspolnota@um.warszawa.pl"


def test_cancelling_the_whole_event() -> None:
    ics = cancel(meeting=CLOSING, recurrence_id=None, sequence=2)
    (event,) = events(ics)
    assert "RECURRENCE-ID" not in event
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert Calendar.from_ical(ics).walk("VTIMEZONE")


def test_calendar_method_needs_a_method() -> None:
    assert calendar_method("BEGIN:VCALENDAR\r\nMETHOD:reply\r\nEND:VCALENDAR\r\n") == "REPLY"
    with pytest.raises(ValueError, match="METHOD"):
        calendar_method("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")


# --- the answers: real clients' messages -----------------------------------------------------------------

UID_1 = "grupa-otwartosc-5d1c0e2a9b7f43e86a01@wspolnota.um.warszawa.pl"
UID_2 = "grupa-aktywnosc-7f20aa31c4e98d5b1e6c@wspolnota.um.warszawa.pl"
UID_3 = "grupa-przynaleznosc-0b9e44c2d7a1f6e3c815@wspolnota.um.warszawa.pl"
EXPECTED: dict[str, list[CalendarReply]] = {
    "01-outlook-pl-accepted-series.eml": [CalendarReply(UID_1, "jan.kowalski@example.pl", "ACCEPTED", 0, None)],
    "02-gmail-en-accepted-series.eml": [CalendarReply(UID_1, "anna.nowak@example.com", "ACCEPTED", 0, None)],
    "03-apple-mail-pl-accepted.eml": [CalendarReply(UID_3, "ewa.wisniewska@example.pl", "ACCEPTED", 0, None)],
    "04-outlook-en-declined-one-meeting.eml": [
        CalendarReply(UID_1, "olena.shevchenko@example.com", "DECLINED", 0, datetime(2027, 11, 22, 17, tzinfo=WARSAW))
    ],
    "05-gmail-pl-tentative.eml": [CalendarReply(UID_2, "piotr.zielinski@example.com", "TENTATIVE", 0, None)],
    "06-broken-calendar-part.eml": [],
    "07-windows-1250-niestety-nie-moge.eml": [],
}


def read(name: str, *, modern: bool = True) -> Message:
    raw = (FIXTURES / name).read_bytes()
    return message_from_bytes(raw, policy=policy.default) if modern else message_from_bytes(raw)


def test_every_fixture_is_listed() -> None:
    assert {path.name for path in FIXTURES.glob("*.eml")} == set(EXPECTED)
    assert (FIXTURES / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_answers_in_the_fixtures(name: str) -> None:
    assert calendar_replies(read(name)) == EXPECTED[name]
    assert calendar_replies(read(name, modern=False)) == EXPECTED[name]  # compat32, as imaplib hands it over


def test_an_instance_answer_names_the_instant_in_any_time_zone_name() -> None:
    (reply,) = calendar_replies(read("04-outlook-en-declined-one-meeting.eml"))
    assert reply.recurrence_id is not None
    # Outlook wrote "Central European Standard Time"; the instant is our third meeting's start.
    assert reply.recurrence_id == GROUP_1[2].start
    assert reply.recurrence_id.tzinfo == WARSAW


def with_calendar(ics: str, *, charset: str = "utf-8", cte: str = "base64", maintype: str = "text") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Accepted: Grupa robocza I"
    message.set_content("Jan Kowalski has accepted this invitation.")
    subtype = "calendar" if maintype == "text" else "ics"
    if maintype == "text":
        message.add_alternative(ics, subtype=subtype, charset=charset, cte=cte, params={"method": "REPLY"})
    else:
        message.add_attachment(ics.encode(charset), maintype="application", subtype="ics", filename="invite.ics")
    return message


def reply_to(ics: str, partstat: str) -> str:
    return (
        ics.replace("METHOD:REQUEST", "METHOD:REPLY")
        .replace("PARTSTAT=NEEDS-ACTION", f"PARTSTAT={partstat}")
        .replace("mailto:jan.kowalski@example.pl", "mailto:Jan.Kowalski@Example.PL")
    )


@pytest.mark.parametrize(("cte", "maintype"), [("base64", "text"), ("quoted-printable", "text"), (None, "application")])
def test_an_answer_to_our_own_invitation(cte: str | None, maintype: str) -> None:
    ics = reply_to(invite([CLOSING]), "DECLINED")
    message = with_calendar(ics, cte=cte or "base64", maintype=maintype)
    assert calendar_replies(message) == [CalendarReply(UID, "jan.kowalski@example.pl", "DECLINED", 0, None)]


def test_an_answer_in_windows_1250() -> None:
    ics = reply_to(invite([CLOSING], attendee_name="Krystyna Wójcik"), "ACCEPTED")
    message = with_calendar(ics, charset="windows-1250", cte="quoted-printable")
    assert "=F3" in message.as_string()  # ó in windows-1250
    (reply,) = calendar_replies(message)
    assert reply.partstat == "ACCEPTED"


def test_an_answer_for_every_instance_it_names() -> None:
    ics = reply_to(invite(), "ACCEPTED")  # the master and the optional meeting's VEVENT
    replies = calendar_replies(with_calendar(ics))
    assert [reply.recurrence_id for reply in replies] == [None, datetime(2027, 11, 22, 17, tzinfo=WARSAW)]


def test_requests_and_cancellations_are_not_answers() -> None:
    assert calendar_replies(with_calendar(invite())) == []
    assert calendar_replies(with_calendar(cancel())) == []
    plain = EmailMessage()
    plain.set_content("Tak, będę.")
    assert calendar_replies(plain) == []


@pytest.mark.parametrize(
    "broken",
    [
        "",
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\n",  # cut off
        "METHOD:REPLY\r\nnot a calendar at all",
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\nRECURRENCE-ID:yesterday\r\n"
        "ATTENDEE;PARTSTAT=DECLINED:mailto:a@example.pl\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",  # an unreadable instance
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.pl\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",  # no UID
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\nATTENDEE;PARTSTAT=ACCEPTED:Jan\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",  # no address
    ],
)
def test_a_broken_part_is_skipped(broken: str) -> None:
    good = reply_to(invite([CLOSING]), "ACCEPTED")
    message = with_calendar(broken)
    assert calendar_replies(message) == []
    message.add_attachment(good.encode(), maintype="application", subtype="ics", filename="invite.ics")
    assert [reply.partstat for reply in calendar_replies(message)] == ["ACCEPTED"]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(["utf-8", "x-unknown", "windows-1250", "utf-16"]))
def test_calendar_replies_never_raises(payload: bytes, charset: str) -> None:
    raw = (
        b"Content-Type: text/calendar; method=REPLY; charset=" + charset.encode() + b"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + payload
    )
    for message in (message_from_bytes(raw), message_from_bytes(raw, policy=policy.default)):
        assert isinstance(calendar_replies(message), list)
    prefixed = b"Content-Type: text/calendar; method=REPLY\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n" + payload
    assert isinstance(calendar_replies(message_from_bytes(prefixed)), list)

"""The working groups' decisions, invitations, reminders and cancellations, worded for one applicant.

Pure: the caller (bot/working_groups.py) says what to tell whom; this module writes it in the applicant's
language, for email (with our signature) or Telegram (the catalog as Telegram shows it: buttons, no
signature). The calendar invitation itself is calendar.py's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from babel.dates import format_date

from handlers.definitions.events import Event
from handlers.definitions.i18n import Catalog, Language
from handlers.definitions.recruitment import WARSAW, Recruitment

# The catalog keys this module words with, and the placeholders each takes.
MESSAGES: dict[str, set[str]] = {
    "decision_subject": set(),
    "decision_selected": {"group"},
    "decision_offer": {"group"},
    "decision_update": {"group"},
    "decision_optional": set(),
    "decision_confirm": {"confirm_by"},
    "telegram_decision_confirm": {"confirm_by"},
    "decision_reserve": {"group", "rank"},
    "decision_not_selected": set(),
    "decision_late": {"closes"},
    "decision_incomplete": set(),
    "decision_take_part": {"contact"},
    "decision_button_yes": set(),
    "decision_button_no": set(),
    "reminder_subject": {"meeting"},
    "reminder_body": {"meeting", "day", "hours", "address"},
    "cancel_subject": {"meeting"},
    "cancel_body": {"meeting", "day", "hours"},
    "attendance_confirmed": set(),
    "attendance_declined": set(),
    "attendance_closed": {"contact"},
}

ATTEND_YES, ATTEND_NO = "attend:yes", "attend:no"  # a Telegram button's data: the answer to a seat's offer


class Decision(StrEnum):
    """What an applicant is told (the export's `decision`, with `not_selected` for the rest)."""

    SELECTED = "selected"
    RESERVE = "reserve"
    NOT_SELECTED = "not_selected"


class NotConsidered(StrEnum):
    """Why an application was not in the draw at all, when the not-selected decision should say so."""

    LATE = "late"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to one applicant: a subject (email only), a text, and Telegram's answer buttons."""

    subject: str
    body: str
    buttons: tuple[tuple[str, str], ...] = ()  # (label, data)


def meeting_day(event: Event, language: Language) -> str:
    """A meeting's day written out: "poniedziałek, 25 października 2027"."""
    return format_date(event.starts.astimezone(WARSAW).date(), format="EEEE, d MMMM y", locale=language)


def meeting_hours(event: Event) -> str:
    """A meeting's hours in Warsaw: "17:00–20:00"."""
    return f"{event.starts.astimezone(WARSAW):%H:%M}–{event.ends.astimezone(WARSAW):%H:%M}"


def group_meetings(call: Recruitment, group: str, events: Mapping[str, Event]) -> list[Event]:
    """A group's meetings and then the closing meeting, as events.yaml has them (unknown slugs left out)."""
    found = call.group(group)
    slugs = [*(found.meetings if found else ()), *([call.closing_meeting] if call.closing_meeting else [])]
    return [events[slug] for slug in slugs if slug in events]


def meeting_lines(
    meetings: Sequence[Event], catalog: Catalog, language: Language, *, cancelled: Sequence[str] = ()
) -> str:
    """One line a meeting: its day, hours and place; an optional one marked; a closing meeting named."""
    lines = []
    for event in meetings:
        if event.slug in cancelled:
            continue
        named = f"{event.name(language)}: " if event.kind == "plenary" else ""
        line = f"• {named}{meeting_day(event, language)}, {meeting_hours(event)}, {event.address}"
        if event.optional:
            line += f" ({catalog('decision_optional', language)})"
        lines.append(line)
    return "\n".join(lines)


def seat_notice(
    catalog: Catalog,
    language: Language,
    *,
    call: Recruitment,
    group: str,
    events: Mapping[str, Event],
    confirm_by: date | None,
    offer: bool,
    signature: bool,
    cancelled: Sequence[str] = (),
) -> Notice:
    """A seat: in the decisions (`offer` False), freed and offered to the next reserve (`offer` True), or its
    meetings changed after it was offered (`confirm_by` None: no new request to confirm, no buttons)."""
    found = call.group(group)
    name = found.name(language) if found else group
    key = "decision_update" if confirm_by is None else "decision_offer" if offer else "decision_selected"
    body = [
        catalog(key, language, group=name),
        meeting_lines(group_meetings(call, group, events), catalog, language, cancelled=cancelled),
    ]
    if confirm_by is None:
        return _notice(catalog, language, call, body, signature)
    body.append(catalog("decision_confirm", language, confirm_by=_long_day(confirm_by, language)))
    buttons = (
        (catalog("decision_button_yes", language), ATTEND_YES),
        (catalog("decision_button_no", language), ATTEND_NO),
    )
    return _notice(catalog, language, call, body, signature, buttons=buttons)


def reserve_notice(
    catalog: Catalog, language: Language, *, call: Recruitment, group: str, rank: int, signature: bool
) -> Notice:
    """A rank on a group's reserve list."""
    found = call.group(group)
    name = found.name(language) if found else group
    body = [catalog("decision_reserve", language, group=name, rank=rank)]
    return _notice(catalog, language, call, body, signature)


def not_selected_notice(
    catalog: Catalog, language: Language, *, call: Recruitment, why: NotConsidered | None, signature: bool
) -> Notice:
    """No seat this time (or no place in the draw: late, incomplete), and how to still take part."""
    if why is NotConsidered.LATE:
        closes = format_date(call.deadline.astimezone(WARSAW).date(), format="d MMMM y", locale=language)
        first = catalog("decision_late", language, closes=closes)
    elif why is NotConsidered.INCOMPLETE:
        first = catalog("decision_incomplete", language)
    else:
        first = catalog("decision_not_selected", language)
    body = [first, catalog("decision_take_part", language, contact=call.contact)]
    return _notice(catalog, language, call, body, signature)


def reminder_notice(
    catalog: Catalog, language: Language, *, call: Recruitment, meeting: Event, signature: bool
) -> Notice:
    """The day before a meeting."""
    name = meeting.name(language)
    body = catalog(
        "reminder_body",
        language,
        meeting=name,
        day=meeting_day(meeting, language),
        hours=meeting_hours(meeting),
        address=meeting.address,
    )
    subject = catalog("reminder_subject", language, meeting=name)
    return _notice(catalog, language, call, [body], signature, subject=subject)


def cancel_notice(
    catalog: Catalog, language: Language, *, call: Recruitment, meeting: Event, signature: bool
) -> Notice:
    """An optional meeting staff cancelled."""
    name = meeting.name(language)
    body = catalog(
        "cancel_body", language, meeting=name, day=meeting_day(meeting, language), hours=meeting_hours(meeting)
    )
    subject = catalog("cancel_subject", language, meeting=name)
    return _notice(catalog, language, call, [body], signature, subject=subject)


def _notice(
    catalog: Catalog,
    language: Language,
    call: Recruitment,
    body: list[str],
    signature: bool,
    *,
    subject: str | None = None,
    buttons: tuple[tuple[str, str], ...] = (),
) -> Notice:
    if signature:
        body = [*body, catalog("mail_signature", language, address=call.contact)]
    return Notice(subject or catalog("decision_subject", language), "\n\n".join(body), buttons)


def _long_day(day: date, language: Language) -> str:
    return format_date(day, format="d MMMM y", locale=language)

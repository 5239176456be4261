"""Events as data: Neighbour Day events, meetings, and where a submission came from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.definitions.config_files import ConfigError, Problem, describe_validation_errors, read_yaml
from handlers.definitions.i18n import Text

# Telegram deep-link payloads allow A-Za-z0-9_- and at most 64 characters.
SLUG_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]


class EventKind(StrEnum):
    NEIGHBOUR_DAY = "neighbour_day"
    CONSULTATION_MEETING = "consultation_meeting"
    WORKING_GROUP = "working_group"
    PLENARY = "plenary"
    OTHER = "other"


# The programme's working groups (and their closing meeting) are for the people chosen from those who
# applied by email; they are never listed to residents as open events.
FOR_SELECTED_PARTICIPANTS = frozenset({EventKind.WORKING_GROUP, EventKind.PLENARY})


class Event(BaseModel):
    """One place and time where residents are invited to answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    kind: EventKind
    name: Text
    district: str
    address: str
    starts: datetime
    ends: datetime
    accessibility: Text | None = None
    questionnaire: str | None = None  # which questionnaire its QR code opens; default the first
    # False: only invited participants come (listed for staff and on its own poster, never in /events).
    open_to_public: bool = True
    # True: a working group's meeting that may be cancelled if the earlier ones cover the group's work.
    optional: bool = False


class _EventsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: tuple[Event, ...] = ()


def parse_events(raw: Any, file: str) -> dict[str, Event]:
    """Validates an events file, keyed by slug.

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError([Problem(file, "(top)", "expected `events:` followed by a list of events")])

    def key_of(loc: tuple[int | str, ...]) -> str:
        if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            items = raw.get("events") or []
            item = items[loc[1]] if loc[1] < len(items) else None
            slug = item.get("slug") if isinstance(item, Mapping) else None
            head = f"events[{slug or loc[1] + 1}]"
            return ".".join([head, *map(str, loc[2:])])
        return ".".join(map(str, loc))

    try:
        _EventsFile.model_validate(raw)
    except ValidationError as err:
        problems = describe_validation_errors(err, file, key_of)
    else:
        problems = []
    # The events that are valid on their own are still checked against each other and for
    # their dates, so one run of `wspolnota check` shows every problem, not only the schema's.
    items = raw.get("events")
    events: dict[str, Event] = {}
    for item in items if isinstance(items, list | tuple) else []:
        try:
            event = Event.model_validate(item)
        except ValidationError:
            continue  # already described above
        key = f"events[{event.slug}]"
        if event.slug in events:
            problems.append(Problem(file, key, "duplicate slug"))
        if event.starts.tzinfo is None or event.ends.tzinfo is None:
            problems.append(Problem(file, key, "starts/ends need a time zone, e.g. 2026-05-29T17:30:00+02:00"))
        elif event.ends <= event.starts:
            problems.append(Problem(file, f"{key}.ends", "must be later than `starts`"))
        if event.kind in FOR_SELECTED_PARTICIPANTS and event.open_to_public:
            problems.append(
                Problem(
                    file,
                    f"{key}.open_to_public",
                    f"a {event.kind.value} meeting is for the selected participants: set `open_to_public: false`",
                )
            )
        if event.optional and event.kind is not EventKind.WORKING_GROUP:
            problems.append(Problem(file, f"{key}.optional", "only a working_group meeting can be optional"))
        events[event.slug] = event
    if problems:
        raise ConfigError(problems)
    return events


def load_events(path: Path) -> dict[str, Event]:
    """Loads the events file (a missing file means no events).

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if not path.exists():
        return {}
    return parse_events(read_yaml(path), str(path))


def upcoming_events(events: Mapping[str, Event], now: datetime) -> list[Event]:
    """Lists the events open to the public that have not ended yet, soonest first."""
    return sorted((e for e in events.values() if e.open_to_public and e.ends >= now), key=lambda e: e.starts)


def parse_source(source: str | None) -> tuple[str | None, str | None]:
    """Splits a deep-link payload `event-slug__stand` into event and stand (both optional)."""
    if not source or not re.match(SLUG_PATTERN, source):
        return None, None
    event, _, stand = source.partition("__")
    return event or None, stand or None

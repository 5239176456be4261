"""The call for working-group applications as data: groups, seats, sectors, quotas, dates and the notice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from handlers.definitions.config_files import ConfigError, Problem, describe_validation_errors, read_yaml
from handlers.definitions.events import Event, EventKind, Slug
from handlers.definitions.i18n import LANGUAGES, Text
from handlers.definitions.privacy import check_placeholders

WARSAW = ZoneInfo("Europe/Warsaw")  # the deadline and the decision date are the city's days

# The kinds of experience the programme's page names; the selection's quotas are per sector, so
# the codes are fixed (exports, reports and the next season's data compare by them). Labels are staff's.
SECTOR_CODES = ("ngo", "informal", "resident", "district_office", "city_institution", "city_hall")
# The description of experience, at most this long in every channel (the form says so; a longer email is
# cut here, its whole text staying in the stored email).
DESCRIPTION_LIMIT = 2000

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
_AWARE_TIME: TypeAdapter[datetime] = TypeAdapter(datetime)
_DATE: TypeAdapter[date] = TypeAdapter(date)
_MIN_AGE: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=13, le=99)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(_Strict):
    """One working group: its seats and the meetings (slugs in events.yaml) its members attend."""

    code: Code
    name: Text
    seats: int = Field(ge=1, le=500)
    meetings: tuple[Slug, ...] = Field(min_length=1)


class Sector(_Strict):
    """One kind of experience an applicant brings (an NGO, a district office…)."""

    code: Code
    label: Text


class Quota(_Strict):
    """How many of a group's seats go to one sector, at least and at most."""

    min: int = Field(default=0, ge=0)
    max: int = Field(ge=0)


class ApplicantPrivacy(_Strict):
    """The notice an applicant accepts (they give a name and contacts); its version is stored with them.

    `text` is the whole notice, written out (no placeholders). `lead` (one line on top: who asks, about
    what) and `short` (the essentials before the first question; `{more}` says where the whole notice is)
    are optional: without `short` the whole notice comes before the first question.
    """

    version: Annotated[str, Field(min_length=1, max_length=40)]
    text: Text
    lead: Text | None = None
    short: Text | None = None


class Recruitment(_Strict):
    """The call for applications to the working groups, as staff write it."""

    opens: datetime
    deadline: datetime  # staff may extend it: applications received (by our mailbox) until then count
    decision_date: date  # every applicant hears back by the end of this day (Europe/Warsaw)
    contact: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = "wspolnota@um.warszawa.pl"
    min_age: Annotated[int, Field(ge=13, le=99)] = 16  # younger people cannot apply; the notice says so
    groups: tuple[Group, ...] = Field(min_length=1)
    closing_meeting: Slug | None = None
    sectors: tuple[Sector, ...]
    quotas: dict[str, dict[str, Quota]] = Field(default_factory=dict)
    privacy: ApplicantPrivacy
    # The draw and after (`wspolnota groups …`): how many of each group's pool are ranked on its reserve list
    # (the rest are told they were not selected); how many days a selected person has to confirm; whether
    # the service itself frees unconfirmed or refused seats and offers them to the reserve lists.
    reserve_size: int = Field(default=10, ge=0, le=500)
    confirm_within_days: int = Field(default=7, ge=1, le=60)
    replace_automatically: bool = False
    # The application form's version (built from this file): raise it when a group or a sector is added
    # or removed while applications exist, as a questionnaire's `version`.
    form_version: int = Field(default=1, ge=1)

    @cached_property
    def _groups(self) -> dict[str, Group]:
        return {group.code: group for group in self.groups}

    def group(self, code: str) -> Group | None:
        """Returns the group with this code, if there is one."""
        return self._groups.get(code)

    def sector(self, code: str) -> Sector | None:
        """Returns the sector with this code, if there is one."""
        return next((sector for sector in self.sectors if sector.code == code), None)

    def quota(self, group: str, sector: str) -> Quota:
        """The seats of a group one sector may hold; a sector the file leaves out may hold any."""
        seats = self._groups[group].seats
        return self.quotas.get(group, {}).get(sector) or Quota(min=0, max=seats)

    def accepts(self, received: datetime) -> bool:
        """Tells whether an application received at this moment is on time (from opening to the deadline)."""
        return self.opens <= received <= self.deadline


def _key(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Turns a pydantic location into a key staff can find: `groups[otwartosc].meetings[2]`."""
    parts: list[str] = []
    node: Any = raw
    for step in loc:
        if isinstance(step, int) and parts:
            item = node[step] if isinstance(node, list) and step < len(node) else None
            code = item.get("code") if isinstance(item, Mapping) else None
            parts[-1] += f"[{code}]" if isinstance(code, str) and code else f"[{step + 1}]"
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def _valid_items(raw: Mapping[str, Any], name: str, model: type[_Strict]) -> list[Any]:
    """The items of a list that are valid on their own (the others are described by the schema's errors)."""
    items = raw.get(name)
    valid = []
    for item in items if isinstance(items, list) else []:
        try:
            valid.append(model.model_validate(item))
        except ValidationError:
            continue
    return valid


def _valid(adapter: TypeAdapter[Any], value: Any) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _check_semantics(raw: Mapping[str, Any], file: str, events: Mapping[str, Event] | None) -> list[Problem]:
    """Finds the mistakes the schema cannot see, on the parts that are valid on their own.

    So one run of `wspolnota check` lists every mistake. `events` is None when the events file
    could not be read: the meetings are then not looked up (its own problems are reported).
    """
    problems: list[Problem] = []

    def problem(key: str, reason: str) -> None:
        problems.append(Problem(file, key, reason))

    opens, deadline = _valid(_AWARE_TIME, raw.get("opens")), _valid(_AWARE_TIME, raw.get("deadline"))
    decided = _valid(_DATE, raw.get("decision_date"))
    for name, value in (("opens", opens), ("deadline", deadline)):
        if value is not None and value.tzinfo is None:
            problem(name, "needs a time zone, e.g. 2027-09-30T23:59:59+02:00")
    opens = opens if opens is not None and opens.tzinfo is not None else None
    deadline = deadline if deadline is not None and deadline.tzinfo is not None else None
    if opens and deadline and opens >= deadline:
        problem("deadline", "must be later than `opens`")
    if deadline and decided and deadline.astimezone(WARSAW).date() >= decided:
        problem("decision_date", f"must be later than the deadline's day ({deadline.astimezone(WARSAW):%Y-%m-%d})")

    raw_groups = raw.get("groups")
    # Every code written counts (a group wrong in another way is still there), the valid groups are checked.
    group_codes = [
        item["code"]
        for item in (raw_groups if isinstance(raw_groups, list) else [])
        if isinstance(item, Mapping) and isinstance(item.get("code"), str)
    ]
    for code in sorted({c for c in group_codes if group_codes.count(c) > 1}):
        problem(f"groups[{code}]", "duplicate group code")
    groups: list[Group] = _valid_items(raw, "groups", Group)
    meeting_of: dict[str, str] = {}
    for group in groups:
        key = f"groups[{group.code}]"
        for position, slug in enumerate(group.meetings, start=1):
            where = f"{key}.meetings[{position}]"
            if slug in meeting_of:
                problem(where, f"'{slug}' is also a meeting of group '{meeting_of[slug]}'")
            meeting_of.setdefault(slug, group.code)
            _check_meeting(slug, EventKind.WORKING_GROUP, where, decided, events, problem)
    closing = raw.get("closing_meeting")
    if isinstance(closing, str):
        if closing in meeting_of:
            problem("closing_meeting", f"'{closing}' is also a meeting of group '{meeting_of[closing]}'")
        _check_meeting(closing, EventKind.PLENARY, "closing_meeting", decided, events, problem)

    sectors: list[Sector] = _valid_items(raw, "sectors", Sector)
    codes = [sector.code for sector in sectors]
    fixed = ", ".join(SECTOR_CODES)
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problem(f"sectors[{code}]", "duplicate sector code")
    for code in [c for c in codes if c not in SECTOR_CODES]:
        problem(f"sectors[{code}]", f"unknown sector; the sectors are fixed: {fixed}")
    if isinstance(raw.get("sectors"), list) and len(sectors) == len(raw["sectors"]):
        for code in [c for c in SECTOR_CODES if c not in codes]:
            problem("sectors", f"'{code}' is missing; the sectors are fixed: {fixed}")

    quotas = raw.get("quotas")
    if isinstance(quotas, Mapping):
        _check_quotas(quotas, set(group_codes), {g.code: g for g in groups}, problem)

    privacy = raw.get("privacy")
    text = privacy.get("text") if isinstance(privacy, Mapping) else None
    min_age = _valid(_MIN_AGE, raw.get("min_age", Recruitment.model_fields["min_age"].default))
    if isinstance(text, Mapping) and min_age is not None:
        for language in LANGUAGES:
            if isinstance(text.get(language), str) and str(min_age) not in text[language]:
                problem(f"privacy.text.{language}", f"must say who may apply: from the age of {min_age} (`min_age`)")
    for layer, allowed in (("text", frozenset()), ("lead", frozenset()), ("short", frozenset({"more"}))):
        texts = privacy.get(layer) if isinstance(privacy, Mapping) else None
        for language in LANGUAGES if isinstance(texts, Mapping) else ():
            assert isinstance(texts, Mapping)
            if isinstance(texts.get(language), str):
                key = f"privacy.{layer}.{language}"
                problems += check_placeholders(file, key, texts[language], allowed)
    return problems


def _check_meeting(
    slug: str,
    kind: EventKind,
    key: str,
    decided: date | None,
    events: Mapping[str, Event] | None,
    problem: Callable[[str, str], None],
) -> None:
    if events is None:
        return
    event = events.get(slug)
    if event is None:
        problem(key, f"no event '{slug}' in events.yaml")
        return
    if event.kind is not kind:
        problem(key, f"'{slug}' is a {event.kind.value} event in events.yaml, not a {kind.value} meeting")
    if decided and event.starts.astimezone(WARSAW).date() <= decided:
        problem(key, f"'{slug}' starts before the applicants hear back (decision_date {decided})")


def _check_quotas(
    quotas: Mapping[Any, Any], codes: set[str], groups: Mapping[str, Group], problem: Callable[[str, str], None]
) -> None:
    for group_code, per_sector in quotas.items():
        key = f"quotas.{group_code}"
        group = groups.get(str(group_code))
        if str(group_code) not in codes:
            problem(key, f"no group has the code '{group_code}'")
        if not isinstance(per_sector, Mapping):
            continue  # described by the schema's errors
        valid: dict[str, Quota] = {}
        for sector_code, value in per_sector.items():
            if sector_code not in SECTOR_CODES:
                problem(f"{key}.{sector_code}", f"unknown sector; the sectors are: {', '.join(SECTOR_CODES)}")
                continue
            try:
                quota = Quota.model_validate(value)
            except ValidationError:
                continue
            if quota.min > quota.max:
                problem(f"{key}.{sector_code}", f"min ({quota.min}) is more than max ({quota.max})")
            valid[str(sector_code)] = quota
        if group is None or len(valid) != len(per_sector):
            continue
        low = sum(quota.min for quota in valid.values())
        # A sector left out may take any number of seats.
        high = sum(min(quota.max, group.seats) for quota in valid.values())
        high += group.seats * sum(code not in valid for code in SECTOR_CODES)
        if low > group.seats:
            problem(key, f"the minimums add up to {low}, more than the group's {group.seats} seats")
        if high < group.seats:
            problem(key, f"the maximums add up to {high}, fewer than the group's {group.seats} seats")


def parse_recruitment(raw: Any, file: str, events: Mapping[str, Event] | None = None) -> Recruitment:
    """Validates the call for applications; `events` (slug → event) are where its meetings must be.

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError([Problem(file, "(top)", "expected a mapping of keys such as opens, deadline, groups")])
    recruitment: Recruitment | None = None
    try:
        recruitment = Recruitment.model_validate(raw)
    except ValidationError as err:
        problems = describe_validation_errors(err, file, lambda loc: _key(raw, loc))
    else:
        problems = []
    problems += _check_semantics(raw, file, events)
    if problems or recruitment is None:
        raise ConfigError(problems)
    return recruitment


def load_recruitment(path: Path, events: Mapping[str, Event] | None = None) -> Recruitment | None:
    """Loads the call for applications; None when the file is absent (the working groups are off).

    Raises:
        ConfigError: listing every problem with file, key and reason.
    """
    if not path.exists():
        return None
    return parse_recruitment(read_yaml(path), str(path), events)

"""Working-group applications: one per respondent, recorded by the engine, judged and read by staff.

The engine records an application in the transaction of the step that completes, corrects or
withdraws it (`record_application`, `withdraw_application`, taking a `Unit`); staff's functions
run their own transactions (taking a `Store`). Names and addresses are kept in this table only.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from storage.audit import audit_in
from storage.dialect import insert, locked
from storage.models import Application
from storage.repository import Store, Unit

__all__ = [
    "Application",
    "ApplicationFields",
    "ApplicationStatus",
    "Duplicate",
    "UnknownApplication",
    "application_by_reference",
    "exclude_application",
    "fields_of",
    "find_application",
    "find_duplicates",
    "in_the_draw",
    "include_application",
    "list_applications",
    "name_key",
    "parse_reference",
    "record_application",
    "withdraw_application",
]


class ApplicationStatus(StrEnum):
    """Where an application stands: `complete` once every required answer is in."""

    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class ApplicationFields:
    """What the applicant told us; None is not given (yet)."""

    name: str | None = None
    email: str | None = None
    email_verified: bool = False
    organisation: str | None = None
    sector: str | None = None  # a sector code of config/recruitment.yaml
    groups: tuple[str, ...] = ()  # the group codes wanted, in the order given
    description: str | None = None
    available: bool | None = None  # can attend all of the group's meetings
    language: str = "pl"
    privacy_version: str | None = None  # the applicants' notice accepted


class UnknownApplication(Exception):
    """No application has this reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no application {reference!r} (references look like Z-12; see `wspolnota groups export`)")
        self.reference = reference


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Applications that may be one person's: the same normalised name, or the same email."""

    by: str  # "name" or "email"
    references: tuple[str, ...]  # Z-n, oldest first


async def record_application(
    unit: Unit,
    *,
    respondent_id: int,
    submission_id: int | None,
    channel: str,
    received_at: datetime,
    late: bool,
    fields: ApplicationFields,
    complete: bool,
    now: datetime,
) -> Application:
    """Stores a respondent's application, or updates the one they have (never a second row).

    `fields` replace the stored ones: pass the whole application (`fields_of` and
    `dataclasses.replace` for a partial correction). The first call's `received_at` and `late` stay:
    they describe when the application arrived, which a later correction does not change (a late
    application stays late; an on-time one is not made late by a correction). A later call with
    `complete` also revives a withdrawn application. `submission_id` None keeps the one stored.
    """
    values = _stored_values(fields, complete=complete, now=now)
    if submission_id is not None:
        values["submission_id"] = submission_id
    # A first application is one statement; one already held (or another step of the same person racing
    # this one, two emails read at once) is updated instead: one row, keeping the first receipt's time.
    inserted = await unit.session.scalars(
        insert(unit.dialect, Application)
        .values(
            respondent_id=respondent_id, channel=channel, late=late, excluded=False, received_at=received_at, **values
        )
        .on_conflict_do_nothing(index_elements=["respondent_id"])
        .returning(Application)
    )
    application = inserted.first()
    if application is not None:
        return application
    application = await _held(unit, respondent_id)
    assert application is not None
    for name, value in values.items():
        setattr(application, name, value)
    await unit.flush()
    return application


def _stored_values(fields: ApplicationFields, *, complete: bool, now: datetime) -> dict[str, Any]:
    """The columns an application's fields set, for a new row and an update alike (never staff's exclusion)."""
    return {
        "status": ApplicationStatus.COMPLETE if complete else ApplicationStatus.INCOMPLETE,
        "name": _clean(fields.name),
        "name_key": name_key(fields.name),
        "email": _clean(fields.email.lower()) if fields.email else None,
        "email_verified": fields.email_verified,
        "organisation": _clean(fields.organisation),
        "sector": fields.sector,
        "groups": list(dict.fromkeys(fields.groups)),
        "description": fields.description,
        "available": fields.available,
        "language": fields.language,
        "privacy_version": fields.privacy_version,
        "updated_at": now,
    }


async def withdraw_application(unit: Unit, respondent_id: int, now: datetime) -> Application | None:
    """Marks the respondent's application withdrawn (kept for staff until erased); None when they have none."""
    application = await _held(unit, respondent_id)
    if application is not None:
        application.status = ApplicationStatus.WITHDRAWN
        application.updated_at = now
        await unit.flush()
    return application


async def find_application(unit: Unit, respondent_id: int) -> Application | None:
    """Returns the respondent's application, if they have one."""
    result = await unit.session.scalars(select(Application).where(Application.respondent_id == respondent_id))
    return result.first()


async def applications_of(unit: Unit, respondent_ids: Collection[int]) -> dict[int, Application]:
    """The applications of these respondents, by respondent, in one query (a batch of emails)."""
    if not respondent_ids:
        return {}
    found = await unit.session.scalars(select(Application).where(Application.respondent_id.in_(set(respondent_ids))))
    return {application.respondent_id: application for application in found}


async def applications_by_address(unit: Unit, address: str, respondent_id: int | None) -> list[int]:
    """The applications an email's sender may answer for: those with this address, or of this respondent."""
    query = select(Application.id).where(Application.email == address.lower())
    if respondent_id is not None:
        query = select(Application.id).where(
            (Application.email == address.lower()) | (Application.respondent_id == respondent_id)
        )
    return list(await unit.session.scalars(query))


async def _held(unit: Unit, respondent_id: int) -> Application | None:
    """The respondent's application, its row locked until commit on PostgreSQL (SQLite's unit holds the file)."""
    query = select(Application).where(Application.respondent_id == respondent_id)
    return (await unit.session.scalars(locked(query, unit.dialect))).first()


async def follow_the_deadline(store: Store, deadline: datetime) -> int:
    """Marks late exactly the applications received after the call's deadline as it stands in the file now,
    so a deadline staff extend (read at start-up) takes back whatever arrived before the new one; returns how
    many changed (a few hundred rows at most, compared here as aware datetimes)."""
    changed = 0
    async with store.unit() as unit:
        for application in await unit.session.scalars(select(Application)):
            late = application.received_at > deadline
            if application.late != late:
                application.late, changed = late, changed + 1
    return changed


def in_the_draw(application: Application) -> bool:
    """Tells whether an application counts for the groups' seats: complete, on time, not excluded by staff,
    and eligible (its applicant did not say they cannot attend the group's meetings)."""
    return (
        application.status == ApplicationStatus.COMPLETE
        and not application.late
        and not application.excluded
        and application.available is not False
    )


def fields_of(application: Application) -> ApplicationFields:
    """What an application holds, as the fields `record_application` takes."""
    return ApplicationFields(
        name=application.name,
        email=application.email,
        email_verified=application.email_verified,
        organisation=application.organisation,
        sector=application.sector,
        groups=tuple(application.groups or ()),
        description=application.description,
        available=application.available,
        language=application.language,
        privacy_version=application.privacy_version,
    )


def parse_reference(reference: str) -> int | None:
    """The id in a reference staff typed: `Z-12`, `z12` or `12`; None when it is not one."""
    match = re.fullmatch(r"\s*(?:[zZ]\s*-?\s*)?(\d{1,12})\s*", reference)
    return int(match.group(1)) if match else None


async def list_applications(store: Store) -> list[Application]:
    """Every application, oldest first (for staff's status and export)."""
    async with store.unit(write=False) as unit:
        return list(await unit.session.scalars(select(Application).order_by(Application.received_at, Application.id)))


async def application_by_reference(store: Store, reference: str) -> Application | None:
    """The application a reference names (`Z-12`, `z12`, `12`), for staff to read; None when there is none."""
    number = parse_reference(reference)
    if number is None or number > 2**31 - 1:  # beyond PostgreSQL's integer: no such row, not a database error
        return None
    async with store.unit(write=False) as unit:
        return await unit.session.get(Application, number)


async def exclude_application(store: Store, reference: str, *, reason: str, actor: str, now: datetime) -> Application:
    """Leaves an application out of the selection for a reason staff give (written to the audit log).

    Raises:
        UnknownApplication: when no application has this reference.
    """
    return await _judge(store, reference, excluded=True, reason=reason, actor=actor, now=now)


async def include_application(store: Store, reference: str, *, actor: str, now: datetime) -> Application:
    """Takes an excluded application back into the selection (written to the audit log).

    Raises:
        UnknownApplication: when no application has this reference.
    """
    return await _judge(store, reference, excluded=False, reason=None, actor=actor, now=now)


async def _judge(
    store: Store, reference: str, *, excluded: bool, reason: str | None, actor: str, now: datetime
) -> Application:
    number = parse_reference(reference)
    async with store.unit() as unit:
        application = await unit.session.get(Application, number) if number is not None else None
        if application is None:
            raise UnknownApplication(reference)
        was = application.excluded
        application.excluded = excluded
        application.exclusion_reason = reason
        # Who judged which application, and why: the reason is staff's words, never the applicant's data.
        details = {"application": application.reference, "was_excluded": was} | ({"reason": reason} if reason else {})
        audit_in(unit, actor, "application_exclude" if excluded else "application_include", details, now)
        return application


async def find_duplicates(store: Store) -> list[Duplicate]:
    """Applications (not withdrawn) that share a normalised name or an email: possibly one person twice."""
    by_key: dict[tuple[str, str], list[Application]] = defaultdict(list)
    for application in await list_applications(store):
        if application.status == ApplicationStatus.WITHDRAWN:
            continue
        if application.name_key:
            by_key["name", application.name_key].append(application)
        if application.email:
            by_key["email", application.email].append(application)
    found = [
        Duplicate(by, tuple(a.reference for a in sorted(group, key=lambda a: a.id)))
        for (by, _), group in by_key.items()
        if len(group) > 1
    ]
    return sorted(found, key=lambda d: (int(d.references[0][2:]), d.by))


def name_key(name: str | None) -> str | None:
    """A name as duplicates are found by: case, accents, punctuation and word order left aside."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name.casefold().replace("ł", "l"))
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    words = sorted(re.findall(r"\w+", letters))
    return " ".join(words)[:200] or None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(text.split()) or None

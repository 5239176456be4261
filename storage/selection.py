"""The working groups' draw as stored: the newest draw, its placements (seats, reserve ranks, the rest of the
pool), what each applicant was told (notices, once each) and their answers.

A draw stands once its decisions are queued (`decisions_at`); until then staff may draw again, which
replaces it. Functions taking a `Store` run their own transaction; those taking a `Unit` the caller's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select

from storage.audit import audit_in
from storage.dialect import insert, locked
from storage.models import (
    Application,
    Contact,
    MeetingAttendance,
    Notice,
    Placement,
    Respondent,
    SelectionDraw,
)
from storage.repository import Store, Unit

__all__ = [
    "DrawFrozen",
    "Placement",
    "PlacementValues",
    "Role",
    "SelectionDraw",
    "current_draw",
    "save_draw",
]


class Role(StrEnum):
    """An applicant's place in one group of a draw."""

    SELECTED = "selected"  # a seat (offered in the decisions, or to a reserve on replacement)
    RESERVE = "reserve"  # a rank on the group's reserve list
    NOT_SELECTED = "not_selected"  # in the group's pool, neither


class Attendance(StrEnum):
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class DrawFrozen(Exception):
    """The decisions of the newest draw are queued: a new draw would change what people were told."""

    def __init__(self, draw: SelectionDraw) -> None:
        assert draw.decisions_at is not None
        super().__init__(
            f"the draw with seed {draw.seed} stands: its decisions were queued at "
            f"{draw.decisions_at:%Y-%m-%d %H:%M} UTC, so a new draw is refused "
            "(free seats are filled from the reserve lists: `wspolnota groups replace`)"
        )
        self.draw = draw


@dataclass(frozen=True, slots=True)
class PlacementValues:
    """One placement of a new draw."""

    application_id: int
    group_code: str
    role: Role
    probability: float
    reserve_rank: int | None = None


async def current_draw(store: Store) -> SelectionDraw | None:
    """The newest draw, if there is one."""
    async with store.unit(write=False) as unit:
        return await newest_draw(unit)


async def newest_draw(unit: Unit, *, lock: bool = False) -> SelectionDraw | None:
    """The newest draw in the caller's transaction (its row locked until commit on PostgreSQL if asked)."""
    query = select(SelectionDraw).order_by(SelectionDraw.id.desc()).limit(1)
    return (await unit.session.scalars(locked(query, unit.dialect) if lock else query)).first()


async def save_draw(
    store: Store,
    *,
    seed: int,
    algorithm: str,
    library_version: str,
    solver_version: str,
    result: dict[str, Any],
    placements: Sequence[PlacementValues],
    actor: str,
    now: datetime,
) -> SelectionDraw:
    """Stores a draw with its placements, replacing the one before (and its placements), in one transaction.

    Raises:
        DrawFrozen: when the newest draw's decisions are queued.
    """
    async with store.unit() as unit:
        before = await newest_draw(unit, lock=True)
        if before is not None and before.decisions_at is not None:
            raise DrawFrozen(before)
        await unit.session.execute(delete(Placement))
        await unit.session.execute(delete(SelectionDraw))
        draw = SelectionDraw(
            seed=seed,
            drawn_at=now,
            actor=actor,
            algorithm=algorithm,
            library_version=library_version,
            solver_version=solver_version,
            result=result,
            decisions_at=None,
            cancelled=None,
        )
        unit.add(draw)
        await unit.flush()
        unit.session.add_all(
            Placement(
                draw_id=draw.id,
                application_id=p.application_id,
                group_code=p.group_code,
                role=p.role,
                reserve_rank=p.reserve_rank,
                probability=p.probability,
                sequence=0,
            )
            for p in placements
        )
        details = {"seed": seed, "replaced": before.seed if before is not None else None}
        audit_in(unit, actor, "selection_draw", details, now)
        return draw


async def placements_of(unit: Unit, draw_id: int) -> list[Placement]:
    """Every placement of a draw, by group and then seat, rank and id."""
    query = (
        select(Placement)
        .where(Placement.draw_id == draw_id)
        .order_by(Placement.group_code, Placement.role, Placement.reserve_rank, Placement.application_id)
    )
    return list(await unit.session.scalars(query))


async def placements_by_application(store: Store) -> dict[int, list[Placement]]:
    """The newest draw's placements, by application (empty without a draw)."""
    async with store.unit(write=False) as unit:
        draw = await newest_draw(unit)
        if draw is None:
            return {}
        found: dict[int, list[Placement]] = defaultdict(list)
        for placement in await placements_of(unit, draw.id):
            found[placement.application_id].append(placement)
        return dict(found)


async def record_notice(unit: Unit, application_id: int, kind: str, key: str, now: datetime) -> bool:
    """Notes that an applicant was told something (a decision, an invitation, a reminder) in the caller's
    transaction, with the messages that tell it; False when they were told it already (nothing to send)."""
    inserted = await unit.session.scalars(
        insert(unit.dialect, Notice)
        .values(application_id=application_id, kind=kind, key=key, created_at=now)
        .on_conflict_do_nothing(index_elements=["application_id", "kind", "key"])
        .returning(Notice.id)
    )
    return inserted.first() is not None


async def notified(unit: Unit, kind: str, key: str | None = None) -> set[int]:
    """The applications told this already (of this key, if given)."""
    query = select(Notice.application_id).where(Notice.kind == kind)
    if key is not None:
        query = query.where(Notice.key == key)
    return set(await unit.session.scalars(query))


async def all_applications(unit: Unit) -> list[Application]:
    """Every application, by id, in the caller's transaction."""
    return list(await unit.session.scalars(select(Application).order_by(Application.id)))


async def telegram_chats(unit: Unit, respondent_ids: Collection[int]) -> dict[int, str]:
    """The Telegram chats of these respondents (those who applied in Telegram), by respondent."""
    if not respondent_ids:
        return {}
    rows = await unit.session.execute(
        select(Respondent.id, Contact.address)
        .join(Contact, Contact.respondent_id == Respondent.id)
        .where(Respondent.id.in_(set(respondent_ids)), Respondent.channel == "telegram")
    )
    return {row[0]: row[1] for row in rows.all()}


async def live_seats(unit: Unit, *, application_ids: Collection[int] | None = None) -> list[Placement]:
    """The newest draw's seats that are offered and not released, of these applications (or all)."""
    draw = await newest_draw(unit)
    if draw is None:
        return []
    query = select(Placement).where(
        Placement.draw_id == draw.id,
        Placement.role == Role.SELECTED,
        Placement.offered_at.is_not(None),
        Placement.released_at.is_(None),
    )
    if application_ids is not None:
        query = query.where(Placement.application_id.in_(set(application_ids)))
    return list(await unit.session.scalars(locked(query.order_by(Placement.id), unit.dialect)))


def answer_seat(placement: Placement, attendance: Attendance, now: datetime) -> bool:
    """Records a selected person's confirmation or refusal; a refusal frees the seat. False when nothing changed
    (the same answer twice, a second calendar reply)."""
    if placement.attendance == attendance:
        return False
    placement.attendance = attendance
    placement.answered_at = now
    if attendance is Attendance.DECLINED:
        release_seat(placement, "declined", now)
    return True


def release_seat(placement: Placement, reason: str, now: datetime) -> None:
    """Frees a seat (declined, withdrawn, excluded, not confirmed in time); the reserve list fills it."""
    if placement.released_at is None:
        placement.released_at = now
        placement.release_reason = reason


def promote(placement: Placement, now: datetime) -> None:
    """Gives a reserve the seat freed in their group: offered now (the offer is queued by the caller)."""
    placement.role = Role.SELECTED
    placement.promoted_at = now
    placement.offered_at = now


async def record_meeting_attendance(
    store: Store, meeting: str, application_ids: Collection[int], *, actor: str, now: datetime
) -> int:
    """Records who came to a meeting (from the sign-in sheet); returns how many were not recorded before."""
    async with store.unit() as unit:
        known = set(
            await unit.session.scalars(
                select(MeetingAttendance.application_id).where(MeetingAttendance.meeting == meeting)
            )
        )
        new = sorted(set(application_ids) - known)
        unit.session.add_all(
            MeetingAttendance(application_id=a, meeting=meeting, recorded_at=now, actor=actor) for a in new
        )
        audit_in(unit, actor, "meeting_attendance", {"meeting": meeting, "recorded": len(new)}, now)
        return len(new)


async def meeting_attendance(store: Store) -> dict[int, list[str]]:
    """The meetings each application's person came to, as staff recorded."""
    async with store.unit(write=False) as unit:
        found: dict[int, list[str]] = defaultdict(list)
        for row in await unit.session.scalars(select(MeetingAttendance).order_by(MeetingAttendance.meeting)):
            found[row.application_id].append(row.meeting)
        return dict(found)


async def holders(store: Store, group: str) -> list[tuple[Placement, Application]]:
    """Who holds a seat in a group now (offered, not released), with their applications, for the sign-in sheet."""
    async with store.unit(write=False) as unit:
        draw = await newest_draw(unit)
        if draw is None:
            return []
        rows = await unit.session.execute(
            select(Placement, Application)
            .join(Application, Application.id == Placement.application_id)
            .where(
                Placement.draw_id == draw.id,
                Placement.group_code == group,
                Placement.role == Role.SELECTED,
                Placement.offered_at.is_not(None),
                Placement.released_at.is_(None),
            )
            .order_by(Application.id)
        )
        return [(row[0], row[1]) for row in rows.all()]

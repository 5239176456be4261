"""The working groups after the call: the draw, the decisions, invitations, answers, replacements, reminders.

The composition of selection/ (the draw), storage/selection.py (what was drawn and told) and
handlers/email/decisions.py and calendar.py (the words and the invitation). Every message goes through
the outbox in the transaction that records it was told (`notice`), so nobody hears a thing twice, and a
crash or SMTP being down means late, never lost. `WorkingGroups.run` is the service's own clock for it:
the decisions on the decision date if staff have not sent them, replacements if configured, reminders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.group_mail import GroupsError, Messenger
from bot.group_meetings import Meetings
from handlers.definitions.events import Event
from handlers.definitions.i18n import Catalog, Language, as_language
from handlers.definitions.recruitment import WARSAW, Recruitment
from handlers.email.decisions import (
    ATTEND_YES,
    NotConsidered,
    group_meetings,
    not_selected_notice,
    reserve_notice,
)
from handlers.email.decisions import Notice as Words
from handlers.engine.messages import RespondentRef
from selection.model import Candidate, Draw, GroupSpec, Quota
from selection.records import draw_to_json
from selection.replace import next_in_line
from storage.applications import ApplicationStatus, find_application, in_the_draw, list_applications
from storage.audit import audit, audit_in
from storage.models import Application, Placement, SelectionDraw
from storage.repository import Store, Unit
from storage.selection import (
    Attendance,
    DrawFrozen,
    PlacementValues,
    Role,
    all_applications,
    answer_seat,
    holders,
    live_seats,
    newest_draw,
    notified,
    placements_by_application,
    placements_of,
    promote,
    record_notice,
    release_seat,
    save_draw,
    telegram_chats,
)

if TYPE_CHECKING:
    from reports.selection_report import SelectionReport

logger = logging.getLogger(__name__)

DECISIONS_AT = time(9, 0)  # on the decision date, if staff have not sent them (Warsaw time)
WARN_DAYS = 3  # `groups status` warns this many days before the decision date
BATCH = 50  # applicants told in one transaction


@dataclass(frozen=True, slots=True)
class Replacement:
    """What `replace` did in one group."""

    group: str
    released: list[tuple[int, str]] = field(default_factory=list)  # (application, reason)
    offered: list[int] = field(default_factory=list)  # applications offered a seat
    unfilled: int = 0  # seats still free (nobody on the reserve list keeps the quotas, or the meetings began)


@dataclass(frozen=True, slots=True)
class GroupSeats:
    """One group's seats in the newest draw, for `groups status` and the console (application ids, no names)."""

    code: str
    seats: int
    held: int  # seats given and not freed (offered once the decisions are out)
    confirmed: int  # of those held
    declined: int  # seats their holder declined (freed)
    freed: tuple[tuple[int, str], ...]  # (application, reason) of every seat freed
    promoted: tuple[int, ...]  # reserves offered a freed seat
    reserve: tuple[int, ...]  # the reserve list still waiting, by rank

    @property
    def waiting(self) -> int:
        """Seats held whose holder has not confirmed yet."""
        return self.held - self.confirmed


@dataclass(frozen=True, slots=True)
class DrawState:
    """Where the draw stands: for `groups status`'s lines and the console's overview, worded by each."""

    seed: int | None  # None: no draw yet
    drawn_at: datetime | None
    decisions_at: datetime | None  # None: decisions not queued (the draw may be made again)
    days_left: int | None  # days to the decision date (0 today, below 0 past) once it is near, decisions not out
    groups: tuple[GroupSeats, ...]  # by the call's groups; empty without a draw


@dataclass(frozen=True, slots=True)
class RosterWritten:
    """What a sign-in sheet holds."""

    path: Path
    people: int
    meetings: int


class WorkingGroups:
    """The working groups' life after the call, for staff's commands and the service's own clock."""

    def __init__(
        self,
        store: Store,
        call: Recruitment,
        events: Mapping[str, Event],
        catalog: Catalog,
        *,
        mail_from: str,
        domain: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.call = call
        self.events = events
        self.catalog = catalog
        self.mail_from = mail_from
        self.domain = domain
        self.clock = clock
        self._warned = False
        self.mail = Messenger(call, events, catalog, mail_from=mail_from, domain=domain)
        self.meetings = Meetings(store, call, events, self.mail, clock)

    # --- the draw ---------------------------------------------------------------------------------

    def specs(self) -> list[GroupSpec]:
        """The groups as the draw takes them: seats and sector quotas from config/recruitment.yaml."""
        return [
            GroupSpec(
                group.code,
                group.seats,
                {sector: Quota(q.min, q.max) for sector, q in self.call.quotas.get(group.code, {}).items()},
            )
            for group in self.call.groups
        ]

    async def candidates(self) -> list[Candidate]:
        """Everyone in the draw: complete, on time, not excluded, eligible, with a sector and a group."""
        known = {group.code for group in self.call.groups}
        found = []
        for application in await list_applications(self.store):
            groups = tuple(code for code in application.groups or () if code in known)
            if in_the_draw(application) and application.sector and groups:
                found.append(Candidate(application.id, application.sector, groups))
        return sorted(found, key=lambda c: c.id)

    async def select(self, seed: int, *, dry_run: bool, actor: str) -> Draw:
        """Draws the groups (in a child process) and, unless a dry run, stores the draw in place of the last.

        Raises:
            GroupsError: the decisions of the last draw are out (a new draw would change them).
            QuotaInfeasible: a group's quotas cannot be met by its pool.
            SelectionUnavailable: the `selection` extra is not installed.
        """
        from selection.draw import draw as run_draw

        if not dry_run:
            await self._refuse_if_decided()
        candidates = await self.candidates()
        drawn = await asyncio.to_thread(run_draw, candidates, self.specs(), seed)
        if not dry_run:
            await self.store_draw(drawn, actor)
        return drawn

    async def store_draw(self, drawn: Draw, actor: str) -> None:
        """Stores a draw in place of the last: every pool member's placement (a seat, a rank among the first
        `reserve_size` of the reserve list, or neither) with their probability, and the draw as JSON.

        Raises:
            GroupsError: the decisions of the last draw are out.
        """
        placements = []
        for group in drawn.groups:
            reserve = group.reserve[: self.call.reserve_size]
            for application in group.pool:
                chance = group.probabilities.get(application, 0.0)
                if application in group.selected:
                    placements.append(PlacementValues(application, group.code, Role.SELECTED, chance))
                elif application in reserve:
                    rank = reserve.index(application) + 1
                    placements.append(PlacementValues(application, group.code, Role.RESERVE, chance, rank))
                else:
                    placements.append(PlacementValues(application, group.code, Role.NOT_SELECTED, chance))
        try:
            await save_draw(
                self.store,
                seed=drawn.seed,
                algorithm=drawn.algorithm,
                library_version=drawn.library_version,
                solver_version=drawn.solver_version,
                result=draw_to_json(drawn),
                placements=placements,
                actor=actor,
                now=self.clock(),
            )
        except DrawFrozen as err:
            raise GroupsError(str(err)) from None

    async def _refuse_if_decided(self) -> None:
        async with self.store.unit(write=False) as unit:
            draw = await newest_draw(unit)
        if draw is not None and draw.decisions_at is not None:
            raise GroupsError(str(DrawFrozen(draw)))

    async def state(self) -> DrawState:
        """Where the draw stands now: the newest draw, whether its decisions are out, a warning's days from
        `WARN_DAYS` before the decision date while they are not, and each group's seats and reserve."""
        async with self.store.unit(write=False) as unit:
            draw = await newest_draw(unit)
        today = self.clock().astimezone(WARSAW).date()
        days_left = None
        if (draw is None or draw.decisions_at is None) and today >= self.call.decision_date - timedelta(days=WARN_DAYS):
            days_left = (self.call.decision_date - today).days
        if draw is None:
            return DrawState(None, None, None, days_left, ())
        placements = [p for found in (await placements_by_application(self.store)).values() for p in found]
        groups = []
        for group in self.call.groups:
            mine = [p for p in placements if p.group_code == group.code and p.role == Role.SELECTED]
            held = [p for p in mine if p.released_at is None]
            reserve = sorted(
                (p for p in placements if p.group_code == group.code and p.role == Role.RESERVE),
                key=lambda p: p.reserve_rank or 0,
            )
            groups.append(
                GroupSeats(
                    code=group.code,
                    seats=group.seats,
                    held=len(held),
                    confirmed=sum(p.attendance == Attendance.CONFIRMED for p in held),
                    declined=sum(p.attendance == Attendance.DECLINED for p in mine),
                    freed=tuple((p.application_id, p.release_reason or "") for p in mine if p.released_at),
                    promoted=tuple(p.application_id for p in mine if p.promoted_at is not None),
                    reserve=tuple(p.application_id for p in reserve),
                )
            )
        return DrawState(draw.seed, draw.drawn_at, draw.decisions_at, days_left, tuple(groups))

    async def report(self, language: Language) -> SelectionReport:
        """The published account of the stored draw (reports/selection_report.py's `SelectionReport`).

        Raises:
            GroupsError: when there is no draw yet.
        """
        from reports.selection_report import selection_report
        from selection.records import draw_from_json

        async with self.store.unit(write=False) as unit:
            stored = await newest_draw(unit)
        if stored is None:
            raise GroupsError("there is no draw yet: run `wspolnota groups select --seed N` first")
        return selection_report(draw_from_json(stored.result), self.call, drawn_at=stored.drawn_at, language=language)

    async def roster(
        self, group: str, target: Path, *, meeting: str | None, language: Language, actor: str
    ) -> RosterWritten:
        """Writes a group's sign-in sheets (an A4 PDF, one sheet a meeting, or only `meeting`'s) to `target`:
        the names and organisations of those holding a seat ("?" for those not confirmed). Audited: it holds names.

        Raises:
            GroupsError: no such group, or `meeting` is not one of its meetings.
        """
        from reports.roster import RosterEntry, write_roster

        found = self.call.group(group)
        if found is None:
            raise GroupsError(f"no group {group!r}; the groups are: {', '.join(g.code for g in self.call.groups)}")
        meetings = group_meetings(self.call, group, self.events)
        if meeting is not None:
            meetings = [m for m in meetings if m.slug == meeting]
            if not meetings:
                raise GroupsError(f"{meeting!r} is not a meeting of group {group}")
        people = [
            RosterEntry(a.name or a.reference, a.organisation, "" if p.attendance == Attendance.CONFIRMED else "?")
            for p, a in await holders(self.store, group)
        ]
        await audit(self.store, actor, "roster", {"group": group, "people": len(people)}, self.clock())
        title = found.name(language)
        # matplotlib draws for a while: off the event loop, so the service goes on answering meanwhile
        await asyncio.to_thread(write_roster, target, title=title, meetings=meetings, people=people, language=language)
        return RosterWritten(target, len(people), len(meetings))

    # --- the decisions ----------------------------------------------------------------------------

    def confirm_by(self, offered: datetime) -> date:
        """The last day to confirm a seat offered at this moment."""
        return (offered.astimezone(WARSAW) + timedelta(days=self.call.confirm_within_days)).date()

    async def notify(self, actor: str) -> int:
        """Queues one decision per applicant (not withdrawn) not told yet; the draw stands from now on.

        Resumable: each batch commits its notices with their messages, so a crash halfway leaves the rest
        for the next call (or the service's clock), and nobody is told twice. Returns how many were told.

        Raises:
            GroupsError: when there is no draw yet.
        """
        now = self.clock()
        async with self.store.unit() as unit:
            draw = await newest_draw(unit, lock=True)
            if draw is None:
                raise GroupsError("there is no draw yet: run `wspolnota groups select --seed N` first")
            if draw.decisions_at is None:
                draw.decisions_at = now
                audit_in(unit, actor, "selection_decisions", {"seed": draw.seed}, now)
            draw_id = draw.id
        told = 0
        while True:
            async with self.store.unit() as unit:
                done = await notified(unit, "decision")
                waiting = [
                    a
                    for a in await all_applications(unit)
                    if a.id not in done and a.status != ApplicationStatus.WITHDRAWN
                ][:BATCH]
                if not waiting:
                    return told
                draw = await unit.session.get(SelectionDraw, draw_id)
                assert draw is not None
                placements: dict[int, list[Placement]] = {}
                for placement in await placements_of(unit, draw_id):
                    placements.setdefault(placement.application_id, []).append(placement)
                chats = await telegram_chats(unit, [a.respondent_id for a in waiting])
                for application in waiting:
                    if await record_notice(unit, application.id, "decision", "", now):
                        self._decide(unit, draw, application, placements.get(application.id, []), chats, now)
                        told += 1

    def _decide(
        self,
        unit: Unit,
        draw: SelectionDraw,
        application: Application,
        placements: Sequence[Placement],
        chats: Mapping[int, str],
        now: datetime,
    ) -> None:
        language = as_language(application.language) or "pl"
        seats = [p for p in placements if p.role == Role.SELECTED]
        reserves = sorted((p for p in placements if p.role == Role.RESERVE), key=lambda p: p.reserve_rank or 0)
        chat = chats.get(application.respondent_id)
        if seats:
            for seat in seats:
                seat.offered_at = now
                self._offer(unit, draw, application, seat, chat, now, offer=False)
            return
        if reserves:
            first = reserves[0]
            assert first.reserve_rank is not None

            def reserve(catalog: Catalog, signature: bool) -> Words:
                return reserve_notice(
                    catalog,
                    language,
                    call=self.call,
                    group=first.group_code,
                    rank=first.reserve_rank or 0,
                    signature=signature,
                )

            self.mail.tell(unit, application, chat, reserve, "decision", now)
            return
        why = None
        if application.late:
            why = NotConsidered.LATE
        elif application.status == ApplicationStatus.INCOMPLETE:
            why = NotConsidered.INCOMPLETE

        def not_selected(catalog: Catalog, signature: bool) -> Words:
            return not_selected_notice(catalog, language, call=self.call, why=why, signature=signature)

        self.mail.tell(unit, application, chat, not_selected, "decision", now)

    def seat_uid(self, seat: Placement) -> str:
        """The seat's invitation UID (bot/group_mail.py)."""
        return self.mail.seat_uid(seat)

    def _offer(
        self,
        unit: Unit,
        draw: SelectionDraw,
        application: Application,
        seat: Placement,
        chat: str | None,
        now: datetime,
        *,
        offer: bool,
    ) -> None:
        self.mail.offer_seat(
            unit,
            application,
            seat,
            chat,
            now,
            confirm_by=self.confirm_by(now),
            offer=offer,
            cancelled=list(draw.cancelled or ()),
            purpose="offer" if offer else "decision",
        )

    # --- answers ----------------------------------------------------------------------------------

    async def answer_in(
        self, unit: Unit, attendance: Attendance, *, application_ids: Sequence[int], uid: str | None = None
    ) -> list[Placement]:
        """Records a selected person's yes or no to their live seat(s) in the caller's transaction (the email's
        or the Telegram step's); a calendar reply names its seat by UID. Returns the seats answered (none when
        nothing was offered, or the answer came after the group's last meeting)."""
        now = self.clock()
        seats = await live_seats(unit, application_ids=application_ids)
        if uid is not None:
            seats = [seat for seat in seats if self.seat_uid(seat) == uid.strip().lower()]
        answered = []
        for seat in seats:
            meetings = group_meetings(self.call, seat.group_code, self.events)
            if meetings and now >= meetings[-1].ends:
                continue  # after the group's last meeting: nothing left to come to
            if answer_seat(seat, attendance, now):
                answered.append(seat)
                details = {"application": f"Z-{seat.application_id}", "group": seat.group_code}
                audit_in(unit, "applicant", f"seat_{attendance.value}", details, now)
        return answered

    async def answer_from_chat(self, respondent: RespondentRef, answer: str) -> str:
        """A Telegram button's answer to a seat's offer (`attend:yes` / `attend:no`): recorded in one transaction;
        returns what to tell the person (thanks, or that the offer is no longer open)."""
        attendance = Attendance.CONFIRMED if answer == ATTEND_YES else Attendance.DECLINED
        async with self.store.unit() as unit:
            found = await unit.find_respondent(respondent.channel, respondent.pseudonym)
            application = await find_application(unit, found.id) if found is not None else None
            language = as_language(application.language if application else None) or "pl"
            seats = await self.answer_in(unit, attendance, application_ids=[application.id]) if application else []
            if not seats:  # answered already (a second press, or a replay after a restart), or nothing open
                draw = await newest_draw(unit)
                mine = await placements_of(unit, draw.id) if draw is not None and application else []
                if not any(
                    p.application_id == application.id and p.attendance == attendance for p in mine if application
                ):
                    return self.catalog("attendance_closed", language, contact=self.call.contact)
        key = "attendance_confirmed" if attendance is Attendance.CONFIRMED else "attendance_declined"
        return self.catalog(key, language)

    # --- replacements -----------------------------------------------------------------------------

    async def replace(self, actor: str) -> list[Replacement]:
        """Frees the seats of those who declined, withdrew, were excluded or did not confirm in time, and
        offers each to the next on that group's reserve list who keeps the quotas (before its first meeting).

        Raises:
            GroupsError: when the decisions are not out yet.
        """
        now = self.clock()
        expired = now - timedelta(days=self.call.confirm_within_days)
        async with self.store.unit() as unit:
            draw = await newest_draw(unit, lock=True)
            if draw is None or draw.decisions_at is None:
                raise GroupsError("the decisions are not sent yet (`wspolnota groups notify`): nothing to replace")
            applications = {a.id: a for a in await all_applications(unit)}
            placements = await placements_of(unit, draw.id)
            chats = await telegram_chats(unit, [a.respondent_id for a in applications.values()])
            done: list[Replacement] = []
            for spec in self.specs():
                done.append(self._replace_in(unit, draw, spec, placements, applications, chats, expired, now))
            details = {
                "released": sum(len(r.released) for r in done),
                "offered": sum(len(r.offered) for r in done),
            }
            audit_in(unit, actor, "selection_replace", details, now)
            return done

    def _replace_in(
        self,
        unit: Unit,
        draw: SelectionDraw,
        spec: GroupSpec,
        placements: Sequence[Placement],
        applications: Mapping[int, Application],
        chats: Mapping[int, str],
        expired: datetime,
        now: datetime,
    ) -> Replacement:
        done = Replacement(spec.code)
        mine = [p for p in placements if p.group_code == spec.code]
        for seat in mine:
            if seat.role != Role.SELECTED or seat.released_at is not None or seat.offered_at is None:
                continue
            application = applications[seat.application_id]
            reason = None
            if application.status == ApplicationStatus.WITHDRAWN:
                reason = "withdrawn"
            elif application.excluded:
                reason = "excluded"
            elif seat.attendance is None and seat.offered_at <= expired:
                reason = "no_answer"
            if reason is not None:
                release_seat(seat, reason, now)
                done.released.append((seat.application_id, reason))
        held = [p for p in mine if p.role == Role.SELECTED and p.released_at is None]
        free = spec.seats - len(held)
        meetings = group_meetings(self.call, spec.code, self.events)
        if free <= 0 or (meetings and now >= meetings[0].starts):
            return Replacement(spec.code, done.released, [], max(free, 0))
        seated = {p.application_id for p in placements if p.role == Role.SELECTED and p.released_at is None}
        ranked = sorted((p for p in mine if p.role == Role.RESERVE), key=lambda p: p.reserve_rank or 0)
        reserve = [
            (p.application_id, applications[p.application_id].sector or "")
            for p in ranked
            if in_the_draw(applications[p.application_id]) and p.application_id not in seated
        ]
        sectors = [applications[p.application_id].sector or "" for p in held]
        by_id = {p.application_id: p for p in ranked}
        while free > 0:
            chosen = next_in_line(spec, sectors, reserve)
            if chosen is None:
                break
            reserve = [r for r in reserve if r[0] != chosen]
            seat = by_id[chosen]
            promote(seat, now)
            application = applications[chosen]
            sectors.append(application.sector or "")
            free -= 1
            done.offered.append(chosen)
            self._offer(unit, draw, application, seat, chats.get(application.respondent_id), now, offer=True)
        return Replacement(spec.code, done.released, done.offered, free)

    # --- the meetings (bot/group_meetings.py) ----------------------------------------------------

    async def remind(self) -> int:
        """Queues the reminders due now (the day before each meeting) to confirmed participants, once each."""
        return await self.meetings.remind()

    async def cancel_meeting(self, slug: str, actor: str) -> int:
        """Cancels an optional meeting for everyone holding a seat in its group (a calendar CANCEL)."""
        return await self.meetings.cancel(slug, actor)

    async def update_invitations(self, actor: str) -> int:
        """Sends everyone holding a seat the invitation again after a meeting changed (SEQUENCE raised)."""
        return await self.meetings.update_invitations(actor)

    # --- the service's own clock ------------------------------------------------------------------

    def decisions_due(self, now: datetime) -> bool:
        """From DECISIONS_AT on the decision date (Warsaw): the service sends what staff have not."""
        return now >= datetime.combine(self.call.decision_date, DECISIONS_AT, WARSAW)

    async def tick(self) -> dict[str, Any]:
        """One round of what the clock does: overdue decisions, replacements if configured, reminders."""
        now = self.clock()
        done: dict[str, Any] = {}
        async with self.store.unit(write=False) as unit:
            draw = await newest_draw(unit)
        if draw is None:
            if self.decisions_due(now) and not self._warned:
                self._warned = True  # once a run, not every minute
                logger.error("The decision date has come and there is no draw: run `wspolnota groups select`")
            return done
        if self.decisions_due(now) or draw.decisions_at is not None:
            done["told"] = await self.notify("service")  # resumes an interrupted notify; answers late comers
        if draw.decisions_at is not None or "told" in done:
            if self.call.replace_automatically:
                done["replaced"] = await self.replace("service")
            done["reminded"] = await self.remind()
        return done

    async def run(self, stop: asyncio.Event, every: float = 60.0) -> None:
        """Ticks until `stop`."""
        while not stop.is_set():
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)


def working_groups(service: Any) -> WorkingGroups | None:
    """The service's working groups (None when config/recruitment.yaml is absent)."""
    call = service.config.recruitment
    if call is None:
        return None
    return WorkingGroups(
        service.store,
        call,
        service.config.events,
        service.config.catalog,
        mail_from=service.settings.mail_from,
        domain=service.settings.mail_domain,
        clock=service.conversation.clock,
    )

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
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from handlers.definitions.events import Event
from handlers.definitions.i18n import Catalog, Language, as_language
from handlers.definitions.recruitment import WARSAW, Recruitment
from handlers.email.calendar import Meeting, cancellation, invitation, recurrence_id
from handlers.email.decisions import (
    ATTEND_YES,
    NotConsidered,
    cancel_notice,
    group_meetings,
    not_selected_notice,
    reminder_notice,
    reserve_notice,
    seat_notice,
)
from handlers.email.decisions import Notice as Words
from handlers.engine.messages import RespondentRef
from selection.model import Candidate, Draw, GroupSpec, Quota
from selection.records import draw_to_json
from selection.replace import next_in_line
from storage.applications import ApplicationStatus, find_application, in_the_draw, list_applications
from storage.audit import audit_in
from storage.models import Application, Placement, SelectionDraw
from storage.outbox import QueuedMail, queue_mail
from storage.repository import Store, Unit
from storage.selection import (
    Attendance,
    DrawFrozen,
    PlacementValues,
    Role,
    all_applications,
    answer_seat,
    live_seats,
    newest_draw,
    notified,
    placements_of,
    promote,
    record_notice,
    release_seat,
    save_draw,
    telegram_chats,
)

logger = logging.getLogger(__name__)

DECISIONS_AT = time(9, 0)  # on the decision date, if staff have not sent them (Warsaw time)
REMINDERS_AT = time(10, 0)  # the day before a meeting (Warsaw time)
WARN_DAYS = 3  # `groups status` warns this many days before the decision date
BATCH = 50  # applicants told in one transaction
ORGANIZER_NAME = "Program Wspólnota"
DECISION_ID = "wsp-d-"  # the start of our decisions' Message-IDs: a reply to one is an answer to its offer


class GroupsError(Exception):
    """Something staff asked that cannot be done now, and why (the CLI prints it, exit 1)."""


@dataclass(frozen=True, slots=True)
class Replacement:
    """What `replace` did in one group."""

    group: str
    released: list[tuple[int, str]] = field(default_factory=list)  # (application, reason)
    offered: list[int] = field(default_factory=list)  # applications offered a seat
    unfilled: int = 0  # seats still free (nobody on the reserve list keeps the quotas, or the meetings began)


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

            self._tell(unit, application, chat, reserve, "decision", now)
            return
        why = None
        if application.late:
            why = NotConsidered.LATE
        elif application.status == ApplicationStatus.INCOMPLETE:
            why = NotConsidered.INCOMPLETE

        def not_selected(catalog: Catalog, signature: bool) -> Words:
            return not_selected_notice(catalog, language, call=self.call, why=why, signature=signature)

        self._tell(unit, application, chat, not_selected, "decision", now)

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
        update: bool = False,
    ) -> None:
        """A seat's message (in the decisions, a reserve's offer, or its meetings' update) with its invitation."""
        language = as_language(application.language) or "pl"
        cancelled = list(draw.cancelled or ())
        confirm_by = None if update else self.confirm_by(now)

        def words(catalog: Catalog, signature: bool) -> Words:
            return seat_notice(
                catalog,
                language,
                call=self.call,
                group=seat.group_code,
                events=self.events,
                confirm_by=confirm_by,
                offer=offer,
                signature=signature,
                cancelled=cancelled,
            )

        calendar = None
        if application.email:
            meetings = self._meetings(seat.group_code, language, cancelled)
            if meetings:
                calendar = invitation(
                    uid=self.seat_uid(seat),
                    sequence=seat.sequence,
                    organizer=self.mail_from,
                    organizer_name=ORGANIZER_NAME,
                    attendee=application.email,
                    attendee_name=application.name,
                    meetings=meetings,
                    stamp=now,
                    language=language,
                )
        purpose = "update" if update else "offer" if offer else "decision"
        self._tell(unit, application, chat, words, purpose, now, calendar=calendar)

    def seat_uid(self, seat: Placement) -> str:
        """The invitation's UID: one per group and person, stable across updates (SEQUENCE tells them apart)."""
        return f"wspolnota-{seat.group_code}-z{seat.application_id}@{self.domain}"

    def _meetings(self, group: str, language: Language, cancelled: Sequence[str]) -> list[Meeting]:
        return [
            Meeting(
                start=event.starts,
                end=event.ends,
                summary=f"{ORGANIZER_NAME}: {event.name(language)}",
                location=event.address,
                optional=event.optional,
            )
            for event in group_meetings(self.call, group, self.events)
            if event.slug not in cancelled
        ]

    def _tell(
        self,
        unit: Unit,
        application: Application,
        chat: str | None,
        words: Callable[[Catalog, bool], Words],
        purpose: str,
        now: datetime,
        *,
        calendar: str | None = None,
    ) -> None:
        """Queues one message by email (where there is an address) and in Telegram (where they applied there)."""
        if application.email:
            told = words(self.catalog, True)
            queue_mail(
                unit,
                QueuedMail(
                    to_address=application.email,
                    message_id=f"<{DECISION_ID}{uuid.uuid4().hex}@{self.domain}>",
                    subject=f"{told.subject} [{application.reference}]",
                    body=told.body,
                    purpose=purpose,
                    respondent_id=application.respondent_id,
                    calendar=calendar,
                ),
                now,
            )
        if chat is not None:
            told = words(self.catalog.for_channel("telegram"), False)
            queue_mail(
                unit,
                QueuedMail(
                    to_address=chat,
                    message_id=f"<{DECISION_ID}t-{uuid.uuid4().hex}@{self.domain}>",
                    subject=told.subject,
                    body=told.body,
                    purpose=purpose,
                    respondent_id=application.respondent_id,
                    channel="telegram",
                    buttons=[[label, data] for label, data in told.buttons] or None,
                ),
                now,
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

    # --- reminders and cancellations --------------------------------------------------------------

    def reminder_due(self, meeting: Event, now: datetime) -> bool:
        """From the day before a meeting at REMINDERS_AT (Warsaw) until it starts."""
        day_before = meeting.starts.astimezone(WARSAW).date() - timedelta(days=1)
        return datetime.combine(day_before, REMINDERS_AT, WARSAW) <= now < meeting.starts

    async def remind(self) -> int:
        """Queues the reminders due now to confirmed participants, once each; returns how many."""
        now = self.clock()
        sent = 0
        async with self.store.unit() as unit:
            draw = await newest_draw(unit)
            if draw is None or draw.decisions_at is None:
                return 0
            cancelled = set(draw.cancelled or ())
            seats = [s for s in await live_seats(unit) if s.attendance == Attendance.CONFIRMED]
            if not seats:
                return 0
            applications = {a.id: a for a in await all_applications(unit)}
            chats = await telegram_chats(unit, [a.respondent_id for a in applications.values()])
            for seat in seats:
                application = applications[seat.application_id]
                language = as_language(application.language) or "pl"
                for meeting in group_meetings(self.call, seat.group_code, self.events):
                    if meeting.slug in cancelled or not self.reminder_due(meeting, now):
                        continue
                    if not await record_notice(unit, application.id, "reminder", meeting.slug, now):
                        continue  # told already (or a second seat shares the closing meeting)

                    def words(
                        catalog: Catalog, signature: bool, meeting: Event = meeting, language: Language = language
                    ) -> Words:
                        return reminder_notice(catalog, language, call=self.call, meeting=meeting, signature=signature)

                    self._tell(unit, application, chats.get(application.respondent_id), words, "reminder", now)
                    sent += 1
        return sent

    async def cancel_meeting(self, slug: str, actor: str) -> int:
        """Cancels an optional meeting: a calendar CANCEL for that date to everyone holding a seat in its
        group (and a message in Telegram), once each; returns how many were told.

        Raises:
            GroupsError: an unknown meeting, one not marked optional, or one of no group.
        """
        event = self.events.get(slug)
        if event is None:
            raise GroupsError(f"no meeting {slug!r} in events.yaml")
        if not event.optional:
            raise GroupsError(
                f"{slug} is not marked `optional: true` in events.yaml: only an optional meeting is cancelled"
            )
        group = next((g.code for g in self.call.groups if slug in g.meetings), None)
        if group is None:
            raise GroupsError(f"{slug} is no group's meeting in recruitment.yaml")
        now = self.clock()
        told = 0
        async with self.store.unit() as unit:
            draw = await newest_draw(unit, lock=True)
            if draw is None or draw.decisions_at is None:
                raise GroupsError("the decisions are not sent yet: change events.yaml before `wspolnota groups notify`")
            if slug not in (draw.cancelled or ()):
                draw.cancelled = [*(draw.cancelled or ()), slug]
                audit_in(unit, actor, "meeting_cancel", {"meeting": slug}, now)
            applications = {a.id: a for a in await all_applications(unit)}
            seats = [s for s in await live_seats(unit) if s.group_code == group]
            chats = await telegram_chats(unit, [applications[s.application_id].respondent_id for s in seats])
            for seat in seats:
                application = applications[seat.application_id]
                if not await record_notice(unit, application.id, "cancel", slug, now):
                    continue
                language = as_language(application.language) or "pl"
                seat.sequence += 1
                calendar = None
                if application.email:
                    meetings = self._meetings(group, language, ())
                    cancelled_one = next(m for m in meetings if m.start == event.starts)
                    calendar = cancellation(
                        uid=self.seat_uid(seat),
                        sequence=seat.sequence,
                        organizer=self.mail_from,
                        organizer_name=ORGANIZER_NAME,
                        attendee=application.email,
                        attendee_name=application.name,
                        meeting=cancelled_one,
                        recurrence_id=recurrence_id(meetings, cancelled_one),
                        stamp=now,
                    )

                def words(catalog: Catalog, signature: bool, language: Language = language) -> Words:
                    return cancel_notice(catalog, language, call=self.call, meeting=event, signature=signature)

                self._tell(
                    unit, application, chats.get(application.respondent_id), words, "cancel", now, calendar=calendar
                )
                told += 1
        return told

    async def update_invitations(self, actor: str) -> int:
        """After staff changed a group's meetings in events.yaml (a date, a time, a place): everyone holding a seat
        gets the invitation again with its SEQUENCE raised (their calendar updates the event) and the current
        dates in words. Returns how many were told.

        Raises:
            GroupsError: when the decisions are not sent yet (they will carry the current meetings anyway).
        """
        now = self.clock()
        told = 0
        async with self.store.unit() as unit:
            draw = await newest_draw(unit, lock=True)
            if draw is None or draw.decisions_at is None:
                raise GroupsError(
                    "the decisions are not sent yet: they will carry the meetings as events.yaml has them"
                )
            applications = {a.id: a for a in await all_applications(unit)}
            seats = await live_seats(unit)
            chats = await telegram_chats(unit, [applications[s.application_id].respondent_id for s in seats])
            for seat in seats:
                if not await record_notice(
                    unit, seat.application_id, "update", f"{seat.group_code}/{seat.sequence + 1}", now
                ):
                    continue
                seat.sequence += 1
                application = applications[seat.application_id]
                self._offer(
                    unit, draw, application, seat, chats.get(application.respondent_id), now, offer=False, update=True
                )
                told += 1
            audit_in(unit, actor, "selection_update", {"told": told}, now)
        return told

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

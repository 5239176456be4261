"""The working groups' meetings after the decisions: a reminder the day before each (to those who confirmed),
an optional meeting cancelled, changed meetings sent again — each person told once, in one transaction with
the record that they were (storage's `notice`), so a restart neither repeats nor loses one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta

from bot.group_mail import GroupsError, Messenger
from handlers.definitions.events import Event
from handlers.definitions.i18n import Catalog, Language, as_language
from handlers.definitions.recruitment import WARSAW, Recruitment
from handlers.email.decisions import Notice as Words
from handlers.email.decisions import group_meetings, reminder_notice
from storage.audit import audit_in
from storage.repository import Store
from storage.selection import Attendance, all_applications, live_seats, newest_draw, record_notice, telegram_chats

REMINDERS_AT = time(10, 0)  # the day before a meeting (Warsaw time)


class Meetings:
    """Reminders, cancellations and updates of the groups' meetings."""

    def __init__(
        self,
        store: Store,
        call: Recruitment,
        events: Mapping[str, Event],
        messenger: Messenger,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.call = call
        self.events = events
        self.messenger = messenger
        self.clock = clock

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

                    chat = chats.get(application.respondent_id)
                    self.messenger.tell(unit, application, chat, words, "reminder", now)
                    sent += 1
        return sent

    async def cancel(self, slug: str, actor: str) -> int:
        """Cancels an optional meeting: a calendar CANCEL for that date to everyone holding a seat in its
        group (and a message in Telegram), once each; returns how many were told.

        Raises:
            GroupsError: an unknown meeting, one not marked optional, or one of no group; decisions not out.
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
                seat.sequence += 1
                self.messenger.cancel_meeting(unit, application, seat, chats.get(application.respondent_id), event, now)
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
                key = f"{seat.group_code}/{seat.sequence + 1}"
                if not await record_notice(unit, seat.application_id, "update", key, now):
                    continue
                seat.sequence += 1
                application = applications[seat.application_id]
                self.messenger.offer_seat(
                    unit,
                    application,
                    seat,
                    chats.get(application.respondent_id),
                    now,
                    confirm_by=None,
                    offer=False,
                    cancelled=list(draw.cancelled or ()),
                    purpose="update",
                )
                told += 1
            audit_in(unit, actor, "selection_update", {"told": told}, now)
        return told

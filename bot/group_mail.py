"""How the working groups speak to one applicant: a message by email (with its calendar invitation or
cancellation) and in Telegram where they applied there, queued in the caller's transaction, which also
records that they were told (storage's `notice`): so each goes once, and late rather than lost."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from handlers.definitions.events import Event
from handlers.definitions.i18n import Catalog, Language, as_language
from handlers.definitions.recruitment import Recruitment
from handlers.email.calendar import Meeting, cancellation, invitation, recurrence_id
from handlers.email.decisions import Notice as Words
from handlers.email.decisions import cancel_notice, group_meetings, seat_notice
from storage.models import Application, Placement
from storage.outbox import QueuedMail, queue_mail
from storage.repository import Unit

ORGANIZER_NAME = "Program Wspólnota"
DECISION_ID = "wsp-d-"  # the start of our decisions' Message-IDs: a reply to one is an answer to its offer

Wording = Callable[[Catalog, bool], Words]  # the words for a catalog (email's or Telegram's), with a signature?


class GroupsError(Exception):
    """Something staff asked of the working groups that cannot be done now, and why (the CLI prints it, exit 1)."""


class Messenger:
    """Words and queues the working groups' messages to applicants."""

    def __init__(
        self, call: Recruitment, events: Mapping[str, Event], catalog: Catalog, *, mail_from: str, domain: str
    ) -> None:
        self.call = call
        self.events = events
        self.catalog = catalog
        self.mail_from = mail_from  # the organiser of the invitations: calendar answers come back to this mailbox
        self.domain = domain

    def seat_uid(self, seat: Placement) -> str:
        """The invitation's UID: one per group and person, stable across updates (SEQUENCE tells them apart)."""
        return f"wspolnota-{seat.group_code}-z{seat.application_id}@{self.domain}"

    def meetings(self, group: str, language: Language, cancelled: Sequence[str] = ()) -> list[Meeting]:
        """A group's meetings (and the closing meeting) as the calendar invitation lists them."""
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

    def offer_seat(
        self,
        unit: Unit,
        application: Application,
        seat: Placement,
        chat: str | None,
        now: datetime,
        *,
        confirm_by: date | None,
        offer: bool,
        cancelled: Sequence[str],
        purpose: str,
    ) -> None:
        """A seat's message (in the decisions, a reserve's offer, or its meetings' update: `confirm_by` None)
        with the group's calendar invitation at the seat's SEQUENCE."""
        language = as_language(application.language) or "pl"

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
        meetings = self.meetings(seat.group_code, language, cancelled)
        if application.email and meetings:
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
        self.tell(unit, application, chat, words, purpose, now, calendar=calendar)

    def cancel_meeting(
        self, unit: Unit, application: Application, seat: Placement, chat: str | None, meeting: Event, now: datetime
    ) -> None:
        """One meeting of a seat's group cancelled: the calendar's CANCEL for that date at the seat's SEQUENCE."""
        language = as_language(application.language) or "pl"
        calendar = None
        meetings = self.meetings(seat.group_code, language)
        cancelled = next((m for m in meetings if m.start == meeting.starts), None)
        if application.email and cancelled is not None:
            calendar = cancellation(
                uid=self.seat_uid(seat),
                sequence=seat.sequence,
                organizer=self.mail_from,
                organizer_name=ORGANIZER_NAME,
                attendee=application.email,
                attendee_name=application.name,
                meeting=cancelled,
                recurrence_id=recurrence_id(meetings, cancelled),
                stamp=now,
            )

        def words(catalog: Catalog, signature: bool) -> Words:
            return cancel_notice(catalog, language, call=self.call, meeting=meeting, signature=signature)

        self.tell(unit, application, chat, words, "cancel", now, calendar=calendar)

    def tell(
        self,
        unit: Unit,
        application: Application,
        chat: str | None,
        words: Wording,
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

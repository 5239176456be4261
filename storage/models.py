"""The tables: respondents, their erasable contact data, submissions and one row per answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    attribute_keyed_dict,
    mapped_column,
    orm_insert_sentinel,
    relationship,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    # none_as_null: a Python None is SQL NULL, not the JSON text 'null' (so IS NULL finds it).
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(none_as_null=True),
        list[str]: JSON(none_as_null=True),
    }


# What a submission's `status` and `step` columns hold is the engine's business (handlers/engine/states.py);
# storage keeps them as strings. The values storage itself filters on:
ACTIVE, COMPLETED, CANCELLED = "active", "completed", "cancelled"


class Respondent(Base):
    """A person on one channel, known only by a keyed hash of their channel id."""

    __tablename__ = "respondent"
    __table_args__ = (UniqueConstraint("channel", "pseudonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    pseudonym: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"Respondent(id={self.id}, channel={self.channel!r})"


class Contact(Base):
    """The raw address needed to reply (chat id, email); kept apart so it can be erased."""

    __tablename__ = "contact"

    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"Contact(respondent_id={self.respondent_id})"


class QuestionnaireVersion(Base):
    """A snapshot of every questionnaire version answers were given to, for labels in exports."""

    __tablename__ = "questionnaire_version"

    questionnaire_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any]]
    registered_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"QuestionnaireVersion({self.questionnaire_id!r}, {self.version})"


class Submission(Base):
    """One respondent's pass through one questionnaire, and where they are in it."""

    __tablename__ = "submission"
    __table_args__ = (
        Index(None, "respondent_id", "questionnaire_id"),
        Index(None, "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"))
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(64))
    event_known: Mapped[bool] = mapped_column(Boolean, default=False)
    stand: Mapped[str | None] = mapped_column(String(64))
    # Filled in with a volunteer's help (the web chat's kiosk at a stand).
    assisted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Why the web chat doubts it (`burst`: its address finished more submissions in an hour than allowed
    # unflagged; `kiosk-burst`: the same for a stand's kiosk) and a keyed, daily tag of that place — never
    # the address. Both None for everything else.
    flag: Mapped[str | None] = mapped_column(String(16))
    client: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    privacy_version: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    step: Mapped[str] = mapped_column(String(12), default="question")
    current: Mapped[str | None] = mapped_column(String(24))
    editing: Mapped[bool] = mapped_column(Boolean, default=False)
    draft: Mapped[list[str] | None]  # options picked so far in a multiple-choice question
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    answers: Mapped[dict[str, Answer]] = relationship(
        collection_class=attribute_keyed_dict("question_code"),
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
    )

    def __repr__(self) -> str:
        return f"Submission(id={self.id}, status={self.status!r}, step={self.step!r}, current={self.current!r})"


class Answer(Base):
    """One answer to one question; a skipped question is a row with `skipped` set."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("submission_id", "question_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    question_code: Mapped[str] = mapped_column(String(24))
    options: Mapped[list[str] | None]
    text: Mapped[str | None] = mapped_column(Text)
    number: Mapped[int | None]
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime]
    # Tells apart the rows of one multi-row INSERT (SQLite's RETURNING has no promised order): with it the
    # answers a flush adds go in one statement, not one each. Filled by SQLAlchemy only; never read.
    sentinel: Mapped[int | None] = orm_insert_sentinel("sentinel")

    def __repr__(self) -> str:
        return f"Answer(submission_id={self.submission_id}, question_code={self.question_code!r})"


class InboxItem(Base):
    """Something a channel received, kept durably before it is acknowledged upstream.

    Telegram updates land here before the next getUpdates confirms them; the step that handles
    one marks it handled in the same transaction, so a redelivery or a restart never applies it
    twice. The payload is erased once replied to: it held the sender's message.
    """

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "external_id"), Index(None, "channel", "replied_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat: Mapped[str | None] = mapped_column(String(64))  # handled in order per chat
    payload: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]  # its effect is committed
    replied_at: Mapped[datetime | None]  # and the answer to it was sent; until then a restart re-sends

    def __repr__(self) -> str:
        return f"InboxItem(id={self.id}, channel={self.channel!r}, external_id={self.external_id!r})"


class Email(Base):
    """One email as received: its raw bytes (for audit and reprocessing) and what was read from it."""

    __tablename__ = "email"
    __table_args__ = (UniqueConstraint("message_id", "digest"), Index(None, "from_hash", "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Message-ID plus a digest of the content: the same message seen twice is stored once, while two
    # different messages that carry one Message-ID (it happens) are both kept.
    message_id: Mapped[str] = mapped_column(String(998), default="")
    digest: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    folder: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    from_hash: Mapped[str | None] = mapped_column(String(64))  # the sender's pseudonym, for the reply window
    subject: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="pl")
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text, default="")
    own_text: Mapped[str] = mapped_column(Text, default="")
    # A Reply-To other than From, for staff only: our automatic replies go to From, never here.
    reply_to: Mapped[str | None] = mapped_column(String(320))
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    received_at: Mapped[datetime]  # when our mailbox received it (IMAP INTERNALDATE), else when we stored it

    def __repr__(self) -> str:
        return f"Email(id={self.id}, kind={self.kind!r})"


class OutboxMessage(Base):
    """A reply waiting to be sent (queued in the transaction of what it answers), then its outcome."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"))
    to_address: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(16))  # form | summary | closed | application | verification …
    # Where it goes: "email" (the mailer sends it), or "telegram" (the bot sends it; to_address is the chat).
    channel: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    calendar: Mapped[str | None] = mapped_column(Text)  # an iCalendar invitation sent with an email
    buttons: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))  # Telegram: [[label, data], …]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"OutboxMessage(id={self.id}, purpose={self.purpose!r}, sent={self.sent_at is not None})"


class MailboxState(Base):
    """How far a mailbox folder has been read: UIDs are only stable while UIDVALIDITY is unchanged."""

    __tablename__ = "mailbox_state"

    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """Who exported or erased what, when, and with which filters — never the data itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    # "cli:root", "telegram:<staff user id>", or "resident:<channel>" for a resident's own erasure (never who)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))  # export, forget, purge
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"AuditEntry({self.action!r} by {self.actor!r} at {self.at})"


class Kiosk(Base):
    """A stand's tablet staff set up (`wspolnota kiosk add`): its name and a digest of its link's token."""

    __tablename__ = "kiosk"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"Kiosk({self.name!r})"


class Application(Base):
    """One person's application to the working groups (`Z-<id>` to staff), with the personal data it needs.

    Names and addresses live in this table only: consultation exports and the report never read it.
    One row per respondent (a person in a channel); the same person in two channels is two rows,
    shown to staff as a possible duplicate.
    """

    __tablename__ = "application"
    __table_args__ = (Index(None, "email"), Index(None, "name_key"), Index(None, "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"), unique=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(12))  # incomplete, complete, withdrawn
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff's judgement (`wspolnota groups exclude`), e.g. not eligible; the reason is for staff only.
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_reason: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(200))
    name_key: Mapped[str | None] = mapped_column(String(200))  # the name normalised, to find duplicates
    email: Mapped[str | None] = mapped_column(String(320))  # lower-cased
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(String(24))
    groups: Mapped[list[str]]
    description: Mapped[str | None] = mapped_column(Text)
    available: Mapped[bool | None] = mapped_column(Boolean)
    privacy_version: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime]  # the first receipt: an email's arrival in our mailbox, a chat's first answer
    updated_at: Mapped[datetime]

    @property
    def reference(self) -> str:
        """The short public reference staff and email subjects use."""
        return f"Z-{self.id}"

    def __repr__(self) -> str:
        return f"Application(id={self.id}, status={self.status!r}, late={self.late}, excluded={self.excluded})"


class SelectionDraw(Base):
    """A draw of the working groups (`wspolnota groups select`): what anyone needs to repeat it, and its result.

    Only the newest draw counts; staff may draw again until its decisions are queued (`decisions_at`).
    """

    __tablename__ = "selection_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    drawn_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    algorithm: Mapped[str] = mapped_column(String(16))
    library_version: Mapped[str] = mapped_column(String(40))
    solver_version: Mapped[str] = mapped_column(String(40))
    # The whole draw as the selection gave it: the groups' seats and quotas, the pool, each group's seats,
    # reserve list and every pool member's probability (selection.model.Draw, as JSON).
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    decisions_at: Mapped[datetime | None]  # when the decisions were queued: from then on the draw stands
    cancelled: Mapped[list[str] | None]  # optional meetings staff cancelled (slugs)

    def __repr__(self) -> str:
        return f"SelectionDraw(id={self.id}, seed={self.seed}, decided={self.decisions_at is not None})"


class Placement(Base):
    """One applicant's place in one group of a draw: a seat (`selected`) or a rank on its reserve list."""

    __tablename__ = "placement"
    __table_args__ = (UniqueConstraint("draw_id", "application_id", "group_code"), Index(None, "application_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("selection_draw.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    group_code: Mapped[str] = mapped_column(String(24))
    role: Mapped[str] = mapped_column(String(12))  # selected | reserve
    reserve_rank: Mapped[int | None]  # 1 is offered a freed seat first
    probability: Mapped[float] = mapped_column(Float)
    offered_at: Mapped[datetime | None]  # the seat's invitation queued (at the decisions, or on replacement)
    promoted_at: Mapped[datetime | None]  # a reserve offered a freed seat
    attendance: Mapped[str | None] = mapped_column(String(12))  # confirmed | declined
    answered_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]  # the seat is free again (declined, withdrawn, not confirmed in time)
    release_reason: Mapped[str | None] = mapped_column(String(24))
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # the invitation's SEQUENCE, raised on change

    def __repr__(self) -> str:
        return f"Placement(id={self.id}, group={self.group_code!r}, role={self.role!r})"


class Notice(Base):
    """Something told to an applicant once (a decision, an invitation, a reminder): never twice, even
    across restarts, because its row and its messages are written in one transaction."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("application_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # decision | offer | reminder | cancel
    key: Mapped[str] = mapped_column(String(80), default="")  # the group or the meeting it is about
    created_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"Notice({self.kind!r}, {self.key!r})"


class MeetingAttendance(Base):
    """Who came to a meeting, as staff recorded it from the sign-in sheet (`wspolnota groups attended`)."""

    __tablename__ = "meeting_attendance"

    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), primary_key=True)
    meeting: Mapped[str] = mapped_column(String(64), primary_key=True)
    recorded_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))


class QuoteReview(Base):
    """Staff's decision on quoting one open answer in a public report (`wspolnota quotes approve`): the
    text to publish (masked, perhaps edited by staff) and a digest of the words it was decided on — a
    decision holds only while the answer still reads the same."""

    __tablename__ = "quote_review"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True)
    question_code: Mapped[str] = mapped_column(String(24), primary_key=True)
    decision: Mapped[str] = mapped_column(String(8))  # approved | rejected
    text: Mapped[str | None] = mapped_column(Text)  # what is published; None when rejected
    source_digest: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))

    def __repr__(self) -> str:
        return f"QuoteReview({self.submission_id}, {self.question_code!r}, {self.decision!r})"


class StaffAccount(Base):
    """A member of staff who may sign in to the web console (`wspolnota staff add`): a role, an Argon2
    hash of their password, and an optional TOTP secret; never deleted, only disabled (the audit log
    names them)."""

    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    role: Mapped[str] = mapped_column(String(12))  # field | analyst | coordinator
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None until the setup link is used
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # None until enrolled
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the last code's time step: never accepted twice
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"StaffAccount({self.id}, {self.role!r}{', disabled' if self.disabled else ''})"


class StaffSetupToken(Base):
    """A one-time link to set an account's password: only a digest of its token is kept."""

    __tablename__ = "staff_setup_token"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class StaffSession(Base):
    """A signed-in browser: a digest of its cookie's random token, its CSRF token, and when it was last seen."""

    __tablename__ = "staff_session"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]

"""The composition root: loads configuration, opens the database and runs every channel in one loop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.settings import Settings
from bot.staff import Staff
from bot.supervision import Health
from handlers.definitions.config_files import ConfigError, Problem
from handlers.definitions.events import Event, load_events
from handlers.definitions.i18n import Catalog, load_catalog
from handlers.definitions.population import Population, load_population
from handlers.definitions.questionnaire import Questionnaire, load_questionnaires
from handlers.definitions.recruitment import Recruitment, load_recruitment
from handlers.email.decisions import MESSAGES as DECISION_MESSAGES
from handlers.email.messages import MESSAGES as EMAIL_MESSAGES
from handlers.engine.application import Call
from handlers.engine.conversation import Clock, Conversation, utc_now
from handlers.engine.identity import pseudonymize
from handlers.engine.inbox import Inbox
from handlers.engine.messages import RespondentRef
from handlers.engine.presenter import MESSAGES as ENGINE_MESSAGES
from handlers.engine.presenter import Presenter
from handlers.telegram.messages import MESSAGES as TELEGRAM_MESSAGES
from handlers.web.messages import MESSAGES as WEB_MESSAGES
from storage.applications import follow_the_deadline
from storage.db import Engine, create_engine, create_sessions, upgrade
from storage.kiosks import kiosk_digests
from storage.mailbox_state import MailboxPositions
from storage.outbox import Outbox
from storage.repository import Store

logger = logging.getLogger(__name__)


# Every key the catalog must have: the engine's words and each channel adapter's, merged here.
MESSAGES = {**ENGINE_MESSAGES, **TELEGRAM_MESSAGES, **WEB_MESSAGES, **EMAIL_MESSAGES, **DECISION_MESSAGES}


@dataclass(frozen=True, slots=True)
class Config:
    """Everything staff edit: questionnaires, events and the bot's own messages."""

    questionnaires: Mapping[str, Questionnaire]
    events: Mapping[str, Event]
    catalog: Catalog
    recruitment: Recruitment | None = None  # the call for working-group applications; None: the groups are off
    population: Population | None = None  # who lives in Warsaw (population.yaml); None: no comparison

    def call(self) -> Call | None:
        """The call for applications with its form built (from recruitment.yaml, the events and the catalog)."""
        return Call.of(self.recruitment, self.catalog, self.events) if self.recruitment is not None else None


def load_config(settings: Settings) -> Config:
    """Loads and validates every configuration file.

    Raises:
        ConfigError: listing the problems of all files at once.
    """
    problems: list[Problem] = []
    questionnaires: dict[str, Questionnaire] = {}
    events: dict[str, Event] = {}
    catalog = Catalog({})
    try:
        questionnaires = load_questionnaires(settings.questionnaires_dir)
    except ConfigError as err:
        problems += err.problems
    events_read = False
    try:
        events = load_events(settings.events_file)
        events_read = True
    except ConfigError as err:
        problems += err.problems
    recruitment = None
    try:
        # Its meetings are looked up in the events only when those could be read (else they report their own).
        recruitment = load_recruitment(settings.recruitment_file, events if events_read else None)
    except ConfigError as err:
        problems += err.problems
    try:
        catalog = load_catalog(settings.messages_file, MESSAGES)
    except ConfigError as err:
        problems += err.problems
    population = None
    try:
        population = load_population(settings.population_file, questionnaires)
    except ConfigError as err:
        problems += err.problems
    if questionnaires:
        if settings.questionnaire and settings.questionnaire not in questionnaires:
            problems.append(
                Problem("environment", "WSPOLNOTA_QUESTIONNAIRE", f"no questionnaire '{settings.questionnaire}'")
            )
        for event in events.values():
            if event.questionnaire and event.questionnaire not in questionnaires:
                problems.append(
                    Problem(
                        str(settings.events_file),
                        f"events[{event.slug}].questionnaire",
                        f"no questionnaire '{event.questionnaire}'",
                    )
                )
    if problems:
        raise ConfigError(problems)
    return Config(questionnaires, events, catalog, recruitment, population)


@dataclass(slots=True)
class Known:
    """What the running service learns of itself (the console shows it): the Telegram bot's username once
    the Telegram channel has started (None before, and without Telegram)."""

    telegram_username: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """The running parts every channel shares."""

    settings: Settings
    config: Config
    engine: Engine
    store: Store
    conversation: Conversation
    key: bytes
    health: Health = field(default_factory=Health)  # what each channel is doing (`/healthz`, exit status)
    known: Known = field(default_factory=Known)

    def respondent(self, channel: str, channel_id: str, address: str | None = None) -> RespondentRef:
        """Names a respondent by the pseudonym of their channel id."""
        return RespondentRef(channel, pseudonymize(self.key, channel, channel_id), address)

    @property
    def outbox(self) -> Outbox:
        """The replies waiting for the mail sender."""
        return Outbox(self.store)

    @property
    def telegram_outbox(self) -> Outbox:
        """The messages waiting for the Telegram bot (decisions, reminders): to_address is the chat."""
        return Outbox(self.store, "telegram")

    @property
    def mailbox_positions(self) -> MailboxPositions:
        """How far the mail reader has read each folder."""
        return MailboxPositions(self.store)

    async def read_kiosks(self) -> dict[str, str]:
        """The stands' kiosks staff added (`wspolnota kiosk add`): names by their token's digest."""
        return await kiosk_digests(self.store)

    def inbox(self, channel: str) -> Inbox:
        """A channel's durable inbox (what it received, until answered), on the engine's clock."""
        return Inbox(self.store, channel, self.conversation.clock)

    @property
    def staff(self) -> Staff:
        """Staff's live counts and export, for a channel that may not read the database."""
        return Staff(
            self.store,
            self.config.questionnaires,
            self.conversation,
            self.config.recruitment,
            self.config.population,
            self.settings.staff_language,
        )


@asynccontextmanager
async def open_service(settings: Settings, *, clock: Clock = utc_now) -> AsyncIterator[Service]:
    """Loads configuration, migrates the database and builds the engine; disposes of it all after.

    Raises:
        ConfigError: when a configuration file is wrong.
        DatabaseUnavailable: when the database cannot be reached or migrated.
        VersionConflict: when a questionnaire changed structure without a new version.
    """
    config = load_config(settings)
    engine = create_engine(settings.database)
    try:
        await upgrade(engine)
        store = Store(create_sessions(engine))
        conversation = Conversation(
            store,
            config.questionnaires,
            config.events,
            Presenter(config.catalog),
            default_questionnaire=settings.questionnaire,
            clock=clock,
            call=config.call(),
        )
        await conversation.register()
        if config.recruitment is not None:  # an extended deadline takes back what arrived before it
            await follow_the_deadline(store, config.recruitment.deadline)
        yield Service(settings, config, engine, store, conversation, settings.pseudonym_key())
    finally:
        await engine.dispose()

"""The composition root: loads configuration, opens the database and runs every channel in one loop."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from bot.supervision import Health, Runnable, supervise
from handlers.config_files import ConfigError, Problem
from handlers.conversation import Clock, Conversation, utc_now
from handlers.events import Event, load_events
from handlers.i18n import Catalog, load_catalog
from handlers.identity import pseudonymize
from handlers.messages import RespondentRef
from handlers.presenter import MESSAGES, Presenter
from handlers.questionnaire import Questionnaire, load_questionnaires
from storage.db import create_engine, create_sessions, upgrade
from storage.repository import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Config:
    """Everything staff edit: questionnaires, events and the bot's own messages."""

    questionnaires: Mapping[str, Questionnaire]
    events: Mapping[str, Event]
    catalog: Catalog


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
    try:
        events = load_events(settings.events_file)
    except ConfigError as err:
        problems += err.problems
    try:
        catalog = load_catalog(settings.messages_file, MESSAGES)
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
    return Config(questionnaires, events, catalog)


@dataclass(frozen=True, slots=True)
class Service:
    """The running parts every channel shares."""

    settings: Settings
    config: Config
    engine: AsyncEngine
    store: Store
    conversation: Conversation
    key: bytes
    health: Health = field(default_factory=Health)  # what each channel is doing (`/healthz`, exit status)

    def respondent(self, channel: str, channel_id: str, address: str | None = None) -> RespondentRef:
        """Names a respondent by the pseudonym of their channel id."""
        return RespondentRef(channel, pseudonymize(self.key, channel, channel_id), address)


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
        )
        await conversation.register()
        yield Service(settings, config, engine, store, conversation, settings.pseudonym_key())
    finally:
        await engine.dispose()


def configured_channels(service: Service) -> dict[str, Callable[[], Runnable]]:
    """The channels whose settings are present, by name: each a factory of a fresh channel."""
    channels: dict[str, Callable[[], Runnable]] = {}
    if service.settings.web_enabled:
        from bot.web import WebChannel

        channels["web"] = lambda: WebChannel(service)
    if service.settings.telegram_token is not None:
        from bot.telegram import TelegramChannel  # imported only when used: it pulls in the Telegram library

        channels["telegram"] = lambda: TelegramChannel(service)
    if service.settings.imap_host is not None:
        from bot.mailbox import MailChannel

        channels["mail"] = lambda: MailChannel(service)
    return channels


async def run(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Runs every configured channel until SIGTERM or SIGINT (or `stop`), then stops them all.

    A channel that crashes is restarted; one that fails for good (a revoked token, a taken port)
    is reported, the others go on, and the exit status is then 3. When no channel is left
    running, the service stops by itself.
    """
    stop = stop or asyncio.Event()
    async with open_service(settings) as service:
        channels = configured_channels(service)
        if not channels:
            logger.warning(
                "No channel is configured (the web chat is off and neither WSPOLNOTA_TELEGRAM_TOKEN "
                "nor WSPOLNOTA_IMAP_HOST is set); "
                "the database is ready at %s. "
                "Try the questionnaire with `wspolnota chat`.",
                service.engine.url.render_as_string(hide_password=True),
            )
            return 0
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        logger.info("Service running with %d channel(s): %s", len(channels), ", ".join(channels))
        tasks = [asyncio.create_task(supervise(name, make, stop, service.health)) for name, make in channels.items()]
        try:
            await asyncio.gather(*tasks)  # each returns when stopped, or when its channel failed for good
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        failed = service.health.failed()
        for name, why in failed.items():
            logger.critical("Stopped with channel %s failed: %s", name, why)
        return 3 if failed else 0

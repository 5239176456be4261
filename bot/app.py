"""The running service: every configured channel in one loop, each under a supervisor, stopped in order."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from bot.service import Service, open_service
from bot.settings import Settings
from bot.supervision import Runnable, supervise

logger = logging.getLogger(__name__)


def configured_channels(service: Service) -> dict[str, Callable[[], Runnable]]:
    """The channels whose settings are present, by name: each a factory of a fresh channel."""
    channels: dict[str, Callable[[], Runnable]] = {}
    if service.settings.web_enabled:
        from bot.console.app import build_console
        from bot.transports.web import WebChannel

        # The staff console rides on the web chat's server (it answers 404 until a staff account exists).
        channels["web"] = lambda: WebChannel(service, subapps={"/staff": lambda: build_console(service)})
    if service.settings.telegram_token is not None:
        # imported only when used: it pulls in the Telegram library
        from bot.transports.telegram import TelegramChannel

        channels["telegram"] = lambda: TelegramChannel(service)
    if service.settings.imap_host is not None:
        from bot.transports.mailbox import MailChannel

        channels["mail"] = lambda: MailChannel(service)
    if channels and service.config.recruitment is not None:
        from bot.working_groups import working_groups

        groups = working_groups(service)
        if groups is not None:  # the working groups' own clock: overdue decisions, replacements, reminders
            channels["groups"] = lambda: groups
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

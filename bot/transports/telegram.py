"""The Telegram channel: long polling into the durable intake, the engine's replies back out.

Staff commands and the exactly-once machinery live apart: `bot.transports.telegram_intake` stores
updates before they are confirmed and answers them in order per chat; the composition root hands
over staff's `/stats` and `/export` (`bot.staff`), the same code as `wspolnota stats` and `export`.

Beside polling, the channel sends the Telegram outbox (the working groups' decisions, offers, reminders
and cancellations, queued in the transaction that decided them) and takes the answers to an offer's
buttons (`attend:yes` / `attend:no`) through the same durable intake, to `bot.working_groups`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import BotCommand, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ExtBot
from telegram.request import HTTPXRequest

from bot.service import Service
from bot.supervision import ChannelFailed, Health, State, pause
from bot.transports.telegram_intake import (
    CHANNEL,
    RETRY_FIRST,
    Action,
    ChatQueues,
    DurableIntake,
    Queued,
    describe,
    retry_after,
    update_id_of,
)
from handlers.definitions.i18n import LANGUAGES, Language, as_language
from handlers.engine.faults import is_transient
from handlers.engine.messages import APPLICATION_ENTRY, Delivery, Reply, ReplyKind, RespondentRef
from handlers.limits import Verdict, WindowCounts
from handlers.telegram import ui as telegram_ui
from handlers.telegram.ui import Intake, IntakeKind

if TYPE_CHECKING:
    from bot.working_groups import WorkingGroups

logger = logging.getLogger(__name__)
T = TypeVar("T")

COMMANDS = ("start", "help", "language", "back", "skip", "cancel", "events", "privacy", "mydata", "forget")
FLOOD_WINDOW = 10.0  # seconds; WSPOLNOTA_TELEGRAM_FLOOD_LIMIT updates per user in it, more are not kept
POLL_RETRY_MAX = 15.0  # the longest pause between getUpdates after network or server faults
CONFLICT_RETRY_MAX = 60.0  # … and after a 409 (another instance, or a webhook, takes our updates)
OUTBOX_EVERY = 5.0  # seconds between looks at the Telegram outbox (woken at once by `wake_outbox`)
OUTBOX_BATCH = 20  # outbox messages taken in one look
OUTBOX_STOP_GRACE = 10.0  # seconds a send under way may take to finish when the channel stops


class TelegramChannel:
    """Runs the bot inside the service's loop: `async with application`, not `run_polling()`."""

    def __init__(self, service: Service) -> None:
        settings = service.settings
        assert settings.telegram_token is not None
        self.service = service
        self.poll_timeout = settings.telegram_poll_timeout
        self.staff_ids = settings.telegram_staff_ids
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(settings.telegram_token.get_secret_value())
            .base_url(settings.telegram_api_url)
            # Without retries the limiter hands every 429 straight to the caller. Telegram's ~30
            # messages/s is a limit on broadcasts; replies to residents are not capped here unless
            # WSPOLNOTA_TELEGRAM_MAX_RATE says so, and a 429 is waited out either way.
            .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_max_rate, max_retries=5))
            .get_updates_request(HTTPXRequest(read_timeout=self.poll_timeout + 10, connect_timeout=10))
            .request(HTTPXRequest(connection_pool_size=8, read_timeout=15, connect_timeout=10))
            .updater(None)
            .build()
        )
        self._stop = asyncio.Event()
        self.queues = ChatQueues(self._plan, settings.telegram_reply_retry_minutes * 60)
        self.intake = DurableIntake(
            self.bot, service.inbox(CHANNEL), service.conversation.handle, self._respondent, self._admit, self.queues
        )
        self._notes: set[asyncio.Task[None]] = set()
        self._flood = WindowCounts(time.monotonic, FLOOD_WINDOW)
        self._flood_limit = settings.telegram_flood_limit
        self._invited_groups: set[int] = set()
        self._outbox_wake = asyncio.Event()

    @property
    def bot(self) -> ExtBot[None]:
        """The Bot API client (with the rate limiter)."""
        return self.application.bot  # type: ignore[no-any-return]

    @property
    def health(self) -> Health:
        return self.service.health

    async def run(self, stop: asyncio.Event) -> None:
        """Polls and answers until `stop` is set, then finishes what it holds and shuts down.

        Raises:
            ChannelFailed: Telegram refuses the token (revoked, or a wrong one).
        """
        self._stop = self.queues.stop = stop
        try:
            async with self.application:
                await self._prepare()
                await self.intake.resume()  # first answer what a crash or a stop left received but unanswered
                done = asyncio.Event()
                sending = asyncio.create_task(self._send_outbox(done))
                try:
                    await self._poll_until(stop)
                finally:
                    await self._stop_sending(sending, done)
                    # Stopping: what is queued is still sent (no new pauses); what fails stays unanswered
                    # in the inbox and is sent after the restart.
                    await self.intake.close()
        except InvalidToken:
            # 401/404 from any call; PTB's own message quotes the token, so it is not repeated here.
            raise ChannelFailed("Telegram refuses the bot token; check WSPOLNOTA_TELEGRAM_TOKEN") from None
        logger.info("Telegram channel stopped")

    async def _prepare(self) -> None:
        """Drops a webhook (polling and webhooks exclude each other) and sets localized commands."""
        await self._with_retries(self.bot.delete_webhook)
        catalog = self.service.config.catalog
        # `/grupy` starts an application to the working groups, offered while the call (recruitment.yaml) exists.
        names = (*COMMANDS, APPLICATION_ENTRY) if self.service.config.recruitment is not None else COMMANDS
        for language in (None, *LANGUAGES):
            shown: Language = language or "pl"
            commands = [BotCommand(name, catalog(f"cmd_{name}", shown)) for name in names]
            await self._with_retries(self.bot.set_my_commands, commands, language_code=language)
        self.service.known.telegram_username = self.bot.username  # for the console's event links
        logger.info("Telegram channel ready as @%s", self.bot.username)

    async def _with_retries(self, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Calls the Bot API at start-up, waiting out flood limits and network faults.

        Raises:
            InvalidToken: the token is refused.
        """
        for attempt in range(5):
            try:
                return await call(*args, **kwargs)
            except RetryAfter as err:
                await pause(self._stop, retry_after(err))
            except (TimedOut, NetworkError):
                await pause(self._stop, min(2**attempt, 30))
        return await call(*args, **kwargs)

    # -- the outbox: decisions, offers, reminders queued for Telegram ----------------------------

    def wake_outbox(self) -> None:
        """Has the outbox sender look now rather than at its next round (something was just queued)."""
        self._outbox_wake.set()

    async def _send_outbox(self, done: asyncio.Event) -> None:
        """Sends the Telegram outbox until `done`: at once, then every OUTBOX_EVERY seconds or when woken."""
        while not done.is_set():
            self._outbox_wake.clear()
            try:
                await self.send_due(done)
            except Exception as err:
                # The database is away (or our own fault): nothing is lost, the rows wait for the next round.
                if is_transient(err):
                    logger.warning("Reading the Telegram outbox failed (%s); trying again soon", describe(err))
                else:
                    logger.exception("Sending the Telegram outbox failed unexpectedly; trying again soon")
            waiters = [asyncio.ensure_future(done.wait()), asyncio.ensure_future(self._outbox_wake.wait())]
            await asyncio.wait(waiters, timeout=OUTBOX_EVERY, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def _stop_sending(self, sending: asyncio.Task[None], done: asyncio.Event) -> None:
        """Lets a send under way finish (a while at most), then stops the outbox sender.

        A send cut short may have reached Telegram without being recorded: it goes again after the
        restart (at least once, like the replies).
        """
        done.set()
        await asyncio.wait({sending}, timeout=OUTBOX_STOP_GRACE)
        if not sending.done():
            sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending

    async def send_due(self, done: asyncio.Event | None = None) -> int:
        """Sends what the Telegram outbox holds that is due, oldest first; returns how many went out.

        Each try is recorded. A network or server fault is tried again later (the outbox's growing
        pauses), and the chat's later messages wait for the next round, to keep their order. A chat
        that cannot take messages (the person blocked the bot, the chat is gone) or a message
        Telegram refuses is given up: recorded as sent, with a warning in the log, so it is never
        tried again (the outbox has no other final state).
        """
        outbox, clock = self.service.telegram_outbox, self.service.conversation.clock
        sent = 0
        held: set[str] = set()  # chats with a failed message this round
        for row in await outbox.due(clock(), OUTBOX_BATCH):
            if done is not None and done.is_set():
                break
            if row.to_address in held:
                continue
            error, final = await self._deliver(row.to_address, row.body, row.buttons)
            if error is not None and final:
                logger.warning("Telegram outbox message %s given up, not tried again: %s", row.id, error)
                error = None
            elif error is not None:
                logger.warning("Telegram outbox message %s not sent yet: %s", row.id, error)
                held.add(row.to_address)
            # False: erased meanwhile (a resident's request)
            if await outbox.record_attempt(row.id, error, clock()) and error is None and not final:
                sent += 1
        return sent

    async def _deliver(self, chat: str, body: str, buttons: list[list[str]] | None) -> tuple[str | None, bool]:
        """Sends one outbox message; returns (error, final): (None, False) when sent, final when a retry
        cannot help."""
        try:
            for part in telegram_ui.outbox_messages(body, buttons):
                await self.bot.send_message(int(chat), part.text, reply_markup=part.keyboard)
        except (Forbidden, BadRequest) as err:  # blocked, chat not found, a message Telegram refuses
            return describe(err)[:500], True
        except TelegramError as err:  # network and server faults, flood limits waited out too long
            return describe(err)[:500], False
        except Exception as err:
            if is_transient(err):
                return describe(err)[:500], False
            logger.exception("An outbox message could not be made into a Telegram message")
            return f"{type(err).__name__}: {err}"[:500], True
        return None, False

    # -- intake: durable before confirmed -----------------------------------------------------

    async def _poll_until(self, stop: asyncio.Event) -> None:
        """Takes updates until `stop`; no answer getUpdates can give stops it, but a refused token.

        Raises:
            InvalidToken: the token is refused (401/404): staff must set a valid one.
        """
        # No offset at first: Telegram then hands over everything not confirmed yet. An offset
        # taken from the inbox could skip an update whose step was still running at a crash
        # while a later one (another chat's) had already committed.
        offset: int | None = None
        delay = RETRY_FIRST
        while not stop.is_set():
            stopping = asyncio.create_task(stop.wait())
            fetching = asyncio.create_task(self._fetch(offset))
            await asyncio.wait({stopping, fetching}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetching.done():
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetching
                return
            try:
                raw = fetching.result()
                await self.intake.take(raw)
            except RetryAfter as err:
                await pause(stop, retry_after(err))
                continue
            except InvalidToken:
                raise  # the channel fails: see `run`
            except Conflict as err:
                # Another process polls with our token (a second `wspolnota run`) or a webhook is set.
                # Said loudly and shown by the health check; we keep trying, so whichever stays wins.
                logger.error(
                    "Telegram says another instance takes this bot's updates (%s); "
                    "make sure only one `wspolnota run` uses this token. Retrying in %.0f s",
                    err,
                    delay,
                )
                self.health.set("telegram", State.DEGRADED, "409 Conflict: another instance is polling")
                await pause(stop, delay)
                delay = min(delay * 2, CONFLICT_RETRY_MAX)
                continue
            except Exception as err:
                # Nothing is confirmed: Telegram delivers these updates again, and the ones
                # already handled are recognised by update_id and not applied twice.
                if isinstance(err, NetworkError) or is_transient(err):
                    logger.warning("Taking updates failed (%s); retrying in %.0f s", describe(err), delay)
                else:
                    logger.exception("Taking updates failed unexpectedly; retrying in %.0f s", delay)
                self.health.set("telegram", State.DEGRADED, f"getUpdates: {describe(err)}")
                await pause(stop, delay)
                delay = min(delay * 2, POLL_RETRY_MAX)
                continue
            delay = RETRY_FIRST
            self.health.set("telegram", State.RUNNING)
            ids = [update_id for item in raw if (update_id := update_id_of(item)) is not None]
            if ids:
                offset = max(ids) + 1

    async def _fetch(self, offset: int | None) -> list[Any]:
        """One getUpdates call, answered as raw JSON: each update is read on its own (`DurableIntake.take`).

        PTB's `get_updates` reads the whole batch at once, so one update it cannot read would fail
        every batch it is in (and PTB logs the batch with the residents' words); `_post` is the
        same call without that step.
        """
        data: dict[str, Any] = {"timeout": self.poll_timeout}
        if offset is not None:
            data["offset"] = offset
        result = await self.bot._post("getUpdates", data, read_timeout=self.poll_timeout + 10)
        return list(result) if isinstance(result, list) else []

    def _admit(self, update: Update) -> bool:
        """Keeps an update unless its sender floods us (the first dropped one gets a note)."""
        user = update.effective_user
        chat = update.effective_chat
        if user is None:
            return True
        verdict = self._flood.hit(str(user.id), self._flood_limit)
        if verdict is Verdict.DROP_AND_SAY and chat is not None and chat.type == "private":
            language = as_language(user.language_code) or "pl"
            text = self.service.config.catalog("error_flood", language)
            note = asyncio.get_running_loop().create_task(self._send_quietly(chat.id, text))
            self._notes.add(note)  # a reference until it is done, so it is not collected midway
            note.add_done_callback(self._notes.discard)
        return verdict is Verdict.KEEP

    async def _send_quietly(self, chat_id: int, text: str) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.send_message(chat_id, text)

    # -- answering: what an update's answer is ------------------------------------------------

    async def _plan(self, entry: Queued) -> list[Action]:
        """The steps that answer an update, the same every time they are planned."""
        intake, catalog = entry.intake, self.service.config.catalog
        if intake.kind is IntakeKind.IGNORE or intake.chat_id is None:
            return []
        chat_id = intake.chat_id
        if intake.kind is IntakeKind.FAILED:
            text = catalog("error_internal", as_language(intake.language) or "pl")
            return [partial(self.bot.send_message, chat_id, text)]
        if intake.kind is IntakeKind.GROUP:
            return [partial(self._invite_to_private, chat_id)]
        if intake.kind is IntakeKind.STAFF and intake.user_id in self.staff_ids:
            return [partial(self._staff, intake)]
        if intake.kind is IntakeKind.ATTENDANCE:
            return await self._attendance(entry)
        assert intake.inbound is not None
        if entry.replies is None:  # stored earlier (a staff command from others, or left by a crash)
            delivery = Delivery(CHANNEL, entry.update_id)
            entry.replies = await self.service.conversation.handle(replace(intake.inbound, delivery=delivery))
        if intake.callback_id is None:
            return self._sends(chat_id, entry.replies)
        outcome = telegram_ui.after_tap(intake.tapped, intake.data or "", entry.replies)
        steps: list[Action] = []
        if outcome.edit is not None and intake.tapped is not None:
            steps.append(partial(self._edit, chat_id, intake.tapped.message_id, outcome.edit))
        # Answered after the edit, so the spinner stops on the updated message.
        steps.append(partial(self._answer_query, intake.callback_id, outcome.alert))
        return steps + self._sends(chat_id, outcome.send)

    async def _attendance(self, entry: Queued) -> list[Action]:
        """Answers a button under a seat's offer: the working groups record it (once: the update was stored
        first and is answered once), the offer's buttons go, and the person is told what was recorded.
        Without a call (the working groups off) the press is only acknowledged."""
        intake = entry.intake
        assert intake.chat_id is not None and intake.callback_id is not None
        language = as_language(intake.language) or "pl"
        if entry.replies is None:  # kept: a retried step does not record the answer again
            text: str | None
            try:
                groups = self.working_groups()
                respondent = self._respondent(intake.user_id or intake.chat_id, intake.chat_id)
                text = None if groups is None else await groups.answer_from_chat(respondent, intake.data or "")
            except Exception as err:
                if is_transient(err):
                    raise  # the chat's queue tries again; nothing was recorded
                logger.exception("Recording the answer of update %s failed; its sender is told", entry.update_id)
                text = self.service.config.catalog("error_internal", language)
            entry.replies = [] if text is None else [Reply(ReplyKind.INFO, text, language)]
        if not entry.replies:
            return [partial(self._answer_query, intake.callback_id, None)]
        steps: list[Action] = []
        if intake.tapped is not None:
            steps.append(partial(self._drop_buttons, intake.chat_id, intake.tapped.message_id))
        steps.append(partial(self._answer_query, intake.callback_id, None))
        return steps + self._sends(intake.chat_id, entry.replies)

    def working_groups(self) -> WorkingGroups | None:
        """The working groups that record an offer's answer (None without a call); imported when first
        answered, so a fault there cannot keep the channel from starting."""
        from bot.working_groups import working_groups

        return working_groups(self.service)

    async def _drop_buttons(self, chat_id: int, message_id: int) -> None:
        """Takes an answered offer's buttons away; cosmetic, so a message Telegram will not edit is left as it is."""
        try:
            await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
        except BadRequest as err:
            logger.debug("Buttons of message %s not removed: %s", message_id, err)

    def _respondent(self, user_id: int, chat_id: int) -> RespondentRef:
        return self.service.respondent(CHANNEL, str(user_id), str(chat_id))

    def _sends(self, chat_id: int, replies: Sequence[Reply]) -> list[Action]:
        return [
            partial(self.bot.send_message, chat_id, message.text, reply_markup=message.keyboard)
            for reply in replies
            for message in telegram_ui.render(reply)
        ]

    async def _edit(self, chat_id: int, message_id: int, edit: telegram_ui.Outgoing) -> None:
        """Marks the pressed message; cosmetic, so a message Telegram will not edit is left as it is."""
        try:
            await self.bot.edit_message_text(
                edit.text, chat_id=chat_id, message_id=message_id, reply_markup=edit.keyboard
            )
        except BadRequest as err:
            logger.debug("Message %s not edited: %s", message_id, err)

    async def _answer_query(self, query_id: str, alert: str | None) -> None:
        with contextlib.suppress(BadRequest):  # a query older than a few minutes can't be answered
            await self.bot.answer_callback_query(query_id, text=alert, show_alert=bool(alert))

    async def _invite_to_private(self, chat_id: int) -> None:
        if chat_id in self._invited_groups:
            return
        self._invited_groups.add(chat_id)
        invitation = telegram_ui.group_invitation(self.service.config.catalog, self.bot.username)
        with contextlib.suppress(Forbidden):
            await self.bot.send_message(chat_id, invitation.text, reply_markup=invitation.keyboard)

    async def _staff(self, intake: Intake) -> None:
        assert intake.chat_id is not None
        if intake.command == "stats":
            await self.bot.send_message(intake.chat_id, await self.service.staff.stats())
            return
        logger.warning("Telegram export requested by staff user %s", intake.user_id)
        export = await self.service.staff.export_csv(f"telegram:{intake.user_id}", via="telegram")
        await self.bot.send_document(intake.chat_id, export.content, filename=export.name)

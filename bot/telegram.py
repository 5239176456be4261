"""The Telegram channel: long polling into a durable inbox, then the engine, then replies."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.service import Service
from handlers import telegram_ui
from handlers.i18n import LANGUAGES, Language, as_language
from handlers.messages import Delivery, Inbound, Reply, RespondentRef
from handlers.telegram_ui import Intake, IntakeKind
from reports.export import export_records
from reports.privacy import audit
from reports.stats import collect_stats, describe_stats
from reports.tables import wide_columns, wide_row, write_csv_rows
from storage.repository import (
    Received,
    SubmissionFilter,
    mark_replied,
    receive,
    unreplied,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL = "telegram"

COMMANDS = ("start", "help", "language", "back", "skip", "cancel", "events", "privacy", "mydata", "forget")
FLOOD_WINDOW = 10.0  # seconds; WSPOLNOTA_TELEGRAM_FLOOD_LIMIT updates per user in it, more are not kept
MAX_ATTEMPTS = 3  # tries to answer one update before it is given up (its effect stays committed)


@dataclass(slots=True)
class Queued:
    """An update waiting to be answered: its effect is committed when `replies` is set."""

    update_id: str
    intake: Intake
    replies: list[Reply] | None


class _FloodGate:
    """Counts each user's updates in a sliding window; the first one over the limit gets a note."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[int, deque[float]] = defaultdict(deque)

    def admit(self, user_id: int, now: float) -> bool | None:
        """True to keep, False to drop quietly, None to drop and say so (the first drop)."""
        if not self.limit:
            return True
        times = self._seen[user_id]
        while times and now - times[0] > FLOOD_WINDOW:
            times.popleft()
        times.append(now)
        if len(times) <= self.limit:
            return True
        return None if len(times) == self.limit + 1 else False


class TelegramChannel:
    """Runs the bot inside the service's loop: `async with application`, not `run_polling()`."""

    def __init__(self, service: Service) -> None:
        settings = service.settings
        assert settings.telegram_token is not None
        self.service = service
        self.poll_timeout = settings.telegram_poll_timeout
        self.staff = settings.telegram_staff_ids
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
        self._wake = asyncio.Event()
        self._queue: list[Queued] = []  # received and stored, not answered yet
        self._replied: list[str] = []  # update ids answered; marked so in the next transaction
        self._notes: set[asyncio.Task[None]] = set()
        self._flood = _FloodGate(settings.telegram_flood_limit)
        self._attempts: dict[str, int] = defaultdict(int)
        self._invited_groups: set[int] = set()

    @property
    def bot(self) -> ExtBot[None]:
        """The Bot API client (with the rate limiter)."""
        return self.application.bot  # type: ignore[no-any-return]

    async def run(self, stop: asyncio.Event) -> None:
        """Polls and answers until `stop` is set, then finishes what it holds and shuts down."""
        async with self.application:
            await self._prepare()
            self._wake.set()  # first answer what a crash or a stop left received but unanswered
            processor = asyncio.create_task(self._process_forever(stop))
            try:
                await self._poll_until(stop)
            finally:
                self._wake.set()
                await processor
        logger.info("Telegram channel stopped")

    async def _prepare(self) -> None:
        """Drops a webhook (polling and webhooks exclude each other) and sets localized commands."""
        await self._with_retries(self.bot.delete_webhook)
        catalog = self.service.config.catalog
        for language in (None, *LANGUAGES):
            shown: Language = language or "pl"
            commands = [BotCommand(name, catalog(f"cmd_{name}", shown)) for name in COMMANDS]
            await self._with_retries(self.bot.set_my_commands, commands, language_code=language)
        logger.info("Telegram channel ready as @%s", self.bot.username)

    async def _with_retries(self, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Calls the Bot API at start-up, waiting out flood limits and network faults."""
        for attempt in range(5):
            try:
                return await call(*args, **kwargs)
            except RetryAfter as err:
                await asyncio.sleep(_retry_after(err))
            except (TimedOut, NetworkError):
                await asyncio.sleep(min(2**attempt, 30))
        return await call(*args, **kwargs)

    # -- intake: durable before confirmed -----------------------------------------------------

    async def _poll_until(self, stop: asyncio.Event) -> None:
        # No offset at first: Telegram then hands over everything not confirmed yet. An offset
        # taken from the inbox could skip an update whose step was still running at a crash
        # while a later one (another chat's) had already committed.
        offset: int | None = None
        delay = 1.0
        while not stop.is_set():
            stopping = asyncio.create_task(stop.wait())
            fetching = asyncio.create_task(self.bot.get_updates(offset=offset, timeout=self.poll_timeout))
            await asyncio.wait({stopping, fetching}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetching.done():
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetching
                return
            try:
                updates = fetching.result()
                await self._take(updates)
            except RetryAfter as err:
                await _pause(stop, _retry_after(err))
                continue
            except (TimedOut, NetworkError, SQLAlchemyError, OSError) as err:
                # Nothing is confirmed: Telegram delivers these updates again, and the ones
                # already handled are recognised by update_id and not applied twice.
                logger.warning("Taking updates failed (%s); retrying in %.0f s", type(err).__name__, delay)
                await _pause(stop, delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 1.0
            if updates:
                offset = updates[-1].update_id + 1

    async def _take(self, updates: Sequence[Update]) -> None:
        """Commits every update's effect (or stores it to handle later) before it is confirmed.

        A resident's input is stored together with the conversation step it causes, in one
        transaction; other updates (staff, groups) are stored first and handled afterwards.
        """
        now = self.service.conversation.clock()
        later: list[tuple[Update, Intake]] = []
        by_chat: dict[int | None, list[tuple[Update, Intake]]] = defaultdict(list)
        for update in updates:
            if not self._admit(update):
                continue
            intake = telegram_ui.classify(update, self._respondent)
            if intake.kind is IntakeKind.ENGINE and intake.inbound is not None:
                by_chat[intake.chat_id].append((update, intake))
            elif intake.kind is not IntakeKind.IGNORE:
                later.append((update, intake))
        replied, self._replied = self._replied, []
        if later or replied:
            received = [Received(str(u.update_id), _chat_of(u), u.to_dict()) for u, _ in later]
            # The marks of what was answered meanwhile ride along in the same transaction.
            new = await receive(self.service.store, CHANNEL, received, now, replied)
            self._queue += [Queued(str(u.update_id), i, None) for u, i in later if str(u.update_id) in new]
        await asyncio.gather(*(self._step_chat(entries) for entries in by_chat.values()))
        self._wake.set()

    async def _step_chat(self, entries: list[tuple[Update, Intake]]) -> None:
        """Applies one chat's inputs in order; their replies go to the sender queue."""
        for update, intake in entries:
            assert intake.inbound is not None
            # Kept with the effect: only who to answer should a crash come before the reply.
            resume = {"user": intake.user_id, "chat": intake.chat_id, "language": intake.inbound.language}
            delivery = Delivery(CHANNEL, str(update.update_id), _chat_of(update), {"resume": resume})
            try:
                replies = await self.service.conversation.handle(replace(intake.inbound, delivery=delivery))
            except (SQLAlchemyError, OSError):
                raise  # the database: nothing is confirmed, the whole batch comes again
            except Exception:
                # A fault in our own code for this one input must not stop everyone else's.
                logger.exception("Handling update %s failed; it is skipped", update.update_id)
                replies = []
            self._queue.append(Queued(delivery.external_id, intake, replies))

    def _admit(self, update: Update) -> bool:
        """Keeps an update unless its sender floods us (the first dropped one gets a note)."""
        user = update.effective_user
        chat = update.effective_chat
        if user is None:
            return True
        verdict = self._flood.admit(user.id, time.monotonic())
        if verdict is None and chat is not None and chat.type == "private":
            language = as_language(user.language_code) or "pl"
            text = self.service.config.catalog("error_flood", language)
            note = asyncio.get_running_loop().create_task(self._send_quietly(chat.id, text))
            self._notes.add(note)  # a reference until it is done, so it is not collected midway
            note.add_done_callback(self._notes.discard)
        return bool(verdict)

    async def _send_quietly(self, chat_id: int, text: str) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.send_message(chat_id, text)

    # -- answering: in order per chat, chats side by side ---------------------------------------

    async def _process_forever(self, stop: asyncio.Event) -> None:
        # What a crash or a stop left received but unanswered comes first.
        for item in await unreplied(self.service.store, CHANNEL, limit=10_000):
            if item.payload is None:  # erased by /forget
                self._replied.append(item.external_id)
            elif "resume" in item.payload:  # handled, not answered: show where they are
                who = item.payload["resume"]
                ref = self._respondent(who["user"], who["chat"])
                intake = Intake(IntakeKind.ENGINE, Inbound(ref, language=who["language"]), who["chat"], who["user"])
                self._queue.append(Queued(item.external_id, intake, None))
            else:
                update = Update.de_json(item.payload, self.bot)
                self._queue.append(Queued(item.external_id, telegram_ui.classify(update, self._respondent), None))
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._answer_queued(stop)
            if stop.is_set() and not self._queue:
                await mark_replied(self.service.store, CHANNEL, self._replied, self.service.conversation.clock())
                self._replied = []
                return

    async def _answer_queued(self, stop: asyncio.Event) -> None:
        """Answers queued updates: in order within a chat, chats side by side."""
        while self._queue:
            queued, self._queue = self._queue, []
            by_chat: dict[int | None, list[Queued]] = defaultdict(list)
            for entry in queued:
                by_chat[entry.intake.chat_id].append(entry)
            left = await asyncio.gather(*(self._answer_chat(entries) for entries in by_chat.values()))
            retry = [entry for entries in left for entry in entries]
            if retry:
                self._queue = retry + self._queue
                await _pause(stop, 1.0)  # back off before trying the failed ones again

    async def _answer_chat(self, entries: list[Queued]) -> list[Queued]:
        """Answers one chat's updates in order; returns those to try again."""
        for position, entry in enumerate(entries):
            try:
                await self._answer(entry)
            except (TelegramError, OSError, SQLAlchemyError) as err:
                self._attempts[entry.update_id] += 1
                if self._attempts[entry.update_id] < MAX_ATTEMPTS:
                    logger.warning("Answering update %s failed (%s); will retry", entry.update_id, type(err).__name__)
                    return entries[position:]  # keep this chat's order: later ones wait for this one
                logger.error("Gave up answering update %s after %d tries", entry.update_id, MAX_ATTEMPTS)
            self._attempts.pop(entry.update_id, None)
            self._replied.append(entry.update_id)
        return []

    async def _answer(self, entry: Queued) -> None:
        intake, replies = entry.intake, entry.replies
        if intake.kind is IntakeKind.IGNORE:
            return
        if intake.kind is IntakeKind.GROUP:
            await self._invite_to_private(intake)
            return
        if intake.kind is IntakeKind.STAFF and intake.user_id in self.staff:
            await self._staff(intake)
            return
        assert intake.inbound is not None and intake.chat_id is not None
        if replies is None:  # stored earlier (a staff command from others, or left by a crash)
            delivery = Delivery(CHANNEL, entry.update_id)
            replies = await self.service.conversation.handle(replace(intake.inbound, delivery=delivery))
            entry.replies = replies
        if intake.callback_id is not None:
            await self._answer_tap(intake, replies)
        else:
            await self._send(intake.chat_id, replies)

    def _respondent(self, user_id: int, chat_id: int) -> RespondentRef:
        return self.service.respondent(CHANNEL, str(user_id), str(chat_id))

    async def _send(self, chat_id: int, replies: list[Reply]) -> None:
        for reply in replies:
            for message in telegram_ui.render(reply):
                await self.bot.send_message(chat_id, message.text, reply_markup=message.keyboard)

    async def _answer_tap(self, intake: Intake, replies: list[Reply]) -> None:
        assert intake.callback_id is not None and intake.chat_id is not None
        outcome = telegram_ui.after_tap(intake.tapped, intake.data or "", replies)
        if outcome.edit is not None and intake.tapped is not None:
            try:
                await self.bot.edit_message_text(
                    outcome.edit.text,
                    chat_id=intake.chat_id,
                    message_id=intake.tapped.message_id,
                    reply_markup=outcome.edit.keyboard,
                )
            except BadRequest as err:
                if "not modified" not in str(err):
                    raise
        # Answered after the edit, so the spinner stops on the updated message.
        with contextlib.suppress(BadRequest):  # a query older than a few minutes can't be answered
            await self.bot.answer_callback_query(intake.callback_id, text=outcome.alert, show_alert=bool(outcome.alert))
        await self._send(intake.chat_id, outcome.send)

    async def _invite_to_private(self, intake: Intake) -> None:
        assert intake.chat_id is not None
        if intake.chat_id in self._invited_groups:
            return
        self._invited_groups.add(intake.chat_id)
        catalog = self.service.config.catalog
        link = f"https://t.me/{self.bot.username}?start=group"
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(catalog("btn_open_private", "pl"), url=link)]])
        with contextlib.suppress(Forbidden):
            await self.bot.send_message(intake.chat_id, catalog("group_private", "pl"), reply_markup=keyboard)

    async def _staff(self, intake: Intake) -> None:
        assert intake.chat_id is not None
        service = self.service
        now = service.conversation.clock()
        questionnaire = service.config.questionnaires[service.conversation.default_questionnaire]
        if intake.command == "stats":
            stats = await collect_stats(service.store, now, questionnaire.id)
            await self.bot.send_message(
                intake.chat_id, describe_stats(stats, [q.code for q in questionnaire.questions])
            )
            return
        logger.warning("Telegram export requested by staff user %s", intake.user_id)
        details = {"format": "csv", "questionnaire": questionnaire.id, "via": "telegram"}
        await audit(service.store, f"telegram:{intake.user_id}", "export", details, now)
        buffer = io.StringIO()
        records = export_records(service.store, service.config.questionnaires, SubmissionFilter(questionnaire.id))
        rows = (wide_row(record, questionnaire) async for record in records)
        await write_csv_rows(rows, buffer, wide_columns(questionnaire, include_contact=False))
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        await self.bot.send_document(intake.chat_id, data, filename=f"wspolnota-{now:%Y%m%d-%H%M}.csv")


def _seconds(value: object) -> float:
    """Reads a duration PTB gives as int seconds or as a timedelta (PTB_TIMEDELTA)."""
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)  # type: ignore[arg-type]


def _retry_after(err: RetryAfter) -> float:
    """How long Telegram asks us to wait (reading it as int is deprecated in PTB 22)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(err.retry_after)


def _chat_of(update: Update) -> str | None:
    return str(update.effective_chat.id) if update.effective_chat else None


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Waits out a back-off, returning early when the service stops."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)

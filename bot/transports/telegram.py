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
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
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
from telegram.warnings import PTBDeprecationWarning

from bot.service import Service
from bot.supervision import ChannelFailed, Health, State, pause
from handlers.definitions.i18n import LANGUAGES, Language, as_language
from handlers.engine.messages import Delivery, Inbound, Reply, RespondentRef
from handlers.telegram import ui as telegram_ui
from handlers.telegram.ui import Intake, IntakeKind
from reports.export import export_records
from reports.privacy import audit
from reports.stats import collect_stats, describe_stats
from reports.tables import wide_columns, wide_row, write_csv_rows
from storage.db import is_transient
from storage.repository import (
    Received,
    SubmissionFilter,
    mark_replied,
    receive,
    unreplied,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
Action = Callable[[], Awaitable[object]]

CHANNEL = "telegram"

COMMANDS = ("start", "help", "language", "back", "skip", "cancel", "events", "privacy", "mydata", "forget")
FLOOD_WINDOW = 10.0  # seconds; WSPOLNOTA_TELEGRAM_FLOOD_LIMIT updates per user in it, more are not kept
RETRY_FIRST = 1.0  # seconds before a failed reply is tried again; doubles each time …
RETRY_MAX = 15.0  # … up to this, until WSPOLNOTA_TELEGRAM_REPLY_RETRY_MINUTES have passed
POLL_RETRY_MAX = 15.0  # the longest pause between getUpdates after network or server faults
CONFLICT_RETRY_MAX = 60.0  # … and after a 409 (another instance, or a webhook, takes our updates)


@dataclass(slots=True)
class Queued:
    """An update waiting to be answered: its effect is committed when `replies` is set."""

    update_id: str
    intake: Intake
    replies: list[Reply] | None
    done: int = 0  # steps of the answer already carried out (messages sent, an edit, a popup)
    attempts: int = 0
    failing_since: float | None = None


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
        self.retry_for = settings.telegram_reply_retry_minutes * 60
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
        self._outbox: dict[int | None, deque[Queued]] = {}  # per chat, answered in order
        self._senders: dict[int | None, asyncio.Task[None]] = {}
        self._replied: list[str] = []  # update ids answered; marked so in the next transaction
        self._notes: set[asyncio.Task[None]] = set()
        self._flood = _FloodGate(settings.telegram_flood_limit)
        self._invited_groups: set[int] = set()

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
        self._stop = stop
        try:
            async with self.application:
                await self._prepare()
                await self._resume()  # first answer what a crash or a stop left received but unanswered
                try:
                    await self._poll_until(stop)
                finally:
                    # Stopping: what is queued is still sent (no new pauses); what fails stays unanswered
                    # in the inbox and is sent after the restart.
                    await asyncio.gather(*list(self._senders.values()), return_exceptions=True)
                    with contextlib.suppress(SQLAlchemyError, OSError):
                        now = self.service.conversation.clock()
                        await mark_replied(self.service.store, CHANNEL, self._replied, now)
                    self._replied = []
        except InvalidToken:
            # 401/404 from any call; PTB's own message quotes the token, so it is not repeated here.
            raise ChannelFailed("Telegram refuses the bot token; check WSPOLNOTA_TELEGRAM_TOKEN") from None
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
        """Calls the Bot API at start-up, waiting out flood limits and network faults.

        Raises:
            InvalidToken: the token is refused.
        """
        for attempt in range(5):
            try:
                return await call(*args, **kwargs)
            except RetryAfter as err:
                await pause(self._stop, _retry_after(err))
            except (TimedOut, NetworkError):
                await pause(self._stop, min(2**attempt, 30))
        return await call(*args, **kwargs)

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
                await self._take(raw)
            except RetryAfter as err:
                await pause(stop, _retry_after(err))
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
                    logger.warning("Taking updates failed (%s); retrying in %.0f s", _describe(err), delay)
                else:
                    logger.exception("Taking updates failed unexpectedly; retrying in %.0f s", delay)
                self.health.set("telegram", State.DEGRADED, f"getUpdates: {_describe(err)}")
                await pause(stop, delay)
                delay = min(delay * 2, POLL_RETRY_MAX)
                continue
            delay = RETRY_FIRST
            self.health.set("telegram", State.RUNNING)
            ids = [update_id for item in raw if (update_id := _update_id(item)) is not None]
            if ids:
                offset = max(ids) + 1

    async def _fetch(self, offset: int | None) -> list[Any]:
        """One getUpdates call, answered as raw JSON: each update is read on its own in `_take`.

        PTB's `get_updates` reads the whole batch at once, so one update it cannot read would fail
        every batch it is in (and PTB logs the batch with the residents' words); `_post` is the
        same call without that step.
        """
        data: dict[str, Any] = {"timeout": self.poll_timeout}
        if offset is not None:
            data["offset"] = offset
        result = await self.bot._post("getUpdates", data, read_timeout=self.poll_timeout + 10)
        return list(result) if isinstance(result, list) else []

    async def _take(self, raw: Sequence[Any]) -> None:
        """Commits every update's effect (or stores it to handle later) before it is confirmed.

        A resident's input is stored together with the conversation step it causes, in one
        transaction; other updates (staff, groups) are stored first and handled afterwards.
        An update that cannot be read or handled is stored as failed, and its sender told so.

        Raises:
            SQLAlchemyError, OSError: the database is unavailable; nothing is confirmed.
        """
        later: list[tuple[str, Intake, dict[str, Any]]] = []
        by_chat: dict[int | None, list[tuple[Update, Intake]]] = defaultdict(list)
        for item in raw:
            update_id = _update_id(item)
            if update_id is None:
                logger.warning("getUpdates gave something that is not an update; it is skipped")
                continue
            try:
                update = Update.de_json(item, self.bot)
                if not self._admit(update):
                    continue
                intake = telegram_ui.classify(update, self._respondent)
            except Exception:
                logger.exception("Reading update %s failed; its sender is told", update_id)
                later.append((str(update_id), telegram_ui.unreadable(item), {}))
                continue
            if intake.kind is IntakeKind.ENGINE and intake.inbound is not None:
                by_chat[intake.chat_id].append((update, intake))
            elif intake.kind is not IntakeKind.IGNORE:
                later.append((str(update.update_id), intake, _storable(item)))
        stepped = await asyncio.gather(*(self._step_chat(entries) for entries in by_chat.values()))
        ready: list[Queued] = []
        for entries in stepped:
            for update, intake, replies in entries:
                if replies is None:  # our own fault with this one input: stored as failed, sender told
                    later.append((str(update.update_id), telegram_ui.unreadable(update.to_dict()), {}))
                else:
                    ready.append(Queued(str(update.update_id), intake, replies))
        replied, self._replied = self._replied, []
        if later or replied:
            received = [Received(key, _chat_id(intake), _kept(intake, payload)) for key, intake, payload in later]
            # The marks of what was answered meanwhile ride along in the same transaction.
            try:
                new = await receive(self.service.store, CHANNEL, received, self.service.conversation.clock(), replied)
            except BaseException:
                self._replied = replied + self._replied
                raise
            ready += [Queued(key, intake, None) for key, intake, _ in later if key in new]
        # Queued only now: should anything above fail, these updates come again and are answered
        # once, from where each resident is.
        for entry in ready:
            self._enqueue(entry)

    async def _step_chat(self, entries: list[tuple[Update, Intake]]) -> list[tuple[Update, Intake, list[Reply] | None]]:
        """Applies one chat's inputs in order; None where handling one failed in our own code.

        Raises:
            SQLAlchemyError, OSError: the database is unavailable; the whole batch comes again.
        """
        done: list[tuple[Update, Intake, list[Reply] | None]] = []
        for update, intake in entries:
            assert intake.inbound is not None
            # Kept with the effect: only who to answer should a crash come before the reply.
            resume = {"user": intake.user_id, "chat": intake.chat_id, "language": intake.inbound.language}
            delivery = Delivery(CHANNEL, str(update.update_id), _chat_of(update), {"resume": resume})
            try:
                replies: list[Reply] | None = await self.service.conversation.handle(
                    replace(intake.inbound, delivery=delivery)
                )
            except Exception as err:
                if is_transient(err):
                    raise
                # A fault in our own code (or data the database refuses) for this one input must
                # not stop everyone else's, nor come back after a restart.
                logger.exception("Handling update %s failed; its sender is told", update.update_id)
                replies = None
            done.append((update, intake, replies))
        return done

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

    async def _resume(self) -> None:
        """Queues what a crash or a stop left received but unanswered."""
        for item in await unreplied(self.service.store, CHANNEL, limit=10_000):
            if item.payload is None:  # erased by /forget
                self._replied.append(item.external_id)
            elif "resume" in item.payload:  # handled, not answered: show where they are
                who = item.payload["resume"]
                ref = self._respondent(who["user"], who["chat"])
                intake = Intake(IntakeKind.ENGINE, Inbound(ref, language=who["language"]), who["chat"], who["user"])
                self._enqueue(Queued(item.external_id, intake, None))
            elif "failed" in item.payload:
                who = item.payload["failed"]
                intake = Intake(IntakeKind.FAILED, chat_id=who["chat"], user_id=who["user"], language=who["language"])
                self._enqueue(Queued(item.external_id, intake, None))
            else:
                try:
                    intake = telegram_ui.classify(Update.de_json(item.payload, self.bot), self._respondent)
                except Exception:
                    logger.exception("Reading stored update %s failed; its sender is told", item.external_id)
                    intake = telegram_ui.unreadable(item.payload)
                self._enqueue(Queued(item.external_id, intake, None))

    def _enqueue(self, entry: Queued) -> None:
        """Adds an answer to its chat's queue, starting that chat's sender when it has none."""
        chat = entry.intake.chat_id
        self._outbox.setdefault(chat, deque()).append(entry)
        if chat not in self._senders:
            task = asyncio.get_running_loop().create_task(self._send_chat(chat))
            self._senders[chat] = task
            task.add_done_callback(lambda _: self._senders.pop(chat, None))

    async def _send_chat(self, chat: int | None) -> None:
        """Answers one chat's updates in order: a failed one is tried again, with growing pauses,
        for `telegram_reply_retry_minutes`; the chat's later ones wait for it."""
        queue = self._outbox[chat]
        try:
            while queue:
                entry = queue[0]
                try:
                    await self._answer(entry)
                except Exception as err:
                    if not _retryable(err):
                        logger.warning("Answering update %s failed for good (%s)", entry.update_id, _describe(err))
                        if not isinstance(err, TelegramError):
                            logger.exception("… in our own code")
                    elif self._stop.is_set():
                        return  # left unanswered in the inbox: sent after the restart
                    else:
                        now = time.monotonic()
                        entry.failing_since = entry.failing_since or now
                        entry.attempts += 1
                        delay = _retry_after(err) if isinstance(err, RetryAfter) else _backoff(entry.attempts)
                        if now - entry.failing_since + delay <= self.retry_for:
                            logger.warning(
                                "Answering update %s failed (%s); try %d again in %.0f s",
                                entry.update_id,
                                _describe(err),
                                entry.attempts + 1,
                                delay,
                            )
                            await pause(self._stop, delay)
                            continue
                        logger.error(
                            "Gave up answering update %s after %d tries in %.0f s",
                            entry.update_id,
                            entry.attempts,
                            now - entry.failing_since,
                        )
                queue.popleft()
                self._replied.append(entry.update_id)
        finally:
            if not queue:
                self._outbox.pop(chat, None)

    async def _answer(self, entry: Queued) -> None:
        """Carries out the steps of an answer that are not done yet (a retry resends only the rest)."""
        for step in (await self._plan(entry))[entry.done :]:
            await step()
            entry.done += 1

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
        if intake.kind is IntakeKind.STAFF and intake.user_id in self.staff:
            return [partial(self._staff, intake)]
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
        catalog = self.service.config.catalog
        link = f"https://t.me/{self.bot.username}?start=group"
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(catalog("btn_open_private", "pl"), url=link)]])
        with contextlib.suppress(Forbidden):
            await self.bot.send_message(chat_id, catalog("group_private", "pl"), reply_markup=keyboard)

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


def _update_id(item: Any) -> int | None:
    update_id = item.get("update_id") if isinstance(item, dict) else None
    return update_id if isinstance(update_id, int) else None


def _storable(value: Any) -> Any:
    """An update as stored until answered; without NUL characters, which PostgreSQL cannot keep."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _chat_id(intake: Intake) -> str | None:
    return str(intake.chat_id) if intake.chat_id is not None else None


def _kept(intake: Intake, payload: dict[str, Any]) -> dict[str, Any]:
    """What is stored of a received update: the update itself, or for a failed one whom to tell."""
    if intake.kind is IntakeKind.FAILED:
        return {"failed": {"chat": intake.chat_id, "user": intake.user_id, "language": intake.language}}
    return payload


def _retryable(err: BaseException) -> bool:
    """A reply that failed this way may go through later (not a blocked bot or a refused message)."""
    if isinstance(err, RetryAfter | TimedOut):
        return True
    if isinstance(err, TelegramError):
        return type(err) is NetworkError  # a 5xx or a dropped connection; Forbidden, BadRequest … are final
    return is_transient(err)


def _backoff(attempt: int) -> float:
    return float(min(RETRY_FIRST * 2 ** (attempt - 1), RETRY_MAX))


def _describe(err: BaseException) -> str:
    """An error for the log: its kind and Telegram's message, never a resident's words."""
    return f"{type(err).__name__}: {err}" if isinstance(err, TelegramError) else type(err).__name__

"""Telegram's exactly-once intake: every update is stored, or its effect committed, before the next
getUpdates confirms it; its answer then goes out in order per chat, retried, and is marked sent.

python-telegram-bot's own polling confirms updates before its handlers finish, so a crash would
lose what a resident just sent (README, "Exactly once"). Here a resident's input is committed
together with the conversation step it causes; anything else (staff commands, groups, an update
we could not read) is stored first and answered afterwards. Answers that Telegram does not take
are tried again with growing pauses, a chat's later answers waiting for the one before, and an
update is marked answered only after its answer went out: after a crash it is answered again,
from where the resident is (at-least-once replies, exactly-once effects).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from telegram import Bot, Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.supervision import pause
from handlers.engine.faults import is_transient
from handlers.engine.inbox import Inbox, InboxEntry
from handlers.engine.messages import Delivery, Inbound, Reply
from handlers.telegram import ui as telegram_ui
from handlers.telegram.ui import Intake, IntakeKind

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
RETRY_FIRST = 1.0  # seconds before a failed reply is tried again; doubles each time …
RETRY_MAX = 15.0  # … up to this, until WSPOLNOTA_TELEGRAM_REPLY_RETRY_MINUTES have passed

Action = Callable[[], Awaitable[object]]
Handle = Callable[[Inbound], Awaitable[list[Reply]]]


@dataclass(slots=True)
class Queued:
    """An update waiting to be answered: its effect is committed when `replies` is set."""

    update_id: str
    intake: Intake
    replies: list[Reply] | None
    done: int = 0  # steps of the answer already carried out (messages sent, an edit, a popup)
    attempts: int = 0
    failing_since: float | None = None


Plan = Callable[[Queued], Awaitable[list[Action]]]  # the steps that answer an update, the same every time


class ChatQueues:
    """Answers updates in order per chat, chats side by side: a failed answer is tried again, with
    growing pauses, for `retry_for` seconds; the chat's later ones wait for it."""

    def __init__(self, plan: Plan, retry_for: float) -> None:
        self.plan = plan
        self.retry_for = retry_for
        self.stop = asyncio.Event()  # set: what fails is left unanswered in the inbox, for the restart
        self.answered: list[str] = []  # update ids answered; marked so in the next transaction
        self._outbox: dict[int | None, deque[Queued]] = {}
        self._senders: dict[int | None, asyncio.Task[None]] = {}

    def enqueue(self, entry: Queued) -> None:
        """Adds an answer to its chat's queue, starting that chat's sender when it has none."""
        chat = entry.intake.chat_id
        self._outbox.setdefault(chat, deque()).append(entry)
        if chat not in self._senders:
            task = asyncio.get_running_loop().create_task(self._send_chat(chat))
            self._senders[chat] = task
            task.add_done_callback(lambda _: self._senders.pop(chat, None))

    async def finish(self) -> None:
        """Waits until what is queued is sent (no new pauses once stopping) or left for the restart."""
        await asyncio.gather(*list(self._senders.values()), return_exceptions=True)

    async def _send_chat(self, chat: int | None) -> None:
        queue = self._outbox[chat]
        try:
            while queue:
                entry = queue[0]
                try:
                    await self._answer(entry)
                except Exception as err:
                    if not retryable(err):
                        logger.warning("Answering update %s failed for good (%s)", entry.update_id, describe(err))
                        if not isinstance(err, TelegramError):
                            logger.exception("… in our own code")
                    elif self.stop.is_set():
                        return  # left unanswered in the inbox: sent after the restart
                    else:
                        now = time.monotonic()
                        entry.failing_since = entry.failing_since or now
                        entry.attempts += 1
                        delay = retry_after(err) if isinstance(err, RetryAfter) else _backoff(entry.attempts)
                        if now - entry.failing_since + delay <= self.retry_for:
                            logger.warning(
                                "Answering update %s failed (%s); try %d again in %.0f s",
                                entry.update_id,
                                describe(err),
                                entry.attempts + 1,
                                delay,
                            )
                            await pause(self.stop, delay)
                            continue
                        logger.error(
                            "Gave up answering update %s after %d tries in %.0f s",
                            entry.update_id,
                            entry.attempts,
                            now - entry.failing_since,
                        )
                queue.popleft()
                self.answered.append(entry.update_id)
        finally:
            if not queue:
                self._outbox.pop(chat, None)

    async def _answer(self, entry: Queued) -> None:
        """Carries out the steps of an answer that are not done yet (a retry resends only the rest)."""
        for step in (await self.plan(entry))[entry.done :]:
            await step()
            entry.done += 1


class DurableIntake:
    """Takes getUpdates batches into the inbox and the conversation, then hands the answers to the queues."""

    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        handle: Handle,
        respondent_of: telegram_ui.RespondentOf,
        admit: Callable[[Update], bool],
        queues: ChatQueues,
    ) -> None:
        self.bot = bot
        self.inbox = inbox
        self.handle = handle
        self.respondent_of = respondent_of
        self.admit = admit  # False: the sender floods us, the update is not kept
        self.queues = queues

    async def resume(self) -> None:
        """Queues what a crash or a stop left received but unanswered."""
        for item in await self.inbox.unanswered(limit=10_000):
            if item.payload is None:  # erased by /forget
                self.queues.answered.append(item.external_id)
            elif "resume" in item.payload:  # handled, not answered: show where they are
                who = item.payload["resume"]
                ref = self.respondent_of(who["user"], who["chat"])
                intake = Intake(IntakeKind.ENGINE, Inbound(ref, language=who["language"]), who["chat"], who["user"])
                self.queues.enqueue(Queued(item.external_id, intake, None))
            elif "failed" in item.payload:
                who = item.payload["failed"]
                intake = Intake(IntakeKind.FAILED, chat_id=who["chat"], user_id=who["user"], language=who["language"])
                self.queues.enqueue(Queued(item.external_id, intake, None))
            else:
                try:
                    intake = telegram_ui.classify(Update.de_json(item.payload, self.bot), self.respondent_of)
                except Exception:
                    logger.exception("Reading stored update %s failed; its sender is told", item.external_id)
                    intake = telegram_ui.unreadable(item.payload)
                self.queues.enqueue(Queued(item.external_id, intake, None))

    async def take(self, raw: Sequence[Any]) -> None:
        """Commits every update's effect (or stores it to handle later) before it is confirmed.

        A resident's input is stored together with the conversation step it causes, in one
        transaction; other updates (staff, groups) are stored first and handled afterwards.
        An update that cannot be read or handled is stored as failed, and its sender told so.

        Raises:
            Exception: a transient database fault (`handlers.engine.faults.is_transient`); nothing
                is confirmed, and the batch comes again.
        """
        later: list[tuple[str, Intake, dict[str, Any]]] = []
        by_chat: dict[int | None, list[tuple[Update, Intake]]] = defaultdict(list)
        for item in raw:
            update_id = update_id_of(item)
            if update_id is None:
                logger.warning("getUpdates gave something that is not an update; it is skipped")
                continue
            try:
                update = Update.de_json(item, self.bot)
                if not self.admit(update):
                    continue
                intake = telegram_ui.classify(update, self.respondent_of)
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
        answered, self.queues.answered = self.queues.answered, []
        if later or answered:
            received = [InboxEntry(key, _chat_id(intake), _kept(intake, payload)) for key, intake, payload in later]
            # The marks of what was answered meanwhile ride along in the same transaction.
            try:
                new = await self.inbox.receive(received, answered)
            except BaseException:
                self.queues.answered = answered + self.queues.answered
                raise
            ready += [Queued(key, intake, None) for key, intake, _ in later if key in new]
        # Queued only now: should anything above fail, these updates come again and are answered
        # once, from where each resident is.
        for entry in ready:
            self.queues.enqueue(entry)

    async def close(self) -> None:
        """Sends what is queued, then marks what went out as answered; what did not is answered after
        the restart (the database may be gone by now: then so is everything answered meanwhile)."""
        await self.queues.finish()
        answered, self.queues.answered = self.queues.answered, []
        try:
            await self.inbox.mark_answered(answered)
        except Exception as err:
            if not is_transient(err):
                logger.exception("Marking %d answered update(s) failed; they are answered again", len(answered))

    async def _step_chat(self, entries: list[tuple[Update, Intake]]) -> list[tuple[Update, Intake, list[Reply] | None]]:
        """Applies one chat's inputs in order; None where handling one failed in our own code.

        Raises:
            Exception: a transient database fault; the whole batch comes again.
        """
        done: list[tuple[Update, Intake, list[Reply] | None]] = []
        for update, intake in entries:
            assert intake.inbound is not None
            # Kept with the effect: only who to answer should a crash come before the reply.
            resume = {"user": intake.user_id, "chat": intake.chat_id, "language": intake.inbound.language}
            delivery = Delivery(CHANNEL, str(update.update_id), _chat_of(update), {"resume": resume})
            try:
                replies: list[Reply] | None = await self.handle(replace(intake.inbound, delivery=delivery))
            except Exception as err:
                if is_transient(err):
                    raise
                # A fault in our own code (or data the database refuses) for this one input must
                # not stop everyone else's, nor come back after a restart.
                logger.exception("Handling update %s failed; its sender is told", update.update_id)
                replies = None
            done.append((update, intake, replies))
        return done


def update_id_of(item: Any) -> int | None:
    """The id of an update as getUpdates gave it (raw JSON), or None for anything else."""
    update_id = item.get("update_id") if isinstance(item, dict) else None
    return update_id if isinstance(update_id, int) else None


def retry_after(err: RetryAfter) -> float:
    """How long Telegram asks us to wait (reading it as int is deprecated in PTB 22)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = err.retry_after  # int seconds, or a timedelta (PTB_TIMEDELTA)
        return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def retryable(err: BaseException) -> bool:
    """A reply that failed this way may go through later (not a blocked bot or a refused message)."""
    if isinstance(err, RetryAfter | TimedOut):
        return True
    if isinstance(err, TelegramError):
        return type(err) is NetworkError  # a 5xx or a dropped connection; Forbidden, BadRequest … are final
    return is_transient(err)


def describe(err: BaseException) -> str:
    """An error for the log: its kind and Telegram's message, never a resident's words."""
    return f"{type(err).__name__}: {err}" if isinstance(err, TelegramError) else type(err).__name__


def _backoff(attempt: int) -> float:
    return float(min(RETRY_FIRST * 2 ** (attempt - 1), RETRY_MAX))


def _chat_of(update: Update) -> str | None:
    return str(update.effective_chat.id) if update.effective_chat else None


def _chat_id(intake: Intake) -> str | None:
    return str(intake.chat_id) if intake.chat_id is not None else None


def _storable(value: Any) -> Any:
    """An update as stored until answered; without NUL characters, which PostgreSQL cannot keep."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _kept(intake: Intake, payload: dict[str, Any]) -> dict[str, Any]:
    """What is stored of a received update: the update itself, or for a failed one whom to tell."""
    if intake.kind is IntakeKind.FAILED:
        return {"failed": {"chat": intake.chat_id, "user": intake.user_id, "language": intake.language}}
    return payload

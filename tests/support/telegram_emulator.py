"""A local Telegram Bot API server for tests: the real python-telegram-bot client talks to it over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web

JSON = dict[str, Any]
T = TypeVar("T")

BOT_USERNAME = "wspolnota_test_bot"
DEFAULT_GROUP_ID = -4_012_345_678
DEFAULT_SUPERGROUP_ID = -1_001_234_567_890
DEFAULT_CHANNEL_ID = -1_009_876_543_210
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same"
    " as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND = re.compile(r"[a-z0-9_]{1,32}")

# Form and multipart bodies carry every value as text; python-telegram-bot JSON-encodes non-strings.
INT_PARAMS = frozenset(
    {"message_id", "offset", "limit", "timeout", "cache_time", "reply_to_message_id", "message_thread_id"}
)
BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
    }
)
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
    }
)


class Fault(StrEnum):
    """A way for the next calls of a method to fail."""

    RATE_LIMIT = "429"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    CONFLICT = "409"  # another getUpdates or a webhook takes the updates
    UNAUTHORIZED = "401"  # the token was revoked
    SLOW = "slow"
    DROP = "drop"


class Call(NamedTuple):
    """One request the bot made: the method name as Telegram spells it, and its decoded parameters."""

    method: str
    params: JSON


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the bot uploaded with sendDocument."""

    chat_id: int
    message_id: int
    file_id: str
    file_name: str
    mime_type: str
    content: bytes
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class AnsweredCallback:
    """The bot's answer to a button press."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(slots=True)
class _FaultRule:
    method: str
    kind: Fault
    remaining: int | None
    retry_after: int
    delay: float
    after: int = 0  # calls let through before the rule applies


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request, as it appears in the logged parameters."""

    name: str | None
    content_type: str
    content: bytes


class ApiError(Exception):
    """An error response of the Bot API."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Measure text as Telegram does for entity offsets: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class TelegramUser:
    """A Telegram user a test plays: everything they do becomes an update for the bot."""

    api: BotApiEmulator
    id: int
    first_name: str = "Ola"
    language_code: str | None = "pl"
    username: str | None = None
    last_name: str | None = None

    def as_json(self) -> JSON:
        """Render the user as the Bot API's User object."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                user[key] = value
        return user

    def send_text(self, text: str, *, chat_type: str = "private", chat_id: int | None = None) -> int:
        """Send a text message to the bot."""
        return self.api.send_text(self.id, text, chat_type=chat_type, chat_id=chat_id)

    def send_command(
        self, command: str, payload: str | None = None, *, chat_type: str = "private", chat_id: int | None = None
    ) -> int:
        """Send a bot command, such as /start with a deep-link payload."""
        return self.api.send_command(self.id, command, payload, chat_type=chat_type, chat_id=chat_id)

    def press(self, message_id: int, callback_data: str, *, chat_id: int | None = None) -> int:
        """Tap an inline button on one of the bot's messages."""
        return self.api.press(self.id, message_id, callback_data, chat_id=chat_id)


@dataclass(slots=True)
class _Chat:
    info: JSON
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: int = 1
    keyboard: JSON | None = None


class BotApiEmulator:
    """Serve the Bot API on 127.0.0.1 for one bot token and record everything the bot does."""

    def __init__(
        self,
        token: str = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ",
        *,
        bot_name: str = "Wspólnota",
        bot_username: str = BOT_USERNAME,
        now: Callable[[], float] = time.time,
        first_update_id: int = 700_000_001,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_name = bot_name
        self.bot_username = bot_username
        self.now = now
        self.requests: list[Call] = []  # every call that reached a method, faulted ones included
        self.listeners: list[Callable[[Call], None]] = []  # told of every request as it arrives (benchmarks)
        self.errors: list[Exception] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.documents: list[Upload] = []
        self.confirmed_offset = 0
        self._users: dict[int, TelegramUser] = {}
        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(first_update_id)
        self._query_ids = itertools.count(4_382_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._open_queries: dict[str, JSON] = {}
        self._faults: list[_FaultRule] = []
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._poll_generation = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._methods: dict[str, tuple[str, Callable[[JSON], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "deleteMessage": self._delete_message,
            }.items()
        }

    # --- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> BotApiEmulator:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing.set()
        self._broadcast()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The `base_url` to give python-telegram-bot, which appends the token and the method."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what the bot did ------------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[JSON]:
        """Return the bot's messages in a chat as they are now: edits applied, deletions gone."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [copy.deepcopy(m) for m in chat.messages.values() if m.get("from", {}).get("id") == self.bot_id]

    def texts(self, chat_id: int) -> list[str]:
        """Return the text (or caption) of each of the bot's messages in a chat."""
        return [_shown_text(m) for m in self.sent(chat_id)]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """Return one message of a chat as it is now."""
        return copy.deepcopy(self._chats[chat_id].messages[message_id])

    def buttons(self, chat_id: int, message_id: int) -> list[tuple[str, str]]:
        """Return the (label, callback_data) of every callback button on a message, row by row."""
        markup = self._chats[chat_id].messages[message_id].get("reply_markup", {})
        return [
            (b["text"], b["callback_data"])
            for row in markup.get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]

    def keyboard(self, chat_id: int) -> JSON | None:
        """Return the reply keyboard the bot last showed in a chat, or None once removed."""
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.keyboard) if chat else None

    def calls(self, method: str) -> list[JSON]:
        """Return the parameters of every call of one method, in order."""
        return [c.params for c in self.requests if c.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> list[JSON]:
        """Return the updates the bot has not confirmed yet."""
        return copy.deepcopy(self._updates)

    # --- waiting ---------------------------------------------------------------------------------

    # The helpers below take `timeout` like asyncio.wait_for, so tests read naturally (hence the ASYNC109 noqa).
    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "condition",
    ) -> T:
        """Wait until predicate() is truthy, re-checking on every change, and return its value.

        Raises:
            TimeoutError: the predicate stayed falsy; the message lists the bot's last requests.
        """
        result: T | None = None

        def check() -> bool:
            nonlocal result
            result = predicate()
            return bool(result)

        if await self._wait_until(check, timeout):
            assert result is not None
            return result
        recent = "\n".join(
            f"  {c.method} {json.dumps(c.params, ensure_ascii=False, default=repr)[:200]}" for c in self.requests[-10:]
        )
        crashes = "".join(f"\nemulator error: {err!r}" for err in self.errors)
        raise TimeoutError(f"{what} not met within {timeout} s; last requests:\n{recent or '  (none)'}{crashes}")

    async def wait_for_message(self, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[JSON]:  # noqa: ASYNC109
        """Wait until the bot has at least `count` messages in a chat and return them."""
        await self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout, f"{count} bot message(s) in {chat_id}")
        return self.sent(chat_id)

    async def wait_for_text(self, chat_id: int, substring: str, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait until one of the bot's messages in a chat contains `substring`, and return it."""

        def find() -> JSON | None:
            return next((m for m in self.sent(chat_id) if substring in _shown_text(m)), None)

        found: JSON = await self.wait_for(find, timeout, f"a bot message in {chat_id} containing {substring!r}")
        return found

    async def _wait_until(self, check: Callable[[], bool], seconds: float) -> bool:
        deadline = asyncio.get_running_loop().time() + seconds
        while not check():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._closing.is_set():
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    def _broadcast(self) -> None:
        # Each waiter holds the event current when it started waiting; a fresh one serves the next round.
        self._changed.set()
        self._changed = asyncio.Event()

    # --- fault injection -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str = "*",
        n: int = 1,
        kind: Fault | str = Fault.RATE_LIMIT,
        *,
        retry_after: int = 3,
        delay: float = 1.0,
        after: int = 0,
    ) -> None:
        """Make the next `n` calls of `method` ("*" for any) fail in the given way (`after` calls from now)."""
        self._faults.append(_FaultRule(method.lower(), Fault(kind), n, retry_after, delay, after))

    @contextlib.contextmanager
    def failing(
        self, method: str = "*", kind: Fault | str = Fault.RATE_LIMIT, *, retry_after: int = 3, delay: float = 1.0
    ) -> Iterator[None]:
        """Make every call of `method` ("*" for any) fail in the given way while the block runs."""
        rule = _FaultRule(method.lower(), Fault(kind), None, retry_after, delay)
        self._faults.append(rule)
        try:
            yield
        finally:
            self._faults.remove(rule)

    def block(self, user_id: int) -> int:
        """Have a user block the bot: sends to them fail with 403 and the bot gets a my_chat_member update."""
        self._blocked.add(user_id)
        user = self._user(user_id)
        member = {"user": self._bot_json(), "status": "member"}
        return self._push(
            "my_chat_member",
            {
                "chat": self._chat(user_id, "private").info,
                "from": user.as_json(),
                "date": int(self.now()),
                "old_chat_member": member,
                "new_chat_member": {"user": self._bot_json(), "status": "kicked", "until_date": 0},
            },
        )

    def _take_fault(self, method: str) -> _FaultRule | None:
        for rule in self._faults:
            if rule.method in (method.lower(), "*"):
                if rule.after > 0:
                    rule.after -= 1
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._faults.remove(rule)
                return rule
        return None

    # --- what users do ---------------------------------------------------------------------------

    def user(
        self, id: int, first_name: str = "Ola", language_code: str | None = "pl", username: str | None = None
    ) -> TelegramUser:
        """Register (or update) a user and return a handle to act as them."""
        self._users[id] = TelegramUser(self, id, first_name, language_code, username)
        return self._users[id]

    def send_text(
        self, user_id: int, text: str, *, chat_type: str = "private", chat_id: int | None = None, **extra: Any
    ) -> int:
        """Deliver a text message from a user; returns its update_id."""
        return self._user_message(user_id, chat_type, chat_id, {"text": text, **extra})

    def send_command(
        self,
        user_id: int,
        command: str,
        payload: str | None = None,
        *,
        chat_type: str = "private",
        chat_id: int | None = None,
    ) -> int:
        """Deliver a command like "/start" (with an optional deep-link payload) the way clients send it."""
        word = command if command.startswith("/") else f"/{command}"
        if chat_type != "private":
            word = f"{word}@{self.bot_username}"
        text = f"{word} {payload}" if payload else word
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]
        return self._user_message(user_id, chat_type, chat_id, {"text": text, "entities": entities})

    def send_sticker(
        self, user_id: int, emoji: str = "👍", *, chat_type: str = "private", chat_id: int | None = None
    ) -> int:
        """Deliver a sticker from a user."""
        n = next(self._file_ids)
        sticker = {
            "width": 512,
            "height": 512,
            "emoji": emoji,
            "set_name": "HotCherry",
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "thumbnail": {**self._file("AAMCAgAD", n), "file_size": 5416, "width": 128, "height": 128},
            **self._file("CAACAgIAAxkBAAI", n),
            "file_size": 28944,
        }
        return self._user_message(user_id, chat_type, chat_id, {"sticker": sticker})

    def send_photo(
        self, user_id: int, caption: str | None = None, *, chat_type: str = "private", chat_id: int | None = None
    ) -> int:
        """Deliver a photo (in the usual three sizes) from a user."""
        n = next(self._file_ids)
        sizes = [(90, 67, 1422), (320, 240, 17580), (800, 600, 68201)]
        photo = [
            {**self._file(f"AgACAgIAAxkBAAI{i}", n), "file_size": s, "width": w, "height": h}
            for i, (w, h, s) in enumerate(sizes)
        ]
        content = {"photo": photo, **({"caption": caption} if caption else {})}
        return self._user_message(user_id, chat_type, chat_id, content)

    def send_voice(
        self, user_id: int, duration: int = 3, *, chat_type: str = "private", chat_id: int | None = None
    ) -> int:
        """Deliver a voice message from a user."""
        voice = {"duration": duration, "mime_type": "audio/ogg", **self._file("AwACAgIAAxkBAAI", next(self._file_ids))}
        voice["file_size"] = 4_000 * duration
        return self._user_message(user_id, chat_type, chat_id, {"voice": voice})

    def send_location(
        self,
        user_id: int,
        latitude: float = 52.2297,
        longitude: float = 21.0122,
        *,
        chat_type: str = "private",
        chat_id: int | None = None,
    ) -> int:
        """Deliver a location from a user (Warsaw's Palace of Culture by default)."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(user_id, chat_type, chat_id, {"location": location})

    def send_document(
        self,
        user_id: int,
        file_name: str = "uwagi.pdf",
        mime_type: str = "application/pdf",
        file_size: int = 48_213,
        caption: str | None = None,
        *,
        chat_type: str = "private",
        chat_id: int | None = None,
    ) -> int:
        """Deliver a document from a user."""
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            **self._file("BQACAgIAAxkBAAI", next(self._file_ids)),
        }
        document["file_size"] = file_size
        content = {"document": document, **({"caption": caption} if caption else {})}
        return self._user_message(user_id, chat_type, chat_id, content)

    def send_contact(
        self,
        user_id: int,
        phone_number: str = "+48221234567",
        *,
        chat_type: str = "private",
        chat_id: int | None = None,
    ) -> int:
        """Deliver the user's own contact card."""
        user = self._user(user_id)
        contact = {"phone_number": phone_number, "first_name": user.first_name, "user_id": user_id}
        return self._user_message(user_id, chat_type, chat_id, {"contact": contact})

    def edit_text(self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None) -> int:
        """Have a user edit one of their text messages; delivers an edited_message update."""
        chat = self._chats[user_id if chat_id is None else chat_id]
        message = chat.messages[message_id]
        if message.get("from", {}).get("id") != user_id or "text" not in message:
            raise ValueError(f"message {message_id} is not a text message of user {user_id}")
        message["text"] = new_text
        message.pop("entities", None)
        message["edit_date"] = int(self.now())
        return self._push("edited_message", copy.deepcopy(message))

    def post_to_channel(
        self, text: str, *, chat_id: int = DEFAULT_CHANNEL_ID, title: str = "Wspólnota Warszawa"
    ) -> int:
        """Deliver a channel_post from a channel the bot administers."""
        chat = self._chat(chat_id, "channel", title=title)
        message = self._new_message(chat, {"sender_chat": chat.info, "text": text})
        return self._push("channel_post", copy.deepcopy(message))

    def press(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None, strict: bool = True
    ) -> int:
        """Tap a callback button on a bot message; returns the update_id (the query id is in the update).

        Raises:
            LookupError: strict and the message shows no button with this callback_data.
        """
        chat_id = user_id if chat_id is None else chat_id
        message = self._chats[chat_id].messages[message_id]
        if strict and callback_data not in [data for _, data in self.buttons(chat_id, message_id)]:
            shown = self.buttons(chat_id, message_id)
            raise LookupError(f"message {message_id} in {chat_id} has no button {callback_data!r}: {shown}")
        query_id = str(next(self._query_ids))
        query = {
            "id": query_id,
            "from": self._user(user_id).as_json(),
            "message": copy.deepcopy(message),
            "chat_instance": str(abs(chat_id) * 7919 % 10**18),
            "data": callback_data,
        }
        self._open_queries[query_id] = query
        return self._push("callback_query", query)

    def _user(self, user_id: int) -> TelegramUser:
        return self._users.get(user_id) or self.user(user_id)

    def _chat(self, chat_id: int, chat_type: str, title: str | None = None) -> _Chat:
        if chat_id not in self._chats:
            info: JSON = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                user = self._user(chat_id).as_json()
                info.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
            else:
                info["title"] = title or "Sąsiedzi z Ochoty"
            self._chats[chat_id] = _Chat(info)
        return self._chats[chat_id]

    def _user_message(self, user_id: int, chat_type: str, chat_id: int | None, content: JSON) -> int:
        if chat_id is None:
            chat_id = {"private": user_id, "group": DEFAULT_GROUP_ID, "supergroup": DEFAULT_SUPERGROUP_ID}[chat_type]
        chat = self._chat(chat_id, chat_type)
        self._blocked.discard(user_id)
        message = self._new_message(chat, {"from": self._user(user_id).as_json(), **content})
        return self._push("message", copy.deepcopy(message))

    def _new_message(self, chat: _Chat, content: JSON) -> JSON:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message = {"message_id": message_id, **content, "chat": chat.info, "date": int(self.now())}
        message = {
            k: message[k] for k in ("message_id", "from", "sender_chat", "chat", "date") if k in message
        } | message
        chat.messages[message_id] = message
        return message

    def push_raw(self, update: JSON) -> int:
        """Deliver an update exactly as given (any shape, for fuzzing); it gets the next update_id."""
        update_id = next(self._update_ids)
        self._updates.append({**copy.deepcopy(update), "update_id": update_id})
        self._broadcast()
        return update_id

    def _push(self, kind: str, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._broadcast()
        return update_id

    def _file(self, prefix: str, n: int) -> JSON:
        return {"file_id": f"{prefix}{n:06d}Wsp0lnota_{self.bot_id}", "file_unique_id": f"AgAD{n:06d}"}

    def _bot_json(self) -> JSON:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    # --- HTTP ------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        if method.lower() not in self._methods:
            return _error(ApiError(404, "Not Found"))
        name, handler = self._methods[method.lower()]
        try:
            params = await _read_params(request)
        except ApiError as err:
            return _error(err)
        self.requests.append(Call(name, params))
        for listener in self.listeners:
            listener(self.requests[-1])
        self._broadcast()
        fault = self._take_fault(name)
        if fault is not None:
            if fault.kind is Fault.DROP:
                assert request.transport is not None
                request.transport.close()
                return web.Response()  # never written: the client sees the connection closed
            if fault.kind is Fault.SLOW:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), fault.delay)
            elif fault.kind is Fault.RATE_LIMIT:
                return _error(
                    ApiError(
                        429, f"Too Many Requests: retry after {fault.retry_after}", {"retry_after": fault.retry_after}
                    )
                )
            else:
                status = int(fault.kind)
                return _error(ApiError(status, _FAULT_TEXT[fault.kind]))
        try:
            result = await handler(params)
        except ApiError as err:
            return _error(err)
        except Exception as err:
            self.errors.append(err)  # an emulator bug: aiohttp logs it and answers 500, PTB sees a NetworkError
            raise
        finally:
            self._broadcast()
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    # --- methods ---------------------------------------------------------------------------------

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        offset = params.get("offset")
        if offset is not None:
            self._confirm(offset)
        limit = min(max(params.get("limit") or 100, 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        await self._wait_until(
            lambda: bool(self._updates) or self._poll_generation != generation, float(params.get("timeout") or 0)
        )
        if self._poll_generation != generation:
            raise ApiError(
                409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        return copy.deepcopy(self._updates[:limit])

    def _confirm(self, offset: int) -> None:
        # A negative offset keeps only the last -offset updates; a positive one forgets every update below it.
        if offset < 0:
            dropped = self._updates[:offset]
            self._updates = self._updates[offset:]
        else:
            dropped = [u for u in self._updates if u["update_id"] < offset]
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if offset > 0 or dropped:
            self.confirmed_offset = max(self.confirmed_offset, offset if offset > 0 else dropped[-1]["update_id"] + 1)

    async def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            if not COMMAND.fullmatch(str(command.get("command", "")).removeprefix("/")):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope_key(params)] = [
            {"command": c["command"].removeprefix("/"), "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(_scope_key(params), []))

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        text, entities = _formatted(params, "text", MAX_TEXT)
        content: JSON = {"from": self._bot_json(), "text": text}
        if entities:
            content["entities"] = entities
        return self._bot_message(chat, params, content)

    async def _send_document(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        if isinstance(document, str):
            known = next((u for u in self.documents if u.file_id == document), None)
            if known is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            document = UploadedFile(known.file_name, known.mime_type, known.content)
        if not isinstance(document, UploadedFile):
            raise _bad("there is no document in the request")
        if not document.content:
            raise _bad("file must be non-empty")
        file_name = document.name or "document"
        mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        file = self._file("BQACAgIAAxkDAAI", next(self._file_ids))
        content: JSON = {
            "from": self._bot_json(),
            "document": {"file_name": file_name, "mime_type": mime_type, **file, "file_size": len(document.content)},
        }
        caption, entities = _formatted(params, "caption", MAX_CAPTION, required=False)
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        message = self._bot_message(chat, params, content)
        self.documents.append(
            Upload(
                chat.info["id"],
                message["message_id"],
                file["file_id"],
                file_name,
                mime_type,
                document.content,
                caption or None,
            )
        )
        return message

    async def _edit_message_text(self, params: JSON) -> JSON:
        message = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = _formatted(params, "text", MAX_TEXT)
        markup = _inline_markup(params.get("reply_markup"))
        if (text, entities, markup) == (message["text"], message.get("entities"), message.get("reply_markup")):
            raise _bad(NOT_MODIFIED)
        message["text"] = text
        _set_optional(message, "entities", entities)
        return self._edited(message, markup)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        message = self._editable(params)
        markup = _inline_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise _bad(NOT_MODIFIED)
        return self._edited(message, markup)

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self._open_queries.pop(query_id, None) is None:
            raise _bad(QUERY_TOO_OLD)
        self.answered_callbacks.append(
            AnsweredCallback(query_id, params.get("text"), bool(params.get("show_alert")), params.get("url"))
        )
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _delete_message(self, params: JSON) -> bool:
        chat = self._target_chat(params)
        if chat.messages.pop(params.get("message_id", 0), None) is None:
            raise _bad("message to delete not found")
        return True

    # --- method helpers --------------------------------------------------------------------------

    def _target_chat(self, params: JSON) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            chat_id = next(
                (c for c, chat in self._chats.items() if f"@{chat.info.get('username')}" == chat_id), chat_id
            )
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            if chat_id in self._users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise _bad("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _bot_message(self, chat: _Chat, params: JSON, content: JSON) -> JSON:
        reply = params.get("reply_parameters") or (
            {"message_id": params["reply_to_message_id"]} if "reply_to_message_id" in params else None
        )
        if reply is not None:
            replied = chat.messages.get(int(reply.get("message_id", 0)))
            if replied is not None:
                content["reply_to_message"] = copy.deepcopy(replied)
            elif not (reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")):
                raise _bad("message to be replied not found")
        markup = params.get("reply_markup")
        inline = _inline_markup(markup)
        if inline is not None:
            content["reply_markup"] = inline
        elif isinstance(markup, dict) and ("keyboard" in markup or "remove_keyboard" in markup):
            chat.keyboard = markup if "keyboard" in markup else None
        if params.get("protect_content"):
            content["has_protected_content"] = True
        return copy.deepcopy(self._new_message(chat, content))

    def _editable(self, params: JSON) -> JSON:
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported by the emulator")
        chat = self._target_chat(params)
        message = chat.messages.get(params.get("message_id", 0))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return message

    def _edited(self, message: JSON, markup: JSON | None) -> JSON:
        _set_optional(message, "reply_markup", markup)
        message["edit_date"] = int(self.now())
        return copy.deepcopy(message)


# --- decoding requests ---------------------------------------------------------------------------


async def _read_params(request: web.Request) -> JSON:
    """Read a request's parameters from its query string and its JSON, form or multipart body."""
    raw: dict[str, Any] = dict(request.query)
    typed = False
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as err:
            raise _bad("can't parse JSON encoded request") from err
        if not isinstance(body, dict):
            raise _bad("can't parse JSON encoded request")
        raw.update(body)
        typed = True
    elif request.content_type.startswith("multipart/"):
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                raw[part.name] = UploadedFile(part.filename, content_type, bytes(await part.read(decode=False)))
            else:
                raw[part.name] = await part.text()
    elif request.body_exists:
        raw.update(await request.post())
    return {name: _decode(name, value, typed) for name, value in raw.items()}


def _decode(name: str, value: Any, typed: bool) -> Any:
    if not isinstance(value, str):
        return value
    if name == "chat_id" and re.fullmatch(r"-?\d+", value):
        return int(value)
    try:
        if name in JSON_PARAMS:
            return json.loads(value)
        if typed:
            return value
        if name in INT_PARAMS:
            return int(value)
        if name in BOOL_PARAMS:
            return value.lower() in ("true", "1")
    except ValueError as err:
        raise _bad(f"can't parse {name} JSON object" if name in JSON_PARAMS else f"wrong parameter {name}") from err
    return value


def _scope_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    parts = [str(scope.get("type", "default"))] + [str(scope[k]) for k in ("chat_id", "user_id") if k in scope]
    return ":".join(parts), str(params.get("language_code") or "")


def _inline_markup(markup: Any) -> JSON | None:
    """Validate an inline keyboard as Telegram does and return it, or None for any other markup."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array of Arrays')
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise _bad("can't parse inline keyboard button: Text must be non-empty")
        if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= MAX_CALLBACK_DATA:
            raise _bad("BUTTON_DATA_INVALID")
        if "url" in button and urlsplit(str(button["url"])).scheme not in ("http", "https", "tg"):
            raise _bad(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
        if set(button) <= {"text"}:
            raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    return {"inline_keyboard": rows}


def _formatted(params: JSON, key: str, limit: int, *, required: bool = True) -> tuple[str, list[JSON] | None]:
    """Apply parse_mode (or explicit entities) to a text and check its length like Telegram."""
    raw = params.get(key)
    if raw is None and not required:
        return "", None
    text = str(raw or "")
    entities: list[JSON] | None = params.get("entities" if key == "text" else "caption_entities")
    if str(params.get("parse_mode", "")).lower() == "html":
        text, entities = parse_html(text)
    # Markdown and MarkdownV2 are kept as sent: the emulator parses only HTML, the bot's parse mode.
    text, entities = _strip(text, entities or [])
    if not text and required:
        raise _bad("message text is empty")
    if utf16_len(text) > limit:
        raise _bad("message is too long" if key == "text" else "message caption is too long")
    return text, entities or None


def _strip(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    # Telegram trims leading and trailing whitespace from a message and clips its entities to what is left.
    lead = utf16_len(text) - utf16_len(text.lstrip())
    text = text.strip()
    size = utf16_len(text)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return text, kept


HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
HTML_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ATTRIBUTE = re.compile(r"\s*([a-z-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Turn Bot API HTML into plain text and entities, with Telegram's error messages.

    Raises:
        ApiError: the markup is not what the Bot API accepts.
    """
    out: list[str] = []
    entities: list[JSON] = []
    stack: list[tuple[str, int, JSON]] = []
    position = 0  # UTF-16 offset in the output

    def fail(problem: str) -> ApiError:
        return _bad(f"can't parse entities: {problem}")

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            match = re.match(r"&(#x[0-9a-f]+|#[0-9]+|[a-z]+);", source[i:], re.IGNORECASE)
            decoded = None
            if match:
                name = match.group(1)
                if name.lower().startswith("#x"):
                    decoded = chr(int(name[2:], 16))
                elif name.startswith("#"):
                    decoded = chr(int(name[1:]))
                else:
                    decoded = HTML_ESCAPES.get(name.lower())
            if decoded is None:
                out.append("&")
                position += 1
                i += 1
            else:
                out.append(decoded)
                position += utf16_len(decoded)
                i += len(match.group(0)) if match else 1
            continue
        if char != "<":
            out.append(char)
            position += utf16_len(char)
            i += 1
            continue
        end = i + 1
        while end < len(source) and not source[end].isspace() and source[end] != ">":
            end += 1
        if source[i + 1 : i + 2] == "/":
            name = source[i + 2 : end].lower()
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_offset(i)}")
            if name and name != stack[-1][0]:
                expected = stack[-1][0]
                raise fail(
                    f'Unmatched end tag at byte offset {byte_offset(i)}, expected "</{expected}>", found "</{name}>"'
                )
            close = source.find(">", end)
            if close == -1 or source[end:close].strip():
                raise fail(f"Unclosed end tag at byte offset {byte_offset(i)}")
            _, start, opened = stack.pop()
            if position > start and opened:
                entities.append({"offset": start, "length": position - start, **opened})
            i = close + 1
            continue
        name = source[i + 1 : end].lower().rstrip("/")
        if name not in HTML_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
        close = source.find(">", end)
        if close == -1:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(i)}")
        attributes = {
            m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
            for m in ATTRIBUTE.finditer(source[end:close])
        }
        entity: JSON = {"type": HTML_TAGS[name]}
        if name == "a":
            entity = {"type": "text_link", "url": attributes["href"]} if attributes.get("href") else {}
        elif name == "span" and attributes.get("class") != "tg-spoiler":
            raise fail(f'Unsupported start tag "span" at byte offset {byte_offset(i)}')
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id", "")
        elif name == "blockquote" and "expandable" in source[end:close]:
            entity["type"] = "expandable_blockquote"
        elif name == "code" and stack and stack[-1][0] == "pre" and attributes.get("class", "").startswith("language-"):
            # <pre><code class="language-x"> is one pre entity with a language, not a code entity inside it
            stack[-1][2]["language"] = attributes["class"].removeprefix("language-")
            entity = {}
        stack.append((name, position, entity))
        i = close + 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _shown_text(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


def _set_optional(message: JSON, key: str, value: Any) -> None:
    if value:
        message[key] = value
    else:
        message.pop(key, None)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


_FAULT_TEXT = {
    Fault.SERVER_ERROR: "Internal Server Error",
    Fault.BAD_GATEWAY: "Bad Gateway",
    Fault.CONFLICT: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    Fault.UNAUTHORIZED: "Unauthorized",
}


def _error(err: ApiError) -> web.Response:
    body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return web.json_response(body, status=err.status, dumps=_dumps)

"""The Telegram channel's pure functions: an Update into an Inbound, a Reply into messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import filters

from handlers.definitions.i18n import Catalog
from handlers.engine.messages import (
    BUTTON_SEPARATOR,
    Choice,
    Inbound,
    Reply,
    ReplyKind,
    RespondentRef,
    decode_choice,
    encode_choice,
)

MAX_TEXT = 4096  # Telegram's limit for one message
ATTEND = "attend:"  # the callback data of the buttons under a seat's offer (`attend:yes`, `attend:no`)
STAFF_COMMANDS = frozenset({"stats", "export"})


class IntakeKind(StrEnum):
    ENGINE = "engine"  # a resident's input for the conversation
    STAFF = "staff"  # /stats or /export; only staff may, others get the ordinary reply
    GROUP = "group"  # written in a group: invite to a private chat
    IGNORE = "ignore"  # channel posts, service messages, our own echoes
    FAILED = "failed"  # could not be read or handled: the sender gets a polite note, nothing else
    ATTENDANCE = "attendance"  # a button under a working group's seat offer (`attend:yes`): not the engine's


@dataclass(frozen=True, slots=True)
class Intake:
    """What an update asks of the channel."""

    kind: IntakeKind
    inbound: Inbound | None = None
    chat_id: int | None = None
    user_id: int | None = None
    command: str | None = None
    callback_id: str | None = None
    data: str | None = None  # the pressed button's callback_data
    tapped: Message | None = None  # the message whose button was pressed
    language: str | None = None  # FAILED, ATTENDANCE: the sender's language, as Telegram says


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: text and, on the last part of a reply, its keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class TapOutcome:
    """How to answer a button press: a popup, an edit of the pressed message, new messages."""

    alert: str | None
    edit: Outgoing | None
    send: list[Reply] = field(default_factory=list)


RespondentOf = Callable[[int, int], RespondentRef]  # (user id, chat id) → who


def classify(update: Update, respondent_of: RespondentOf) -> Intake:
    """Decides what an update is: an input for the conversation, a staff command, or nothing to keep."""
    query = update.callback_query
    if query is not None:
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat.id if message is not None else query.from_user.id
        if (query.data or "").startswith(ATTEND):
            # Answered by the working groups, not the conversation: stored, then handled once.
            return Intake(
                IntakeKind.ATTENDANCE,
                chat_id=chat_id,
                user_id=query.from_user.id,
                callback_id=query.id,
                data=query.data,
                tapped=message,
                language=query.from_user.language_code,
            )
        who = respondent_of(query.from_user.id, chat_id)
        inbound = decode_choice(query.data or "", who, query.from_user.language_code)
        return Intake(
            IntakeKind.ENGINE,
            inbound,
            chat_id,
            query.from_user.id,
            callback_id=query.id,
            data=query.data,
            tapped=message,
        )
    message = update.message or update.edited_message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return Intake(IntakeKind.IGNORE)  # channel posts, member updates, polls …
    user = message.from_user
    if message.chat.type != "private":
        return Intake(IntakeKind.GROUP, chat_id=message.chat.id, user_id=user.id)
    make = partial(Inbound, respondent_of(user.id, message.chat.id), language=user.language_code)
    if update.edited_message is not None:
        return Intake(IntakeKind.ENGINE, make(unsupported="edited"), message.chat.id, user.id)
    if message.text is None:
        if filters.StatusUpdate.ALL.check_update(update):
            return Intake(IntakeKind.IGNORE)  # service messages (pinned, joined …)
        # A sticker, photo, voice, poll, checklist … whatever Telegram adds next: say we read text.
        return Intake(IntakeKind.ENGINE, make(unsupported="not_text"), message.chat.id, user.id)
    command = command_of(message.text)
    kind = IntakeKind.STAFF if command in STAFF_COMMANDS else IntakeKind.ENGINE
    return Intake(kind, make(text=message.text), message.chat.id, user.id, command=command)


def command_of(text: str) -> str | None:
    """The command a message starts with (`/start@bot payload` → `start`); `""` for a lone `/`."""
    if not text.startswith("/"):
        return None
    word = text[1:].split(maxsplit=1)
    return word[0].split("@", 1)[0].lower() if word else ""


def unreadable(raw: Mapping[str, Any]) -> Intake:
    """An update we could not read or handle, from its raw JSON as far as it goes: whom to tell.

    Only a private chat gets the note; anything else is let go in silence.
    """
    for key in ("message", "edited_message", "callback_query"):
        part = raw.get(key)
        if not isinstance(part, Mapping):
            continue
        sender = part.get("from")
        sender = sender if isinstance(sender, Mapping) else {}
        message = part.get("message") if key == "callback_query" else part
        chat = message.get("chat") if isinstance(message, Mapping) else None
        if isinstance(chat, Mapping):
            chat_id, private = chat.get("id"), chat.get("type") == "private"
        else:  # a button under a message Telegram no longer sends: the presser's private chat
            chat_id, private = sender.get("id"), key == "callback_query"
        if private and isinstance(chat_id, int) and not sender.get("is_bot"):
            user_id = sender.get("id")
            language = sender.get("language_code")
            return Intake(
                IntakeKind.FAILED,
                chat_id=chat_id,
                user_id=user_id if isinstance(user_id, int) else None,
                language=language if isinstance(language, str) else None,
            )
    return Intake(IntakeKind.IGNORE)


def group_invitation(catalog: Catalog, bot_username: str) -> Outgoing:
    """What the bot says once in a group: answers are given in private, with a button that opens that chat."""
    link = f"https://t.me/{bot_username}?start=group"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(catalog("btn_open_private", "pl"), url=link)]])
    return Outgoing(catalog("group_private", "pl"), keyboard)


def _rows(reply: Reply) -> list[list[InlineKeyboardButton]]:
    def button(choice: Choice) -> InlineKeyboardButton:
        mark = "✓ " if choice.selected and (reply.multiple or reply.kind is ReplyKind.QUESTION) else ""
        return InlineKeyboardButton(mark + choice.label, callback_data=encode_choice(choice, reply.question))

    rows: list[list[InlineKeyboardButton]] = []
    choices = [button(choice) for choice in reply.choices]
    # Short labels (a scale, yes/no, "Change 3") share rows; sentences get a row each.
    width = 6 if all(len(c.label) <= 3 for c in reply.choices) else 3 if reply.kind is ReplyKind.SUMMARY else 1
    rows += [choices[i : i + width] for i in range(0, len(choices), width)]
    navigation = [button(choice) for choice in reply.navigation]
    if reply.multiple and navigation:
        rows.append(navigation[:1])  # "Done" stands alone under the options
        navigation = navigation[1:]
    if navigation:
        rows.append(navigation)
    return rows


def _split(text: str) -> list[str]:
    """Cuts a long text into messages at paragraph, then line, then hard boundaries."""
    parts: list[str] = []
    while len(text) > MAX_TEXT:
        cut = max(text.rfind("\n\n", 0, MAX_TEXT), text.rfind("\n", 0, MAX_TEXT))
        cut = cut if cut > MAX_TEXT // 2 else MAX_TEXT
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return [part for part in parts if part] or ["…"]


def outbox_messages(body: str, buttons: Sequence[Sequence[str]] | None) -> list[Outgoing]:
    """A message from the outbox (a decision, an offer, a reminder): its text, and its buttons
    (`[label, callback data]` each, one a row) under the last part."""
    rows = [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons or ()]
    parts = _split(body)
    keyboard = InlineKeyboardMarkup(rows) if rows else None
    return [*[Outgoing(part) for part in parts[:-1]], Outgoing(parts[-1], keyboard)]


def render(reply: Reply) -> list[Outgoing]:
    """Turns a reply into Telegram messages: plain text (screen-reader friendly) and inline buttons."""
    return list(_render(reply))


@lru_cache(maxsize=2048)
def _render(reply: Reply) -> tuple[Outgoing, ...]:
    # Replies repeat (the same question, language and picks for every resident) and building
    # PTB's keyboard objects is a good part of a step's cost; both sides are immutable.
    text = f"{reply.heading}\n\n{reply.text}" if reply.heading else reply.text
    rows = _rows(reply)
    parts = _split(text)
    keyboard = InlineKeyboardMarkup(rows) if rows else None
    return (*[Outgoing(part) for part in parts[:-1]], Outgoing(parts[-1], keyboard))


def _question_of(message: Message | None) -> str | None:
    """The question a sent message asked, read from its option or navigation buttons."""
    markup = message.reply_markup if message is not None else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            parts = str(button.callback_data or "").split(BUTTON_SEPARATOR)
            question = parts[1] if parts[0] == "o" and len(parts) == 3 else parts[-1] if len(parts) == 4 else ""
            if question:
                return question
    return None


def _label_of(message: Message | None, data: str) -> str | None:
    markup = message.reply_markup if message is not None else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text.removeprefix("✓ ")
    return None


def after_tap(tapped: Message | None, data: str, replies: Sequence[Reply]) -> TapOutcome:
    """Plans the answer to a button press with less chat noise.

    A toggle or a re-ask edits the pressed message in place; moving on marks the pressed
    message with what was chosen (and drops its buttons) and sends what comes next.
    A refusal is shown as a popup the resident must close.
    """
    problems = [r for r in replies if r.kind is ReplyKind.PROBLEM]
    rest = [r for r in replies if r.kind is not ReplyKind.PROBLEM]
    alert = problems[0].text[:200] if problems else None
    asked = _question_of(tapped)
    if tapped is not None and rest and rest[0].kind is ReplyKind.QUESTION and rest[0].question == asked:
        first = render(rest[0])
        if len(first) == 1:
            return TapOutcome(alert, first[0], list(rest[1:]))
    if tapped is None or tapped.text is None:
        return TapOutcome(alert, None, list(rest))
    label = _label_of(tapped, data)
    edit = Outgoing(f"{tapped.text}\n\n✓ {label}") if label and not problems else None
    return TapOutcome(alert, edit, list(rest))

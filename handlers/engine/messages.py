"""The engine's small value types: what a respondent said (Inbound) and what to show (Reply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers.definitions.i18n import Language
from storage.repository import AnswerValue


class Action(StrEnum):
    """Navigation a respondent asks for, by button or by a /command."""

    START = "start"
    ACCEPT = "accept"  # the privacy notice
    DECLINE = "decline"
    BACK = "back"
    SKIP = "skip"
    DONE = "done"  # finish picking in a multiple-choice question
    CONFIRM = "confirm"  # the summary
    EDIT = "edit"  # argument: the question code to change
    LANGUAGE = "language"  # argument: pl, en or uk; none asks which
    CANCEL = "cancel"
    HELP = "help"
    PRIVACY = "privacy"  # show the privacy notice again
    EVENTS = "events"  # upcoming events
    MYDATA = "mydata"  # the respondent's stored answers, back to them
    FORGET = "forget"  # erase everything about them; argument "yes" confirms, "no" keeps
    WITHDRAW = "withdraw"  # withdraw a working-group application; argument "yes" confirms, "no" keeps
    RESEND = "resend"  # mail a new code to confirm the email address given


# The name a working-group application is started by: Telegram's `/grupy` and `?start=grupy`, the web
# chat's `/grupy`. `Inbound.questionnaire` takes these kinds too: `application` (the call's form) or
# `consultation` (the event's questionnaire, or the default one), beside a questionnaire's id.
APPLICATION_ENTRY = "grupy"
APPLICATION = "application"
CONSULTATION = "consultation"


class ReplyKind(StrEnum):
    PRIVACY = "privacy"
    QUESTION = "question"
    SUMMARY = "summary"
    THANKS = "thanks"
    INFO = "info"  # a note shown before the next reply (welcome back, language changed)
    PROBLEM = "problem"  # the input was not accepted; the reason, before the re-ask
    CLOSED = "closed"
    GOODBYE = "goodbye"  # declined or cancelled: nothing more to ask
    LANGUAGES = "languages"
    FORGET = "forget"  # asks to confirm erasing everything
    RECORDED = "recorded"  # a written contribution (an email) taken in one go: what was recorded


class InputKind(StrEnum):
    """What kind of typed input the reply waits for, so a channel can offer the right field."""

    NONE = "none"
    TEXT = "text"
    EMAIL = "email"
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class RespondentRef:
    """Who is talking: a channel and the pseudonym derived from their channel id.

    `address` is what the channel needs to reach them again (a chat id, an email address);
    it is stored apart from the answers and can be erased.
    """

    channel: str
    pseudonym: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The upstream item an input came from (a Telegram update), for exactly-once handling.

    The step that handles it records it in the inbox in the same transaction; a delivery seen
    before (`payload` None means "already stored") is only shown where the respondent is.
    """

    channel: str
    external_id: str
    chat: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a respondent said, whatever channel it came through."""

    respondent: RespondentRef
    text: str | None = None
    choice: str | None = None  # a stable option code, never a label
    action: Action | None = None
    argument: str | None = None  # with EDIT a question code, with LANGUAGE a language
    question: str | None = None  # the question a tapped button belonged to (stale buttons)
    source: str | None = None  # event slug (and stand) from a deep link or QR code
    language: str | None = None  # the client's language, used for a newcomer
    # A questionnaire's id, or `application` / `consultation`; None: where the respondent is now (the
    # questionnaire they last answered in, else the event's or the default one).
    questionnaire: str | None = None
    unsupported: str | None = None  # "not_text" (a sticker, photo…) or "edited": nothing to record
    delivery: Delivery | None = None  # what upstream delivered: stored with the step, applied once
    assisted: bool = False  # a volunteer is helping (marks the submission)
    # The channel's reason to doubt this step (its place finished too many submissions this hour) and a
    # keyed, daily tag of that place; kept on the submission for staff, never an address.
    flag: str | None = None
    client: str | None = None
    # A written contribution taken in one go (an email): an opinion in the resident's own words, and/or
    # answers to several questions at once (question code → value), each checked as if given one by one.
    opinion: str | None = None
    form: tuple[tuple[str, AnswerValue], ...] = ()
    # When our side received it (an email: the mailbox's INTERNALDATE, never the sender's Date); None:
    # the step's own time. An application received after the deadline is recorded as late.
    received_at: datetime | None = None
    # A written application's consent to the applicants' privacy notice our reply carried (its "yes"): an
    # application by email counts as complete only with it. Chats consent on the notice's own screen.
    consent: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: an option (`choice` set) or navigation (`action` set)."""

    label: str
    choice: str | None = None
    action: Action | None = None
    argument: str | None = None
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show; channels render it as a keyboard, an email form or HTML."""

    kind: ReplyKind
    text: str
    language: Language
    choices: tuple[Choice, ...] = ()  # the question's options, or the summary's edit buttons
    navigation: tuple[Choice, ...] = ()  # back, skip, done, confirm, cancel
    question: str | None = None
    progress: tuple[int, int] | None = None  # (this question, visible questions)
    heading: str | None = None  # the progress in words: "Pytanie 3 z 13"
    multiple: bool = False
    input: InputKind = InputKind.NONE
    max_length: int | None = None
    answers: tuple[tuple[str, str], ...] = field(default=())  # the summary: (question, answer) lines


BUTTON_SEPARATOR = ":"


def encode_choice(choice: Choice, question: str | None) -> str:
    """Packs a button into a short string (Telegram callback_data ≤ 64 bytes, a web form's button value):
    `o:question:option` or `a:action:arg:question`. The question lets a stale button be recognised."""
    if choice.choice is not None:
        return BUTTON_SEPARATOR.join(("o", question or "", choice.choice))
    assert choice.action is not None
    return BUTTON_SEPARATOR.join(("a", choice.action.value, choice.argument or "", question or ""))


def decode_choice(data: str, respondent: RespondentRef, language: str | None = None) -> Inbound:
    """Unpacks a packed button into an Inbound; anything unreadable becomes an empty input."""
    parts = data.split(BUTTON_SEPARATOR)
    if len(parts) == 3 and parts[0] == "o":
        return Inbound(respondent, choice=parts[2], question=parts[1] or None, language=language)
    if len(parts) == 4 and parts[0] == "a" and parts[1] in set(Action):
        return Inbound(
            respondent,
            action=Action(parts[1]),
            argument=parts[2] or None,
            question=parts[3] or None,
            language=language,
        )
    return Inbound(respondent, language=language)


_COMMANDS = {action.value: action for action in Action} | {
    "lang": Action.LANGUAGE,
    "jezyk": Action.LANGUAGE,
    "stop": Action.CANCEL,
}


def parse_command(text: str) -> tuple[Action, str | None] | None:
    """Reads a typed command such as `/back`, `/language en` or `/start@bot event`."""
    if not text.startswith("/"):
        return None
    head, _, rest = text[1:].strip().partition(" ")
    name = head.split("@", 1)[0].lower()
    if name == APPLICATION_ENTRY:  # `/grupy`: the start of an application
        return Action.START, APPLICATION_ENTRY
    action = _COMMANDS.get(name)
    if action is None:
        return None
    return action, (rest.strip() or None)

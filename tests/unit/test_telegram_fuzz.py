"""Every shape of update Telegram can send: the adapter reads it, or says whom to tell; it never raises."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from handlers.engine.messages import RespondentRef
from handlers.telegram import ui as telegram_ui
from handlers.telegram.ui import IntakeKind

BOT = Bot("123:abc")
USER = {"id": 501, "is_bot": False, "first_name": "Ola", "language_code": "pl"}
PHOTO = {"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}
FILE = {"file_id": "f", "file_unique_id": "u"}
# Content a message can carry instead of text: one minimal, valid payload per kind PTB reads.
CONTENT: dict[str, Any] = {
    "sticker": {**FILE, "type": "regular", "width": 1, "height": 1, "is_animated": False, "is_video": False},
    "photo": [PHOTO],
    "voice": {**FILE, "duration": 1},
    "audio": {**FILE, "duration": 1},
    "video": {**FILE, "width": 1, "height": 1, "duration": 1},
    "video_note": {**FILE, "length": 1, "duration": 1},
    "animation": {**FILE, "width": 1, "height": 1, "duration": 1},
    "document": FILE,
    "location": {"latitude": 52.2, "longitude": 21.0},
    "venue": {"location": {"latitude": 52.2, "longitude": 21.0}, "title": "Dom", "address": "Bankowy 3"},
    "contact": {"phone_number": "+48 600 000 000", "first_name": "Ola"},
    "poll": {
        "id": "1",
        "question": "?",
        "options": [{"text": "a", "voter_count": 0}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    },
    "dice": {"emoji": "🎲", "value": 3},
    "game": {"title": "g", "description": "d", "photo": [PHOTO]},
    "story": {"chat": {"id": 1, "type": "private"}, "id": 1},
    "checklist": {"title": "t", "tasks": [{"id": 1, "text": "x"}]},
    "paid_media": {"star_count": 1, "paid_media": [{"type": "preview"}]},
    "new_chat_members": [USER],
    "left_chat_member": USER,
    "new_chat_title": "Sąsiedzi",
    "pinned_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
    "group_chat_created": True,
    "delete_chat_photo": True,
    "migrate_to_chat_id": -100,
    "write_access_allowed": {},
    "caption": "tylko podpis",
}
ENTITY_TYPES = ["bot_command", "mention", "url", "bold", "text_link", "custom_emoji", "nonsense"]

commands = st.one_of(
    st.text(max_size=40),
    st.builds(lambda body: "/" + body, st.text(max_size=40)),
    st.sampled_from(["/", "/ ", "/\n", "/@", "/@bot", "/start@bot x", "/STATS", "/export@wspolnota_bot", ""]),
    st.builds(lambda n: "/" + "a" * n, st.integers(0, 4095)),
)
entities = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(ENTITY_TYPES), "offset": st.integers(-5, 5000), "length": st.integers(-1, 5000)}
    ),
    max_size=3,
)
users = st.one_of(st.just(USER), st.just({**USER, "is_bot": True}), st.just({**USER, "language_code": None}))


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    chat_type = draw(st.sampled_from(["private", "private", "group", "supergroup", "channel"]))
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31)),
        "date": draw(st.integers(0, 2**32)),
        "chat": {"id": 501 if chat_type == "private" else -100, "type": chat_type},
    }
    if draw(st.booleans()) or chat_type == "private":
        message["from"] = draw(users)
    if draw(st.integers(0, 2)):
        message["text"] = draw(commands)
        message["entities"] = draw(entities)
    else:
        kind = draw(st.sampled_from(sorted(CONTENT)))
        message[kind] = CONTENT[kind]
    return message


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["message"] * 4 + ["edited_message", "channel_post", "callback_query", "other"]))
    update: dict[str, Any] = {"update_id": draw(st.integers(1, 2**31))}
    if kind == "callback_query":
        update["callback_query"] = {
            "id": "q",
            "from": draw(users),
            "chat_instance": "c",
            "data": draw(st.one_of(st.none(), st.text(max_size=64), st.sampled_from(["o::", "a:skip::", "a:x:y:z"]))),
            "message": draw(st.one_of(st.none(), messages())),
        }
    elif kind == "other":
        update[draw(st.sampled_from(["my_chat_member", "poll", "message_reaction", "business_message"]))] = {}
    else:
        update[kind] = draw(messages())
    return update


def who(user_id: int, chat_id: int) -> RespondentRef:
    return RespondentRef("telegram", f"p{user_id}", str(chat_id))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(updates())
@example(
    {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 501, "type": "private"}, "from": USER, "text": "/"},
    }
)
def test_the_adapter_reads_every_shape_of_update_or_says_whom_to_tell(raw: dict[str, Any]) -> None:
    try:
        update = Update.de_json(raw, BOT)
    except Exception:  # what the library itself cannot read: the channel falls back to the raw JSON
        intake = telegram_ui.unreadable(raw)
        assert intake.kind in {IntakeKind.FAILED, IntakeKind.IGNORE}
        return
    intake = telegram_ui.classify(update, who)  # never raises
    message = raw.get("message")
    if message and message["chat"]["type"] == "private" and not message.get("from", {}).get("is_bot"):
        status = any(
            key in message
            for key in (
                "new_chat_members",
                "left_chat_member",
                "new_chat_title",
                "pinned_message",
                "group_chat_created",
                "delete_chat_photo",
                "migrate_to_chat_id",
                "write_access_allowed",
            )
        )
        # A resident's message is never dropped in silence: text, or a note that we read text.
        assert intake.kind in {IntakeKind.ENGINE, IntakeKind.STAFF} or status
        if intake.inbound is not None and "text" in message:
            assert intake.inbound.text == message["text"]


def test_a_lone_slash_is_a_command_with_no_name() -> None:
    assert telegram_ui.command_of("/") == ""
    assert telegram_ui.command_of("/ ") == ""
    assert telegram_ui.command_of("/@bot") == ""
    assert telegram_ui.command_of("/Start@wspolnota_bot dzien") == "start"
    assert telegram_ui.command_of("hej") is None


def test_an_unreadable_update_tells_only_a_private_chat() -> None:
    private = {"message": {"message_id": "x", "from": USER, "chat": {"id": 501, "type": "private"}}}
    assert telegram_ui.unreadable(private).kind is IntakeKind.FAILED
    assert telegram_ui.unreadable(private).chat_id == 501
    group = {"message": {"message_id": "x", "from": USER, "chat": {"id": -1, "type": "group"}}}
    assert telegram_ui.unreadable(group).kind is IntakeKind.IGNORE
    assert telegram_ui.unreadable({"update_id": 1}).kind is IntakeKind.IGNORE
    tap = {"callback_query": {"id": "1", "from": USER, "data": 5}}
    assert telegram_ui.unreadable(tap).chat_id == 501

"""The Telegram adapter's part in the working groups: an offer's buttons set apart from the engine's, and an
outbox message made into Telegram messages."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import CallbackQuery, Chat, Message, Update, User

from handlers.engine.messages import RespondentRef
from handlers.telegram import ui as telegram_ui
from handlers.telegram.ui import MAX_TEXT, IntakeKind

WHEN = datetime(2026, 10, 8, 9, tzinfo=UTC)
OLA = User(id=801, first_name="Ola", is_bot=False, language_code="en")
BUTTONS = [["Tak, będę", "attend:yes"], ["Niestety nie mogę", "attend:no"]]


def who(user_id: int, chat_id: int) -> RespondentRef:
    return RespondentRef("telegram", f"p{user_id}", str(chat_id))


def press(data: str) -> Update:
    offer = Message(message_id=12, date=WHEN, chat=Chat(id=801, type="private"), text="Masz miejsce.")
    return Update(5, callback_query=CallbackQuery("q1", OLA, "ci", message=offer, data=data))


def test_an_offers_buttons_are_not_the_engines() -> None:
    intake = telegram_ui.classify(press("attend:yes"), who)
    assert intake.kind is IntakeKind.ATTENDANCE and intake.inbound is None
    assert (intake.chat_id, intake.user_id, intake.callback_id, intake.data) == (801, 801, "q1", "attend:yes")
    assert intake.tapped is not None and intake.tapped.message_id == 12
    assert intake.language == "en"
    assert telegram_ui.classify(press("o:district:wola"), who).kind is IntakeKind.ENGINE
    assert telegram_ui.classify(press("attendance"), who).kind is IntakeKind.ENGINE


def test_an_outbox_message_has_its_buttons_one_a_row() -> None:
    [message] = telegram_ui.outbox_messages("Masz miejsce.", BUTTONS)
    assert message.text == "Masz miejsce."
    assert message.keyboard is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in message.keyboard.inline_keyboard]
    assert rows == [[("Tak, będę", "attend:yes")], [("Niestety nie mogę", "attend:no")]]
    [plain] = telegram_ui.outbox_messages("Niestety tym razem nie.", None)
    assert plain.keyboard is None


def test_a_long_outbox_message_is_split_with_the_buttons_under_the_last_part() -> None:
    body = "\n\n".join("Spotkanie: " + "x" * 400 for _ in range(20))
    parts = telegram_ui.outbox_messages(body, BUTTONS)
    assert len(parts) > 1 and all(len(part.text) <= MAX_TEXT for part in parts)
    assert [part.keyboard is not None for part in parts] == [False] * (len(parts) - 1) + [True]

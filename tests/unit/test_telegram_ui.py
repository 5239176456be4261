"""The Telegram adapter's pure functions, on updates built like Telegram sends them."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import CallbackQuery as TgCallbackQuery
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User

from handlers.engine.messages import Action, Choice, Reply, ReplyKind, RespondentRef
from handlers.telegram import ui as telegram_ui
from handlers.telegram.ui import IntakeKind

WHEN = datetime(2026, 5, 30, 12, tzinfo=UTC)
OLA = User(id=501, first_name="Ola", is_bot=False, language_code="uk")


def who(user_id: int, chat_id: int) -> RespondentRef:
    return RespondentRef("telegram", f"p{user_id}", str(chat_id))


def message(text: str | None = None, chat_type: str = "private", **extra: object) -> Message:
    chat = Chat(id=501 if chat_type == "private" else -100, type=chat_type)
    return Message(message_id=7, date=WHEN, chat=chat, from_user=OLA, text=text, **extra)  # type: ignore[arg-type]


def test_text_and_commands_go_to_the_engine_with_the_client_language() -> None:
    intake = telegram_ui.classify(Update(1, message=message("/start dzien-sasiada-wola")), who)
    assert intake.kind is IntakeKind.ENGINE
    assert intake.inbound is not None and intake.inbound.text == "/start dzien-sasiada-wola"
    assert intake.inbound.language == "uk" and intake.inbound.respondent.pseudonym == "p501"


def test_staff_commands_are_set_apart() -> None:
    intake = telegram_ui.classify(Update(1, message=message("/stats@wspolnota_bot")), who)
    assert intake.kind is IntakeKind.STAFF and intake.command == "stats"


def test_stickers_edits_groups_and_channel_posts() -> None:
    from telegram import Sticker

    sticker = Sticker("f", "u", 512, 512, False, False, "regular")
    intake = telegram_ui.classify(Update(1, message=message(sticker=sticker)), who)
    assert intake.inbound is not None and intake.inbound.unsupported == "not_text"
    edited = telegram_ui.classify(Update(2, edited_message=message("poprawka")), who)
    assert edited.inbound is not None and edited.inbound.unsupported == "edited"
    assert telegram_ui.classify(Update(3, message=message("hej", chat_type="group")), who).kind is IntakeKind.GROUP
    post = Message(message_id=1, date=WHEN, chat=Chat(id=-5, type="channel"), text="news")
    assert telegram_ui.classify(Update(4, channel_post=post), who).kind is IntakeKind.IGNORE


def test_callback_data_round_trips_and_fits() -> None:
    option = Choice("Praga-Południe", choice="praga_poludnie")
    data = telegram_ui.encode_choice(option, "district")
    assert len(data.encode()) <= 64
    inbound = telegram_ui.decode_choice(data, who(1, 1))
    assert (inbound.choice, inbound.question) == ("praga_poludnie", "district")
    back = telegram_ui.decode_choice(telegram_ui.encode_choice(Choice("←", action=Action.BACK), "values"), who(1, 1))
    assert (back.action, back.question) == (Action.BACK, "values")
    edit = telegram_ui.decode_choice(
        telegram_ui.encode_choice(Choice("3", action=Action.EDIT, argument="values"), None), who(1, 1)
    )
    assert (edit.action, edit.argument, edit.question) == (Action.EDIT, "values", None)
    junk = telegram_ui.decode_choice("rubbish:::::", who(1, 1))
    assert junk.choice is None and junk.action is None


def test_a_press_is_a_callback_intake() -> None:
    sent = message(
        "Pytanie", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Wola", callback_data="o:district:wola")]])
    )
    query = TgCallbackQuery(id="q1", from_user=OLA, chat_instance="c", data="o:district:wola", message=sent)
    intake = telegram_ui.classify(Update(5, callback_query=query), who)
    assert intake.callback_id == "q1" and intake.tapped is sent
    assert intake.inbound is not None and intake.inbound.choice == "wola"


def question_reply(selected: bool = False, code: str = "values") -> Reply:
    return Reply(
        ReplyKind.QUESTION,
        "Jakie wartości?",
        "pl",
        choices=(Choice("Zaufanie", choice="trust", selected=selected), Choice("Współpraca", choice="cooperation")),
        navigation=(Choice("Gotowe", action=Action.DONE), Choice("← Wstecz", action=Action.BACK)),
        question=code,
        multiple=True,
        heading="Pytanie 3 z 12",
    )


def test_render_puts_options_in_rows_and_done_alone() -> None:
    [out] = telegram_ui.render(question_reply(selected=True))
    assert out.text.startswith("Pytanie 3 z 12\n\n")
    assert out.keyboard is not None
    rows = [[b.text for b in row] for row in out.keyboard.inline_keyboard]
    assert rows == [["✓ Zaufanie"], ["Współpraca"], ["Gotowe"], ["← Wstecz"]]
    assert out.keyboard.inline_keyboard[2][0].callback_data == "a:done::values"


def test_long_text_is_split_with_the_keyboard_last() -> None:
    long = Reply(
        ReplyKind.SUMMARY, ("Odpowiedź. " * 300 + "\n\n") * 3, "pl", navigation=(Choice("OK", action=Action.CONFIRM),)
    )
    parts = telegram_ui.render(long)
    assert len(parts) > 1 and all(len(p.text) <= 4096 for p in parts)
    assert parts[-1].keyboard is not None and all(p.keyboard is None for p in parts[:-1])


def test_a_toggle_edits_the_pressed_message_and_moving_on_marks_the_choice() -> None:
    [sent] = telegram_ui.render(question_reply())
    tapped = message(sent.text, reply_markup=sent.keyboard)
    toggled = telegram_ui.after_tap(tapped, "o:values:trust", [question_reply(selected=True)])
    assert toggled.edit is not None and toggled.send == [] and toggled.alert is None
    following = Reply(ReplyKind.QUESTION, "Jak bardzo?", "pl", question="connection")
    moved = telegram_ui.after_tap(tapped, "a:done::values", [following])
    assert moved.edit is not None and moved.edit.text.endswith("✓ Gotowe") and moved.edit.keyboard is None
    assert moved.send == [following]
    refused = telegram_ui.after_tap(
        tapped, "a:done::values", [Reply(ReplyKind.PROBLEM, "Wybierz co najmniej 1.", "pl"), question_reply()]
    )
    assert refused.alert == "Wybierz co najmniej 1." and refused.edit is not None

"""The Bot API emulator, driven by the real python-telegram-bot client over loopback HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.support.telegram_emulator import BotApiEmulator, Fault

TOKEN = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ"
OLA = 1001
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Tak", callback_data="q1:yes"), InlineKeyboardButton("Nie", callback_data="q1:no")],
        [InlineKeyboardButton("Program Wspólnota", url="https://um.warszawa.pl")],
    ]
)


def loopback_request(**kwargs: Any) -> HTTPXRequest:
    """Build PTB's HTTP client for plain HTTP on loopback; not loading CA certificates saves ~25 ms a client."""
    return HTTPXRequest(httpx_kwargs={"verify": False}, **kwargs)


def local_bot(api: BotApiEmulator, token: str = TOKEN, **request: Any) -> Bot:
    """Build a real PTB Bot that talks to the emulator."""
    return Bot(
        token, base_url=api.base_url, request=loopback_request(**request), get_updates_request=loopback_request()
    )


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(api: BotApiEmulator) -> AsyncIterator[Bot]:
    async with local_bot(api) as client:
        yield client


async def test_get_me_describes_the_bot(api: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.can_join_groups) == (123456789, True, "wspolnota_test_bot", True)
    assert api.requests[-1].method == "getMe"


async def test_wrong_token_and_unknown_method_are_refused(api: BotApiEmulator) -> None:
    stranger = local_bot(api, "42:WRONG")
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()
    async with httpx.AsyncClient() as http:
        unauthorized = await http.post(f"{api.base_url}42:WRONG/getMe")
        unknown = await http.post(f"{api.base_url}{TOKEN}/sendTelepathy", json={"chat_id": 1})
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_send_message_with_inline_keyboard_round_trips(api: BotApiEmulator, bot: Bot) -> None:
    api.user(OLA, first_name="Ola", username="ola_z_ochoty").send_command("/start")
    message = await bot.send_message(
        OLA, "<b>Pytanie 1</b> &amp; więcej", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    assert message.text == "Pytanie 1 & więcej"
    assert message.entities == (MessageEntity(MessageEntity.BOLD, 0, 9),)
    assert message.reply_markup == KEYBOARD
    assert message.from_user is not None and message.from_user.username == "wspolnota_test_bot"
    assert message.chat.type == "private" and message.chat.username == "ola_z_ochoty"
    assert message.message_id == 2  # the user's /start was message 1 of this chat
    [stored] = api.sent(OLA)
    assert stored["reply_markup"] == KEYBOARD.to_dict()
    assert api.buttons(OLA, message.message_id) == [("Tak", "q1:yes"), ("Nie", "q1:no")]


async def test_html_becomes_entities_with_utf16_offsets(api: BotApiEmulator, bot: Bot) -> None:
    api.send_text(OLA, "Cześć")
    html = '  🏠 <b>Ochota</b> &lt;3 <i>i <u>Wola</u></i> <a href="https://um.warszawa.pl">więcej</a>\n'
    message = await bot.send_message(OLA, html, parse_mode=ParseMode.HTML)
    assert message.text == "🏠 Ochota <3 i Wola więcej"
    assert [(e.type, text) for e, text in message.parse_entities().items()] == [
        (MessageEntity.BOLD, "Ochota"),
        (MessageEntity.ITALIC, "i Wola"),
        (MessageEntity.UNDERLINE, "Wola"),
        (MessageEntity.TEXT_LINK, "więcej"),
    ]
    assert message.entities[0].offset == 3  # the emoji is two UTF-16 code units


@pytest.mark.parametrize(
    ("chat_id", "text", "markup", "error", "match"),
    [
        (999, "Dzień dobry", None, BadRequest, "chat not found"),
        (OLA, "   ", None, BadRequest, "message text is empty"),
        (OLA, "x" * 4097, None, BadRequest, "message is too long"),
        (OLA, "Wybierz", [[InlineKeyboardButton("Tak", callback_data="x" * 65)]], BadRequest, "button_data_invalid"),
        (OLA, "<b>Pytanie", None, BadRequest, 'find end tag corresponding to start tag "b"'),
        (OLA, "1 < 2", None, BadRequest, 'unsupported start tag "" at byte offset 2'),
        (2002, "Dzień dobry", None, Forbidden, "initiate conversation"),
    ],
)
async def test_send_message_is_validated_like_telegram(
    api: BotApiEmulator,
    bot: Bot,
    chat_id: int,
    text: str,
    markup: list[list[InlineKeyboardButton]] | None,
    error: type[Exception],
    match: str,
) -> None:
    api.send_text(OLA, "Cześć")
    api.user(2002)  # known, but never wrote to the bot
    keyboard = InlineKeyboardMarkup(markup) if markup else None
    with pytest.raises(error, match=f"(?i){match}"):
        await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    assert api.sent(OLA) == []


async def test_updates_arrive_as_ptb_objects(api: BotApiEmulator, bot: Bot) -> None:
    ola = api.user(OLA, first_name="Ola", language_code="pl")
    ola.send_command("/start", "dzien-sasiada-ochota")
    question = await bot.send_message(OLA, "Czy mieszkasz na Ochocie?", reply_markup=KEYBOARD)
    ola.press(question.message_id, "q1:yes")
    api.send_sticker(OLA)
    api.send_text(OLA, "Ochota")
    api.edit_text(OLA, 4, "Ochota, od 2010")
    api.send_command(OLA, "/start", chat_type="group")
    api.send_photo(OLA, caption="Nasze podwórko")
    api.send_voice(OLA)
    api.send_location(OLA)
    api.send_document(OLA, caption="Uwagi")
    api.send_contact(OLA)
    api.post_to_channel("Zapraszamy na Dzień Sąsiada")

    raw = await bot.get_updates()
    updates = [Update.de_json(u.to_dict(), bot) for u in raw]
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    start, press, sticker, text, edited, group, photo, voice, location, document, contact, post = updates
    assert start.message.text == "/start dzien-sasiada-ochota"
    assert start.message.parse_entities([MessageEntity.BOT_COMMAND]) == {start.message.entities[0]: "/start"}
    assert start.effective_user.language_code == "pl"
    assert press.callback_query.data == "q1:yes"
    assert press.callback_query.message.message_id == question.message_id
    assert press.callback_query.message.reply_markup == KEYBOARD
    assert sticker.message.sticker.emoji == "👍" and sticker.message.sticker.type == "regular"
    assert text.message.text == "Ochota"
    assert edited.edited_message.text == "Ochota, od 2010" and edited.edited_message.edit_date is not None
    assert group.effective_chat.type == "group"
    assert group.message.text == "/start@wspolnota_test_bot"
    assert photo.message.photo[-1].width == 800 and photo.message.caption == "Nasze podwórko"
    assert voice.message.voice.mime_type == "audio/ogg"
    assert location.message.location.latitude == pytest.approx(52.2297)
    assert document.message.document.file_name == "uwagi.pdf" and document.message.caption == "Uwagi"
    assert contact.message.contact.user_id == OLA
    assert post.channel_post.text == "Zapraszamy na Dzień Sąsiada" and post.effective_chat.type == "channel"


async def test_long_poll_returns_as_soon_as_an_update_arrives(api: BotApiEmulator, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await api.wait_for(lambda: api.calls("getUpdates"), what="a long poll")
    started = time.monotonic()
    update_id = api.send_text(OLA, "Dzień dobry")
    [update] = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    assert update.update_id == update_id and update.message.text == "Dzień dobry"


async def test_offsets_confirm_updates_like_telegram(api: BotApiEmulator, bot: Bot) -> None:
    first, _, last = (api.send_text(OLA, f"wiadomość {n}") for n in range(3))
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [first, first + 1]
    assert len(api.pending_updates) == 3  # fetching confirms nothing; only a higher offset does
    assert await bot.get_updates(offset=last + 1) == ()
    assert api.pending_updates == [] and api.confirmed_offset == last + 1
    api.send_text(OLA, "a")
    newest = api.send_text(OLA, "b")
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [newest]
    assert [u["update_id"] for u in api.pending_updates] == [newest]


async def test_a_second_poller_terminates_the_first(api: BotApiEmulator, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await api.wait_for(lambda: api.calls("getUpdates"), what="the first long poll")
    async with local_bot(api) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_edits_replace_the_message_and_refuse_no_op_edits(api: BotApiEmulator, bot: Bot) -> None:
    api.send_text(OLA, "Cześć")
    message = await bot.send_message(OLA, "Czy mieszkasz na Ochocie?", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Czy mieszkasz na Ochocie?", OLA, message.message_id, reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Czy mieszkasz na Ochocie? ✔ Tak", OLA, message.message_id)
    assert isinstance(edited, type(message)) and edited.reply_markup is None  # no markup given: the keyboard goes
    assert edited.edit_date is not None
    [stored] = api.sent(OLA)
    assert stored["text"] == "Czy mieszkasz na Ochocie? ✔ Tak" and "reply_markup" not in stored
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(OLA, message.message_id)
    await bot.edit_message_reply_markup(OLA, message.message_id, reply_markup=KEYBOARD)
    assert api.sent(OLA)[0]["reply_markup"] == KEYBOARD.to_dict()
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("?", OLA, 99)


async def test_callback_answers_are_recorded_once(api: BotApiEmulator, bot: Bot) -> None:
    api.send_text(OLA, "Cześć")
    message = await bot.send_message(OLA, "Czy mieszkasz na Ochocie?", reply_markup=KEYBOARD)
    api.press(OLA, message.message_id, "q1:no")
    with pytest.raises(LookupError, match="no button"):
        api.press(OLA, message.message_id, "q1:maybe")
    *_, update = await bot.get_updates()
    assert await update.callback_query.answer("Zapisano")
    assert [(a.query_id, a.text) for a in api.answered_callbacks] == [(update.callback_query.id, "Zapisano")]
    with pytest.raises(BadRequest, match="Query is too old"):
        await update.callback_query.answer()


async def test_send_document_keeps_the_uploaded_bytes(api: BotApiEmulator, bot: Bot) -> None:
    api.send_text(OLA, "Poproszę wyniki")
    content = "dzielnica;odpowiedzi\nŚródmieście;12\n".encode()
    message = await bot.send_document(OLA, content, filename="wyniki.csv", caption="Wyniki ankiety")
    assert message.document is not None
    assert (message.document.file_name, message.document.mime_type) == ("wyniki.csv", "text/csv")
    assert message.document.file_size == len(content) and message.caption == "Wyniki ankiety"
    [upload] = api.documents
    assert (upload.content, upload.file_name, upload.chat_id) == (content, "wyniki.csv", OLA)
    again = await bot.send_document(OLA, message.document.file_id)
    assert again.document is not None and again.document.file_name == "wyniki.csv"
    assert api.calls("sendDocument")[0]["caption"] == "Wyniki ankiety"


async def test_commands_are_kept_per_scope_and_language(api: BotApiEmulator, bot: Bot) -> None:
    polish = [BotCommand("start", "Zacznij ankietę"), BotCommand("pomoc", "Jak odpowiadać")]
    english = [BotCommand("start", "Start the questionnaire")]
    assert await bot.set_my_commands(polish)
    assert await bot.set_my_commands(english, language_code="en")
    assert await bot.set_my_commands(english, scope=BotCommandScopeAllPrivateChats())
    assert await bot.get_my_commands() == tuple(polish)
    assert await bot.get_my_commands(language_code="en") == tuple(english)
    assert await bot.get_my_commands(language_code="uk") == ()
    assert set(api.commands) == {("default", ""), ("default", "en"), ("all_private_chats", "")}
    assert await bot.delete_my_commands(language_code="en")
    assert await bot.get_my_commands(language_code="en") == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Zacznij Teraz", "?")])


async def test_rate_limit_surfaces_as_retry_after(
    api: BotApiEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns when retry_after is read as an int
    api.send_text(OLA, "Cześć")
    api.fail_next("sendMessage", 1, Fault.RATE_LIMIT, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(OLA, "Pytanie 1")
    assert caught.value.retry_after == timedelta(seconds=7)
    await bot.send_message(OLA, "Pytanie 1")
    assert api.texts(OLA) == ["Pytanie 1"]
    assert [c.method for c in api.requests[-2:]] == ["sendMessage", "sendMessage"]


@pytest.mark.parametrize(
    ("kind", "match"),
    [(Fault.BAD_GATEWAY, "Bad Gateway"), (Fault.SERVER_ERROR, "Internal Server Error"), (Fault.DROP, "disconnected")],
)
async def test_server_faults_surface_as_network_errors(api: BotApiEmulator, bot: Bot, kind: Fault, match: str) -> None:
    api.send_text(OLA, "Cześć")
    api.fail_next("*", 1, kind)
    with pytest.raises(NetworkError, match=match) as caught:
        await bot.send_message(OLA, "Pytanie 1")
    assert not isinstance(caught.value, TimedOut)
    await bot.send_message(OLA, "Pytanie 1")  # the next call goes through on a fresh connection
    assert api.texts(OLA) == ["Pytanie 1"]


async def test_slow_responses_arrive_late_or_time_out(api: BotApiEmulator) -> None:
    api.send_text(OLA, "Cześć")
    async with local_bot(api, read_timeout=0.05) as impatient:
        api.fail_next("sendMessage", 2, Fault.SLOW, delay=0.15)
        with pytest.raises(TimedOut):
            await impatient.send_message(OLA, "Pytanie 1")
        started = time.monotonic()
        await impatient.send_message(OLA, "Pytanie 1", read_timeout=2)
        assert time.monotonic() - started >= 0.15
    assert api.texts(OLA) == ["Pytanie 1", "Pytanie 1"]  # like Telegram, a timed-out send may still be delivered


async def test_failing_applies_only_inside_the_block(api: BotApiEmulator, bot: Bot) -> None:
    api.send_text(OLA, "Cześć")
    with api.failing("*", Fault.BAD_GATEWAY):
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_chat_action(OLA, "typing")
    assert await bot.send_chat_action(OLA, "typing")


async def test_blocked_user_refuses_messages_and_tells_the_bot(api: BotApiEmulator, bot: Bot) -> None:
    api.send_text(OLA, "Cześć")
    await bot.send_message(OLA, "Pytanie 1")
    api.block(OLA)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(OLA, "Pytanie 2")
    *_, update = await bot.get_updates()
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert api.texts(OLA) == ["Pytanie 1"]
    api.send_text(OLA, "Jednak wracam")  # writing to the bot again unblocks it
    await bot.send_message(OLA, "Pytanie 2")
    assert api.texts(OLA) == ["Pytanie 1", "Pytanie 2"]


async def test_delete_message_removes_it(api: BotApiEmulator, bot: Bot) -> None:
    api.send_text(OLA, "Cześć")
    message = await bot.send_message(OLA, "Pytanie 1")
    assert await bot.delete_message(OLA, message.message_id)
    assert api.sent(OLA) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(OLA, message.message_id)


async def test_wait_for_explains_a_timeout(api: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(TimeoutError, match=r"(?s)a reply in 1001.*getMe"):
        await api.wait_for(lambda: api.sent(OLA), timeout=0.05, what="a reply in 1001")


async def test_a_polling_application_answers_through_the_emulator(api: BotApiEmulator) -> None:
    async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message(f"Witaj! Źródło: {', '.join(context.args or [])}")

    builder = Application.builder().token(TOKEN).base_url(api.base_url)
    application = builder.request(loopback_request()).get_updates_request(loopback_request()).build()
    application.add_handler(CommandHandler("start", greet))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=5)
        api.send_command(OLA, "/start", "dzien-sasiada-ochota")
        reply = await api.wait_for_text(OLA, "Witaj!")
        await application.updater.stop()
        await application.stop()
    assert reply["text"] == "Witaj! Źródło: dzien-sasiada-ochota"
    assert api.pending_updates == []  # PTB confirms what it handled when it stops

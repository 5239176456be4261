"""The working groups in Telegram: the outbox's decisions and offers sent by the channel, the offer's buttons
(`attend:yes` / `attend:no`) answered once. The channel runs in the test's loop with the real
python-telegram-bot client against the local Bot API emulator, on SQLite.

Most tests replace the channel's seam to the working groups (`TelegramChannel.working_groups`) by a recorder:
they check that the transport calls `answer_from_chat` once per press, with the presser and the button's
data, and says what it returns. The last one has the working groups themselves record a yes to an offer
they queued (an application, a stored draw, `notify`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import Service, open_service
from bot.transports.telegram import TelegramChannel
from bot.working_groups import working_groups
from handlers.engine.messages import RespondentRef
from storage.applications import ApplicationFields
from storage.models import InboxItem, OutboxMessage
from storage.outbox import QueuedMail, queue_mail
from storage.selection import Attendance, PlacementValues, Role, placements_by_application
from tests.support import GROUPS_CONFIG, FakeClock, Resident, count, make_settings
from tests.support.applicants import record_applicant, store_draw_by_hand
from tests.support.telegram_emulator import AnsweredCallback, BotApiEmulator, Fault

JSON = dict[str, Any]
BUTTONS = [["Tak, będę", "attend:yes"], ["Niestety nie mogę", "attend:no"]]
OFFER = "Masz miejsce w grupie roboczej „Aktywność i współpraca”. Potwierdź do 15 października."
THANKS = "Dziękujemy, do zobaczenia na spotkaniu!"
OLA, JAN, NOBODY = 801, 802, 803
ids = itertools.count(1)


@pytest.fixture
async def service(api: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    clock.now = datetime(2026, 10, 8, 9, 0, tzinfo=UTC)
    settings = make_settings(
        tmp_path / "data",
        WSPOLNOTA_CONFIG_DIR=str(GROUPS_CONFIG),
        WSPOLNOTA_TELEGRAM_TOKEN=api.token,
        WSPOLNOTA_TELEGRAM_API_URL=api.base_url,
        WSPOLNOTA_TELEGRAM_POLL_TIMEOUT="1",
    )
    async with open_service(settings, clock=clock) as running:
        yield running


class Running:
    """The Telegram channel in the test's loop; stopped and started again as the service would be."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.channel: TelegramChannel | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, api: BotApiEmulator) -> TelegramChannel:
        polls = len(api.calls("getUpdates"))
        self._stop = asyncio.Event()
        self.channel = TelegramChannel(self.service)
        self._task = asyncio.create_task(self.channel.run(self._stop))
        await api.wait_for(lambda: len(api.calls("getUpdates")) > polls, 15, "the channel polling")
        return self.channel

    async def stop(self) -> None:
        if self._task is not None:
            self._stop.set()
            await asyncio.wait_for(self._task, 30)
            self._task = None

    def wake(self) -> None:
        assert self.channel is not None
        self.channel.wake_outbox()


@pytest.fixture
async def channel(service: Service) -> AsyncIterator[Running]:
    running = Running(service)
    yield running
    await running.stop()


@dataclass
class Recorder:
    """Stands for the working groups: records each answer, says THANKS."""

    answers: list[tuple[RespondentRef, str]] = field(default_factory=list)

    async def answer_from_chat(self, respondent: RespondentRef, answer: str) -> str:
        self.answers.append((respondent, answer))
        return THANKS


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(TelegramChannel, "working_groups", lambda self: recorder)
    return recorder


async def queue(service: Service, chat: int, body: str, buttons: list[list[str]] | None = None) -> int:
    """Queues a Telegram outbox message as the working groups do (in a transaction of their own here)."""
    async with service.store.unit() as unit:
        queue_mail(
            unit,
            QueuedMail(
                to_address=str(chat),
                message_id=f"<wsp-d-t-{next(ids)}@test>",
                subject="Decyzja",
                body=body,
                purpose="decision",
                channel="telegram",
                buttons=buttons,
            ),
            service.conversation.clock(),
        )
    async with service.store.sessions() as session:
        newest = await session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
    assert newest is not None
    return newest


async def row(service: Service, row_id: int) -> OutboxMessage:
    async with service.store.sessions() as session:
        found = await session.get(OutboxMessage, row_id)
    assert found is not None
    return found


async def until_recorded(service: Service, row_id: int, attempts: int = 1, seconds: float = 15) -> OutboxMessage:
    """Waits until the channel has recorded this many tries of a row."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (found := await row(service, row_id)).attempts < attempts:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"outbox row {row_id}: {found.attempts} tries recorded, expected {attempts}")
        await asyncio.sleep(0.05)
    return found


def sends_to(api: BotApiEmulator, chat: int) -> list[JSON]:
    return [params for params in api.calls("sendMessage") if params.get("chat_id") == chat]


async def in_chat(api: BotApiEmulator, chat: int) -> Resident:
    """Someone who applied in Telegram: the chat with the bot exists (they wrote to it)."""
    person = Resident(api, chat)
    await person.command("/start", "iod@um.warszawa.pl")
    return person


async def offered(api: BotApiEmulator, service: Service, channel: Running, chat: int) -> JSON:
    """Queues an offer with its buttons and waits until it is shown in the chat."""
    await queue(service, chat, OFFER, BUTTONS)
    channel.wake()
    return await api.wait_for_text(chat, OFFER, 15)


# --- the outbox ------------------------------------------------------------------------------------


async def test_an_offer_is_sent_once_with_its_buttons_also_across_a_restart(
    api: BotApiEmulator, service: Service, channel: Running
) -> None:
    assert service.known.telegram_username is None
    await channel.start(api)
    assert service.known.telegram_username == api.bot_username  # the console's Telegram links use it
    await in_chat(api, OLA)
    row_id = await queue(service, OLA, OFFER, BUTTONS)
    channel.wake()
    message = await api.wait_for_text(OLA, OFFER, 15)
    assert api.buttons(OLA, message["message_id"]) == [("Tak, będę", "attend:yes"), ("Niestety nie mogę", "attend:no")]
    assert message["reply_markup"]["inline_keyboard"] == [
        [{"text": "Tak, będę", "callback_data": "attend:yes"}],
        [{"text": "Niestety nie mogę", "callback_data": "attend:no"}],
    ]
    sent = await until_recorded(service, row_id)
    assert sent.sent_at is not None and sent.last_error is None
    # Restarted (a later message queued meanwhile): that one goes out, the offer does not again.
    await channel.stop()
    later = await queue(service, OLA, "Przypomnienie: jutro spotkanie grupy.")
    await channel.start(api)
    await api.wait_for_text(OLA, "Przypomnienie", 15)  # sent at start, not woken
    assert (await until_recorded(service, later)).sent_at is not None
    assert [m["text"] for m in api.sent(OLA)].count(OFFER) == 1
    assert len([p for p in sends_to(api, OLA) if p["text"] == OFFER]) == 1
    assert (await row(service, row_id)).attempts == 1


async def test_a_message_without_buttons_has_no_keyboard_and_a_long_one_is_split(
    api: BotApiEmulator, service: Service, channel: Running
) -> None:
    await channel.start(api)
    await in_chat(api, OLA)
    await queue(service, OLA, "Niestety tym razem nie udało się.")
    long_body = "\n\n".join(f"Spotkanie {n}: ul. Długa {n}, Warszawa. " + "x" * 300 for n in range(30))
    await queue(service, OLA, long_body, BUTTONS)
    channel.wake()
    plain = await api.wait_for_text(OLA, "Niestety tym razem", 15)
    assert "reply_markup" not in plain
    last = await api.wait_for_text(OLA, "Spotkanie 29", 15)
    first = await api.wait_for_text(OLA, "Spotkanie 0:", 15)
    assert first["message_id"] < last["message_id"]
    assert "reply_markup" not in first and api.buttons(OLA, last["message_id"])


async def test_a_blocked_bot_and_an_unknown_chat_are_given_up_and_a_server_fault_is_retried(
    api: BotApiEmulator, service: Service, channel: Running, clock: FakeClock
) -> None:
    await channel.start(api)
    await in_chat(api, OLA)
    await in_chat(api, JAN)
    api.block(OLA)
    blocked = await queue(service, OLA, OFFER, BUTTONS)
    unknown = await queue(service, NOBODY, OFFER, BUTTONS)
    api.fail_next("sendMessage", 1, Fault.BAD_GATEWAY, after=2)  # the third send: Jan's
    faulted = await queue(service, JAN, OFFER, BUTTONS)
    channel.wake()
    for given_up in (blocked, unknown):
        found = await until_recorded(service, given_up)
        assert found.sent_at is not None  # recorded as done: never tried again
    failed = await until_recorded(service, faulted)
    assert failed.sent_at is None and failed.last_error is not None
    assert not any(OFFER in text for text in api.texts(JAN))
    # Later (the outbox's pause has passed): Jan's goes out; the others are not tried again.
    clock.advance(hours=3)
    channel.wake()
    await api.wait_for_text(JAN, OFFER, 15)
    assert (await until_recorded(service, faulted, 2)).sent_at is not None
    clock.advance(days=2)
    await queue(service, JAN, "Przypomnienie: jutro spotkanie grupy.")
    channel.wake()
    await api.wait_for_text(JAN, "Przypomnienie", 15)
    assert [p["text"] for p in sends_to(api, OLA)].count(OFFER) == 1
    assert len(sends_to(api, NOBODY)) == 1
    assert (await row(service, blocked)).attempts == 1 and (await row(service, unknown)).attempts == 1


# --- the offer's buttons -------------------------------------------------------------------------


async def test_pressing_yes_is_answered_by_the_working_groups_and_the_buttons_go(
    api: BotApiEmulator, service: Service, channel: Running, groups: Recorder
) -> None:
    await channel.start(api)
    await in_chat(api, OLA)
    offer = await offered(api, service, channel, OLA)
    update_id = api.press(OLA, offer["message_id"], "attend:yes")
    await api.wait_for_text(OLA, THANKS, 15)
    assert groups.answers == [(service.respondent("telegram", str(OLA), str(OLA)), "attend:yes")]
    assert api.buttons(OLA, offer["message_id"]) == []  # the offer stays, without its buttons
    assert api.message(OLA, offer["message_id"])["text"] == OFFER
    [answered] = api.answered_callbacks
    assert answered == AnsweredCallback(answered.query_id, None, False, None)
    await api.wait_for(lambda: not api.pending_updates, 15, "the press confirmed")
    await channel.stop()  # marks what was answered (else the next batch's transaction does)
    async with service.store.sessions() as session:
        stored = await session.scalar(select(InboxItem).where(InboxItem.external_id == str(update_id)))
    assert stored is not None and stored.replied_at is not None
    with pytest.raises(LookupError):  # nothing left to press
        api.press(OLA, offer["message_id"], "attend:no")


async def test_a_press_telegram_delivers_again_is_answered_once(
    api: BotApiEmulator, service: Service, channel: Running, groups: Recorder
) -> None:
    await channel.start(api)
    await in_chat(api, OLA)
    offer = await offered(api, service, channel, OLA)
    api.press(OLA, offer["message_id"], "attend:no")
    [press] = api.pending_updates
    await api.wait_for_text(OLA, THANKS, 15)
    await api.wait_for(lambda: not api.pending_updates, 15, "the press confirmed")
    # Telegram hands the same update over again (it had not seen our confirmation before a restart).
    await channel.stop()
    api._updates.append(copy.deepcopy(press))  # the same update (its update_id), not a new press
    api._broadcast()
    polls = len(api.calls("getUpdates"))
    await channel.start(api)
    await api.wait_for(lambda: not api.pending_updates, 15, "the redelivered press confirmed")
    await api.wait_for(lambda: len(api.calls("getUpdates")) > polls + 2, 15, "polling on")
    assert len(groups.answers) == 1
    assert [m["text"] for m in api.sent(OLA)].count(THANKS) == 1
    assert len(api.calls("answerCallbackQuery")) == 1
    assert await count(service.store, InboxItem, InboxItem.external_id == str(press["update_id"])) == 1


async def test_a_press_whose_answer_was_not_sent_before_a_stop_is_answered_after_the_restart(
    api: BotApiEmulator, service: Service, channel: Running, groups: Recorder
) -> None:
    await channel.start(api)
    await in_chat(api, OLA)
    offer = await offered(api, service, channel, OLA)
    # Telegram refuses every send for now: the press is stored and confirmed, its answer waits.
    with api.failing("sendMessage", Fault.BAD_GATEWAY):
        api.press(OLA, offer["message_id"], "attend:yes")
        await api.wait_for(lambda: not api.pending_updates, 15, "the press confirmed")
        await api.wait_for(lambda: api.answered_callbacks, 15, "the press acknowledged")
        await channel.stop()
    assert len(groups.answers) == 1
    await channel.start(api)
    await api.wait_for_text(OLA, THANKS, 15)
    # What to say is not kept: the working groups are asked again, with the same press (an answer
    # recorded twice is the same answer), and the person is told once.
    assert groups.answers == [groups.answers[0]] * 2
    assert [m["text"] for m in api.sent(OLA)].count(THANKS) == 1
    await api.wait_for(lambda: not api.pending_updates, 15, "polling on")
    await channel.stop()
    async with service.store.sessions() as session:
        unanswered = await session.scalars(select(InboxItem).where(InboxItem.replied_at.is_(None)))
        assert list(unanswered) == []


async def test_without_the_working_groups_a_press_is_only_acknowledged(
    api: BotApiEmulator, service: Service, channel: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TelegramChannel, "working_groups", lambda self: None)
    await channel.start(api)
    await in_chat(api, OLA)
    offer = await offered(api, service, channel, OLA)
    before = len(api.sent(OLA))
    api.press(OLA, offer["message_id"], "attend:yes")
    await api.wait_for(lambda: api.answered_callbacks, 15, "the press acknowledged")
    [answered] = api.answered_callbacks
    assert (answered.text, answered.show_alert) == (None, False)
    await api.wait_for(lambda: not api.pending_updates, 15, "the press confirmed")
    assert len(api.sent(OLA)) == before


# --- with the working groups themselves -----------------------------------------------------------


async def offered_a_seat(service: Service, chat: int) -> int:
    """Ola applied in Telegram and was drawn for a seat in "aktywnosc"; the decisions are queued (`notify`).
    Returns her application's id."""
    now = service.conversation.clock()
    who = service.respondent("telegram", str(chat), str(chat))
    async with service.store.unit() as unit:
        fields = ApplicationFields(
            name="Ola Nowak",
            sector="resident",
            groups=("aktywnosc",),
            description="Prowadzę klub sąsiedzki.",
            available=True,
            privacy_version="test-2026",
        )
        application_id = await record_applicant(unit, who.pseudonym, fields, now, channel="telegram", chat=str(chat))
    seat = PlacementValues(application_id, "aktywnosc", Role.SELECTED, 1.0)
    await store_draw_by_hand(service.store, [seat], now)
    groups = working_groups(service)
    assert groups is not None
    assert await groups.notify("test") == 1
    return application_id


# storage.selection.telegram_chats calls Result.tuples(), deprecated in SQLAlchemy 2.1 (reported, not ours to edit).
async def test_yes_under_a_real_offer_is_recorded_by_the_working_groups(
    api: BotApiEmulator, service: Service, channel: Running
) -> None:
    await channel.start(api)
    await in_chat(api, OLA)
    application_id = await offered_a_seat(service, OLA)
    channel.wake()
    offer: JSON = await api.wait_for(
        lambda: next((m for m in api.sent(OLA) if "attend:yes" in str(m.get("reply_markup"))), None), 15, "the offer"
    )
    assert api.buttons(OLA, offer["message_id"]) == [("Tak, będę", "attend:yes"), ("Niestety nie mogę", "attend:no")]
    api.press(OLA, offer["message_id"], "attend:yes")
    await api.wait_for_text(OLA, service.config.catalog("attendance_confirmed", "pl"), 15)
    [seat] = (await placements_by_application(service.store))[application_id]
    assert seat.attendance == Attendance.CONFIRMED and seat.released_at is None
    assert api.buttons(OLA, offer["message_id"]) == []

"""End to end: no message a resident can send and no answer the Bot API can give stops the Telegram channel."""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.error
import urllib.request

import pytest

from storage.models import InboxItem
from storage.repository import Store
from tests.support import Resident, ServiceProcess, count, free_port
from tests.support.telegram_emulator import BOT_USERNAME, BotApiEmulator, Fault

POISON_TEXTS = [
    "/",
    "/ ",
    "/    ",
    "/\n",
    "/@",
    "/@" + BOT_USERNAME,
    "/start@other_bot payload",
    "/" + "x" * 4095,
    "/" + " " * 4095,
    "\u0000/start",
    "/start\u0000",
    "",
]


@pytest.fixture
def service(bot: ServiceProcess) -> ServiceProcess:
    return bot  # started by each test, some after changing its environment


@pytest.fixture
def store(bot_store: Store) -> Store:
    return bot_store


def with_web(service: ServiceProcess) -> int:
    """Switches the service's web chat on (for `/healthz`) on a free port."""
    port = free_port()
    service.env |= {"WSPOLNOTA_WEB_ENABLED": "true", "WSPOLNOTA_WEB_PORT": str(port)}
    return port


def health(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


async def health_is(port: int, status: int, text: str = "", seconds: float = 20) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        got, body = await loop.run_in_executor(None, health, port)
        if got == status and text in body:
            return body
        if loop.time() > deadline:
            raise AssertionError(f"/healthz said {got} {body!r}, expected {status} with {text!r}")
        await asyncio.sleep(0.2)


async def test_a_lone_slash_and_other_odd_commands_are_answered_and_polling_goes_on(
    api: BotApiEmulator, service: ServiceProcess, store: Store
) -> None:
    await service.start()
    sender = Resident(api, 601)
    for text in POISON_TEXTS:
        api.send_text(sender.id, text)
    api.send_text(sender.id, "/start", entities=[{"type": "bot_command", "offset": 40, "length": 9}])
    api.send_text(sender.id, "/x", entities=[{"type": "bot_command", "offset": -3, "length": 1_000}])
    await api.wait_for(lambda: not api.pending_updates, 15, "every odd update confirmed")
    await sender.expect("/help", 0)  # the lone "/" is an unknown command, said so politely
    newcomer = Resident(api, 602)
    await newcomer.begin()  # the next resident is answered
    assert service.process is not None and service.process.returncode is None
    log = service.log.read_text()
    assert "Traceback" not in log
    # Restarted, none of it comes back.
    await service.stop()
    polls = len(api.calls("getUpdates"))
    await service.start()
    await api.wait_for(lambda: len(api.calls("getUpdates")) > polls + 1, 15, "polling after the restart")
    assert not api.pending_updates
    assert await count(store, InboxItem, InboxItem.replied_at.is_(None)) == 0


async def test_updates_the_library_cannot_read_are_confirmed_and_their_sender_told(
    api: BotApiEmulator, service: ServiceProcess
) -> None:
    await service.start()
    person = Resident(api, 603, "en")
    await person.command("/start", "iod@um.warszawa.pl")
    since = len(person.messages())
    private = {"id": person.id, "type": "private", "first_name": "Ola"}
    sender = {"id": person.id, "is_bot": False, "first_name": "Ola", "language_code": "en"}
    odd_updates = [
        {"message": {"message_id": "not a number", "from": sender, "chat": private}},  # unreadable
        {"message": {"message_id": 7, "from": sender, "chat": private}},  # no date
        {"message": {"message_id": 8, "date": 1, "chat": "nonsense", "text": "hi"}},
        {"message": None},
        {"business_message": {"anything": True}},  # a kind this bot never asked for
        {"callback_query": {"id": "1", "from": sender, "chat_instance": "x", "data": "o:nope"}},
        {"message_reaction": {"chat": private, "message_id": 1, "date": 1, "old_reaction": [], "new_reaction": []}},
        {},
    ]
    for update in odd_updates:
        api.push_raw(update)
    await api.wait_for(lambda: not api.pending_updates, 15, "every unreadable update confirmed")
    await person.expect("could not read", since)
    await person.tap("I agree, let's start", "Question 1 of")  # and on it goes
    assert service.process is not None and service.process.returncode is None
    log = service.log.read_text()
    assert "Reading update" in log
    assert "Ola" not in log and "not a number" not in log  # the update's id, never its content


@pytest.mark.parametrize("kind", [Fault.CONFLICT, Fault.BAD_GATEWAY])
async def test_get_updates_refused_for_a_while_is_retried_and_shown_by_health(
    api: BotApiEmulator, service: ServiceProcess, kind: Fault
) -> None:
    port = with_web(service)
    await service.start()
    await health_is(port, 200, "ok")
    person = Resident(api, 604)
    with api.failing("getUpdates", kind):
        polls = len(api.calls("getUpdates"))
        await api.wait_for(lambda: len(api.calls("getUpdates")) >= polls + 2, 15, "getUpdates tried again")
        body = await health_is(port, 503, "degraded")
        assert json.loads(body)["channels"]["telegram"]["state"] == "degraded"
        api.send_command(person.id, "/start")
    await person.expect("iod@um.warszawa.pl", 0, timeout=30)
    await health_is(port, 200, "ok")
    log = service.log.read_text()
    if kind is Fault.CONFLICT:
        assert "another instance" in log


async def test_a_revoked_token_fails_the_channel_and_the_exit_status(
    api: BotApiEmulator, service: ServiceProcess
) -> None:
    port = with_web(service)
    await service.start()
    with api.failing("getUpdates", Fault.UNAUTHORIZED):
        body = await health_is(port, 503, "failed")
        assert "WSPOLNOTA_TELEGRAM_TOKEN" in json.loads(body)["channels"]["telegram"]["detail"]
        polls = len(api.calls("getUpdates"))
        await asyncio.sleep(2)
        assert len(api.calls("getUpdates")) == polls  # not hammered with a token it refuses
    assert service.process is not None
    service.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(service.process.wait(), 30) == 3
    assert "Telegram refuses the bot token" in service.log.read_text()


async def test_a_refused_token_at_start_with_no_other_channel_stops_the_service_with_status_3(
    api: BotApiEmulator, service: ServiceProcess
) -> None:
    with api.failing("*", Fault.UNAUTHORIZED):
        await service.start_without_waiting()
        assert service.process is not None
        assert await asyncio.wait_for(service.process.wait(), 30) == 3
    assert "Traceback" not in service.log.read_text()


async def test_a_reply_that_fails_is_retried_and_its_delivered_part_not_sent_again(
    api: BotApiEmulator, service: ServiceProcess
) -> None:
    await service.start()
    person = Resident(api, 605)
    await person.begin()
    before = len(person.messages())
    # A sticker gets two messages: the note, then the question again. The second fails for 4 s.
    api.fail_next("sendMessage", 4, Fault.SERVER_ERROR, after=1)
    api.send_sticker(person.id)
    await api.wait_for(lambda: len(person.messages()) >= before + 2, 30, "both messages after the retries")
    # Replies go out in order per chat: once the answer to a later message is here, a resent part would be too.
    await person.command("/help", "/mydata")
    texts = [m.get("text", "") for m in person.messages()[before:]]
    assert "naklejek" in texts[0]
    assert "Pytanie 1 z" in texts[1]
    assert "/mydata" in texts[2], texts  # nothing sent twice in between


async def test_replies_wait_out_a_bot_api_outage_in_order(api: BotApiEmulator, service: ServiceProcess) -> None:
    await service.start()
    people = [Resident(api, 610 + n) for n in range(3)]
    for person in people:
        await person.begin()
    sent = len(api.calls("sendMessage"))
    with api.failing("sendMessage", Fault.SERVER_ERROR):
        for person in people:
            api.send_text(person.id, "Mokotów")  # a district typed, not tapped
            api.send_text(person.id, "Sąsiedzi, którzy się znają.")
        await api.wait_for(lambda: not api.pending_updates, 15, "the updates taken during the outage")
        # Each chat's reply fails and is tried again more than once before the outage ends.
        await api.wait_for(lambda: len(api.calls("sendMessage")) >= sent + 9, 30, "replies tried again")
    for person in people:
        await person.expect("Pytanie 3 z", 0, timeout=30)
        texts = [m.get("text", "") for m in person.messages()]
        assert sum("Pytanie 2 z" in t for t in texts) == 1
        assert sum("Pytanie 3 z" in t for t in texts) == 1
        assert texts.index(next(t for t in texts if "Pytanie 2 z" in t)) < texts.index(
            next(t for t in texts if "Pytanie 3 z" in t)
        )

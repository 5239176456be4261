"""A bounded soak: residents answer side by side while the Bot API fails with 5xx for 30 seconds.

Every resident must get every next question exactly once: none lost in the outage, none sent
twice after it.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.support import Resident, ServiceProcess
from tests.support.telegram_emulator import BotApiEmulator, Fault

RESIDENTS = 20
QUESTIONS = 8  # each walks to question 8 of the tests' questionnaire
OUTAGE = 30.0  # seconds of 5xx from every Bot API method
OUTAGE_AFTER = 5.0  # seconds after the residents start, when every one is mid-way


@pytest.fixture
async def service(bot: ServiceProcess) -> ServiceProcess:
    await bot.start()
    return bot


def asking(person: Resident, n: int) -> dict[str, object] | None:
    return next((m for m in person.messages() if f"Pytanie {n} z" in m.get("text", "")), None)


async def answer(person: Resident, n: int, rng: random.Random) -> None:
    """Answers question n as a person would (the first option, or a few words) and waits for n + 1."""
    api = person.api
    message = await api.wait_for(lambda: asking(person, n), 120, f"question {n} for {person.id}")
    await asyncio.sleep(rng.uniform(1.0, 2.5))  # reading and typing
    data = [d for _, d in api.buttons(person.id, int(message["message_id"]))]  # type: ignore[call-overload]
    options = [d for d in data if d.startswith("o:")]
    if options:
        taps = len(api.answered_callbacks)
        api.press(person.id, int(message["message_id"]), options[0])  # type: ignore[call-overload]
        done = [d for d in data if d.startswith("a:done")]
        if done:
            await api.wait_for(lambda: len(api.answered_callbacks) > taps, 120, "the tick")
            api.press(person.id, int(message["message_id"]), done[0])  # type: ignore[call-overload]
    else:
        api.send_text(person.id, "Sąsiedzi, którzy sobie pomagają.")
    await api.wait_for(lambda: asking(person, n + 1), 120, f"question {n + 1} for {person.id}")


async def walk(person: Resident, seed: int) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 2))
    await person.begin()
    for n in range(1, QUESTIONS):
        await answer(person, n, rng)


async def test_a_30_second_bot_api_outage_delays_replies_without_losing_or_repeating_one(
    api: BotApiEmulator, service: ServiceProcess
) -> None:
    people = [Resident(api, 7000 + n) for n in range(RESIDENTS)]
    walks = [asyncio.create_task(walk(person, n)) for n, person in enumerate(people)]
    await asyncio.sleep(OUTAGE_AFTER)
    started = time.monotonic()
    with api.failing("*", Fault.SERVER_ERROR):
        await asyncio.sleep(OUTAGE)
    assert not any(w.done() for w in walks), "every resident is mid-way when the outage ends"
    await asyncio.wait_for(asyncio.gather(*walks), 60)
    recovered = time.monotonic() - started - OUTAGE
    for person in people:
        texts = [m.get("text", "") for m in person.messages()]
        for n in range(1, QUESTIONS + 1):
            shown = sum(f"Pytanie {n} z" in text for text in texts)
            assert shown == 1, f"resident {person.id} was shown question {n} {shown} times"
        assert sum("iod@um.warszawa.pl" in text for text in texts) == 1
    failed = [c for c in api.requests if c.method == "sendMessage"]
    assert len(failed) >= RESIDENTS * QUESTIONS  # every question, plus the attempts in the outage
    assert service.process is not None and service.process.returncode is None
    assert "Traceback" not in service.log.read_text()
    print(f"all {RESIDENTS} residents through {QUESTIONS} questions; last reply {recovered:.1f} s after the outage")

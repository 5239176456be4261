"""End to end: the real service process, its real python-telegram-bot client, the local Bot API emulator."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from handlers.engine.states import Status
from storage.models import Answer, Contact, InboxItem, Respondent, Submission
from storage.repository import Store
from tests.support import STAFF, Resident, ServiceProcess, count
from tests.support.telegram_emulator import BotApiEmulator, Fault

JSON = dict[str, Any]
EVENT = "dzien-sasiada-zoliborz-2026-05-30"


@pytest.fixture
async def service(bot: ServiceProcess) -> ServiceProcess:
    await bot.start()
    return bot


@pytest.fixture
def store(bot_store: Store) -> Store:
    return bot_store


async def answers_of(store: Store) -> dict[str, Answer]:
    async with store.sessions() as session:
        return {a.question_code: a for a in await session.scalars(select(Answer))}


WORDS = {
    "pl": {
        "accept": "Zgadzam się, zaczynam",
        "progress": "Pytanie",
        "of": "z",
        "done": "Gotowe",
        "confirm": "Wysyłam odpowiedzi",
        "thanks": "Dziękujemy!",
        "summary": "Sprawdź swoje odpowiedzi",
    },
    "en": {
        "accept": "I agree, let's start",
        "progress": "Question",
        "of": "of",
        "done": "Done",
        "confirm": "Submit my answers",
        "thanks": "Thank you!",
        "summary": "Please check your answers",
    },
    "uk": {
        "accept": "Погоджуюся, почнімо",
        "progress": "Запитання",
        "of": "з",
        "done": "Готово",
        "confirm": "Надсилаю відповіді",
        "thanks": "Дякуємо!",
        "summary": "Перевірте свої відповіді",
    },
}


async def walk_to_the_end(person: Resident, words: dict[str, str]) -> None:
    """Answers every question of the tests' questionnaire with buttons and text."""

    def step(n: int) -> str:
        return f"{words['progress']} {n} {words['of']} 12"

    await person.tap("Żoliborz" if words["progress"] != "Запитання" else "Жолібож", step(2))
    await person.say("Ludzie, którzy się znają i pomagają.", step(3))
    values = person.last_with_buttons()
    labels = [label for label, _ in person.api.buttons(person.id, values["message_id"])]
    await person.tap(labels[1])
    await person.tap("✓ " + labels[1])  # untick
    await person.tap(labels[2])
    await person.tap(labels[0])
    await person.tap(words["done"], step(4))
    await person.tap("4", step(5))
    participation = person.last_with_buttons()
    await person.tap(person.api.buttons(person.id, participation["message_id"])[2][0], step(6))
    await person.say("Wspólne podwórko i kawiarnia.", step(7))
    await person.say("Brak czasu.", step(8))
    priority = person.last_with_buttons()
    await person.tap(person.api.buttons(person.id, priority["message_id"])[2][0], step(9))
    await person.say("Zielono, bezpiecznie, ludzie się znają.", step(10))
    ages = person.last_with_buttons()
    await person.tap(person.api.buttons(person.id, ages["message_id"])[1][0], step(11))
    yes = person.api.buttons(person.id, person.last_with_buttons()["message_id"])[0][0]
    await person.tap(yes, step(12))
    await person.tap(words["done"], words["summary"])  # no contact wanted
    await person.tap(words["confirm"], words["thanks"])


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
async def test_a_full_questionnaire_by_buttons_and_text(
    api: BotApiEmulator, service: ServiceProcess, store: Store, language: str
) -> None:
    person = Resident(api, 501, language)
    words = WORDS[language]
    await person.command("/start", "Wspólnota", payload=EVENT)
    await person.tap(words["accept"], f"{words['progress']} 1 {words['of']} 12")
    await walk_to_the_end(person, words)
    answers = await answers_of(store)
    assert answers["district"].options == ["zoliborz"]
    assert answers["values"].options == ["openness", "trust"]
    assert answers["connection"].number == 4
    assert answers["participation"].options == ["sometimes"]
    assert answers["hinders"].text == "Brak czasu."
    assert answers["contact_consent"].options == []
    async with store.sessions() as session:
        [submission] = (await session.scalars(select(Submission))).all()
    assert (submission.status, submission.channel, submission.language) == (Status.COMPLETED, "telegram", language)
    assert (submission.event, submission.event_known) == (EVENT, True)
    assert all(callback.query_id for callback in api.answered_callbacks)  # every press was answered
    # The pressed question messages were edited to show what was chosen, with their buttons gone.
    assert any(
        m.get("text", "").endswith("✓ Żoliborz") or m.get("text", "").endswith("✓ Жолібож") for m in person.messages()
    )


async def test_navigation_commands(api: BotApiEmulator, service: ServiceProcess, store: Store) -> None:
    person = Resident(api, 502)
    await person.command("/start", "iod@um.warszawa.pl")
    await person.command("/language", "About your data", payload="en")
    await person.tap("I agree, let's start", "Question 1 of 12")
    await person.command("/skip", "Question 2 of 12")
    await person.command("/back", "Question 1 of 12")
    await person.say("Wola", "Question 2 of 12")
    await person.command("/help", "/back")
    await person.command("/events", "Question 2 of 12")
    await person.command("/privacy", "Data protection officer: iod@um.warszawa.pl")
    await person.command("/language", "Choose a language")
    await person.tap("Українська", "Запитання 2 з 12")
    await person.command("/cancel", "/start")
    assert await count(store, Answer) == 0
    assert await count(store, Submission, Submission.status == Status.CANCELLED) == 1


async def test_multi_select_limits_and_stale_buttons(
    api: BotApiEmulator, service: ServiceProcess, store: Store
) -> None:
    person = Resident(api, 503)
    await person.begin()
    first_question = person.last_with_buttons()
    await person.tap("Wola", "Pytanie 2 z 12")
    await person.say("Sąsiedzi", "Pytanie 3 z 12")
    await person.tap("Gotowe")
    assert "co najmniej 1" in (api.answered_callbacks[-1].text or "")
    message = person.last_with_buttons()
    labels = [label for label, _ in api.buttons(person.id, message["message_id"])]
    for label in labels[:3]:
        await person.tap(label)
    await person.tap(labels[3])
    assert "najwyżej 3" in (api.answered_callbacks[-1].text or "")
    # A button from the first question's message, answered long ago.
    since = len(person.messages())
    api.press(person.id, first_question["message_id"], "o:district:mokotow", strict=False)
    await person.expect("Pytanie 3 z 12", since)  # the current question again
    assert "Ten przycisk był przy wcześniejszym pytaniu" in (api.answered_callbacks[-1].text or "")
    assert (await answers_of(store))["district"].options == ["wola"]


async def test_non_text_messages_and_group_chats(api: BotApiEmulator, service: ServiceProcess, store: Store) -> None:
    person = Resident(api, 504)
    await person.begin()
    for send in (api.send_sticker, api.send_photo, api.send_voice, api.send_location):
        since = len(person.messages())
        send(person.id)
        await person.expect("tekstem albo przyciskami", since)
    since = len(person.messages())
    api.send_text(person.id, "x" * 4000)
    await person.expect("Nie rozpoznajemy", since)
    assert await count(store, Answer) == 0
    group = -1001234
    api.send_text(person.id, "Cześć wszystkim", chat_type="supergroup", chat_id=group)
    api.send_text(person.id, "Halo?", chat_type="supergroup", chat_id=group)
    await api.wait_for(lambda: api.sent(group), 15, "the invitation in the group")
    [invitation] = api.sent(group)
    assert "prywatnej rozmowie z botem" in invitation["text"]
    assert "t.me/" in invitation["reply_markup"]["inline_keyboard"][0][0]["url"]


async def test_staff_commands_only_for_staff(api: BotApiEmulator, service: ServiceProcess, store: Store) -> None:
    resident = Resident(api, 505)
    await resident.command("/stats", "Nie znamy tego polecenia")
    staff = Resident(api, STAFF)
    await staff.command("/stats", "Ukończone: 0")  # staff's language, Polish by default
    since = len(staff.messages())
    api.send_command(STAFF, "/export")
    await api.wait_for(lambda: len(staff.messages()) > since and api.documents, 15, "the export file")
    assert api.documents[-1].file_name.endswith(".csv")
    assert api.documents[-1].content.startswith("\ufeffsubmission,".encode())


async def test_my_data_and_forget(api: BotApiEmulator, service: ServiceProcess, store: Store) -> None:
    person = Resident(api, 506)
    await person.begin()
    await person.tap("Ursynów", "Pytanie 2 z 12")
    await person.command("/mydata", "Ursynów")
    await person.command("/forget", "Tego nie da się cofnąć")
    await person.tap("Tak, usuń wszystko", "Usunęliśmy wszystkie")
    for model in (Respondent, Contact, Submission, Answer):
        assert await count(store, model) == 0
    assert await count(store, InboxItem, InboxItem.payload.is_not(None)) == 0  # no message text kept


async def test_restart_mid_conversation(api: BotApiEmulator, service: ServiceProcess, store: Store) -> None:
    person = Resident(api, 507)
    await person.begin()
    await person.tap("Wawer", "Pytanie 2 z 12")
    await service.stop()
    since = len(person.messages())
    api.send_text(person.id, "Napisane, gdy bot nie działał.")  # waits in Telegram meanwhile
    await service.start()
    await person.expect("Pytanie 3 z 12", since)
    assert (await answers_of(store))["community_meaning"].text == "Napisane, gdy bot nie działał."


async def test_kill_9_at_any_moment_loses_and_duplicates_nothing(
    api: BotApiEmulator, service: ServiceProcess, store: Store
) -> None:
    person = Resident(api, 508)
    await person.begin()
    await person.tap("Bemowo", "Pytanie 2 z 12")
    texts = ["Pierwsza myśl."]
    # Kill right after Telegram handed the update over (before or while it is handled) …
    polls = len(api.calls("getUpdates"))
    api.send_text(person.id, texts[0])
    await api.wait_for(lambda: len(api.calls("getUpdates")) > polls, 15, "the update delivered")
    await service.kill()
    await service.start()
    await person.expect("Pytanie 3 z 12", 0)
    # … and right after it was answered (before the inbox row is marked replied).
    await person.say("1, 3", "Pytanie 4 z 12")
    await service.kill()
    await service.start()
    await person.say("5", "Pytanie 5 z 12")
    # … and the instant it was sent, while Telegram may be handing it over.
    since = len(person.messages())
    api.send_text(person.id, "2")
    await service.kill()
    await service.start()
    await person.expect("Pytanie 6 z 12", since)
    answers = await answers_of(store)
    assert answers["community_meaning"].text == texts[0]
    assert answers["values"].options == ["openness", "trust"]
    assert answers["connection"].number == 5
    assert answers["participation"].options == ["rarely"]
    assert "helps" not in answers
    assert await count(store, Submission) == 1
    assert await count(store, Answer) == 5


async def test_bot_api_faults_for_a_while(api: BotApiEmulator, service: ServiceProcess, store: Store) -> None:
    person = Resident(api, 509)
    await person.begin()
    api.fail_next("sendMessage", 2, Fault.RATE_LIMIT, retry_after=1)
    api.fail_next("getUpdates", 2, Fault.BAD_GATEWAY)
    api.fail_next("editMessageText", 1, Fault.DROP)
    await person.tap("Wola", "Pytanie 2 z 12")
    api.fail_next("sendMessage", 1, Fault.SLOW, delay=2)
    await person.say("Dobrze się tu mieszka.", "Pytanie 3 z 12")
    answers = await answers_of(store)
    assert answers["district"].options == ["wola"]
    assert answers["community_meaning"].text == "Dobrze się tu mieszka."


async def test_localized_commands_and_a_flood_is_slowed(
    api: BotApiEmulator, service: ServiceProcess, store: Store
) -> None:
    languages = {language for _, language in api.commands}
    assert {"pl", "en", "uk"} <= languages
    [english] = [commands for (_, language), commands in api.commands.items() if language == "en"]
    assert {"command": "forget", "description": "Delete all my data"} in english

    person = Resident(api, 510)
    await person.command("/start", "iod@um.warszawa.pl")
    for n in range(60):
        api.send_text(person.id, f"spam {n}")
    await person.expect("zwolnij", 0)
    await api.wait_for(lambda: not api.pending_updates, 15, "every update taken")
    kept = await count(store, InboxItem)
    assert kept <= 25  # the first ones of the window, not all sixty

"""An application to the working groups in Telegram (the real service process and the Bot API emulator) and
in the web chat (over HTTP): `/grupy`, `?start=grupy` and the web chat's `/grupy`, the code by email, the
consultation beside it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.service import Service, open_service
from bot.transports.web import WebChat
from storage.applications import Application, ApplicationStatus
from storage.models import OutboxMessage, Submission
from storage.repository import Store
from tests.support import (
    GROUPS_CONFIG,
    FakeClock,
    Resident,
    ServiceProcess,
    Visitor,
    call_around,
    make_settings,
    submissions,
)
from tests.support.telegram_emulator import BotApiEmulator

ADDRESS = "ola@example.org"


async def code_for(store: Store, address: str = ADDRESS) -> str:
    async with store.sessions() as session:
        query = select(OutboxMessage.body).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
        bodies = (await session.scalars(query)).all()
    assert bodies, "no code was mailed"
    found = re.search(r"\b(\d{6})\b", bodies[-1])
    assert found
    return found.group(1)


async def applications(store: Store) -> list[Application]:
    async with store.sessions() as session:
        return list((await session.scalars(select(Application))).all())


@pytest.fixture
async def groups_bot(bot: ServiceProcess, tmp_path: Path) -> ServiceProcess:
    bot.env["WSPOLNOTA_CONFIG_DIR"] = str(call_around(datetime.now(UTC), tmp_path / "config"))
    await bot.start()
    return bot


async def test_an_application_in_telegram(api: BotApiEmulator, groups_bot: ServiceProcess, bot_store: Store) -> None:
    [polish] = [commands for (_, language), commands in api.commands.items() if language == "pl"]
    assert {"command": "grupy", "description": "Zgłoś się do grup roboczych"} in polish
    ola = Resident(api, 701)
    await ola.command("/grupy", "Nabór do grup roboczych (test)")
    await ola.tap("Zgadzam się, zaczynam", "Jak się nazywasz?")
    await ola.say("Ola Nowak", "Twój adres e-mail")
    await ola.say(ADDRESS, "Wysłaliśmy 6-cyfrowy kod")
    await ola.say("000000" if (code := await code_for(bot_store)) != "000000" else "111111", "Ten kod się nie zgadza")
    await ola.say(code, "Jaką organizację")
    await ola.tap("Pomiń", "Z jakim doświadczeniem")
    await ola.tap("Mieszkanka lub mieszkaniec", "Do której grupy")
    await ola.tap("Aktywność i współpraca")
    await ola.tap("Gotowe", "Opisz krótko")
    await ola.say("Prowadzę klub sąsiedzki.", "Czy możesz przyjść")
    await ola.tap("Tak", "Sprawdź swoje odpowiedzi")
    await ola.tap("Wysyłam odpowiedzi", "Twoje zgłoszenie jest zapisane")
    [application] = await applications(bot_store)
    assert application.status == ApplicationStatus.COMPLETE and application.email_verified
    assert (application.channel, application.groups, application.sector) == ("telegram", ["aktywnosc"], "resident")
    # /start: the consultation, beside the application.
    await ola.command("/start", "iod@um.warszawa.pl")
    await ola.tap("Zgadzam się, zaczynam", "Pytanie 1 z 12")
    async with bot_store.sessions() as session:
        kinds = {s.questionnaire_id for s in (await session.scalars(select(Submission))).all()}
    assert kinds == {"sasiedztwo", "grupy-robocze"}
    # The deep link a poster's QR code carries.
    jan = Resident(api, 702, "en")
    await jan.command("/start", "The working groups' call (test)", payload="grupy")
    await jan.tap("I agree, let's start", "What is your name?")


async def test_without_a_call_telegram_says_applications_are_not_open(api: BotApiEmulator, bot: ServiceProcess) -> None:
    await bot.start()
    [polish] = [commands for (_, language), commands in api.commands.items() if language == "pl"]
    assert "grupy" not in {command["command"] for command in polish}
    ola = Resident(api, 703)
    await ola.command("/grupy", "Nabór do grup roboczych nie jest teraz otwarty.")


@pytest.fixture
async def groups_web(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Service, TestClient[Any, Any]]]:
    clock.now = datetime(2026, 9, 10, 10, 0, tzinfo=UTC)
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(GROUPS_CONFIG), WSPOLNOTA_WEB_RATE_LIMIT="0")
    async with (
        open_service(settings, clock=clock) as service,
        TestClient(TestServer(WebChat(service).app())) as client,
    ):
        yield service, client


async def test_an_application_in_the_web_chat(groups_web: tuple[Service, TestClient[Any, Any]]) -> None:
    service, client = groups_web
    visitor = Visitor(client)
    await visitor.open("/grupy")
    assert "Nabór do grup roboczych (test)" in visitor.page.get_text()
    await visitor.press("Zgadzam się, zaczynam")
    await visitor.type("Ola Nowak")
    assert visitor.page.find("input", type="email") is not None
    await visitor.type(ADDRESS)
    assert "Wysłaliśmy 6-cyfrowy kod" in visitor.text
    await visitor.press("Wyślij nowy kod")
    assert "Wysłaliśmy nowy kod" in visitor.text
    await visitor.type(await code_for(service.store))
    assert "adres e-mail jest potwierdzony" in visitor.text
    await visitor.press("Pomiń")
    await visitor.press("Organizacja pozarządowa")
    await visitor.press("Otwartość i relacje")
    await visitor.press("Gotowe")
    await visitor.type("Prowadzę klub sąsiedzki.")
    await visitor.press("Tak")
    assert visitor.page.select(".summary li")
    await visitor.press("Wysyłam odpowiedzi")
    assert "8 października 2026" in visitor.text
    [application] = await applications(service.store)
    assert application.status == ApplicationStatus.COMPLETE and application.channel == "web"
    # The same cookie: `/` is the consultation, `/grupy` the application again.
    await visitor.open("/")
    assert "Zgadzam się, zaczynam" in [b.get_text(strip=True) for b in visitor.page.find_all("button")]
    assert "Nabór do grup roboczych (test)" not in visitor.page.get_text()
    await visitor.press("Zgadzam się, zaczynam")
    assert visitor.heading == "Pytanie 1 z 12"
    await visitor.open("/grupy")
    assert "Twoje zgłoszenie jest zapisane" in visitor.text
    await visitor.press("Wycofuję zgłoszenie")
    await visitor.press("Tak, wycofuję")
    assert "Wycofaliśmy" in visitor.text
    [application] = await applications(service.store)
    assert application.status == ApplicationStatus.WITHDRAWN


async def test_two_tabs_each_answer_their_own_questionnaire(groups_web: tuple[Service, TestClient[Any, Any]]) -> None:
    service, client = groups_web
    consultation, application = Visitor(client), Visitor(client)  # one browser, one cookie, two tabs
    await consultation.open("/")
    await application.open("/grupy")
    assert application.page.find("form", action="/grupy/say") is not None
    await consultation.press("Zgadzam się, zaczynam")  # the older tab: the consultation, not the application
    assert consultation.heading == "Pytanie 1 z 12"
    await application.press("Zgadzam się, zaczynam")
    await application.type("Ola Nowak")
    assert application.page.find("input", type="email") is not None
    by_questionnaire = {s.questionnaire_id: s for s in await submissions(service)}
    assert set(by_questionnaire) == {"sasiedztwo", "grupy-robocze"}
    assert by_questionnaire["sasiedztwo"].current == "district"
    assert by_questionnaire["grupy-robocze"].current == "email"


async def test_without_a_call_the_web_chats_grupy_is_the_consultation_under_a_note(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_WEB_RATE_LIMIT="0")
    async with open_service(settings, clock=clock) as service, TestClient(TestServer(WebChat(service).app())) as client:
        visitor = Visitor(client)
        await visitor.open("/grupy")
        assert "Nabór do grup roboczych nie jest teraz otwarty." in visitor.text
        await visitor.press("Zgadzam się, zaczynam")  # the consultation goes on as usual
        assert visitor.heading == "Pytanie 1 z 12"
        assert {s.questionnaire_id for s in await submissions(service)} == {"sasiedztwo"}

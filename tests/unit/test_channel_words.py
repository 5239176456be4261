"""Each channel's words in its own place: the web chat and email never name a /command, Telegram's
help lists every command, and a channel's own wording of an engine text takes the same placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot.mailroom import CHANNEL as EMAIL
from bot.service import MESSAGES, Service
from bot.transports.telegram import COMMANDS
from bot.transports.web import CHANNEL as WEB
from handlers.definitions.i18n import LANGUAGES, Catalog, Text, load_catalog
from handlers.definitions.questionnaire import Questionnaire, load_questionnaires
from handlers.email.messages import MESSAGES as EMAIL_MESSAGES
from handlers.engine.messages import Action
from handlers.engine.presenter import MESSAGES as ENGINE_MESSAGES
from handlers.engine.presenter import Presenter
from handlers.telegram.messages import MESSAGES as TELEGRAM_MESSAGES
from handlers.web.messages import MESSAGES as WEB_MESSAGES
from tests.support import REPOSITORY, SHIPPED_CONFIG, Person

# A slash command such as /start or /help; not the slash inside an address (2030.um.warszawa.pl/program).
SLASH_COMMAND = re.compile(r"(?<![\w.:/])/[a-z]")
TEMPLATE = REPOSITORY / "bot" / "transports" / "web_assets" / "templates" / "chat.html"
CHANNEL_MESSAGES = {"telegram": TELEGRAM_MESSAGES, WEB: WEB_MESSAGES, EMAIL: EMAIL_MESSAGES}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CONFIG / "messages.yaml", MESSAGES)


def _render(catalog: Catalog, key: str) -> Iterator[str]:
    values = {name: "1" for name in ENGINE_MESSAGES.get(key) or MESSAGES[key]}
    for language in LANGUAGES:
        yield catalog(key, language, **values)


def _texts(value: Any) -> Iterator[str]:
    """Every translated text inside a questionnaire (its title, notice, questions, options, hints)."""
    if isinstance(value, Text):
        yield from (value(language) for language in LANGUAGES)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
    elif hasattr(value, "__pydantic_fields__"):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name))


def _shown(channel: str, catalog: Catalog, keys: set[str]) -> dict[str, list[str]]:
    """What a channel can show: the engine's texts as the channel words them, its own keys, the questionnaires'."""
    seen = catalog.for_channel(channel)
    shown = {key: list(_render(seen, key)) for key in sorted(set(ENGINE_MESSAGES) | keys)}
    questionnaires: dict[str, Questionnaire] = load_questionnaires(SHIPPED_CONFIG / "questionnaires")
    for code, questionnaire in questionnaires.items():
        shown[f"questionnaire {code}"] = list(_texts(questionnaire))
    return shown


def test_the_web_chat_never_names_a_slash_command(catalog: Catalog) -> None:
    used_by_template = set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", TEMPLATE.read_text()))
    assert {"web_title", "cmd_privacy", "cmd_forget"} <= used_by_template  # the scan found the template's keys
    shown = _shown(WEB, catalog, set(WEB_MESSAGES) | used_by_template)
    named = {key: text for key, texts in shown.items() for text in texts if SLASH_COMMAND.search(text)}
    assert named == {}


def test_email_never_names_a_slash_command(catalog: Catalog) -> None:
    shown = _shown(EMAIL, catalog, set(EMAIL_MESSAGES))
    named = {key: text for key, texts in shown.items() for text in texts if SLASH_COMMAND.search(text)}
    assert named == {}


def test_telegram_help_lists_every_command(catalog: Catalog) -> None:
    for text in _render(catalog.for_channel("telegram"), "help"):
        assert [command for command in COMMANDS if f"/{command} " not in text] == []
    # In Telegram the shared texts keep their /commands; in the web chat they say it in words.
    telegram, web = Presenter(catalog).for_channel("telegram"), Presenter(catalog).for_channel(WEB)
    assert "/start" in telegram.goodbye("declined", "pl").text
    assert "/" not in web.goodbye("declined", "pl").text


def test_a_channels_own_wording_takes_the_engines_placeholders() -> None:
    for channel, messages in CHANNEL_MESSAGES.items():
        for key, placeholders in messages.items():
            shared = key.removeprefix(f"{channel}_")
            if shared != key and shared in ENGINE_MESSAGES:
                assert placeholders == ENGINE_MESSAGES[shared], key


async def test_the_engine_words_each_conversation_for_its_channel(service: Service) -> None:
    telegram, web = Person(service, "anna", channel="telegram"), Person(service, "anna", channel=WEB)
    for person in (telegram, web):
        await person.begin()
        await person.send("/help")
    assert "/mydata" in telegram.replies[0].text and "/forget" in telegram.replies[0].text
    assert not SLASH_COMMAND.search(web.replies[0].text)
    for person in (telegram, web):
        await person.send("/nope")
    assert "/help" in telegram.replies[0].text
    assert not SLASH_COMMAND.search(web.replies[0].text)
    for person in (telegram, web):
        await person.act(Action.CANCEL)
    assert "/start" in telegram.last.text
    assert not SLASH_COMMAND.search(web.last.text)


def test_telegram_asks_for_a_button_where_it_shows_no_numbers(catalog: Catalog) -> None:
    """Telegram's buttons carry no numbers: its 'unrecognised answer' asks to tap one; the shared text names neither."""
    for language in LANGUAGES:
        telegram = catalog.for_channel("telegram")("error_choice", language)
        shared = catalog("error_choice", language)
        assert not re.search(r"numer|number|номер", telegram + shared, re.IGNORECASE), language
        assert re.search(r"przycisk|button|кноп", telegram), language

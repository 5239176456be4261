"""The people tests drive the service as: a scripted respondent of the engine, a Telegram user, a web visitor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup, Tag

from bot.service import Service
from handlers.engine.messages import Action, Inbound, Reply, ReplyKind, RespondentRef

if TYPE_CHECKING:
    from tests.support.telegram_emulator import BotApiEmulator

JSON = dict[str, Any]


class Person:
    """A respondent scripted by a test: says things, taps buttons, remembers the last replies."""

    def __init__(self, service: Service, channel_id: str = "anna", channel: str = "terminal", **defaults: Any) -> None:
        self.service = service
        self.ref: RespondentRef = service.respondent(channel, channel_id, f"{channel}:{channel_id}")
        self.defaults = defaults
        self.replies: list[Reply] = []

    async def send(self, text: str | None = None, **fields: Any) -> list[Reply]:
        inbound = Inbound(self.ref, text=text, **{**self.defaults, **fields})
        self.replies = await self.service.conversation.handle(inbound)
        assert self.replies, "the engine must always answer"
        return self.replies

    async def act(self, action: Action, argument: str | None = None) -> list[Reply]:
        return await self.send(action=action, argument=argument)

    async def tap(self, code: str) -> list[Reply]:
        """Taps an option button of the current question."""
        return await self.send(choice=code, question=self.last.question)

    async def start(self, source: str | None = None, language: str | None = None) -> list[Reply]:
        return await self.send(action=Action.START, source=source, language=language)

    async def begin(self, source: str | None = None, language: str | None = None) -> list[Reply]:
        await self.start(source, language)
        assert self.last.kind is ReplyKind.PRIVACY
        return await self.act(Action.ACCEPT)

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def kinds(self) -> list[ReplyKind]:
        return [reply.kind for reply in self.replies]


class Resident:
    """A person in Telegram: writes, taps buttons, and waits for the bot as a person would."""

    def __init__(self, api: BotApiEmulator, user_id: int, language: str = "pl") -> None:
        self.api = api
        self.id = user_id
        api.user(user_id, language_code=language)

    def messages(self) -> list[JSON]:
        return self.api.sent(self.id)

    def last_with_buttons(self) -> JSON:
        return next(m for m in reversed(self.messages()) if self.api.buttons(self.id, m["message_id"]))

    async def expect(self, text: str, since: int, timeout: float = 15) -> JSON:  # noqa: ASYNC109
        """Waits for a bot message newer than `since` (a message count) that contains `text`."""

        def find() -> JSON | None:
            return next((m for m in self.messages()[since:] if text in m.get("text", "")), None)

        found: JSON = await self.api.wait_for(find, timeout, f"{text!r} for user {self.id}")
        return found

    async def say(self, text: str, expect: str) -> JSON:
        since = len(self.messages())
        self.api.send_text(self.id, text)
        return await self.expect(expect, since)

    async def command(self, command: str, expect: str, payload: str | None = None) -> JSON:
        since = len(self.messages())
        self.api.send_command(self.id, command, payload)
        return await self.expect(expect, since)

    async def begin(self) -> None:
        """Starts the bot and accepts the privacy notice (in Polish)."""
        await self.command("/start", "iod@um.warszawa.pl")
        await self.tap("Zgadzam się, zaczynam", "Pytanie 1 z 12")

    async def tap(self, label: str, expect: str | None = None, message: JSON | None = None) -> None:
        """Taps the button with this label (on the newest message showing one) and waits for the bot."""
        message = message or self.last_with_buttons()
        buttons = dict(self.api.buttons(self.id, message["message_id"]))
        assert label in buttons, f"no {label!r} among {list(buttons)}"
        since = len(self.messages())
        answered = len(self.api.answered_callbacks)
        self.api.press(self.id, message["message_id"], buttons[label])
        await self.api.wait_for(lambda: len(self.api.answered_callbacks) > answered, 15, f"an answer to {label!r}")
        if expect is not None:
            await self.api.wait_for(
                lambda: any(expect in m.get("text", "") for m in self.messages()[since - 1 :]),
                15,
                f"{expect!r} after tapping {label!r}",
            )


class Visitor:
    """Reads the page and presses its buttons or types into its field, following redirects."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.page = BeautifulSoup("", "html.parser")
        self.status = 0

    async def open(self, path: str = "/", **headers: str) -> BeautifulSoup:
        response = await self.client.get(path, headers=headers)
        return await self._read(response)

    async def _read(self, response: Any) -> BeautifulSoup:
        self.status = response.status
        self.headers = response.headers
        self.page = BeautifulSoup(await response.text(), "html.parser")
        return self.page

    @property
    def heading(self) -> str:
        now = self.page.find(id="now")
        return now.get_text(strip=True) if now else ""

    @property
    def text(self) -> str:
        log = self.page.find(id="log")
        return log.get_text(" ", strip=True) if log else ""

    def _button(self, label: str) -> Tag:
        for button in self.page.find_all("button"):
            if button.get_text(strip=True).removeprefix("✓ ") == label:
                return button
        raise AssertionError(f"no button {label!r} in {[b.get_text(strip=True) for b in self.page.find_all('button')]}")

    def fields(self, form: Tag) -> dict[str, str]:
        return {str(i["name"]): str(i.get("value", "")) for i in form.find_all("input", type="hidden")}

    async def press(self, label: str, **override: str) -> BeautifulSoup:
        button = self._button(label)
        form = button.find_parent("form")
        assert isinstance(form, Tag)
        data = self.fields(form)
        if button.get("name"):
            data[str(button["name"])] = str(button.get("value", ""))
        data.update(override)
        return await self._read(await self.client.post(str(form["action"]), data=data))

    async def type(self, text: str, **override: str) -> BeautifulSoup:
        field = self.page.find(id="answer")
        assert isinstance(field, Tag), "no text field on the page"
        form = field.find_parent("form")
        assert isinstance(form, Tag)
        data = {**self.fields(form), "text": text, **override}
        return await self._read(await self.client.post(str(form["action"]), data=data))

    def choices(self) -> list[str]:
        return [b.get_text(strip=True).removeprefix("✓ ") for b in self.page.select(".choices button")]

    async def walk(self, text: str = "Więcej zieleni i ławek") -> None:
        """Answers every question (first option, or the text) and confirms."""
        for _ in range(40):
            if self.page.find(id="answer") is not None:
                await self.type("anna@example.org" if self.page.find("input", type="email") else text)
            elif self.page.select(".summary"):
                await self.press(self.page.select(".navigation .primary")[0].get_text(strip=True))
            elif self.page.select(".choices button"):
                multiple = self.page.select(".choices button[aria-pressed]")
                await self.press(self.choices()[0])
                if multiple:
                    await self.press(self.page.select(".navigation .primary")[0].get_text(strip=True))
            else:
                return
        raise AssertionError("the questionnaire never ended")

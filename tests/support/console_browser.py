"""The staff console in Debian's Chromium: `wspolnota run` for a test module, the command line beside it,
pages that collect script errors, axe-core's serious findings, the setup link and sign-in as staff go through
them, and screenshots in test-artifacts/. Each console browser test builds on these, once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _pytest.fixtures import FixtureFunctionDefinition
from aiohttp import ClientSession, CookieJar
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from bot.service import Service, open_service
from tests.support.actors import Visitor
from tests.support.calls import call_around
from tests.support.chromium import launch_chromium
from tests.support.console import PASSWORD
from tests.support.ports import free_port
from tests.support.service import ServiceProcess
from tests.support.settings import REPOSITORY, make_settings

ARTEFACTS = REPOSITORY / "test-artifacts"
PHONE = (360, 780)  # a phone at the stand: nothing on a page may be wider


@contextmanager
def web_service(
    prepare: Callable[[Path], Mapping[str, str]] | None = None, *, rate_limit: str | None = "0"
) -> Iterator[ServiceProcess]:
    """`wspolnota run` with only the web chat over a temporary data folder, stopped cleanly at the end.

    `prepare(folder)` runs before the service starts (seeding its database in `folder / "data"`, say) and
    returns more settings; `rate_limit` is the web chat's (None keeps the service's default).
    """
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env: dict[str, str] = dict(prepare(folder)) if prepare is not None else {}
        if rate_limit is not None:
            env["WSPOLNOTA_WEB_RATE_LIMIT"] = rate_limit
        process = ServiceProcess(folder / "data", WSPOLNOTA_WEB_PORT=str(free_port()), **env)
        process.start_blocking()
        try:
            yield process
        finally:
            assert process.stop_blocking(timeout=20) == 0


def module_service(
    prepare: Callable[[Path], Mapping[str, str]] | None = None, *, rate_limit: str | None = "0"
) -> FixtureFunctionDefinition:
    """The `service` fixture of a test module (`service = module_service(…)`): one `web_service` for all its
    tests, started before the first."""

    @pytest.fixture(scope="module", name="service")
    def service() -> Iterator[ServiceProcess]:
        with web_service(prepare, rate_limit=rate_limit) as process:
            yield process

    return service


def browser_per_test() -> FixtureFunctionDefinition:
    """The `browser` fixture of a test module (`browser = browser_per_test()`): Debian's Chromium launched for
    each test (on the test's own event loop), closed after it."""

    @pytest.fixture(name="browser")
    async def browser() -> AsyncIterator[Browser]:
        async with launch_chromium() as launched:
            yield launched

    return browser


def call_open_now(seed: Callable[[Service], Awaitable[None]]) -> Callable[[Path], Mapping[str, str]]:
    """A `prepare` for `web_service`: the tests' call for applications open now (in `folder / "config"`) and
    `seed` run on the service's database before the service starts."""

    def prepare(folder: Path) -> Mapping[str, str]:
        config = call_around(datetime.now(UTC), folder / "config")
        asyncio.run(_seeded(folder / "data", config, seed))
        return {"WSPOLNOTA_CONFIG_DIR": str(config)}

    return prepare


async def _seeded(data: Path, config: Path, seed: Callable[[Service], Awaitable[None]]) -> None:
    async with open_service(make_settings(data, WSPOLNOTA_CONFIG_DIR=str(config))) as service:
        await seed(service)


def command(service: ServiceProcess, *args: str) -> str:
    """`wspolnota ARGS…` beside the running service (its settings, its database): what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPOSITORY,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def setup_link(service: ServiceProcess, email: str, role: str) -> str:
    """An account added by `wspolnota staff add`, as staff add one: the setup link it prints."""
    return command(service, "staff", "add", email, "--role", role, "--web", service.url).splitlines()[-1]


async def open_page(browser: Browser, width: int, height: int, problems: list[str]) -> Page:
    """A page in a new context (its own cookies) whose script errors and CSP violations go to `problems`."""
    context = await browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = await context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


async def open_phone(browser: Browser, signed_in: Page, problems: list[str]) -> Page:
    """A phone's page signed in as `signed_in` is (its session cookie copied)."""
    phone = await open_page(browser, *PHONE, problems)
    await phone.context.add_cookies(await signed_in.context.cookies())
    return phone


async def fits_a_phone(page: Page) -> bool:
    """Whether nothing on the page is wider than a phone (tables scroll inside themselves)."""
    return bool(await page.evaluate(f"() => document.documentElement.scrollWidth <= {PHONE[0]}"))


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (none is the aim)."""
    results = await Axe().run(page)
    assert len(results.response["passes"]) > 10  # axe ran its rules here
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def screenshot(page: Page, name: str) -> None:
    """The whole page in test-artifacts/NAME.png."""
    ARTEFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


async def set_password(page: Page, link: str) -> None:
    """Opens a setup link and chooses the password, landing on the sign-in page."""
    await page.goto(link)
    await choose_password(page)


async def choose_password(page: Page) -> None:
    """Fills the setup page open in `page` (the password twice) and saves, landing on the sign-in page."""
    await page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    await page.get_by_label("Hasło jeszcze raz").fill(PASSWORD)
    await page.get_by_role("button", name="Zapisz").click()
    await page.wait_for_url("**/staff/login?note=done")


async def sign_in(page: Page, email: str) -> None:
    """Fills the sign-in page open in `page` and sends it (the caller waits for where it leads)."""
    await page.get_by_label("Adres e-mail").fill(email)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()


async def first_sign_in(page: Page, service: ServiceProcess, email: str, role: str) -> None:
    """A new account added by `wspolnota staff add` signs in for the first time in `page`: its setup link,
    the password chosen, then the sign-in page, landing on the dashboard."""
    await set_password(page, setup_link(service, email, role))
    await sign_in(page, email)
    await page.wait_for_url("**/staff/")


async def a_resident_answers(url: str, path: str = "/?lang=en", text: str | None = None) -> None:
    """A resident answers every question in the web chat opened at `path` (the open ones with `text`)."""
    async with ClientSession(url, cookie_jar=CookieJar(unsafe=True)) as session:
        visitor = Visitor(session)
        await visitor.open(path)
        await visitor.press("I agree, let's start")
        await (visitor.walk() if text is None else visitor.walk(text))
        assert "Thank you" in visitor.text

"""The web chat in a real headless Chromium (Debian's), driven by Playwright, against `wspolnota run`.

Covers what only a browser shows: the script's in-place answers and focus, keyboard-only use,
the kiosk clearing itself, resuming after a reload, and an axe-core accessibility check.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Locator, Page

from tests.support import REPOSITORY, SHIPPED_CONFIG, ServiceProcess, Visitor, free_port
from tests.support.chromium import launch_chromium

ARTEFACTS = REPOSITORY / "test-artifacts"
EVENT = "dzien-sasiada-targowek-2026-05-31"
# Seconds a kiosk waits before starting afresh: longer than any one step of a walk takes on a loaded CI machine
# (at 6 s, a step that took longer there reset the second person's walk halfway).
KIOSK_IDLE = 15
KIOSK_TOKEN = "stoisko-targowek-" + "t" * 16  # a stand's tablet link: `?kiosk=<token>`


@dataclass
class Running:
    url: str
    database: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """`wspolnota run` with only the web chat, its defaults otherwise."""
    data = tmp_path_factory.mktemp("web") / "data"
    process = ServiceProcess(
        data,
        WSPOLNOTA_WEB_PORT=str(free_port()),
        WSPOLNOTA_WEB_KIOSK_IDLE=str(KIOSK_IDLE),
        WSPOLNOTA_WEB_RATE_LIMIT="0",
        WSPOLNOTA_WEB_KIOSK_TOKENS=f"zoliborz-1={KIOSK_TOKEN}",
    )
    process.start_blocking()
    try:
        yield Running(process.url, data / "wspolnota.db")
    finally:
        assert process.stop_blocking(timeout=20) == 0


async def test_a_killed_service_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    """kill -9 mid-questionnaire: after a restart the same browser continues where it was, and
    the form it sends again (its post was committed, the answer never arrived) counts once."""
    data = tmp_path / "data"
    process = ServiceProcess(data, WSPOLNOTA_WEB_PORT=str(free_port()))
    process.start_blocking()
    jar = CookieJar(unsafe=True)
    try:
        async with ClientSession(process.url, cookie_jar=jar) as session:
            visitor = Visitor(session)  # type: ignore[arg-type]
            await visitor.open("/?lang=en")
            await visitor.press("I agree, let's start")
            await visitor.press("Praga-Północ")
            await visitor.type("Sąsiedzi")
            await visitor.press("Trust")
            before = visitor.page
            await visitor.press("Cooperation")
            process.kill_blocking()
            process.start_blocking()
            await visitor.open("/")
            assert visitor.heading == "Question 3 of 12"
            assert [b.get_text(strip=True) for b in visitor.page.select('[aria-pressed="true"]')] == [
                "Trust",
                "Cooperation",
            ]
            visitor.page = before
            await visitor.press("Cooperation")  # the same form again: not toggled back off
            assert len(visitor.page.select('.choices [aria-pressed="true"]')) == 2
            await visitor.press("Done")
            assert visitor.heading == "Question 4 of 12"
    finally:
        process.stop_blocking(timeout=20)
    saved = rows(data / "wspolnota.db", "SELECT question_code, options FROM answer ORDER BY id")
    assert saved == [
        ("district", '["praga_polnoc"]'),
        ("community_meaning", None),
        ("values", '["trust", "cooperation"]'),
    ]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium() as launched:
        yield launched


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 800, "height": 1200})
    opened = await context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    await context.close()
    assert problems == []  # no script error, no CSP violation, nothing missing


def rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


async def heading(page: Page) -> str:
    return (await page.locator("#now").inner_text()).strip()


async def press(target: Locator) -> None:
    """Clicks and waits for the next page (swapped in place by the script, or loaded anew)."""
    page = target.page
    turn = await page.locator("#top input[name=turn]").get_attribute("value")
    await target.click()
    await page.wait_for_function("(turn) => document.querySelector('#top input[name=turn]')?.value !== turn", arg=turn)


async def answer_everything(page: Page, text: str, *, until: str) -> None:
    """Clicks through the questionnaire: the first option, the text, "Done", then confirms."""
    for _ in range(40):
        # Whatever the page is doing (a step swapped in place, or a whole page loaded after a post the script
        # handed to the browser), look only once it shows the end, a field, the summary or choices.
        await page.wait_for_load_state()
        shown = page.locator("#answer, .summary, .choices button").or_(page.locator("#log").get_by_text(until))
        await shown.first.wait_for()
        if await page.locator("#log").get_by_text(until).count():
            return
        if await page.locator("#answer").count():
            email = await page.locator("input#answer[type=email]").count()
            await page.locator("#answer").fill("anna@example.org" if email else text)
            await press(page.locator(".field button.primary"))
        elif await page.locator(".summary").count():
            await press(page.locator(".navigation .primary"))
        else:
            multiple = await page.locator(".choices button[aria-pressed]").count()
            await press(page.locator(".choices button").first)
            if multiple:
                await press(page.locator(".navigation .primary"))
    raise AssertionError("the questionnaire never ended")


async def test_a_resident_answers_everything_with_a_mouse(server: Running, page: Page) -> None:
    await page.goto(f"{server.url}/?lang=en&event={EVENT}")
    await page.get_by_role("button", name="I agree, let's start").click()
    await page.wait_for_function("() => document.activeElement && document.activeElement.id === 'now'")
    assert await heading(page) == "Question 1 of 12"
    await page.get_by_role("button", name="Targówek").click()
    await page.wait_for_function("() => document.title.startsWith('Question 2')")
    # A text question shows its limit and counts as one types.
    await page.locator("#answer").fill("Sąsiedzi, którzy się znają")
    assert (await page.locator("#counter").inner_text()).strip() == "26 / 1500"
    await page.screenshot(path=str(ARTEFACTS / "web-chat-question.png"), full_page=True)
    await page.get_by_role("button", name="Send").click()
    await page.wait_for_function("() => document.title.startsWith('Question 3')")
    await answer_everything(page, "Więcej ławek", until="Thank you")
    ARTEFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / "web-chat-thanks.png"), full_page=True)
    done = rows(server.database, "SELECT channel, status, language, event FROM submission WHERE event IS NOT NULL")
    assert ("web", "completed", "en", EVENT) in done


async def tab_to(page: Page, label: str) -> None:
    """Presses Tab until the focused element's text or label is `label`."""
    for _ in range(60):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "(() => { const e = document.activeElement; if (!e) return '';"
            " const l = e.labels && e.labels[0]; return (l ? l.textContent : e.textContent).trim(); })()"
        )
        if focused.removeprefix("○ ").removeprefix("✓ ") == label:
            return
    raise AssertionError(f"Tab never reached {label!r}")


async def test_a_resident_answers_with_the_keyboard_alone(server: Running, page: Page) -> None:
    await page.goto(f"{server.url}/?lang=pl")
    await tab_to(page, "Zgadzam się, zaczynam")
    await page.keyboard.press("Enter")
    await page.wait_for_function("() => document.title.startsWith('Pytanie 1')")
    assert await page.evaluate("document.activeElement.id") == "now"  # the new question has focus
    await tab_to(page, "Mokotów")
    await page.keyboard.press("Space")
    await page.wait_for_function("() => document.title.startsWith('Pytanie 2')")
    await tab_to(page, "Twoja odpowiedź")
    await page.keyboard.type("Ludzie, którzy sobie pomagają.")
    await page.keyboard.press("Tab")  # to "Wyślij"
    await page.keyboard.press("Enter")
    await page.wait_for_function("() => document.title.startsWith('Pytanie 3')")
    for _ in range(2):  # two values, toggled with the keyboard
        await tab_to(page, "Zaufanie" if _ == 0 else "Współpraca")
        await page.keyboard.press("Enter")
        await page.wait_for_function("(n) => document.querySelectorAll('[aria-pressed=true]').length === n", arg=_ + 1)
    await tab_to(page, "Gotowe")
    await page.keyboard.press("Enter")
    await page.wait_for_function("() => document.title.startsWith('Pytanie 4')")
    saved = rows(
        server.database,
        "SELECT a.question_code, a.options, a.text FROM answer a JOIN submission s ON s.id = a.submission_id"
        " WHERE s.language = 'pl' ORDER BY a.id",
    )
    assert ("values", '["trust", "cooperation"]', None) in saved
    assert ("community_meaning", None, "Ludzie, którzy sobie pomagają.") in saved


async def test_a_phone_resumes_after_a_reload_and_switches_language(server: Running, page: Page) -> None:
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    await page.goto(f"{server.url}/?lang=en")
    await page.get_by_role("button", name="I agree, let's start").click()
    await page.get_by_role("button", name="Wola").click()
    await page.wait_for_function("() => document.title.startsWith('Question 2')")
    await page.reload()
    assert await heading(page) == "Question 2 of 12"
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    ARTEFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / "web-chat-phone.png"), full_page=True)
    later = await page.context.new_page()  # the tab was closed; the same browser comes back
    await later.goto(server.url)
    assert await heading(later) == "Question 2 of 12"
    await later.get_by_role("button", name="Українська").first.click()
    await later.wait_for_function("() => document.documentElement.lang === 'uk'")
    assert await heading(later) == "Запитання 2 з 12"
    await later.close()


async def test_the_kiosk_clears_itself_between_people(server: Running, page: Page) -> None:
    await page.goto(f"{server.url}/?event={EVENT}&kiosk={KIOSK_TOKEN}&lang=pl")
    await page.get_by_role("button", name="Zgadzam się, zaczynam").click()
    await page.get_by_role("button", name="Wola").click()
    await page.wait_for_function("() => document.title.startsWith('Pytanie 2')")
    await page.locator("#answer").fill("Prywatne zdanie pierwszej osoby")
    await page.get_by_role("button", name="Wyślij").click()
    await page.wait_for_function("() => document.title.startsWith('Pytanie 3')")
    # The first person walks away: after the idle time the page starts afresh by itself.
    await page.wait_for_function(
        "() => document.querySelector('button[value=\"a:accept::\"]') !== null", timeout=(KIOSK_IDLE + 10) * 1000
    )
    assert "Prywatne zdanie" not in await page.content()
    await page.go_back()  # nor can the next person go back to it
    assert "Prywatne zdanie" not in await page.content()
    await page.goto(server.url)
    # The next person finishes; "thank you", then the start again for whoever comes next.
    await page.get_by_role("button", name="Wypełniane z pomocą wolontariuszki lub wolontariusza").click()
    await page.get_by_role("button", name="Zgadzam się, zaczynam").click()
    await answer_everything(page, "Druga osoba", until="Dziękujemy")
    await page.screenshot(path=str(ARTEFACTS / "web-chat-kiosk-thanks.png"), full_page=True)
    await page.locator("#controls").get_by_role("button", name="Zacznij od nowa dla kolejnej osoby").click()
    await page.get_by_role("button", name="Zgadzam się, zaczynam").wait_for()
    people = rows(
        server.database,
        f"SELECT respondent_id, status, assisted FROM submission WHERE event = '{EVENT}' AND channel = 'web'"
        " AND stand IS NULL ORDER BY id",
    )
    kiosk = people[-2:]
    assert kiosk[0][0] != kiosk[1][0]  # two people, not one
    assert kiosk[1][1:] == ("completed", 1)


async def test_pages_have_no_serious_accessibility_violations(server: Running, page: Page) -> None:
    axe = Axe()
    seen: dict[str, list[str]] = {}

    async def check(name: str) -> None:
        results = await axe.run(page)
        assert len(results.response["passes"]) > 10  # axe ran its rules here
        serious = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
        seen[name] = [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in serious]

    await page.goto(f"{server.url}/?lang=en&kiosk={KIOSK_TOKEN}")
    await check("privacy notice, kiosk")
    await page.get_by_role("button", name="I agree, let's start").click()
    await page.wait_for_function("() => document.title.startsWith('Question 1')")
    await check("single choice")
    await page.get_by_role("button", name="Bielany").click()
    await page.wait_for_function("() => document.title.startsWith('Question 2')")
    await check("text")
    await page.get_by_role("button", name="Skip").click()
    await page.wait_for_function("() => document.title.startsWith('Question 3')")
    await check("multiple choice")
    await page.get_by_role("button", name="Trust").click()
    await page.get_by_role("button", name="Done").click()
    await page.wait_for_function("() => document.title.startsWith('Question 4')")
    await check("scale")
    await answer_everything(page, "Tekst", until="Please check your answers")
    await check("summary")
    assert seen == {name: [] for name in seen}, seen


@pytest.mark.parametrize(
    ("language", "start", "dpo"),
    [
        ("pl", "Zaczynam", "inspektor ochrony danych"),
        ("en", "Let's start", "data protection officer"),
        ("uk", "Почати", "інспектор із захисту даних"),
    ],
)
async def test_the_first_screen_of_the_shipped_questionnaire_on_a_phone(
    tmp_path: Path, page: Page, language: str, start: str, dpo: str
) -> None:
    """What a resident sees after scanning the QR code: who asks and why in one line, the essentials of
    the notice and a start, in their language, on a phone; a screenshot of each is kept to look at."""
    process = ServiceProcess(
        tmp_path / "data", WSPOLNOTA_WEB_PORT=str(free_port()), WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG)
    )
    process.start_blocking()
    try:
        await page.set_viewport_size({"width": 360, "height": 780})  # a small phone
        await page.goto(f"{process.url}/?lang={language}")
        log = page.locator("#log")
        first_line = (await log.inner_text()).strip().splitlines()
        assert any(("5" in line and "Wspólnota" in line) for line in first_line[:3])  # the lead: who, what, how long
        assert await log.get_by_text(dpo).count() and await log.get_by_text("iod@um.warszawa.pl").count()
        assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        await page.get_by_role("button", name=start, exact=True).wait_for()
        ARTEFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTEFACTS / f"web-first-screen-{language}.png"), full_page=True)
        await page.get_by_role("button", name=start, exact=True).click()
        await page.wait_for_function("() => document.querySelector('#now')?.textContent.includes('1')")
    finally:
        assert process.stop_blocking(timeout=20) == 0

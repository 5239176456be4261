"""The web chat against slow, malformed and hostile clients, and a database that stops answering.

In-process tests drive `WebChat` through aiohttp's test server, or through our own server
(`bot.transports.web_server.serve`) where connections matter; the end-to-end ones run `python -m bot run`
in a subprocess, with a small file descriptor limit, and read its log.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import socket
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestClient, TestServer
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.service import Service, open_service
from bot.transports.web import WebChat
from bot.transports.web_server import Limits, serve
from storage.models import Answer, Submission
from tests.support import FakeClock, ServiceProcess, Visitor, count, free_port, make_settings
from tests.support.postgres import PostgresServer

TEXT_LIMIT = 1500  # the tests' questionnaire's limit for its first text question (community_meaning)


@pytest.fixture
async def web_service(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_WEB_RATE_LIMIT="0")
    async with open_service(settings, clock=clock) as service:
        yield service


@pytest.fixture
async def client(web_service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(WebChat(web_service).app())) as test_client:
        yield test_client


async def submissions(service: Service) -> list[Submission]:
    async with service.store.unit(write=False) as unit:
        return list(await unit.session.scalars(select(Submission).order_by(Submission.id)))


async def at_text_question(visitor: Visitor) -> None:
    """Accepts the privacy notice and picks a district: the page asks the first text question."""
    await visitor.press("I agree, let's start")
    await visitor.press("Wola")
    assert visitor.page.find(id="answer") is not None


def page_text(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ", strip=True)


# -- malformed input ---------------------------------------------------------------------------


async def test_invalid_utf8_in_a_form_gets_a_400_chat_page_in_polish(
    client: TestClient[Any, Any], web_service: Service
) -> None:
    visitor = Visitor(client)
    await visitor.open("/")
    fields = visitor.fields(visitor.page.select("form.answer")[0])
    urlencoded = "&".join(f"{k}={v}" for k, v in fields.items()).encode() + b"&text=\xff\xfe\xc3"
    response = await client.post("/say", data=urlencoded, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 400
    assert "nie udało się nam odczytać" in page_text(await response.text())
    multipart = b"".join(
        [
            *(f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()),
            b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\xfe\r\n--b--\r\n',
        ]
    )
    response = await client.post("/say", data=multipart, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status == 400
    html = await response.text()
    assert "nie udało się nam odczytać" in page_text(html) and 'lang="pl"' in html
    for broken in (b"no boundary here", b"--x\r\nnot a part"):
        response = await client.post("/say", data=broken, headers={"Content-Type": "multipart/form-data"})
        assert response.status == 400
    response = await client.post(
        "/say", data=b"text=a", headers={"Content-Type": "application/x-www-form-urlencoded; charset=klingon"}
    )
    assert response.status == 400
    assert await submissions(web_service) == []


@pytest.fixture
async def any_database_service(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url, WSPOLNOTA_WEB_RATE_LIMIT="0")
    async with open_service(settings, clock=clock) as service:
        yield service


async def test_a_nul_byte_in_any_field_gets_a_400_page_and_stores_nothing(any_database_service: Service) -> None:
    async with TestClient(TestServer(WebChat(any_database_service).app())) as client:
        visitor = Visitor(client)
        await visitor.open("/?lang=en")
        await visitor.press("I agree, let's start", turn="abc\x00def")  # the hidden field, on PostgreSQL too
        assert visitor.status == 400
        assert "We could not read what your browser sent" in visitor.text
        await visitor.press("I agree, let's start")
        await visitor.press("Wola")
        await visitor.type("Sąsiedzi\x00")
        assert visitor.status == 400
        await visitor.type("Sąsiedzi")
        assert visitor.status == 200 and visitor.heading == "Question 3 of 12"
        [submission] = await submissions(any_database_service)
        assert await count(any_database_service.store, Answer, Answer.submission_id == submission.id) == 2


async def test_absurd_paths_get_a_400_chat_page(client: TestClient[Any, Any]) -> None:
    for path in ("/static/" + "a" * 300, "/static/chat.css%00", "/%00", "/?event=%00", "/" + "x" * 3000):
        response = await client.get(path, headers={"Accept-Language": "uk"})
        assert response.status == 400, path
        html = await response.text()
        assert 'lang="uk"' in html and "Ми не змогли прочитати" in page_text(html), path
    assert (await client.get("/static/chat.css")).status == 200
    assert (await client.get("/static/nothing.css")).status == 404


async def test_pages_name_no_server_software(client: TestClient[Any, Any]) -> None:
    for path, status in (("/", 200), ("/static/chat.js", 200), ("/nothing", 404), ("/static/" + "a" * 300, 400)):
        response = await client.get(path)
        assert response.status == status
        assert response.headers["Server"] == "wspolnota", path


async def test_a_post_from_another_site_gets_a_403_page_and_changes_nothing(
    client: TestClient[Any, Any], web_service: Service
) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    form = visitor.fields(visitor.page.select("form.answer")[0])
    accept = {**form, "button": "a:accept::"}
    response = await client.post("/say", data=accept, headers={"Origin": "https://evil.example"})
    assert response.status == 403
    assert "came from another website" in page_text(await response.text())
    assert await submissions(web_service) == []
    # Our own origin, an opaque one (what `Referrer-Policy: no-referrer` makes browsers send) and none.
    host = f"http://{client.host}:{client.port}"
    for origin in (host, "null", None):
        headers = {"Origin": origin} if origin else {}
        response = await client.post("/say", data=accept, headers=headers, allow_redirects=False)
        assert response.status == 303, origin
    # Behind a proxy, the public name the proxy passes on.
    response = await client.post(
        "/say",
        data=accept,
        headers={"Origin": "https://wspolnota.um.warszawa.pl", "X-Forwarded-Host": "wspolnota.um.warszawa.pl"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert len(await submissions(web_service)) == 1


async def test_the_too_long_message_quotes_the_questions_own_limit(client: TestClient[Any, Any]) -> None:
    visitor = Visitor(client)
    await visitor.open("/?lang=en")
    await at_text_question(visitor)
    form = visitor.fields(visitor.page.select("form.answer")[0])
    huge = await client.post(  # refused before it is read
        "/say",
        data=io.BytesIO(urlencode({**form, "text": "y" * 2_000_000}).encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status == 413
    text = page_text(await huge.text())
    assert f"the limit is {TEXT_LIMIT}." in text and "limit is 20000" not in text
    await visitor.type("z" * 30_000)  # read, but over the engine's outer bound
    assert f"This answer has 30000 characters and the limit is {TEXT_LIMIT}" in visitor.text


# -- the database stops answering --------------------------------------------------------------


@contextmanager
def database_unavailable(service: Service, url: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """Makes the service's database refuse it, as a stopped server or an unmounted disk would."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = parsed.database
        server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        server.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        try:
            yield
        finally:
            server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        return
    assert parsed.database is not None
    path = Path(parsed.database)
    away = path.with_name(path.name + ".away")
    path.rename(away)
    path.mkdir()  # the file's place now holds something SQLite cannot open
    try:
        yield
    finally:
        path.rmdir()
        away.rename(path)


async def test_an_unavailable_database_gets_a_503_page_that_keeps_the_answer(
    any_database_service: Service, database_url: str, request: pytest.FixtureRequest
) -> None:
    service = any_database_service
    async with TestClient(TestServer(WebChat(service).app())) as client:
        visitor = Visitor(client)
        await visitor.open("/?lang=en")
        await at_text_question(visitor)
        await service.engine.dispose()  # no connection left open from before
        with database_unavailable(service, database_url, request):
            await visitor.type("Sąsiedzi, którzy się znają")
            assert visitor.status == 503
            assert visitor.headers["Retry-After"] == "5"
            assert "We could not save this just now" in visitor.text
            kept = visitor.page.find(id="answer")
            assert kept is not None and kept.get_text() == "Sąsiedzi, którzy się znają"
            async with TestClient(TestServer(WebChat(service).app())) as elsewhere:
                stranger = Visitor(elsewhere)  # nothing of theirs in memory: the page needs the database
                await stranger.open("/?lang=en")
                assert stranger.status == 503 and "unavailable for a moment" in stranger.text
            await visitor.type("Sąsiedzi, którzy się znają")  # the page from before, sent again
            assert visitor.status == 503
        kept = visitor.page.find(id="answer")
        assert kept is not None
        await visitor.press("Send again", text=kept.get_text())  # as a browser sends the form's field
        assert visitor.status == 200 and visitor.heading == "Question 3 of 12"
        [submission] = await submissions(service)
        async with service.store.unit(write=False) as unit:
            answer = await unit.session.scalar(
                select(Answer).where(Answer.submission_id == submission.id, Answer.question_code == "community_meaning")
            )
        assert answer is not None and answer.text == "Sąsiedzi, którzy się znają"


# -- slow clients, on our own server -----------------------------------------------------------


@asynccontextmanager
async def chat_server(tmp_path: Path, **settings: str) -> AsyncIterator[tuple[Service, int]]:
    """The web chat on our own server (as `wspolnota run` serves it), on a free port."""
    config = make_settings(tmp_path / "data", WSPOLNOTA_WEB_RATE_LIMIT="0", **settings)
    async with open_service(config) as service:
        limits = Limits(config.web_max_connections, config.web_read_timeout, config.web_idle_timeout)
        async with serve(WebChat(service).app(), "127.0.0.1", 0, limits) as port:
            yield service, port


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before it closed the connection, waiting at most `seconds`."""
    async with asyncio.timeout(seconds):
        return await reader.read()


async def test_a_connection_that_never_finishes_its_headers_is_closed(tmp_path: Path) -> None:
    async with chat_server(tmp_path, WSPOLNOTA_WEB_READ_TIMEOUT="0.5") as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert await closed_within(reader, 3) == b""
        assert 0.4 < time.monotonic() - started < 2
        writer.close()
        # A visitor who sends a whole request is answered, and may keep the connection between pages.
        async with ClientSession(f"http://127.0.0.1:{port}") as session:
            for _ in range(2):
                async with session.get("/") as response:
                    assert response.status == 200


async def test_a_form_that_arrives_too_slowly_gets_a_408_page(tmp_path: Path) -> None:
    async with chat_server(tmp_path, WSPOLNOTA_WEB_READ_TIMEOUT="0.5") as (_, port):
        jar = CookieJar(unsafe=True)
        async with ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as session:
            visitor = Visitor(session)  # type: ignore[arg-type]
            await visitor.open("/?lang=en")
            body = urlencode(visitor.fields(visitor.page.select("form.answer")[0]))
        cookie = "; ".join(f"{c.key}={c.value}" for c in jar)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /say HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Cookie: {cookie}\r\nContent-Length: {len(body) + 100}\r\n\r\n{body}".encode()
        )
        started = time.monotonic()
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"Content-Length: (\d+)", head)
            assert length is not None
            answer = head + await reader.readexactly(int(length[1]))
        assert 0.4 < time.monotonic() - started < 2
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert "took too long to reach us" in page_text(answer.decode(errors="replace"))


async def test_a_full_server_closes_the_oldest_stalled_connection_for_a_new_visitor(tmp_path: Path) -> None:
    async with chat_server(tmp_path, WSPOLNOTA_WEB_MAX_CONNECTIONS="8") as (_, port):
        stalled = []
        for _ in range(8):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            stalled.append((reader, writer))
        await asyncio.sleep(0)
        async with ClientSession(f"http://127.0.0.1:{port}") as session, session.get("/healthz") as response:
            assert response.status == 200
        assert await closed_within(stalled[0][0], 2) == b""  # the oldest made room
        for _, writer in stalled:
            writer.close()


# -- end to end: `wspolnota run` ---------------------------------------------------------------


def start_service(data: Path, port: int, *, files: int | None = None, **settings: str) -> ServiceProcess:
    """Starts `python -m bot run` (only the web chat), optionally with at most `files` descriptors."""
    process = ServiceProcess(data, files=files, WSPOLNOTA_WEB_PORT=str(port), **settings)
    process.start_blocking()
    return process


def stop_service(process: ServiceProcess) -> None:
    assert process.stop_blocking(timeout=20) == 0


def get(port: int, path: str = "/", timeout: float = 5) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept-Language": "pl"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_the_web_server_under_200_slow_connections_with_a_small_fd_limit_still_serves_a_new_visitor(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = start_service(tmp_path / "data", port, files=128, WSPOLNOTA_WEB_READ_TIMEOUT="2")
    slow: list[socket.socket] = []
    try:
        for _ in range(200):  # half a request each, then nothing: more than the process has descriptors for
            connection = socket.create_connection(("127.0.0.1", port))
            connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")
            slow.append(connection)
        started = time.monotonic()
        status, html = get(port)
        served_in = time.monotonic() - started
        assert status == 200 and "Zgadzam się, zaczynam" in html
        assert served_in < 3, f"a new visitor waited {served_in:.1f} s"
        # The slow ones are closed: to make room, or when their headers are overdue.
        for connection in slow:
            connection.settimeout(5)
            with suppress(ConnectionResetError):
                assert connection.recv(100) == b""
        assert get(port)[0] == 200
    finally:
        for connection in slow:
            connection.close()
        stop_service(process)
    log = process.log.read_text()
    assert len(log) < 5_000, log[-2_000:]  # one line about making room, not one per connection
    assert "Traceback" not in log and "Too many open files" not in log
    print(f"new visitor served in {served_in * 1000:.0f} ms; log {len(log)} bytes")


def raw_exchange(port: int, data: bytes, *, hang_up: bool = False) -> bytes:
    """Sends bytes as they are and returns what the server answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(data)
        if hang_up:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        with suppress(ConnectionResetError):
            while chunk := connection.recv(65536):
                received += chunk
        return received


def bad_request(answer: bytes) -> bool:
    """Whether the server answered 400 (aiohttp says HTTP/1.0 when it could not parse the request)."""
    return answer.split(b"\r\n", 1)[0] in (b"HTTP/1.0 400 Bad Request", b"HTTP/1.1 400 Bad Request")


async def test_no_visitor_address_or_traceback_in_the_log_of_an_end_to_end_run(tmp_path: Path) -> None:
    port = free_port()
    process = start_service(
        tmp_path / "data",
        port,
        WSPOLNOTA_LOG_LEVEL="DEBUG",
        WSPOLNOTA_WEB_READ_TIMEOUT="1",
        WSPOLNOTA_WEB_RATE_LIMIT="0",
    )
    try:
        jar = CookieJar(unsafe=True)
        async with ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as session:
            visitor = Visitor(session)  # type: ignore[arg-type]
            await visitor.open("/?lang=en")
            await at_text_question(visitor)
            await visitor.type("Sąsiedzi\x00")
            assert visitor.status == 400
            form = visitor.fields(visitor.page.select("form.answer")[0])
            response = await session.post(
                "/say",
                data=urlencoded_with_garbage(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert response.status == 400
            response = await session.post("/say", data={**form, "text": "x"}, headers={"Origin": "http://evil"})
            assert response.status == 403
            assert (await session.get("/static/" + "a" * 400)).status == 400
            await visitor.walk()
        cookie = "; ".join(f"{c.key}={c.value}" for c in jar)
        tls_hello = raw_exchange(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64))
        assert tls_hello == b"" or bad_request(tls_hello)  # HTTPS spoken to plain HTTP
        assert bad_request(raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n"))
        assert bad_request(raw_exchange(port, b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n"))
        # A visitor who hangs up halfway through their form.
        hung_up = f"POST /say HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Length: 500\r\n\r\ncsrf=".encode()
        answer = raw_exchange(port, hung_up, hang_up=True)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4")  # the half form is refused, if anyone listens
    finally:
        stop_service(process)
    log = process.log.read_text()
    # The one line naming 127.0.0.1 is where the service says it listens; no visitor's address anywhere.
    mentions = [line for line in log.splitlines() if "127.0.0.1" in line]
    assert mentions == [f"{mentions[0][:23]} INFO bot.transports.web: Web chat on http://127.0.0.1:{port}/"], mentions
    assert "Traceback" not in log, log


def urlencoded_with_garbage(form: dict[str, str]) -> bytes:
    return "&".join(f"{k}={v}" for k, v in form.items()).encode() + b"&text=\xff"

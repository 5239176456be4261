"""The web chat's HTTP server: aiohttp behind a connection cap, read deadlines and quiet logs.

aiohttp parses HTTP well but leaves slow clients to the operator: it has no deadline for a
request's headers and no cap on connections, so a few hundred stalled sockets exhaust the file
descriptors. Here each connection is an aiohttp `RequestHandler` that also keeps a deadline for
its next request's headers and answers to a `ConnectionGuard`, which keeps the number of open
connections under a cap by closing the oldest connection that is not being answered.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

logger = logging.getLogger(__name__)

SERVER_NAME = "wspolnota"  # the Server header: no library or version for a scanner to match
FD_RESERVE = 64  # file descriptors kept for the database, Telegram, mail and logs
LISTEN_BACKLOG = 128  # connections the kernel holds until we accept them (they take no descriptor)
ACCEPT_RETRY = 0.5  # seconds before accepting again when out of file descriptors
REPORT_EVERY = 60.0  # seconds between two log lines about the same recurring condition
# Sent, then closed, when every connection is busy being answered (nothing stalled to close).
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nServer: " + SERVER_NAME.encode() + b"\r\nRetry-After: 5\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)


class Throttled:
    """Logs a condition that can recur many times a second at most once per `interval`, with a count."""

    def __init__(
        self,
        level: int,
        message: str,
        interval: float = REPORT_EVERY,
        clock: Callable[[], float] = time.monotonic,
        log: logging.Logger = logger,
    ) -> None:
        self.log = log
        self.level = level
        self.line = message + " (%d since the last report)"
        self.interval = interval
        self.clock = clock
        self.last: float | None = None
        self.count = 0

    def __call__(self, *args: object) -> None:
        self.count += 1
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return
        self.log.log(self.level, self.line, *args, self.count)
        self.last, self.count = now, 0


class _NoAddresses(logging.Filter):
    """aiohttp logs "Error handling request from <address>"; no visitor's address goes to our log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Error handling request from"):
            record.msg, record.args = "Error handling a request", ()
            error = record.exc_info[1] if record.exc_info else None
            if isinstance(error, HttpProcessingError):  # not HTTP (HTTPS to this port): no traceback for it
                record.msg, record.args, record.exc_info = (
                    "Refused a request that is not HTTP (%s)",
                    (error.message,),
                    None,
                )
        return True


# aiohttp's request handlers log here instead of to "aiohttp.server".
_protocol_log = logging.getLogger(f"{__name__}.http")
_protocol_log.addFilter(_NoAddresses())


class CannotListen(Exception):
    """The server's address cannot be bound (taken, or not this machine's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Limits:
    """What a client may take of the server."""

    max_connections: int
    read_timeout: float  # for a request's headers, counted from the connection or its first byte
    idle_timeout: float  # an idle keep-alive connection


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's protocol for one connection, with a deadline for each request's headers."""

    def __init__(self, guard: ConnectionGuard, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.guard = guard
        self.busy = False  # a request is being answered
        self.requests = 0
        self.headers_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.guard.admit(self):
            self._expect_headers()
        else:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(_BUSY)
            self.force_close()

    def data_received(self, data: bytes) -> None:
        if self.headers_due is None and not self.busy:
            self._expect_headers()  # the first byte of a new request: its headers are due in time
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._drop_deadline()
        self.guard.forget(self)
        super().connection_lost(exc)

    def started(self) -> None:
        """A request's headers arrived; it is being answered."""
        self.busy = True
        self.requests += 1
        self._drop_deadline()

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            self.busy = False

    def handle_error(
        self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        response = super().handle_error(request, status, exc, message)
        response.headers["Server"] = SERVER_NAME
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        error = kw.get("exc_info")
        if isinstance(error, HttpProcessingError):
            # Not HTTP, or broken HTTP: the client's problem (answered with a 400), not a traceback's.
            self.guard.malformed(type(error).__name__)
        elif isinstance(error, ConnectionResetError) and self.transport is None:
            logger.debug("A client hung up while its request was read")
        else:
            super().log_exception(*args, **kw)

    def _expect_headers(self) -> None:
        self.headers_due = asyncio.get_running_loop().call_later(
            self.guard.limits.read_timeout, self._headers_overdue, self.requests
        )

    def _headers_overdue(self, requests: int) -> None:
        self.headers_due = None
        if not self.busy and self.requests == requests:
            self.guard.too_slow()
            self.force_close()

    def _drop_deadline(self) -> None:
        if self.headers_due is not None:
            self.headers_due.cancel()
            self.headers_due = None


class ConnectionGuard:
    """Keeps the open connections under the cap: a new one closes the oldest that is not being answered."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: dict[GuardedRequestHandler, None] = {}  # oldest first
        self.closed_to_make_room = Throttled(
            logging.WARNING, "Web chat: %d connections open; closed the oldest waiting one to make room"
        )
        self.refused = Throttled(logging.WARNING, "Web chat: all %d connections busy; refused a new one")
        self.too_slow = Throttled(logging.INFO, "Web chat: closed a connection that did not send its request in time")
        self.malformed = Throttled(logging.INFO, "Web chat: refused a request that is not valid HTTP (%s)")

    def admit(self, handler: GuardedRequestHandler) -> bool:
        """Takes a new connection, making room if need be; False when every connection is busy."""
        if len(self.open) >= self.limits.max_connections:
            oldest = next((h for h in self.open if not h.busy), None)
            if oldest is None:
                self.refused(len(self.open))
                return False
            del self.open[oldest]
            oldest.force_close()
            self.closed_to_make_room(self.limits.max_connections)
        self.open[handler] = None
        return True

    def forget(self, handler: GuardedRequestHandler) -> None:
        self.open.pop(handler, None)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        protocol = request.protocol
        if isinstance(protocol, GuardedRequestHandler):
            protocol.started()
        return await handler(request)


def connection_cap(wanted: int) -> int:
    """The connection cap that leaves file descriptors for everything else under the process's limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - FD_RESERVE))


async def _accept(listener: socket.socket, connection: Callable[[], asyncio.Protocol]) -> None:
    """Accepts connections one at a time, each admitted (or making room) before the next is taken.

    Not `loop.create_server`'s accept loop: that one takes up to its backlog of connections before
    any is looked at (so a flood overshoots any cap by that many descriptors), and on EMFILE
    CPython 3.11 logs an error with a traceback for every pending connection on every retry,
    which wrote 300 MB of log in 70 s.
    """
    loop = asyncio.get_running_loop()
    cannot_accept = Throttled(logging.ERROR, "Web chat: cannot accept connections: %s")
    while True:
        try:
            client, _ = await loop.sock_accept(listener)  # the address is not kept, not logged
        except ConnectionAbortedError:
            continue  # gone before it was accepted
        except OSError as err:
            # Out of file descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): wait for some to free.
            cannot_accept(err.strerror or type(err).__name__)
            await asyncio.sleep(ACCEPT_RETRY)
            continue
        try:
            await loop.connect_accepted_socket(connection, client)
        except OSError:
            client.close()  # reset before it was set up


async def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on the first address `host` names (as asyncio would bind it)."""
    loop = asyncio.get_running_loop()
    family, kind, proto, _, address = (
        await loop.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    )[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(LISTEN_BACKLOG)
        listener.setblocking(False)
    except OSError:
        listener.close()
        raise
    return listener


@asynccontextmanager
async def serve(app: web.Application, host: str, port: int, limits: Limits) -> AsyncIterator[int]:
    """Serves `app` on host:port while the block runs; yields the port bound (for port 0).

    Raises:
        CannotListen: when the address cannot be bound.
    """
    cap = connection_cap(limits.max_connections)
    if cap < limits.max_connections:
        logger.info("Web chat: at most %d connections at once (the process's file descriptor limit)", cap)
    guard = ConnectionGuard(Limits(cap, limits.read_timeout, limits.idle_timeout))
    app.middlewares.insert(0, guard.middleware)  # outermost: a request counts as started before anything else
    try:
        listener = await _listen(host, port)
    except OSError as err:
        raise CannotListen(err.strerror or str(err)) from err
    runner = web.AppRunner(app)
    try:
        await runner.setup()
        assert runner.server is not None
        manager = runner.server

        def connection() -> GuardedRequestHandler:
            # What `web.Server.__call__` does, with our handler class; no access log (no addresses).
            return GuardedRequestHandler(
                guard,
                manager,
                loop=asyncio.get_running_loop(),
                keepalive_timeout=limits.idle_timeout,
                access_log=None,
                logger=_protocol_log,
            )

        accepting = asyncio.create_task(_accept(listener, connection))
        try:
            yield int(listener.getsockname()[1])
        finally:
            accepting.cancel()
            with suppress(asyncio.CancelledError):
                await accepting
    finally:
        listener.close()
        await runner.cleanup()

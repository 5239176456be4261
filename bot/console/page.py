"""What every part of the console shares: a `Page` holds handlers named as in bot/console/routes.py, its
own words (Polish and English) and its own templates, and renders through the console (one layout, one
navigation, one guard). A page never checks roles itself: the route table and the guard do.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

from aiohttp import web

from bot.console.texts import ConsoleLanguage
from bot.service import Service
from storage.staff_accounts import SignedIn

CHUNK = 256 * 1024  # bytes a download is sent in at a time
Words = dict[ConsoleLanguage, dict[str, str]]

# What the guard learnt of a request, for its handler: who is signed in (None on public routes).
STAFF: web.RequestKey[SignedIn | None] = web.RequestKey("staff")


class Layout(Protocol):
    """What a page asks of the console it is part of (bot/console/app.py's Console)."""

    service: Service
    prefix: str  # where the console is mounted: /staff
    texts: Words  # every page's words, by language

    def language(self, request: web.Request) -> ConsoleLanguage: ...

    def render(
        self, request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
    ) -> web.Response: ...


class Page:
    """A part of the console. Subclasses add handlers (async methods named after their routes' rules)
    and `WORDS`, the texts their templates use as `t.<key>` (keys unique across the console)."""

    WORDS: ClassVar[Words] = {"pl": {}, "en": {}}

    def __init__(self, console: Layout) -> None:
        self.console = console
        self.service = console.service
        self.store = console.service.store
        self.clock = console.service.conversation.clock
        self.prefix = console.prefix

    def render(
        self, request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
    ) -> web.Response:
        """A page in the console's layout; `context` adds to what every template has (t, lang, prefix, csrf…)."""
        return self.console.render(request, template, context, status=status)

    def words(self, request: web.Request) -> dict[str, str]:
        """The texts in the language this browser reads the console in."""
        return self.console.texts[self.console.language(request)]

    def language(self, request: web.Request) -> ConsoleLanguage:
        return self.console.language(request)

    def signed(self, request: web.Request) -> SignedIn:
        """Who is signed in (the route table lets only signed-in staff reach a page's handlers)."""
        signed = request[STAFF]
        if signed is None:  # pragma: no cover - the guard never lets this through
            raise web.HTTPForbidden()
        return signed

    def public_address(self, request: web.Request) -> str:
        """The web chat's public address: WSPOLNOTA_PUBLIC_URL, or the site as this browser reached the console
        (behind our own proxy, the host and scheme it forwarded; https with WSPOLNOTA_WEB_SECURE_COOKIE)."""
        settings = self.service.settings
        if settings.public_url:
            return settings.public_url
        scheme, host = request.scheme, request.host
        if settings.web_trusted_proxy:
            scheme = _last(request.headers.get("X-Forwarded-Proto")) or scheme
            host = _last(request.headers.get("X-Forwarded-Host")) or host
        if settings.web_secure_cookie:
            scheme = "https"  # served over HTTPS, whatever the hop behind the proxy spoke
        return f"{scheme}://{host}"

    def actor(self, request: web.Request) -> str:
        """The audit log's name for who is signed in: `staff:<account id>`, never an email."""
        return actor(self.signed(request).account.id)


def actor(account_id: int) -> str:
    return f"staff:{account_id}"


def attachment(name: str, content_type: str, body: bytes) -> web.Response:
    """A download: the file's name for the browser (UTF-8 names too), never cached."""
    return web.Response(body=body, content_type=None, headers=_download_headers(name, content_type))


async def send_file(request: web.Request, name: str, content_type: str, path: Path) -> web.StreamResponse:
    """A download streamed from a file in chunks (an export of any size never sits whole in memory); the
    caller may delete the file once this returns."""
    response = web.StreamResponse(headers=_download_headers(name, content_type))
    with path.open("rb") as handle:  # a local temporary file; its reads go to a thread below
        response.content_length = os.fstat(handle.fileno()).st_size
        await response.prepare(request)
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


def _download_headers(name: str, content_type: str) -> dict[str, str]:
    disposition = f"attachment; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name)}"
    return {"Content-Disposition": disposition, "Cache-Control": "no-store", "Content-Type": content_type}


def _last(value: str | None) -> str:
    """A forwarded header's entry our proxy added: the last one (earlier ones came from the client)."""
    return (value or "").split(",")[-1].strip()


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)

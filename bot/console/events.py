"""The events with their links, and their posters and the all-codes sheet to download (field staff and up).

Not built yet: every handler answers 501.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.page import Page


class EventsPage(Page):
    async def events(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def event_codes(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def event_poster(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

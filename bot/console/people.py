"""People's requests: find a resident by Telegram id or email, see what would be erased, erase (coordinators).

Not built yet: every handler answers 501.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.page import Page


class PeoplePage(Page):
    async def people(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def people_erase(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

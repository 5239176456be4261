"""Staff accounts in the browser: list, add (a one-time setup link), disable, require a second factor (coordinators).

Not built yet: every handler answers 501.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.page import Page


class TeamPage(Page):
    async def team(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def team_add(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def team_disable(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def team_totp(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

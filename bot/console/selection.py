"""The working groups' draw: a dry run with its report, the real draw, decisions, confirmations, reserve,
replacements and rosters (coordinators).

Not built yet: every handler answers 501.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.page import Page


class SelectionPage(Page):
    async def groups(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def groups_select(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def groups_report(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def groups_notify(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def groups_replace(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def groups_roster(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

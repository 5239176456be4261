"""The candidate quotes for the public report, masked: approve, edit the masking, reject (coordinators).

Not built yet: every handler answers 501.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.page import Page


class QuotesPage(Page):
    async def quotes(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def quote_decide(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

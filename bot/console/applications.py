"""The working groups' applications: filters, one application read whole, exclude and include with a
reason (coordinators).

Not built yet: every handler answers 501.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.page import Page


class ApplicationsPage(Page):
    async def applications(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def application(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def application_exclude(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

    async def application_include(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotImplemented()

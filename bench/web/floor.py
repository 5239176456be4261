"""The floor for `bench/web`: a bare aiohttp app doing the transport part of a step and nothing else.

POST /say reads the form and answers 303; GET / answers a page as large as the chat's question page.
Usage: `python bench/web/floor.py PORT`.
"""

from __future__ import annotations

import sys

from aiohttp import web

PAGE = "<!doctype html><title>x</title>" + '<button name="button" value="o:district:wola">Wola</button>' * 60


async def say(request: web.Request) -> web.Response:
    await request.post()
    return web.Response(status=303, headers={"Location": "/"})


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


app = web.Application()
app.router.add_get("/", page)
app.router.add_post("/say", say)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)

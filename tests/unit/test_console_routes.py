"""The console's route table: every /staff route refuses anonymous users and the roles it does not allow,
and a route without a rule makes this test fail."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.console.accounts import Role
from bot.console.app import build_console
from bot.console.routes import PUBLIC, RULES
from bot.service import Service
from bot.transports.web import WebChat
from tests.support.console import add_staff, form_token, server, sign_in

EXPECTED_PUBLIC = {"login_form", "login", "setup_form", "setup", "static"}


def console_routes(service: Service) -> list[tuple[str, str, str]]:
    """Every route the console's router has: (name, method, a path that reaches it)."""
    app = build_console(service)
    found = []
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix") or ""
        path = re.sub(r"\{[^}]+\}", "x" * 32, path)
        if "prefix" in info:
            path = path.rstrip("/") + "/console.css"
        found.append((route.name or "", route.method, "/staff" + path))
    return found


def test_every_route_has_a_rule_and_only_sign_in_and_setup_are_public(service: Service) -> None:
    routes = console_routes(service)
    assert routes
    for name, method, path in routes:
        assert name in RULES, f"{method} {path} has no rule in bot/console/routes.py"
        assert RULES[name].method == method
    assert PUBLIC == EXPECTED_PUBLIC


@pytest.fixture
async def client(service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    for role in Role:
        await add_staff(service, f"{role}@um.warszawa.pl", role.value)
    async with TestClient(server(service)) as test_client:
        yield test_client


async def test_anonymous_and_lesser_roles_are_refused_everywhere(
    client: TestClient[Any, Any], service: Service
) -> None:
    routes = [(n, m, p) for n, m, p in console_routes(service) if n not in PUBLIC]
    for name, method, path in routes:
        client.session.cookie_jar.clear()
        response = await client.request(method, path, data={"csrf": "x"}, allow_redirects=False)
        if method == "GET":
            assert response.status == 303, (name, response.status)
            assert response.headers["Location"].startswith("/staff/login?next=")
        else:
            assert response.status == 403, (name, response.status)
    for role in Role:
        client.session.cookie_jar.clear()
        assert (await sign_in(client, f"{role}@um.warszawa.pl")).status == 303
        page = await client.get("/staff/")
        csrf = form_token(await page.text())
        for name, method, path in routes:
            if name == "logout":
                continue  # it would end the session the loop goes on with; tested apart
            response = await client.request(method, path, data={"csrf": csrf}, allow_redirects=False)
            allowed = RULES[name].role
            assert allowed is not None
            if role.may(allowed):  # let through: the page's own answer (a 404 for an unknown id is one)
                assert response.status != 403 and response.status < 500, (role, name, response.status)
            else:
                assert response.status == 403, (role, name, response.status)


async def test_a_route_added_without_a_rule_is_refused(service: Service) -> None:
    await add_staff(service, "coordinator@um.warszawa.pl", "coordinator")

    async def secret(request: web.Request) -> web.Response:
        return web.Response(text="secret")

    def console() -> web.Application:
        app = build_console(service)
        app.router.add_get("/forgotten", secret)
        return app

    async with TestClient(TestServer(WebChat(service, {"/staff": console}).app())) as test_client:
        assert (await sign_in(test_client, "coordinator@um.warszawa.pl")).status == 303
        response = await test_client.get("/staff/forgotten")
        assert response.status == 403 and "secret" not in await response.text()


async def test_a_role_below_a_routes_rule_is_refused(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the guard does for the pages to come (exports for analysts, erasure for coordinators)."""
    from bot.console import app as console_app
    from bot.console.routes import Rule

    rules = {**RULES, "coordinators_only": Rule("coordinators_only", "GET", "/only", Role.COORDINATOR)}
    monkeypatch.setattr(console_app, "RULES", rules)
    for role in Role:
        await add_staff(service, f"{role}@um.warszawa.pl", role.value)

    async def only(request: web.Request) -> web.Response:
        return web.Response(text="for coordinators")

    def console() -> web.Application:
        app = build_console(service)
        app.router.add_get("/only", only, name="coordinators_only")
        return app

    async with TestClient(TestServer(WebChat(service, {"/staff": console}).app())) as client:
        for role in Role:
            client.session.cookie_jar.clear()
            assert (await sign_in(client, f"{role}@um.warszawa.pl")).status == 303
            response = await client.get("/staff/only", allow_redirects=False)
            expected = 200 if role is Role.COORDINATOR else 403
            assert response.status == expected, role

"""The staff console in tests: an account set up directly in storage, the chat's server with the console
mounted as the composition root mounts it, a browser-less staff member who signs in, and the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.console.accounts import digest, hash_password, new_token
from bot.console.app import build_console
from bot.service import Service
from bot.transports.web import WebChat
from storage.models import AuditEntry
from storage.staff_accounts import add_account, add_setup_token, complete_setup, require_totp

PASSWORD = "zielona herbata o świcie"


async def add_staff(
    service: Service, email: str, role: str, *, password: str = PASSWORD, totp_secret: str | None = None
) -> int:
    """An account already set up (its password, and its TOTP secret when given)."""
    now = service.conversation.clock()
    account = await add_account(service.store, email, role, now)
    token = new_token()
    await add_setup_token(service.store, email, digest(token), now + timedelta(hours=1), now)
    if totp_secret is not None:
        await require_totp(service.store, email, now)
    await complete_setup(service.store, digest(token), hash_password(password), totp_secret, now)
    return account.id


async def setup_link(service: Service, email: str, role: str) -> str:
    """An account with its setup link still unused: the link's path."""
    now = service.conversation.clock()
    await add_account(service.store, email, role, now)
    token = new_token()
    await add_setup_token(service.store, email, digest(token), now + timedelta(hours=1), now)
    return f"/staff/setup/{token}"


def server(service: Service) -> TestServer:
    """The web chat's application with the console at /staff, as bot/app.py builds it."""
    return TestServer(WebChat(service, {"/staff": lambda: build_console(service)}).app())


def form_token(html: str) -> str:
    field = BeautifulSoup(html, "html.parser").find("input", {"name": "csrf"})
    assert field is not None, html
    value = field.get("value")
    assert isinstance(value, str)
    return value


async def sign_in(client: TestClient[Any, Any], email: str, password: str = PASSWORD, code: str = "") -> ClientResponse:
    """Opens the sign-in page and posts the form as a browser would; the response is not followed."""
    page = await client.get("/staff/login")
    csrf = form_token(await page.text())
    data = {"csrf": csrf, "email": email, "password": password, "code": code, "next": "/staff/"}
    return await client.post("/staff/login", data=data, allow_redirects=False)


async def signed_in(client: TestClient[Any, Any], service: Service, email: str, role: str) -> tuple[int, str]:
    """Signs in a new account in `client` (any earlier session's cookies dropped): its id and its CSRF token."""
    account = await add_staff(service, email, role)
    client.session.cookie_jar.clear()
    assert (await sign_in(client, email)).status == 303
    return account, form_token(await (await client.get("/staff/")).text())


async def audit_entries(service: Service, action: str | None = None) -> list[AuditEntry]:
    """The audit log, oldest first (only `action`'s entries when given)."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    async with service.store.unit(write=False) as unit:
        return list(await unit.session.scalars(query))

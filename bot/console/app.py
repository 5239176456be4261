"""The staff console's aiohttp application, mounted at /staff beside the web chat by the composition root.

One middleware, the guard, keeps the console's rules for every request: off (404) until an enabled staff
account exists; the route table (bot/console/routes.py) says who may use each route; a signed-in
browser is known by its own cookie (never the residents'), a random token whose digest names a session
stored in the database; every POST carries a CSRF token. Here too: the layout every page renders in
(`render`), signing in and out, and setting a password from a setup link. The pages themselves are parts
(`PAGES`, a `bot.console.page.Page` each: dashboard.py, events.py, data.py, quotes.py, people.py,
applications.py, selection.py, team.py, audit.py), each route's handler found by its rule's name.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import segno
from aiohttp import web

from bot.console import accounts
from bot.console.accounts import Outcome, Role
from bot.console.applications import ApplicationsPage
from bot.console.audit import AuditPage
from bot.console.dashboard import DashboardPage
from bot.console.data import DataPage
from bot.console.events import EventsPage
from bot.console.page import STAFF, Page, Words, actor
from bot.console.people import PeoplePage
from bot.console.quotes import QuotesPage
from bot.console.routes import NAV, ROUTES, RULES, STATIC, Rule
from bot.console.selection import SelectionPage
from bot.console.team import TeamPage
from bot.console.texts import LANGUAGES, TEXTS, ConsoleLanguage
from bot.service import Service
from handlers.limits import WindowCounts
from handlers.web.guard import client_address
from storage.audit import audit
from storage.staff_accounts import (
    SignedIn,
    any_active_account,
    close_session,
    complete_setup,
    open_session,
    session_for,
    setup_account,
)

logger = logging.getLogger(__name__)

PREFIX = "/staff"
COOKIE = "wspolnota_staff"  # never the residents' wspolnota_visit
FORM_COOKIE = "wspolnota_staff_form"  # a signed-out browser's CSRF token (double submit): login and setup
LANGUAGE_COOKIE = "wspolnota_staff_lang"
ADDRESS_ATTEMPTS = 30  # sign-in attempts from one client address in LIMIT_WINDOW
EMAIL_ATTEMPTS = accounts.LOCK_AFTER  # failed sign-ins for one email (known or not) in LIMIT_WINDOW
LIMIT_WINDOW = accounts.LOCK_FOR.total_seconds()
_HERE = Path(__file__).parent
# The console's pages; signing in and out and setting a password are the Console's own.
PAGES: tuple[type[Page], ...] = (
    DashboardPage,
    EventsPage,
    DataPage,
    QuotesPage,
    PeoplePage,
    ApplicationsPage,
    SelectionPage,
    TeamPage,
    AuditPage,
)
# What the guard learnt of a signed-out request, for its handler: the form's CSRF token.
FORM_TOKEN: web.RequestKey[tuple[str, bool]] = web.RequestKey("form_token")  # (token, new)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Console:
    """The console's pages and its guard."""

    def __init__(self, service: Service, prefix: str = PREFIX) -> None:
        self.service = service
        self.store = service.store
        self.prefix = prefix
        self.clock = service.conversation.clock
        settings = service.settings
        self.idle = timedelta(minutes=settings.staff_session_idle_minutes)
        self.lifetime = timedelta(hours=settings.staff_session_hours)
        self.secure = settings.web_secure_cookie
        seconds = lambda: self.clock().timestamp()  # noqa: E731 - the limiter's clock is the engine's
        self.by_address = WindowCounts(seconds, LIMIT_WINDOW)
        self.by_email = WindowCounts(seconds, LIMIT_WINDOW)
        self.pages: tuple[Page, ...] = tuple(page(self) for page in PAGES)
        self.texts = _merged(TEXTS, *(page.WORDS for page in PAGES))
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        for rule in ROUTES:
            app.router.add_route(rule.method, rule.path, self._handler(rule.name), name=rule.name)
        app.router.add_static(STATIC.path, _HERE / "static", name=STATIC.name)
        return app

    def _handler(self, name: str) -> Handler:
        owners = [part for part in (self, *self.pages) if callable(getattr(part, name, None))]
        if len(owners) != 1:
            raise LookupError(f"console route {name!r} needs exactly one handler, found {len(owners)}")
        handler: Handler = getattr(owners[0], name)
        return handler

    # -- the guard -----------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not await any_active_account(self.store):
            raise web.HTTPNotFound()  # the console is off: nothing says it exists
        route = request.match_info.route
        if request.match_info.http_exception is not None:
            return await handler(request)  # 404 or 405: the router's answer
        rule = RULES.get(route.name or "")
        if rule is None:  # a route nobody gave a rule: refused to everyone
            logger.error("Console route %s has no rule in bot/console/routes.py; refused", route.resource)
            return self._refuse(request, 403)
        signed = await self._signed_in(request)
        request[STAFF] = signed
        if rule.role is not None:
            if signed is None:
                stale = bool(request.cookies.get(COOKIE))  # a session that ended (idle, too old, disabled)
                if request.method == "GET":
                    note = "&note=expired" if stale else ""
                    to_login = web.HTTPSeeOther(f"{self.prefix}/login?next={quote(request.path_qs, safe='')}{note}")
                    if stale:
                        to_login.del_cookie(COOKIE, path=self.prefix)
                    raise to_login
                return self._refuse(request, 403)
            if not Role(signed.account.role).may(rule.role):
                return self._refuse(request, 403)
        if request.method == "POST" and not await self._csrf_ok(request, rule, signed):
            return self._refuse(request, 403)
        response = await handler(request)
        if not response.prepared:  # a streamed download set its own headers before sending them
            response.headers["Cache-Control"] = "no-store"
        return response

    async def _signed_in(self, request: web.Request) -> SignedIn | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        return await session_for(self.store, accounts.digest(token), self.clock(), self.idle, self.lifetime)

    async def _csrf_ok(self, request: web.Request, rule: Rule, signed: SignedIn | None) -> bool:
        form = await request.post()
        given = form.get("csrf")
        if not isinstance(given, str) or not given:
            return False
        # A signed-in browser's forms carry its session's token; a signed-out one's, its form cookie's. A public
        # form (setting a password from a link) may be opened signed in or not: either token it was given.
        expected = [signed.csrf_token] if signed is not None else []
        if rule.role is None:
            expected.append(request.cookies.get(FORM_COOKIE, ""))
        return any(token and hmac.compare_digest(given.encode(), token.encode()) for token in expected)

    def _refuse(self, request: web.Request, status: int) -> web.Response:
        message = self.texts[self.language(request)]["forbidden"]
        return self.render(request, "message.html", {"message": message}, status=status)

    # -- rendering -----------------------------------------------------------------------------

    def language(self, request: web.Request) -> ConsoleLanguage:
        wanted = request.query.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
        for language in LANGUAGES:
            if wanted == language:
                return language
        return "pl"

    def render(
        self, request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
    ) -> web.Response:
        """A page in the console's layout, in the browser's language, with the links its role may follow."""
        language = self.language(request)
        signed = request.get(STAFF)
        text = self.texts[language]
        role = Role(signed.account.role) if signed else None
        nav = [
            (text[key], self.prefix + RULES[name].path, RULES[name].path)
            for key, name in NAV
            if role is not None and role.may(RULES[name].role or Role.FIELD)
        ]
        here = self._page_of(request)
        values = {
            "t": text,
            "lang": language,
            "prefix": self.prefix,
            "signed": signed,
            "nav": nav,
            "here": here,
            "role_name": text[f"role_{signed.account.role}"] if signed else "",
            "csrf": signed.csrf_token if signed else self._form_token(request),
            "other_language": self._other_language(request, here, text["other_language_code"]),
        }
        html = self.templates.get_template(template).render(values | context)
        response = web.Response(text=html, content_type="text/html", status=status)
        response.headers["Cache-Control"] = "no-store"
        if request.query.get("lang") == language:
            self._cookie(response, LANGUAGE_COOKIE, language, max_age=365 * 86400)
        if signed is None and request.get(FORM_TOKEN, ("", False))[1]:
            self._cookie(response, FORM_COOKIE, request[FORM_TOKEN][0])
        return response

    def _other_language(self, request: web.Request, here: str, language: str) -> str:
        """The same page in the other language: a GET keeps its query (a list's filters, its page)."""
        kept = [(k, v) for k, v in request.query.items() if k != "lang"] if request.method == "GET" else []
        return f"{self.prefix}{here}?{urlencode([*kept, ('lang', language)])}"

    def _page_of(self, request: web.Request) -> str:
        """The page (a path inside the console a GET can open) this response belongs to: its own path, or
        for a form's answer (/people/erase, /data/export) the nearest page above it (/people, /data)."""
        path = request.path[len(self.prefix) :] or "/"
        resource = request.match_info.route.resource
        if request.method == "GET" or (resource is not None and any(r.method == "GET" for r in resource)):
            return path
        pages = {rule.path for rule in ROUTES if rule.method == "GET" and "{" not in rule.path}
        while path not in pages and path.count("/") > 1:
            path = path.rsplit("/", 1)[0]
        return path if path in pages else "/"

    def _form_token(self, request: web.Request) -> str:
        """The signed-out browser's CSRF token: its cookie's, or a new one the page sets."""
        if FORM_TOKEN not in request:
            current = request.cookies.get(FORM_COOKIE)
            request[FORM_TOKEN] = (current or secrets.token_urlsafe(24), not current)
        return request[FORM_TOKEN][0]

    def _cookie(self, response: web.StreamResponse, name: str, value: str, *, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            path=self.prefix,
            httponly=True,
            samesite="Strict",
            secure=self.secure,
            max_age=max_age,
        )

    def _address(self, request: web.Request) -> str:
        forwarded = request.headers.get("X-Forwarded-For")
        return client_address(request.remote, forwarded, trusted_proxy=self.service.settings.web_trusted_proxy)

    # -- signing in and out --------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        if request.get(STAFF) is not None:
            raise web.HTTPSeeOther(f"{self.prefix}/")
        notes = {"done": "setup_done", "out": "signed_out", "expired": "expired"}
        note = notes.get(request.query.get("note", ""))
        return self._login_page(request, note=note)

    def _login_page(
        self,
        request: web.Request,
        *,
        problem: str | None = None,
        note: str | None = None,
        email: str = "",
        status: int = 200,
        ask_code: bool = False,
    ) -> web.Response:
        next_path = _local(request.query.get("next"), self.prefix)
        text = self.texts[self.language(request)]
        context = {
            "problem": text[problem] if problem else None,
            "note": text[note] if note else None,
            "email": email,
            "next": next_path,
            "ask_code": ask_code,
        }
        return self.render(request, "login.html", context, status=status)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        email = str(form.get("email", "")).strip().lower()[:254]
        password = str(form.get("password", ""))[:1024]
        code = str(form.get("code", ""))[:16]
        address_key, email_key = self._address(request), accounts.digest(email)
        if self.by_address.count(address_key) >= ADDRESS_ATTEMPTS or self.by_email.count(email_key) >= EMAIL_ATTEMPTS:
            return self._login_page(request, problem="locked", email=email, status=429)
        attempt = await accounts.sign_in(self.store, email, password, code, self.clock())
        if attempt.outcome is Outcome.NEEDS_CODE:
            return self._login_page(request, problem="needs_code", email=email, ask_code=True)
        if attempt.outcome is not Outcome.SIGNED_IN or attempt.account is None:
            self.by_address.take(address_key)
            if attempt.outcome is Outcome.REFUSED:
                self.by_email.take(email_key)
            locked = attempt.outcome is Outcome.LOCKED or self.by_email.count(email_key) >= EMAIL_ATTEMPTS
            logger.info("Console: a sign-in was refused (%s)", "locked" if locked else "wrong details")
            problem = "locked" if locked else "refused"
            return self._login_page(request, problem=problem, email=email, status=429 if locked else 401)
        # A new session, whatever the browser had before: a cookie planted before sign-in is worth nothing.
        token, csrf = accounts.new_token(), accounts.new_token()
        old = request.cookies.get(COOKIE)
        now = self.clock()
        await open_session(
            self.store,
            attempt.account.id,
            accounts.digest(token),
            csrf,
            now,
            replaces=accounts.digest(old) if old else None,
        )
        await audit(self.store, actor(attempt.account.id), "staff_sign_in", {}, now)
        response = web.HTTPSeeOther(_local(str(form.get("next", "")), self.prefix))
        self._cookie(response, COOKIE, token)
        response.del_cookie(FORM_COOKIE, path=self.prefix)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        signed = request[STAFF]
        assert signed is not None  # the route table lets only a signed-in browser here
        token = request.cookies.get(COOKIE, "")
        await close_session(self.store, accounts.digest(token))
        await audit(self.store, actor(signed.account.id), "staff_sign_out", {}, self.clock())
        response = web.HTTPSeeOther(f"{self.prefix}/login?note=out")
        response.del_cookie(COOKIE, path=self.prefix)
        raise response

    # -- setting a password --------------------------------------------------------------------

    async def setup_form(self, request: web.Request) -> web.StreamResponse:
        account = await setup_account(self.store, accounts.digest(request.match_info["token"]), self.clock())
        if account is None:
            return self._invalid_link(request)
        secret = accounts.new_totp_secret() if account.totp_required else None
        return self._setup_page(request, account.email, secret)

    def _setup_page(
        self, request: web.Request, email: str, secret: str | None, *, problem: str | None = None, status: int = 200
    ) -> web.Response:
        text = self.texts[self.language(request)]
        uri = accounts.totp_uri(secret, email) if secret else None
        qr = segno.make(uri, error="m").svg_inline(scale=5, title=text["totp_qr"]) if uri else None
        context = {
            "email": email,
            "secret": secret,
            "uri": uri,
            "qr": qr,
            "problem": text[problem] if problem else None,
            "action": request.path,
        }
        return self.render(request, "setup.html", context, status=status)

    def _invalid_link(self, request: web.Request) -> web.Response:
        text = self.texts[self.language(request)]
        return self.render(request, "message.html", {"message": text["link_invalid"]}, status=404)

    async def setup(self, request: web.Request) -> web.StreamResponse:
        digest = accounts.digest(request.match_info["token"])
        now = self.clock()
        account = await setup_account(self.store, digest, now)
        if account is None:
            return self._invalid_link(request)
        form = await request.post()
        password, again = str(form.get("password", ""))[:1024], str(form.get("password_again", ""))[:1024]
        secret = str(form.get("secret", "")) if account.totp_required else None
        if secret is not None and (len(secret) != 32 or not secret.isalnum()):
            secret = accounts.new_totp_secret()  # not ours: a fresh one, to be scanned again
            return self._setup_page(request, account.email, secret, problem="totp_wrong", status=400)
        problem = accounts.password_problem(password) or (None if password == again else "password_differ")
        step = accounts.totp_step(secret, str(form.get("code", "")), now) if secret is not None else None
        if problem is None and secret is not None and step is None:
            problem = "totp_wrong"
        if problem is not None:
            return self._setup_page(request, account.email, secret, problem=problem, status=400)
        password_hash = accounts.hash_password(password)
        done = await complete_setup(self.store, digest, password_hash, secret, now, totp_step=step)
        if done is None:
            return self._invalid_link(request)
        await audit(self.store, actor(done.id), "staff_setup", {"totp": secret is not None}, now)
        raise web.HTTPSeeOther(f"{self.prefix}/login?note=done")


def _merged(*parts: Words) -> Words:
    """The console's words: the base texts and every page's, a key never given twice."""
    merged: Words = {language: {} for language in LANGUAGES}
    for part in parts:
        for language in LANGUAGES:
            twice = merged[language].keys() & part.get(language, {}).keys()
            if twice:
                raise ValueError(f"console texts given twice ({language}): {', '.join(sorted(twice))}")
            merged[language].update(part.get(language, {}))
    return merged


def _local(path: str | None, prefix: str) -> str:
    """Where to go after signing in: a console page only (never another site: `//evil`, `/\\evil`)."""
    if path and path.startswith(prefix + "/") and not path.startswith("//") and "\\" not in path:
        return path
    return f"{prefix}/"


def build_console(service: Service, prefix: str = PREFIX) -> web.Application:
    """The console as an aiohttp application, for the web transport to mount at `prefix`."""
    return Console(service, prefix).app()

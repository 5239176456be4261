"""The web chat: a third thin channel over the engine, for a stand's tablet and any browser.

Pages are rendered on the server and work without JavaScript; a small script only swaps the
page in place (so a screen reader hears the new question), counts characters and resets a
kiosk. Who a visitor is lives in a signed cookie; what they answered lives in the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.service import Service
from bot.supervision import ChannelFailed
from bot.transports.web_server import SERVER_NAME, CannotListen, Limits, Throttled, serve
from handlers.definitions.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, Language, as_language
from handlers.engine.answers import MAX_INPUT
from handlers.engine.faults import is_database_fault
from handlers.engine.messages import APPLICATION, APPLICATION_ENTRY, CONSULTATION, Delivery, Inbound, Reply, ReplyKind
from handlers.limits import TokenBucket, WindowCounts
from handlers.web.guard import (
    SERVER_KIOSK,
    Allowance,
    Guard,
    Who,
    client_address,
    client_tag,
    kiosk_tokens,
)
from handlers.web.kiosks import KioskRegistry
from handlers.web.ui import FAREWELLS, clean_source, inbound_from_form, preferred_language, view

logger = logging.getLogger(__name__)

CHANNEL = "web"
COOKIE = "wspolnota_visit"
MAX_BODY = 1024 * 1024  # a form bigger than this is refused before it is read
VISITORS_KEPT = 10_000  # visitors whose last replies are remembered in memory
FAREWELL_IDLE = 20  # seconds a kiosk shows "thank you" before it clears itself
MAX_PATH = 200  # bytes of a decoded path; ours are short, a longer one is a probe (and too long for a file name)
RESENT_FIELDS = ("turn", "question", "text", "button")  # what a page keeps of a post the database did not take
APPLICATION_PATH = f"/{APPLICATION_ENTRY}"  # the same page and cookie, for the application to the working groups
_ASSETS = "web_assets"
_SECURITY_HEADERS = {
    # No inline script or style anywhere: our one script and stylesheet come from this server.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Server": SERVER_NAME,  # not aiohttp's name and version
}


@dataclass(frozen=True, slots=True)
class Visit:
    """What the visitor's signed cookie holds; `token` names them (as a pseudonym) to the engine."""

    token: str
    kiosk: str | None = None  # the stand's kiosk (its token's name) this browser is; None for a phone
    source: str | None = None  # the event (and stand) they came from
    language: str | None = None  # asked for in the link (`?lang=uk`)
    assisted: bool = False  # a volunteer is helping this person (kiosk)
    application: bool = False  # on `/grupy`: applying to the working groups, not answering the consultation

    @property
    def path(self) -> str:
        """The page this visitor is on: the consultation's, or the application's."""
        return APPLICATION_PATH if self.application else "/"

    @property
    def say(self) -> str:
        """Where that page's forms post: two tabs, one on each page, each answer their own questionnaire."""
        return f"{APPLICATION_PATH}/say" if self.application else "/say"

    def next_person(self) -> Visit:
        """A fresh visitor at the same stand (in the stand's language, not the last person's)."""
        return Visit(_token(), self.kiosk, self.source, self.language, application=self.application)


def _token() -> str:
    return secrets.token_urlsafe(24)


class WebChat:
    """The aiohttp application: the page, the posts it makes, and the kiosk's reset."""

    def __init__(self, service: Service, subapps: Mapping[str, Callable[[], web.Application]] | None = None) -> None:
        self.service = service
        # Applications the composition root mounts beside the chat (the staff console at /staff), by prefix:
        # under the chat's middlewares, so its security headers hold there too.
        self.subapps = dict(subapps or {})
        self.settings = service.settings
        self.catalog = service.config.catalog
        self.signer = URLSafeTimedSerializer(service.key, salt="wspolnota-web-visit")
        self.csrf_key = hmac.new(service.key, b"wspolnota-web-csrf", hashlib.sha256).digest()
        self.storage_down = Throttled(
            logging.WARNING, "Web chat: the database did not answer (%s); visitors are asked to try again", log=logger
        )
        self.limiter = TokenBucket(self.settings.web_rate_limit)  # posts per visitor and minute
        # Ballot stuffing: new visitors and finished submissions per place and hour, on the engine's
        # clock (tests move it); the stands' kiosk tokens.
        self.clock = lambda: service.conversation.clock().timestamp()
        settings = self.settings
        self.guard = Guard(
            Allowance(
                settings.web_new_visitors_per_hour,
                settings.web_kiosk_new_visitors_per_hour,
                settings.web_completions_per_hour,
                settings.web_kiosk_completions_per_hour,
            ),
            self.clock,
        )
        self.refusals_logged = WindowCounts(self.clock)
        self.kiosks = KioskRegistry(
            service.read_kiosks, kiosk_tokens(settings.web_kiosk_tokens), self.clock, server=settings.web_kiosk
        )
        # The replies a post produced, shown by the page the browser is sent to next;
        # (replies, farewell). After a restart a page shows the respondent's state instead.
        self.shown: OrderedDict[str, tuple[list[Reply], bool]] = OrderedDict()
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("bot.transports", f"{_ASSETS}/templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._headers, self._sane, self._kiosks_known])
        app.router.add_get("/", self.page)
        app.router.add_get(APPLICATION_PATH, self.page)
        app.router.add_post("/say", self.say)
        app.router.add_post(f"{APPLICATION_PATH}/say", self.say)  # each page's posts say which page they are from
        app.router.add_post("/reset", self.reset)
        app.router.add_post("/assisted", self.assisted)
        app.router.add_get("/healthz", self.health)
        app.router.add_static("/static/", Path(__file__).with_name(_ASSETS) / "static")
        for prefix, build in self.subapps.items():
            app.add_subapp(prefix, build())
        return app

    # -- visitors ------------------------------------------------------------------------------

    def _visit(self, request: web.Request) -> tuple[Visit, bool]:
        """The visitor this request comes from, and whether they are new (or their kiosk session lapsed)."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data, signed = self.signer.loads(
                    raw, max_age=int(self.settings.web_session_days * 86400), return_timestamp=True
                )
                visit = Visit(**data)
            except (BadSignature, TypeError, ValueError):
                pass
            else:
                if visit.kiosk is not None and not self.kiosks.valid(visit.kiosk):
                    # An older cookie (`kiosk: false`), or a stand's token staff have removed since: a phone.
                    visit = replace(visit, kiosk=None, assisted=False)
                # A kiosk's own script clears it after web_kiosk_idle; should the script not run,
                # the server forgets the person a little later all the same.
                idle = time.time() - signed.timestamp()
                if visit.kiosk and idle > 4 * self.settings.web_kiosk_idle:
                    return self._admit(request, visit.next_person()), True
                return visit, False
        kiosk = SERVER_KIOSK if self.settings.web_kiosk else None
        return self._admit(request, Visit(_token(), kiosk, clean_source(self.settings.web_event))), True

    def _who(self, request: web.Request, visit: Visit) -> Who:
        """The place a request comes from, for the hourly allowances (never logged, never stored)."""
        forwarded = request.headers.get("X-Forwarded-For")
        address = client_address(request.remote, forwarded, trusted_proxy=self.settings.web_trusted_proxy)
        return Who(address, visit.kiosk)

    def _admit(self, request: web.Request, visit: Visit) -> Visit:
        """A new visitor, if their place has not started too many this hour.

        Raises:
            web.HTTPTooManyRequests: a polite page in their language, without a cookie.
        """
        who = self._who(request, visit)
        if self.guard.admit(who):
            return visit
        if self.refusals_logged.take(who.key, 1):  # once an hour per place, not once per request
            logger.warning(
                "Refusing new visitors from one %s: more than its allowance this hour",
                f"kiosk ({visit.kiosk})" if visit.kiosk else "client address",
            )
        language = self._language(request, visit) or DEFAULT_LANGUAGE
        problem = self.service.conversation.presenter.problem("web_too_many_visitors", language)
        page = self._render(request, visit, [problem], status=429)
        raise web.HTTPTooManyRequests(
            text=page.text,
            content_type="text/html",
            headers={"Retry-After": str(self.guard.retry_after(who)), "Cache-Control": "no-store"},
        )

    def _remember(self, response: web.StreamResponse, visit: Visit) -> None:
        response.set_cookie(
            COOKIE,
            self.signer.dumps(asdict(visit)),
            # A kiosk's cookie ends with the browser; a phone can come back for weeks.
            max_age=None if visit.kiosk else int(self.settings.web_session_days * 86400),
            httponly=True,
            samesite="Strict",
            secure=self.settings.web_secure_cookie,
            path="/",
        )

    def _see_page(self, visit: Visit) -> web.Response:
        """Sends the browser to the page (post/redirect/get), with the visitor's cookie."""
        response = web.Response(status=303, headers={"Location": visit.path})
        self._remember(response, visit)
        return response

    def _csrf(self, visit: Visit) -> str:
        return hmac.new(self.csrf_key, visit.token.encode(), hashlib.sha256).hexdigest()[:32]

    def _language(self, request: web.Request, visit: Visit) -> Language | None:
        return as_language(visit.language) or preferred_language(request.headers.get("Accept-Language"))

    def _inbound(
        self, request: web.Request, visit: Visit, fields: Mapping[str, str], delivery: Delivery | None = None
    ) -> Inbound:
        inbound = inbound_from_form(
            fields,
            self.service.respondent(CHANNEL, visit.token),
            source=visit.source,
            language=self._language(request, visit),
            assisted=visit.assisted and visit.kiosk is not None,
            delivery=delivery,
        )
        # Each page answers its own questionnaire, whichever the visitor last answered in.
        inbound = replace(inbound, questionnaire=APPLICATION if visit.application else CONSULTATION)
        who = self._who(request, visit)
        flag = self.guard.flag(who)
        if flag is None:
            return inbound
        # The engine learns that this place is doubted and a tag of it, never the address.
        day = self.service.conversation.clock().date()
        client = f"kiosk:{visit.kiosk}" if visit.kiosk else client_tag(self.service.key, who.address, day)
        return replace(inbound, flag=flag, client=client)

    async def _show(self, request: web.Request, visit: Visit) -> list[Reply]:
        """Where the visitor is, from the database (a new visitor, a resumed one, after a restart)."""
        return await self.service.conversation.show(self._inbound(request, visit, {}))

    def _keep(self, visit: Visit, replies: list[Reply], *, farewell: bool = False) -> None:
        self.shown.pop(visit.token, None)
        self.shown[visit.token] = (replies, farewell)
        while len(self.shown) > VISITORS_KEPT:
            self.shown.popitem(last=False)

    # -- pages ---------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The chat page: where the visitor is now. `?event=`, `?kiosk=1` and `?lang=` set up a visit;
        `/grupy` is the application to the working groups, `/` the consultation."""
        visit, _ = self._visit(request)
        applying = request.path == APPLICATION_PATH
        off = applying and self.service.conversation.call is None  # no call: the consultation, under a note
        applying = applying and not off
        if visit.application != applying:
            self.shown.pop(visit.token, None)  # the other page's last replies are not this one's
            visit = replace(visit, application=applying)
        query = request.query
        if {"event", "kiosk", "lang"} & set(query):
            if "kiosk" in query:
                # Only a stand's token makes a kiosk; `?kiosk=1` (or a wrong token) leaves a phone a phone,
                # and `?kiosk=0` makes a kiosk an ordinary browser again.
                kiosk = self.kiosks.name_of(query["kiosk"])
                if kiosk != visit.kiosk:
                    visit = self._admit(request, replace(visit.next_person(), kiosk=kiosk))
            if "event" in query:
                visit = replace(visit, source=clean_source(query["event"]))
            if "lang" in query:
                visit = replace(visit, language=as_language(query["lang"]))
            return self._see_page(visit)  # a clean address to reload
        kept = self.shown.get(visit.token)
        farewell = False
        if kept is not None:
            replies, farewell = kept
            if farewell:
                del self.shown[visit.token]  # "thank you" once; then the next person's start
        else:
            replies = await self._show(request, visit)
        if off and replies:
            replies = [self.service.conversation.presenter.note("application_off", replies[-1].language), *replies]
        return self._render(request, visit, replies, farewell=farewell)

    def _render(
        self,
        request: web.Request,
        visit: Visit,
        replies: list[Reply],
        *,
        farewell: bool = False,
        status: int = 200,
        resend: Mapping[str, str] | None = None,
    ) -> web.Response:
        """The chat page; `resend` is a post to offer again as it was (the database did not take it)."""
        language: Language = replies[-1].language if replies else self._language(request, visit) or DEFAULT_LANGUAGE
        views = [view(reply) for reply in replies]
        html = self.templates.get_template("chat.html").render(
            views=views,
            lang=language,
            t=lambda key, **values: self.catalog(key, language, **values),
            csrf=self._csrf(visit),
            say=visit.say,
            turn=secrets.token_urlsafe(12),
            kiosk=visit.kiosk,
            assisted=visit.assisted,
            idle=FAREWELL_IDLE if farewell else int(self.settings.web_kiosk_idle) if visit.kiosk else 0,
            farewell=farewell,
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            resend=resend,
        )
        response = web.Response(text=html, content_type="text/html", status=status)
        response.headers["Cache-Control"] = "no-store"  # never shown again from the cache to the next person
        self._remember(response, visit)
        return response

    # -- posts ---------------------------------------------------------------------------------

    async def _checked_form(self, request: web.Request, visit: Visit) -> dict[str, str] | web.StreamResponse:
        """The posted fields, or the page to show instead (too many posts, a stale form, too big, too slow,
        not text)."""
        if not self.limiter.allow(visit.token):
            response = await self._refuse(request, visit, 429, "web_too_many")
            response.headers["Retry-After"] = "10"
            return response
        try:
            async with asyncio.timeout(self.settings.web_read_timeout):
                form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            length = request.content_length or MAX_BODY
            replies = await self._current(request, visit)
            # The question's own limit (as its page says), not the engine's outer bound.
            limit = next((reply.max_length for reply in reversed(replies) if reply.max_length), MAX_INPUT)
            return await self._refuse(request, visit, 413, "error_too_long", replies, length=length, limit=limit)
        except TimeoutError:
            response = await self._refuse(request, visit, 408, "web_too_slow")
            response.force_close()  # the rest of the body may still come: no lingering for it
            return response
        except (ValueError, LookupError, web.RequestPayloadError):
            # Not UTF-8 (UnicodeDecodeError), an unknown charset, a broken multipart or chunked body.
            return await self._refuse(request, visit, 400, "web_bad_request")
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        if any("\x00" in key or "\x00" in value for key, value in fields.items()):
            return await self._refuse(request, visit, 400, "web_bad_request")  # PostgreSQL text cannot hold NUL
        if not hmac.compare_digest(fields.get("csrf", ""), self._csrf(visit)):
            # A form from another site, or from before the cookie changed (a kiosk reset).
            return await self._refuse(request, visit, 403, "web_expired")
        return fields

    async def _current(self, request: web.Request, visit: Visit) -> list[Reply]:
        """The page as the visitor last saw it, without its notes (or where they are, from the database)."""
        kept = self.shown.get(visit.token)
        if kept is not None and not kept[1]:
            return [r for r in kept[0] if r.kind not in {ReplyKind.PROBLEM, ReplyKind.INFO}] or kept[0]
        return await self._show(request, visit)

    async def _refuse(
        self,
        request: web.Request,
        visit: Visit,
        status: int,
        key: str,
        replies: list[Reply] | None = None,
        **values: Any,
    ) -> web.Response:
        """The page as it was (without its notes), under a problem saying why the post was not taken."""
        replies = replies or await self._current(request, visit)
        problem = self.service.conversation.presenter.problem(key, replies[-1].language, **values)
        return self._render(request, visit, [problem, *replies], status=status)

    async def say(self, request: web.Request) -> web.StreamResponse:
        """One answer or button press; the browser is then sent to the page (post/redirect/get)."""
        visit, fresh = self._visit(request)
        applying = request.path.startswith(f"{APPLICATION_PATH}/")
        if visit.application != applying:  # posted from the other page (another tab): that page's questionnaire
            visit = replace(visit, application=applying)
        if fresh:  # no cookie, or a kiosk session that lapsed: start at the beginning
            return self._see_page(visit)
        fields = await self._checked_form(request, visit)
        if isinstance(fields, web.StreamResponse):
            return fields
        # The page's turn id makes a double-clicked or re-sent form count once.
        turn = fields.get("turn", "")[:24] or _token()
        delivery = Delivery(CHANNEL, f"{visit.token[:32]}.{turn}", payload={})
        replies = await self.service.conversation.handle(self._inbound(request, visit, fields, delivery))
        if replies and replies[-1].kind is ReplyKind.THANKS:
            self.guard.completed(self._who(request, visit))  # finished: counts toward its place's hour
        if visit.kiosk and replies and replies[-1].kind in FAREWELLS:
            self.shown.pop(visit.token, None)
            visit = self._admit(request, visit.next_person())
            self._keep(visit, replies, farewell=True)
        else:
            self._keep(visit, replies)
        return self._see_page(visit)

    async def reset(self, request: web.Request) -> web.StreamResponse:
        """A kiosk hands over to the next person (its idle timer, or the volunteer's button)."""
        visit, fresh = self._visit(request)
        if not fresh:
            fields = await self._checked_form(request, visit)
            if isinstance(fields, web.StreamResponse):
                return fields
            self.shown.pop(visit.token, None)
            visit = self._admit(request, visit.next_person())
        return self._see_page(visit)

    async def assisted(self, request: web.Request) -> web.StreamResponse:
        """A volunteer marks (or unmarks) that they are helping this person; applied with their next step."""
        visit, fresh = self._visit(request)
        if not fresh:
            fields = await self._checked_form(request, visit)
            if isinstance(fields, web.StreamResponse):
                return fields
            # Only a stand's kiosk can say a volunteer helped; a phone's post changes nothing.
            visit = replace(visit, assisted=visit.kiosk is not None and fields.get("assisted") == "yes")
        return self._see_page(visit)

    async def health(self, request: web.Request) -> web.Response:
        """`ok` while every channel runs; otherwise 503 and what each channel is doing (for a supervisor)."""
        health = self.service.health
        if health.ok:
            return web.Response(text="ok\n")
        return web.json_response({"ok": False, "channels": health.report()}, status=503)

    async def _unavailable(self, request: web.Request, error: Exception) -> web.Response:
        """The page saying we could not save this just now, with what the visitor sent kept in its form."""
        self.storage_down(type(error).__name__)  # not the error's text: SQLAlchemy's quotes the statement's values
        visit, _ = self._visit(request)
        resend: dict[str, str] = {}
        if request.method == "POST" and request.path in ("/say", f"{APPLICATION_PATH}/say"):
            try:
                async with asyncio.timeout(self.settings.web_read_timeout):
                    form = await request.post()  # already read, as a rule: then this is the parsed copy
            except (ValueError, LookupError, OSError, web.HTTPException, web.RequestPayloadError):
                pass
            else:
                resend = {name: value for name in RESENT_FIELDS if isinstance(value := form.get(name), str)}
        kept = self.shown.get(visit.token)
        replies = [] if kept is None or kept[1] else [r for r in kept[0] if r.kind is not ReplyKind.PROBLEM]
        language = replies[-1].language if replies else self._language(request, visit) or DEFAULT_LANGUAGE
        key = "web_unavailable" if resend else "web_unavailable_page"
        problem = self.service.conversation.presenter.problem(key, language)
        response = self._render(request, visit, [problem, *replies], status=503, resend=resend or None)
        response.headers["Retry-After"] = "5"
        return response

    @web.middleware
    async def _sane(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Absurd requests, posts from other sites and a database that does not answer get a chat page in
        the visitor's language, never a 500."""
        try:
            if _absurd(request):
                return await self._refuse(request, self._visit(request)[0], 400, "web_bad_request")
            if request.method == "POST" and not _same_origin(request):
                return await self._refuse(request, self._visit(request)[0], 403, "web_other_site")
            return await handler(request)
        except Exception as err:
            # A database fault, passing or not (asyncpg's refused connection or a timeout are OSErrors),
            # gets the "not saved just now" page; anything else is not ours to dress up.
            if not is_database_fault(err):
                raise
            if request.transport is None or request.transport.is_closing():
                raise  # the visitor hung up (a reset while their form was read): nobody to answer
            return await self._unavailable(request, err)

    @web.middleware
    async def _kiosks_known(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Keeps the stands' kiosk tokens current: staff may add or remove one while the service runs."""
        await self.kiosks.refresh()
        return await handler(request)

    @web.middleware
    async def _headers(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as err:  # 404, 405 …
            err.headers.update(_SECURITY_HEADERS)
            raise
        response.headers.update(_SECURITY_HEADERS)
        return response


def _absurd(request: web.Request) -> bool:
    """A path no page of ours has: too long to be a file name, or with a NUL in it or its query."""
    path = request.path
    return (
        len(path.encode(errors="replace")) > MAX_PATH
        or "\x00" in path
        or any("\x00" in key or "\x00" in value for key, value in request.query.items())
    )


def _same_origin(request: web.Request) -> bool:
    """Whether a post's Origin, when the browser names one, is this site (the CSRF token is checked too).

    "null" is let through: with `Referrer-Policy: no-referrer` a browser sends it for our own forms.
    Behind a proxy the site's name may come in X-Forwarded-Host; a form on another site cannot set it.
    """
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    forwarded = request.headers.get("X-Forwarded-Host", "")
    hosts = {request.host.lower(), *(host.strip().lower() for host in forwarded.split(",") if host.strip())}
    try:
        return urlsplit(origin).netloc.lower() in hosts
    except ValueError:  # not even a URL
        return False


class WebChannel:
    """Serves the web chat until `stop` is set."""

    def __init__(self, service: Service, subapps: Mapping[str, Callable[[], web.Application]] | None = None) -> None:
        self.service = service
        self.chat = WebChat(service, subapps)
        self.port: int | None = None  # the port actually bound (the setting may say 0)

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.service.settings
        limits = Limits(settings.web_max_connections, settings.web_read_timeout, settings.web_idle_timeout)
        try:
            async with serve(self.chat.app(), settings.web_host, settings.web_port, limits) as port:
                self.port = port
                logger.info("Web chat on http://%s:%d/", settings.web_host, self.port)
                await stop.wait()
        except CannotListen as err:
            raise ChannelFailed(
                f"the web chat cannot listen on {settings.web_host}:{settings.web_port} ({err.reason}); "
                "set WSPOLNOTA_WEB_PORT to a free port, or WSPOLNOTA_WEB_ENABLED=false"
            ) from err

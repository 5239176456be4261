"""The events with their links, and their posters and the all-codes sheet to download (field staff and up).

The links and files are those of `wspolnota events` and `wspolnota events posters` (reports/posters.py):
the web chat's link carries `?event=SLUG`, Telegram's deep link `?start=SLUG`. A page load never asks
Telegram for the bot's name (the page must not wait on another service, nor fail with it): the web chat's
address is the one this browser reached the console at, and the page's form gives another one, or the
bot's name, as the command's `--web` and `--bot` do. Posters are no personal data: downloads are not audited,
as on the command line.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import segno
from aiohttp import web

from bot.console.page import Layout, Page, Words, attachment
from bot.console.texts import ConsoleLanguage
from bot.kiosks import stand_kiosks
from handlers.definitions.events import Event
from handlers.engine.presenter import WARSAW
from reports.posters import SHEET, codes_sheet_pdf, deep_link, poster_link, poster_pdf, web_link

Link = Callable[[Event], str]

LINKS = ("web", "telegram")  # what a poster's code may carry: `?link=`
# Telegram's usernames: 5 to 32 of a-z, 0-9 and _, starting with a letter (a bot's ends in "bot").
BOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
MAX_WEB = 200  # characters of a web chat's address given in the form
PDF = "application/pdf"


class Refused(Exception):
    """A choice the page cannot act on: its text key."""


@dataclass(frozen=True, slots=True)
class Addresses:
    """Where the links lead: the web chat's address (`given` when the form named it) and the bot, if known."""

    web: str
    bot: str | None
    given: bool

    def query(self, link: str | None = None) -> str:
        """The query string that carries this choice to a download (empty when nothing was given)."""
        pairs = {"link": link, "web": self.web if self.given else None, "bot": self.bot}
        return urlencode({key: value for key, value in pairs.items() if value})


class EventsPage(Page):
    """The events' table (links, QR previews, poster downloads), the stands' kiosks, and the PDFs."""

    WORDS: ClassVar[Words] = {
        "pl": {
            "events_heading": "Wydarzenia i plakaty",
            "events_explain": "Linki i kody QR każdego wydarzenia, jak w poleceniu „wspolnota events”: kto wejdzie "
            "przez taki link, ma odpowiedzi zapisane przy tym wydarzeniu. Plakaty (A4, PDF) są te same co z "
            "„wspolnota events posters”.",
            "events_addresses": "Dokąd prowadzą linki",
            "events_web_field": "Adres czatu w przeglądarce",
            "events_web_hint": "Publiczny adres, np. https://ankieta.example.pl. Bez niego: adres, pod którym "
            "otwierasz teraz konsolę.",
            "events_bot_field": "Nazwa bota w Telegramie",
            "events_bot_hint": "Np. wspolnota_bot (bez @). Konsola nie pyta o nią Telegramu; bez niej nie ma "
            "linków do Telegrama.",
            "events_show": "Pokaż linki",
            "events_using": "Linki do czatu prowadzą do: {web}",
            "events_sheet_heading": "Kody wszystkich wydarzeń",
            "events_sheet_explain": "Jedna kartka z kodami wszystkich wydarzeń (sześć na stronę) dla stoisk.",
            "events_sheet_web": "Arkusz kodów – czat w przeglądarce (PDF)",
            "events_sheet_telegram": "Arkusz kodów – Telegram (PDF)",
            "events_list_heading": "Wydarzenia",
            "events_event": "Wydarzenie i kod",
            "events_when_where": "Kiedy i gdzie",
            "events_links": "Linki i plakaty",
            "events_qr": "Kod QR (czat)",
            "events_qr_title": "Kod QR z linkiem do czatu: {name}",
            "events_web_link": "Czat w przeglądarce:",
            "events_telegram_link": "Telegram:",
            "events_no_bot": "Link do Telegrama: podaj nazwę bota powyżej.",
            "events_poster_web": "Plakat z kodem do czatu (PDF)",
            "events_poster_telegram": "Plakat z kodem do Telegrama (PDF)",
            "events_selected_only": "Tylko dla osób wybranych do grup roboczych: mieszkańcy nie widzą go na liście.",
            "events_optional": "Termin opcjonalny: odbędzie się tylko, jeśli grupa będzie go potrzebować.",
            "events_none": "Brak wydarzeń: dodaj je w pliku config/events.yaml i uruchom „wspolnota check”.",
            "events_kiosks_heading": "Tablety na stoiskach (kioski)",
            "events_kiosk_name": "Nazwa",
            "events_kiosk_origin": "Skąd",
            "events_kiosk_added": "dodany {time}",
            "events_kiosk_configured": "z ustawienia WSPOLNOTA_WEB_KIOSK_TOKENS",
            "events_kiosk_server": "Cały ten serwer jest kioskiem (WSPOLNOTA_WEB_KIOSK=true).",
            "events_kiosks_none": "Brak kiosków.",
            "events_kiosks_hint": "Nowy kiosk: „wspolnota kiosk add --name NAZWA --event KOD” na serwerze "
            "(link kiosku jest pokazywany tylko raz).",
            "events_bad_web": "Adres czatu musi zaczynać się od https:// lub http:// i nie mieć ? ani #.",
            "events_bad_bot": "Nazwa bota to 5–32 liter, cyfr lub _, zaczyna się literą.",
            "events_bad_link": "Nieznany rodzaj linku (czat albo Telegram).",
            "events_unknown": "Nie ma takiego wydarzenia.",
        },
        "en": {
            "events_heading": "Events and posters",
            "events_explain": "Each event's links and QR codes, as `wspolnota events` prints them: whoever comes "
            "in through such a link has their answers recorded with that event. The posters (A4, PDF) are the "
            "same as from `wspolnota events posters`.",
            "events_addresses": "Where the links lead",
            "events_web_field": "The web chat's address",
            "events_web_hint": "The public address, e.g. https://ankieta.example.pl. Without it: the address you "
            "are using for the console now.",
            "events_bot_field": "The bot's Telegram username",
            "events_bot_hint": "E.g. wspolnota_bot (no @). The console does not ask Telegram for it; without it "
            "there are no Telegram links.",
            "events_show": "Show the links",
            "events_using": "The web chat's links lead to: {web}",
            "events_sheet_heading": "Every event's code",
            "events_sheet_explain": "One sheet with every event's code (six a page) for the stands.",
            "events_sheet_web": "Sheet of codes – web chat (PDF)",
            "events_sheet_telegram": "Sheet of codes – Telegram (PDF)",
            "events_list_heading": "Events",
            "events_event": "Event and code",
            "events_when_where": "When and where",
            "events_links": "Links and posters",
            "events_qr": "QR code (web chat)",
            "events_qr_title": "QR code with the web chat's link: {name}",
            "events_web_link": "Web chat:",
            "events_telegram_link": "Telegram:",
            "events_no_bot": "Telegram link: give the bot's username above.",
            "events_poster_web": "Poster with the web chat's code (PDF)",
            "events_poster_telegram": "Poster with the Telegram code (PDF)",
            "events_selected_only": "For the people selected for the working groups only: not listed to residents.",
            "events_optional": "Optional date: held only if the group needs it.",
            "events_none": "No events: add them to config/events.yaml and run `wspolnota check`.",
            "events_kiosks_heading": "Stands' tablets (kiosks)",
            "events_kiosk_name": "Name",
            "events_kiosk_origin": "From",
            "events_kiosk_added": "added {time}",
            "events_kiosk_configured": "the WSPOLNOTA_WEB_KIOSK_TOKENS setting",
            "events_kiosk_server": "This whole server is a kiosk (WSPOLNOTA_WEB_KIOSK=true).",
            "events_kiosks_none": "No kiosks.",
            "events_kiosks_hint": "A new kiosk: `wspolnota kiosk add --name NAME --event CODE` on the server "
            "(a kiosk's link is shown only once).",
            "events_bad_web": "The web chat's address must start with https:// or http:// and have no ? or #.",
            "events_bad_bot": "A bot's username is 5 to 32 letters, digits or _, starting with a letter.",
            "events_bad_link": "An unknown kind of link (web chat or Telegram).",
            "events_unknown": "There is no such event.",
        },
    }

    def __init__(self, console: Layout) -> None:
        super().__init__(console)
        # Matplotlib draws one figure at a time here: the posters are drawn in a thread, off the event loop.
        self._drawing = asyncio.Lock()

    # -- handlers ------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        addresses, problem = self._addresses(request)
        return await self._page(request, addresses, problem)

    async def event_poster(self, request: web.Request) -> web.StreamResponse:
        event = self.service.config.events.get(request.match_info["code"])
        if event is None:
            text = self.words(request)
            return self.render(request, "message.html", {"message": text["events_unknown"]}, status=404)
        link = await self._chosen_link(request)
        if isinstance(link, web.Response):
            return link
        body = await self._draw(poster_pdf, event, link(event), self.service.settings.mail_from)
        return attachment(f"{event.slug}.pdf", PDF, body)

    async def event_codes(self, request: web.Request) -> web.StreamResponse:
        link = await self._chosen_link(request)
        if isinstance(link, web.Response):
            return link
        events = list(self.service.config.events.values())
        body = await self._draw(codes_sheet_pdf, events, link, self.service.settings.mail_from)
        return attachment(SHEET, PDF, body)

    # -- the choices ---------------------------------------------------------------------------

    def _addresses(self, request: web.Request) -> tuple[Addresses, str | None]:
        """Where the links lead, from the query (the form) or this request; a bad value is left out, named."""
        problem = None
        web_url, given = request.query.get("web", "").strip(), False
        if web_url:
            if _web_address(web_url):
                given = True
            else:
                problem = "events_bad_web"
        bot: str | None = request.query.get("bot", "").strip().removeprefix("@")
        if bot and not BOT_NAME.fullmatch(bot):
            problem, bot = "events_bad_bot", None
        bot = bot or self.service.known.telegram_username  # the running bot's own name, once Telegram started
        return Addresses(web_url.rstrip("/") if given else self.public_address(request), bot or None, given), problem

    async def _chosen_link(self, request: web.Request) -> Link | web.Response:
        """What a download's codes carry, or the page again naming the problem (a bad address, kind or bot)."""
        addresses, problem = self._addresses(request)
        try:
            if problem is not None:
                raise Refused(problem)
            return self._link(request, addresses)
        except Refused as refused:
            return await self._page(request, addresses, str(refused))

    def _link(self, request: web.Request, addresses: Addresses) -> Link:
        """What the codes carry: `?link=web|telegram`, by default as the command line chooses (the web chat).

        Raises:
            Refused: an unknown kind, or Telegram without the bot's name.
        """
        kind = request.query.get("link") or None
        if kind is not None and kind not in LINKS:
            raise Refused("events_bad_link")
        if kind == "telegram":
            telegram = poster_link(None, addresses.bot)
            if telegram is None:
                raise Refused("events_no_bot")
            return telegram
        # The web chat's address is always known here, so the default is the command line's with --web.
        chosen = poster_link(addresses.web, addresses.bot)
        assert chosen is not None
        return chosen

    async def _draw(self, draw: Callable[..., bytes], *args: Any) -> bytes:
        async with self._drawing:
            return await asyncio.to_thread(draw, *args)

    # -- the page ------------------------------------------------------------------------------

    async def _page(self, request: web.Request, addresses: Addresses, problem: str | None) -> web.Response:
        text, language = self.words(request), self.language(request)
        base = f"{self.prefix}/events"
        rows = [self._row(event, addresses, text, language) for event in _by_date(self.service.config.events)]
        kiosks = await stand_kiosks(self.service)
        added = [
            (kiosk.name, text["events_kiosk_added"].format(time=f"{kiosk.added_at.astimezone(WARSAW):%Y-%m-%d %H:%M}"))
            for kiosk in kiosks.added
        ]
        context = {
            "problem": text[problem] if problem else None,
            "web": request.query.get("web", "")[:MAX_WEB],  # as given, to be corrected when refused
            "bot": addresses.bot or "",
            "using": addresses.web,
            "events": rows,
            "sheet_web": f"{base}/codes?{addresses.query('web')}",
            "sheet_telegram": f"{base}/codes?{addresses.query('telegram')}" if addresses.bot else None,
            "kiosks": added + [(name, text["events_kiosk_configured"]) for name in kiosks.configured],
            "whole_server": kiosks.whole_server,
        }
        return self.render(request, "events.html", context, status=400 if problem else 200)

    def _row(
        self, event: Event, addresses: Addresses, text: dict[str, str], language: ConsoleLanguage
    ) -> dict[str, Any]:
        name = event.name(language)
        web_url = web_link(addresses.web, event)
        poster = f"{self.prefix}/events/{event.slug}/poster"
        qr = segno.make(web_url, error="m", micro=False).svg_inline(
            scale=3, title=text["events_qr_title"].format(name=name)
        )
        return {
            "code": event.slug,
            "name": name,
            "when": _when(event),
            "where": f"{event.address} ({event.district})",
            "public": event.open_to_public,
            "optional": event.optional,
            "web": web_url,
            "telegram": deep_link(addresses.bot, event) if addresses.bot else None,
            "poster_web": f"{poster}?{addresses.query('web')}",
            "poster_telegram": f"{poster}?{addresses.query('telegram')}" if addresses.bot else None,
            "qr": qr.replace("<svg ", '<svg role="img" ', 1),  # its <title> names it for screen readers
        }


def _web_address(value: str) -> bool:
    """Whether a given web chat's address is one a poster may carry: http(s), a host, no query or fragment."""
    if len(value) > MAX_WEB or any(c.isspace() or not c.isprintable() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment


def _by_date(events: Mapping[str, Event]) -> list[Event]:
    return sorted(events.values(), key=lambda e: e.starts)


def _when(event: Event) -> str:
    starts, ends = event.starts.astimezone(WARSAW), event.ends.astimezone(WARSAW)
    if starts.date() == ends.date():
        return f"{starts:%Y-%m-%d %H:%M}–{ends:%H:%M}"
    return f"{starts:%Y-%m-%d %H:%M} – {ends:%Y-%m-%d %H:%M}"

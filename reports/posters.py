"""QR posters: an A4 PDF per event with its deep link, and one sheet of all codes for the stands."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import segno
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from handlers.definitions.events import Event

WARSAW = ZoneInfo("Europe/Warsaw")
A4 = (8.27, 11.69)  # inches
PER_SHEET = 6  # codes on one page of the stand sheet (2 x 3)
SHEET = "all-codes.pdf"  # the stands' sheet of every code, beside the posters
CONTACT = "wspolnota@um.warszawa.pl"


@dataclass(frozen=True, slots=True)
class PosterSet:
    """What was written: a poster per event and the sheet of all codes."""

    posters: list[Path]
    sheet: Path


def deep_link(bot_username: str, event: Event) -> str:
    """The Telegram link a QR code carries: it opens the bot with the event recorded."""
    return f"https://t.me/{bot_username}?start={event.slug}"


def web_link(web_url: str, event: Event) -> str:
    """The web chat's link for an event (no Telegram needed): the chat with the event recorded."""
    return f"{web_url.rstrip('/')}/?event={event.slug}"


def poster_link(web_url: str | None, bot_username: str | None) -> Callable[[Event], str] | None:
    """What the posters' codes carry: the web chat when its address is known (no Telegram needed), else the
    bot's deep link; None when neither is known (the command line and the console choose alike)."""
    if web_url:
        return lambda event: web_link(web_url, event)
    if bot_username:
        return lambda event: deep_link(bot_username, event)
    return None


def _qr(link: str) -> np.ndarray:
    """The QR code's modules as a 0/1 image (quiet zone included), error correction level M."""
    code = segno.make(link, error="m", micro=False)
    return np.array([list(row) for row in code.matrix_iter(scale=1, border=4)], dtype=np.uint8)


def _when(event: Event) -> str:
    starts, ends = event.starts.astimezone(WARSAW), event.ends.astimezone(WARSAW)
    return f"{starts:%d.%m.%Y}, {starts:%H:%M}–{ends:%H:%M}"


# Under an event that is not open to the public (a working group's meeting), so no one takes it for one.
SELECTED_PARTICIPANTS = "Spotkanie dla osób wybranych do grup roboczych (zgłoszenia e-mailem: wspolnota@um.warszawa.pl)"


# Who asks, what, and how long, in the questionnaire's three languages (the time measured as in
# handlers/definitions/timing.py: `python -m bench.timing`).
SENDER = "Urząd m.st. Warszawy"
HEADLINES = (
    "Czym jest dla Ciebie wspólnota?",
    "What does community mean to you?",
    "Що для вас означає спільнота?",
)
LANGUAGES_AND_TIME = "Polski · English · Українська — ok. 5 minut · about 5 minutes · близько 5 хвилин"


def no_phone(contact: str) -> str:
    """The line for those without a phone: they can write to the programme's mailbox, in any of the languages."""
    return f"Bez telefonu? Napisz: {contact} · No phone? Write to us · Без телефону? Напишіть нам"


def _poster(event: Event, link: str, contact: str) -> Figure:
    figure = Figure(figsize=A4)
    figure.text(0.5, 0.955, SENDER, ha="center", fontsize=13)
    figure.text(0.5, 0.915, "Program Wspólnota", ha="center", fontsize=28, weight="bold")
    figure.text(0.5, 0.868, HEADLINES[0], ha="center", fontsize=20, weight="bold")
    figure.text(0.5, 0.838, HEADLINES[1], ha="center", fontsize=14)
    figure.text(0.5, 0.814, HEADLINES[2], ha="center", fontsize=14)
    figure.text(0.5, 0.772, event.name("pl"), ha="center", fontsize=15, weight="bold", wrap=True)
    optional = " (termin opcjonalny)" if event.optional else ""  # may be cancelled if two meetings suffice
    place = f"{_when(event)}{optional} · {event.address} ({event.district})"
    figure.text(0.5, 0.737, place, ha="center", fontsize=12, wrap=True)
    axes = figure.add_axes((0.22, 0.26, 0.56, 0.45))  # imshow keeps the code square inside
    axes.imshow(_qr(link), cmap="binary", interpolation="nearest")
    axes.set_axis_off()
    scan = "Zeskanuj kod telefonem · Scan with your phone · Відскануйте телефоном"
    figure.text(0.5, 0.23, scan, ha="center", fontsize=13)
    # A long link shrinks to fit the page: a monospace character is 0.6 of the font size wide.
    fits = 0.9 * A4[0] * 72 / (0.6 * len(link))
    figure.text(0.5, 0.19, link, ha="center", fontsize=min(13.0, fits), family="monospace")
    figure.text(0.5, 0.155, LANGUAGES_AND_TIME, ha="center", fontsize=12)
    figure.text(0.5, 0.128, no_phone(contact), ha="center", fontsize=9.5)
    if not event.open_to_public:
        figure.text(0.5, 0.10, SELECTED_PARTICIPANTS, ha="center", fontsize=10, wrap=True)
    if event.accessibility:
        figure.text(0.5, 0.07, event.accessibility("pl"), ha="center", fontsize=10, wrap=True, style="italic")
    return figure


def poster_pdf(event: Event, link: str, contact: str = CONTACT) -> bytes:
    """One event's A4 poster as a PDF: its code carries `link`; `contact` is the mailbox for those without a phone."""
    buffer = io.BytesIO()
    _poster(event, link, contact).savefig(buffer, format="pdf")
    return buffer.getvalue()


def codes_sheet_pdf(events: Sequence[Event], link: Callable[[Event], str], contact: str = CONTACT) -> bytes:
    """The stands' sheet as a PDF: every event's code (six a page, by date) with its name, date and slug."""
    ordered = sorted(events, key=lambda e: e.starts)
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        for start in range(0, max(len(ordered), 1), PER_SHEET):
            figure = Figure(figsize=A4)
            for index, event in enumerate(ordered[start : start + PER_SHEET]):
                column, row = index % 2, index // 2
                left, bottom = 0.08 + column * 0.46, 0.70 - row * 0.31
                axes = figure.add_axes((left + 0.07, bottom + 0.02, 0.24, 0.24))
                axes.imshow(_qr(link(event)), cmap="binary", interpolation="nearest")
                axes.set_axis_off()
                figure.text(left + 0.19, bottom - 0.005, event.name("pl")[:48], ha="center", fontsize=8)
                figure.text(left + 0.19, bottom - 0.025, f"{_when(event)} · {event.slug}", ha="center", fontsize=7)
            figure.text(0.5, 0.03, no_phone(contact), ha="center", fontsize=8)
            pdf.savefig(figure)
    return buffer.getvalue()


def write_posters(
    events: Sequence[Event], link: Callable[[Event], str], folder: Path, contact: str = CONTACT
) -> PosterSet:
    """Writes `<slug>.pdf` per event and `all-codes.pdf` (six codes a page, for the stands);
    `link` gives each event's address (`deep_link` or `web_link`); `contact` is the mailbox for those
    without a phone (printed on every poster and on the sheet)."""
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(events, key=lambda e: e.starts)
    posters = []
    for event in ordered:
        path = folder / f"{event.slug}.pdf"
        path.write_bytes(poster_pdf(event, link(event), contact))
        posters.append(path)
    sheet = folder / SHEET
    sheet.write_bytes(codes_sheet_pdf(ordered, link, contact))
    return PosterSet(posters, sheet)

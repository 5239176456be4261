"""Sign-in sheets for the working groups' meetings: an A4 PDF, one sheet (of one or more pages) per meeting.

Drawn with matplotlib as the QR posters are (reports/posters.py): its own DejaVu Sans, embedded in the PDF,
has every Polish and Ukrainian letter. The people are listed by surname in Polish alphabetical order
(`roster_order`): the caller may pass them in any order.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from handlers.definitions.events import Event
from handlers.definitions.i18n import LANGUAGES, Language

WARSAW = ZoneInfo("Europe/Warsaw")
A4 = (8.27, 11.69)  # inches, as the posters
ROWS_PER_PAGE = 22  # a row is 0.38 in (almost 1 cm): room to sign
ROW = 0.38
MARGIN = 0.6
TABLE_TOP = 9.55  # inches from the page's bottom: the header above, the rows below
HEAD_ROW = 0.32
# The columns' left edges and widths, in inches: No., name, organisation, signature.
COLUMNS = ((MARGIN, 0.45), (MARGIN + 0.45, 2.35), (MARGIN + 2.8, 2.0), (MARGIN + 4.8, A4[0] - 2 * MARGIN - 4.8))
PAD = 0.07  # inches between a cell's border and its text

TEXTS: dict[Language, dict[str, str]] = {
    "pl": {
        "sheet": "Lista obecności",
        "number": "Lp.",
        "name": "Imię i nazwisko",
        "organisation": "Organizacja",
        "signature": "Podpis",
        "page": "Strona {page} z {pages}",
        "people": "Liczba osób na liście: {people}",
        "optional": "termin opcjonalny",
        "blank": "Puste wiersze: dla osób spoza listy (np. z listy rezerwowej).",
    },
    "en": {
        "sheet": "Attendance list",
        "number": "No.",
        "name": "Name",
        "organisation": "Organisation",
        "signature": "Signature",
        "page": "Page {page} of {pages}",
        "people": "People on the list: {people}",
        "optional": "optional date",
        "blank": "Blank rows: for anyone not on the list (e.g. from the reserve list).",
    },
    "uk": {
        "sheet": "Список присутніх",
        "number": "№",
        "name": "Ім'я та прізвище",
        "organisation": "Організація",
        "signature": "Підпис",
        "page": "Сторінка {page} з {pages}",
        "people": "Осіб у списку: {people}",
        "optional": "необов'язкова дата",
        "blank": "Порожні рядки: для осіб, яких немає в списку (напр. з резервного списку).",
    },
}


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person on the sheet: their name, their organisation (if any) and a short note under the name."""

    name: str
    organisation: str | None
    note: str = ""


# Polish alphabetical order: each letter with a diacritic right after its base letter (a ą b c ć … z ź ż);
# Ukrainian's after it (а б в г ґ д е є … ю я), then anything else by code point.
_POLISH = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_UKRAINIAN = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"


def _letter_key(char: str) -> tuple[int, int, int]:
    if char in _POLISH:
        return (1, _POLISH.index(char), 0)
    if char in _UKRAINIAN:
        return (2, _UKRAINIAN.index(char), 0)
    base = unicodedata.normalize("NFD", char)[0]  # é, ü, ř: after their base letter's other forms
    if base in _POLISH:
        return (1, _POLISH.index(base), 1 + ord(char))
    if base in _UKRAINIAN:
        return (2, _UKRAINIAN.index(base), 1 + ord(char))
    return (0 if not char.isalnum() else 3, ord(char), 0)


def polish_key(text: str) -> tuple[tuple[int, int, int], ...]:
    """A sort key for Polish alphabetical order, case ignored: Łucja after Lucyna, Żak after Zawada."""
    return tuple(_letter_key(char) for char in unicodedata.normalize("NFC", text.strip()).casefold())


def surname(name: str) -> str:
    """The surname as the sheet sorts by it: the name's last word (`Anna Kowalska-Nowak` → `Kowalska-Nowak`)."""
    words = name.split()
    return words[-1] if words else ""


def roster_order(people: Sequence[RosterEntry]) -> list[RosterEntry]:
    """The people by surname (the name's last word), then by the whole name, in Polish alphabetical order."""
    return sorted(people, key=lambda person: (polish_key(surname(person.name)), polish_key(person.name)))


def pages_for(people: int) -> int:
    """How many pages one meeting's sheet takes: a page for every `ROWS_PER_PAGE` people, at least one."""
    return max(1, -(-people // ROWS_PER_PAGE))


_TEXT = TextToPath()


@cache
def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(family="DejaVu Sans", size=size, weight=weight)


def _width(text: str, font: FontProperties) -> float:
    """The text's width in inches, as the PDF will draw it."""
    width, _, _ = _TEXT.get_text_width_height_descent(text, font, ismath=False)
    return float(width) / 72  # points


def _cut(text: str, width: float, font: FontProperties) -> str:
    """The text, cut with an ellipsis where it is wider than `width` inches."""
    if _width(text, font) <= width:
        return text
    while text and _width(text + "…", font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _fit(text: str, width: float, size: float) -> tuple[list[str], float]:
    """The text on one line at `size` points, or on two smaller lines, cut with an ellipsis if still too long."""
    font = _font(size)
    if _width(text, font) <= width:
        return [text], size
    small = _font(size * 0.82)
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < 2:
        line = words.pop(0)
        while words and _width(f"{line} {words[0]}", small) <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words:
        lines[-1] = f"{lines[-1]} {' '.join(words)}"
    return [_cut(line, width, small) for line in lines], size * 0.82


def _when(event: Event, language: Language) -> str:
    starts, ends = event.starts.astimezone(WARSAW), event.ends.astimezone(WARSAW)
    day = format_date(starts.date(), "EEEE, d MMMM y", locale=language)
    return f"{day}, {starts:%H:%M}–{ends:%H:%M}"


def _page(
    figure: Figure,
    title: str,
    meeting: Event,
    rows: Sequence[tuple[int, RosterEntry] | None],
    footer: str,
    language: Language,
) -> None:
    """Draws one page: the header, the table's head and rows (None: a blank row), the footer."""
    texts = TEXTS[language]
    axes: Axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, A4[0])
    axes.set_ylim(0, A4[1])
    axes.set_axis_off()
    width = A4[0] - 2 * MARGIN
    axes.text(MARGIN, 11.05, texts["sheet"].upper(), fontsize=9, color="#555555")
    lines, size = _fit(title, width, 15)
    axes.text(MARGIN, 10.78, "\n".join(lines), fontsize=size, weight="bold", va="top", linespacing=1.1)
    top = 10.78 - len(lines) * size * 1.25 / 72
    name = meeting.name(language)
    axes.text(MARGIN, top - 0.04, _cut(name, width, _font(12)), fontsize=12, va="top")
    optional = f" ({texts['optional']})" if meeting.optional else ""
    when = _cut(_when(meeting, language) + optional, width, _font(10.5))
    axes.text(MARGIN, top - 0.3, when, fontsize=10.5, va="top")
    where = _cut(f"{meeting.address} ({meeting.district})", width, _font(10.5))
    axes.text(MARGIN, top - 0.52, where, fontsize=10.5, va="top")

    right = A4[0] - MARGIN
    head = TABLE_TOP - HEAD_ROW
    bottom = head - ROWS_PER_PAGE * ROW
    axes.fill_between((MARGIN, right), head, TABLE_TOP, color="#e8e8e8", linewidth=0)
    for (left, column), key in zip(COLUMNS, ("number", "name", "organisation", "signature"), strict=True):
        label = _cut(texts[key], column - 2 * PAD, _font(9.5, "bold"))
        axes.text(left + PAD, head + HEAD_ROW / 2, label, fontsize=9.5, weight="bold", va="center")
    edges = [TABLE_TOP, *(head - n * ROW for n in range(ROWS_PER_PAGE + 1))]
    axes.hlines(edges, MARGIN, right, colors="#333333", linewidth=0.6)
    axes.vlines([left for left, _ in COLUMNS] + [right], bottom, TABLE_TOP, colors="#333333", linewidth=0.6)
    for index, row in enumerate(rows):
        if row is None:
            continue
        number, person = row
        middle = head - (index + 0.5) * ROW
        (number_left, _), (name_left, name_width), (org_left, org_width), _ = COLUMNS
        axes.text(number_left + PAD, middle, f"{number}.", fontsize=10, va="center")
        if person.note:
            cut = _cut(person.name, name_width - 2 * PAD, _font(10))
            axes.text(name_left + PAD, middle + 0.06, cut, fontsize=10, va="center")
            note = _cut(person.note, name_width - 2 * PAD, _font(7.5))
            axes.text(name_left + PAD, middle - 0.11, note, fontsize=7.5, va="center", style="italic", color="#444444")
        else:
            lines, size = _fit(person.name, name_width - 2 * PAD, 10)
            axes.text(name_left + PAD, middle, "\n".join(lines), fontsize=size, va="center", linespacing=1.05)
        if person.organisation:
            lines, size = _fit(person.organisation, org_width - 2 * PAD, 9)
            axes.text(org_left + PAD, middle, "\n".join(lines), fontsize=size, va="center", linespacing=1.05)
    if any(row is None for row in rows):
        axes.text(MARGIN, bottom - 0.22, texts["blank"], fontsize=8, color="#555555")
    axes.text(MARGIN, 0.45, _cut(f"{title} · {name}", width * 0.7, _font(7.5)), fontsize=7.5, color="#555555")
    axes.text(right, 0.45, footer, fontsize=9, ha="right")


def write_roster(
    path: Path, *, title: str, meetings: Sequence[Event], people: Sequence[RosterEntry], language: str = "pl"
) -> Path:
    """Writes the sign-in sheets, one per meeting in the order given, to `path` (an A4 PDF) and returns it.

    Each sheet lists everyone, sorted here by surname (`roster_order`), `ROWS_PER_PAGE` a page, the header
    (group title, meeting, its day and time in Europe/Warsaw, the address) on every page; the last page's
    rows left over stay blank for anyone not on the list. Footer: "page x of y" (within the meeting's
    sheet) and the number of people. Texts in `language` (pl, en or uk).

    Raises:
        ValueError: no meetings, or a language other than pl, en, uk.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    if not meetings:
        raise ValueError("no meetings: a sign-in sheet is for a meeting")
    lang: Language = language
    ordered = list(enumerate(roster_order(people), start=1))
    pages = pages_for(len(ordered))
    path.parent.mkdir(parents=True, exist_ok=True)
    with PdfPages(path, metadata={"Title": f"{TEXTS[lang]['sheet']}: {title}"}) as pdf:
        for meeting in meetings:
            for page in range(pages):
                rows: list[tuple[int, RosterEntry] | None] = list(
                    ordered[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]
                )
                rows += [None] * (ROWS_PER_PAGE - len(rows))
                footer = (
                    TEXTS[lang]["page"].format(page=page + 1, pages=pages)
                    + " · "
                    + TEXTS[lang]["people"].format(people=len(ordered))
                )
                figure = Figure(figsize=A4)
                _page(figure, title, meeting, rows, footer, lang)
                pdf.savefig(figure)
    return path

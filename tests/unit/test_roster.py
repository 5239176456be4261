"""The sign-in sheets (reports/roster.py): pages per meeting, fonts with Polish and Ukrainian letters, order."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from handlers.definitions.events import Event, EventKind, load_events
from handlers.definitions.i18n import Text
from reports.roster import ROWS_PER_PAGE, RosterEntry, pages_for, polish_key, roster_order, write_roster
from tests.support import SHIPPED_CONFIG
from tests.support.extras import require_tool

TITLE = "Otwartość i nawiązywanie relacji"


def _meeting(slug: str = "grupa-1-spotkanie-1", optional: bool = False) -> Event:
    return Event(
        slug=slug,
        kind=EventKind.WORKING_GROUP,
        name=Text(pl="Grupa robocza I (1. spotkanie)", en="Working group I (first meeting)", uk="Робоча група I"),
        district="Praga-Północ",
        address="Centrum Wielokulturowe w Warszawie, ul. Jagiellońska 54",
        starts=datetime.fromisoformat("2027-10-25T17:00:00+02:00"),
        ends=datetime.fromisoformat("2027-10-25T20:00:00+02:00"),
        open_to_public=False,
        optional=optional,
    )


def _people(n: int) -> list[RosterEntry]:
    people = [
        RosterEntry("Łucja Żółć", "Stowarzyszenie Sąsiedzkie „Praga”", note="lista rezerwowa"),
        RosterEntry("Олена Коваленко", None),
    ]
    people += [RosterEntry(f"Osoba Numer{i:03d}", f"Organizacja {i}") for i in range(n)]
    return people[:n]


def _pages(pdf: bytes) -> int:
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)", pdf, re.S)]
    assert counts == [pages]
    return pages


def _glyphs(pdf: bytes) -> set[str]:
    """The glyph names in the embedded (Type 3, subset) fonts' encodings."""
    names: set[str] = set()
    for differences in re.findall(rb"/Differences\s*\[(.*?)\]", pdf, re.S):
        names |= {name.decode() for name in re.findall(rb"/([A-Za-z0-9_.]+)", differences)}
    return names


@pytest.mark.parametrize(("people", "pages"), [(0, 1), (10, 1), (ROWS_PER_PAGE, 1), (ROWS_PER_PAGE + 1, 2), (60, 3)])
def test_a_page_per_rows_per_page_people_for_each_meeting(tmp_path: Path, people: int, pages: int) -> None:
    meetings = [_meeting("m1"), _meeting("m2", optional=True)]
    path = write_roster(tmp_path / "sheets" / "roster.pdf", title=TITLE, meetings=meetings, people=_people(people))

    assert path == tmp_path / "sheets" / "roster.pdf"
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pages_for(people) == pages
    assert _pages(pdf) == 2 * pages
    # A4 portrait in points (8.27 x 11.69 in).
    assert set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)) == {(b"595.44", b"841.68")}


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
def test_polish_and_ukrainian_letters_are_in_the_embedded_dejavu_fonts(tmp_path: Path, language: str) -> None:
    path = write_roster(tmp_path / "r.pdf", title=TITLE, meetings=[_meeting()], people=_people(2), language=language)

    pdf = path.read_bytes()
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([\w-]+)", pdf))
    assert b"DejaVuSans" in fonts
    assert b"DejaVuSans-Bold" in fonts  # the title and the table's head
    glyphs = _glyphs(pdf)
    # Łucja Żółć
    assert {"Lslash", "Zdotaccent", "oacute", "lslash", "cacute"} <= glyphs
    # Олена Коваленко: О л е н а К о в к
    assert {"uni041E", "uni043B", "uni0435", "uni043D", "uni0430", "uni041A", "uni043E", "uni0432"} <= glyphs
    assert b"/ToUnicode" in pdf  # so the text can be copied and searched


def test_the_text_can_be_extracted(tmp_path: Path) -> None:
    pdftotext = require_tool("pdftotext", "poppler-utils")
    path = write_roster(tmp_path / "r.pdf", title=TITLE, meetings=[_meeting()], people=_people(10))

    text = subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    for words in (
        "Łucja Żółć",
        "Олена Коваленко",
        "Lista obecności".upper(),
        "Strona 1 z 1",
        "Liczba osób na liście: 10",
    ):
        assert words in text
    assert "poniedziałek, 25 października 2027, 17:00–20:00" in text


def test_the_shipped_meetings_and_every_language_render(tmp_path: Path) -> None:
    events = load_events(SHIPPED_CONFIG / "events.yaml")
    meetings = [event for event in events.values() if event.kind is EventKind.WORKING_GROUP][:3]
    for language in ("pl", "en", "uk"):
        path = write_roster(
            tmp_path / f"{language}.pdf", title=TITLE, meetings=meetings, people=_people(30), language=language
        )
        assert _pages(path.read_bytes()) == 2 * len(meetings)


def test_people_are_listed_by_surname_in_polish_order() -> None:
    names = [
        "Jan Żak",
        "Ewa Zawada",
        "Łucja Żółć",
        "Anna Lis",
        "Piotr Łoś",
        "Olga Ćwik",
        "Adam Cieślak",
        "Олена Коваленко",
    ]

    ordered = [person.name for person in roster_order([RosterEntry(name, None) for name in names])]

    assert ordered == [
        "Adam Cieślak",
        "Olga Ćwik",
        "Anna Lis",
        "Piotr Łoś",
        "Ewa Zawada",
        "Jan Żak",
        "Łucja Żółć",
        "Олена Коваленко",
    ]
    assert polish_key("ŁOŚ") == polish_key("łoś")
    assert sorted(["ź", "z", "ż"], key=polish_key) == ["z", "ź", "ż"]


def test_no_meeting_or_an_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no meetings"):
        write_roster(tmp_path / "r.pdf", title=TITLE, meetings=[], people=_people(3))
    with pytest.raises(ValueError, match="language"):
        write_roster(tmp_path / "r.pdf", title=TITLE, meetings=[_meeting()], people=_people(3), language="de")

"""The published account of the draw (reports/selection_report.py), from a draw built by hand."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest

from handlers.definitions.events import load_events
from handlers.definitions.recruitment import SECTOR_CODES, Recruitment, load_recruitment
from reports.selection_report import SelectionReport, render_html, render_markdown, selection_report
from selection.model import Candidate, Draw, GroupDraw, GroupSpec, Quota
from tests.support import SHIPPED_CONFIG

DRAWN_AT = datetime.fromisoformat("2027-10-02T12:00:00+02:00")
SEED = 20271002
GROUPS = ("otwartosc", "aktywnosc", "przynaleznosc")


@pytest.fixture(scope="module")
def call() -> Recruitment:
    recruitment = load_recruitment(SHIPPED_CONFIG / "recruitment.yaml", load_events(SHIPPED_CONFIG / "events.yaml"))
    assert recruitment is not None
    return recruitment


def _candidates() -> tuple[Candidate, ...]:
    """60 applicants (ids 1001..1060, so no position equals an id): sectors in turn, but only 2 from City Hall."""
    people = []
    for n in range(60):
        sector = SECTOR_CODES[n % 5] if n not in (7, 41) else "city_hall"
        if n < 40:
            groups: tuple[str, ...] = ("aktywnosc", "otwartosc") if n % 2 else ("otwartosc",)
        else:
            groups = ("przynaleznosc", "aktywnosc") if n < 48 else ("aktywnosc",)
        people.append(Candidate(id=1001 + n, sector=sector, groups=groups))
    return tuple(people)


def _group(code: str, seats: int, candidates: tuple[Candidate, ...], taken: set[int], second: int = 0) -> GroupDraw:
    pool = tuple(c.id for c in candidates if code in c.groups)
    if len(pool) <= seats:
        return GroupDraw(code, seats, pool, pool, (), dict.fromkeys(pool, 1.0), lottery=False)
    free = [p for p in pool if p not in taken]
    selected = tuple(sorted(free[:seats]))
    reserve = tuple(p for p in reversed(pool) if p not in selected)
    chance = seats / len(pool)
    probabilities = {p: round(chance + (0.1 if i % 3 == 0 else -0.05), 4) for i, p in enumerate(pool)}
    notes = ("a second seat for 1 person (Z-1003, anna@example.org)",) if second else ()
    return GroupDraw(code, seats, pool, selected, reserve, probabilities, True, tuple(pool[:second]), notes)


def _draw(second: int = 0) -> Draw:
    candidates = _candidates()
    quotas = {code: Quota(min=1 if code == "city_hall" else 2, max=8) for code in SECTOR_CODES}
    specs = tuple(GroupSpec(code, 24 if code != "przynaleznosc" else 10, quotas) for code in GROUPS)
    groups: list[GroupDraw] = []
    taken: set[int] = set()
    for spec in specs:
        group = _group(spec.code, spec.seats, candidates, taken, second if spec.code == "aktywnosc" else 0)
        taken |= set(group.selected)
        groups.append(group)
    return Draw(
        seed=SEED,
        algorithm="maximin",
        library_version="0.9.7",
        solver_version="1.11.0",
        groups=tuple(groups),
        specs=specs,
        candidates=candidates,
        extra={"python": "3.12.3", "pool_digest": "sha256:ab12", "nested": {"ignored": True}},
    )


@pytest.fixture(scope="module")
def report(call: Recruitment) -> SelectionReport:
    return selection_report(_draw(second=1), call, drawn_at=DRAWN_AT)


class _Tables(HTMLParser):
    """Collects the tags, each table's header cells' scope, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tables = 0
        self.headers: list[str | None] = []
        self.text: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in {"meta", "br", "img", "link"}:
            self.open.append(tag)
        self.tables += tag == "table"
        if tag == "th":
            self.headers.append(attributes.get("scope"))
        if tag in {"script", "link", "img", "iframe"} or any(k in {"src", "href"} for k in attributes):
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_counts_per_group_and_sector(report: SelectionReport) -> None:
    first, second, third = report.groups
    assert (first.code, first.seats, first.pool, first.selected, first.lottery) == ("otwartosc", 24, 40, 24, True)
    assert first.reserve == 16
    assert (third.pool, third.selected, third.lottery) == (8, 8, False)
    assert second.second_seats == 1
    assert [s.code for s in first.sectors] == list(SECTOR_CODES)
    hall = next(s for s in first.sectors if s.code == "city_hall")
    assert hall.in_pool == 1  # only one from City Hall asked for this group: shown all the same
    assert hall.quota == Quota(min=1, max=8)
    assert sum(s.in_pool for s in first.sectors) == 40
    assert sum(s.selected for s in first.sectors) == 24
    assert sum(s.reserve for s in first.sectors) == 16
    for sector in first.sectors:
        assert sector.chance_lowest is not None and sector.chance_highest is not None
        assert sector.chance_average is not None
        assert sector.chance_lowest <= sector.chance_average <= sector.chance_highest
    assert all(s.chance_lowest == 1.0 for s in third.sectors if s.in_pool)
    assert [row.position for row in report.pool] == list(range(1, 61))
    assert report.pool[0].asked == (1,)
    assert report.pool[1].asked == (2, 1)  # the applicant's order
    assert report.pool[0].chances[1] is None  # did not ask for group 2


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_the_account_has_what_anyone_needs_to_check_and_repeat_the_draw(
    report: SelectionReport, render: object
) -> None:
    assert callable(render)
    text = render(report)

    assert str(SEED) in text
    assert f"wspolnota groups select --seed {SEED} --dry-run" in text
    assert "maximin" in text
    assert "sortition-algorithms 0.9.7" in text
    assert "highspy 1.11.0" in text
    assert "2 października 2027" in text
    assert "2027-10-02T12:00:00+02:00" in text
    assert "pool_digest" in text and "sha256:ab12" in text
    assert "ignored" not in text  # only plain values of `extra`
    for label in ("Organizacja pozarządowa", "Urząd Miasta", "Mieszkanka lub mieszkaniec"):
        assert label in text
    assert "2–8" in text and "1–8" in text  # the quotas
    assert "Otwartość i nawiązywanie relacji" in text
    assert "mniejsze niż 3" in text  # small counts are shown, and why
    assert "rezerwa nr 1 w grupie 1" in text
    assert "miejsce w grupie 3" in text
    assert "bez miejsca" in text
    assert "osoby z drugim miejscem (mające już miejsce we wcześniejszej grupie): 1" in text


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_no_personal_data(report: SelectionReport, render: object) -> None:
    assert callable(render)
    text = render(report)

    assert not re.search(r"Z-\s?\d", text)
    assert not re.search(r"[\w.+-]+@[\w-]+\.\w", text)  # no email address
    assert "example.org" not in text
    assert "anna" not in text.lower()
    for candidate in _draw().candidates:  # no application number anywhere
        assert not re.search(rf"(?<![\d.,]){candidate.id}(?![\d.,])", text), candidate.id


def test_markdown_tables_are_tables(report: SelectionReport) -> None:
    markdown = render_markdown(report)

    tables = re.findall(r"((?:^\|.*\|\n)+)", markdown, re.M)
    assert len(tables) == 1 + 3 + 1 + 1  # the groups, one per group, the parameters, the pool
    for table in tables:
        rows = table.strip("\n").split("\n")
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1
        assert re.fullmatch(r"\|(-{3}:?\|)+", rows[1])
    assert "| 1 | Organizacja pozarządowa | 1 | 70,0% | — | — | miejsce w grupie 1 |" in markdown
    assert "| Urząd Miasta | 1 | 1–8 |" in markdown


def test_html_parses_and_every_header_cell_has_a_scope(report: SelectionReport) -> None:
    page = render_html(report)

    parser = _Tables()
    parser.feed(page)
    parser.close()
    assert parser.open == []
    assert parser.tables == 6
    assert parser.headers and all(scope in {"col", "row"} for scope in parser.headers)
    assert parser.external == []  # self-contained: no scripts, images, links
    assert page.count("<caption>") == parser.tables
    assert page.count("<thead>") == parser.tables
    assert '<html lang="pl">' in page
    assert "thead{display:table-header-group}" in page  # a table's head repeats on every printed page
    text = "".join(parser.text)
    assert "Jak powtórzyć losowanie" in text


def test_a_group_without_a_draw_and_one_without_notes(call: Recruitment) -> None:
    report = selection_report(_draw(second=0), call, drawn_at=DRAWN_AT)
    markdown = render_markdown(report)

    assert "## Grupy bez losowania" in markdown
    assert "- Grupa 3: Przynależność i identyfikacja z miejscem – W puli było nie więcej osób niż miejsc" in markdown
    assert "Brak: każda osoba ma najwyżej jedno miejsce" in markdown


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["How to reproduce the draw", "Non-governmental organisation", "reserve 1 in group 1", "37.5%"]),
        ("uk", ["Як повторити жеребкування", "Громадська організація", "резерв № 1 у групі 1", "2 жовтня 2027"]),
    ],
)
def test_english_and_ukrainian(call: Recruitment, language: str, words: list[str]) -> None:
    report = selection_report(_draw(), call, drawn_at=DRAWN_AT, language=language)

    for render in (render_markdown, render_html):
        text = render(report)
        for word in words:
            if word == "37.5%":
                assert re.search(r"\d+\.\d%", text)
            else:
                assert word in text
        assert f'lang="{language}"' in text or render is render_markdown


def test_an_empty_draw_and_an_unknown_language(call: Recruitment) -> None:
    empty = Draw(SEED, "maximin", "0.9.7", "1.11.0", (), (), ())
    report = selection_report(empty, call, drawn_at=DRAWN_AT)
    assert "Nikt nie brał udziału w losowaniu." in render_markdown(report)
    assert "<table>" in render_html(report)  # the parameters still are one
    with pytest.raises(ValueError, match="language"):
        selection_report(empty, call, drawn_at=DRAWN_AT, language="de")
    with pytest.raises(ValueError, match="time zone"):
        selection_report(empty, call, drawn_at=datetime(2027, 10, 2, 12, 0))

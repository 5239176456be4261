"""The published account of the working groups' draw: the call, the rules, per group and sector the pool,
the quotas, the seats, the reserves and the chances, how to repeat the draw, and the pool, anonymised.

Pure: `selection_report` turns a `Draw` (selection/model.py) and the call (config/recruitment.yaml) into a
`SelectionReport`; `render_markdown` and `render_html` write it out (pl, en or uk). No application number,
name, email or organisation is in it: the pool's people are numbered 1..N in the order of their
(unpublished) application numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_percent

from handlers.definitions.i18n import LANGUAGES, Language
from handlers.definitions.recruitment import Recruitment
from selection.model import Draw, GroupDraw, Quota

WARSAW = ZoneInfo("Europe/Warsaw")
SMALL = 3  # sector counts below this are still shown: the quotas are public
COMMAND = "wspolnota groups select --seed {seed} --dry-run"
# Staff's notes are published: an application's number or an email address in them is cut out.
_PERSONAL = re.compile(r"\bZ-\s?\d+\b|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_CSP = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"

TEXTS: dict[Language, dict[str, str]] = {
    "pl": {
        "title": "Sprawozdanie z losowania członków grup roboczych Programu Wspólnota",
        "drawn": "Losowanie przeprowadzono {when} (czas warszawski). Osoby w losowaniu: {pool}.",
        "anonymous": ("Sprawozdanie nie zawiera imion, nazwisk, adresów e-mail, organizacji ani numerów zgłoszeń."),
        "call": "Nabór",
        "call_text": "Zgłoszenia przyjmowaliśmy od {opens} do {deadline}. Grupy i ich miejsca:",
        "groups_caption": "Grupy, miejsca i wynik losowania",
        "group": "Grupa",
        "seats": "Miejsca",
        "in_pool": "W puli",
        "selected": "Wybrane osoby",
        "reserve": "Lista rezerwowa",
        "lottery": "Losowanie",
        "yes": "tak",
        "no_everyone": "nie – miejsce dostał każdy",
        "rules": "Zasady",
        "rule_pool": (
            "W losowaniu brał udział każdy, kto wysłał kompletne zgłoszenie w terminie, nie wycofał go, nie został"
            " wykluczony i spełniał warunki naboru (m.in. ukończone {min_age} lat). Pula grupy to osoby, które"
            " wybrały tę grupę w zgłoszeniu."
        ),
        "rule_quotas": (
            "Limity dla sektorów: w każdej grupie każdy sektor ma co najmniej tyle miejsc, ile mówi minimum,"
            " i najwyżej tyle, ile mówi maksimum (tabele niżej). Limity ogłosiliśmy razem z naborem."
        ),
        "rule_maximin": (
            "Losowanie metodą maximin: spośród wszystkich składów grupy zgodnych z limitami program tak dobiera"
            " ich prawdopodobieństwa, by najmniejsza szansa na miejsce była jak największa – każdy ma szansę tak"
            " równą, jak pozwalają limity. Szansę każdej osoby podajemy niżej. Nikt nie ocenia zgłoszeń."
        ),
        "rule_order": (
            "Grupy losowaliśmy po kolei, w kolejności z tabeli. Najpierw miejsca dostają różne osoby: kto ma już"
            " miejsce we wcześniejszej grupie, dostaje drugie tylko wtedy, gdy inaczej grupy nie dałoby się"
            " zapełnić zgodnie z limitami."
        ),
        "rule_reserve": (
            "Lista rezerwowa: osoby z puli grupy bez miejsca, w wylosowanej kolejności. Gdy ktoś zrezygnuje,"
            " zwolnione miejsce proponujemy najpierw pierwszej osobie z listy."
        ),
        "rule_no_lottery": (
            "Gdy w puli grupy jest nie więcej osób niż miejsc, losowania nie ma: miejsce dostaje każdy."
        ),
        "rule_small": (
            "Liczby osób w sektorach mniejsze niż {small} też pokazujemy, bo limity miejsc są jawne: bez tych"
            " liczb nie dałoby się sprawdzić, czy losowanie ich przestrzegało."
        ),
        "group_heading": "Grupa {number}: {name}",
        "group_text": (
            "Miejsca: {seats}. W puli grupy: {pool}. Wybrane osoby: {selected}. Na liście rezerwowej: {reserve}."
        ),
        "group_no_lottery": "W puli było nie więcej osób niż miejsc, więc losowania nie było: miejsce dostał każdy.",
        "sectors_caption": "Grupa {number} według sektorów",
        "sector": "Sektor",
        "quota": "Limit (min.–maks.)",
        "no_limit": "bez limitu",
        "chance_lowest": "Szansa na miejsce: najniższa",
        "chance_average": "Szansa: średnia",
        "chance_highest": "Szansa: najwyższa",
        "total": "Razem",
        "without_lottery": "Grupy bez losowania",
        "all_drawn": "Każda grupa miała więcej chętnych niż miejsc: wszystkie były losowane.",
        "notes": "Uwagi i drugie miejsca",
        "second_seats": (
            "Grupa {number}: osoby z drugim miejscem (mające już miejsce we wcześniejszej grupie): {count} – tylko"
            " dlatego, że inaczej grupy nie dałoby się zapełnić zgodnie z limitami."
        ),
        "note": "Grupa {number}: {note}",
        "no_notes": "Brak: każda osoba ma najwyżej jedno miejsce, a losowanie nie wymagało wyjątków.",
        "reproduce": "Jak powtórzyć losowanie",
        "seed": "Ziarno losowania (seed)",
        "algorithm": "Algorytm",
        "library": "Biblioteka",
        "solver": "Solver",
        "date": "Data losowania",
        "parameter": "Parametr",
        "value": "Wartość",
        "parameters_caption": "Parametry losowania",
        "reproduce_text": (
            "Na tych samych danych (te same zgłoszenia w losowaniu i ten sam plik config/recruitment.yaml)"
            " to polecenie daje ten sam wynik i niczego nie zapisuje:"
        ),
        "reproduce_versions": "Z tymi samymi wersjami bibliotek:",
        "reproduce_who": (
            "Danych zgłoszeń nie publikujemy (to dane osobowe), więc samo losowanie mogą powtórzyć osoby z dostępem"
            " do nich (np. pracownicy Centrum Komunikacji Społecznej lub audytor). Każdy może sprawdzić tabele tego"
            " sprawozdania: liczby osób w sektorach, limity i szanse."
        ),
        "pool": "Pula (bez danych osobowych)",
        "pool_text": (
            "Każda osoba w losowaniu ma tu numer od 1 do {pool} w kolejności numerów zgłoszeń (tych numerów nie"
            " publikujemy). Grupy: {groups}. Szansa: prawdopodobieństwo miejsca w losowaniu danej grupy"
            " („—”: osoba nie wybrała tej grupy)."
        ),
        "pool_caption": "Pula: sektor, wybrane grupy, szanse i wynik każdej osoby",
        "position": "Nr",
        "asked": "Wybrane grupy",
        "chance_in": "Szansa: grupa {number}",
        "outcome": "Wynik",
        "seat_in": "miejsce w grupie {number}",
        "reserve_in": "rezerwa nr {place} w grupie {number}",
        "no_seat": "bez miejsca",
        "empty_pool": "Nikt nie brał udziału w losowaniu.",
    },
    "en": {
        "title": "The draw of the Wspólnota Programme's working groups: the account",
        "drawn": "The draw was made on {when} (Warsaw time). People in the draw: {pool}.",
        "anonymous": "This account holds no names, email addresses, organisations or application numbers.",
        "call": "The call",
        "call_text": "Applications were accepted from {opens} to {deadline}. The groups and their seats:",
        "groups_caption": "The groups, their seats and the draw's result",
        "group": "Group",
        "seats": "Seats",
        "in_pool": "In the pool",
        "selected": "Selected",
        "reserve": "Reserve list",
        "lottery": "Draw",
        "yes": "yes",
        "no_everyone": "no – everyone took a seat",
        "rules": "The rules",
        "rule_pool": (
            "Everyone took part who sent a complete application on time, did not withdraw it, was not excluded and"
            " met the call's conditions (among them being at least {min_age}). A group's pool is the people who"
            " chose that group in their application."
        ),
        "rule_quotas": (
            "Quotas per sector: in every group each sector holds at least its minimum and at most its maximum of"
            " seats (tables below). The quotas were published with the call."
        ),
        "rule_maximin": (
            "The draw uses maximin: among all the group's possible panels that keep the quotas, the program sets"
            " their probabilities so that the lowest chance of a seat is as high as it can be – everyone has as"
            " equal a chance as the quotas allow. Each person's chance is given below. No one scores applications."
        ),
        "rule_order": (
            "The groups were drawn one after another, in the table's order. Seats go to distinct people first:"
            " someone who already holds a seat in an earlier group gets a second one only where the group could"
            " not otherwise be filled within its quotas."
        ),
        "rule_reserve": (
            "Reserve list: the group's pool members without a seat, in a drawn order. When someone withdraws, the"
            " freed seat is offered to the first person on the list first."
        ),
        "rule_no_lottery": (
            "Where a group's pool has no more people than seats, there is no draw: everyone takes a seat."
        ),
        "rule_small": (
            "Sector counts below {small} are still shown because the quotas are public: without them no one could"
            " check that the draw kept them."
        ),
        "group_heading": "Group {number}: {name}",
        "group_text": (
            "Seats: {seats}. In the group's pool: {pool}. Selected: {selected}. On the reserve list: {reserve}."
        ),
        "group_no_lottery": "The pool had no more people than seats, so there was no draw: everyone took a seat.",
        "sectors_caption": "Group {number} by sector",
        "sector": "Sector",
        "quota": "Quota (min–max)",
        "no_limit": "no limit",
        "chance_lowest": "Chance of a seat: lowest",
        "chance_average": "Chance: average",
        "chance_highest": "Chance: highest",
        "total": "Total",
        "without_lottery": "Groups without a draw",
        "all_drawn": "Every group had more applicants than seats: all were drawn.",
        "notes": "Notes and second seats",
        "second_seats": (
            "Group {number}: people with a second seat (already holding one in an earlier group): {count} – only"
            " because the group could not otherwise be filled within its quotas."
        ),
        "note": "Group {number}: {note}",
        "no_notes": "None: everyone holds at most one seat and the draw needed no exceptions.",
        "reproduce": "How to reproduce the draw",
        "seed": "Seed",
        "algorithm": "Algorithm",
        "library": "Library",
        "solver": "Solver",
        "date": "Date of the draw",
        "parameter": "Parameter",
        "value": "Value",
        "parameters_caption": "The draw's parameters",
        "reproduce_text": (
            "On the same data (the same applications in the draw and the same config/recruitment.yaml) this"
            " command gives the same result and saves nothing:"
        ),
        "reproduce_versions": "With the same versions of the libraries:",
        "reproduce_who": (
            "The applications are not published (they are personal data), so the draw itself can be repeated by"
            " people with access to them (e.g. staff of the Centre for Social Communication or an auditor). Anyone"
            " can check this account's tables: the counts per sector, the quotas and the chances."
        ),
        "pool": "The pool (no personal data)",
        "pool_text": (
            "Each person in the draw has a number from 1 to {pool} here, in the order of the application numbers"
            " (which are not published). Groups: {groups}. Chance: the probability of a seat in that group's draw"
            " (“—”: the person did not choose that group)."
        ),
        "pool_caption": "The pool: each person's sector, groups chosen, chances and outcome",
        "position": "No.",
        "asked": "Groups chosen",
        "chance_in": "Chance: group {number}",
        "outcome": "Outcome",
        "seat_in": "selected in group {number}",
        "reserve_in": "reserve {place} in group {number}",
        "no_seat": "not selected",
        "empty_pool": "No one took part in the draw.",
    },
    "uk": {
        "title": "Звіт про жеребкування членів робочих груп програми Wspólnota",
        "drawn": "Жеребкування проведено {when} (за варшавським часом). Осіб у жеребкуванні: {pool}.",
        "anonymous": "Звіт не містить імен, прізвищ, електронних адрес, організацій чи номерів заявок.",
        "call": "Набір",
        "call_text": "Заявки приймали з {opens} до {deadline}. Групи та їхні місця:",
        "groups_caption": "Групи, місця та результат жеребкування",
        "group": "Група",
        "seats": "Місця",
        "in_pool": "У пулі",
        "selected": "Вибрано",
        "reserve": "Резервний список",
        "lottery": "Жеребкування",
        "yes": "так",
        "no_everyone": "ні – місце отримав кожен",
        "rules": "Правила",
        "rule_pool": (
            "У жеребкуванні брав участь кожен, хто вчасно надіслав повну заявку, не відкликав її, не був"
            " виключений і відповідав умовам набору (зокрема має щонайменше {min_age} років). Пул групи – це"
            " особи, які обрали цю групу в заявці."
        ),
        "rule_quotas": (
            "Ліміти для секторів: у кожній групі кожен сектор має щонайменше мінімум і щонайбільше максимум місць"
            " (таблиці нижче). Ліміти оприлюднено разом з оголошенням набору."
        ),
        "rule_maximin": (
            "Жеребкування методом maximin: серед усіх складів групи, що відповідають лімітам, програма так добирає"
            " їхні ймовірності, щоб найменший шанс на місце був якомога більшим – кожен має шанс настільки рівний,"
            " наскільки дозволяють ліміти. Шанс кожної особи наведено нижче. Ніхто не оцінює заявок."
        ),
        "rule_order": (
            "Групи розігрували по черзі, у порядку з таблиці. Спершу місця отримують різні особи: хто вже має місце"
            " в попередній групі, отримує друге лише тоді, коли інакше групу не можна заповнити в межах лімітів."
        ),
        "rule_reserve": (
            "Резервний список: особи з пулу групи без місця, у розіграному порядку. Коли хтось відмовляється,"
            " звільнене місце спершу пропонують першій особі зі списку."
        ),
        "rule_no_lottery": "Коли в пулі групи не більше осіб, ніж місць, жеребкування немає: місце отримує кожен.",
        "rule_small": (
            "Кількості осіб у секторах, менші за {small}, теж показано, бо ліміти місць публічні: без них не можна"
            " перевірити, чи жеребкування їх дотрималося."
        ),
        "group_heading": "Група {number}: {name}",
        "group_text": "Місця: {seats}. У пулі групи: {pool}. Вибрано: {selected}. У резервному списку: {reserve}.",
        "group_no_lottery": "У пулі було не більше осіб, ніж місць, тож жеребкування не було: місце отримав кожен.",
        "sectors_caption": "Група {number} за секторами",
        "sector": "Сектор",
        "quota": "Ліміт (мін.–макс.)",
        "no_limit": "без ліміту",
        "chance_lowest": "Шанс на місце: найменший",
        "chance_average": "Шанс: середній",
        "chance_highest": "Шанс: найбільший",
        "total": "Разом",
        "without_lottery": "Групи без жеребкування",
        "all_drawn": "Кожна група мала більше охочих, ніж місць: усі розігрувалися.",
        "notes": "Примітки та другі місця",
        "second_seats": (
            "Група {number}: осіб із другим місцем (що вже мають місце в попередній групі): {count} – лише тому,"
            " що інакше групу не можна було заповнити в межах лімітів."
        ),
        "note": "Група {number}: {note}",
        "no_notes": "Немає: кожна особа має щонайбільше одне місце, а жеребкування не потребувало винятків.",
        "reproduce": "Як повторити жеребкування",
        "seed": "Зерно жеребкування (seed)",
        "algorithm": "Алгоритм",
        "library": "Бібліотека",
        "solver": "Розв'язувач (solver)",
        "date": "Дата жеребкування",
        "parameter": "Параметр",
        "value": "Значення",
        "parameters_caption": "Параметри жеребкування",
        "reproduce_text": (
            "На тих самих даних (ті самі заявки в жеребкуванні й той самий файл config/recruitment.yaml) ця команда"
            " дає той самий результат і нічого не зберігає:"
        ),
        "reproduce_versions": "З тими самими версіями бібліотек:",
        "reproduce_who": (
            "Заявки не публікуються (це персональні дані), тож саме жеребкування можуть повторити особи з доступом"
            " до них (напр. працівники Центру соціальної комунікації або аудитор). Кожен може перевірити таблиці"
            " цього звіту: кількості в секторах, ліміти й шанси."
        ),
        "pool": "Пул (без персональних даних)",
        "pool_text": (
            "Кожна особа в жеребкуванні має тут номер від 1 до {pool} у порядку номерів заявок (їх не публікуємо)."
            " Групи: {groups}. Шанс: імовірність місця в жеребкуванні цієї групи («—»: особа не обрала цю групу)."
        ),
        "pool_caption": "Пул: сектор, обрані групи, шанси й результат кожної особи",
        "position": "№",
        "asked": "Обрані групи",
        "chance_in": "Шанс: група {number}",
        "outcome": "Результат",
        "seat_in": "місце в групі {number}",
        "reserve_in": "резерв № {place} у групі {number}",
        "no_seat": "без місця",
        "empty_pool": "Ніхто не брав участі в жеребкуванні.",
    },
}


@dataclass(frozen=True, slots=True)
class SectorRow:
    """One sector in one group: its pool, quota, seats, reserves and its pool members' chances."""

    code: str
    label: str
    in_pool: int
    quota: Quota | None  # None: the group sets no quota for the sector (any number of seats)
    selected: int
    reserve: int
    chance_lowest: float | None  # None when no one of the sector is in the group's pool
    chance_average: float | None
    chance_highest: float | None


@dataclass(frozen=True, slots=True)
class GroupSection:
    """One group's outcome, counted."""

    number: int  # 1.. in the order drawn (the call's)
    code: str
    name: str
    seats: int
    pool: int
    selected: int
    reserve: int
    lottery: bool
    second_seats: int
    notes: tuple[str, ...]  # staff's notes, application numbers and emails cut out
    sectors: tuple[SectorRow, ...]


@dataclass(frozen=True, slots=True)
class PoolRow:
    """One person in the draw, anonymised: a position, the sector, the groups asked for and what came of it."""

    position: int  # 1..N by application number (never published)
    sector: str  # the sector's label
    asked: tuple[int, ...]  # group numbers, in the applicant's order
    chances: tuple[float | None, ...]  # per group (by number); None when not in that group's pool
    seats: tuple[int, ...]  # group numbers with a seat
    reserve: tuple[tuple[int, int], ...]  # (group number, place on its reserve list)


@dataclass(frozen=True, slots=True)
class SelectionReport:
    """Everything the published account says, in one language."""

    language: Language
    drawn_at: datetime
    seed: int
    algorithm: str
    library_version: str
    solver_version: str
    opens: datetime
    deadline: datetime
    min_age: int
    groups: tuple[GroupSection, ...]
    pool: tuple[PoolRow, ...]
    parameters: tuple[tuple[str, str], ...]  # the draw's other recorded parameters (plain values only)

    @property
    def command(self) -> str:
        """The command that repeats the draw without saving anything."""
        return COMMAND.format(seed=self.seed)


def _redact(note: str) -> str:
    return _PERSONAL.sub("…", note)


def _plain(extra: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The draw's extra parameters that are plain values (numbers, text, yes/no), by name."""
    return tuple(
        (str(key), _redact(str(value)))
        for key, value in sorted(extra.items(), key=lambda item: str(item[0]))
        if isinstance(value, str | int | float | bool)
    )


def _sector_codes(call: Recruitment, draw: Draw) -> list[str]:
    codes = [sector.code for sector in call.sectors]
    others = {c.sector for c in draw.candidates} | {code for spec in draw.specs for code in spec.quotas}
    return codes + sorted(others - set(codes))


def _chance(group: GroupDraw, person: int) -> float | None:
    chance = group.probabilities.get(person)
    if chance is None and not group.lottery and person in group.pool:
        return 1.0  # no draw: everyone in the pool took a seat
    return None if chance is None else float(chance)


def _sectors(group: GroupDraw, draw: Draw, call: Recruitment, language: Language) -> tuple[SectorRow, ...]:
    sector_of = {candidate.id: candidate.sector for candidate in draw.candidates}
    spec = next((spec for spec in draw.specs if spec.code == group.code), None)
    quotas = spec.quotas if spec else {}
    selected = Counter(sector_of.get(person, "") for person in group.selected)
    reserve = Counter(sector_of.get(person, "") for person in group.reserve)
    rows = []
    for code in _sector_codes(call, draw):
        members = [person for person in group.pool if sector_of.get(person) == code]
        chances = [c for c in (_chance(group, person) for person in members) if c is not None]
        sector = call.sector(code)
        rows.append(
            SectorRow(
                code=code,
                label=sector.label(language) if sector else code,
                in_pool=len(members),
                quota=quotas.get(code),
                selected=selected[code],
                reserve=reserve[code],
                chance_lowest=min(chances) if chances else None,
                chance_average=fmean(chances) if chances else None,
                chance_highest=max(chances) if chances else None,
            )
        )
    return tuple(rows)


def selection_report(draw: Draw, call: Recruitment, *, drawn_at: datetime, language: str = "pl") -> SelectionReport:
    """The anonymised account of a draw of the call's working groups, in `language` (pl, en or uk).

    Raises:
        ValueError: a language other than pl, en, uk, or `drawn_at` without a time zone.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    if drawn_at.tzinfo is None:
        raise ValueError("drawn_at needs a time zone (e.g. datetime.now(UTC))")
    lang: Language = language
    number = {group.code: index for index, group in enumerate(draw.groups, start=1)}
    sections = []
    for group in draw.groups:
        known = call.group(group.code)
        sections.append(
            GroupSection(
                number=number[group.code],
                code=group.code,
                name=known.name(lang) if known else group.code,
                seats=group.seats,
                pool=len(group.pool),
                selected=len(group.selected),
                reserve=len(group.reserve),
                lottery=group.lottery,
                second_seats=len(group.second_seats),
                notes=tuple(_redact(note) for note in group.notes),
                sectors=_sectors(group, draw, call, lang),
            )
        )
    pool = []
    for position, candidate in enumerate(sorted(draw.candidates, key=lambda c: c.id), start=1):
        sector = call.sector(candidate.sector)
        pool.append(
            PoolRow(
                position=position,
                sector=sector.label(lang) if sector else candidate.sector,
                asked=tuple(number[code] for code in candidate.groups if code in number),
                chances=tuple(_chance(group, candidate.id) for group in draw.groups),
                seats=tuple(number[g.code] for g in draw.groups if candidate.id in g.selected),
                reserve=tuple(
                    (number[g.code], g.reserve.index(candidate.id) + 1)
                    for g in draw.groups
                    if candidate.id in g.reserve
                ),
            )
        )
    return SelectionReport(
        language=lang,
        drawn_at=drawn_at,
        seed=draw.seed,
        algorithm=draw.algorithm,
        library_version=draw.library_version,
        solver_version=draw.solver_version,
        opens=call.opens,
        deadline=call.deadline,
        min_age=call.min_age,
        groups=tuple(sections),
        pool=tuple(pool),
        parameters=_plain(draw.extra),
    )


# The document as blocks, written out as Markdown or HTML: the two always say the same.


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class _Paragraph:
    text: str


@dataclass(frozen=True, slots=True)
class _List:
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Code:
    text: str


@dataclass(frozen=True, slots=True)
class _Table:
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # each row's first cell is its header
    numeric: tuple[bool, ...]  # per column: right-aligned


_Block = _Heading | _Paragraph | _List | _Code | _Table


def _percent(value: float | None, language: Language) -> str:
    return "—" if value is None else format_percent(value, "0.0%", locale=language)


def _when(moment: datetime, language: Language) -> str:
    return format_datetime(moment, "d MMMM y, HH:mm", tzinfo=WARSAW, locale=language)


def _quota(quota: Quota | None, texts: dict[str, str]) -> str:
    return texts["no_limit"] if quota is None else f"{quota.min}–{quota.max}"


def _blocks(report: SelectionReport) -> list[_Block]:
    texts, lang = TEXTS[report.language], report.language
    groups = report.groups
    blocks: list[_Block] = [
        _Heading(1, texts["title"]),
        _Paragraph(texts["drawn"].format(when=_when(report.drawn_at, lang), pool=len(report.pool))),
        _Paragraph(texts["anonymous"]),
        _Heading(2, texts["call"]),
        _Paragraph(texts["call_text"].format(opens=_when(report.opens, lang), deadline=_when(report.deadline, lang))),
        _Table(
            texts["groups_caption"],
            (texts["group"], texts["seats"], texts["in_pool"], texts["selected"], texts["reserve"], texts["lottery"]),
            tuple(
                (
                    f"{g.number}. {g.name}",
                    str(g.seats),
                    str(g.pool),
                    str(g.selected),
                    str(g.reserve),
                    texts["yes"] if g.lottery else texts["no_everyone"],
                )
                for g in groups
            ),
            (False, True, True, True, True, False),
        ),
        _Heading(2, texts["rules"]),
        _List(
            (
                texts["rule_pool"].format(min_age=report.min_age),
                texts["rule_quotas"],
                texts["rule_maximin"],
                texts["rule_order"],
                texts["rule_reserve"],
                texts["rule_no_lottery"],
                texts["rule_small"].format(small=SMALL),
            )
        ),
    ]
    for g in groups:
        blocks += [
            _Heading(2, texts["group_heading"].format(number=g.number, name=g.name)),
            _Paragraph(texts["group_text"].format(seats=g.seats, pool=g.pool, selected=g.selected, reserve=g.reserve)),
        ]
        if not g.lottery:
            blocks.append(_Paragraph(texts["group_no_lottery"]))
        rows = [
            (
                s.label,
                str(s.in_pool),
                _quota(s.quota, texts),
                str(s.selected),
                str(s.reserve),
                _percent(s.chance_lowest, lang),
                _percent(s.chance_average, lang),
                _percent(s.chance_highest, lang),
            )
            for s in g.sectors
        ]
        rows.append((texts["total"], str(g.pool), "", str(g.selected), str(g.reserve), "", "", ""))
        head = (
            texts["sector"],
            texts["in_pool"],
            texts["quota"],
            texts["selected"],
            texts["reserve"],
            texts["chance_lowest"],
            texts["chance_average"],
            texts["chance_highest"],
        )
        blocks.append(
            _Table(texts["sectors_caption"].format(number=g.number), head, tuple(rows), (False,) + (True,) * 7)
        )

    blocks.append(_Heading(2, texts["without_lottery"]))
    without = [
        texts["group_heading"].format(number=g.number, name=g.name) + f" – {texts['group_no_lottery']}"
        for g in groups
        if not g.lottery
    ]
    blocks.append(_List(tuple(without)) if without else _Paragraph(texts["all_drawn"]))

    blocks.append(_Heading(2, texts["notes"]))
    notes = [texts["second_seats"].format(number=g.number, count=g.second_seats) for g in groups if g.second_seats] + [
        texts["note"].format(number=g.number, note=note) for g in groups for note in g.notes
    ]
    blocks.append(_List(tuple(notes)) if notes else _Paragraph(texts["no_notes"]))

    parameters = [
        (texts["seed"], str(report.seed)),
        (texts["algorithm"], report.algorithm),
        (texts["library"], f"sortition-algorithms {report.library_version}"),
        (texts["solver"], f"highspy {report.solver_version}"),
        (texts["date"], f"{_when(report.drawn_at, lang)} ({report.drawn_at.astimezone(WARSAW).isoformat()})"),
        *report.parameters,
    ]
    blocks += [
        _Heading(2, texts["reproduce"]),
        _Table(texts["parameters_caption"], (texts["parameter"], texts["value"]), tuple(parameters), (False, False)),
        _Paragraph(texts["reproduce_text"]),
        _Code(report.command),
        _Paragraph(texts["reproduce_versions"]),
        _Code(
            f'pip install "wspolnota[selection]" "sortition-algorithms=={report.library_version}"'
            f' "highspy=={report.solver_version}"'
        ),
        _Paragraph(texts["reproduce_who"]),
        _Heading(2, texts["pool"]),
    ]
    if not report.pool:
        blocks.append(_Paragraph(texts["empty_pool"]))
        return blocks
    legend = ", ".join(f"{g.number} – {g.name}" for g in groups)
    blocks.append(_Paragraph(texts["pool_text"].format(pool=len(report.pool), groups=legend)))
    pool_head: tuple[str, ...] = (
        texts["position"],
        texts["sector"],
        texts["asked"],
        *(texts["chance_in"].format(number=g.number) for g in groups),
        texts["outcome"],
    )
    pool_rows = tuple(
        (
            str(row.position),
            row.sector,
            ", ".join(map(str, row.asked)),
            *(_percent(chance, lang) for chance in row.chances),
            _outcome(row, texts),
        )
        for row in report.pool
    )
    numeric = (True, False, False, *(True for _ in groups), False)
    blocks.append(_Table(texts["pool_caption"], pool_head, pool_rows, numeric))
    return blocks


def _outcome(row: PoolRow, texts: dict[str, str]) -> str:
    parts = [texts["seat_in"].format(number=n) for n in row.seats]
    parts += [texts["reserve_in"].format(number=n, place=place) for n, place in row.reserve]
    return "; ".join(parts) or texts["no_seat"]


def _md_cell(text: str) -> str:
    """Markdown text (`_md`) for a table's cell: a pipe would end the cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _md(text: str) -> str:
    """Plain text for Markdown: characters that would start markup are escaped (an underscore inside a word,
    as in `pool_digest`, starts none)."""
    return re.sub(r"([\\`*\[\]<>]|(?<!\w)_|_(?!\w))", r"\\\1", text)


def render_markdown(report: SelectionReport) -> str:
    """The account as Markdown (headings, lists, pipe tables), in the report's language."""
    lines: list[str] = []
    for block in _blocks(report):
        match block:
            case _Heading(level, text):
                lines += ["#" * level + " " + _md(text), ""]
            case _Paragraph(text):
                lines += [_md(text), ""]
            case _List(items):
                lines += [f"- {_md(item)}" for item in items] + [""]
            case _Code(text):
                lines += ["```sh", text, "```", ""]
            case _Table(caption, head, rows, numeric):
                lines += [f"**{_md(caption)}**", ""]
                lines.append("| " + " | ".join(_md_cell(_md(cell)) for cell in head) + " |")
                lines.append("|" + "|".join("---:" if right else "---" for right in numeric) + "|")
                lines += ["| " + " | ".join(_md_cell(_md(cell)) for cell in row) + " |" for row in rows]
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _html_table(table: _Table) -> str:
    def cell(tag: str, text: str, right: bool, scope: str | None = None) -> str:
        attributes = (f' scope="{scope}"' if scope else "") + (' class="n"' if right else "")
        return f"<{tag}{attributes}>{escape(text)}</{tag}>"

    head = "".join(cell("th", text, right, "col") for text, right in zip(table.head, table.numeric, strict=True))
    body = "".join(
        "<tr>"
        + cell("th", row[0], table.numeric[0], "row")
        + "".join(cell("td", text, right) for text, right in zip(row[1:], table.numeric[1:], strict=True))
        + "</tr>\n"
        for row in table.rows
    )
    return (
        f"<table><caption>{escape(table.caption)}</caption>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}</tbody></table>"
    )


def _html(blocks: Iterable[_Block]) -> Sequence[str]:
    parts = []
    for block in blocks:
        match block:
            case _Heading(level, text):
                parts.append(f"<h{level}>{escape(text)}</h{level}>")
            case _Paragraph(text):
                parts.append(f"<p>{escape(text)}</p>")
            case _List(items):
                parts.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
            case _Code(text):
                parts.append(f"<pre><code>{escape(text)}</code></pre>")
            case _Table():
                parts.append(_html_table(block))
    return parts


_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
    "thead th{background:#f0f0f0}caption{text-align:left;font-weight:bold;padding:.3em 0}"
    ".n{text-align:right;font-variant-numeric:tabular-nums}"
    "pre{background:#f7f7f7;border-left:3px solid #c8102e;padding:.5em .8em;white-space:pre-wrap}"
    "@page{size:A4;margin:15mm}"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
    "thead{display:table-header-group}tr{break-inside:avoid}h1,h2{break-after:avoid}caption{break-after:avoid}}"
)


def render_html(report: SelectionReport) -> str:
    """The account as one self-contained HTML page (no scripts, no external files), printable to PDF."""
    title = TEXTS[report.language]["title"]
    return (
        f'<!doctype html>\n<html lang="{report.language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{_CSP}'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body><main>\n"
        + "\n".join(_html(_blocks(report)))
        + "\n</main></body></html>\n"
    )

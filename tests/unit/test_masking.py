"""Masking quotes: personal data that must vanish, and the harmless words that must stay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.masking import ADDRESS_MARK, EMAIL_MARK, NAME_MARK, PHONE_MARK, mask, name_forms

# (what a resident wrote, what must not be left of it, what the quote becomes)
MUST_VANISH = [
    ("Anna z trzeciego piętra zawsze pomaga.", ["Anna"], "[…] z trzeciego piętra zawsze pomaga."),
    ("Jan Kowalski, tel. 601 234 567", ["Jan", "Kowalski", "601"], "[…], tel. [telefon]"),
    ("Tomek i Ola z Bródna robią festyn.", ["Tomek", "Ola"], "[…] i […] z Bródna robią festyn."),
    ("u nas pan zbyszek dozorca dba o wszystko", ["zbyszek"], "u nas pan […] dozorca dba o wszystko"),
    ("Pan Kazimierz Wróbel z administracji.", ["Kazimierz", "Wróbel"], "Pan […] z administracji."),
    ("pani Krystyna Zawadzka z Rady Seniorów", ["Krystyna", "Zawadzka"], "pani […] z Rady Seniorów"),
    ("Rozmawiałam ze Zbyszkiem i z panią Kasią.", ["Zbyszk", "Kasi"], "Rozmawiałam ze […] i z panią […]."),
    ("Zbyszka nie było, a Ani też nie.", ["Zbyszk", "Ani"], "[…] nie było, a […] też nie."),
    ("Pisałam do Ani Nowak.", ["Ani", "Nowak"], "Pisałam do […]."),
    ("Kowalczyk Anna mieszka obok.", ["Kowalczyk", "Anna"], "[…] mieszka obok."),
    ("ANNA i MAREK pomagają", ["ANNA", "MAREK"], "[…] i […] pomagają"),
    ("pani Nowak-Kowalska i Anna-Maria", ["Nowak", "Anna"], "pani […] i […]"),
    ("Mrs Smith organised it.", ["Smith"], "Mrs […] organised it."),
    ("пані Марія Коваленко допомагає всім.", ["Марія", "Коваленко"], "пані […] допомагає всім."),
    ("Олена Петренко організувала свято.", ["Олена", "Петренко"], "[…] організувала свято."),
    ("Моя сусідка Олена з Києва.", ["Олена"], "Моя сусідка […] з Києва."),
    ("Дякую Олені та Тарасові!", ["Олен", "Тарас"], "Дякую […] та […]!"),
    ("Мар'яна і Ігор допомагають.", ["Мар'яна", "Ігор"], "[…] і […] допомагають."),
    ("Sąsiadka Ołena i Oksana z Charkowa.", ["Ołena", "Oksana"], "Sąsiadka […] i […] z Charkowa."),
    ("Mieszkam na ul. Kondratowicza 37 m. 12, zapraszam.", ["Kondratowicza", "37"], "Mieszkam na [adres], zapraszam."),
    ("al. Jana Pawła II 10/4", ["Jana", "10/4"], "[adres]"),
    ("Kondratowicza 37 to mój blok.", ["Kondratowicza"], "[adres] to mój blok."),
    ("przy Górczewskiej 12 i ulica Marszałkowska 10", ["12", "10"], "przy [adres] i [adres]"),
    ("вул. Хрещатик 22, кв. 5", ["Хрещатик"], "[adres]"),
    ("piszcie: jan(at)wp.pl", ["jan", "wp"], "piszcie: [e-mail]"),
    ("jan [at] wp [dot] pl", ["jan", "wp"], "[e-mail]"),
    ("jan małpa wp.pl", ["jan", "wp"], "[e-mail]"),
    ("ania.nowak at gmail com", ["ania", "gmail"], "[e-mail]"),
    ("m.wisniewska@gmail.com i jan @ wp.pl", ["wisniewska", "wp"], "[e-mail] i [e-mail]"),
    ("obserwujcie @sasiedzi_bielany", ["sasiedzi"], "obserwujcie [konto]"),
    ("+48 600 100 200", ["600"], "[telefon]"),
    ("dzwoń 600-100-200, albo 600100200.", ["600"], "dzwoń [telefon], albo [telefon]."),
    ("22 123 45 67 lub (22) 1234567", ["123", "1234567"], "[telefon] lub [telefon]"),
    ("+48 512-345-678 i 22 811 45 67", ["512", "811"], "[telefon] i [telefon]"),
    ("0048 600 100 200, +48600100200", ["600"], "[telefon], [telefon]"),
    ("+380 67 123 45 67 або 067 123 45 67", ["123"], "[telefon] або [telefon]"),
    ("mój PESEL 85010112345", ["85010112345"], "mój PESEL [PESEL]"),
]

MUST_STAY = [
    "Dzień Sąsiada na Pradze był super, z Ukrainy przyjechało 50 osób.",
    "Budżet 1 250 000 zł w 2024 roku, a w Ursynowie 125 000 000 zł.",
    "W 2023 r. było 1500 osób, koszt 600 000 zł, 00-950 Warszawa, ok. 2 500 000 mieszkańców.",
    "Spotkanie 17:00–19:00, punkty 1, 2, 3 i 1 862 402 mieszkańców, 12.05.2024, 2020-2024.",
    "Wyobrażam sobie Warszawę jako miejsce dla wszystkich. Noc Muzeów 2025 też.",
    "Sąsiedzka grupa na Facebooku i Centrum Aktywności Międzypokoleniowej na Nowolipiu.",
    "Najbardziej pomaga Dom Kultury na Woli. Wola sąsiadów jest silna.",
    "Praga, Ursynów, Mokotów, Białołęka, Targówek, Praga-Południe i Rembertów.",
    "Ani jeden sąsiad nie przyszedł. Nadzieja umiera ostatnia.",
    "Róża kwitnie na podwórku. Kupiłam marki i jagody, a inna osoba nie.",
    "Maja mają dzieci na placu zabaw. Wiara w ludzi.",
    "Szkoła im. Marii Skłodowskiej-Curie i kościół św. Anny.",
    "Sala 5 była pełna. Grupa 3 też.",
    "Mieszkam na ulicy, na której było 5 ławek.",
    "Dla mене громада – це сусіди з України, які допомагають. Віра в людей. Слава Україні!",
    "Люди у Варшаві добрі, коли є свято.",
    "For me community means neighbours who help each other in Warsaw.",
    "Sąsiedzi ktorzy sie lubia i podwurko.",
]


@pytest.mark.parametrize(("text", "gone", "expected"), MUST_VANISH, ids=[case[0][:40] for case in MUST_VANISH])
def test_personal_data_vanishes(text: str, gone: list[str], expected: str) -> None:
    masked = mask(text)
    for piece in gone:
        assert piece not in masked, masked
    assert masked == expected


@pytest.mark.parametrize("text", MUST_STAY, ids=[text[:40] for text in MUST_STAY])
def test_harmless_words_stay(text: str) -> None:
    assert mask(text) == text


def test_the_marks_are_the_documented_ones() -> None:
    masked = mask("Anna, ul. Kondratowicza 37, anna@wp.pl, 600 100 200")
    assert masked == f"{NAME_MARK}, {ADDRESS_MARK}, {EMAIL_MARK}, {PHONE_MARK}"


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("Zbyszek", {"zbyszka", "zbyszkowi", "zbyszkiem", "zbyszku"}),
        ("Kasia", {"kasi", "kasię", "kasią", "kasiu"}),
        ("Anna", {"anny", "annie", "annę", "anną", "anno"}),
        ("Marta", {"marty", "marcie"}),
        ("Jadwiga", {"jadwigi", "jadwidze"}),
        ("Paweł", {"pawła", "pawłowi", "pawłem", "pawle"}),
        ("Jerzy", {"jerzego", "jerzemu"}),
        ("Kowalski", {"kowalskiego", "kowalskim", "kowalscy"}),
        ("Nowak", {"nowaka", "nowakiem", "nowakowi"}),
        ("Олена", {"олени", "олені", "олену", "оленою"}),
        ("Андрій", {"андрія", "андрію", "андрієм"}),
    ],
)
def test_names_are_known_in_their_inflected_forms(name: str, forms: set[str]) -> None:
    assert forms <= name_forms(name, surname=name in {"Kowalski", "Nowak"})


@pytest.mark.parametrize("text", [case[0] for case in MUST_VANISH] + MUST_STAY)
def test_masking_a_masked_quote_changes_nothing(text: str) -> None:
    # `quotes approve` warns when masking would still change an approved text: never for its own output.
    assert mask(mask(text)) == mask(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ян і Лука допомагають.", "[…] і […] допомагають."),
        ("У нас лев у зоопарку. Лев Толстой писав.", "У нас лев у зоопарку. Лев Толстой писав."),
        ("Ola at gmail com pisze", "[e-mail] pisze"),
        ("look at this place, please", "look at this place, please"),
    ],
)
def test_more_names_and_words(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dane zgodnie z RODO, dane z GUS.", "Dane zgodnie z RODO, dane z GUS."),
        ("we will publish a report at 2030.um.warszawa.pl/program-wspolnota", None),
        ("write: jan at wp dot pl", "write: [e-mail]"),
        ("meet us at home, or ola at gmail.com", "meet us at home, or [e-mail]"),
    ],
)
def test_acronyms_and_links_stay(text: str, expected: str | None) -> None:
    assert mask(text) == (text if expected is None else expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lukasz i Malgosia z Jozefem pomagaja", "[…] i […] z […] pomagaja"),  # typed without Polish letters
        ("Ale to jest super, ale nie wiem. W lesie jest zycie.", None),  # "alę", "Lesię", "Zycie" are no guides
        ("We could not save this just now. Let us dance, nine people came.", None),
        ("Anna tylko pomaga, a pan musiał wyjść.", "[…] tylko pomaga, a pan musiał wyjść."),  # surnames are words too
        ("pani kowalska i pan nowak z parteru", "pani […] i pan […] z parteru"),
        ("Dla Polaków i Ukraińców. Pan Bóg wie.", None),
        ("Marku, Franku i Jacku!", "[…], […] i […]!"),
    ],
)
def test_folded_letters_surnames_and_nationalities(text: str, expected: str | None) -> None:
    assert mask(text) == (text if expected is None else expected)


_PIECES = [
    *("Anna ania pan pani Kowalska kowalska ul. Kondratowicza 37 m. 12 600 100 200 +48 (22) 22 123 45 67".split()),
    *("jan (at) wp.pl at gmail com małpa Ani ani Dzień Sąsiada zł 1 250 000 2024 osób Олена Петренко пані".split()),
    *("@konto_x […] [telefon] Róża róża / 4 II al. Jana Pawła Inna inna Zbyszka Mrs Smith Lukasz im. św.".split()),
    *("(dot) [at] 0048 85010112345 RODO ANNA Warszawa Pradze Ukrainy вул. Хрещатик кв. Kasią panią Sala".split()),
    *[".", ",", "\n", "-", ":", "!", "…", "„", "”", "z", "i", "a"],
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PIECES), st.sampled_from([" ", "", "  "])), max_size=14))
def test_masking_never_fails_and_masks_its_own_output_to_itself(pieces: list[tuple[str, str]]) -> None:
    once = mask("".join(piece + gap for piece, gap in pieces))
    assert mask(once) == once

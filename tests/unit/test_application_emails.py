"""Working-group applications by email: the corpus read as expected, the ways people name groups and sectors,
opinions never read as applications, and a reader that never raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.definitions.recruitment import SECTOR_CODES, Recruitment, load_recruitment
from handlers.email.applications import ApplicationReading, read_application
from handlers.email.classify import MailKind, Verdict
from handlers.email.parse import parse_email
from tests.support import SHIPPED_CONFIG
from tests.support.emails import build_email

CORPUS = Path(__file__).resolve().parent.parent / "emails" / "applications"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
APPLICATIONS = sorted(name for name in EXPECTED if not name.startswith("../"))
REUSED_OPINIONS = sorted(name for name in EXPECTED if name.startswith("../"))
EXACT = ("applies", "withdraws", "groups", "any_group", "drops")  # what decides what the mailroom does
SCORED = (*EXACT, "sector", "name", "organisation")
ALL = ("otwartosc", "aktywnosc", "przynaleznosc")


@pytest.fixture(scope="module")
def recruitment() -> Recruitment:
    """The shipped call: its three groups (codes, names in three languages) are what applicants name."""
    loaded = load_recruitment(SHIPPED_CONFIG / "recruitment.yaml")
    assert loaded is not None
    return loaded


def _read(name: str, recruitment: Recruitment) -> ApplicationReading:
    expected = EXPECTED[name]
    parsed = parse_email((CORPUS / name).read_bytes())
    return read_application(parsed, recruitment, answers_our_application_mail=bool(expected.get("reply_to_ours")))


def _fields(reading: ApplicationReading) -> dict[str, Any]:
    return {
        "applies": reading.applies,
        "withdraws": reading.withdraws,
        "groups": list(reading.groups),
        "any_group": reading.any_group,
        "drops": list(reading.drops),
        "sector": reading.sector,
        "name": reading.name,
        "organisation": reading.organisation,
    }


def _checks(name: str, reading: ApplicationReading) -> list[tuple[str, bool]]:
    """Every expectation of one email as (what, right): the fields, then the description's phrases."""
    expected = EXPECTED[name]
    got = _fields(reading)
    checks = [(field, got[field] == expected[field]) for field in SCORED if field in expected]
    checks += [
        (f"description has {phrase!r}", phrase in reading.description)
        for phrase in expected.get("description_contains") or ()
    ]
    checks += [
        (f"description lacks {phrase!r}", phrase not in reading.description)
        for phrase in expected.get("description_excludes") or ()
    ]
    if "description_min_length" in expected:
        checks.append(("description length", len(reading.description) >= expected["description_min_length"]))
    return checks


def test_the_corpus_is_big_enough() -> None:
    assert len(APPLICATIONS) >= 30
    assert {path.name for path in CORPUS.glob("*.eml")} == set(APPLICATIONS)
    assert len(REUSED_OPINIONS) >= 10
    assert all((CORPUS / name).is_file() for name in REUSED_OPINIONS)
    kinds = [EXPECTED[name] for name in APPLICATIONS]
    assert sum(entry["withdraws"] for entry in kinds) >= 3
    assert sum(entry["reply_to_ours"] for entry in kinds) >= 4
    assert sum(not entry["applies"] for entry in kinds) >= 4  # out-of-office replies and opinions among them


@pytest.mark.parametrize("name", APPLICATIONS)
def test_applies_withdraws_and_groups_are_read_exactly(name: str, recruitment: Recruitment) -> None:
    reading = _read(name, recruitment)
    expected = EXPECTED[name]
    assert {field: _fields(reading)[field] for field in EXACT} == {field: expected[field] for field in EXACT}
    assert reading.reasons  # staff always see why


@pytest.mark.parametrize("name", REUSED_OPINIONS)
def test_consultation_opinions_are_not_applications(name: str, recruitment: Recruitment) -> None:
    reading = read_application(parse_email((CORPUS / name).read_bytes()), recruitment)
    assert not reading.applies
    assert (reading.groups, reading.withdraws, reading.sector, reading.description) == ((), False, None, "")


def test_at_least_95_percent_of_all_fields_are_right(
    recruitment: Recruitment, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong: list[str] = []
    total = 0
    for name in APPLICATIONS:
        checks = _checks(name, _read(name, recruitment))
        total += len(checks)
        wrong += [f"{name}: {what}" for what, right in checks if not right]
    score = 1 - len(wrong) / total
    with capsys.disabled():
        print(f"\napplication fields right: {total - len(wrong)}/{total} = {score:.1%} over {len(APPLICATIONS)} emails")
        for line in wrong:
            print(f"  wrong: {line}")
    assert score >= 0.95, wrong


@pytest.mark.parametrize("name", APPLICATIONS)
def test_the_description_is_the_writers_own_words(name: str, recruitment: Recruitment) -> None:
    """Quotes, signatures and footers are never in it: it is a part of what the parser kept as own words."""
    parsed = parse_email((CORPUS / name).read_bytes())
    reading = _read(name, recruitment)
    assert reading.description in parsed.own_text


# ── the ways people write ─────────────────────────────────────────────────────────────────────────
def _reading(body: str, recruitment: Recruitment, subject: str = "Wiadomość", **kwargs: Any) -> ApplicationReading:
    return read_application(parse_email(build_email(body, subject=subject)), recruitment, **kwargs)


@pytest.mark.parametrize(
    ("words", "groups"),
    [
        ("Chciałabym dołączyć do grupy II.", ("aktywnosc",)),
        ("Zgłaszam się do I i III.", ("otwartosc", "przynaleznosc")),
        ("Zgłaszam się do grupy II oraz III i liczę na udział.", ("aktywnosc", "przynaleznosc")),
        ("Chcę się zgłosić do grupy roboczej nr 2.", ("aktywnosc",)),
        ("Zgłaszam się do grupy I i jestem gotowa działać.", ("otwartosc",)),
        ("Proszę o zapisanie mnie do grupy 1 i 3.", ("otwartosc", "przynaleznosc")),
        ("Zgłaszam się do pierwszej grupy roboczej.", ("otwartosc",)),
        ("Chętnie dołączę do drugiej i trzeciej grupy.", ("aktywnosc", "przynaleznosc")),
        ("Zgłaszam się do grupy trzeciej.", ("przynaleznosc",)),
        ("Zgłaszam się do dowolnej grupy.", ALL),
        ("Chcę dołączyć do którejkolwiek grupy roboczej.", ALL),
        ("Zgłaszam się do wszystkich grup roboczych.", ALL),
        ("Chcę do II, ale nie do III.", ("aktywnosc",)),
        ("Chcę się zgłosić do grupy roboczej o przynależności i tożsamości.", ("przynaleznosc",)),
        ("Zgłaszam się do grupy roboczej zajmującej się współpracą lokalną.", ("aktywnosc",)),
        ("Chcę się zgłosić do grupy roboczej.", ()),
        ("chcialabym sie zglosic do grupy 2", ("aktywnosc",)),  # a phone without Polish letters
        ("Zgłaszam się do grupy roboczej: obszar drugi, ale mogę też pierwszy.", ("otwartosc", "aktywnosc")),
        ("Zgłaszam się!\nGrupa: II\nOpis: prowadzę ogród.", ("aktywnosc",)),
        ("I'd like to apply for working group 2.", ("aktywnosc",)),
        ("I would like to join group two.", ("aktywnosc",)),
        ("I'd like to apply to working groups I and III.", ("otwartosc", "przynaleznosc")),
        ("Please count me in for the first group.", ("otwartosc",)),
        ("I'd like to join any of the working groups.", ALL),
        ("I'd like to apply: preferably group III, but group I would also be fine.", ("otwartosc", "przynaleznosc")),
        ("I'd like to apply to working groups I–III.", ALL),
        ("I'd like to apply for the working group on openness and relationships.", ("otwartosc",)),
        ("Хочу подати заявку до робочої групи III.", ("przynaleznosc",)),
        ("Хочу долучитися до першої робочої групи.", ("otwartosc",)),
        ("Хочу подати заявку до будь-якої робочої групи.", ALL),
        ("Хочу приєднатися до робочої групи про належність та ідентифікацію з місцем.", ("przynaleznosc",)),
        ("Хочу подати заявку до робочої групи про співпрацю.", ("aktywnosc",)),
    ],
)
def test_groups_named_every_way(words: str, groups: tuple[str, ...], recruitment: Recruitment) -> None:
    reading = _reading(words, recruitment)
    assert reading.applies
    assert reading.groups == groups


@pytest.mark.parametrize(
    "words",
    [
        "Dla mnie wspólnota to grupa sąsiadów, którzy sobie pomagają.",
        "Program Wspólnota to dobry pomysł. Grupy robocze powinny spotykać się w bibliotekach.",
        "Dołączyłam do grupy sąsiedzkiej na Facebooku i to jest moja wspólnota.",
        "Zachęcam sąsiadów do zgłaszania się do grup roboczych.",
        "Nie zgłaszam się do grup roboczych, ale chcę podzielić się opinią.",
        "Jak mogę zgłosić się do grupy roboczej?",
        "Powstaną 3 grupy robocze; dwie grupy to za mało.",
        "Chętnie wezmę udział w spotkaniu konsultacyjnym 29 maja.",
        "Interesuje mnie współpraca z grupą sąsiadów z naszego osiedla.",
        "Rezygnuję z samochodu na rzecz roweru, a w grupie znajomych jeździmy razem.",
        "I think working groups are a good idea for the city.",
        "Мені подобається наша сусідська група в Telegram.",
    ],
)
def test_opinions_that_mention_groups_do_not_apply(words: str, recruitment: Recruitment) -> None:
    assert not _reading(words, recruitment).applies


@pytest.mark.parametrize(
    ("words", "sector", "organisation"),
    [
        ("Zgłaszam się do grupy I. Reprezentuję Fundację Sąsiedzka Praga.", "ngo", "Fundacja Sąsiedzka Praga"),
        (
            "Zgłaszam się do grupy I jako członkini Stowarzyszenia Mieszkańców Ochoty.",
            "ngo",
            "Stowarzyszenie Mieszkańców Ochoty",
        ),
        ("Zgłaszam się do grupy I. Jestem z organizacji pozarządowej.", "ngo", None),
        ("Zgłaszam się do grupy I. Prowadzę grupę nieformalną na Bielanach.", "informal", None),
        ("Zgłaszam się do grupy I. Działam w inicjatywie sąsiedzkiej.", "informal", None),
        ("Zgłaszam się do grupy I jako mieszkanka Woli.", "resident", None),
        ("Zgłaszam się do grupy I. Pracuję w Urzędzie Dzielnicy Wola.", "district_office", "Urząd Dzielnicy Wola"),
        ("Zgłaszam się do grupy I. Pracuję w Domu Kultury Śródmieście.", "city_institution", "Dom Kultury Śródmieście"),
        (
            "Zgłaszam się do grupy I. Pracuję w Bibliotece Publicznej w Dzielnicy Wola.",
            "city_institution",
            "Biblioteka Publiczna w Dzielnicy Wola",
        ),
        (
            "Zgłaszam się do grupy I. Pracuję w Ośrodku Pomocy Społecznej Dzielnicy Bemowo.",
            "city_institution",
            "Ośrodek Pomocy Społecznej Dzielnicy Bemowo",
        ),
        ("Zgłaszam się do grupy I. Jestem pracownikiem Urzędu m.st. Warszawy.", "city_hall", "Urząd m.st. Warszawy"),
        ("I'd like to apply for group 1 as a resident of Wola.", "resident", None),
        (
            "I'd like to apply for group 1. I represent the Praga Neighbours Association.",
            "ngo",
            "Praga Neighbours Association",
        ),
        ("Хочу подати заявку до групи I. Я мешканка Праги.", "resident", None),
        ("Хочу подати заявку до групи I. Я працюю в бібліотеці.", "city_institution", None),
        ("Хочу подати заявку до групи I. Я представляю громадську організацію.", "ngo", None),
        (
            "Zgłaszam się do grupy I. Jestem mieszkanką Woli i działam w Stowarzyszeniu Wola Razem.",
            None,
            "Stowarzyszenie Wola Razem",
        ),
        ("Zgłaszam się do grupy I. Mam 40 lat i dużo pomysłów.", None, None),
        ("Zgłaszam się do grupy I. Jestem przekonana, że biblioteki są ważne.", None, None),
        (
            "Zgłaszam się do grupy I. Sektor: organizacja pozarządowa (Fundacja Ogród Sąsiadów).",
            "ngo",
            "Fundacja Ogród Sąsiadów",
        ),
        ("zglaszam sie do grupy 1. dzialam w fundacji pomocy sasiedzkiej", "ngo", None),
        (
            "Zgłaszam się do grupy I. Koordynuję Centrum Aktywności Lokalnej prowadzone przez Stowarzyszenie Nasz Ursus.",
            "ngo",
            "Stowarzyszenie Nasz Ursus",
        ),
    ],
)
def test_sector_and_organisation_from_the_words(
    words: str, sector: str | None, organisation: str | None, recruitment: Recruitment
) -> None:
    reading = _reading(words, recruitment)
    assert (reading.sector, reading.organisation) == (sector, organisation)


def test_sector_from_the_address_when_nothing_else_says_it(recruitment: Recruitment) -> None:
    raw = build_email("Zgłaszam się do grupy I.", sender="Jan Nowak <jnowak@um.warszawa.pl>")
    reading = read_application(parse_email(raw), recruitment)
    assert reading.sector == "city_hall"
    assert any("domain" in reason for reason in reading.reasons)


@pytest.mark.parametrize(
    ("words", "reply", "withdraws", "groups", "drops"),
    [
        ("Rezygnuję.", True, True, (), ()),
        ("Rezygnuję z udziału w grupach roboczych.", False, True, (), ()),
        ("Wycofuję moje zgłoszenie.", False, True, (), ()),
        ("I withdraw my application.", False, True, (), ()),
        ("Відкликаю заявку.", False, True, (), ()),
        ("Rezygnuję z grupy III, zostaję w grupie I.", True, False, ("otwartosc",), ("przynaleznosc",)),
        ("Nie rezygnuję, zostaję w grupie II.", True, False, ("aktywnosc",), ()),
        (
            "Rezygnuję z grupy roboczej II, bo zmieniłem pracę, ale zostaję w III.",
            False,
            False,
            ("przynaleznosc",),
            ("aktywnosc",),
        ),
        ("Proszę przenieść mnie z grupy 1 do grupy 3.", False, False, ("przynaleznosc",), ("otwartosc",)),
        (
            "Could you please move my application from group 1 to group 3?",
            False,
            False,
            ("przynaleznosc",),
            ("otwartosc",),
        ),
    ],
)
def test_withdrawals_and_moves(
    words: str, reply: bool, withdraws: bool, groups: tuple[str, ...], drops: tuple[str, ...], recruitment: Recruitment
) -> None:
    reading = _reading(words, recruitment, answers_our_application_mail=reply)
    assert (reading.applies, reading.withdraws, reading.groups, reading.drops) == (True, withdraws, groups, drops)


def test_rezygnuje_in_an_opinion_withdraws_nothing(recruitment: Recruitment) -> None:
    assert not _reading("Rezygnuję z samochodu, jeżdżę rowerem.", recruitment).applies


def test_a_reply_to_our_application_message_belongs_to_the_application(recruitment: Recruitment) -> None:
    reading = _reading(
        "Dziękuję!", recruitment, subject="Re: Program Wspólnota – zgłoszenie", answers_our_application_mail=True
    )
    assert reading.applies
    assert reading.reasons[0] == "a reply to our application message"


def test_the_subject_alone_can_apply(recruitment: Recruitment) -> None:
    reading = _reading("W załączeniu CV.", recruitment, subject="Zgłoszenie do grup I i II")
    assert (reading.applies, reading.groups) == (True, ("otwartosc", "aktywnosc"))


def test_the_name_comes_from_the_display_name_then_the_words(recruitment: Recruitment) -> None:
    raw = build_email("Zgłaszam się do grupy I. Nazywam się Ewa Lis.", sender="biuro@example.pl")
    assert read_application(parse_email(raw), recruitment).name == "Ewa Lis"
    raw = build_email("Zgłaszam się do grupy I.", sender='"Kowalska, Anna" <a@example.pl>')
    assert read_application(parse_email(raw), recruitment).name == "Anna Kowalska"


def test_automatic_mail_is_never_an_application(recruitment: Recruitment) -> None:
    raw = build_email(
        "Jestem na urlopie. Zgłaszam się do grupy II po powrocie.", headers={"Auto-Submitted": "auto-replied"}
    )
    reading = read_application(parse_email(raw), recruitment)
    assert not reading.applies
    assert reading.reasons == ("not a person's own email: auto_reply",)
    spam = read_application(
        parse_email(build_email("Zgłaszam się do grupy II.")), recruitment, verdict=Verdict(MailKind.SPAM)
    )
    assert not spam.applies


def test_an_empty_verdict_still_reads_the_subject(recruitment: Recruitment) -> None:
    """The mailroom's classifier calls a body with no words 'empty'; a subject that applies is still an application."""
    raw = build_email("", subject="Zgłoszenie do grupy roboczej III")
    reading = read_application(parse_email(raw), recruitment, verdict=Verdict(MailKind.EMPTY, "no own words"))
    assert (reading.applies, reading.groups, reading.description) == (True, ("przynaleznosc",), "")


# ── never raises ──────────────────────────────────────────────────────────────────────────────────
_WORDS = st.sampled_from(
    "grupy grupa I II III i oraz do nr 1 2 3 zgłaszam się rezygnuję Fundacja Urząd m.st. Warszawy Dzielnicy jako "
    "mieszkanka group working apply withdraw any будь-якої групи заявку відкликаю першої , . ? ! « » „ ” - – : ( ) \n".split(
        " "
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(st.text(max_size=400), st.lists(_WORDS, max_size=60).map(" ".join)),
    subject=st.text(max_size=80),
    name=st.text(max_size=40),
    reply=st.booleans(),
)
def test_reading_never_raises_on_any_text(
    body: str, subject: str, name: str, reply: bool, recruitment: Recruitment
) -> None:
    raw = build_email(
        body, subject=subject.replace("\n", " ").replace("\r", " ") or "x", sender=f'"{name}" <a@example.pl>'
    )
    reading = read_application(parse_email(raw), recruitment, answers_our_application_mail=reply)
    assert set(reading.groups) <= set(ALL) and list(reading.groups) == sorted(reading.groups, key=ALL.index)
    assert reading.sector is None or reading.sector in SECTOR_CODES
    assert not (reading.withdraws and reading.groups)
    assert not reading.any_group or reading.groups == ALL
    assert reading.applies or (reading.groups, reading.name, reading.description) == ((), None, "")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=2000))
def test_reading_never_raises_on_any_bytes(raw: bytes, recruitment: Recruitment) -> None:
    read_application(parse_email(raw), recruitment)

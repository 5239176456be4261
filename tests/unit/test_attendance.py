"""Plain replies to an invitation read as "I'll come", "I can't" or left for staff (pl, en, uk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.email.attendance import Attendance, read_attendance
from handlers.email.parse import parse_email

CONFIRMED, DECLINED = Attendance.CONFIRMED, Attendance.DECLINED
RE = "Re: Program Wspólnota – zaproszenie do grupy roboczej"
FIXTURES = Path(__file__).resolve().parents[1] / "emails" / "calendar"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Polish: yes
        ("tak, będę", CONFIRMED),
        ("Tak", CONFIRMED),
        ("Tak.", CONFIRMED),
        ("TAK!", CONFIRMED),
        ("potwierdzam", CONFIRMED),
        ("Potwierdzam udział.", CONFIRMED),
        ("będę", CONFIRMED),
        ("Będę :)", CONFIRMED),
        ("przyjdę", CONFIRMED),
        ("Przyjdę, dziękuję za zaproszenie!", CONFIRMED),
        ("Dzień dobry,\n\ntak, będę na spotkaniach.\n\nPozdrawiam\nJan Kowalski", CONFIRMED),
        ("Chętnie wezmę udział. Do zobaczenia!", CONFIRMED),
        ("tak bede", CONFIRMED),  # without Polish letters
        ("Oczywiście, będę obecna.", CONFIRMED),
        # Polish: no
        ("niestety nie mogę", DECLINED),
        ("Niestety nie mogę.", DECLINED),
        ("nie będę", DECLINED),
        ("Nie będę mogła przyjść.", DECLINED),
        ("nie dam rady", DECLINED),
        ("Nie dam rady, przepraszam.", DECLINED),
        ("rezygnuję", DECLINED),
        ("Rezygnuję z udziału w grupie.", DECLINED),
        ("nie, nie będę", DECLINED),
        ("Nie.", DECLINED),
        ("tak naprawdę to nie mogę", DECLINED),
        ("Niestety nie mogę, ale dziękuję za zaproszenie.", DECLINED),
        ("niestety nie moge", DECLINED),
        ("Nie przyjdę.", DECLINED),
        # English
        ("yes", CONFIRMED),
        ("Yes, I'll be there.", CONFIRMED),
        ("I'll be there", CONFIRMED),
        ("I’ll be there!", CONFIRMED),
        ("confirm", CONFIRMED),
        ("I confirm my participation.", CONFIRMED),
        ("Count me in, see you there.", CONFIRMED),
        ("sorry, I can't make it", DECLINED),
        ("I can't come", DECLINED),
        ("I cannot attend, unfortunately.", DECLINED),
        ("No.", DECLINED),
        ("I won't be able to come.", DECLINED),
        ("Sorry, I have to withdraw.", DECLINED),
        # Ukrainian (and the Russian many Ukrainians in Warsaw write)
        ("так, буду", CONFIRMED),
        ("буду", CONFIRMED),
        ("Так, прийду.", CONFIRMED),
        ("Підтверджую участь.", CONFIRMED),
        ("не зможу", DECLINED),
        ("на жаль, не можу", DECLINED),
        ("На жаль, не зможу прийти.", DECLINED),
        ("Ні, не буду.", DECLINED),
        ("Да, приду.", CONFIRMED),
        ("К сожалению, не смогу.", DECLINED),
        # Unclear, mixed, partial, conditional, a question: staff read it
        ("", None),
        ("Dziękuję.", None),
        ("Thank you!", None),
        ("Дякую", None),
        ("Nie wiem jeszcze, czy będę.", None),
        ("Może będę.", None),
        ("Chyba będę.", None),
        ("Postaram się przyjść.", None),
        ("Tak, ale nie mogę na drugie spotkanie.", None),
        ("Będę na pierwszym, ale na drugim nie.", None),
        ("Będę, jeśli zdążę z pracy.", None),
        ("I'll try to be there.", None),
        ("Maybe, I'm not sure yet.", None),
        ("I'll be there, but only for the first meeting.", None),
        ("Yes, I can't wait!", None),
        ("Czy mogę przyjść z dzieckiem?", None),
        ("Tak, będę. Czy jest parking?", None),
        ("Where is the meeting?", None),
        ("можливо буду", None),
        ("Буду вдячна за інформацію про місце.", None),
        ("Będę wdzięczna za informację.", None),
        ("Tak, nie dam się prosić!", None),
        ("Chciałabym zapytać o dojazd", None),
        ("Będę się spóźnię 20 minut", None),
        ("Nie przyjdę na drugie spotkanie.", None),
        ("Będę tylko na pierwszym spotkaniu", None),
        ("I can't come on 8.11, sorry.", None),
        ("Nie mogę 22 listopada.", None),
        ("Не зможу на другу зустріч.", None),
        ("Nie mam pytań, będę.", None),
        (
            "Dzień dobry, tak, będę. "
            + "Chciałabym jednocześnie opisać, co mnie najbardziej interesuje w pracy grupy, " * 8,
            None,
        ),
    ],
)
def test_plain_replies(text: str, expected: Attendance | None) -> None:
    assert read_attendance(RE, text) == expected


@pytest.mark.parametrize(
    ("subject", "text", "expected"),
    [
        ("Zaakceptowano: Grupa robocza I – Otwartość i nawiązywanie relacji", "", CONFIRMED),
        ("Odrzucono: Grupa robocza I – Otwartość i nawiązywanie relacji", "", DECLINED),
        ("Accepted: Grupa robocza I @ Mon 25 Oct 2027 17:00 - 20:00 (CEST) (wspolnota@um.warszawa.pl)", "", CONFIRMED),
        ("Declined: Grupa robocza I", "", DECLINED),
        ("Tentative: Grupa robocza I", "", None),
        ("Tentatively Accepted: Grupa robocza I", "", None),
        ("Wstępnie zaakceptowano: Grupa robocza I", "Tak, będę", None),
        ("Прийнято: Робоча група I", "", CONFIRMED),
        ("Відхилено: Робоча група I", "", DECLINED),
        ("Під питанням: Робоча група I", "", None),
        ("Akzeptiert: Arbeitsgruppe I", "", CONFIRMED),
        ("Abgelehnt: Arbeitsgruppe I", "", DECLINED),
        ("Mit Vorbehalt: Arbeitsgruppe I", "", None),
        # The comment a person types into the answer agrees, or it wins by making the answer unclear.
        ("Declined: Grupa robocza I", "Sorry, I can't make it on that day.", DECLINED),
        ("Zaakceptowano: Grupa robocza I", "Do zobaczenia!", CONFIRMED),
        ("Zaakceptowano: Grupa robocza I", "Niestety nie mogę.", None),
        ("Zaakceptowano: Grupa robocza I", "Czy mogę przyjść z osobą towarzyszącą?", None),
        ("Accepted: Grupa robocza I", "Anna Nowak has accepted this invitation.", CONFIRMED),
        ("Declined: Grupa robocza I", "Anna Nowak has declined this invitation.", DECLINED),
        # A subject that only quotes the word is no calendar answer.
        ("Re: Accepted applicants", "", None),
        ("Re: Zaakceptowano Pani zgłoszenie", "Dziękuję", None),
    ],
)
def test_calendar_programs_subjects(subject: str, text: str, expected: Attendance | None) -> None:
    assert read_attendance(subject, text) == expected


def test_only_the_own_words_above_the_quoted_history_count() -> None:
    text = (
        "Niestety nie mogę.\n\n"
        "W dniu 8.10.2027 o 12:00, Program Wspólnota <wspolnota@um.warszawa.pl> napisał(a):\n"
        "> Tak, będę – odpowiedz, jeśli przyjdziesz.\n"
        "> Czy masz pytania?\n"
    )
    assert read_attendance(RE, text) == DECLINED
    assert read_attendance(RE, "Tak, będę\n\n-- \nJan Kowalski\nCzy wiesz, że…? (stopka)") == CONFIRMED


def test_only_the_first_lines_count() -> None:
    lines = "Tak, będę.\n\nJan Kowalski\nul. Długa 5\n00-001 Warszawa\nnie wysyłać reklam"
    assert read_attendance(RE, lines) == CONFIRMED


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("02-gmail-en-accepted-series.eml", CONFIRMED),
        ("04-outlook-en-declined-one-meeting.eml", DECLINED),
        ("05-gmail-pl-tentative.eml", None),
        ("06-broken-calendar-part.eml", CONFIRMED),
        ("07-windows-1250-niestety-nie-moge.eml", DECLINED),
    ],
)
def test_the_fixtures_as_parsed(name: str, expected: Attendance | None) -> None:
    parsed = parse_email((FIXTURES / name).read_bytes())
    assert read_attendance(parsed.subject, parsed.own_text) == expected


def test_an_attendance_is_stored_as_text() -> None:
    assert Attendance.CONFIRMED == "confirmed"
    assert Attendance("declined") is Attendance.DECLINED

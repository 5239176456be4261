"""The web chat's pure parts: languages from the browser, links, forms into inputs, summaries into rows."""

from __future__ import annotations

import pytest

from bot.service import Service
from handlers.engine.messages import Action, Choice, Reply, ReplyKind, RespondentRef
from handlers.web.ui import clean_source, inbound_from_form, preferred_language, view
from tests.support import QUESTIONNAIRE, Person

WHO = RespondentRef("web", "p")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        ("de-DE,de;q=0.9,en;q=0.5,pl;q=0.7", "pl"),
        ("en-GB", "en"),
        ("fr, de", None),
        ("", None),
        (None, None),
        ("pl;q=abc, en", "en"),
    ],
)
def test_the_browsers_language_is_read_by_preference(header: str | None, expected: str | None) -> None:
    assert preferred_language(header) == expected


def test_only_slug_like_sources_are_taken_from_a_link() -> None:
    assert clean_source("Dzien-Sasiada-2026__stoisko-1") == "dzien-sasiada-2026__stoisko-1"
    assert clean_source("<script>") is None
    assert clean_source("x" * 100) is None
    assert clean_source(None) is None


def test_a_form_becomes_an_input() -> None:
    pressed = inbound_from_form({"button": "o:values:trust", "text": "ignored"}, WHO, source="ev", assisted=True)
    assert (pressed.choice, pressed.question, pressed.text, pressed.source, pressed.assisted) == (
        "trust",
        "values",
        None,
        "ev",
        True,
    )
    back = inbound_from_form({"button": "a:back::values"}, WHO)
    assert (back.action, back.question) == (Action.BACK, "values")
    typed = inbound_from_form({"text": "Zieleń", "question": "helps"}, WHO, language="pl")
    assert (typed.text, typed.question, typed.language) == ("Zieleń", "helps", "pl")
    assert inbound_from_form({}, WHO).text is None


def test_a_summary_shows_one_row_per_answer_with_its_change_button() -> None:
    changes = tuple(Choice(f"Change {n}", action=Action.EDIT, argument=c) for n, c in ((1, "a"), (2, "b")))
    reply = Reply(
        ReplyKind.SUMMARY,
        "Check:\n\n1. A?\n→ yes\n\n2. B?\n→ no\n\nConfirm below.",
        "en",
        choices=changes,
        answers=(("A?", "yes"), ("B?", "no")),
    )
    shown = view(reply)
    assert [(r.number, r.question, r.answer) for r in shown.rows] == [(1, "A?", "yes"), (2, "B?", "no")]
    assert shown.paragraphs == [["Check:"]] and shown.footer == [["Confirm below."]]
    assert shown.value(changes[1]) == "a:edit:b:"


async def test_an_assisted_step_marks_the_submission(service: Service) -> None:
    person = Person(service, "kiosk-1", channel="web", language="en")
    await person.act(Action.ACCEPT)
    await person.send("Wola", assisted=True)
    async with service.store.unit(write=False) as unit:
        found = await unit.latest_submissions([(person.ref.channel, person.ref.pseudonym, QUESTIONNAIRE)])
    assert next(iter(found.values())).assisted

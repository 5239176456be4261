"""The time promise: the shipped questionnaire, answered briefly on a phone, takes under five minutes
in every language (handlers/definitions/timing.py, printed by `python -m bench.timing`)."""

from __future__ import annotations

import pytest

from bot.service import MESSAGES
from handlers.definitions.i18n import LANGUAGES, Language, load_catalog
from handlers.definitions.questionnaire import Questionnaire, QuestionType, load_questionnaires
from handlers.definitions.timing import READING_CPM, TYPING_CPM, estimate, reading_characters
from handlers.engine.presenter import Presenter
from tests.support import SHIPPED_CONFIG, TEST_CONFIG


def _first_screen(config: str, questionnaire: Questionnaire, language: Language) -> str:
    """What the web chat shows before the first question: the notice with its buttons."""
    root = SHIPPED_CONFIG if config == "shipped" else TEST_CONFIG
    presenter = Presenter(load_catalog(root / "messages.yaml", MESSAGES)).for_channel("web")
    reply = presenter.privacy(questionnaire, language)
    return "\n".join([reply.text, *(choice.label for choice in reply.navigation)])


@pytest.fixture(scope="module")
def shipped() -> Questionnaire:
    return load_questionnaires(SHIPPED_CONFIG / "questionnaires")["wizja-i-wartosci"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_questionnaire_takes_under_five_minutes_answered_briefly(
    shipped: Questionnaire, language: Language
) -> None:
    result = estimate(shipped, language, _first_screen("shipped", shipped, language))
    assert result.brief.seconds < 5 * 60, f"{language}: {result.brief}"
    assert result.brief.seconds < result.fuller.seconds


def test_the_shipped_questionnaire_asks_the_programmes_three_questions_in_at_most_four_open_ones(
    shipped: Questionnaire,
) -> None:
    open_questions = [q.code for q in shipped.questions if q.type is QuestionType.TEXT]
    assert {"community_meaning", "care", "support"} <= set(open_questions)
    assert len(open_questions) <= 4


def test_the_estimate_counts_what_is_read_and_typed() -> None:
    questionnaire = next(iter(load_questionnaires(TEST_CONFIG / "questionnaires").values()))
    notice = _first_screen("test", questionnaire, "pl")
    plain = estimate(questionnaire, "pl", notice)
    longer = estimate(questionnaire, "pl", notice + " " + "x" * round(READING_CPM))
    assert longer.brief.reading - plain.brief.reading == pytest.approx(60, abs=0.1)  # a minute per 1,148 characters
    assert longer.brief.typing == plain.brief.typing
    texts = sum(q.type is QuestionType.TEXT and not q.show_if for q in questionnaire.questions)
    assert plain.brief.typing == pytest.approx(texts * (10 + 60 / TYPING_CPM * 60))
    assert plain.fuller.screens == plain.brief.screens + sum(bool(q.show_if) for q in questionnaire.questions)
    assert reading_characters("Ala ma\nkota.") == 10
    assert round(READING_CPM) == 1148

"""Property: any sequence of inputs never crashes the engine and never loses or duplicates an answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.service import Service
from handlers.definitions.questionnaire import Questionnaire, QuestionType, visible_questions
from handlers.engine.messages import Action, Inbound, ReplyKind
from handlers.engine.states import Status
from storage.models import Answer, Respondent, Submission
from tests.support import QUESTIONNAIRE
from tests.support.world import World


def _codes(questionnaire: Questionnaire) -> list[str]:
    return [*sorted({code for q in questionnaire.questions for code in q.option_codes}), "nonsense", ""]


def inputs(questionnaire: Questionnaire) -> st.SearchStrategy[dict[str, Any]]:
    """One thing a respondent might do: type anything, tap any button (fresh or stale), navigate."""
    question_codes = [q.code for q in questionnaire.questions]
    texts = st.one_of(
        st.text(max_size=60),
        st.sampled_from(["1", "2", "3", "12", "0", "-1", "1, 3", "2,9", "tak", "nie", "a@b.pl", "zoliborz"]),
        st.sampled_from(["/back", "/skip", "/done", "/start", "/cancel", "/language en", "/help", "/nope"]),
        st.text(min_size=1500, max_size=1600, alphabet="ab ą"),
    )
    return st.one_of(
        st.just({"good": True}),
        st.just({"good": True}),
        st.builds(lambda t: {"text": t}, texts),
        st.builds(lambda c: {"choice": c, "current": True}, st.sampled_from(_codes(questionnaire))),
        st.builds(
            lambda c, q: {"choice": c, "question": q},
            st.sampled_from(_codes(questionnaire)),
            st.sampled_from(question_codes),
        ),
        st.builds(
            lambda a, arg: {"action": a, "argument": arg},
            st.sampled_from(list(Action)),
            st.one_of(st.none(), st.sampled_from(["en", "uk", "pl", "xx", *question_codes])),
        ),
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("property"), now=datetime(2026, 5, 30, tzinfo=UTC))
    yield world
    world.close()


async def _snapshot(service: Service, pseudonym: str) -> tuple[list[Submission], dict[str, tuple[Any, ...]]]:
    async with service.store.sessions() as session:
        subs = list(
            (
                await session.scalars(
                    select(Submission).join(Respondent).where(Respondent.pseudonym == pseudonym).order_by(Submission.id)
                )
            ).all()
        )
        live = [s for s in subs if s.status != Status.CANCELLED]
        answers: dict[str, tuple[Any, ...]] = {}
        if live:
            rows = await session.scalars(select(Answer).where(Answer.submission_id == live[-1].id))
            answers = {a.question_code: (a.options, a.text, a.number, a.skipped) for a in rows}
        return subs, answers


def _check_answer(questionnaire: Questionnaire, code: str, value: tuple[Any, ...]) -> None:
    options, text, number, skipped = value
    question = questionnaire.question(code)
    assert question is not None
    if skipped:
        assert not question.required and options is None and text is None and number is None
        return
    if question.type is QuestionType.SCALE:
        assert question.min <= number <= question.max
    elif question.type in (QuestionType.TEXT, QuestionType.EMAIL):
        assert text and len(text) <= question.max_length
    else:
        assert set(options) <= set(question.option_codes)
        if question.type is QuestionType.MULTIPLE_CHOICE:
            assert question.min_choices <= len(options) <= question.pick_limit
        else:
            assert len(options) == 1


def _good_input(questionnaire: Questionnaire, current: str | None) -> dict[str, Any]:
    """A valid answer to the current question (or confirming the summary), to get deep into the flow."""
    question = questionnaire.question(current) if current else None
    if question is None:
        return {"action": Action.CONFIRM}
    typed = {
        QuestionType.TEXT: "Dobrze się tu mieszka.",
        QuestionType.EMAIL: "ala@example.org",
        QuestionType.SCALE: "3",
        QuestionType.YES_NO: "tak",
        QuestionType.SINGLE_CHOICE: "1",
        QuestionType.MULTIPLE_CHOICE: "1",
    }
    return {"text": typed[question.type]}


async def _play(world: World, steps: list[dict[str, Any]]) -> None:
    service = world.service
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    ref = service.respondent("terminal", f"property-{next(world.ids)}")
    for step in steps:
        before_subs, before = await _snapshot(service, ref.pseudonym)
        live_before = [s for s in before_subs if s.status != Status.CANCELLED]
        current = live_before[-1].current if live_before else None
        fields = dict(step)
        if fields.pop("current", False):
            fields["question"] = current
        if fields.pop("good", False):
            fields = _good_input(questionnaire, current)
        replies = await service.conversation.handle(Inbound(ref, **fields))
        assert replies, "the engine must always answer"
        subs, after = await _snapshot(service, ref.pseudonym)
        live = [s for s in subs if s.status != Status.CANCELLED]
        assert len(live) <= 1, "never two live submissions for one respondent"
        for code, value in after.items():
            _check_answer(questionnaire, code, value)
        cancelled = replies[-1].kind is ReplyKind.GOODBYE
        confirmed = replies[-1].kind is ReplyKind.THANKS
        changed = {code for code in after if before.get(code) != after[code]}
        lost = set(before) - set(after)
        assert changed <= ({current} if current else set()), f"only the current question may change: {changed}"
        if lost and not cancelled:
            assert confirmed, f"answers vanished: {lost}"
            values = {c: (v[0] if v[0] is not None else v[1] or v[2]) for c, v in before.items() if not v[3]}
            shown = {q.code for q in visible_questions(questionnaire, values)}
            assert not lost & shown, "confirming drops only answers to questions no longer shown"
        if confirmed:
            assert live and live[-1].status == Status.COMPLETED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_inputs_never_crash_lose_or_duplicate(world: World, data: st.DataObject) -> None:
    questionnaire = world.service.config.questionnaires[QUESTIONNAIRE]
    opening = [{"action": Action.START}, {"action": Action.ACCEPT}]
    steps = data.draw(st.lists(inputs(questionnaire), max_size=40))
    world.loop.run_until_complete(_play(world, opening + steps))

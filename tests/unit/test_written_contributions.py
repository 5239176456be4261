"""A contribution written in one go (an email) goes through the engine by the same rules as any channel."""

from __future__ import annotations

from sqlalchemy import select

from bot.service import Service
from handlers.engine.answers import AnswerValue
from handlers.engine.messages import Inbound, ReplyKind
from storage.models import Answer, Submission
from tests.support import FakeClock


def written(service: Service, who: str = "anna@example.pl", **fields: object) -> Inbound:
    return Inbound(service.respondent("email", who, who), language="pl", **fields)  # type: ignore[arg-type]


async def stored(service: Service) -> tuple[list[Submission], dict[str, Answer]]:
    async with service.store.sessions() as session:
        submissions = list((await session.scalars(select(Submission))).all())
        answers = {a.question_code: a for a in await session.scalars(select(Answer))}
    return submissions, answers


async def test_an_opinion_is_a_completed_contribution_under_the_opinion_question(service: Service) -> None:
    replies = await service.conversation.handle(written(service, opinion="Sąsiedzi, którzy sobie pomagają."))
    assert replies[-1].kind is ReplyKind.RECORDED
    [submission], answers = await stored(service)
    assert (submission.channel, submission.status) == ("email", "completed")
    assert submission.privacy_version is not None  # our reply carries the notice
    assert answers["community_meaning"].text == "Sąsiedzi, którzy sobie pomagają."
    # A second email adds to the first, in the same submission.
    await service.conversation.handle(written(service, opinion="I wspólne podwórko."))
    [_], answers = await stored(service)
    assert answers["community_meaning"].text == "Sąsiedzi, którzy sobie pomagają.\n\nI wspólne podwórko."


async def test_a_form_follows_show_if_required_and_limits(service: Service) -> None:
    form = (
        ("district", AnswerValue(options=["outside_warsaw"])),
        ("outside_warsaw_where", AnswerValue(text="x" * 201)),  # shown (district), but over its 200
        ("values", AnswerValue(options=["trust", "grassroots"])),  # shows the required grassroots_example
        ("connection", AnswerValue(number=9)),  # a scale of 1–5
        ("no_quote_reason", AnswerValue(options=["privacy"])),  # hidden: quote_consent not answered
    )
    replies = await service.conversation.handle(written(service, form=form))
    problems = {reply.question: reply.text for reply in replies if reply.kind is ReplyKind.PROBLEM}
    assert "200" in problems["outside_warsaw_where"]
    assert "1" in problems["connection"] and "5" in problems["connection"]
    assert "no_quote_reason" in problems  # not asked given the other answers
    assert "grassroots_example" in problems  # required once shown, still missing
    [submission], answers = await stored(service)
    assert set(answers) == {"district", "values"}
    assert submission.status == "active"  # not complete while a required question shown is unanswered
    recorded = next(reply for reply in replies if reply.kind is ReplyKind.RECORDED)
    assert [label.split(".")[0] for label, _ in recorded.answers] == ["1", "3"]


async def test_a_later_form_corrects_the_same_submission_and_completes_it(service: Service) -> None:
    await service.conversation.handle(
        written(service, form=(("district", AnswerValue(options=["wola"])), ("values", AnswerValue(options=["trust"]))))
    )
    replies = await service.conversation.handle(written(service, form=(("district", AnswerValue(options=["ochota"])),)))
    assert not [reply for reply in replies if reply.kind is ReplyKind.PROBLEM]
    [submission], answers = await stored(service)
    assert answers["district"].options == ["ochota"] and answers["values"].options == ["trust"]
    assert submission.status == "completed" and submission.finished_at is not None


async def test_nothing_is_recorded_from_email_while_the_questionnaire_is_closed(
    service: Service, clock: FakeClock
) -> None:
    clock.advance(days=365 * 20)
    replies = await service.conversation.handle(written(service, opinion="Za późno?"))
    assert [reply.kind for reply in replies] == [ReplyKind.CLOSED]
    assert await stored(service) == ([], {})
    clock.advance(days=-365 * 20 - 1)
    assert (await service.conversation.handle(written(service, opinion="Teraz tak.")))[-1].kind is ReplyKind.RECORDED

"""The mailroom over a real database: each email stored once, automatic mail unanswered, forms read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.mailroom import Mailroom, build_mailroom
from bot.service import Service
from bot.settings import Settings
from storage.models import Answer, Contact, Email, OutboxMessage
from tests.support import FakeClock, count, make_settings

CORPUS = Path(__file__).resolve().parent.parent / "emails"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The mailroom's batched statements run on SQLite and on PostgreSQL."""
    return make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)


@pytest.fixture
def mailroom(service: Service) -> Mailroom:
    return build_mailroom(service)



async def test_the_whole_corpus_twice(service: Service, mailroom: Mailroom) -> None:
    names = sorted(EXPECTED)
    outcomes = {
        name: await mailroom.receive((CORPUS / name).read_bytes(), folder="INBOX", uid=n)
        for n, name in enumerate(names, 1)
    }
    duplicates = {name for name, entry in EXPECTED.items() if entry.get("duplicate_of")}
    assert {name for name, outcome in outcomes.items() if outcome.email_id is None} == duplicates
    stored = len(names) - len(duplicates)
    assert await count(service.store, Email) == stored
    for name in names:  # everything again, as after a crash before the messages were moved
        again = await mailroom.receive((CORPUS / name).read_bytes())
        assert again.email_id is None and again.queued is None
    assert await count(service.store, Email) == stored

    for name, outcome in outcomes.items():
        expected = EXPECTED[name]
        if expected["kind"] in ("auto_reply", "bounce", "list", "own"):
            assert outcome.queued is None, name  # automatic mail is never answered
            assert outcome.verdict.reason == expected["reason"], name
    async with service.store.sessions() as session:
        recipients = [m.to_address for m in (await session.scalars(select(OutboxMessage))).all()]
    assert len(recipients) == len(set(recipients))  # at most one reply per sender
    assert "wspolnota@um.warszawa.pl" not in recipients
    assert await count(service.store, Contact) > 0


async def test_form_then_summary_and_answers(service: Service, mailroom: Mailroom, clock: FakeClock) -> None:
    first = await mailroom.receive((CORPUS / "52-form-reply-clean.eml").read_bytes())
    assert first.verdict.kind == "form_reply" and first.queued == "summary"
    assert set(first.answers) >= {"district", "values", "connection", "quote_consent"}
    async with service.store.sessions() as session:
        rows = {a.question_code: a for a in await session.scalars(select(Answer))}
        summary = (await session.scalars(select(OutboxMessage))).one()
    assert rows["district"].options == ["bialoleka"]
    assert rows["values"].options == ["mutual_help", "trust", "shared_space"]
    assert "Tak zapisaliśmy Twoje odpowiedzi" in summary.body and "Białołęka" in summary.body
    assert summary.in_reply_to is not None and summary.subject.endswith("]")


async def test_one_form_per_sender_within_the_window(service: Service, mailroom: Mailroom, clock: FakeClock) -> None:
    raw = (CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes()
    assert (await mailroom.receive(raw)).queued == "form"
    second = raw.replace(b"Message-ID: <", b"Message-ID: <again-", 1)
    assert (await mailroom.receive(second)).queued is None
    clock.advance(days=8)
    third = raw.replace(b"Message-ID: <", b"Message-ID: <later-", 1)
    assert (await mailroom.receive(third)).queued == "form"
    async with service.store.sessions() as session:
        form = (await session.scalars(select(OutboxMessage))).first()
    assert form is not None
    assert "1. W której dzielnicy mieszkasz?" in form.body and "Administratorem danych" in form.body


async def test_an_email_while_the_questionnaire_is_closed_gets_one_word_on_that_and_records_nothing(
    service: Service, mailroom: Mailroom, clock: FakeClock
) -> None:
    clock.advance(days=365 * 20)  # the tests' questionnaire closes in 2035
    raw = (CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes()
    first = await mailroom.receive(raw)
    assert first.email_id is not None and first.queued == "closed" and first.submission_id is None
    again = await mailroom.receive(raw.replace(b"Message-ID: <", b"Message-ID: <again-", 1))
    assert again.queued is None  # not a second time within the window
    assert await count(service.store, Answer) == 0
    async with service.store.sessions() as session:
        [closed] = (await session.scalars(select(OutboxMessage))).all()
    assert "2035" in closed.body or "zakończ" in closed.body.lower()


async def test_an_opinion_is_recorded_through_the_engine_and_completes_the_submission(
    service: Service, mailroom: Mailroom
) -> None:
    from storage.models import Submission

    outcome = await mailroom.receive((CORPUS / "01-gmail-pl-qp-top-posted.eml").read_bytes())
    assert outcome.queued == "form" and outcome.submission_id is not None
    async with service.store.sessions() as session:
        submission = await session.get(Submission, outcome.submission_id)
        opinion = (await session.scalars(select(Answer))).one()
        email = (await session.scalars(select(Email))).one()
    assert submission is not None and (submission.channel, submission.status) == ("email", "completed")
    assert opinion.question_code == "community_meaning" and opinion.text == email.own_text.strip()

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
from tests.support.emails import build_email

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
        if expected.get("reply", expected.get("should_reply")) is False:
            assert outcome.queued is None, name
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
    assert "1. W której dzielnicy mieszkasz?" in form.body
    # The full privacy notice, as true for email: the whole message and the sender's address are kept.
    assert "iod@um.warszawa.pl" in form.body and "art. 6 ust. 1 lit. a RODO" in form.body
    assert "zapisujemy całą wiadomość (z podpisem i załącznikami) i adres nadawcy" in form.body


async def test_the_form_points_to_its_privacy_notice_and_a_blank_subject_gets_ours(
    service: Service, mailroom: Mailroom
) -> None:
    """The notice at the end has a heading and the top says it is there (E7); no subject: ours, not "Re:  [W-1]"."""
    await mailroom.receive(build_email("Więcej ławek na podwórku.", subject=""))
    async with service.store.sessions() as session:
        form = (await session.scalars(select(OutboxMessage))).one()
    body = form.body
    pointer, heading = "znajdziesz na końcu tej wiadomości", "\n\nInformacja o danych osobowych (RODO)\n"
    assert body.index(pointer) < body.index("1. W której dzielnicy") < body.index(heading) < body.index("iod@")
    assert form.subject.startswith("Program Wspólnota – dziękujemy za wiadomość [W-")
    await mailroom.receive(build_email("Proszę o więcej zieleni przy szkole.", sender="ewa@example.pl", subject="Re:"))
    async with service.store.sessions() as session:
        subjects = list(await session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id)))
    assert subjects[1].startswith("Program Wspólnota – dziękujemy za wiadomość [W-")


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


SPOOF = '"wspolnota@um.warszawa.pl" <x@evil.example>'
QUOTE_ONLY = "W dniu 29.05.2026 o 10:15, Program Wspólnota pisze:\n> Dziękujemy za wiadomość.\n> Pytanie 1.\n"


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        (build_email("Tanie kredyty!", headers={"X-Spam-Flag": "YES"}), "spam", "x-spam-flag"),
        (build_email("Tanie kredyty!", headers={"X-Spam-Status": "Yes, score=9.3"}), "spam", "x-spam-status"),
        (build_email(""), "empty", "no own words"),
        (build_email("\n\n", subject="Bardzo ważna opinia o Programie Wspólnota"), "empty", "no own words"),
        (build_email("-- \nJan Kowalski\ntel. 600 100 200\n"), "empty", "no own words"),
        (build_email("\nWysłane z iPhone'a\n"), "empty", "no own words"),
        (build_email(QUOTE_ONLY, subject="Re: Opinia"), "empty", "no own words"),
        (build_email("Sąsiedzi się znają.", sender=SPOOF), "spoof", "display name imitates our address"),
        (
            build_email('Jan Kowalski would like to recall the message, "Opinia".', subject="Recall: Opinia"),
            "recall",
            "outlook recall",
        ),
    ],
)
async def test_what_is_not_a_persons_words_is_stored_with_its_reason_and_never_answered(
    service: Service, mailroom: Mailroom, raw: bytes, kind: str, reason: str
) -> None:
    from storage.models import Submission

    outcome = await mailroom.receive(raw)
    assert outcome.email_id is not None and outcome.queued is None and outcome.submission_id is None
    assert (outcome.verdict.kind.value, outcome.verdict.reason) == (kind, reason)
    async with service.store.sessions() as session:
        email = (await session.scalars(select(Email))).one()
    assert (email.kind, email.reason, email.raw) == (kind, reason, raw)
    # No submission, no answer (never an empty opinion counted as a contribution), no reply.
    assert await count(service.store, Submission) == 0
    assert await count(service.store, Answer) == 0
    assert await count(service.store, OutboxMessage) == 0


async def test_answers_among_quoted_questions_count_even_with_no_other_words(
    service: Service, mailroom: Mailroom
) -> None:
    first = await mailroom.receive(build_email("Sąsiedzi się znają."))
    async with service.store.sessions() as session:
        form = (await session.scalars(select(OutboxMessage))).one()
    reply = (
        "W dniu 29.05.2026 o 10:15, Program Wspólnota pisze:\n"
        "> 1. W której dzielnicy mieszkasz?\n> a) Bemowo\n> b) Białołęka\nB\n"
        "> 3. Jakimi wartościami miasto powinno się kierować?\na i c\n"
    )
    answer = build_email(
        reply, subject=form.subject, headers={"In-Reply-To": form.message_id, "References": form.message_id}
    )
    outcome = await mailroom.receive(answer)
    assert outcome.verdict.kind == "form_reply" and outcome.queued == "summary"
    assert outcome.submission_id == first.submission_id
    async with service.store.sessions() as session:
        answers = {a.question_code: a.options for a in await session.scalars(select(Answer))}
    assert answers["district"] == ["bialoleka"] and answers["values"] == ["openness", "trust"]


async def test_a_differing_reply_to_is_kept_for_staff_and_the_confirmation_goes_to_from(
    service: Service, mailroom: Mailroom
) -> None:
    from reports.export import email_rows
    from storage.exports import SubmissionFilter

    raw = build_email("Więcej ławek na podwórkach.", headers={"Reply-To": "Ktoś Inny <ktos.inny@example.com>"})
    assert (await mailroom.receive(raw)).queued == "form"
    same = build_email("Więcej zieleni.", sender="Jan <jan@example.pl>", headers={"Reply-To": "<JAN@example.pl>"})
    assert (await mailroom.receive(same)).queued == "form"
    async with service.store.sessions() as session:
        sent = [m.to_address for m in await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        stored = [e.reply_to for e in await session.scalars(select(Email).order_by(Email.id))]
    assert sent == ["anna.nowak@example.pl", "jan@example.pl"]
    assert stored == ["ktos.inny@example.com", None]
    rows = [row async for row in email_rows(service.store, SubmissionFilter())]
    assert [row["reply_to_differs"] for row in rows] == [True, False]
    assert all("reply_to" not in row for row in rows)  # an address: only with --include-contact
    with_contact = [row async for row in email_rows(service.store, SubmissionFilter(), include_contact=True)]
    assert [row["reply_to"] for row in with_contact] == ["ktos.inny@example.com", None]
    # Still one confirmation per sender per window, whatever the Reply-To says.
    again = build_email("I jeszcze jedno.", headers={"Reply-To": "trzeci@example.com"})
    assert (await mailroom.receive(again)).queued is None


@pytest.mark.parametrize(
    ("body", "language", "words"),
    [
        (
            "Sąsiedzi się znają i pomagają sobie.",
            "pl",
            ["Zespół Programu Wspólnota\n\n-- \nCentrum Komunikacji", "Na przykład: „1. b”, „3: a, c”."],
        ),
        (
            "I think the neighbours in my building should have a place to meet.",
            "en",
            ["The Wspólnota Programme team\n\n-- \nCentre for Social", "For example: “1. b”, “3: a, c”."],
        ),
        ("Сусіди мають знати одне одного.", "uk", ["Команда програми Wspólnota", "Наприклад: «1. b», «3: a, c»."]),
        (
            "Guten Tag, ich finde das Programm gut.",
            "pl",
            ["Zespół Programu Wspólnota", "Dzień dobry"],
        ),  # not ours: Polish
    ],
)
async def test_every_reply_is_signed_in_the_residents_language(
    service: Service, mailroom: Mailroom, body: str, language: str, words: list[str]
) -> None:
    await mailroom.receive(build_email(body))
    async with service.store.sessions() as session:
        form = (await session.scalars(select(OutboxMessage))).one()
    for word in words:
        assert word in form.body, (language, word)
    signature = form.body.rsplit("\n-- \n", 1)[1]
    assert signature.endswith("wspolnota@um.warszawa.pl") and "pl. Bankowy 3/5" in signature
    # The summary after a form reply is signed too.
    answer = build_email("1. b\n", subject=form.subject, headers={"In-Reply-To": form.message_id})
    await mailroom.receive(answer)
    async with service.store.sessions() as session:
        summary = (await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "summary"))).one()
    assert "\n-- \n" in summary.body and summary.body.endswith("wspolnota@um.warszawa.pl")


async def test_forgetting_the_reply_to_address_clears_it_from_others_emails(
    service: Service, mailroom: Mailroom, clock: FakeClock
) -> None:
    from storage.erasure import forget

    await mailroom.receive(build_email("Więcej ławek.", headers={"Reply-To": "ktos.inny@example.com"}))
    third_party = mailroom.respondent_of("ktos.inny@example.com")
    await forget(
        service.store,
        channel="email",
        pseudonym=third_party.pseudonym,
        address="ktos.inny@example.com",
        actor="test",
        now=clock(),
    )
    async with service.store.sessions() as session:
        email = (await session.scalars(select(Email))).one()  # the sender's email stays theirs
    assert email.reply_to is None and email.own_text == "Więcej ławek."


async def test_only_a_consultation_form_holds_the_next_one_back(service: Service, clock: FakeClock) -> None:
    """One form per sender in a window counts our forms (and 'closed' words), never a code we mailed to the
    address or an application's acknowledgement."""
    from storage.outbox import QueuedMail, mailed_since, queue_mail

    now = clock()
    async with service.store.unit() as unit:
        for n, purpose in enumerate(("verification", "application")):
            mail = QueuedMail(
                to_address="Ola@example.org", message_id=f"<m{n}@x>", subject="s", body="b", purpose=purpose
            )
            queue_mail(unit, mail, now)
        await unit.flush()
        assert await mailed_since(unit, ["ola@example.org"], now) == set()
        queue_mail(
            unit,
            QueuedMail(to_address="ola@example.org", message_id="<m9@x>", subject="s", body="b", purpose="form"),
            now,
        )
        await unit.flush()
        assert await mailed_since(unit, ["OLA@example.org"], now) == {"ola@example.org"}

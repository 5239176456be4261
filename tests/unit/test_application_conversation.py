"""An application to the working groups through the engine: the form built from the call, the email confirmed
by a code, the deadline on both sides, the consultation beside it, withdrawal, erasure and written applications."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.service import Service, open_service
from handlers.definitions.application_form import APPLICATION_ID
from handlers.definitions.recruitment import DESCRIPTION_LIMIT
from handlers.engine.messages import Action, Inbound, InputKind, ReplyKind
from handlers.engine.states import Status, Step
from storage.applications import Application, ApplicationStatus, find_application
from storage.models import Answer, OutboxMessage, Submission
from storage.repository import AnswerValue
from storage.verification import EmailVerification
from tests.support import GROUPS_CONFIG, QUESTIONNAIRE, FakeClock, Person, count, make_settings, submissions

OPEN = datetime(2026, 9, 10, 10, 0, tzinfo=UTC)  # the tests' call runs 1–30 September 2026 (Warsaw)
ADDRESS = "ola@example.org"


@pytest.fixture
async def groups(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    """The service on the tests' configuration with a call for applications, while the call is open
    (on SQLite, and on PostgreSQL among the integration tests)."""
    clock.now = OPEN
    settings = make_settings(
        tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(GROUPS_CONFIG), WSPOLNOTA_DATABASE_URL=database_url
    )
    async with open_service(settings, clock=clock) as running:
        yield running


async def mails(service: Service, address: str = ADDRESS) -> list[OutboxMessage]:
    async with service.store.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
        return list((await session.scalars(query)).all())


async def last_code(service: Service, address: str = ADDRESS) -> str:
    """The code in the newest email to the address, as the applicant reads it."""
    body = (await mails(service, address))[-1].body
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


async def application_of(service: Service, person: Person) -> Application | None:
    async with service.store.unit(write=False) as unit:
        respondent = await unit.find_respondent(person.ref.channel, person.ref.pseudonym)
        return await find_application(unit, respondent.id) if respondent else None


async def up_to_the_email(person: Person, address: str = ADDRESS) -> None:
    await person.send("/grupy")
    assert person.last.kind is ReplyKind.PRIVACY
    await person.act(Action.ACCEPT)
    assert person.last.question == "name"
    await person.send("Ola Nowak")
    assert person.last.question == "email"
    await person.send(address)


async def the_rest(person: Person) -> None:
    """From the organisation to the summary."""
    assert person.last.question == "organisation", person.last
    await person.send("Fundacja Sąsiedzka")
    await person.tap("ngo")
    await person.tap("aktywnosc")
    await person.tap("przynaleznosc")
    await person.act(Action.DONE)
    await person.send("Od pięciu lat prowadzę klub sąsiedzki na Pradze.")
    assert "20.10" in person.last.text and "26.11" in person.last.text  # the meetings, in the hint
    await person.tap("yes")
    assert person.last.kind is ReplyKind.SUMMARY


async def apply(service: Service, person: Person, address: str = ADDRESS) -> None:
    """The whole application in a chat, the email confirmed, up to the thanks."""
    await up_to_the_email(person, address)
    await person.send(await last_code(service, address))
    await the_rest(person)
    await person.act(Action.CONFIRM)
    assert person.last.kind is ReplyKind.THANKS


async def test_an_application_is_asked_confirmed_and_recorded(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await person.send("/grupy")
    notice = person.last
    assert notice.kind is ReplyKind.PRIVACY
    assert notice.heading == "Nabór do grup roboczych (test) – ok. 5 minut."  # the call's own lead
    assert "iod@um.warszawa.pl" in notice.text and "Od 16 lat" in notice.text  # its short notice
    assert notice.navigation[0].label == "Zgadzam się, zaczynam"  # consent is the basis
    await person.act(Action.PRIVACY)
    assert "Pełna klauzula dla zgłaszających się" in person.replies[0].text
    await person.act(Action.ACCEPT)
    assert person.kinds == [ReplyKind.INFO, ReplyKind.QUESTION]
    await person.send("Ola Nowak")
    await person.send(ADDRESS)
    prompt = person.last
    assert prompt.question == "email" and ADDRESS in prompt.text and prompt.input is InputKind.NUMBER
    assert {c.action for c in prompt.navigation} == {Action.RESEND, Action.BACK}
    [mail] = await mails(groups)
    assert mail.purpose == "verification" and mail.respondent_id is not None
    assert "Zespół Programu Wspólnota" in mail.body  # signed
    code = await last_code(groups)
    async with groups.store.sessions() as session:
        [verification] = (await session.scalars(select(EmailVerification))).all()
    assert verification.code_digest != code and code not in verification.code_digest  # kept hashed
    await person.send(f"{code[:3]} {code[3:]}")
    assert person.replies[0].text == "Dziękujemy, adres e-mail jest potwierdzony."
    await the_rest(person)
    assert await application_of(groups, person) is None  # nothing recorded before confirming
    await person.act(Action.CONFIRM)
    assert person.last.kind is ReplyKind.THANKS
    assert "8 października 2026" in person.last.text  # when decisions come
    assert [c.action for c in person.last.navigation] == [Action.WITHDRAW]
    application = await application_of(groups, person)
    assert application is not None
    assert application.status == ApplicationStatus.COMPLETE and not application.late
    assert (application.name, application.email, application.email_verified) == ("Ola Nowak", ADDRESS, True)
    assert (application.sector, application.groups, application.available) == (
        "ngo",
        ["aktywnosc", "przynaleznosc"],
        True,
    )
    assert application.organisation == "Fundacja Sąsiedzka" and application.channel == "telegram"
    assert application.privacy_version == "test-2026" and application.received_at == OPEN
    [submission] = await submissions(groups)
    assert submission.questionnaire_id == APPLICATION_ID and submission.status == Status.COMPLETED


async def test_the_form_is_built_from_the_call_in_three_languages(groups: Service) -> None:
    form = groups.conversation.call.questionnaire if groups.conversation.call else None
    assert form is not None and form.version == 1
    assert [q.code for q in form.questions] == [
        "name", "email", "organisation", "sector", "groups", "description", "available",
    ]  # fmt: skip
    assert [q.code for q in form.questions if q.required] == [
        "name",
        "email",
        "sector",
        "groups",
        "description",
        "available",
    ]
    description = form.question("description")
    assert description is not None and description.max_length == DESCRIPTION_LIMIT
    for language in ("pl", "en", "uk"):
        assert str(DESCRIPTION_LIMIT) in description.hint(language)  # type: ignore[misc]
    sector = form.question("sector")
    assert sector is not None and sector.options[0].code == "ngo"
    assert "October 8, 2026" not in form.thanks("en")  # type: ignore[misc]
    assert "8 October 2026" in form.thanks("en") and "8 жовтня 2026" in form.thanks("uk")  # type: ignore[misc]
    # Never a consultation: not the default, not exported, not among the staff's questionnaires.
    assert APPLICATION_ID not in groups.config.questionnaires
    assert groups.conversation.default_questionnaire == QUESTIONNAIRE


async def test_wrong_codes_are_limited_and_a_new_code_helps(groups: Service) -> None:
    person = Person(groups, "ola", channel="web")
    await up_to_the_email(person)
    first = await last_code(groups)
    wrong = "000000" if first != "000000" else "111111"
    await person.send("12345")
    assert person.replies[0].kind is ReplyKind.PROBLEM and "6 cyfr" in person.replies[0].text
    for _ in range(4):
        await person.send(wrong)
        assert person.replies[0].text.startswith("Ten kod się nie zgadza")
    await person.send(wrong)
    assert person.replies[0].text.startswith("Za dużo błędnych prób")
    await person.send(first)  # locked: even the right code is not taken now
    assert person.replies[0].text.startswith("Za dużo błędnych prób")
    assert person.last.question == "email"
    await person.act(Action.RESEND)
    assert person.replies[0].text.startswith("Wysłaliśmy nowy kod")
    second = await last_code(groups)
    assert len(await mails(groups)) == 2
    if first != second:
        await person.send(first)  # the old code no longer works
        assert person.replies[0].text.startswith("Ten kod się nie zgadza")
    await person.send(second)
    assert person.last.question == "organisation"
    async with groups.store.sessions() as session:
        [verification] = (await session.scalars(select(EmailVerification))).all()
    assert verification.verified_at == OPEN and verification.codes_sent == 2


async def test_a_code_expires_and_only_so_many_are_mailed(groups: Service, clock: FakeClock) -> None:
    person = Person(groups, "ola", channel="telegram")
    await up_to_the_email(person)
    code = await last_code(groups)
    clock.advance(hours=3)
    await person.send(code)
    assert person.replies[0].text.startswith("Ten kod jest już nieważny")
    for _ in range(4):
        await person.act(Action.RESEND)
    assert len(await mails(groups)) == 5
    await person.act(Action.RESEND)
    assert person.replies[0].text.startswith("Wysłaliśmy już kilka kodów")
    assert len(await mails(groups)) == 5  # nobody can make us mail an address again and again
    await person.act(Action.SKIP)  # the address is not confirmed by skipping
    assert person.last.question == "email" and person.last.input is InputKind.NUMBER


async def test_back_from_the_code_changes_the_address(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await up_to_the_email(person, "pomylka@example.org")
    await person.act(Action.BACK)
    assert person.last.question == "email" and person.last.input is InputKind.EMAIL
    await person.send(ADDRESS)
    await person.send(await last_code(groups, "pomylka@example.org"))  # a code for the old address
    assert person.replies[0].kind is ReplyKind.PROBLEM
    await person.send(await last_code(groups))
    assert person.last.question == "organisation"


async def test_the_email_is_never_verified_otherwise(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await up_to_the_email(person)
    # A button of another question, typed answers, a summary's confirm: none of them gets past the code.
    await person.send(choice="ngo", question="sector")
    assert person.replies[0].text.startswith("To pytanie") or person.replies[0].kind is ReplyKind.PROBLEM
    await person.act(Action.CONFIRM)
    await person.send("Fundacja")
    assert person.last.question == "email"
    assert await application_of(groups, person) is None


async def test_corrections_update_the_same_application(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await apply(groups, person)
    await person.send("/grupy")
    assert person.last.kind is ReplyKind.SUMMARY  # already done: the answers, to change
    await person.act(Action.EDIT, "groups")
    await person.tap("otwartosc")
    await person.act(Action.DONE)
    application = await application_of(groups, person)
    assert application is not None and application.groups == ["otwartosc", "aktywnosc", "przynaleznosc"]
    await person.act(Action.EDIT, "email")
    await person.send("ola.nowak@example.org")
    assert person.last.question == "email"  # a new address is confirmed again
    application = await application_of(groups, person)
    assert application is not None and application.status == ApplicationStatus.INCOMPLETE
    assert not application.email_verified
    await person.send(await last_code(groups, "ola.nowak@example.org"))
    assert person.last.kind is ReplyKind.SUMMARY
    application = await application_of(groups, person)
    assert application is not None and application.status == ApplicationStatus.COMPLETE
    assert application.email == "ola.nowak@example.org" and application.email_verified
    assert await count(groups.store, Application) == 1


async def test_the_deadline_on_both_sides(groups: Service, clock: FakeClock) -> None:
    early = Person(groups, "early", channel="telegram")
    clock.now = datetime(2026, 8, 31, 21, 59, 59, tzinfo=UTC)  # 23:59:59 in Warsaw, the day before it opens
    await early.send("/grupy")
    assert early.last.kind is ReplyKind.CLOSED
    assert early.last.text == (
        "Nabór do grup roboczych jeszcze się nie rozpoczął. Zgłoszenia przyjmujemy od 01.09.2026 00:00."
    )
    clock.now = datetime(2026, 8, 31, 22, 0, tzinfo=UTC)  # midnight in Warsaw: open
    await early.send("/grupy")
    assert early.last.kind is ReplyKind.PRIVACY
    late = Person(groups, "late", channel="telegram", language="en")
    clock.now = datetime(2026, 9, 30, 21, 59, 59, tzinfo=UTC)  # 23:59:59 in Warsaw on the deadline: still open
    await up_to_the_email(late)
    await late.send(await last_code(groups))
    await the_rest(late)
    clock.advance(seconds=1)  # past the deadline before confirming
    await late.act(Action.CONFIRM)
    assert late.last.kind is ReplyKind.CLOSED
    assert late.last.text == (
        "Applications to the working groups closed on 30.09.2026 23:59. Everyone who applied will hear from us "
        "by 8 October 2026. Thank you for your interest!"
    )
    assert await application_of(groups, late) is None
    await late.send("/privacy")  # the notice, erasure and withdrawal still answer
    assert "applicants' full notice" in late.replies[0].text


async def test_consultation_and_application_side_by_side(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await person.send("/start")
    await person.act(Action.ACCEPT)
    assert person.last.question == "district"
    await person.tap("mokotow")
    consultation_question = person.last.question
    await person.send("/grupy")
    await person.act(Action.ACCEPT)
    await person.send("Ola Nowak")  # a plain message follows the application
    assert person.last.question == "email"
    await person.send("/start")  # back to the consultation, where it was
    assert person.kinds == [ReplyKind.INFO, ReplyKind.QUESTION] and person.last.question == consultation_question
    await person.send("Sąsiedzi pomagają sobie nawzajem.")  # answers the consultation
    assert person.last.question != consultation_question
    await person.send("/grupy")
    assert person.last.question == "email"  # the application, where it was
    await person.send(ADDRESS)
    await person.send(await last_code(groups))
    assert person.last.question == "organisation"
    by_questionnaire = {s.questionnaire_id: s for s in await submissions(groups)}
    assert set(by_questionnaire) == {QUESTIONNAIRE, APPLICATION_ID}
    async with groups.store.sessions() as session:
        answers = (await session.scalars(select(Answer).order_by(Answer.id))).all()
    consulted = {a.question_code for a in answers if a.submission_id == by_questionnaire[QUESTIONNAIRE].id}
    applied = {a.question_code for a in answers if a.submission_id == by_questionnaire[APPLICATION_ID].id}
    assert consulted == {"district", consultation_question} and applied == {"name", "email"}


async def test_withdrawal_after_one_confirmation(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await person.begin()  # the consultation too
    await person.tap("mokotow")
    await apply(groups, person)
    await person.act(Action.WITHDRAW)
    assert person.last.kind is ReplyKind.FORGET
    await person.act(Action.WITHDRAW, "no")
    assert person.replies[0].text == "Twoje zgłoszenie pozostaje bez zmian."
    application = await application_of(groups, person)
    assert application is not None and application.status == ApplicationStatus.COMPLETE
    await person.send("/withdraw")
    await person.act(Action.WITHDRAW, "yes")
    assert person.last.kind is ReplyKind.GOODBYE and "Wycofaliśmy" in person.last.text
    application = await application_of(groups, person)
    assert application is not None and application.status == ApplicationStatus.WITHDRAWN
    by_questionnaire = {s.questionnaire_id: s for s in await submissions(groups)}
    assert by_questionnaire[APPLICATION_ID].status == Status.CANCELLED
    assert await count(groups.store, Answer, Answer.submission_id == by_questionnaire[APPLICATION_ID].id) == 0
    assert await count(groups.store, EmailVerification) == 0
    await person.send("Wola")  # a plain message: back in the consultation, untouched
    assert by_questionnaire[QUESTIONNAIRE].status == Status.ACTIVE
    assert person.last.kind is ReplyKind.QUESTION and person.last.question != "name"


async def test_forget_erases_the_applicant(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await apply(groups, person)
    await person.send("/forget")
    await person.act(Action.FORGET, "yes")
    assert person.last.kind is ReplyKind.GOODBYE
    for model in (Application, Submission, Answer, EmailVerification, OutboxMessage):
        assert await count(groups.store, model) == 0, model


async def test_forget_by_the_email_they_gave_erases_a_chat_applicant(groups: Service, clock: FakeClock) -> None:
    """Staff's `wspolnota forget --email` for someone who applied in Telegram: their application, the form's
    answers (name, address), the codes mailed and the chat identity go; another applicant stays."""
    from storage.erasure import forget

    ola, jan = Person(groups, "ola", channel="telegram"), Person(groups, "jan", channel="telegram")
    await apply(groups, ola)
    await apply(groups, jan, "jan@example.org")
    erased = await forget(
        groups.store, channel="email", pseudonym="nobody", address="Ola@example.org", actor="cli:staff", now=clock()
    )
    assert erased.applications == 1 and erased.respondents == 1
    async with groups.store.sessions() as session:
        left = [a.email for a in await session.scalars(select(Application))]
        answers = [a.text for a in await session.scalars(select(Answer)) if a.text]
        codes = [v.address for v in await session.scalars(select(EmailVerification))]
        mailed = {m.to_address for m in await session.scalars(select(OutboxMessage))}
    assert left == ["jan@example.org"] and codes == ["jan@example.org"] and mailed == {"jan@example.org"}
    assert not any("ola@example.org" in text.lower() for text in answers)


async def test_an_emailed_application_is_a_written_contribution(groups: Service, clock: FakeClock) -> None:
    ref = groups.respondent("email", ADDRESS, ADDRESS)
    received = datetime(2026, 9, 30, 21, 0, tzinfo=UTC)  # before the deadline, read by us later
    clock.now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    long = "Działam w radzie osiedla. " * 100
    inbound = Inbound(
        ref,
        questionnaire="application",
        opinion=long,
        form=(("name", AnswerValue(text="Ola Nowak")), ("groups", AnswerValue(options=["otwartosc"]))),
        received_at=received,
    )
    replies = await groups.conversation.handle(inbound)
    assert replies[-1].kind is ReplyKind.RECORDED
    assert [r.question for r in replies if r.kind is ReplyKind.PROBLEM] == ["description", "sector", "available"]
    async with groups.store.unit(write=False) as unit:
        respondent = await unit.find_respondent("email", ref.pseudonym)
        assert respondent is not None
        application = await find_application(unit, respondent.id)
    assert application is not None and application.status == ApplicationStatus.INCOMPLETE
    assert application.email == ADDRESS and application.email_verified  # the address it came from
    assert application.description is not None and len(application.description) == DESCRIPTION_LIMIT
    assert application.received_at == received and not application.late
    assert application.channel == "email" and application.groups == ["otwartosc"]
    # A reply completes the same application once it also says yes to the applicants' notice; the email's own
    # address needs no code.
    answers = (("sector", AnswerValue(options=["resident"])), ("available", AnswerValue(options=["yes"])))
    await groups.conversation.handle(Inbound(ref, questionnaire="application", form=answers, received_at=clock.now))
    async with groups.store.unit(write=False) as unit:
        application = await find_application(unit, respondent.id)
    assert application is not None and application.status == ApplicationStatus.INCOMPLETE  # no consent yet
    assert application.privacy_version is None
    await groups.conversation.handle(
        Inbound(ref, questionnaire="application", form=answers, received_at=clock.now, consent=True)
    )
    async with groups.store.unit(write=False) as unit:
        application = await find_application(unit, respondent.id)
    assert application is not None and application.status == ApplicationStatus.COMPLETE
    assert application.privacy_version is not None
    assert application.received_at == received and not application.late and application.sector == "resident"
    assert await count(groups.store, OutboxMessage) == 0  # no code mailed to an email applicant
    # "rezygnuję": the email itself confirms it.
    replies = await groups.conversation.handle(Inbound(ref, action=Action.WITHDRAW, argument="yes"))
    assert replies[-1].kind is ReplyKind.GOODBYE
    async with groups.store.unit(write=False) as unit:
        application = await find_application(unit, respondent.id)
    assert application is not None and application.status == ApplicationStatus.WITHDRAWN


async def test_an_emailed_application_after_the_deadline_is_kept_as_late(groups: Service, clock: FakeClock) -> None:
    ref = groups.respondent("email", ADDRESS, ADDRESS)
    clock.now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    form = (("name", AnswerValue(text="Ola")), ("sector", AnswerValue(options=["ngo"])))
    inbound = Inbound(ref, questionnaire="application", opinion="Prowadzę klub.", form=form, received_at=clock.now)
    replies = await groups.conversation.handle(inbound)
    assert (
        replies[0].kind is ReplyKind.CLOSED and "po terminie" in replies[0].text and "8 października" in replies[0].text
    )
    async with groups.store.unit(write=False) as unit:
        respondent = await unit.find_respondent("email", ref.pseudonym)
        assert respondent is not None
        application = await find_application(unit, respondent.id)
    assert application is not None and application.late
    early = groups.respondent("email", "early@example.org", "early@example.org")
    clock.now = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)
    replies = await groups.conversation.handle(
        Inbound(early, questionnaire="application", opinion="Chcę dołączyć.", received_at=clock.now)
    )
    assert [r.kind for r in replies] == [ReplyKind.CLOSED]
    assert await count(groups.store, Application) == 1


async def test_without_a_call_applications_are_not_open(service: Service) -> None:
    person = Person(service, "ola", channel="telegram")
    await person.send("/grupy")
    assert person.kinds == [ReplyKind.INFO, ReplyKind.PRIVACY]
    assert person.replies[0].text == "Nabór do grup roboczych nie jest teraz otwarty."
    await person.send("/start grupy")  # the deep link
    assert person.replies[0].text == "Nabór do grup roboczych nie jest teraz otwarty."
    await person.act(Action.ACCEPT)  # the consultation, as it stands
    assert person.last.question == "district"
    assert service.conversation.call is None
    assert {s.questionnaire_id for s in await submissions(service)} == {QUESTIONNAIRE}


async def test_the_deep_link_starts_an_application(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await person.send("/start grupy")
    assert person.last.kind is ReplyKind.PRIVACY and person.last.heading.startswith("Nabór")  # type: ignore[union-attr]
    await person.act(Action.ACCEPT)
    assert person.last.question == "name"
    [submission] = await submissions(groups)
    assert submission.questionnaire_id == APPLICATION_ID and submission.event is None  # `grupy` is no event
    assert submission.step == Step.QUESTION


async def test_cancelling_an_application_forgets_its_address(groups: Service) -> None:
    person = Person(groups, "ola", channel="telegram")
    await up_to_the_email(person)
    await person.send(await last_code(groups))
    await person.act(Action.CANCEL)
    assert person.last.kind is ReplyKind.GOODBYE
    assert await count(groups.store, EmailVerification) == 0
    assert await count(groups.store, Answer) == 0
    assert await application_of(groups, person) is None

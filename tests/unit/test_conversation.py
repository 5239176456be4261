"""The engine over a real (temp SQLite) database: every navigation path, in three languages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.service import Service, open_service
from handlers.engine.messages import Action, InputKind, ReplyKind
from handlers.engine.states import Status
from storage.models import Answer, Contact, Respondent, Submission
from tests.support import QUESTIONNAIRE, FakeClock, Person, answer_everything, count, submissions


async def stored(service: Service) -> dict[str, Answer]:
    async with service.store.sessions() as session:
        answers = (await session.scalars(select(Answer))).all()
        return {answer.question_code: answer for answer in answers}


async def test_privacy_notice_comes_before_any_question(person: Person, service: Service) -> None:
    replies = await person.start()
    assert [r.kind for r in replies] == [ReplyKind.PRIVACY]
    assert "inspektor ochrony danych: iod@um.warszawa.pl" in person.last.text  # the short notice
    assert {c.action for c in person.last.navigation} >= {Action.ACCEPT, Action.DECLINE}
    await person.send("Mokotów")  # an answer before consent is not taken
    assert person.last.kind is ReplyKind.PRIVACY
    assert await count(service.store, Answer) == 0


async def test_declining_stores_nothing(person: Person, service: Service) -> None:
    await person.start(source="dzien-sasiada-zoliborz-2026-05-30")
    await person.act(Action.DECLINE)
    assert person.last.kind is ReplyKind.GOODBYE
    assert "Niczego nie zapisaliśmy" in person.last.text
    for model in (Respondent, Submission, Answer, Contact):
        assert await count(service.store, model) == 0


async def test_accepting_shows_intro_then_first_question_with_progress(person: Person, service: Service) -> None:
    replies = await person.begin()
    assert [r.kind for r in replies] == [ReplyKind.INFO, ReplyKind.QUESTION]
    question = person.last
    assert question.question == "district"
    assert question.progress == (1, 12)
    assert question.heading == "Pytanie 1 z 12"
    assert len(question.choices) == 19
    assert not any(c.action is Action.BACK for c in question.navigation)
    [submission] = await submissions(service)
    assert submission.status == Status.ACTIVE
    assert submission.privacy_version == "2026-12-04"
    assert await count(service.store, Contact) == 1  # the address to reply to, kept apart


@pytest.mark.parametrize(
    ("language", "expected", "district"),
    [("pl", "Dziękujemy", "Mokotów"), ("en", "Thank you", "Mokotów"), ("uk", "Дякуємо", "Мокотув")],
)
async def test_complete_walk_in_each_language(service: Service, language: str, expected: str, district: str) -> None:
    person = Person(service, f"walker-{language}")
    await person.begin(language=language)
    assert person.last.language == language
    await answer_everything(person)
    summary = person.last
    assert len(summary.answers) == 12
    assert summary.answers[0][1] == district
    await person.act(Action.CONFIRM)
    assert person.last.kind is ReplyKind.THANKS
    assert expected in person.last.text
    answers = await stored(service)
    assert answers["district"].options == ["mokotow"]
    assert answers["values"].options == ["mutual_help", "trust"]
    assert answers["connection"].number == 4
    assert answers["quote_consent"].options == ["yes"]
    assert answers["contact_consent"].options == []
    assert "email" not in answers
    [submission] = await submissions(service)
    assert submission.status == Status.COMPLETED
    assert submission.language == language
    assert submission.finished_at is not None


async def test_each_answer_is_committed_before_the_next_question(person: Person, service: Service) -> None:
    await person.begin()
    await person.tap("wola")
    assert person.last.question == "community_meaning"
    assert (await stored(service))["district"].options == ["wola"]


async def test_typed_answers_to_choice_questions(person: Person, service: Service) -> None:
    await person.begin()
    await person.send("zoliborz")  # without diacritics
    assert (await stored(service))["district"].options == ["zoliborz"]
    await person.act(Action.BACK)
    await person.send("3")  # by number
    assert (await stored(service))["district"].options == ["bielany"]
    await person.act(Action.BACK)
    await person.send("Śródmieście")
    assert (await stored(service))["district"].options == ["srodmiescie"]
    await person.act(Action.BACK)
    await person.send("Прага-Полудне")  # a label in another language
    assert (await stored(service))["district"].options == ["praga_poludnie"]
    await person.act(Action.BACK)
    await person.send("Kraków")
    assert person.kinds == [ReplyKind.PROBLEM, ReplyKind.QUESTION]
    assert person.last.question == "district"


async def test_free_text_limits_are_stated(person: Person) -> None:
    await person.begin()
    await person.act(Action.SKIP)
    assert person.last.input is InputKind.TEXT and person.last.max_length == 1500
    await person.send("x" * 1501)
    assert person.kinds[0] is ReplyKind.PROBLEM
    assert "1501" in person.replies[0].text and "1500" in person.replies[0].text
    await person.send("   ")
    assert person.kinds[0] is ReplyKind.PROBLEM
    await person.send("x" * 1500)
    assert person.last.question == "values"


async def test_multiple_choice_toggles_and_limits(person: Person, service: Service) -> None:
    await person.begin()
    await person.act(Action.SKIP)
    await person.act(Action.SKIP)
    assert person.last.question == "values" and person.last.multiple
    await person.act(Action.DONE)  # nothing picked: at least one
    assert person.kinds[0] is ReplyKind.PROBLEM
    for code in ("trust", "openness", "cooperation"):
        await person.tap(code)
    assert [c.choice for c in person.last.choices if c.selected] == ["openness", "trust", "cooperation"]
    await person.tap("inclusion")  # a fourth is refused
    assert person.kinds[0] is ReplyKind.PROBLEM and "3" in person.replies[0].text
    await person.tap("trust")  # untick
    assert [c.choice for c in person.last.choices if c.selected] == ["openness", "cooperation"]
    assert "values" not in await stored(service)  # picks are a draft until Done
    await person.act(Action.DONE)
    assert (await stored(service))["values"].options == ["openness", "cooperation"]


async def test_other_option_asks_for_text(person: Person, service: Service) -> None:
    await person.begin()
    await person.act(Action.SKIP)
    await person.act(Action.SKIP)
    await person.send("2, 9")  # typed picks, one of them "other"
    assert person.last.input is InputKind.TEXT and person.last.question == "values"
    await person.send("Poczucie humoru")
    answer = (await stored(service))["values"]
    assert answer.options == ["mutual_help", "other"] and answer.text == "Poczucie humoru"
    assert person.last.question == "connection"


async def test_scale_yes_no_and_email_validation(person: Person, service: Service) -> None:
    await person.begin()
    for _ in range(3):
        await person.act(Action.SKIP)
    assert person.last.question == "connection"
    await person.send("7")
    assert person.kinds[0] is ReplyKind.PROBLEM and "1" in person.replies[0].text and "5" in person.replies[0].text
    await person.send("5")
    assert (await stored(service))["connection"].number == 5
    for _ in range(6):
        await person.act(Action.SKIP)
    assert person.last.question == "quote_consent"
    await person.send("tak")
    assert (await stored(service))["quote_consent"].options == ["yes"]
    await person.tap("working_groups")
    await person.act(Action.DONE)
    assert person.last.question == "email"
    assert not any(c.action is Action.SKIP for c in person.last.navigation)  # required once shown
    await person.act(Action.SKIP)
    assert person.kinds[0] is ReplyKind.PROBLEM
    await person.send("not an address")
    assert person.kinds[0] is ReplyKind.PROBLEM
    await person.send("Jan.Kowalski@Example.PL")
    assert (await stored(service))["email"].text == "Jan.Kowalski@example.pl"
    assert person.last.kind is ReplyKind.SUMMARY


async def test_skip_back_and_first_question_note(person: Person, service: Service) -> None:
    await person.begin()
    await person.act(Action.BACK)
    assert person.kinds == [ReplyKind.INFO, ReplyKind.QUESTION] and person.last.question == "district"
    await person.act(Action.SKIP)
    assert (await stored(service))["district"].skipped
    await person.act(Action.BACK)
    assert person.last.question == "district"
    await person.tap("ursus")
    answers = await stored(service)
    assert answers["district"].options == ["ursus"] and not answers["district"].skipped


async def test_going_back_shows_the_current_answer(person: Person) -> None:
    await person.begin()
    await person.tap("wawer")
    await person.act(Action.BACK)
    assert "Wawer" in person.last.text
    assert [c.choice for c in person.last.choices if c.selected] == ["wawer"]


async def test_language_can_change_at_any_point(person: Person, service: Service) -> None:
    await person.start()
    await person.act(Action.LANGUAGE, "en")
    assert person.last.kind is ReplyKind.PRIVACY and "data protection officer" in person.last.text
    await person.act(Action.ACCEPT)
    assert person.last.heading == "Question 1 of 12"
    await person.send("/language uk")
    assert person.last.heading == "Запитання 1 з 12"
    await person.act(Action.LANGUAGE)
    assert person.last.kind is ReplyKind.LANGUAGES
    [submission] = await submissions(service)
    assert submission.language == "uk"


async def test_newcomer_gets_their_client_language_or_polish(service: Service) -> None:
    ukrainian = Person(service, "olena")
    await ukrainian.start(language="uk-UA")
    assert ukrainian.last.language == "uk"
    german = Person(service, "hans")
    await german.start(language="de")
    assert german.last.language == "pl"


async def test_cancel_discards_this_conversation(person: Person, service: Service) -> None:
    await person.begin()
    await person.tap("wola")
    await person.send("/cancel")
    assert person.last.kind is ReplyKind.GOODBYE
    assert await count(service.store, Answer) == 0
    [submission] = await submissions(service)
    assert submission.status == Status.CANCELLED
    await person.start()
    assert person.last.kind is ReplyKind.PRIVACY  # a new pass starts with consent again


async def test_resume_after_restart(settings: Any, clock: FakeClock) -> None:
    async with open_service(settings, clock=clock) as first:
        person = Person(first)
        await person.begin()
        await person.tap("bemowo")
        await person.send("Ludzie.")
    clock.advance(hours=5)
    async with open_service(settings, clock=clock) as second:
        again = Person(second)
        await again.start()
        assert again.kinds == [ReplyKind.INFO, ReplyKind.QUESTION]
        assert again.last.question == "values"
        await again.send("trust")
        assert again.last.question == "connection"


async def test_returning_after_finishing_reviews_not_duplicates(person: Person, service: Service) -> None:
    await person.begin()
    await answer_everything(person)
    await person.act(Action.CONFIRM)
    await person.start()
    assert person.kinds == [ReplyKind.INFO, ReplyKind.SUMMARY]
    await person.act(Action.EDIT, "connection")
    assert person.last.question == "connection"
    await person.tap("2")
    assert person.last.kind is ReplyKind.SUMMARY  # straight back to the summary
    await person.act(Action.CONFIRM)
    assert person.last.kind is ReplyKind.THANKS
    [submission] = await submissions(service)
    assert submission.status == Status.COMPLETED
    assert (await stored(service))["connection"].number == 2


async def test_editing_from_summary_asks_newly_shown_questions(person: Person, service: Service) -> None:
    await person.begin()
    await answer_everything(person)
    await person.act(Action.EDIT, "contact_consent")
    await person.tap("report")
    await person.act(Action.DONE)
    assert person.last.question == "email"  # shown now, and required
    await person.send("ala@example.org")
    assert person.last.kind is ReplyKind.SUMMARY
    await person.act(Action.EDIT, "contact_consent")
    await person.tap("report")  # untick: the email question disappears
    await person.act(Action.DONE)
    assert person.last.kind is ReplyKind.SUMMARY
    await person.act(Action.CONFIRM)
    assert "email" not in await stored(service)


async def test_stale_buttons_do_not_answer_the_current_question(person: Person, service: Service) -> None:
    await person.begin()
    await person.tap("wola")
    await person.send(choice="mokotow", question="district")  # an old message's button
    assert person.kinds == [ReplyKind.PROBLEM, ReplyKind.QUESTION]
    assert person.last.question == "community_meaning"
    assert (await stored(service))["district"].options == ["wola"]


async def test_unknown_commands_and_hostile_text_get_clear_replies(person: Person, service: Service) -> None:
    await person.begin()
    await person.send("/frobnicate")
    assert person.kinds == [ReplyKind.PROBLEM, ReplyKind.QUESTION]
    await person.act(Action.SKIP)
    for text in ("🙂🏘️", "مرحبا بالجيران", "a\x00b\x1b[31mc\u202e", "x" * 100_000, "", "\n\n"):
        replies = await person.send(text)
        assert replies[-1].question in ("community_meaning", "values")
    answer = (await stored(service))["community_meaning"]
    assert answer.text == "🙂🏘️"


async def test_event_from_deep_link_is_recorded(service: Service) -> None:
    known = Person(service, "k")
    await known.begin(source="dzien-sasiada-zoliborz-2026-05-30__stoisko2")
    unknown = Person(service, "u")
    await unknown.begin(source="no-such-event")
    broken = Person(service, "b")
    await broken.begin(source="<script>")
    by_event = {s.respondent_id: s for s in await submissions(service)}
    first, second, third = by_event.values()
    assert (first.event, first.stand, first.event_known) == ("dzien-sasiada-zoliborz-2026-05-30", "stoisko2", True)
    assert (second.event, second.event_known) == ("no-such-event", False)
    assert third.event is None


async def test_closed_questionnaire_answers_politely(service: Service, clock: FakeClock) -> None:
    questionnaire = service.conversation.questionnaires[QUESTIONNAIRE]
    from datetime import UTC, datetime

    closed = questionnaire.model_copy(
        update={"opens": datetime(2026, 5, 15, tzinfo=UTC), "closes": datetime(2026, 6, 30, tzinfo=UTC)}
    )
    service.conversation.questionnaires[QUESTIONNAIRE] = closed
    person = Person(service)
    clock.now = datetime(2026, 5, 1, tzinfo=UTC)
    await person.start()
    assert person.last.kind is ReplyKind.CLOSED and "15.05.2026" in person.last.text
    clock.now = datetime(2026, 7, 1, tzinfo=UTC)
    await person.start()
    assert person.last.kind is ReplyKind.CLOSED and "30.06.2026" in person.last.text
    assert await count(service.store, Submission) == 0


@pytest.mark.parametrize(
    ("language", "too_long", "required", "stale"),
    [
        ("pl", "limit to 1500", "potrzebujemy odpowiedzi", "wcześniejszym pytaniu"),
        ("en", "the limit is 1500", "needs an answer", "earlier question"),
        ("uk", "ліміт — 1500", "потрібна відповідь", "попереднього запитання"),
    ],
)
async def test_problems_are_explained_in_the_respondents_language(
    service: Service, language: str, too_long: str, required: str, stale: str
) -> None:
    person = Person(service, f"p-{language}")
    await person.begin(language=language)
    await person.tap("wola")
    await person.send("x" * 1501)
    assert too_long in person.replies[0].text
    await person.send(choice="mokotow", question="district")
    assert stale in person.replies[0].text
    for _ in range(10):
        await person.act(Action.SKIP)
    await person.send("1")  # typed picks are a whole answer: the report, so the email question appears
    await person.act(Action.SKIP)
    assert person.last.question == "email"
    assert required in person.replies[0].text


async def test_a_language_chosen_first_thing_is_kept(person: Person) -> None:
    await person.send("/language uk", language="pl")
    assert person.last.kind is ReplyKind.PRIVACY and person.last.language == "uk"
    await person.send(action=Action.ACCEPT, language="pl")  # the client still says Polish
    assert person.last.language == "uk" and person.last.heading == "Запитання 1 з 12"


async def test_privacy_events_and_my_data_on_request(person: Person, service: Service, clock: FakeClock) -> None:
    from datetime import UTC, datetime

    await person.begin()
    await person.send("/privacy")
    assert person.kinds == [ReplyKind.INFO, ReplyKind.QUESTION]
    assert "Skarga" in person.replies[0].text and "ul. Stawki 2" in person.replies[0].text  # the full notice
    clock.now = datetime(2026, 5, 20, tzinfo=UTC)
    await person.act(Action.EVENTS)
    events = person.replies[0].text
    assert "Najbliższe wydarzenia" in events and "29.05.2026 17:30–20:00" in events
    assert "tłumacz polskiego języka migowego (PJM)" in events  # accessibility notes come with the place
    assert "Park Żeromskiego" in events
    # The working groups' meetings are for the selected participants: never shown as open events.
    assert "Grupa robocza" not in events and "plenarne" not in events
    await person.act(Action.MYDATA)
    assert "Nie mamy zapisanych" in person.replies[0].text
    await person.tap("wola")
    await person.send("Sąsiedzi.")
    await person.act(Action.MYDATA)
    assert "Wola" in person.replies[0].text and "Sąsiedzi." in person.replies[0].text


async def test_forget_erases_everything_after_confirmation(person: Person, service: Service) -> None:
    await person.begin()
    await person.tap("wola")
    await person.send("/forget")
    assert person.last.kind is ReplyKind.FORGET
    await person.act(Action.FORGET, "no")
    assert await count(service.store, Answer) == 1
    await person.act(Action.FORGET)
    await person.act(Action.FORGET, "yes")
    assert person.last.kind is ReplyKind.GOODBYE
    for model in (Respondent, Submission, Answer, Contact):
        assert await count(service.store, model) == 0
    await person.start()
    assert person.last.kind is ReplyKind.PRIVACY


async def test_stickers_and_edits_get_a_note_and_store_nothing(person: Person, service: Service) -> None:
    await person.begin()
    await person.send(unsupported="not_text")
    assert person.kinds == [ReplyKind.PROBLEM, ReplyKind.QUESTION]
    assert "tekstem albo przyciskami" in person.replies[0].text
    await person.send(unsupported="edited")
    assert "Zmian w wysłanych wiadomościach" in person.replies[0].text
    assert await count(service.store, Answer) == 0


async def test_a_delivery_is_applied_once(person: Person, service: Service) -> None:
    from handlers.engine.messages import Delivery

    await person.begin()
    update = Delivery("telegram", "1001", "501", {"update_id": 1001, "message": {"text": "Wola"}})
    await person.send("Wola", delivery=update)
    assert person.last.question == "community_meaning"
    await person.send("Wola", delivery=update)  # delivered again, after a crash before confirming
    assert person.kinds == [ReplyKind.QUESTION] and person.last.question == "community_meaning"
    assert (await stored(service))["district"].options == ["wola"]
    assert await count(service.store, Answer) == 1
    stored_earlier = Delivery("telegram", "1002")  # "already in the inbox", but it is not there
    await person.send("Brak", delivery=stored_earlier)
    assert person.last.question == "community_meaning" and await count(service.store, Answer) == 1


async def test_a_question_shown_only_for_one_choice(person: Person, service: Service) -> None:
    await person.begin()
    await person.tap("outside_warsaw")
    await answer_rest_quickly(person)
    assert person.last.question == "outside_warsaw_where"  # district equals outside_warsaw
    # A follow-up carries the number of the question before it: the total does not grow as one answers.
    assert person.last.heading == "Pytanie 12 z 12" and person.last.max_length == 200
    await person.send("Ząbki")
    assert person.last.kind is ReplyKind.SUMMARY
    await person.act(Action.EDIT, "district")
    await person.tap("wola")  # another district: the question and its answer are gone
    assert person.last.kind is ReplyKind.SUMMARY
    await person.act(Action.CONFIRM)
    assert "outside_warsaw_where" not in await stored(service)


async def test_a_question_shown_when_a_multiple_choice_contains_an_option(person: Person, service: Service) -> None:
    await person.begin()
    await person.act(Action.SKIP)
    await person.act(Action.SKIP)
    await person.tap("grassroots")
    await person.tap("trust")
    await person.act(Action.DONE)
    await answer_rest_quickly(person)
    assert person.last.question == "grassroots_example"  # values contains grassroots
    assert not any(c.action is Action.SKIP for c in person.last.navigation)  # required once shown
    await person.act(Action.SKIP)
    assert person.kinds[0] is ReplyKind.PROBLEM
    await person.send("Ogródek sąsiedzki przy szkole.")
    assert person.last.kind is ReplyKind.SUMMARY
    assert (await stored(service))["grassroots_example"].text == "Ogródek sąsiedzki przy szkole."


async def test_a_question_shown_for_any_answer_but_one(service: Service) -> None:
    said_no, said_yes, skipped = (Person(service, name) for name in ("no", "yes", "skip"))
    for person, consent in ((said_no, "no"), (said_yes, "yes"), (skipped, None)):
        await person.begin()
        for _ in range(10):
            await person.act(Action.SKIP)
        assert person.last.question == "quote_consent"
        await (person.tap(consent) if consent else person.act(Action.SKIP))
        await person.act(Action.DONE)  # no contact wanted
    assert said_no.last.question == "no_quote_reason"  # answered, and not equal to yes
    assert said_yes.last.kind is ReplyKind.SUMMARY and skipped.last.kind is ReplyKind.SUMMARY


async def answer_rest_quickly(person: Person) -> None:
    """Skips every question up to `contact_consent`, then picks nothing there."""
    for _ in range(12):
        if person.last.question == "contact_consent":
            break
        await person.act(Action.SKIP)
    assert person.last.question == "contact_consent"
    await person.act(Action.DONE)


async def test_the_questionnaire_window_is_kept(person: Person, service: Service, clock: FakeClock) -> None:
    from datetime import UTC, datetime

    questionnaire = service.conversation.questionnaires[QUESTIONNAIRE]
    assert questionnaire.opens is not None and questionnaire.closes is not None
    clock.now = questionnaire.closes.astimezone(UTC)
    await person.start()
    assert person.last.kind is ReplyKind.PRIVACY  # the last second is still open
    clock.now = datetime(2036, 1, 1, 12, tzinfo=UTC)
    await person.start()
    assert person.last.kind is ReplyKind.CLOSED and "31.12.2035" in person.last.text

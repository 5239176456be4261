"""The emailed form: rendered for any mail client, and replies read into answers (or left for staff)."""

from __future__ import annotations

from bot.service import Config
from handlers.email.form import read_form_reply, render_form
from tests.support import QUESTIONNAIRE


def test_form_numbers_questions_and_letters_choices(config: Config) -> None:
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    form = render_form(questionnaire, config.catalog, "pl")
    assert form.startswith("1. W której dzielnicy mieszkasz?\n   a) Bemowo\n   b) Białołęka")
    assert "   s) Mieszkam poza Warszawą" in form
    assert "(wpisz najwyżej 3 litery, np. „a, c”)" in form  # values: 3 of 9, the plural form of 3
    assert "(wpisz jedną lub kilka liter, np. „a, b”)" in form  # contact_consent: any of its 2
    assert "(wpisz liczbę od 1 do 5: 1 – " in form  # the scale says how to answer
    assert "13." not in form  # the email question: a reply already gives the address
    english = render_form(questionnaire, config.catalog, "en")
    assert english.startswith("1. Which district do you live in?")


def test_numbered_answers_are_read(config: Config) -> None:
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    reading = read_form_reply(
        questionnaire, "Dzień dobry,\n1. q\n3: a, c\n4) 4\n6.\nWięcej ławek\ni spotkań.\n11. TAK\n12. odp. b\n"
    )
    answers = reading.answers
    assert answers["district"].options == ["wola"]
    assert answers["values"].options == ["openness", "trust"]
    assert answers["connection"].number == 4
    assert answers["helps"].text == "Więcej ławek\ni spotkań."
    assert answers["quote_consent"].options == ["yes"]
    assert answers["contact_consent"].options == ["working_groups"]
    assert reading.unclear == {}


def test_answers_inline_among_quoted_questions(config: Config) -> None:
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    reply = (
        "W dniu 29.05.2026 o 10:15, Program Wspólnota pisze:\n"
        "> 1. W której dzielnicy mieszkasz?\n> a) Bemowo\n> b) Białołęka\n"
        "Odp. B\n"
        "> 2. Czym jest dla Ciebie lokalna wspólnota?\n"
        "To sąsiedzi, którzy się znają.\n"
        "> 3. Jakimi wartościami miasto powinno się kierować?\n"
        "zaufanie i współpraca, może coś jeszcze\n"
        "> 4. Jak bardzo czujesz się związany/a ze swoją okolicą?\n"
        "chyba 3\n"
    )
    reading = read_form_reply(questionnaire, reply)
    assert reading.answers["district"].options == ["bialoleka"]
    assert reading.answers["community_meaning"].text == "To sąsiedzi, którzy się znają."
    # Not certain: kept as written, for staff to read, never guessed into a wrong answer.
    assert reading.unclear == {3: "zaufanie i współpraca, może coś jeszcze", 4: "chyba 3"}


def test_impossible_letters_and_too_many_picks_stay_unclear(config: Config) -> None:
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    reading = read_form_reply(questionnaire, "3. a, b, c, d\n5. z\n")
    assert reading.answers == {}
    assert reading.unclear == {3: "a, b, c, d", 5: "z"}


def test_what_people_type_is_read(config: Config) -> None:
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    reading = read_form_reply(questionnaire, "1. B)\n3: A, C\n5 - b.\n8) (c)\n11: a\n12. A i B\n")
    answers = reading.answers
    assert answers["district"].options == ["bialoleka"]
    assert answers["values"].options == ["openness", "trust"]
    assert answers["participation"].options == ["rarely"]
    assert answers["priority_area"].options == ["belonging"]
    assert answers["quote_consent"].options == ["yes"]
    assert answers["contact_consent"].options == ["report", "working_groups"]
    assert reading.unclear == {}


def test_the_polish_i_between_letters_is_a_word_not_option_i(config: Config) -> None:
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    for written in ("a i c", "a oraz c", "A I C", "a) i c)", "a and c"):
        reading = read_form_reply(questionnaire, f"3. {written}\n")
        assert reading.answers["values"].options == ["openness", "trust"], written
    # On its own, "i" is option i (the district question has 19 options).
    assert read_form_reply(questionnaire, "1. i\n").answers["district"].options == [
        questionnaire.questions[0].options[8].code
    ]


def test_cyrillic_look_alike_letters_are_read_as_latin(config: Config) -> None:
    """On a Ukrainian keyboard a, b, c, e, i, o, p are typed as а, в, с, е, і, о, р."""
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    for written in ("а, с", "А, С", "а і с", "а та с", "a, с"):
        reading = read_form_reply(questionnaire, f"3. {written}\n")
        assert reading.answers["values"].options == ["openness", "trust"], written
    reading = read_form_reply(questionnaire, "1. в\n11. а\n")
    assert reading.answers["district"].options == ["bialoleka"]
    assert reading.answers["quote_consent"].options == ["yes"]
    # Words stay words: a Cyrillic sentence is no list of letters.
    assert read_form_reply(questionnaire, "3. всі\n").unclear == {3: "всі"}


def test_answers_among_quoted_questions_in_upper_case(config: Config) -> None:
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    reply = (
        "> 3. Jakimi wartościami miasto powinno się kierować?\n> a) Otwartość\n> b) Wzajemna pomoc\n"
        "B I C\n\n"
        "> 5. Jak często bierzesz udział w życiu okolicy?\n"
        "a)\n"
    )
    reading = read_form_reply(questionnaire, reply)
    assert reading.answers["values"].options == ["mutual_help", "trust"]
    assert reading.answers["participation"].options == ["never"]


def test_the_examples_in_the_form_are_valid_answers(config: Config, shipped_config: Config) -> None:
    """Every sample answer the form shows (the tests' and the programme's questionnaires) reads back
    as a valid answer to the question it names."""
    from handlers.email.form import choice_example, form_examples
    from handlers.engine.answers import check_value

    for questionnaire in [*config.questionnaires.values(), *shipped_config.questionnaires.values()]:
        examples = form_examples(questionnaire)
        assert examples, questionnaire.id
        for example in examples:
            reading = read_form_reply(questionnaire, example + "\n")
            assert reading.unclear == {} and len(reading.answers) == 1, example
            [(code, value)] = reading.answers.items()
            number = int(example.split(".")[0].split(":")[0])
            question = questionnaire.questions[number - 1]
            assert question.code == code and not question.show_if
            assert check_value(question, value) == value, example
        for number, question in enumerate(questionnaire.questions, start=1):
            if question.options and question.type.value.endswith("choice"):
                reading = read_form_reply(questionnaire, f"{number}. {choice_example(question)}\n")
                assert code_of(reading) == question.code, (question.code, choice_example(question))
    form = render_form(config.questionnaires[QUESTIONNAIRE], config.catalog, "pl")
    assert "np. „a, c”" in form  # under the values question: at most 3 picks, a and c are plain options


def code_of(reading: object) -> str | None:
    answers = getattr(reading, "answers", {})
    return next(iter(answers), None)

"""Questionnaires, events and messages as data: the shipped files load; mistakes are named precisely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.service import Config, load_config
from bot.settings import Settings, load_settings
from handlers.definitions.config_files import ConfigError, read_yaml
from handlers.definitions.questionnaire import (
    Condition,
    QuestionType,
    condition_holds,
    load_questionnaires,
    parse_questionnaire,
    visible_questions,
)
from tests.support import QUESTIONNAIRE, TEST_CONFIG

# The tests' questionnaire's privacy notice, as one line of YAML (JSON is YAML).
PRIVACY = json.dumps(read_yaml(TEST_CONFIG / "questionnaires" / f"{QUESTIONNAIRE}.yaml")["privacy"], ensure_ascii=False)
MINIMAL = f"""
id: demo
version: 1
title: {{pl: Demo, en: Demo, uk: Демо}}
privacy: {PRIVACY}
questions:
"""


def problems_of(text: str, tmp_path: Path) -> list[str]:
    folder = tmp_path / "questionnaires"
    folder.mkdir(exist_ok=True)
    (folder / "demo.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_questionnaires(folder)
    return [str(problem) for problem in caught.value.problems]


def test_every_shipped_file_loads(shipped_config: Config) -> None:
    """The programme's own data (config/) validates; staff may reword, reorder, add or drop questions."""
    assert shipped_config.questionnaires and shipped_config.events
    for questionnaire in shipped_config.questionnaires.values():
        assert questionnaire.questions, f"{questionnaire.id} has no questions"
        # The report quotes only residents who said yes here, and groups by district (reports/report.py).
        consent = questionnaire.question("quote_consent")
        assert consent is None or consent.type is QuestionType.YES_NO
        district = questionnaire.question("district")
        assert district is None or district.type is QuestionType.SINGLE_CHOICE


def test_the_tests_questionnaire_exercises_every_type_and_rule(settings: Settings) -> None:
    config = load_config(settings)
    assert list(config.questionnaires) == [QUESTIONNAIRE]
    questionnaire = config.questionnaires[QUESTIONNAIRE]
    questions = questionnaire.questions
    assert {q.type for q in questions} == set(QuestionType)
    assert {test for q in questions for c in q.show_if for test in c.tests()} == {
        "answered",
        "equals",
        "not_equals",
        "contains",
    }
    assert any(q.required for q in questions) and any(not q.required for q in questions)
    assert any(o.other for q in questions for o in q.options)
    assert any(q.max_choices and q.min_choices > 0 for q in questions)
    assert any(q.min_choices == 0 for q in questions if q.type is QuestionType.MULTIPLE_CHOICE)
    assert any(q.min_label and q.max_label for q in questions if q.type is QuestionType.SCALE)
    assert all(q.max_length < 2000 for q in questions if q.type is QuestionType.TEXT)
    assert questionnaire.opens is not None and questionnaire.closes is not None
    opinion = questionnaire.opinion_question
    assert questionnaire.email_opinion and opinion is not None and opinion.type is QuestionType.TEXT


def test_a_typo_and_a_missing_translation_are_reported_together(tmp_path: Path) -> None:
    found = problems_of(
        MINIMAL
        + """
  - code: district
    type: single_choice
    lable: {pl: Dzielnica, en: District, uk: Район}
    options:
      - {code: wola, label: {pl: Wola, en: Wola}}
      - {code: ochota, label: {pl: Ochota, en: Ochota, uk: Охота}}
""",
        tmp_path,
    )
    assert any("demo.yaml: questions[district].lable: unknown key (a typo?)" in p for p in found)
    assert any("questions[district].label: required but missing" in p for p in found)
    assert any("questions[district].options[wola].label.uk: required but missing" in p for p in found)


def test_semantic_mistakes_are_all_listed(tmp_path: Path) -> None:
    found = problems_of(
        MINIMAL
        + """
  - code: q1
    type: yes_no
    label: {pl: a, en: b, uk: c}
    show_if: {question: q2, equals: yes}
  - code: q2
    type: multiple_choice
    label: {pl: a, en: b, uk: c}
    max_choices: 5
    options:
      - {code: a, label: {pl: a, en: a, uk: a}}
      - {code: a, label: {pl: b, en: b, uk: b}}
  - code: q2
    type: scale
    min: 5
    max: 1
    label: {pl: a, en: b, uk: c}
  - code: q4
    type: text
    label: {pl: a, en: b, uk: c}
    show_if: {question: q1, equals: maybe}
""",
        tmp_path,
    )
    text = "\n".join(found)
    assert "questions[q1].show_if[1].question: 'q2' must come before the question it controls" in text
    assert "questions[q2].options[a]: duplicate option code" in text
    assert "questions[q2].max_choices: is 5 but there are only 2 options" in text
    assert "questions[q2]: duplicate question code" in text
    assert "questions[q2].max: must be greater than `min`" in text
    assert "questions[q4].show_if[1].equals: 'maybe' is not an answer code of 'q1' (yes, no)" in text


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    found = problems_of("id: demo\nquestions: [\n", tmp_path)
    assert len(found) == 1 and "demo.yaml: line" in found[0] and "not valid YAML" in found[0]


def test_yes_and_no_stay_text() -> None:
    raw = {
        "id": "d",
        "version": 1,
        "title": {"pl": "a", "en": "a", "uk": "a"},
        "privacy": json.loads(PRIVACY),
        "questions": [
            {"code": "a", "type": "yes_no", "label": {"pl": "a", "en": "a", "uk": "a"}},
            {
                "code": "b",
                "type": "text",
                "label": {"pl": "a", "en": "a", "uk": "a"},
                "show_if": {"question": "a", "equals": "no"},
            },
        ],
    }
    questionnaire = parse_questionnaire(raw, "inline")
    assert [q.code for q in visible_questions(questionnaire, {"a": ["no"]})] == ["a", "b"]
    assert [q.code for q in visible_questions(questionnaire, {"a": ["yes"]})] == ["a"]


@pytest.mark.parametrize(
    ("test", "value", "answers", "expected"),
    [
        ({"answered": True}, None, {"x": ["a"]}, True),
        ({"answered": True}, None, {"x": []}, False),
        ({"answered": False}, None, {}, True),
        ({"equals": "a"}, None, {"x": ["a"]}, True),
        ({"equals": "a"}, None, {"x": ["a", "b"]}, False),
        ({"not_equals": "a"}, None, {"x": ["b"]}, True),
        ({"contains": "b"}, None, {"x": ["a", "b"]}, True),
        ({"equals": 3}, None, {"x": 3}, True),
    ],
)
def test_conditions(test: dict[str, object], value: object, answers: dict[str, object], expected: bool) -> None:
    assert condition_holds(Condition(question="x", **test), answers) is expected  # type: ignore[arg-type]


def test_events_and_messages_problems_come_with_the_questionnaires(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    (config_dir / "events.yaml").write_text(
        "events:\n  - slug: 'bad slug!'\n    kind: fair\n    name: {pl: a, en: b, uk: c}\n"
        "    district: Wola\n    address: x\n"
        "    starts: 2026-05-30T12:00:00+02:00\n    ends: 2026-05-30T10:00:00+02:00\n"
    )
    messages = (config_dir / "messages.yaml").read_text().replace("Pytanie {number} z {total}", "Pytanie {numer}")
    (config_dir / "messages.yaml").write_text(messages)
    settings = load_settings({"WSPOLNOTA_CONFIG_DIR": str(config_dir)}, env_file=None)
    with pytest.raises(ConfigError) as caught:
        load_config(settings)
    text = "\n".join(map(str, caught.value.problems))
    assert "events.yaml: events[bad slug!].slug: String should match pattern" in text
    assert "events[bad slug!].kind" in text
    assert "messages.yaml: progress.pl: placeholders must be exactly: {number}, {total}" in text


def test_a_working_groups_meeting_must_say_it_is_not_open_to_the_public() -> None:
    from handlers.definitions.events import parse_events

    event = {
        "slug": "grupa",
        "kind": "working_group",
        "name": {"pl": "a", "en": "b", "uk": "c"},
        "district": "Wola",
        "address": "x",
        "starts": "2026-10-20T17:00:00+02:00",
        "ends": "2026-10-20T20:00:00+02:00",
    }
    with pytest.raises(ConfigError) as caught:
        parse_events({"events": [event]}, "events.yaml")
    assert "events.yaml: events[grupa].open_to_public: a working_group meeting is for the selected" in str(caught.value)
    closed = parse_events({"events": [{**event, "open_to_public": False}]}, "events.yaml")["grupa"]
    assert not closed.open_to_public


def test_shipped_events_list_only_open_ones_to_residents(shipped_config: Config) -> None:
    from handlers.definitions.events import FOR_SELECTED_PARTICIPANTS, upcoming_events

    kinds = {event.kind for event in shipped_config.events.values() if not event.open_to_public}
    assert kinds == set(FOR_SELECTED_PARTICIPANTS)
    listed = upcoming_events(shipped_config.events, min(event.starts for event in shipped_config.events.values()))
    assert listed and all(event.kind not in FOR_SELECTED_PARTICIPANTS for event in listed)


def test_bad_settings_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"WSPOLNOTA_LOG_LEVEL": "LOUD"}, env_file=None)
    assert "environment: WSPOLNOTA_LOG_LEVEL" in str(caught.value)


def test_settings_from_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("WSPOLNOTA_DATA_DIR=/srv/wspolnota\nWSPOLNOTA_QUESTIONNAIRE=wizja-i-wartosci\n")
    settings = load_settings({"WSPOLNOTA_QUESTIONNAIRE": "other"}, env_file=env_file)
    assert settings.data_dir == Path("/srv/wspolnota")
    assert settings.questionnaire == "other"  # the environment wins over the file
    assert settings.database == "sqlite+aiosqlite:////srv/wspolnota/wspolnota.db"


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = load_settings({"WSPOLNOTA_DATA_DIR": str(tmp_path)}, env_file=None)
    key = settings.pseudonym_key()
    assert key == settings.pseudonym_key() and len(key) > 40
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0

"""`wspolnota themes` and the coding frame's file, as staff use them: themes per open question in text and
JSON, the frame's themes first, its mistakes named by file and key in `wspolnota check`, no traceback."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.service import Config, open_service
from bot.settings import load_settings
from handlers.definitions.config_files import ConfigError
from handlers.definitions.themes import THEMES_FILE, load_coding_frame, parse_coding_frame
from reports.themes import QuestionnaireThemes, load_lexicon
from tests.support import SHIPPED_CONFIG, TEST_CONFIG, FakeClock, seed
from tests.support.settings import service_environment

FRAME = """
themes:
  - code: sasiedzi
    label: {pl: Sąsiedzi, en: Neighbours}
    keywords: {pl: [sąsiad, sąsiedztwo], uk: [сусід], en: [neighbour]}
    questions: [community_meaning]
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config)
    return service_environment(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config))


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def seeded(env: dict[str, str]) -> dict[str, str]:
    async def go() -> None:
        clock = FakeClock(datetime(2026, 5, 30, 12, tzinfo=UTC))
        async with open_service(load_settings(env, env_file=None), clock=clock) as service:
            await seed(service)

    asyncio.run(go())
    return env


def test_themes_as_json_per_open_question(env: dict[str, str]) -> None:
    result = invoke(seeded(env), "themes", "--format", "json")
    assert result.exit_code == 0, result.output
    themes = json.loads(result.output)
    assert themes and all(set(theme) >= {"question", "label", "keywords", "count", "quotes"} for theme in themes)
    [neighbour] = [t for t in themes if t["question"] == "community_meaning" and t["keywords"] == ["sąsiad"]]
    assert neighbour["count"] == 4 and neighbour["kind"] == "automatic" and neighbour["language"] == "pl"
    quotes = [quote for theme in themes for quote in theme["quotes"]]
    assert len(quotes) == len(set(quotes))
    assert "Wspólnota to ludzie." not in quotes  # its author did not allow quoting
    assert not any("600 100 200" in quote or "jan@example.pl" in quote for quote in quotes)


def test_the_frame_s_themes_come_first_in_text(env: dict[str, str]) -> None:
    Path(env["WSPOLNOTA_CONFIG_DIR"], THEMES_FILE).write_text(FRAME, encoding="utf-8")
    result = invoke(seeded(env), "themes", "--question", "community_meaning")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "community_meaning — Czym jest dla Ciebie lokalna wspólnota? (5 answers: pl 5)"
    assert lines[1] == "  1. Sąsiedzi [coding frame] — 4 answers (80%)"
    assert lines[2] == "     keywords: sąsiad, sąsiedztwo, neighbour, сусід"
    assert lines[3].startswith("     „") and "helps —" not in result.output  # one question only
    assert "[automatic, pl]" in result.output
    assert lines[-1].startswith("Tematy odpowiedzi otwartych.") and lines[-1].endswith("pl 5.")  # the method


def test_an_unknown_question_is_one_line(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["themes", "--question", "nope"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: --question: no open question 'nope' in sasiedztwo (open questions: ")
    assert "Traceback" not in result.output


def test_no_answers_is_a_warning(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["themes"], env=env)
    assert result.exit_code == 0
    assert "Warning: no open answers match these filters." in result.output


def test_check_names_the_frame_s_mistakes_by_file_and_key(env: dict[str, str]) -> None:
    path = Path(env["WSPOLNOTA_CONFIG_DIR"], THEMES_FILE)
    assert "OK themes: automatic only (no " in invoke(env, "check").output
    path.write_text(FRAME, encoding="utf-8")
    assert f"OK themes: 1 named in {path}" in invoke(env, "check").output
    path.write_text(FRAME.replace("questions: [community_meaning]", "questions: [age]\n    colour: red"))
    result = CliRunner().invoke(main, ["check"], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path}: themes[sasiedzi].colour: unknown key (a typo?)" in result.output


def test_the_frame_s_problems_all_at_once() -> None:
    raw = {
        "themes": [
            {"code": "a", "label": {"pl": "A"}, "keywords": {"pl": ["x"]}, "questions": ["district"]},
            {"code": "a", "label": {"pl": "A2"}, "keywords": {}},
        ]
    }
    with pytest.raises(ConfigError) as caught:
        parse_coding_frame(raw, "themes.yaml", {})
    assert [str(problem) for problem in caught.value.problems] == [
        "themes.yaml: themes[a].questions: no open question 'district' (open questions: none)",
        "themes.yaml: themes[a]: duplicate code",
        "themes.yaml: themes[a].keywords: needs at least one keyword in some language",
    ]
    with pytest.raises(ConfigError) as caught:
        parse_coding_frame({"themes": [{"code": "Bad code", "label": {"de": "x"}, "keywords": {"fr": ["x"]}}]}, "t")
    problems = {problem.key for problem in caught.value.problems}
    assert {"themes[Bad code].code", "themes[Bad code].label.pl", "themes[Bad code].keywords.fr.[key]"} <= problems


def test_the_shipped_frame_fits_the_shipped_questionnaire(shipped_config: Config) -> None:
    frame = load_coding_frame(SHIPPED_CONFIG / THEMES_FILE, shipped_config.questionnaires)
    assert len(frame.themes) >= 10
    assert all(
        theme.keywords.get("pl") and theme.keywords.get("uk") and theme.keywords.get("en") for theme in frame.themes
    )


def test_the_shipped_frame_counts_every_language_in_its_themes(shipped_config: Config) -> None:
    questionnaire = shipped_config.questionnaires["wizja-i-wartosci"]
    found = QuestionnaireThemes(questionnaire, load_lexicon(SHIPPED_CONFIG, shipped_config.questionnaires))
    for n, (text, language) in enumerate(
        [
            ("Нам потрібен сусідський дім для всіх мешканців.", "uk"),
            ("A community centre where neighbours meet.", "en"),
            ("Dom sąsiedzki z kuchnią i świetlicą.", "pl"),
            ("Plac do zabaw i ławki na podwórku.", "uk"),  # a Ukrainian resident writing in Polish
        ]
    ):
        answers = {"support": text, "quote_consent": "yes", "district": "wola"}
        found.add({"submission": n, "language": language, "event": None, "answers": answers})
    themes = {theme.code: theme for theme in found.counters["support"].themes() if theme.kind == "frame"}
    assert themes["dom_sasiedzki"].answers == 3
    assert themes["podworko_zielen"].answers == 1 and themes["plac_zabaw_dzieci"].answers == 1

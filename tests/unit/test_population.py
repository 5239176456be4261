"""config/population.yaml: Warsaw's residents by district (and age band once staff fill it in); a mistake in
the file is named with file, key and why, by the loader and by `wspolnota check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.service import Config, load_config
from handlers.definitions.config_files import ConfigError
from handlers.definitions.population import check_population, load_population, parse_population
from tests.support import SHIPPED_CONFIG, TEST_CONFIG, make_settings, service_environment

GOOD = """
source: "GUS, BDL (test)"
date: 2024-06-30
margins:
  district:
    question: district
    residents: {mokotow: 500, wola: 300}
    total: 800
    outside: [outside_warsaw]
  age_band:
    question: age_band
    residents: {}
"""


def problems_of(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "population.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_population(path)
    return [str(problem) for problem in caught.value.problems]


def test_the_shipped_file_has_every_district_and_no_age_bands_yet(shipped_config: Config) -> None:
    population = shipped_config.population
    assert population is not None and population.date.isoformat() == "2024-06-30" and "GUS" in population.source
    district = population.margins["district"]
    assert len(district.residents) == 18 and district.residents_total == 1_862_402 == district.total
    assert district.residents["rembertow"] == 24_888 and district.outside == ("outside_warsaw",)
    assert list(population.present_margins()) == ["district"]  # age bands are for staff to fill in


def test_a_good_file_loads_and_an_empty_margin_is_not_compared(tmp_path: Path) -> None:
    path = tmp_path / "population.yaml"
    path.write_text(GOOD, encoding="utf-8")
    population = load_population(path)
    assert population is not None
    assert population.margins["district"].share("mokotow") == pytest.approx(0.625)
    assert list(population.present_margins()) == ["district"]


def test_no_file_means_no_comparison(tmp_path: Path) -> None:
    assert load_population(tmp_path / "population.yaml") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("source: x\nmargins: {district: {question: district, residents: {wola: 1}}}\n", "date: required but missing"),
        (GOOD.replace("total: 800", "total: 801"), "margins.district.total: 801 is not the sum of `residents` (800)"),
        (GOOD.replace("wola: 300", "wola: -3"), "margins.district.residents.wola: Input should be greater than 0"),
        (GOOD.replace("wola: 300", "wola: 300.5"), "margins.district.residents.wola: Input should be a valid integer"),
        (
            GOOD.replace("wola: 300", 'wola: "12 000"'),
            "margins.district.residents.wola: Input should be a valid integer",
        ),
        (GOOD.replace("    total: 800", "    totl: 800"), "margins.district.totl: unknown key (a typo?)"),
        (GOOD.replace("outside: [outside_warsaw]", "outside: [wola]"), "margins.district.outside: wola also in"),
        (GOOD.replace("question: age_band", "question: district"), "margins.age_band.question: 'district' is already"),
        (GOOD.replace("wola: 300", "Wola: 300"), "margins.district.residents.Wola: String should match pattern"),
        ("margins: [\n", "line 2: not valid YAML"),
        ("- a list\n", "(top): expected `source:`, `date:` and `margins:`"),
    ],
)
def test_a_mistake_is_named_with_file_key_and_why(text: str, expected: str, tmp_path: Path) -> None:
    problems = problems_of(text, tmp_path)
    assert any(problem.startswith(f"{tmp_path / 'population.yaml'}: ") for problem in problems), problems
    assert any(expected in problem for problem in problems), problems


def test_codes_must_be_the_questionnaires_options(tmp_path: Path) -> None:
    """A district spelled unlike the questionnaire's code would never match an answer."""
    population = parse_population(
        {
            "source": "x",
            "date": "2024-06-30",
            "margins": {
                "district": {"question": "district", "residents": {"mokotow": 5, "praga": 3}},
                "age": {"question": "community_meaning", "residents": {"a": 1}},
            },
        },
        "population.yaml",
    )
    config = load_config(make_settings(tmp_path / "data"))
    problems = [str(p) for p in check_population(population, config.questionnaires, "population.yaml")]
    assert problems == [
        "population.yaml: margins.district.residents.praga: not an option of 'district' in questionnaire "
        "sasiedztwo (its codes: "
        + ", ".join(sorted(config.questionnaires["sasiedztwo"].question("district").option_codes))
        + ")",  # type: ignore[union-attr]
        "population.yaml: margins.age.question: 'community_meaning' in questionnaire sasiedztwo is not a single choice",
    ]
    typo = population.model_copy(
        update={"margins": {"district": population.margins["district"].model_copy(update={"question": "distrct"})}}
    )
    assert [str(p) for p in check_population(typo, config.questionnaires, "population.yaml")] == [
        "population.yaml: margins.district.question: no questionnaire asks 'distrct'"
    ]


def test_check_lists_the_population_files_problems_and_says_ok(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    env = service_environment(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config_dir))

    off = CliRunner().invoke(main, ["check"], env=env)
    assert off.exit_code == 0 and "OK population: off (no " in off.output

    shutil.copy(SHIPPED_CONFIG / "population.yaml", config_dir / "population.yaml")
    good = CliRunner().invoke(main, ["check"], env=env)
    assert good.exit_code == 0, good.output
    assert "OK population: district (GUS" in good.output

    (config_dir / "population.yaml").write_text(
        GOOD.replace("total: 800", "total: 8").replace("wola: 300", "wolla: 300")
    )
    bad = CliRunner().invoke(main, ["check"], env=env)
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "population.yaml: margins.district.total: 8 is not the sum" in bad.output
    assert "population.yaml: margins.district.residents.wolla: not an option of 'district'" in bad.output

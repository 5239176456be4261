"""Who answered against who lives here: golden numbers on a planted sample (shares, expected counts, the
dissimilarity index, the groups most missing), raking weights that reproduce the margins, trimming, and
nothing to compare yet."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.service import Service, open_service
from reports.representation import compare, rake, raking_weights, representation
from reports.stats import describe_representation, describe_staff_stats, describe_weights
from storage.exports import SubmissionFilter
from tests.support import QUESTIONNAIRE, FakeClock, make_settings
from tests.support.population import DISTRICTS_ONLY, PLANTED, POPULATION, plant


@pytest.fixture
async def any_database(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    """The service on SQLite and on PostgreSQL."""
    settings = make_settings(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    async with open_service(settings, clock=clock) as running:
        yield running


async def test_golden_numbers_on_a_planted_sample(any_database: Service) -> None:
    service = any_database
    await plant(service, PLANTED)
    await plant(service, [{"district": "rembertow"}] * 4, status="active")  # unfinished: not counted

    compared = await representation(service.store, QUESTIONNAIRE, POPULATION)

    assert compared.completed == 105
    district, age = compared.margins
    assert (district.name, district.base, district.outside, district.not_given) == ("district", 100, 3, 2)
    figures = {c.code: (c.respondents, c.respondent_share, c.resident_share, c.expected) for c in district.categories}
    assert figures == {
        "mokotow": (60, 0.6, 0.5, 50.0),
        "wola": (20, 0.2, 0.3, pytest.approx(30.0)),
        "ursus": (20, 0.2, 0.15, pytest.approx(15.0)),
        "rembertow": (0, 0.0, 0.05, pytest.approx(5.0)),
    }
    assert district.dissimilarity == pytest.approx(0.15)  # ½ (0.1 + 0.1 + 0.05 + 0.05)
    # Age: 92 gave a band (70 young, 22 older… of whom 2 without a district), 10 prefer not, 3 outside.
    assert (age.base, age.outside, age.not_given) == (92, 0, 13)
    young, older = age.categories
    assert (young.respondents, older.respondents) == (72, 20)
    assert older.expected == pytest.approx(92 * 0.6)
    assert age.dissimilarity == pytest.approx(72 / 92 - 0.4)
    # Most missing, beyond chance: the older (20 of 55: −4.7 SE), Rembertów (0 of 5: −2.2), Wola (20 of 30: −1.8).
    most = [(m.name, c.code, c.respondents, round(c.expected)) for m, c in compared.most_missing()]
    assert most == [("age_band", "age_60_74", 20, 55), ("district", "rembertow", 0, 5), ("district", "wola", 20, 30)]
    assert compared.most_missing()[1][1].residual == pytest.approx(-5 / math.sqrt(5))


async def test_staff_read_the_comparison_in_polish_or_english(service: Service) -> None:
    await plant(service, PLANTED)
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    compared = await representation(service.store, QUESTIONNAIRE, POPULATION)

    polish = describe_representation(compared, questionnaire)
    assert (
        "Dzielnice — ankiet z odpowiedzią: 100 (pominięte: spoza Warszawy 3, bez odpowiedzi lub „wolę nie podawać” 2)"
        in polish
    )
    assert "  Mokotów: 60 (60,0%) · mieszkańcy 50,0% · oczekiwane 50 (+10)" in polish
    assert "  Wskaźnik niepodobieństwa: 0,15" in polish
    assert polish.endswith(
        "Najbardziej brakuje teraz:\n  60–74 lata: 20 z oczekiwanych 55\n  Rembertów: 0 z oczekiwanych 5\n"
        "  Wola: 20 z oczekiwanych 30"
    )
    english = describe_representation(compared, questionnaire, "en")
    assert "  Rembertów: 0 of an expected 5" in english and "Dissimilarity index: 0.15" in english
    assert (
        "Age — submissions with an answer: 92 (left out: outside Warsaw 0, no answer or 'prefer not to say' 13)"
        in english
    )


async def test_districts_only_while_the_age_bands_are_not_filled_in(service: Service) -> None:
    await plant(service, PLANTED)
    compared = await representation(service.store, QUESTIONNAIRE, DISTRICTS_ONLY)
    assert [m.name for m in compared.margins] == ["district"]
    assert [c.code for _, c in compared.most_missing()] == ["rembertow", "wola"]  # only two are a person short
    text = describe_representation(compared, service.config.questionnaires[QUESTIONNAIRE], "en")
    assert "Age" not in text and "Districts — submissions with an answer: 100" in text


async def test_a_margin_the_questionnaire_does_not_ask_is_left_out(service: Service) -> None:
    """Another questionnaire (a short one) may ask no age, or nothing of the population file at all."""
    await plant(service, PLANTED)
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    margins = POPULATION.model_dump()["margins"]
    no_age = POPULATION.model_copy(
        update={
            "margins": {
                **POPULATION.margins,
                "age_band": POPULATION.margins["age_band"].model_copy(update={"question": "elsewhere"}),
            }
        }
    )
    assert list(no_age.asked_in(questionnaire).margins) == ["district"] and margins
    text = await describe_staff_stats(service.store, questionnaire, service.conversation.clock(), population=no_age)
    assert "Dzielnice — ankiet z odpowiedzią: 100" in text and "Wiek" not in text
    nothing = no_age.model_copy(update={"margins": {"age_band": no_age.margins["age_band"]}})
    text = await describe_staff_stats(service.store, questionnaire, service.conversation.clock(), population=nothing)
    assert text.endswith("Porównanie z mieszkańcami: population.yaml nie ma liczb mieszkańców dla pytań tej ankiety")


async def test_nothing_to_compare_yet_is_said_not_crashed(service: Service) -> None:
    compared = await representation(service.store, QUESTIONNAIRE, POPULATION)
    assert compared.completed == 0 and all(m.base == 0 and m.dissimilarity is None for m in compared.margins)
    assert compared.most_missing() == []
    text = describe_representation(compared, service.config.questionnaires[QUESTIONNAIRE])
    assert "Dzielnice: nikt jeszcze nie odpowiedział" in text and "Najbardziej brakuje" not in text
    assert await raking_weights(service.store, QUESTIONNAIRE, POPULATION) == {}
    assert "wyłączone" in describe_representation(None, service.config.questionnaires[QUESTIONNAIRE])


async def test_the_filters_choose_the_submissions(service: Service) -> None:
    await plant(service, PLANTED)
    nothing = SubmissionFilter(QUESTIONNAIRE, event="no-such-event")
    compared = await representation(service.store, QUESTIONNAIRE, POPULATION, filters=nothing)
    assert compared.completed == 0
    with pytest.raises(ValueError, match="not 'sasiedztwo'"):
        await representation(service.store, QUESTIONNAIRE, POPULATION, filters=SubmissionFilter("other"))


def weighted_shares(people: dict[int, dict[str, str]], weights: dict[int, float], question: str) -> dict[str, float]:
    totals: Counter[str] = Counter()
    for sid, weight in weights.items():
        code = people[sid].get(question)
        if code is not None:
            totals[code] += weight
    answered = sum(totals.values())
    return {code: total / answered for code, total in totals.items()}


def test_one_margin_is_post_stratification_exactly() -> None:
    """With districts only, raking is post-stratification: weight = residents' share / respondents' share,
    the residents of a district nobody answered from shared by the others."""
    people = dict(enumerate(PLANTED))
    weights = rake(people, DISTRICTS_ONLY)
    assert weights.converged and weights.capped == 0 and weights.margins == ("district",)
    assert weights.empty == (("district", "rembertow"),)
    assert len(weights.left_out) == 5  # 3 outside Warsaw, 2 without a district
    assert all(people[sid].get("district") in (None, "outside_warsaw") for sid in weights.left_out)
    by_district = {people[sid]["district"]: w for sid, w in weights.weights.items()}
    assert by_district["mokotow"] == pytest.approx((500 / 950) / 0.6)
    assert by_district["wola"] == pytest.approx((300 / 950) / 0.2)
    assert sum(weights.weights.values()) == pytest.approx(100)  # a mean of 1


def test_raking_reproduces_both_margins() -> None:
    people = {n: answers for n, answers in enumerate(PLANTED) if answers.get("district") != "outside_warsaw"}
    people.update({1000 + n: {"district": "rembertow", "age_band": "age_60_74"} for n in range(3)})
    weights = rake(people, POPULATION, cap=50)
    assert weights.converged and weights.capped == 0 and weights.empty == () and weights.max_error < 1e-6
    districts = weighted_shares(people, weights.weights, "district")
    assert districts == pytest.approx({"mokotow": 0.5, "wola": 0.3, "ursus": 0.15, "rembertow": 0.05}, abs=1e-6)
    ages = weighted_shares(people, weights.weights, "age_band")
    # Those who preferred not to say keep their weighted share; the residents' shares apply to the rest.
    answered = 1 - ages["prefer_not"]
    assert ages["age_18_29"] / answered == pytest.approx(0.4, abs=1e-6)
    assert ages["age_60_74"] / answered == pytest.approx(0.6, abs=1e-6)
    assert sum(weights.weights.values()) == pytest.approx(len(people))  # the 2 without a district too (by age)
    assert weights.design_effect > 1 and weights.effective_n < len(weights.weights)


def test_trimming_caps_extreme_weights_and_says_what_it_cost() -> None:
    """One resident of Rembertów among 100 would stand for about 6 at the residents' share; at a cap of 2 the
    weight stops at twice the mean, and the margins are met only approximately."""
    people = dict(enumerate([{"district": "mokotow"}] * 80 + [{"district": "wola"}] * 19 + [{"district": "rembertow"}]))
    free = rake(people, DISTRICTS_ONLY, cap=100)
    assert free.largest == pytest.approx((50 / 850) / 0.01)  # Ursus has nobody: the others share its residents
    trimmed = rake(people, DISTRICTS_ONLY, cap=2)
    assert trimmed.largest <= 2 + 1e-9 and trimmed.smallest >= 0.5 - 1e-9
    assert trimmed.capped >= 1 and trimmed.max_error > 0.01
    assert trimmed.design_effect < free.design_effect
    assert sum(trimmed.weights.values()) == pytest.approx(100)
    with pytest.raises(ValueError, match="above 1"):
        rake(people, DISTRICTS_ONLY, cap=1)


async def test_the_weights_summary_for_staff(service: Service) -> None:
    await plant(service, PLANTED)
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    weights = rake(dict(enumerate(PLANTED)), POPULATION)
    text = describe_weights(weights, questionnaire)
    assert text.startswith("Wagi do: Dzielnice, Wiek — zważonych ankiet: 102 (średnia waga 1); bez wagi: 3")
    assert "Efekt schematu (Kish): " in text and "Nikt nie odpowiedział z: Rembertów" in text
    assert "Design effect (Kish)" in describe_weights(weights, questionnaire, "en")
    assert compare({}, POPULATION).margins[0].base == 0

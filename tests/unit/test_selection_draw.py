"""The working groups' draw (selection/draw.py): golden selections on fixed data and seeds,
reproducibility across processes and renumbering, the small pool, infeasible quotas, second seats."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pytest

from selection.draw import _library_relaxations, draw, quota_problems, second_seats_needed
from selection.model import Candidate, Draw, GroupSpec, Quota, QuotaInfeasible, SelectionUnavailable
from tests.support import REPOSITORY
from tests.support.extras import require_selection

require_selection()  # skipped without the extra, a failure in CI

# config/recruitment.yaml's quotas, the same for each group of 24
QUOTAS = {
    "ngo": Quota(3, 8),
    "informal": Quota(3, 7),
    "resident": Quota(4, 8),
    "district_office": Quota(2, 5),
    "city_institution": Quota(2, 5),
    "city_hall": Quota(1, 4),
}
GROUPS = ("otwartosc", "aktywnosc", "przynaleznosc")
SPECS = tuple(GroupSpec(code, 24, QUOTAS) for code in GROUPS)
SEED = 20271008


def applicants(count: int, seed: int = 2027, first_id: int = 1) -> list[Candidate]:
    """`count` applicants: sectors skewed as a real call's, most asking for one group, some for two or three."""
    rng = random.Random(seed)
    sectors = list(QUOTAS)
    out = []
    for n in range(count):
        wanted = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
        groups = tuple(rng.sample(GROUPS, wanted))
        out.append(Candidate(first_id + n, rng.choices(sectors, weights=(25, 15, 30, 10, 12, 8))[0], groups))
    return out


def meets_quotas(result: Draw) -> None:
    sector_of = {candidate.id: candidate.sector for candidate in result.candidates}
    for spec, group in zip(result.specs, result.groups, strict=True):
        assert len(group.selected) == spec.seats
        counts = Counter(sector_of[id_] for id_ in group.selected)
        for sector, quota in spec.quotas.items():
            assert quota.min <= counts[sector] <= quota.max, (group.code, sector, counts)


@pytest.fixture(scope="module")
def pool_120() -> list[Candidate]:
    return applicants(120)


@pytest.fixture(scope="module")
def golden(pool_120: list[Candidate]) -> Draw:
    return draw(pool_120, SPECS, SEED)


# The seats this seed gives the 120 applicants: a change here changes every published draw.
# fmt: off
GOLDEN_SELECTED = {
    "otwartosc": (8, 13, 14, 21, 25, 31, 34, 36, 37, 38, 50, 57, 62, 72, 77, 79, 95, 97, 102, 109, 112, 114, 116, 120),
    "aktywnosc": (1, 9, 10, 12, 20, 32, 39, 41, 42, 47, 49, 56, 61, 68, 78, 81, 82, 88, 92, 101, 107, 110, 115, 117),
    "przynaleznosc": (6, 19, 24, 27, 30, 35, 43, 51, 55, 63, 67, 69, 70, 73, 76, 80, 86, 94, 96, 98, 103, 105, 106, 113),
}
GOLDEN_RESERVE_HEAD = {
    "otwartosc": (3, 104, 66, 40, 7),
    "aktywnosc": (84, 90, 108, 11, 91),
    "przynaleznosc": (91, 15, 22, 53, 48),
}
# fmt: on


def test_120_applicants_fill_three_groups_of_24_within_the_quotas(golden: Draw, pool_120: list[Candidate]) -> None:
    meets_quotas(golden)
    assert golden.algorithm == "maximin" and golden.seed == SEED
    assert golden.library_version.startswith("0.12.") and golden.solver_version
    assert [group.code for group in golden.groups] == list(GROUPS)
    for group in golden.groups:
        assert group.lottery
        assert {group.code} <= {code for id_ in group.selected for code in _asked(pool_120, id_)}
        assert group.second_seats == () and group.notes == ()
    seated = [id_ for group in golden.groups for id_ in group.selected]
    assert len(seated) == len(set(seated)) == 72  # distinct people first: nobody needed a second seat


def test_golden_selection_for_the_pinned_seed(golden: Draw) -> None:
    assert {group.code: group.selected for group in golden.groups} == GOLDEN_SELECTED
    assert {group.code: group.reserve[:5] for group in golden.groups} == GOLDEN_RESERVE_HEAD


def test_reserve_and_selected_make_the_pool_and_probabilities_sum_to_the_seats(golden: Draw) -> None:
    for group in golden.groups:
        assert set(group.reserve) | set(group.selected) == set(group.pool)
        assert not set(group.reserve) & set(group.selected)
        assert len(group.reserve) == len(set(group.reserve))
        assert set(group.probabilities) == set(group.pool)
        assert all(0.0 <= p <= 1.0 for p in group.probabilities.values())
        assert sum(group.probabilities.values()) == pytest.approx(group.seats, abs=1e-6)


def test_people_seated_in_another_group_come_last_on_a_reserve_list(golden: Draw) -> None:
    for group in golden.groups:
        elsewhere = {id_ for other in golden.groups if other.code != group.code for id_ in other.selected}
        flags = [id_ in elsewhere for id_ in group.reserve]
        assert flags == sorted(flags)  # False (free) first, then True


def test_the_same_seed_draws_the_same_in_another_process(golden: Draw, pool_120: list[Candidate]) -> None:
    assert draw(pool_120, SPECS, SEED) == golden
    script = (
        "import json, sys\n"
        "from selection.draw import draw\n"
        "from tests.unit.test_selection_draw import SPECS, SEED, applicants\n"
        "d = draw(applicants(120), SPECS, SEED)\n"
        "print(json.dumps([[g.selected, g.reserve, sorted(g.probabilities.items())] for g in d.groups]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPOSITORY)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPOSITORY, check=True
    )
    again = json.loads(out.stdout)
    mine = [
        [list(g.selected), list(g.reserve), [list(i) for i in sorted(g.probabilities.items())]] for g in golden.groups
    ]
    assert again == mine


def test_another_seed_draws_differently(golden: Draw, pool_120: list[Candidate]) -> None:
    other = draw(pool_120, SPECS, SEED + 1)
    meets_quotas(other)
    assert [group.selected for group in other.groups] != [group.selected for group in golden.groups]


def test_a_renumbered_pool_in_the_same_order_draws_the_same_positions(golden: Draw, pool_120: list[Candidate]) -> None:
    renumbered = [replace(candidate, id=10_000 + 7 * n) for n, candidate in enumerate(pool_120)]
    shuffled = random.Random(1).sample(renumbered, len(renumbered))  # the order given does not matter either
    anonymous = draw(shuffled, SPECS, SEED)
    position = {candidate.id: n for n, candidate in enumerate(pool_120)}
    position_new = {candidate.id: n for n, candidate in enumerate(renumbered)}
    for before, after in zip(golden.groups, anonymous.groups, strict=True):
        assert [position[id_] for id_ in before.selected] == [position_new[id_] for id_ in after.selected]
        assert [position[id_] for id_ in before.reserve] == [position_new[id_] for id_ in after.reserve]


@pytest.mark.parametrize("seed", [0, -5, True])
def test_a_seed_that_is_not_positive_is_refused(seed: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        draw(applicants(30), SPECS[:1], seed)


def test_a_pool_no_larger_than_the_seats_all_take_a_seat() -> None:
    pool = [Candidate(n, "ngo" if n % 2 else "resident", ("otwartosc",)) for n in range(1, 21)]
    result = draw(pool, SPECS[:1], 7)
    (group,) = result.groups
    assert not group.lottery
    assert group.selected == tuple(range(1, 21)) and group.reserve == ()
    assert group.probabilities == dict.fromkeys(range(1, 21), 1.0)
    assert "20 applicants for 24 seats: everyone takes a seat, no lottery" in group.notes[0]
    assert "city_hall below its min 1 (0)" in group.notes[0]


def test_an_unmeetable_min_names_the_quota_and_the_count_and_what_to_relax() -> None:
    pool = [candidate for candidate in applicants(150) if candidate.sector != "city_hall"]
    with pytest.raises(QuotaInfeasible) as caught:
        draw(pool, SPECS, 11)
    assert caught.value.group == "otwartosc"
    assert "city_hall: at least 1 seat, but only 0 applicants in the pool" in caught.value.problems
    assert "lower city_hall's min from 1 to 0 in config/recruitment.yaml" in caught.value.relaxations
    assert "city_hall: at least 1 seat" in str(caught.value)


def test_maxima_too_low_for_the_seats_say_by_how_many() -> None:
    spec = GroupSpec("g", 10, {"ngo": Quota(0, 4), "resident": Quota(0, 3)})
    pool = [Candidate(n, "ngo" if n <= 8 else "resident", ("g",)) for n in range(1, 13)]
    problems, relaxations = quota_problems(spec, pool)
    assert problems == ["the maxima let at most 7 of the pool's 12 applicants take the 10 seats (3 short)"]
    assert relaxations == [
        "raise ngo's max from 4 to 7 in config/recruitment.yaml",
        "raise resident's max from 3 to 4 in config/recruitment.yaml",
        "lower g's seats from 10 to 7 in config/recruitment.yaml",
    ]
    with pytest.raises(QuotaInfeasible):
        draw(pool, [spec], 3)


def test_a_second_seat_only_for_the_quota_no_one_else_can_meet() -> None:
    # Both City Hall applicants want A and B; A needs both of them, B needs one: one takes a second seat.
    # The NGO people who asked for both groups and sit in A take no seat in B: B has enough NGO people.
    a = GroupSpec("a", 6, {"city_hall": Quota(2, 2), "ngo": Quota(0, 6)})
    b = GroupSpec("b", 6, {"city_hall": Quota(1, 3), "ngo": Quota(0, 6)})
    pool = [Candidate(1, "city_hall", ("a", "b")), Candidate(2, "city_hall", ("a", "b"))]
    pool += [Candidate(n, "ngo", ("a", "b")) for n in range(3, 9)]
    pool += [Candidate(n, "ngo", ("b",)) for n in range(9, 17)]
    result = draw(pool, [a, b], 5)
    group_a, group_b = result.groups
    assert {1, 2} <= set(group_a.selected)
    assert len(group_b.second_seats) == 1 and group_b.second_seats[0] in (1, 2)
    assert set(group_b.selected) - set(group_a.selected) == set(group_b.selected) - {group_b.second_seats[0]}
    assert "1 of the seats went to people already seated in an earlier group" in group_b.notes[0]
    assert result.extra["second_seat_limits"] == {"a": 0, "b": 1}
    assert group_b.reserve[-1] in group_a.selected  # seated elsewhere: after everyone without a seat


def test_second_seats_fill_a_group_with_too_few_people_free() -> None:
    a = GroupSpec("a", 4, {})
    b = GroupSpec("b", 6, {})
    pool = [Candidate(n, "resident", ("a", "b")) for n in range(1, 6)] + [
        Candidate(n, "resident", ("b",)) for n in range(6, 10)
    ]
    result = draw(pool, [a, b], 9)
    group_a, group_b = result.groups
    free = {6, 7, 8, 9} | ({1, 2, 3, 4, 5} - set(group_a.selected))
    assert len(free) == 5 and free <= set(group_b.selected)  # everyone free takes a seat first
    assert len(group_b.second_seats) == 1 and set(group_b.second_seats) <= set(group_a.selected)
    elsewhere = [candidate.id in group_a.selected for candidate in pool]
    assert second_seats_needed(b, pool, elsewhere) == 1


def test_the_untuned_library_finds_the_same_maximin_chance() -> None:
    pool = applicants(40, seed=3)
    spec = GroupSpec("otwartosc", 12, {"ngo": Quota(2, 4), "resident": Quota(2, 5), "city_hall": Quota(1, 2)})
    tuned = draw(pool, [spec], 17)
    untuned = draw(pool, [spec], 17, tuned=False)
    lowest = [min(result.groups[0].probabilities.values()) for result in (tuned, untuned)]
    assert lowest[0] == pytest.approx(lowest[1], abs=1e-3)
    assert untuned.extra["highs_adapter"] == "the library's own"


def test_without_the_library_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sortition_algorithms" else real(name, *a)
    )
    with pytest.raises(SelectionUnavailable, match=r'pip install -e "\.\[selection\]"'):
        draw(applicants(30), SPECS[:1], 1)


def _asked(pool: list[Candidate], id_: int) -> tuple[str, ...]:
    return next(candidate.groups for candidate in pool if candidate.id == id_)


def test_a_fractional_lp_solution_falls_back_to_the_ilp() -> None:
    # The tuned adapter solves the panels' ILP as its LP (exact for the draw's quotas); on a model that
    # is not totally unimodular (an odd cycle) it notices the fractional vertex and solves the ILP.
    script = (
        "from selection._child import tune_highs\n"
        "tune_highs()\n"
        "from sortition_algorithms.committee_generation.solver import SolverSense, create_solver\n"
        "from sortition_algorithms.utils import set_random_provider\n"
        "set_random_provider(3)\n"
        "s = create_solver('highspy')\n"
        "x = [s.add_binary_var() for _ in range(3)]\n"
        "for a, b in ((0, 1), (1, 2), (0, 2)):\n"
        "    s.add_constr(x[a] + x[b] <= 1)\n"
        "s.set_objective(x[0] + x[1] + x[2], SolverSense.MAXIMIZE)\n"
        "s.optimize()\n"
        "print(sorted(round(s.get_value(v)) for v in x))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[0, 0, 1]"
    assert "fractional panel: solving the ILP" in out.stderr


def test_the_child_prints_only_its_answer_and_passes_on_the_librarys_infeasibility() -> None:
    job = {
        "seed": 5,
        "seats": 4,
        "people": [[f"p{n}", "ngo", "no"] for n in range(6)],
        "quotas": [["ngo", 0, 4], ["city_hall", 1, 2]],
        "elsewhere_max": None,
    }
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(REPOSITORY)}
    out = subprocess.run(
        [sys.executable, "-m", "selection._child"], input=json.dumps(job), capture_output=True, text=True, env=env
    )
    answer = json.loads(out.stdout)  # nothing but the JSON: HiGHS' banner went elsewhere
    assert answer["status"] == "infeasible"
    assert ["sector", "city_hall", 0, 2] in answer["relaxed"]
    spec = GroupSpec("g", 4, {"ngo": Quota(0, 4), "city_hall": Quota(1, 2)})
    assert _library_relaxations(spec, answer["relaxed"]) == [
        "lower city_hall's min from 1 to 0 in config/recruitment.yaml"
    ]


def test_infeasibility_found_by_the_library_is_passed_on_in_staffs_words(monkeypatch: pytest.MonkeyPatch) -> None:
    import selection.draw

    answer = {"status": "infeasible", "lines": ["sector:ngo maximum target -> change from  8 to 10."]}
    answer["relaxed"] = [["sector", "ngo", 3, 10], ["sector", "city_hall", 1, 4]]
    monkeypatch.setattr(selection.draw, "run_child", lambda job: answer)
    with pytest.raises(QuotaInfeasible) as caught:
        draw(applicants(120), SPECS[:1], 4)
    assert caught.value.problems == [
        "the library finds no panel meeting the quotas (sector:ngo maximum target -> change from  8 to 10.)"
    ]
    assert caught.value.relaxations == ["raise ngo's max from 8 to 10 in config/recruitment.yaml"]

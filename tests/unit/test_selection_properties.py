"""Properties of the working groups' draw on small random pools: seats and quotas hold, nobody is seated
in a group they did not ask for, chances are probabilities summing to the seats, reserve ∪ seats = pool."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from selection.draw import draw, quota_problems, second_seats_needed
from selection.model import Candidate, GroupSpec, Quota, QuotaInfeasible
from tests.support.extras import require_selection

require_selection()  # skipped without the extra, a failure in CI

SECTORS = ("ngo", "resident", "city_hall")
GROUPS = ("a", "b")


@st.composite
def calls(draw_: st.DrawFn) -> tuple[list[Candidate], list[GroupSpec], int]:
    count = draw_(st.integers(min_value=8, max_value=36))
    candidates = [
        Candidate(
            id=draw_(st.integers(min_value=1, max_value=9)) + 10 * n,  # increasing, with gaps
            sector=draw_(st.sampled_from(SECTORS)),
            groups=tuple(draw_(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True))),
        )
        for n in range(count)
    ]
    specs = []
    for code in GROUPS:
        seats = draw_(st.integers(min_value=3, max_value=8))
        quotas = {}
        for sector in draw_(st.lists(st.sampled_from(SECTORS), max_size=3, unique=True)):
            low = draw_(st.integers(min_value=0, max_value=1))
            quotas[sector] = Quota(low, draw_(st.integers(min_value=max(low, 1), max_value=seats)))
        specs.append(GroupSpec(code, seats, quotas))
    return candidates, specs, draw_(st.integers(min_value=1, max_value=2**31))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_the_draw_keeps_seats_quotas_and_pools(call: tuple[list[Candidate], list[GroupSpec], int]) -> None:
    candidates, specs, seed = call
    refused: QuotaInfeasible | None = None
    try:
        result = draw(candidates, specs, seed)
    except QuotaInfeasible as error:
        refused = error
    if refused is not None:  # only when the group's whole pool cannot meet its quotas
        event("infeasible")
        spec = next(spec for spec in specs if spec.code == refused.group)
        pool = [candidate for candidate in candidates if spec.code in candidate.groups]
        assert refused.problems and quota_problems(spec, pool)[0]
        return
    event("drawn")
    sector_of = {candidate.id: candidate.sector for candidate in candidates}
    for spec, group in zip(specs, result.groups, strict=True):
        pool = {candidate.id for candidate in candidates if spec.code in candidate.groups}
        assert set(group.pool) == pool
        assert set(group.selected) <= pool and set(group.reserve) | set(group.selected) == pool
        assert not set(group.reserve) & set(group.selected)
        assert all(0.0 <= p <= 1.0 for p in group.probabilities.values())
        if group.lottery:
            assert len(group.selected) == spec.seats
            counts = Counter(sector_of[id_] for id_ in group.selected)
            for sector, quota in spec.quotas.items():
                assert quota.min <= counts[sector] <= quota.max
            assert sum(group.probabilities.values()) == pytest.approx(spec.seats, abs=1e-6)
        else:
            assert set(group.selected) == pool and len(pool) <= spec.seats
    first, second = result.groups
    # A second seat only for someone seated in the first group, and only as many as the group needed.
    assert set(second.second_seats) <= set(first.selected) & set(second.selected)
    assert first.second_seats == ()
    if second.lottery:
        pool = [candidate for candidate in candidates if "b" in candidate.groups]
        needed = second_seats_needed(specs[1], pool, [candidate.id in first.selected for candidate in pool])
        assert len(second.second_seats) == needed

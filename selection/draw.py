"""The working groups' draw: per group, a maximin stratified lottery (sortition-algorithms, HiGHS).

`draw(candidates, groups, seed)` gives a `Draw`: for each group, in the order given, the seats, a
ranked reserve list and every pool member's chance of a seat. The rules, in short:

- The pool of a group is everyone who asked for it. A pool no larger than the seats all take a seat
  (no lottery, probability 1). Otherwise the library draws `seats` people meeting the group's sector
  quotas (a sector the group leaves out has no limit) from a maximin distribution over panels: one
  that makes the smallest chance of a seat anyone in the pool has as large as it can be.
- Distinct people first: groups are drawn in order, and someone seated in an earlier group takes a
  second seat only where the group cannot otherwise be filled or meet its quotas. The library sees
  them with a feature `seated_elsewhere` whose `yes` is capped at the fewest second seats that make
  the quotas feasible (raised one at a time only if the library still finds them infeasible), so
  nobody takes a second seat while places last; they are `second_seats`, with a note for staff.
- The reserve list (every pool member not seated in the group) is ranked by first appearance in
  panels sampled from the same distribution with `random.Random(f"{seed}/{group}")`, people who never
  appear shuffled after them by the same generator; people who hold a seat in another group come after
  everyone without one.
- Reproducible: the same seed and data give the same `Draw`, in any process. The library keeps people
  and panels in hash-ordered sets, so its work runs in a child process with PYTHONHASHSEED=0
  (`selection._child`); it sees people as "p<position in the pool>" (the pool ordered by id), so the
  result depends on the order of the ids, not their values: a renumbered, anonymised copy of the pool
  in the same order draws the same positions. The library's seed for a group is derived from the seed
  and the group's code (`library_seed`), so groups do not share a random stream.
- Quotas no panel can meet raise `QuotaInfeasible` naming the quota, by how many, and what staff could
  relax in config/recruitment.yaml: checked here first, and from the library's own answer otherwise.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selection.model import (
    Candidate,
    Draw,
    GroupDraw,
    GroupSpec,
    Quota,
    QuotaInfeasible,
    SelectionUnavailable,
)

ALGORITHM = "maximin"
LIBRARY = "sortition-algorithms"
SOLVER = "highspy"
CONFIG = "config/recruitment.yaml"
# How many panels the reserve list samples at most before shuffling whoever never appeared.
RESERVE_SAMPLES = 20_000
HIGHS_ADAPTER = (
    "tuned (selection/_child.py, tune_highs): one solve per objective, the panels' ILP as its LP (totally "
    "unimodular: exact, checked), the solution read once; the library's maximin optimum"
)


@dataclass(frozen=True, slots=True)
class _Lottery:
    """One group's answer from the library, in pool positions."""

    panels: list[list[int]]
    probabilities: list[float]
    selected: list[int]
    second_seat_limit: int  # how many people seated elsewhere the library could seat (0 usually)


def library_versions() -> tuple[str, str]:
    """sortition-algorithms' and highspy's installed versions; `SelectionUnavailable` without them."""
    if importlib.util.find_spec("sortition_algorithms") is None or importlib.util.find_spec("highspy") is None:
        raise SelectionUnavailable()
    try:
        return importlib.metadata.version(LIBRARY), importlib.metadata.version(SOLVER)
    except importlib.metadata.PackageNotFoundError as error:  # pragma: no cover - importable, not installed
        raise SelectionUnavailable(str(error)) from error


def library_seed(seed: int, group: str) -> int:
    """The library's seed for one group: from the draw's seed and the group's code, never 0."""
    digest = hashlib.sha256(f"{seed}/{group}/library".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 2) + 1


def draw(candidates: Sequence[Candidate], groups: Sequence[GroupSpec], seed: int, *, tuned: bool = True) -> Draw:
    """Draws every group in order (see the module's docstring); `tuned=False` runs the library's own
    HiGHS adapter untouched (~10-20x slower on pools of hundreds; the same maximin optimum, possibly
    another optimal distribution, so another draw for the same seed: the `Draw` records which ran)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed <= 0:
        raise ValueError(f"the seed must be a positive integer (got {seed!r}): 0 would make the library draw unseeded")
    library_version, solver_version = library_versions()
    ordered = tuple(sorted(candidates, key=lambda candidate: candidate.id))
    ids = [candidate.id for candidate in ordered]
    if len(set(ids)) != len(ids):
        repeated = sorted(id_ for id_, n in Counter(ids).items() if n > 1)
        raise ValueError(f"a candidate appears more than once: {repeated}")
    codes = [spec.code for spec in groups]
    if len(set(codes)) != len(codes):
        raise ValueError(f"a group appears more than once: {codes}")
    for spec in groups:
        if spec.seats <= 0:
            raise ValueError(f"group {spec.code}: seats must be positive (got {spec.seats})")
        for sector, quota in spec.quotas.items():
            if not 0 <= quota.min <= quota.max:
                raise ValueError(f"group {spec.code}: {sector}'s quota needs 0 <= min <= max (got {quota})")

    seated: dict[int, list[str]] = {}  # id -> the groups where they hold a seat, so far
    drawn: list[tuple[GroupSpec, tuple[Candidate, ...], _Lottery | None, GroupDraw]] = []
    for spec in groups:
        pool = tuple(candidate for candidate in ordered if spec.code in candidate.groups)
        elsewhere = [candidate.id in seated for candidate in pool]
        notes: list[str] = []
        lottery: _Lottery | None = None
        if len(pool) <= spec.seats:
            selected = [candidate.id for candidate in pool]
            probabilities = dict.fromkeys(selected, 1.0)
            notes.append(
                f"{len(pool)} applicants for {spec.seats} seats: everyone takes a seat, no lottery"
                + "".join(f"; {gap}" for gap in _quota_gaps(spec, pool))
            )
        else:
            lottery = _draw_group(spec, pool, elsewhere, library_seed(seed, spec.code), tuned)
            selected = [pool[n].id for n in lottery.selected]
            chances = [0.0] * len(pool)
            for panel, probability in zip(lottery.panels, lottery.probabilities, strict=True):
                for n in panel:
                    chances[n] += probability
            probabilities = {
                candidate.id: round(min(1.0, max(0.0, p)), 12) for candidate, p in zip(pool, chances, strict=True)
            }
        second = tuple(sorted(id_ for id_ in selected if id_ in seated))
        if second:
            notes.append(
                f"{len(second)} of the seats went to people already seated in an earlier group "
                f"({', '.join(f'Z-{id_}' for id_ in second)}): the group could not be filled or meet its quotas "
                "otherwise"
            )
        for id_ in selected:
            seated.setdefault(id_, []).append(spec.code)
        result = GroupDraw(
            code=spec.code,
            seats=spec.seats,
            pool=tuple(candidate.id for candidate in pool),
            selected=tuple(sorted(selected)),
            reserve=(),
            probabilities=probabilities,
            lottery=lottery is not None,
            second_seats=second,
            notes=tuple(notes),
        )
        drawn.append((spec, pool, lottery, result))

    results = []
    for spec, pool, lottery, result in drawn:
        chosen = set(result.selected)
        reserve = _reserve(seed, spec.code, pool, lottery, chosen)
        holding = [id_ for id_ in reserve if any(code != spec.code for code in seated.get(id_, []))]
        free = [id_ for id_ in reserve if not any(code != spec.code for code in seated.get(id_, []))]
        results.append(_with_reserve(result, tuple(free + holding)))

    extra: dict[str, Any] = {
        "library_seeds": {spec.code: library_seed(seed, spec.code) for spec, _, lottery, _ in drawn if lottery},
        "second_seat_limits": {spec.code: lottery.second_seat_limit for spec, _, lottery, _ in drawn if lottery},
        "panels": {spec.code: len(lottery.panels) for spec, _, lottery, _ in drawn if lottery},
        "highs_adapter": HIGHS_ADAPTER if tuned else "the library's own",
    }
    return Draw(
        seed=seed,
        algorithm=ALGORITHM,
        library_version=library_version,
        solver_version=solver_version,
        groups=tuple(results),
        specs=tuple(groups),
        candidates=ordered,
        extra=extra,
    )


def _with_reserve(result: GroupDraw, reserve: tuple[int, ...]) -> GroupDraw:
    return GroupDraw(
        code=result.code,
        seats=result.seats,
        pool=result.pool,
        selected=result.selected,
        reserve=reserve,
        probabilities=result.probabilities,
        lottery=result.lottery,
        second_seats=result.second_seats,
        notes=result.notes,
    )


def _quotas(spec: GroupSpec, pool: Sequence[Candidate]) -> dict[str, Quota]:
    """The group's quotas, with every sector of the pool the group leaves out free (0 to all seats)."""
    quotas = dict(spec.quotas)
    for sector in sorted({candidate.sector for candidate in pool} - set(quotas)):
        quotas[sector] = Quota(0, spec.seats)
    return quotas


def _quota_gaps(spec: GroupSpec, pool: Sequence[Candidate]) -> list[str]:
    """When everyone takes a seat: the quotas the group then misses, for staff's note."""
    counts = Counter(candidate.sector for candidate in pool)
    gaps = []
    for sector, quota in spec.quotas.items():
        if counts[sector] < quota.min:
            gaps.append(f"{sector} below its min {quota.min} ({counts[sector]})")
        elif counts[sector] > quota.max:
            gaps.append(f"{sector} above its max {quota.max} ({counts[sector]})")
    return gaps


def second_seats_needed(spec: GroupSpec, pool: Sequence[Candidate], elsewhere: Sequence[bool]) -> int | None:
    """The fewest people seated elsewhere a panel of this pool must hold to meet the quotas, or None
    when even all of them would not do. With sector the only feature this is exact: the quotas can be
    met with at most k of them iff every min is reachable and the seats can be filled within the maxima.
    """
    quotas = _quotas(spec, pool)
    fresh = Counter(candidate.sector for candidate, other in zip(pool, elsewhere, strict=True) if not other)
    others = Counter(candidate.sector for candidate, other in zip(pool, elsewhere, strict=True) if other)
    if sum(quota.min for quota in quotas.values()) > spec.seats:
        return None
    if any(quota.min > fresh[sector] + others[sector] for sector, quota in quotas.items()):
        return None
    if sum(min(quota.max, fresh[sector] + others[sector]) for sector, quota in quotas.items()) < spec.seats:
        return None
    for_minimums = sum(max(0, quota.min - fresh[sector]) for sector, quota in quotas.items())
    fresh_capacity = sum(min(quota.max, fresh[sector]) for sector, quota in quotas.items())
    return max(for_minimums, spec.seats - fresh_capacity, 0)


def quota_problems(spec: GroupSpec, pool: Sequence[Candidate]) -> tuple[list[str], list[str]]:
    """Why no panel of the whole pool meets the group's quotas, and what staff could relax (empty: it can)."""
    counts = Counter(candidate.sector for candidate in pool)
    quotas = _quotas(spec, pool)
    problems: list[str] = []
    relaxations: list[str] = []
    minimums = sum(quota.min for quota in quotas.values())
    if minimums > spec.seats:
        problems.append(f"the minimums add up to {minimums}, more than the {spec.seats} seats")
        relaxations.append(f"lower the minimums of {spec.code} by {minimums - spec.seats} in all in {CONFIG}")
    for sector, quota in quotas.items():
        if quota.min > counts[sector]:
            problems.append(
                f"{sector}: at least {quota.min} {_seats(quota.min)}, but only {counts[sector]} "
                f"{_applicants(counts[sector])} in the pool"
            )
            relaxations.append(f"lower {sector}'s min from {quota.min} to {counts[sector]} in {CONFIG}")
    capacity = sum(min(quota.max, counts[sector]) for sector, quota in quotas.items())
    if capacity < spec.seats:
        short = spec.seats - capacity
        problems.append(
            f"the maxima let at most {capacity} of the pool's {len(pool)} applicants take the {spec.seats} seats "
            f"({short} short)"
        )
        for sector, quota in quotas.items():
            if counts[sector] > quota.max:
                raised = min(counts[sector], quota.max + short)
                relaxations.append(f"raise {sector}'s max from {quota.max} to {raised} in {CONFIG}")
        relaxations.append(f"lower {spec.code}'s seats from {spec.seats} to {capacity} in {CONFIG}")
    return problems, relaxations


def _seats(n: int) -> str:
    return "seat" if n == 1 else "seats"


def _applicants(n: int) -> str:
    return "applicant" if n == 1 else "applicants"


def _draw_group(
    spec: GroupSpec, pool: Sequence[Candidate], elsewhere: Sequence[bool], seed: int, tuned: bool
) -> _Lottery:
    """The library's maximin draw for a pool larger than the seats, with as few second seats as can be."""
    needed = second_seats_needed(spec, pool, elsewhere)
    if needed is None:
        problems, relaxations = quota_problems(spec, pool)
        raise QuotaInfeasible(spec.code, problems, relaxations)
    quotas = _quotas(spec, pool)
    available = sum(elsewhere)
    limit = needed
    while True:
        # With no second seat allowed, the people seated elsewhere are simply left out: the same as a
        # `seated_elsewhere: yes` capped at 0, without the library's work for people it cannot seat.
        members = [n for n, other in enumerate(elsewhere) if limit > 0 or not other]
        job = {
            "seed": seed,
            "seats": spec.seats,
            "people": [[f"p{n}", pool[n].sector, "yes" if elsewhere[n] else "no"] for n in members],
            "quotas": [[sector, quota.min, quota.max] for sector, quota in quotas.items()],
            "elsewhere_max": limit if limit > 0 else None,
            "tuned": tuned,
        }
        answer = run_child(job)
        if answer["status"] == "ok":
            return _Lottery(
                panels=[[int(key[1:]) for key in panel] for panel in answer["panels"]],
                probabilities=[float(p) for p in answer["probabilities"]],
                selected=[int(key[1:]) for key in answer["selected"]],
                second_seat_limit=limit,
            )
        if limit < available:
            limit += 1
            continue
        problems, relaxations = quota_problems(spec, pool)  # empty: the check above found them feasible
        library_said = "; ".join(str(line).strip() for line in answer["lines"])
        problems = problems or [f"the library finds no panel meeting the quotas ({library_said})"]
        raise QuotaInfeasible(spec.code, problems, _library_relaxations(spec, answer["relaxed"]) or relaxations)


def _library_relaxations(spec: GroupSpec, relaxed: Sequence[Sequence[Any]]) -> list[str]:
    """The library's suggested quotas, in staff's words."""
    out = []
    for feature, sector, low, high in relaxed:
        if feature != "sector" or sector not in spec.quotas:
            continue
        quota = spec.quotas[sector]
        if low < quota.min:
            out.append(f"lower {sector}'s min from {quota.min} to {low} in {CONFIG}")
        if high > quota.max:
            out.append(f"raise {sector}'s max from {quota.max} to {high} in {CONFIG}")
    return out


def run_child(job: Mapping[str, Any]) -> dict[str, Any]:
    """Runs one job in `python -m selection._child` with PYTHONHASHSEED=0 and returns its answer."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    completed = subprocess.run(
        [sys.executable, "-m", "selection._child"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the draw's child process failed ({completed.returncode}): {completed.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(completed.stdout)
    if answer["status"] == "unavailable":
        raise SelectionUnavailable(answer["error"])
    return answer


def _reserve(seed: int, group: str, pool: Sequence[Candidate], lottery: _Lottery | None, chosen: set[int]) -> list[int]:
    """Every pool member without a seat here, ranked by first appearance in panels sampled from the
    group's distribution (`random.Random(f"{seed}/{group}")`); those who never appear, shuffled, after."""
    if lottery is None:
        return []
    rng = random.Random(f"{seed}/{group}")  # noqa: S311 - a reproducible draw, not a secret
    waiting = {n for n, candidate in enumerate(pool) if candidate.id not in chosen}
    ranked: list[int] = []
    reachable = waiting & {n for panel in lottery.panels for n in panel}
    indices = range(len(lottery.panels))
    samples = 0
    while reachable and samples < RESERVE_SAMPLES:
        (index,) = rng.choices(indices, weights=lottery.probabilities)
        samples += 1
        new = [n for n in lottery.panels[index] if n in reachable]
        rng.shuffle(new)
        ranked.extend(new)
        reachable.difference_update(new)
    rest = sorted(waiting - set(ranked))
    rng.shuffle(rest)
    return [pool[n].id for n in ranked + rest]

"""Benchmark: the working groups' draw on 1,000 synthetic applicants, beside a draw of 120 in the same run.

Three groups of 24 with the quotas of config/recruitment.yaml; the applicants' sectors skewed as a real
call's (residents and NGOs many, City Hall few), most asking for one group, some for two or three.
Times one full selection with its reserve lists (aim: <= 30 s on a 2-core machine) and prints the
ratio to the 120-applicant draw, with each group's pool.

Usage: `python -m bench.selection [--applicants 1000] [--small 120] [--seed 20271008] [--untuned]`
(`--untuned` also times the library's own HiGHS adapter, untouched: over a minute more).
Needs the extra: pip install -e ".[selection]".
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import yaml

from selection.draw import draw
from selection.model import Candidate, Draw, GroupSpec, Quota

ROOT = Path(__file__).resolve().parent.parent
CALL = ROOT / "config" / "recruitment.yaml"
DATA_SEED = 2027  # the synthetic applicants, fixed
# A call's skew: residents and NGOs many, the offices few; how many groups each one asks for.
SECTOR_WEIGHTS = {
    "ngo": 28,
    "informal": 12,
    "resident": 38,
    "district_office": 8,
    "city_institution": 9,
    "city_hall": 5,
}
GROUPS_WANTED = {1: 70, 2: 20, 3: 10}
GROUP_WEIGHTS = (40, 35, 25)  # the first area draws the most applicants


def specs() -> list[GroupSpec]:
    """The groups, seats and quotas of config/recruitment.yaml."""
    call = yaml.safe_load(CALL.read_text(encoding="utf-8"))
    quotas = call.get("quotas", {})
    return [
        GroupSpec(
            code=group["code"],
            seats=int(group["seats"]),
            quotas={sector: Quota(int(q["min"]), int(q["max"])) for sector, q in quotas.get(group["code"], {}).items()},
        )
        for group in call["groups"]
    ]


def applicants(count: int, codes: list[str]) -> list[Candidate]:
    """`count` synthetic applicants, the same for the same count."""
    rng = random.Random(DATA_SEED)
    sectors, weights = list(SECTOR_WEIGHTS), list(SECTOR_WEIGHTS.values())
    out = []
    for n in range(count):
        wanted = rng.choices(list(GROUPS_WANTED), weights=list(GROUPS_WANTED.values()))[0]
        groups: list[str] = []
        while len(groups) < wanted:
            code = rng.choices(codes, weights=GROUP_WEIGHTS[: len(codes)])[0]
            if code not in groups:
                groups.append(code)
        out.append(Candidate(id=n + 1, sector=rng.choices(sectors, weights=weights)[0], groups=tuple(groups)))
    return out


def timed(candidates: list[Candidate], groups: list[GroupSpec], seed: int, *, tuned: bool = True) -> tuple[Draw, float]:
    started = time.perf_counter()
    result = draw(candidates, groups, seed, tuned=tuned)
    return result, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------------
# THE DECISIONS: TO BE ADDED (not built here). Someone adds the sending of the decisions after the
# draw: seats, reserve places and "not selected" notices queued for the applicants of `result`, timed
# beside the draw. Until then this does nothing and the benchmark times the draw alone.
# ---------------------------------------------------------------------------------------------------
def send_decisions(result: Draw) -> float | None:
    """The decisions for everyone in `result`: to be added. Returns its seconds, None while absent."""
    return None


def describe(name: str, result: Draw, seconds: float) -> None:
    pools = ", ".join(f"{group.code} {len(group.pool)}" for group in result.groups)
    second = sum(len(group.second_seats) for group in result.groups)
    print(
        f"{name:>22} {len(result.candidates):>10} {seconds:>8.2f}   pools: {pools}; second seats: {second}; "
        f"reserves: {sum(len(group.reserve) for group in result.groups)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--applicants", type=int, default=1000)
    parser.add_argument("--small", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20271008)
    parser.add_argument("--untuned", action="store_true", help="also time the library's own HiGHS adapter")
    args = parser.parse_args()
    groups = specs()
    codes = [spec.code for spec in groups]
    big = applicants(args.applicants, codes)
    small = applicants(args.small, codes)

    small_draw, small_seconds = timed(small, groups, args.seed)
    big_draw, big_seconds = timed(big, groups, args.seed)
    print(f"\nThe working groups' draw: {len(groups)} groups, {sum(s.seats for s in groups)} seats, maximin")
    print(f"{'':>22} {'applicants':>10} {'seconds':>8}")
    describe("small call", small_draw, small_seconds)
    describe("full call", big_draw, big_seconds)
    if args.untuned:
        untuned_draw, untuned_seconds = timed(big, groups, args.seed, tuned=False)
        describe("full, library's HiGHS", untuned_draw, untuned_seconds)
        print(f"\nthe library's own HiGHS adapter / ours: {untuned_seconds / big_seconds:.2f}")
    big_pool = sum(len(group.pool) for group in big_draw.groups)
    small_pool = sum(len(group.pool) for group in small_draw.groups)
    print(
        f"\nfull / small time: {big_seconds / small_seconds:.2f} for {big_pool / small_pool:.2f}x the pool "
        f"({big_seconds / big_pool * 1000:.1f} vs {small_seconds / small_pool * 1000:.1f} ms per pool member)"
    )
    print(f"full call with reserves: {big_seconds:.2f} s (aim: <= 30 s)")
    decisions = send_decisions(big_draw)
    if decisions is not None:
        print(f"decisions: {decisions:.2f} s")


if __name__ == "__main__":
    main()

"""The library's work for one group's draw, in a child process started by `selection.draw`.

Run as `python -m selection._child` with PYTHONHASHSEED=0 (the library keeps panels and people in
hash-ordered sets): one JSON job on stdin, one JSON answer on the original stdout. Everything else
the library or HiGHS print goes to /dev/null, so the answer is the only thing on stdout.

The job: {"seed": int, "seats": int, "people": [[key, sector, "yes"|"no"], ...] (keys "p<position>"),
"quotas": [[sector, min, max], ...] (every sector present in `people`), "elsewhere_max": int | null,
"tuned": bool (default true: see `tune_highs`)}.
The answer: {"status": "ok", "panels": [[key, ...], ...], "probabilities": [float, ...],
"selected": [key, ...]}, {"status": "infeasible", "lines": [str, ...],
"relaxed": [[feature, value, min, max], ...]} (the library's suggestion) or {"status": "unavailable",
"error": str}.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any


def tune_highs() -> None:
    """Changes to the library's HiGHS adapter that keep its algorithm and its optimum, about 10x faster.

    - One solve per objective: `HighsSolver.set_objective` called highspy's `maximize()`/`minimize()`,
      which set the objective *and solve*, and the library then calls `optimize()`, which solves again.
      Here the objective is only set.
    - The panels' ILP as its LP: one 0/1 variable per person, one row for the seats, one per quota's
      value (sector, seated_elsewhere). Those rows are two laminar families (a partition each, the seats'
      row with the sectors), so the matrix is totally unimodular and a simplex vertex is a 0/1 panel:
      the LP (simplex, no presolve) finds an optimal panel as the ILP does, ~30x faster. After every
      solve the values are checked; should one be fractional, those variables become integers again
      and the model is solved as the ILP.
    - The solution is read once per solve rather than person by person.

    The maximin optimum (the smallest chance anyone has) is the library's; among optimal distributions,
    ties may fall differently than with the adapter untouched (the tests compare the two).
    """
    import highspy
    import numpy as np
    from sortition_algorithms.committee_generation import solver

    original_optimize = solver.HighsSolver.optimize
    continuous = highspy.HighsVarType.kContinuous

    def add_binary_var(self: Any, name: str = "") -> Any:
        if not hasattr(self, "_binaries"):
            self._binaries = []
            self._h.setOptionValue("presolve", "off")
            self._h.setOptionValue("solver", "simplex")
        var = self._h.addVariable(lb=0.0, ub=1.0, type=continuous)
        self._binaries.append(var.index)
        if name:
            self._var_names[name] = var
        return var

    def set_objective(self: Any, expr: Any, sense: Any) -> None:
        self._objective_sense = sense
        maximize = sense == solver.SolverSense.MAXIMIZE
        self._h.setObjective(expr, highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize)

    def optimize(self: Any) -> Any:
        self._values = None
        status = original_optimize(self)
        binaries = getattr(self, "_binaries", ())
        if binaries and status in (solver.SolverStatus.OPTIMAL, solver.SolverStatus.FEASIBLE):
            values = self._h.getSolution().col_value
            if any(1e-9 < values[i] < 1 - 1e-9 for i in binaries):
                print("selection: a fractional panel: solving the ILP", file=sys.stderr)
                index = np.array(binaries, dtype=np.int32)
                kinds = np.array([highspy.HighsVarType.kInteger] * len(binaries))
                self._h.changeColsIntegrality(len(binaries), index, kinds)
                self._binaries = []
                status = original_optimize(self)
        if status in (solver.SolverStatus.OPTIMAL, solver.SolverStatus.FEASIBLE):
            self._values = list(self._h.getSolution().col_value)
        return status

    def get_value(self: Any, var: Any) -> float:
        values = getattr(self, "_values", None)
        if values is not None and isinstance(var, highspy.highs_var) and var.index < len(values):
            return float(values[var.index])
        return float(self._h.val(var))

    solver.HighsSolver.add_binary_var = add_binary_var  # type: ignore[method-assign]
    solver.HighsSolver.set_objective = set_objective  # type: ignore[method-assign]
    solver.HighsSolver.optimize = optimize  # type: ignore[method-assign]
    solver.HighsSolver.get_value = get_value  # type: ignore[method-assign]


def run(job: dict[str, Any]) -> dict[str, Any]:
    """One maximin draw: the distribution over panels, its marginals' panels, and the panel drawn."""
    try:
        from sortition_algorithms import InfeasibleQuotasCantRelaxError, InfeasibleQuotasError
        from sortition_algorithms.committee_generation import find_distribution_maximin, standardize_distribution
        from sortition_algorithms.core import lottery_rounding
        from sortition_algorithms.features import FeatureValueMinMax, set_default_max_flex
        from sortition_algorithms.people import People
        from sortition_algorithms.utils import set_random_provider
    except ImportError as error:  # pragma: no cover - the parent checks first
        return {"status": "unavailable", "error": str(error)}

    logging.disable(logging.CRITICAL)
    if job.get("tuned", True):
        tune_highs()
    seats: int = job["seats"]
    features: dict[str, Any] = {
        "sector": {sector: FeatureValueMinMax(min=low, max=high) for sector, low, high in job["quotas"]}
    }
    elsewhere_max = job.get("elsewhere_max")
    if elsewhere_max is not None:
        features["seated_elsewhere"] = {
            "no": FeatureValueMinMax(min=0, max=seats),
            "yes": FeatureValueMinMax(min=0, max=elsewhere_max),
        }
    set_default_max_flex(features)  # as the library's own reader does: how far a max may be raised
    people = People(columns_to_keep=[])
    for row, (key, sector, elsewhere) in enumerate(job["people"], start=1):
        people.add(key, {"sector": sector, "seated_elsewhere": elsewhere}, features, row)

    # The seed drives the library's multiplicative weights, HiGHS' own seed and the lottery's rounding.
    set_random_provider(job["seed"])
    try:
        panels, probabilities, _report = find_distribution_maximin(features, people, seats, [], "highspy")
    except InfeasibleQuotasError as error:
        relaxed = [
            [feature, value, limits.min, limits.max]
            for feature, values in error.features.items()
            for value, limits in values.items()
        ]
        return {"status": "infeasible", "lines": [str(line) for line in error.all_lines[1:]], "relaxed": relaxed}
    except InfeasibleQuotasCantRelaxError as error:
        return {"status": "infeasible", "lines": [str(error)], "relaxed": []}
    panels, probabilities = standardize_distribution(panels, probabilities)
    (chosen,) = lottery_rounding(panels, probabilities, 1)
    order = {key: n for n, (key, _, _) in enumerate(job["people"])}

    def ranked(panel: frozenset[str]) -> list[str]:
        return sorted(panel, key=order.__getitem__)

    return {
        "status": "ok",
        "panels": [ranked(panel) for panel in panels],
        "probabilities": probabilities,
        "selected": ranked(chosen),
    }


def main() -> None:
    job = json.loads(sys.stdin.read())
    answer_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # HiGHS' banner and any print: not on our answer's stream
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    answer = run(job)
    with os.fdopen(answer_fd, "w") as out:
        json.dump(answer, out)


if __name__ == "__main__":
    main()

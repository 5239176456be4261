"""Who answered against who lives here: each margin's shares (district, age band) beside the residents',
the groups most missing now, the dissimilarity index, and post-stratification weights by raking.

The base of a margin is the completed submissions that answered its question with one of its categories;
an answer that says the person lives elsewhere (the margin's `outside` codes: outside_warsaw) and an
answer that is not a category (prefer_not), or none, are left out and counted apart.

Raking (iterative proportional fitting, Deming and Stephan 1940) is written here rather than taken from a
library: `ipfn` (MIT, last release 2021) and `samplics` both bring pandas (samplics also polars, pyarrow
and statsmodels, some 300 MB) for what is, over at most a few hundred cells, forty lines of arithmetic;
neither trims weights the way this needs. The weights are computed per cell (a combination of categories):
everyone in a cell gets the same weight, so the work does not grow with the number of submissions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from handlers.definitions.population import Margin, Population
from storage.exports import SubmissionFilter
from storage.margins import MarginCounts, count_margin_answers, read_margin_answers
from storage.repository import Store

MOST_MISSING = 3  # how many groups the field teams are told about
DEFAULT_CAP = 5.0  # weights are kept within [1/cap, cap] times the mean weight (trimming)


@dataclass(frozen=True, slots=True)
class Category:
    """One group of residents (a district, an age band): who answered against who lives here."""

    code: str
    respondents: int
    residents: int
    respondent_share: float  # of the margin's base
    resident_share: float  # of the residents in the margin's categories
    expected: float  # respondents expected at the residents' share: base × resident_share

    @property
    def gap(self) -> float:
        """Respondents beyond (+) or short of (−) the expected count."""
        return self.respondents - self.expected

    @property
    def residual(self) -> float:
        """The gap in standard errors of a count, (O − E) / √E (a Pearson residual): how far beyond chance
        the group is missing, comparable between a large district and a small one."""
        return self.gap / math.sqrt(self.expected) if self.expected > 0 else 0.0


@dataclass(frozen=True, slots=True)
class MarginComparison:
    """One margin (district or age band) compared: its categories in the population file's order."""

    name: str
    question: str
    categories: tuple[Category, ...]
    base: int  # completed submissions with one of the margin's categories
    outside: int  # said they live elsewhere (outside_warsaw): left out
    not_given: int  # skipped, not asked, or an answer that is no category (prefer_not): left out

    @property
    def dissimilarity(self) -> float | None:
        """The index of dissimilarity, ½ Σ |r_i − p_i|: the share of respondents who would have to be in
        another category for the respondents to look like the residents (0 alike, 1 wholly apart);
        None before anyone answered."""
        if not self.base:
            return None
        return sum(abs(c.respondent_share - c.resident_share) for c in self.categories) / 2

    def missing(self) -> list[Category]:
        """The categories short of their expected count by one person or more, most missing first."""
        return sorted(
            (c for c in self.categories if c.expected - c.respondents >= 1 and round(c.expected) >= 1),
            key=lambda c: (c.residual, c.gap, c.code),
        )


@dataclass(frozen=True, slots=True)
class Representation:
    """Every margin the population file has figures for, compared with the completed submissions."""

    completed: int
    source: str
    date: dt.date
    margins: tuple[MarginComparison, ...]

    def most_missing(self, count: int = MOST_MISSING) -> list[tuple[MarginComparison, Category]]:
        """The groups most under-represented now, over every margin: ranked by how far below their expected
        count they are beyond chance (the Pearson residual), so a small district with none is named before a
        large one a few short."""
        found = [(margin, category) for margin in self.margins for category in margin.missing()]
        found.sort(key=lambda mc: (mc[1].residual, mc[1].gap, mc[0].name, mc[1].code))
        return found[:count]


def compare(people: Mapping[int, Mapping[str, str]], population: Population) -> Representation:
    """Compares submissions' answers (by submission: question code → picked option) with the residents."""
    picked: dict[str, Counter[str]] = {}
    for margin in population.present_margins().values():
        picked[margin.question] = Counter(
            code for answers in people.values() if (code := answers.get(margin.question)) is not None
        )
    return compare_counts(MarginCounts(len(people), picked), population)


def compare_counts(counts: MarginCounts, population: Population) -> Representation:
    """Compares how many submissions picked each option of the margins' questions with the residents."""
    margins = tuple(
        _compare_margin(name, margin, counts.submissions, counts.picked.get(margin.question, Counter()))
        for name, margin in population.present_margins().items()
    )
    return Representation(counts.submissions, population.source, population.date, margins)


def _compare_margin(name: str, margin: Margin, submissions: int, picked: Counter[str]) -> MarginComparison:
    counted: Counter[str] = Counter({code: n for code, n in picked.items() if code in margin.residents})
    outside = sum(n for code, n in picked.items() if code in margin.outside)
    not_given = submissions - sum(counted.values()) - outside  # skipped, not reached, or an unknown option
    base = sum(counted.values())
    categories = tuple(
        Category(
            code,
            counted[code],
            residents,
            counted[code] / base if base else 0.0,
            margin.share(code),
            base * margin.share(code),
        )
        for code, residents in margin.residents.items()
    )
    return MarginComparison(name, margin.question, categories, base, outside, not_given)


async def representation(
    store: Store, questionnaire_id: str, population: Population, *, filters: SubmissionFilter | None = None
) -> Representation:
    """Who answered one questionnaire (its completed submissions, within `filters` if given) against who
    lives here, for every margin the population file has figures for."""
    chosen = _chosen(questionnaire_id, filters)
    questions = [margin.question for margin in population.present_margins().values()]
    return compare_counts(await count_margin_answers(store, chosen, questions), population)


# --- weights -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Weights:
    """Post-stratification weights by raking, and how well they fit.

    Weights have a mean of 1 over the submissions weighted, so weighted counts keep the sample's size
    (what significance tests in SPSS or Stata expect); multiply by residents / n for population totals.
    """

    weights: dict[int, float]  # submission id → weight; only the submissions weighted
    left_out: tuple[int, ...]  # completed submissions with no weight: outside Warsaw, or no category on any margin
    margins: tuple[str, ...]  # raked to
    empty: tuple[tuple[str, str], ...]  # (question, category) nobody answered from: its residents go to the others
    iterations: int
    converged: bool  # the weights stopped changing (within the tolerance)
    capped: int  # submissions whose weight was trimmed to a bound
    max_error: float  # the largest |weighted share − residents' share| over every margin's categories
    cap: float

    @property
    def design_effect(self) -> float:
        """Kish's design effect of unequal weights, n Σw² / (Σw)²: how many times the variance grows."""
        values = list(self.weights.values())
        total = sum(values)
        return len(values) * sum(w * w for w in values) / (total * total) if total else 1.0

    @property
    def effective_n(self) -> float:
        """The sample size these weighted answers are worth: n / design effect."""
        return len(self.weights) / self.design_effect if self.weights else 0.0

    @property
    def smallest(self) -> float:
        return min(self.weights.values(), default=0.0)

    @property
    def largest(self) -> float:
        return max(self.weights.values(), default=0.0)


Cell = tuple[str | None, ...]  # a category per margin raked (None: not given on that margin)


def rake(
    people: Mapping[int, Mapping[str, str]],
    population: Population,
    *,
    cap: float = DEFAULT_CAP,
    tolerance: float = 1e-9,
    max_iterations: int = 1000,
) -> Weights:
    """Rakes submissions to the residents' margins by iterative proportional fitting, with trimming.

    Each round adjusts the weights to one margin after another, scales them to a mean of 1 and trims them to
    [1/cap, cap] times the mean (what is cut off is spread over the others, so the mean stays 1); rounds repeat
    until no weight changes by more than `tolerance` (relative). Trimming trades a little of the margins' fit
    for a smaller design effect (fewer answers counting many times over): `max_error` says how much was traded.

    Who is weighted: a submission with a category on at least one margin and none outside (outside_warsaw).
    One that gave no category on a margin (skipped the age, prefer_not) is weighted on the others: on that
    margin its group keeps its weighted share, and the residents' shares apply to those who answered it.
    A category nobody answered from cannot be weighted up: its residents' share goes to the others, and
    `empty` names it.

    Raises:
        ValueError: when `cap` is not above 1.
    """
    if cap <= 1:
        raise ValueError(f"the cap must be above 1 (got {cap})")
    margins = population.present_margins()
    names = tuple(margins)
    cells: Counter[Cell] = Counter()
    members: dict[Cell, list[int]] = {}
    left_out: list[int] = []
    for sid, answers in sorted(people.items()):
        picked = [answers.get(margin.question) for margin in margins.values()]
        if any(code in margin.outside for code, margin in zip(picked, margins.values(), strict=True)):
            left_out.append(sid)
            continue
        cell = tuple(
            code if code in margin.residents else None for code, margin in zip(picked, margins.values(), strict=True)
        )
        if all(code is None for code in cell):
            left_out.append(sid)
            continue
        cells[cell] += 1
        members.setdefault(cell, []).append(sid)
    targets, empty = _targets(margins, cells)
    weight = {cell: 1.0 for cell in cells}
    iterations, converged, capped_cells = 0, not cells, set[Cell]()
    while cells and iterations < max_iterations and not converged:
        iterations += 1
        before = dict(weight)
        for index, shares in enumerate(targets):
            _fit_margin(index, shares, cells, weight)
        capped_cells = _trim(cells, weight, 1 / cap, cap)
        converged = all(abs(weight[c] - before[c]) <= tolerance * before[c] for c in cells)
    capped = sum(cells[c] for c in capped_cells) if cells else 0
    weights = {sid: weight[cell] for cell, sids in members.items() for sid in sids}
    error = max((abs(e) for e in _errors(targets, cells, weight)), default=0.0)
    return Weights(weights, tuple(left_out), names, empty, iterations, converged, capped, error, cap)


def _trim(cells: Counter[Cell], weight: dict[Cell, float], low: float, high: float) -> set[Cell]:
    """Scales the weights to a mean of 1 and trims them to [low, high], the trimmed excess (or shortfall)
    spread over the others in proportion, until none is out of bounds; returns the cells trimmed."""
    size = sum(cells.values())
    fixed: set[Cell] = set()
    for _ in range(len(cells) + 1):
        held = sum(cells[c] * weight[c] for c in fixed)
        free = sum(cells[c] * weight[c] for c in cells if c not in fixed)
        if free > 0:
            factor = (size - held) / free
            for cell in cells:
                if cell not in fixed:
                    weight[cell] *= factor
        beyond = [c for c in cells if c not in fixed and not low <= weight[c] <= high]
        if not beyond:
            break
        for cell in beyond:
            weight[cell] = min(max(weight[cell], low), high)
            fixed.add(cell)
    return fixed


def _targets(
    margins: Mapping[str, Margin], cells: Counter[Cell]
) -> tuple[list[dict[str, float]], tuple[tuple[str, str], ...]]:
    """Each margin's residents' shares over the categories someone answered from (renormalised)."""
    targets: list[dict[str, float]] = []
    empty: list[tuple[str, str]] = []
    for index, margin in enumerate(margins.values()):
        present = {cell[index] for cell in cells}
        empty += [(margin.question, code) for code in margin.residents if code not in present]
        residents = {code: n for code, n in margin.residents.items() if code in present}
        total = sum(residents.values())
        targets.append({code: n / total for code, n in residents.items()})
    return targets, tuple(empty)


def _fit_margin(index: int, shares: Mapping[str, float], cells: Counter[Cell], weight: dict[Cell, float]) -> None:
    """One raking step: the weighted totals of one margin's categories made proportional to the residents'."""
    totals: dict[str, float] = dict.fromkeys(shares, 0.0)
    for cell, n in cells.items():
        code = cell[index]
        if code is not None:
            totals[code] += n * weight[cell]
    answered = sum(totals.values())  # those who gave no category here keep their weight
    for cell in cells:
        code = cell[index]
        if code is not None:
            weight[cell] *= shares[code] * answered / totals[code]


def _errors(targets: list[dict[str, float]], cells: Counter[Cell], weight: Mapping[Cell, float]) -> list[float]:
    errors = []
    for index, shares in enumerate(targets):
        totals: dict[str, float] = dict.fromkeys(shares, 0.0)
        for cell, n in cells.items():
            code = cell[index]
            if code is not None:
                totals[code] += n * weight[cell]
        answered = sum(totals.values())
        errors += [totals[code] / answered - share for code, share in shares.items()] if answered else []
    return errors


async def compute_weights(
    store: Store,
    questionnaire_id: str,
    population: Population,
    *,
    filters: SubmissionFilter | None = None,
    cap: float = DEFAULT_CAP,
) -> Weights:
    """Raking weights for one questionnaire's completed submissions (within `filters` if given), with their
    fit and design effect."""
    people = await _read(store, questionnaire_id, population, filters)
    return rake(people, population, cap=cap)


async def raking_weights(
    store: Store,
    questionnaire_id: str,
    population: Population,
    *,
    filters: SubmissionFilter | None = None,
    cap: float = DEFAULT_CAP,
) -> dict[int, float]:
    """Post-stratification weights by submission id (mean 1); a completed submission that cannot be weighted
    (outside Warsaw, no category on any margin) is absent. See `rake`."""
    return (await compute_weights(store, questionnaire_id, population, filters=filters, cap=cap)).weights


def _chosen(questionnaire_id: str, filters: SubmissionFilter | None) -> SubmissionFilter:
    chosen = SubmissionFilter(questionnaire_id) if filters is None else filters
    if chosen.questionnaire_id != questionnaire_id:
        raise ValueError(f"the filters are for questionnaire {chosen.questionnaire_id!r}, not {questionnaire_id!r}")
    return chosen


async def _read(
    store: Store, questionnaire_id: str, population: Population, filters: SubmissionFilter | None
) -> dict[int, dict[str, str]]:
    chosen = _chosen(questionnaire_id, filters)
    questions = [margin.question for margin in population.present_margins().values()]
    return await read_margin_answers(store, chosen, questions)

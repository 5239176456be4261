"""What the draw takes and gives: applicants, groups with their seats and sector quotas, the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Candidate:
    """An applicant in the draw: complete, on time, not excluded, eligible (storage's `in_the_draw`)."""

    id: int  # the application's id (Z-<id>)
    sector: str  # a sector code of config/recruitment.yaml
    groups: tuple[str, ...]  # the group codes asked for, in the applicant's order


@dataclass(frozen=True, slots=True)
class Quota:
    """How many of a group's seats one sector holds: at least `min`, at most `max`."""

    min: int
    max: int


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A group as the draw needs it; groups are drawn in the order given (the file's)."""

    code: str
    seats: int
    quotas: Mapping[str, Quota]  # by sector code; a sector left out may take any number of seats


@dataclass(frozen=True, slots=True)
class GroupDraw:
    """One group's outcome."""

    code: str
    seats: int
    pool: tuple[int, ...]  # everyone who asked for the group and was in the draw, by id
    selected: tuple[int, ...]  # the seats, by id (sorted)
    reserve: tuple[int, ...]  # the ranked reserve list: first is offered a freed seat first
    probabilities: Mapping[int, float]  # each pool member's chance of a seat in this group's draw
    lottery: bool  # False when the pool had no more people than seats: everyone took a seat
    # People seated here who already hold a seat in an earlier group: only where the group could
    # not be filled otherwise (empty in the usual case).
    second_seats: tuple[int, ...] = ()
    # What the draw had to allow, in staff's words (e.g. a second seat for 2 people); empty usually.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Draw:
    """The whole draw, with what anyone needs to repeat it."""

    seed: int
    algorithm: str  # "maximin"
    library_version: str  # sortition-algorithms
    solver_version: str  # highspy
    groups: tuple[GroupDraw, ...]
    specs: tuple[GroupSpec, ...]
    candidates: tuple[Candidate, ...]  # the pool as given (sorted by id)
    extra: Mapping[str, Any] = field(default_factory=dict)


class QuotaInfeasible(Exception):
    """A group's quotas cannot be met by its pool: which, by how many, and what staff could relax."""

    def __init__(self, group: str, problems: list[str], relaxations: list[str]) -> None:
        self.group = group
        self.problems = problems  # e.g. "city_hall: at least 1 seat, but only 0 applicants in the pool"
        self.relaxations = relaxations  # e.g. "lower city_hall's min from 1 to 0 in config/recruitment.yaml"
        super().__init__(f"group {group}: the quotas cannot be met: " + "; ".join(problems))


class SelectionUnavailable(Exception):
    """The draw's library (the optional extra `wspolnota[selection]`) is not installed."""

    def __init__(self, detail: str = "") -> None:
        message = (
            "the working groups' draw needs sortition-algorithms (GPL-3.0), the optional extra: "
            'pip install -e ".[selection]"'
        )
        super().__init__(message + (f" ({detail})" if detail else ""))

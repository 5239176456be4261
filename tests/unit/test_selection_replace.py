"""Who is offered a freed seat (selection/replace.py): the first on the reserve list who keeps the quotas."""

from __future__ import annotations

from selection.model import GroupSpec, Quota
from selection.replace import next_in_line

SPEC = GroupSpec(
    "otwartosc",
    6,
    {"ngo": Quota(1, 3), "resident": Quota(1, 2), "city_hall": Quota(1, 1)},
)


def test_the_first_on_the_list_when_every_quota_holds() -> None:
    held = ["ngo", "ngo", "resident", "city_hall", "informal"]  # informal: no quota
    assert next_in_line(SPEC, held, [(7, "resident"), (8, "ngo")]) == 7


def test_a_sector_at_its_max_is_passed_over() -> None:
    held = ["ngo", "resident", "resident", "city_hall", "informal"]
    assert next_in_line(SPEC, held, [(7, "resident"), (9, "city_hall"), (8, "ngo")]) == 8


def test_a_sector_below_its_min_goes_first() -> None:
    held = ["ngo", "ngo", "resident", "informal", "informal"]  # the City Hall seat was freed
    assert next_in_line(SPEC, held, [(7, "ngo"), (8, "resident"), (9, "city_hall"), (10, "city_hall")]) == 9


def test_a_sector_with_no_quota_takes_any_number() -> None:
    held = ["ngo", "resident", "city_hall", "informal", "informal"]
    assert next_in_line(SPEC, held, [(7, "informal")]) == 7


def test_nobody_of_the_short_sector_left_the_first_within_the_maxima() -> None:
    held = ["ngo", "ngo", "ngo", "resident", "informal"]  # City Hall short, nobody of it on the list
    assert next_in_line(SPEC, held, [(7, "ngo"), (8, "resident"), (9, "informal")]) == 8


def test_none_when_the_list_is_empty_or_everyone_would_exceed_a_max() -> None:
    assert next_in_line(SPEC, ["ngo"] * 5, []) is None
    held = ["ngo", "ngo", "ngo", "resident", "resident"]
    assert next_in_line(SPEC, held, [(7, "ngo"), (8, "resident")]) is None


def test_the_list_order_decides_between_equals() -> None:
    held = ["ngo", "resident", "city_hall", "informal", "informal"]
    assert next_in_line(SPEC, held, [(12, "ngo"), (3, "ngo")]) == 12

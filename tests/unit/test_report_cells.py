"""Small-cell protection that subtraction cannot undo: an attacker who knows every printed figure and the
totals tries every table that fits them; no hidden figure may come out the same in all of them."""

from __future__ import annotations

import itertools
import random

import pytest

from reports.report_cells import Protected, protect

K = 5


def fitting(cells: list[list[int]], shield: Protected) -> list[dict[tuple[int, int], int]]:
    """Every table (one answer per person) agreeing with what is printed: the shown cells, the shown
    groups' n, each answer's total (the chart) and the overall n; the hidden cells by brute force,
    column by column (a column's hidden cells add up to its total less its shown ones)."""
    rows, width = len(cells), len(cells[0])
    per_column = []
    for j in range(width):
        hidden = [i for i in range(rows) if not shield.shows(i, j)]
        rest = sum(cells[i][j] for i in hidden)
        per_column.append(
            [
                dict(zip([(i, j) for i in hidden], values, strict=True))
                for values in itertools.product(range(rest + 1), repeat=len(hidden))
                if sum(values) == rest
            ]
        )
    merged = sorted(shield.hidden_rows)
    found = []
    for parts in itertools.product(*per_column):
        guess = {cell: value for part in parts for cell, value in part.items()}
        if all(
            sum(guess.get((i, j), cells[i][j]) for j in range(width)) == sum(cells[i])
            for i in range(rows)
            if i not in shield.hidden_rows
        ) and all(  # the merged row's printed cells
            sum(guess.get((i, j), cells[i][j]) for i in merged) == sum(cells[i][j] for i in merged)
            for j in range(width)
            if j not in shield.merged_hidden
        ):
            found.append(guess)
    return found


def revealed(cells: list[list[int]], shield: Protected) -> set[tuple[int, int]]:
    """The hidden cells that take one value in every table that fits (but an answer nobody gave at all,
    whose zeros the chart already shows)."""
    tables = fitting(cells, shield)
    assert tables  # the true one fits
    nobody = {j for j in range(len(cells[0])) if not any(row[j] for row in cells)}
    return {cell for cell in tables[0] if len({table[cell] for table in tables}) == 1 and cell[1] not in nobody}


# The review's case: Praga-Południe n=6 with "tak" 5 printed and "nie" hidden gave nie = 1.
REVIEW = [[5, 1], [12, 8], [20, 10]]


def test_hiding_only_the_small_cell_is_undone_by_subtraction() -> None:
    naive = Protected(frozenset(), frozenset({(0, 1)}))
    assert revealed(REVIEW, naive) == {(0, 1)}


def test_complementary_suppression_leaves_every_hidden_cell_open() -> None:
    sizes = [sum(row) for row in REVIEW]
    shield = protect(sizes, REVIEW, K, rows_add_up=True)
    assert (0, 1) in shield.hidden_cells and (0, 0) in shield.hidden_cells  # the row's next smallest too
    assert len(shield.hidden_cells) >= 4  # and a complement in each column
    assert revealed(REVIEW, shield) == set()


def test_a_small_group_is_hidden_with_the_next_smallest_and_its_n_never_printed() -> None:
    cells = [[1, 0], [4, 3], [12, 8], [20, 10]]  # Wilanów n=1 (its one answer "tak"), then n=7, 20, 30
    sizes = [sum(row) for row in cells]
    shield = protect(sizes, cells, K, rows_add_up=True)
    assert shield.hidden_rows == {0, 1}  # together 8 >= K
    assert revealed(cells, shield) == set()
    # Hiding Wilanów's row alone would give it back: the chart's totals minus the other rows.
    assert revealed(cells, Protected(frozenset({0}), frozenset())) == {(0, 0), (0, 1)}


@pytest.mark.parametrize("seed", range(60))
def test_random_small_tables_reveal_nothing(seed: int) -> None:
    rng = random.Random(seed)
    cells = [[rng.choice([0, 1, 2, 3, 5, 7]) for _ in range(2 + seed % 2)] for _ in range(4 - seed % 2)]
    cells = [row for row in cells if sum(row)] or [[1, 2, 3]]
    if len(cells) < 2:
        cells.append([6] * len(cells[0]))
    sizes = [sum(row) for row in cells]
    shield = protect(sizes, cells, K, rows_add_up=True)
    if len(shield.hidden_rows) == len(cells):
        return  # nothing printed at all
    assert revealed(cells, shield) == set()
    for i, row in enumerate(cells):  # no small figure printed
        assert i in shield.hidden_rows or all(not 0 < v < K or not shield.shows(i, j) for j, v in enumerate(row))
        assert i in shield.hidden_rows or sizes[i] >= K


def test_multiple_choice_columns_are_protected_though_rows_do_not_add_up() -> None:
    # Each answer's total is printed with its chart: one hidden cell per column would be subtraction away.
    cells = [[7, 2, 9], [8, 6, 12], [10, 9, 1]]
    shield = protect([12, 15, 14], cells, K, rows_add_up=False)
    for j in range(3):
        hidden = [i for i in range(3) if not shield.shows(i, j)]
        assert len(hidden) != 1
    assert not shield.shows(0, 1) and not shield.shows(2, 2)

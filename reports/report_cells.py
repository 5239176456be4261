"""Small-cell protection for the report's breakdown tables, so that no hidden figure can be worked out.

A breakdown is a table of groups (rows: districts, events…) by answers (columns). What a reader knows:
every figure printed, the question's total per answer (its chart) and its number of answers, and for a
question with one answer per person, that a group's cells add up to the group's n. Hiding one small cell
is not enough (`n=6, tak=5` gives `nie=1`), nor is hiding a small group's row (the chart's totals minus
the other rows give it back). So, as statistical offices do (complementary suppression, e.g. R's
sdcTable), a group under the threshold is merged with the next smallest ones into one "other groups" row
until it holds at least the threshold's worth of answers, a small cell is hidden with the next smallest
cell of its row and column, and then the table is checked: every cell still hidden must be one that the
printed figures and the totals, as linear equations, leave undetermined; where one is determined, one
more cell is hidden and the check runs again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Protected:
    """What a breakdown may print: groups merged into one "other groups" row (their own figures never
    printed), and the cells hidden in the shown rows and in that merged row (column indexes)."""

    hidden_rows: frozenset[int]
    hidden_cells: frozenset[tuple[int, int]]  # (row, column) in shown rows
    merged_hidden: frozenset[int] = frozenset()  # the merged row's hidden columns

    def shows(self, row: int, column: int) -> bool:
        return row not in self.hidden_rows and (row, column) not in self.hidden_cells


MERGED = -1  # the row index of the merged small groups


def protect(sizes: list[int], cells: list[list[int]], min_cell: int, *, rows_add_up: bool) -> Protected:
    """Chooses what to hide in a table of `sizes[i]` answers per group and `cells[i][j]` per answer.

    `rows_add_up`: one answer per person (single choice, scale, yes/no), so a group's cells sum to its n.
    A group with fewer than min_cell answers is merged with the next smallest ones into one row until
    that row holds min_cell answers (its members' figures, n included, are never printed). A cell between
    1 and min_cell - 1 is hidden; zeros are shown (they say no more than the group's n does), but in the
    merged row, where a zero would say what each small group answered. Then complements, then the check.
    """
    width = len(cells[0]) if cells else 0
    hidden_rows = {i for i in range(len(sizes)) if sizes[i] < min_cell}
    _merge_rows(hidden_rows, sizes, min_cell)
    if len(hidden_rows) == len(sizes) and hidden_rows:
        return Protected(frozenset(hidden_rows), frozenset(), frozenset(range(width)))
    # The table as printed: the shown groups, then the merged one (when there is one).
    keys = [i for i in range(len(sizes)) if i not in hidden_rows] + ([MERGED] if hidden_rows else [])
    table = {i: cells[i] for i in keys if i != MERGED}
    if hidden_rows:
        table[MERGED] = [sum(cells[i][j] for i in hidden_rows) for j in range(width)]
    given = [sum(table[i][j] for i in keys) for j in range(width)]  # an answer nobody gave: zeros known
    hidden = {
        (i, j)
        for i in keys
        for j in range(width)
        if 0 < table[i][j] < min_cell or (i == MERGED and table[i][j] == 0 and given[j])
    }
    while True:
        changed = _complete_lines(hidden, keys, table, width, rows_add_up=rows_add_up)
        determined = _determined(keys, table, width, hidden, rows_add_up=rows_add_up)
        if not determined:
            if not changed:
                break
            continue
        if not _hide_one_more(determined[0], hidden, keys, table, width):
            return Protected(frozenset(range(len(sizes))), frozenset(), frozenset(range(width)))
    return Protected(
        frozenset(hidden_rows),
        frozenset(cell for cell in hidden if cell[0] != MERGED),
        frozenset(j for i, j in hidden if i == MERGED),
    )


def _merge_rows(hidden_rows: set[int], sizes: list[int], min_cell: int) -> None:
    """Merges the next smallest groups into the small ones until they are two or more and hold min_cell."""
    if not hidden_rows:
        return
    others = sorted((i for i in range(len(sizes)) if i not in hidden_rows), key=lambda i: (sizes[i], i))
    while others and (len(hidden_rows) < 2 or sum(sizes[i] for i in hidden_rows) < min_cell):
        hidden_rows.add(others.pop(0))


Table = dict[int, list[int]]


def _smallest(candidates: list[tuple[int, int]], table: Table) -> tuple[int, int] | None:
    """The next cell to hide: the smallest non-zero one (a hidden zero protects nothing), else a zero."""
    if not candidates:
        return None
    return min(candidates, key=lambda cell: (table[cell[0]][cell[1]] == 0, table[cell[0]][cell[1]], cell))


def _complete_lines(
    hidden: set[tuple[int, int]], keys: list[int], table: Table, width: int, *, rows_add_up: bool
) -> bool:
    """No row (when it adds up) or column with exactly one hidden cell: hides the next smallest beside it."""
    changed = False
    again = True
    while again:
        again = False
        lines = [[(i, j) for j in range(width)] for i in keys] if rows_add_up else []
        lines += [[(i, j) for i in keys] for j in range(width)]
        for line in lines:
            if sum(cell in hidden for cell in line) == 1:
                pick = _smallest([cell for cell in line if cell not in hidden], table)
                if pick is not None:
                    hidden.add(pick)
                    again = changed = True
    return changed


def _determined(
    keys: list[int], table: Table, width: int, hidden: set[tuple[int, int]], *, rows_add_up: bool
) -> list[tuple[int, int]]:
    """The hidden cells that the printed figures determine.

    The equations are each answer's total (printed with its chart) and, when rows add up, each row's n
    (printed, the merged row's being the question's n less the others); a hidden cell is determined
    exactly when every vector of the system's null space is zero in its place.
    """
    unknowns = sorted(hidden)
    if not unknowns:
        return []
    index = {cell: k for k, cell in enumerate(unknowns)}
    lines = [[(i, j) for i in keys] for j in range(width)]
    if rows_add_up:
        lines += [[(i, j) for j in range(width)] for i in keys]
    equations = []
    for line in lines:
        row = [0.0] * len(unknowns)
        for cell in line:
            if cell in index:
                row[index[cell]] = 1.0
        if any(row):
            equations.append(row)
    matrix = np.array(equations, dtype=float)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > _TOLERANCE * max(matrix.shape)).sum())
    null = vt[rank:]
    if null.shape[0] == 0:
        return unknowns
    free = np.abs(null).max(axis=0) > _TOLERANCE
    return [cell for cell, loose in zip(unknowns, free, strict=True) if not loose]


def _hide_one_more(
    cell: tuple[int, int], hidden: set[tuple[int, int]], keys: list[int], table: Table, width: int
) -> bool:
    """Hides one more cell beside a determined one (its row or column, else anywhere); False when none is left."""
    i, j = cell
    beside = [(i, c) for c in range(width)] + [(r, j) for r in keys]
    pick = _smallest([c for c in beside if c not in hidden], table)
    if pick is None:
        pick = _smallest([(r, c) for r in keys for c in range(width) if (r, c) not in hidden], table)
    if pick is None:
        return False
    hidden.add(pick)
    return True

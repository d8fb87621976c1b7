"""An adversary for published tables, written independently of the suppression
code: it knows only the table's shape (which cells are sums of which) and what
was published, and searches every table of whole numbers that fits.

``possible_values`` is exact (exhaustive search with interval pruning) and meant
for small tables; ``interval_attack`` and ``linear_attack`` scale to report-sized
tables: the first propagates the ranges a reader knows through every sum until
nothing changes, the second finds cells fixed by the sums alone (exact rational
elimination).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from reporting_service.domain.suppression import TOTAL, Table

Key = tuple[str, str]
Equation = tuple[Key, list[Key]]  # total = sum(parts)


def equations(table: Table) -> list[Equation]:
    found: list[Equation] = []
    columns = [*table.columns, TOTAL]
    for row in table.rows.rows():
        found.append(((row, TOTAL), [(row, c) for c in table.columns]))
        kids = table.rows.children.get(row)
        if kids:
            for column in columns:
                found.append(((row, column), [(k, column) for k in kids]))
    return found


def known_ranges(
    table: Table, published: Mapping[Key, int | str], threshold: int, ceiling: int
) -> dict[Key, tuple[int, int]]:
    ranges = {}
    for key, shown in published.items():
        if isinstance(shown, int):
            ranges[key] = (shown, shown)
        elif shown == f"<{threshold}":
            ranges[key] = (0, threshold - 1)
        elif shown == "x":
            ranges[key] = (threshold, ceiling)
        else:
            raise AssertionError(f"unexpected cell {shown!r}")
    return ranges


def _consistent(eqs: list[Equation], ranges: Mapping[Key, tuple[int, int]]) -> bool:
    for total, parts in eqs:
        low = ranges[total][0] - sum(ranges[p][1] for p in parts)
        high = ranges[total][1] - sum(ranges[p][0] for p in parts)
        if low > 0 or high < 0:
            return False
    return True


def _feasible(eqs: list[Equation], ranges: dict[Key, tuple[int, int]]) -> bool:
    if not _consistent(eqs, ranges):
        return False
    open_keys = [k for k, (lo, hi) in ranges.items() if lo != hi]
    if not open_keys:
        return True
    key = min(open_keys, key=lambda k: ranges[k][1] - ranges[k][0])
    low, high = ranges[key]
    for value in range(low, high + 1):
        ranges[key] = (value, value)
        if _feasible(eqs, ranges):
            ranges[key] = (low, high)
            return True
    ranges[key] = (low, high)
    return False


def possible_values(
    table: Table, published: Mapping[Key, int | str], threshold: int, key: Key
) -> set[int]:
    """Every value the cell can have in some table that fits what was published."""
    ceiling = sum(v for v in published.values() if isinstance(v, int)) + threshold * len(published)
    eqs = equations(table)
    ranges = known_ranges(table, published, threshold, ceiling)
    values = set()
    low, high = ranges[key]
    for value in range(low, high + 1):
        trial = dict(ranges)
        trial[key] = (value, value)
        if _feasible(eqs, trial):
            values.add(value)
    return values


def interval_attack(
    table: Table, published: Mapping[Key, int | str], threshold: int
) -> dict[Key, tuple[int, int]]:
    """Narrow every range through the sums until a fixed point."""
    ceiling = sum(v for v in published.values() if isinstance(v, int)) + threshold * len(published)
    eqs = equations(table)
    ranges = known_ranges(table, published, threshold, ceiling)
    changed = True
    while changed:
        changed = False
        for total, parts in eqs:
            t_lo, t_hi = ranges[total]
            p_lo = sum(ranges[p][0] for p in parts)
            p_hi = sum(ranges[p][1] for p in parts)
            new = (max(t_lo, p_lo), min(t_hi, p_hi))
            if new != ranges[total]:
                ranges[total], changed = new, True
            for part in parts:
                lo, hi = ranges[part]
                others_lo, others_hi = p_lo - lo, p_hi - hi
                narrowed = (
                    max(lo, ranges[total][0] - others_hi),
                    min(hi, ranges[total][1] - others_lo),
                )
                if narrowed != (lo, hi):
                    ranges[part], changed = narrowed, True
                    p_lo, p_hi = p_lo - lo + narrowed[0], p_hi - hi + narrowed[1]
    return ranges


def linear_attack(table: Table, published: Mapping[Key, int | str]) -> set[Key]:
    """Suppressed cells that the sums and the shown cells fix, ignoring ranges."""
    unknown = [k for k, v in published.items() if not isinstance(v, int)]
    index = {k: i for i, k in enumerate(unknown)}
    rows = []
    for total, parts in equations(table):
        row = [Fraction(0)] * len(unknown)
        for key, sign in [(total, 1), *((p, -1) for p in parts)]:
            if key in index:
                row[index[key]] += sign
        if any(row):
            rows.append(row)
    # reduced row echelon form; a pivot whose row has no free columns is fixed
    pivots: list[int] = []
    r = 0
    for c in range(len(unknown)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [x / rows[r][c] for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                factor = rows[i][c]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(c)
        r += 1
    fixed = set()
    pivot_set = set(pivots)
    for i, c in enumerate(pivots):
        if all(rows[i][j] == 0 for j in range(len(unknown)) if j not in pivot_set):
            fixed.add(unknown[c])
    return fixed

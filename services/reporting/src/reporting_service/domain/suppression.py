"""Small-number suppression with complementary cells, for tables with totals.

An additive table with all its totals is a *circulation*: every cell is an arc
carrying its value, every sum is a node where what flows in equals what flows
out. A published table tells a reader the values of the shown cells and, for
a suppressed cell, only a range: ``"<5"`` means 0..4 (primary suppression);
``"x"`` means "withheld so that a '<5' cannot be worked out", which a reader
knows is 5 or more (complementary suppression).

A suppressed cell can be recomputed exactly when no other table fits what was
published with a different value in that cell. Another fitting table differs
from the real one by a circulation over suppressed cells only; by the flow
decomposition theorem it suffices to look for one cycle, moving one unit, that
keeps every cell on it within its range. So a primary cell is protected when
the *residual graph* of the suppressed cells (an arc forward where a cell may
grow by one, backward where it may shrink by one) has a cycle through it.

Protection picks, for each unprotected primary cell, the cheapest such cycle
when any shown cell may be turned into a complementary one (cost: its value,
so small cells go first and totals last) and suppresses the shown cells on it.
Suppressing more never makes an earlier cell recomputable, so the loop ends.

Rows may form a hierarchy (months within quarters within a year): the builder
turns every level into nodes, so a suppressed month cannot be recovered from
its quarter either. Columns are flat, plus their total.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

TOTAL = "total"

Node = tuple[str, ...]
Key = tuple[str, str]  # (row, column)


class Mark(StrEnum):
    PRIMARY = "primary"  # below the threshold
    COMPLEMENTARY = "complementary"  # withheld to protect a primary cell


@dataclass(frozen=True)
class Cell:
    key: Key
    value: int
    tail: Node
    head: Node


@dataclass(frozen=True)
class RowTree:
    """Rows and the sums they form: ``children`` of each summing row, leaves have none."""

    root: str
    children: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def rows(self) -> list[str]:
        """Every row, parents before their children."""
        order, stack = [], [self.root]
        while stack:
            row = stack.pop()
            order.append(row)
            stack.extend(reversed(list(self.children.get(row, ()))))
        return order

    def leaves(self) -> list[str]:
        return [r for r in self.rows() if not self.children.get(r)]

    def parent(self, row: str) -> str | None:
        for parent, kids in self.children.items():
            if row in kids:
                return parent
        return None

    @classmethod
    def flat(cls, rows: Sequence[str], root: str = TOTAL) -> RowTree:
        return cls(root, {root: list(rows)})

    @classmethod
    def single(cls, row: str) -> RowTree:
        return cls(row)


class Table:
    """An additive table with every total, as a circulation (see the module docstring)."""

    def __init__(self, rows: RowTree, columns: Sequence[str], leaf_values: Mapping[Key, int]):
        if TOTAL in columns:
            raise ValueError("the total column is added by the table itself")
        self.rows = rows
        self.columns = list(columns)
        self.cells: dict[Key, Cell] = {}
        leaves = rows.leaves()
        for key, value in leaf_values.items():
            if key[0] not in leaves or key[1] not in self.columns:
                raise ValueError(f"{key} is not a leaf cell of this table")
            if value < 0:
                raise ValueError(f"{key}: counts are not negative")
        values = self._with_totals(leaf_values)
        for row in rows.rows():
            for column in [*self.columns, TOTAL]:
                tail, head = self._arc(row, column)
                key = (row, column)
                self.cells[key] = Cell(key, values[key], tail, head)

    def value(self, key: Key) -> int:
        return self.cells[key].value

    def _with_totals(self, leaf_values: Mapping[Key, int]) -> dict[Key, int]:
        values: dict[Key, int] = {}
        for row in reversed(self.rows.rows()):  # children before parents
            kids = self.rows.children.get(row)
            for column in self.columns:
                if kids:
                    values[row, column] = sum(values[k, column] for k in kids)
                else:
                    values[row, column] = leaf_values.get((row, column), 0)
            values[row, TOTAL] = sum(values[row, c] for c in self.columns)
        return values

    def _arc(self, row: str, column: str) -> tuple[Node, Node]:
        parent = self.rows.parent(row)
        is_leaf = not self.rows.children.get(row)
        if column != TOTAL:
            tail: Node = ("row", row) if is_leaf else ("sum", row, column)
            head: Node = ("top",) if parent is None else ("sum", parent, column)
            return tail, head
        tail = ("top",) if parent is None else ("rowtotal", parent)
        head = ("row", row) if is_leaf else ("rowtotal", row)
        return tail, head


def bounds(mark: Mark, value: int, threshold: int) -> tuple[int, float]:
    """What a reader knows of a suppressed cell."""
    if mark is Mark.PRIMARY:
        return 0, threshold - 1
    return threshold, float("inf")


def primary_cells(table: Table, threshold: int) -> dict[Key, Mark]:
    return {k: Mark.PRIMARY for k, c in table.cells.items() if c.value < threshold}


Residual = dict[Node, list[tuple[Node, Key]]]


def _residual_arcs(table: Table, marks: Mapping[Key, Mark], threshold: int) -> Residual:
    """Where one unit can move: forward where a cell may grow, back where it may shrink."""
    graph: Residual = {}
    for key, mark in marks.items():
        cell = table.cells[key]
        low, high = bounds(mark, cell.value, threshold)
        if cell.value + 1 <= high:
            graph.setdefault(cell.tail, []).append((cell.head, key))
        if cell.value - 1 >= low:
            graph.setdefault(cell.head, []).append((cell.tail, key))
    return graph


def _reachable(graph: Residual, start: Node, goal: Node, without: Key) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt, key in graph.get(node, ()):
            if key != without and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _can_vary(
    table: Table, marks: Mapping[Key, Mark], threshold: int, key: Key, graph: Residual
) -> bool:
    cell = table.cells[key]
    low, high = bounds(marks[key], cell.value, threshold)
    grows = cell.value + 1 <= high and _reachable(graph, cell.head, cell.tail, key)
    shrinks = cell.value - 1 >= low and _reachable(graph, cell.tail, cell.head, key)
    return grows or shrinks


def can_vary(table: Table, marks: Mapping[Key, Mark], threshold: int, key: Key) -> bool:
    """Whether another table that fits everything published has another value here."""
    return _can_vary(table, marks, threshold, key, _residual_arcs(table, marks, threshold))


def recoverable(table: Table, marks: Mapping[Key, Mark], threshold: int) -> list[Key]:
    """Primary cells a reader could work out exactly from what is published."""
    graph = _residual_arcs(table, marks, threshold)
    return [
        k
        for k, m in marks.items()
        if m is Mark.PRIMARY and not _can_vary(table, marks, threshold, k, graph)
    ]


def protect(
    table: Table,
    threshold: int,
    *,
    also_withhold: Iterable[Key] = (),
    fixed: Iterable[Key] = (),
) -> dict[Key, Mark]:
    """Primary suppression below ``threshold`` plus complementary cells until none
    of the primary cells can be recomputed. ``also_withhold`` are cells that must
    be withheld anyway (shared with another table); ``fixed`` cells are never
    chosen as complementary ones."""
    if threshold < 2:
        raise ValueError("a threshold below 2 suppresses only zeros, which cannot be protected")
    marks = primary_cells(table, threshold)
    for key in also_withhold:
        marks.setdefault(key, Mark.COMPLEMENTARY)
    never = set(fixed)
    protected: set[Key] = set()  # once protected, always: withholding more only adds freedom
    while True:
        graph = _residual_arcs(table, marks, threshold)
        exposed = None
        for key in [k for k, m in marks.items() if m is Mark.PRIMARY and k not in protected]:
            if _can_vary(table, marks, threshold, key, graph):
                protected.add(key)
            else:
                exposed = key
                break
        if exposed is None:
            return marks
        path = _cheapest_protection(table, marks, threshold, exposed, never)
        if path is None:
            raise RuntimeError(f"no complementary cells can protect {exposed}")
        for key in path:
            marks[key] = Mark.COMPLEMENTARY


def _cheapest_protection(
    table: Table, marks: Mapping[Key, Mark], threshold: int, key: Key, never: set[Key]
) -> list[Key] | None:
    """Shown cells to withhold so that ``key`` lies on a cycle; the cheapest found."""
    arcs: dict[Node, list[tuple[Node, int, Key | None]]] = {}

    def add(tail: Node, head: Node, cost: int, shown: Key | None) -> None:
        arcs.setdefault(tail, []).append((head, cost, shown))

    for other, cell in table.cells.items():
        if other == key:
            continue
        if other in marks:
            low, high = bounds(marks[other], cell.value, threshold)
            cost, shown = 0, None
        elif other in never:
            continue
        else:  # would become complementary: at least the threshold
            low, high = bounds(Mark.COMPLEMENTARY, cell.value, threshold)
            cost, shown = cell.value + 1, other
        if cell.value + 1 <= high:
            add(cell.tail, cell.head, cost, shown)
        if cell.value - 1 >= low:
            add(cell.head, cell.tail, cost, shown)

    cell = table.cells[key]
    low, high = bounds(marks[key], cell.value, threshold)
    candidates = []
    if cell.value + 1 <= high:
        candidates.append(_shortest(arcs, cell.head, cell.tail))
    if cell.value - 1 >= low:
        candidates.append(_shortest(arcs, cell.tail, cell.head))
    found = [c for c in candidates if c is not None]
    if not found:
        return None
    return min(found, key=lambda c: c[0])[1]


def _shortest(
    arcs: Mapping[Node, list[tuple[Node, int, Key | None]]], start: Node, goal: Node
) -> tuple[int, list[Key]] | None:
    """Dijkstra; returns the cost and the shown cells on the path."""
    queue: list[tuple[int, int, Node]] = [(0, 0, start)]
    best: dict[Node, int] = {start: 0}
    back: dict[Node, tuple[Node, Key | None]] = {}
    counter = 0
    while queue:
        cost, _, node = heapq.heappop(queue)
        if node == goal:
            shown, step = [], goal
            while step != start:
                step, key = back[step]
                if key is not None:
                    shown.append(key)
            return cost, shown
        if cost > best.get(node, cost):
            continue
        for head, extra, key in arcs.get(node, ()):
            total = cost + extra
            if total < best.get(head, total + 1):
                best[head] = total
                back[head] = (node, key)
                counter += 1
                heapq.heappush(queue, (total, counter, head))
    return None


def display(value: int, mark: Mark | None, threshold: int) -> int | str:
    """How a cell of a public table reads."""
    if mark is Mark.PRIMARY:
        return f"<{threshold}"
    if mark is Mark.COMPLEMENTARY:
        return "x"
    return value

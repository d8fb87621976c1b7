"""Small-number suppression: naive suppression leaks, complementary suppression does not.

Every claim is checked by an adversary (tests/attacker.py) that knows nothing of
how cells were chosen, only the table's sums and what was shown."""

from __future__ import annotations

import pytest
from attacker import interval_attack, linear_attack, possible_values
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting_service.domain.suppression import (
    TOTAL,
    Mark,
    RowTree,
    Table,
    display,
    primary_cells,
    protect,
    recoverable,
)

T = 5


def publish(table: Table, marks) -> dict:
    return {k: display(c.value, marks.get(k), T) for k, c in table.cells.items()}


def assert_nothing_recoverable(table: Table, published: dict) -> None:
    for key, shown in published.items():
        if shown == f"<{T}":
            values = possible_values(table, published, T, key)
            assert len(values) >= 2, f"{key} can be worked out: {values}"


def one_way(values: dict[str, int]) -> Table:
    return Table(RowTree.single("all"), list(values), {("all", k): v for k, v in values.items()})


def test_naive_suppression_of_a_district_table_leaks_and_protection_fixes_it():
    table = one_way({"centrum": 3, "oost": 10, "west": 12})
    naive = publish(table, primary_cells(table, T))
    assert naive[("all", "centrum")] == "<5" and naive[("all", TOTAL)] == 25
    # the total minus the shown districts gives the hidden one away
    assert possible_values(table, naive, T, ("all", "centrum")) == {3}
    assert recoverable(table, primary_cells(table, T), T) == [("all", "centrum")]

    safe = publish(table, protect(table, T))
    assert safe[("all", "oost")] == "x", "the smallest other cell is withheld with it"
    assert safe[("all", "west")] == 12 and safe[("all", TOTAL)] == 25
    assert_nothing_recoverable(table, safe)


def test_a_two_way_table_where_suppressing_one_more_cell_per_row_still_leaks():
    values = {("a", "p"): 2, ("a", "q"): 9, ("b", "p"): 8, ("b", "q"): 7}
    table = Table(RowTree.flat(["a", "b"]), ["p", "q"], values)
    # a reviewer's first fix: hide the other cell of the row too; the column still tells
    row_only = primary_cells(table, T) | {("a", "q"): Mark.COMPLEMENTARY}
    leaky = publish(table, row_only)
    assert possible_values(table, leaky, T, ("a", "p")) == {2}

    marks = protect(table, T)
    safe = publish(table, marks)
    assert_nothing_recoverable(table, safe)
    assert not linear_attack(table, safe) & {k for k, m in marks.items() if m is Mark.PRIMARY}


def test_ranges_alone_can_give_a_cell_away_and_protection_sees_it():
    # two "<5" in a row that adds up to 8: both must be 4, without any shown cell
    table = one_way({"a": 4, "b": 4, "c": 20})
    marks = primary_cells(table, T)
    published = publish(table, marks)
    assert published[("all", TOTAL)] == 28
    assert linear_attack(table, published) == set(), "the sums alone fix nothing"
    assert possible_values(table, published, T, ("all", "a")) == {4}, "the ranges do"
    assert recoverable(table, marks, T)
    assert_nothing_recoverable(table, publish(table, protect(table, T)))


def test_a_month_cannot_be_recovered_from_its_quarter():
    months = {"q1": ["jan", "feb", "mar"], "q2": ["apr", "may", "jun"]}
    tree = RowTree("2026", {"2026": ["q1", "q2"], **months})
    leaf = {("jan", "west"): 2, ("feb", "west"): 9, ("mar", "west"): 7}
    leaf |= {(m, "west"): 8 for m in months["q2"]}
    leaf |= {(m, "oost"): 11 for ms in months.values() for m in ms}
    table = Table(tree, ["west", "oost"], leaf)
    naive = publish(table, primary_cells(table, T))
    assert possible_values(table, naive, T, ("jan", "west")) == {2}
    safe = publish(table, protect(table, T))
    assert_nothing_recoverable(table, safe)


def test_fixed_cells_are_never_chosen_and_withheld_ones_stay_withheld():
    table = one_way({"a": 3, "b": 10, "c": 12})
    marks = protect(table, T, fixed=[("all", "b")], also_withhold=[("all", TOTAL)])
    assert ("all", "b") not in marks and marks[("all", TOTAL)] is Mark.COMPLEMENTARY
    assert_nothing_recoverable(table, publish(table, marks))


def test_a_threshold_below_two_is_refused():
    with pytest.raises(ValueError):
        protect(one_way({"a": 1}), 1)


tables = st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(
    lambda shape: st.lists(
        st.integers(0, 14), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]
    ).map(lambda values: (shape, values))
)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_no_protected_table_gives_a_small_cell_away(shape_and_values):
    (n_rows, n_cols), values = shape_and_values
    rows = [f"r{i}" for i in range(n_rows)]
    cols = [f"c{j}" for j in range(n_cols)]
    leaf = {(r, c): values[i * n_cols + j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    table = Table(RowTree.flat(rows), cols, leaf)
    published = publish(table, protect(table, T))
    assert_nothing_recoverable(table, published)
    ranges = interval_attack(table, published, T)
    for key, shown in published.items():
        if shown == f"<{T}":
            low, high = ranges[key]
            assert low < high, key

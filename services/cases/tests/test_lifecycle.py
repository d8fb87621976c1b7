"""The transition table, over every pair of statuses, every action and both kinds of programme."""

from __future__ import annotations

import itertools

import pytest

from buurtsignaal_contracts.codes import CaseStatus, Programme
from cases_service.domain import lifecycle
from cases_service.domain.lifecycle import NEEDS_WORKER, TRANSITIONS, Action, check
from cases_service.domain.refusals import TransitionRefused

S = CaseStatus
PAIRS = list(itertools.product(CaseStatus, CaseStatus))
LETTER_STATUSES = {S.LETTER_REQUESTED, S.LETTER_DELIVERED, S.ANSWER_RECORDED}

# The table again, written out as the issue and DOMAIN.md describe the work, so
# that a careless edit of the table fails here.
EXPECTED = {
    (S.OPEN, S.ASSIGNED): Action.ASSIGN,
    (S.OPEN, S.CLOSED): Action.CLOSE,
    (S.ASSIGNED, S.SCREENING): Action.DECIDE,
    (S.ASSIGNED, S.ACTIVE): Action.DECIDE,
    (S.ASSIGNED, S.ON_HOLD): Action.DECIDE,
    (S.ASSIGNED, S.LETTER_REQUESTED): Action.REQUEST_LETTER,
    (S.ASSIGNED, S.CLOSED): Action.CLOSE,
    (S.SCREENING, S.ACTIVE): Action.SCREEN,
    (S.SCREENING, S.ON_HOLD): Action.DECIDE,
    (S.SCREENING, S.CLOSED): Action.CLOSE,
    (S.ACTIVE, S.ON_HOLD): Action.DECIDE,
    (S.ACTIVE, S.LETTER_REQUESTED): Action.REQUEST_LETTER,
    (S.ACTIVE, S.CLOSED): Action.CLOSE,
    (S.ON_HOLD, S.ASSIGNED): Action.DECIDE,
    (S.ON_HOLD, S.SCREENING): Action.DECIDE,
    (S.ON_HOLD, S.ACTIVE): Action.DECIDE,
    (S.ON_HOLD, S.CLOSED): Action.CLOSE,
    (S.LETTER_REQUESTED, S.LETTER_DELIVERED): Action.LETTER_SENT,
    (S.LETTER_REQUESTED, S.CLOSED): Action.CLOSE,
    (S.LETTER_DELIVERED, S.ANSWER_RECORDED): Action.RECORD_ANSWER,
    (S.LETTER_DELIVERED, S.CLOSED): Action.CLOSE,
    (S.ANSWER_RECORDED, S.SCREENING): Action.DECIDE,
    (S.ANSWER_RECORDED, S.ACTIVE): Action.DECIDE,
    (S.ANSWER_RECORDED, S.ON_HOLD): Action.DECIDE,
    (S.ANSWER_RECORDED, S.CLOSED): Action.CLOSE,
    (S.CLOSED, S.REOPENED): Action.REOPEN,
    (S.REOPENED, S.ASSIGNED): Action.ASSIGN,
    (S.REOPENED, S.SCREENING): Action.DECIDE,
    (S.REOPENED, S.ACTIVE): Action.DECIDE,
    (S.REOPENED, S.LETTER_REQUESTED): Action.REQUEST_LETTER,
    (S.REOPENED, S.CLOSED): Action.CLOSE,
}


def test_the_table_is_what_the_work_needs():
    assert {(t.source, t.target): t.action for t in TRANSITIONS} == EXPECTED


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
@pytest.mark.parametrize("programme", [Programme.INTENSIVE_YOUTH_WORK, Programme.EARLY_SIGNALLING])
def test_every_pair_of_statuses_by_every_action(source, target, programme):
    allowed_by = EXPECTED.get((source, target))
    if target in LETTER_STATUSES and programme is not Programme.INTENSIVE_YOUTH_WORK:
        allowed_by = None
    for action in Action:
        if action is allowed_by:
            row = check(source, target, action, programme=programme, has_worker=True)
            assert (row.source, row.target) == (source, target)
        else:
            with pytest.raises(TransitionRefused) as refused:
                check(source, target, action, programme=programme, has_worker=True)
            assert refused.value.problems[0].field == "status"
            assert refused.value.problems[0].code == "transition-not-allowed"


def test_a_refusal_says_where_the_case_may_go_or_how_to_get_there():
    with pytest.raises(TransitionRefused) as no_row:
        check(
            S.OPEN, S.ACTIVE, Action.DECIDE, programme=Programme.NEIGHBOURHOOD_TEAM, has_worker=True
        )
    assert "from open it may move to: assigned, closed" in no_row.value.message
    with pytest.raises(TransitionRefused) as other_action:
        check(
            S.OPEN,
            S.ASSIGNED,
            Action.DECIDE,
            programme=Programme.NEIGHBOURHOOD_TEAM,
            has_worker=True,
        )
    assert "/assignment" in other_action.value.message
    with pytest.raises(TransitionRefused) as not_intensive:
        check(
            S.ASSIGNED,
            S.LETTER_REQUESTED,
            Action.REQUEST_LETTER,
            programme=Programme.EARLY_SIGNALLING,
            has_worker=True,
        )
    assert "intensive-youth-work" in not_intensive.value.message


@pytest.mark.parametrize("target", sorted(NEEDS_WORKER))
def test_work_on_a_case_needs_a_worker(target):
    source = S.REOPENED if target is not S.ON_HOLD else S.ASSIGNED
    row = lifecycle.transition(source, target)
    assert row is not None
    with pytest.raises(TransitionRefused, match="needs a worker"):
        check(
            source, target, row.action, programme=Programme.INTENSIVE_YOUTH_WORK, has_worker=False
        )


def test_every_status_is_reachable_and_every_open_status_can_close():
    reachable, frontier = {S.OPEN}, [S.OPEN]
    while frontier:
        source = frontier.pop()
        for t in TRANSITIONS:
            if t.source is source and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    assert reachable == set(CaseStatus)
    can_close = {t.source for t in TRANSITIONS if t.target is S.CLOSED}
    assert can_close == set(CaseStatus) - {S.CLOSED}

"""Every pair of statuses through the API: allowed steps succeed, the others are
refused with a problem detail and change nothing."""

from __future__ import annotations

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import CaseStatus, Programme
from cases_service.domain.lifecycle import Action, transition
from cases_service.testing import problem
from servicekit.testing import eventually
from servicekit.testing.events import publish, signal_received

pytestmark = pytest.mark.integration

THROUGH_STATUS_ENDPOINT = {Action.DECIDE, Action.CLOSE, Action.REOPEN}


def fields_for(target: CaseStatus) -> dict:
    if target is CaseStatus.CLOSED:
        return {"outcome": "resolved"}
    if target is CaseStatus.REOPENED:
        return {"reason": "situation-worsened"}
    return {}


@pytest.mark.parametrize("source", list(CaseStatus), ids=str)
async def test_every_target_from_each_status(api, source):
    for target in CaseStatus:
        worker = None if source is CaseStatus.OPEN else "w-west"
        case = await api.seed(source, Programme.INTENSIVE_YOUTH_WORK, worker=worker)
        response = await api.move(case, target.value, **fields_for(target))
        row = transition(source, target)
        if row is not None and row.action in THROUGH_STATUS_ENDPOINT:
            assert response.status_code == 200, (source, target, response.text)
            moved = response.json()
            assert (moved["status"], moved["version"]) == (target, case["version"] + 1)
            if target is CaseStatus.CLOSED:
                assert moved["outcome"] == "resolved"
        else:
            assert response.status_code == 409, (source, target, response.text)
            body = problem(response)
            assert body["type"] == "urn:buurtsignaal:problem:transition-not-allowed"
            assert body["errors"][0]["field"] == "status"
            after = await api.case(case["id"])
            assert (after["status"], after["version"]) == (source, case["version"])


async def test_closing_without_an_outcome_and_reopening_without_a_reason_name_the_field(api):
    case = await api.seed(CaseStatus.ACTIVE, Programme.EARLY_SIGNALLING)
    no_outcome = problem(await api.move(case, "closed"))
    assert no_outcome["status"] == 422 and no_outcome["errors"][0]["field"] == "outcome"
    bad_outcome = problem(await api.move(case, "closed", outcome="fine-now"))
    assert bad_outcome["status"] == 422 and bad_outcome["errors"][0]["field"] == "outcome"
    misplaced = problem(await api.move(case, "on-hold", reason="other"))
    assert misplaced["status"] == 422 and misplaced["errors"][0]["field"] == "reason"
    assert (await api.case(case["id"]))["version"] == case["version"]

    closed = (await api.move(case, "closed", outcome="referred-to-safety-house")).json()
    no_reason = problem(await api.move(closed, "reopened"))
    assert no_reason["status"] == 422 and no_reason["errors"][0]["field"] == "reason"


async def test_the_case_says_where_it_may_go_next(api):
    case = await api.seed(CaseStatus.ASSIGNED, Programme.EARLY_SIGNALLING)
    assert case["next_statuses"] == ["screening", "active", "on-hold", "closed"]
    intensive = await api.seed(CaseStatus.ASSIGNED, Programme.INTENSIVE_YOUTH_WORK)
    assert "letter-requested" in intensive["next_statuses"]


async def test_a_case_needs_a_worker_before_the_work_starts(api):
    case = await api.seed(CaseStatus.REOPENED, Programme.EARLY_SIGNALLING, worker=None)
    refused = problem(await api.move(case, "active"))
    assert refused["status"] == 409 and "needs a worker" in refused["detail"]


async def test_a_closed_case_is_not_reopened_while_a_newer_one_is_open(api, amqp_connection):
    first = await api.open_case(amqp_connection)
    first = (await api.move(first, "closed", outcome="no-concern")).json()
    await publish(amqp_connection, new_event(signal_received(person=first["person"])))
    cases = await eventually(
        lambda: api.cases_of(first["person"]), lambda cs: len(cs) == 2, what="a new case"
    )
    newer = next(c for c in cases if c["id"] != first["id"])
    assert newer["status"] == "open" and newer["previous_case_id"] == first["id"]
    refused = problem(await api.move(first, "reopened", reason="new-signal"))
    assert refused["status"] == 409 and newer["id"] in refused["detail"]
    assert (await api.case(first["id"]))["status"] == "closed"

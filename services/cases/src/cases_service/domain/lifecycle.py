"""What may happen to a case: the one table of allowed status transitions.

Read a row as: a case in status FROM moves to status TO by ACTION, and only
in the programmes listed (blank: every programme). Every pair of statuses that
is not a row is refused. Actions:

- assign          an area manager assigns a worker (POST .../assignment)
- decide          the worker or area manager moves the case (POST .../status)
- close           the same endpoint with status "closed"; needs an outcome
- reopen          the same endpoint with status "reopened"; needs a reason
- screen          a completed screening whose outcome is start-trajectory (POST .../screenings)
- request-letter  the worker asks for the mayor's letter (POST .../letters)
- letter-sent     the notifications service reports its delivery (event mayor-letter-sent)
- record-answer   the youth's answer to the letter (POST .../letters/{id}/answer)

Besides the table, two rules: a case needs a worker before it enters
screening, active, on-hold or letter-requested (``NEEDS_WORKER``), and
(re)assigning a worker to a case that already has one does not change its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from buurtsignaal_contracts.codes import CaseStatus, Programme
from cases_service.domain.refusals import TransitionRefused


class Action(StrEnum):
    ASSIGN = "assign"
    DECIDE = "decide"
    CLOSE = "close"
    REOPEN = "reopen"
    SCREEN = "screen"
    REQUEST_LETTER = "request-letter"
    LETTER_SENT = "letter-sent"
    RECORD_ANSWER = "record-answer"


@dataclass(frozen=True)
class Transition:
    source: CaseStatus
    target: CaseStatus
    action: Action
    programmes: frozenset[Programme] | None = None  # None: every programme

    def applies_to(self, programme: Programme) -> bool:
        return self.programmes is None or programme in self.programmes


OPEN = CaseStatus.OPEN
ASSIGNED = CaseStatus.ASSIGNED
SCREENING = CaseStatus.SCREENING
ACTIVE = CaseStatus.ACTIVE
ON_HOLD = CaseStatus.ON_HOLD
LETTER_REQUESTED = CaseStatus.LETTER_REQUESTED
LETTER_DELIVERED = CaseStatus.LETTER_DELIVERED
ANSWER_RECORDED = CaseStatus.ANSWER_RECORDED
CLOSED = CaseStatus.CLOSED
REOPENED = CaseStatus.REOPENED

INTENSIVE = frozenset({Programme.INTENSIVE_YOUTH_WORK})
A = Action

# fmt: off
TRANSITIONS: tuple[Transition, ...] = tuple(Transition(*row) for row in (
    # from              to                  by                  only in
    (OPEN,              ASSIGNED,           A.ASSIGN),
    (OPEN,              CLOSED,             A.CLOSE),

    (ASSIGNED,          SCREENING,          A.DECIDE),
    (ASSIGNED,          ACTIVE,             A.DECIDE),
    (ASSIGNED,          ON_HOLD,            A.DECIDE),
    (ASSIGNED,          LETTER_REQUESTED,   A.REQUEST_LETTER,   INTENSIVE),
    (ASSIGNED,          CLOSED,             A.CLOSE),

    (SCREENING,         ACTIVE,             A.SCREEN),
    (SCREENING,         ON_HOLD,            A.DECIDE),
    (SCREENING,         CLOSED,             A.CLOSE),

    (ACTIVE,            ON_HOLD,            A.DECIDE),
    (ACTIVE,            LETTER_REQUESTED,   A.REQUEST_LETTER,   INTENSIVE),
    (ACTIVE,            CLOSED,             A.CLOSE),

    (ON_HOLD,           ASSIGNED,           A.DECIDE),
    (ON_HOLD,           SCREENING,          A.DECIDE),
    (ON_HOLD,           ACTIVE,             A.DECIDE),
    (ON_HOLD,           CLOSED,             A.CLOSE),

    (LETTER_REQUESTED,  LETTER_DELIVERED,   A.LETTER_SENT,      INTENSIVE),
    (LETTER_REQUESTED,  CLOSED,             A.CLOSE),

    (LETTER_DELIVERED,  ANSWER_RECORDED,    A.RECORD_ANSWER,    INTENSIVE),
    (LETTER_DELIVERED,  CLOSED,             A.CLOSE),

    (ANSWER_RECORDED,   SCREENING,          A.DECIDE),
    (ANSWER_RECORDED,   ACTIVE,             A.DECIDE),
    (ANSWER_RECORDED,   ON_HOLD,            A.DECIDE),
    (ANSWER_RECORDED,   CLOSED,             A.CLOSE),

    (CLOSED,            REOPENED,           A.REOPEN),

    (REOPENED,          ASSIGNED,           A.ASSIGN),
    (REOPENED,          SCREENING,          A.DECIDE),
    (REOPENED,          ACTIVE,             A.DECIDE),
    (REOPENED,          LETTER_REQUESTED,   A.REQUEST_LETTER,   INTENSIVE),
    (REOPENED,          CLOSED,             A.CLOSE),
))
# fmt: on

NEEDS_WORKER = frozenset({SCREENING, ACTIVE, ON_HOLD, LETTER_REQUESTED})

_BY_PAIR = {(t.source, t.target): t for t in TRANSITIONS}
if len(_BY_PAIR) != len(TRANSITIONS):
    raise AssertionError("the transition table names a pair of statuses twice")

HOW = {
    Action.ASSIGN: "by assigning a worker (POST /api/v1/cases/{id}/assignment)",
    Action.DECIDE: "by a status change (POST /api/v1/cases/{id}/status)",
    Action.CLOSE: "by closing with an outcome (POST /api/v1/cases/{id}/status)",
    Action.REOPEN: "by reopening with a reason (POST /api/v1/cases/{id}/status)",
    Action.SCREEN: (
        "by a completed screening with outcome start-trajectory "
        "(POST /api/v1/cases/{id}/screenings)"
    ),
    Action.REQUEST_LETTER: "by requesting the mayor's letter (POST /api/v1/cases/{id}/letters)",
    Action.LETTER_SENT: "when the notifications service reports the letter delivered",
    Action.RECORD_ANSWER: (
        "by recording the youth's answer (POST /api/v1/cases/{id}/letters/{letter_id}/answer)"
    ),
}


def transition(source: CaseStatus, target: CaseStatus) -> Transition | None:
    return _BY_PAIR.get((source, target))


def next_statuses(source: CaseStatus, programme: Programme) -> list[CaseStatus]:
    """Where a case of this programme may go from ``source``, by any action."""
    return [t.target for t in TRANSITIONS if t.source is source and t.applies_to(programme)]


def check(
    source: CaseStatus,
    target: CaseStatus,
    action: Action,
    *,
    programme: Programme,
    has_worker: bool,
) -> Transition:
    """The row that allows this step, or :class:`TransitionRefused` saying why not."""
    row = transition(source, target)
    if row is None or not row.applies_to(programme):
        allowed = ", ".join(next_statuses(source, programme)) or "none"
        if row is not None:
            reason = f"the status {target} belongs to the intensive-youth-work programme only"
        else:
            reason = f"a case in status {source} cannot move to {target}"
        raise TransitionRefused(f"{reason}; from {source} it may move to: {allowed}")
    if row.action is not action:
        raise TransitionRefused(f"from {source} a case moves to {target} {HOW[row.action]}")
    if target in NEEDS_WORKER and not has_worker:
        raise TransitionRefused(f"a case needs a worker before it moves to {target}")
    return row


def markdown_table() -> str:
    """The table as the README shows it, a row per status (a test keeps the two the same)."""
    lines = ["| from | may move to (by action; * intensive-youth-work only) |", "|---|---|"]
    for source in CaseStatus:
        targets = [
            f"{t.target} ({t.action}{'*' if t.programmes else ''})"
            for t in TRANSITIONS
            if t.source is source
        ]
        lines.append(f"| {source} | {', '.join(targets)} |")
    return "\n".join(lines)

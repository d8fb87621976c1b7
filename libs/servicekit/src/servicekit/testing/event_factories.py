"""Synthetic events of every kind that a consumer's tests publish as a producer would.

``servicekit.testing.events`` has ``signal_received`` and ``case_opened``;
these add the rest. Each takes keyword overrides; ids are fresh per call, and
everything is synthetic (codes and ids only, as in every event).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from buurtsignaal_contracts.codes import (
    CaseOutcome,
    DeadlineKind,
    Escalation,
    LetterAddressee,
    LetterAnswer,
    Programme,
    ScreeningOutcome,
)
from buurtsignaal_contracts.events import (
    CaseAssigned,
    CaseClosed,
    DeadlineBreached,
    MatchParticipant,
    MayorLetterAnswered,
    MayorLetterRequested,
    ScreeningCompleted,
    SignalMatched,
    SubjectErased,
)
from servicekit.testing.events import MOMENT, a_pseudonym


def _case(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": overrides.pop("case_id", None) or uuid.uuid4(),
        "team": overrides.pop("team", "wot-west"),
        "programme": overrides.pop("programme", Programme.EARLY_SIGNALLING),
        "district": overrides.pop("district", "west"),
    }


def case_assigned(**overrides: Any) -> CaseAssigned:
    fields = {
        **_case(overrides),
        "worker": "w-west-1",
        "assigned_by": "am-02",
        "assigned_at": MOMENT,
    }
    return CaseAssigned(**{**fields, **overrides})


def deadline_breached(**overrides: Any) -> DeadlineBreached:
    fields = {
        **_case(overrides),
        "deadline": DeadlineKind.FIRST_CONTACT,
        "due_on": date(2026, 11, 10),
        "escalation": Escalation.WORKER,
        "worker": "w-west-1",
        "detected_at": MOMENT,
    }
    return DeadlineBreached(**{**fields, **overrides})


def screening_completed(**overrides: Any) -> ScreeningCompleted:
    fields = {
        **_case(overrides),
        "screening_id": uuid.uuid4(),
        "instrument": "pit-sociale-leerbaarheid",
        "instrument_version": "1.0",
        "score": 14,
        "outcome": ScreeningOutcome.START_TRAJECTORY,
        "completed_by": "w-west-1",
        "completed_at": MOMENT,
    }
    return ScreeningCompleted(**{**fields, **overrides})


def mayor_letter_requested(**overrides: Any) -> MayorLetterRequested:
    overrides.setdefault("programme", Programme.INTENSIVE_YOUTH_WORK)
    fields = {
        **_case(overrides),
        "letter_id": uuid.uuid4(),
        "person": a_pseudonym(),
        "addressees": [LetterAddressee.YOUTH, LetterAddressee.PARENTS],
        "worker": "w-west-1",
        # Now, not MOMENT: a delivery is recorded on a real day after the request.
        "requested_at": datetime.now(UTC),
    }
    return MayorLetterRequested(**{**fields, **overrides})


def mayor_letter_answered(**overrides: Any) -> MayorLetterAnswered:
    overrides.setdefault("programme", Programme.INTENSIVE_YOUTH_WORK)
    fields = {
        **_case(overrides),
        "letter_id": uuid.uuid4(),
        "answer": LetterAnswer.ACCEPTS_HELP,
        "answered_on": date(2026, 11, 12),
        "recorded_by": "w-west-1",
        "recorded_at": MOMENT,
    }
    return MayorLetterAnswered(**{**fields, **overrides})


def case_closed(**overrides: Any) -> CaseClosed:
    fields = {
        **_case(overrides),
        "outcome": CaseOutcome.RESOLVED,
        "closed_by": "am-02",
        "closed_at": MOMENT,
        "opened_at": MOMENT,
        "first_signal_at": MOMENT,
    }
    return CaseClosed(**{**fields, **overrides})


def match_participant(organisation: str, professional: str, **overrides: Any) -> MatchParticipant:
    fields = {"organisation": organisation, "professional": professional, "signal_id": uuid.uuid4()}
    return MatchParticipant(**{**fields, **overrides})


def signal_matched(**overrides: Any) -> SignalMatched:
    participants = overrides.pop("participants", None) or [
        match_participant("obs-de-singel", "r-school"),
        match_participant("politie-schiedam", "r-police"),
    ]
    fields = {
        "match_id": uuid.uuid4(),
        "person": a_pseudonym(),
        "joining_org": participants[-1].organisation,
        "joining_signal_id": participants[-1].signal_id,
        "participants": participants,
        "matched_at": MOMENT,
    }
    return SignalMatched(**{**fields, **overrides})


def subject_erased(**overrides: Any) -> SubjectErased:
    fields = {"erasure_id": uuid.uuid4(), "person": a_pseudonym(), "erased_at": MOMENT}
    return SubjectErased(**{**fields, **overrides})

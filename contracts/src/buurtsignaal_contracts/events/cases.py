"""Events published by the cases service.

Most carry team, programme and district so that reporting can count them
without asking anyone.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import AwareDatetime, Field

from buurtsignaal_contracts.codes import (
    CaseOutcome,
    CaseStatus,
    Code,
    ContactKind,
    DeadlineKind,
    Escalation,
    LetterAddressee,
    LetterAnswer,
    PartOfDay,
    Priority,
    Programme,
    Pseudonym,
    ReopenReason,
    ScreeningOutcome,
    SourceType,
    UserRef,
    Version,
)
from buurtsignaal_contracts.envelope import EventData, event


class CaseFacts(EventData):
    """What reporting and notifications need to place an event of a case."""

    case_id: uuid.UUID
    team: Code
    programme: Programme
    district: Code


@event("cases", "case-opened", 1, subject="case_id")
class CaseOpened(CaseFacts):
    """A signal opened a case for a person in a programme, owned by the team of the district."""

    person: Pseudonym
    signal_id: uuid.UUID
    source_type: SourceType
    priority: Priority = Priority.NORMAL
    opened_at: AwareDatetime
    first_signal_at: AwareDatetime


@event("cases", "case-assigned", 1, subject="case_id")
class CaseAssigned(CaseFacts):
    """An area manager assigned (or reassigned) a worker to the case."""

    worker: UserRef
    previous_worker: UserRef | None = None
    assigned_by: UserRef
    assigned_at: AwareDatetime


@event("cases", "case-status-changed", 1, subject="case_id")
class CaseStatusChanged(CaseFacts):
    """The case moved from one status to another (see the transition table of the cases service)."""

    from_status: CaseStatus
    to_status: CaseStatus
    changed_by: UserRef | None = None
    changed_at: AwareDatetime


@event("cases", "screening-completed", 1, subject="case_id")
class ScreeningCompleted(CaseFacts):
    """A social-learnability screening was scored; its outcome decides on a trajectory."""

    screening_id: uuid.UUID
    instrument: Code
    instrument_version: Version
    score: int
    outcome: ScreeningOutcome
    completed_by: UserRef
    completed_at: AwareDatetime


@event("cases", "contact-recorded", 1, subject="case_id")
class ContactRecorded(CaseFacts):
    """A contact attempt with the person or family; its minutes add up to work-plan hours."""

    contact_id: uuid.UUID
    kind: ContactKind
    reached: bool
    contact_date: date
    part_of_day: PartOfDay
    minutes: int = Field(ge=0, le=1440)
    worker: UserRef
    recorded_at: AwareDatetime


@event("cases", "mayor-letter-requested", 1, subject="letter_id")
class MayorLetterRequested(CaseFacts):
    """The worker asks for the mayor's letter.

    Carries the pseudonym only: the notifications service fetches the names
    and address from the signals service at the moment it renders the letter.
    """

    letter_id: uuid.UUID
    person: Pseudonym
    addressees: list[LetterAddressee] = Field(min_length=1)
    worker: UserRef
    requested_at: AwareDatetime


@event("cases", "mayor-letter-answered", 1, subject="letter_id")
class MayorLetterAnswered(CaseFacts):
    """The youth answered the mayor's letter: accepts help or declines."""

    letter_id: uuid.UUID
    answer: LetterAnswer
    answered_on: date
    recorded_by: UserRef
    recorded_at: AwareDatetime


@event("cases", "deadline-breached", 1, subject="case_id")
class DeadlineBreached(CaseFacts):
    """A deadline in working days passed: told to the worker, later to the area manager."""

    deadline: DeadlineKind
    due_on: date
    escalation: Escalation
    worker: UserRef | None = None
    area_manager: UserRef | None = None
    detected_at: AwareDatetime


@event("cases", "case-closed", 1, subject="case_id")
class CaseClosed(CaseFacts):
    """The case was closed with an outcome."""

    outcome: CaseOutcome
    closed_by: UserRef
    closed_at: AwareDatetime
    opened_at: AwareDatetime
    first_signal_at: AwareDatetime


@event("cases", "case-reopened", 1, subject="case_id")
class CaseReopened(CaseFacts):
    """A closed case was reopened, with a reason."""

    reason: ReopenReason
    reopened_by: UserRef | None = None
    reopened_at: AwareDatetime

"""Request and response bodies of the cases API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from buurtsignaal_contracts.codes import (
    CaseOutcome,
    CaseStatus,
    Category,
    ContactKind,
    DeadlineKind,
    LetterAddressee,
    LetterAnswer,
    LetterDeliveryMethod,
    LetterHandedTo,
    PartOfDay,
    Priority,
    Programme,
    ReopenReason,
    ScreeningOutcome,
    SourceType,
    UserRef,
)
from cases_service.domain.case import Case, Contact, Letter
from cases_service.domain.deadlines import Deadline
from cases_service.domain.timeline import TimelineEntry
from cases_service.store import ScreeningRecord

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
CaseVersion = Annotated[
    int, Field(ge=1, description="The version of the case you saw (optimistic concurrency)")
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ requests


class AssignmentIn(Body):
    worker: UserRef = Field(description="Account id (token sub) of the worker")
    version: CaseVersion


class StatusChangeIn(Body):
    status: CaseStatus
    version: CaseVersion
    outcome: CaseOutcome | None = Field(None, description="Required when closing, else absent")
    reason: ReopenReason | None = Field(None, description="Required when reopening, else absent")


class ScreeningIn(Body):
    instrument: Slug = Field(description="e.g. social-learnability")
    instrument_version: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+){0,2}$")]
    answers: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=64)]] = (
        Field(max_length=200, description="question id -> answer value, per the definition")
    )
    version: CaseVersion


class ContactIn(Body):
    kind: ContactKind
    reached: bool
    contact_date: date
    part_of_day: PartOfDay
    minutes: int = Field(ge=0, le=1440, description="Minutes spent, travel included")


class LetterRequestIn(Body):
    addressees: list[LetterAddressee] = Field(min_length=1, max_length=2)
    version: CaseVersion


class LetterAnswerIn(Body):
    answer: LetterAnswer
    answered_on: date
    version: CaseVersion


# ----------------------------------------------------------------- responses


class SignalOnCase(BaseModel):
    signal_id: uuid.UUID
    source_type: SourceType
    reporting_org: str
    category: Category
    received_at: datetime
    state: Literal["active", "withdrawn", "expired"]


class InvolvedOrganisationOut(BaseModel):
    organisation: str
    professional: str = Field(description="Account id of the professional to contact")
    signal_id: uuid.UUID


DeadlineState = Literal["pending", "overdue", "met", "met-late", "cancelled"]


class DeadlineOut(BaseModel):
    kind: DeadlineKind
    starts_on: date
    working_days: int
    due_on: date
    escalates_on: date = Field(description="After this day the area manager is told")
    state: DeadlineState
    met_on: date | None
    cancelled_on: date | None
    worker_told_at: datetime | None
    area_manager_told_at: datetime | None

    @classmethod
    def of(cls, d: Deadline, today: date) -> DeadlineOut:
        if d.cancelled_on is not None:
            state: DeadlineState = "cancelled"
        elif d.met_on is not None:
            state = "met-late" if d.met_late else "met"
        else:
            state = "overdue" if d.overdue(today) else "pending"
        return cls(
            kind=d.kind,
            starts_on=d.starts_on,
            working_days=d.working_days,
            due_on=d.due_on,
            escalates_on=d.escalates_on,
            state=state,
            met_on=d.met_on,
            cancelled_on=d.cancelled_on,
            worker_told_at=d.worker_told_at,
            area_manager_told_at=d.area_manager_told_at,
        )


class LetterOut(BaseModel):
    id: uuid.UUID
    addressees: list[LetterAddressee]
    requested_by: str
    requested_at: datetime
    delivered_on: date | None
    method: LetterDeliveryMethod | None
    handed_to: LetterHandedTo | None
    answer: LetterAnswer | None
    answered_on: date | None

    @classmethod
    def of(cls, x: Letter) -> LetterOut:
        return cls(**vars(x))


class ScreeningSummaryOut(BaseModel):
    screening_id: uuid.UUID
    instrument: str
    instrument_version: str
    score: int
    outcome: ScreeningOutcome
    completed_by: str
    completed_at: datetime


class CaseOut(BaseModel):
    id: uuid.UUID
    person: str = Field(description="Pseudonym of the person")
    programme: Programme
    team: str
    district: str
    status: CaseStatus
    next_statuses: list[CaseStatus] = Field(
        description="Where the case may go from here, by any action (see the transition table)"
    )
    priority: Priority
    worker: str | None
    opened_at: datetime
    first_signal_at: datetime
    closed_at: datetime | None
    outcome: CaseOutcome | None
    overdue: bool
    version: int
    earlier_signal_existed: bool
    previous_case_id: uuid.UUID | None
    signals: list[SignalOnCase]
    involved_organisations: list[InvolvedOrganisationOut]
    deadlines: list[DeadlineOut]
    letters: list[LetterOut]
    screening: ScreeningSummaryOut | None

    @classmethod
    def of(cls, case: Case, today: date) -> CaseOut:
        return cls(
            id=case.id,
            person=case.person,
            programme=case.programme,
            team=case.team,
            district=case.district,
            status=case.status,
            next_statuses=case.next_statuses(),
            priority=case.priority,
            worker=case.worker,
            opened_at=case.opened_at,
            first_signal_at=case.first_signal_at,
            closed_at=case.closed_at,
            outcome=case.outcome,
            overdue=case.overdue(today),
            version=case.version,
            earlier_signal_existed=case.earlier_signal_existed,
            previous_case_id=case.previous_case_id,
            signals=[SignalOnCase(**vars(s)) for s in case.signals],
            involved_organisations=[InvolvedOrganisationOut(**vars(i)) for i in case.involved],
            deadlines=[DeadlineOut.of(d, today) for d in case.deadlines],
            letters=[LetterOut.of(x) for x in case.letters],
            screening=ScreeningSummaryOut(**vars(case.screening)) if case.screening else None,
        )


class CasePage(BaseModel):
    items: list[CaseOut]
    offset: int
    limit: int
    total: int = Field(description="How many cases match the filters")


class ContactOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: ContactKind
    reached: bool
    contact_date: date
    part_of_day: PartOfDay
    minutes: int
    worker: str
    recorded_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(**vars(contact))


class RecordedContact(ContactOut):
    case_version: int
    case_status: CaseStatus


class ContactList(BaseModel):
    items: list[ContactOut]
    minutes_total: int


class ScreeningOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    instrument: str
    instrument_version: str
    answers: dict[str, str]
    score: int
    outcome: ScreeningOutcome
    completed_by: str
    completed_at: datetime

    @classmethod
    def of(cls, record: ScreeningRecord) -> ScreeningOut:
        return cls(**vars(record))


class CompletedScreening(ScreeningOut):
    case_version: int
    case_status: CaseStatus


class ScreeningList(BaseModel):
    items: list[ScreeningOut]


class RequestedLetter(LetterOut):
    case_id: uuid.UUID
    case_version: int
    case_status: CaseStatus


class TimelineEntryOut(BaseModel):
    on: date = Field(description="The day it happened (Europe/Amsterdam)")
    at: datetime = Field(description="When it was recorded")
    kind: str
    by: str | None = Field(description="Account id; null when the system did it")
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryOut:
        return cls(**vars(entry))


class Timeline(BaseModel):
    case_id: uuid.UUID
    entries: list[TimelineEntryOut]


class InstrumentSummary(BaseModel):
    instrument: str
    version: str
    title: str
    questions: int

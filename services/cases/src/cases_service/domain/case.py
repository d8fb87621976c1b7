"""The case aggregate: one person, one programme, one team.

Every change goes through a method here; the method checks the rules
(the transition table in ``lifecycle``, the deadlines in ``deadlines``),
changes the case, adds to its history and collects the events it causes.
The service layer writes the case and emits :meth:`Case.take_events` in the
same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from buurtsignaal_contracts import EventData
from buurtsignaal_contracts.codes import (
    CaseOutcome,
    CaseStatus,
    Category,
    ContactKind,
    DeadlineKind,
    Escalation,
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
    WithdrawalReason,
)
from buurtsignaal_contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CaseStatusChanged,
    ContactRecorded,
    DeadlineBreached,
    MayorLetterAnswered,
    MayorLetterRequested,
    ScreeningCompleted,
)
from cases_service.domain import lifecycle
from cases_service.domain.deadlines import FROM_FIRST_SIGNAL, Deadline, DeadlineRules
from cases_service.domain.lifecycle import Action
from cases_service.domain.refusals import InvalidStep, TransitionRefused
from cases_service.domain.screening import ScoredScreening

SYSTEM = "system"
"""Who closes a case the rules close by themselves (``closed_by`` of case-closed)."""

SignalState = Literal["active", "withdrawn", "expired"]


@dataclass(frozen=True)
class Change:
    """Who changes a case (None: the system), when, under which deadline rules."""

    by: str | None
    now: datetime
    rules: DeadlineRules

    @property
    def today(self) -> date:
        return self.rules.local_date(self.now)


@dataclass
class SignalRef:
    """What a case knows of a signal: codes and dates, never its content."""

    signal_id: uuid.UUID
    source_type: SourceType
    reporting_org: str
    category: Category
    received_at: datetime
    state: SignalState = "active"


@dataclass(frozen=True)
class InvolvedOrganisation:
    """Another organisation that signalled this person (a match): whom to call."""

    organisation: str
    professional: str
    signal_id: uuid.UUID


@dataclass
class Letter:
    id: uuid.UUID
    addressees: list[LetterAddressee]
    requested_by: str
    requested_at: datetime
    delivered_on: date | None = None
    method: LetterDeliveryMethod | None = None
    handed_to: LetterHandedTo | None = None
    answer: LetterAnswer | None = None
    answered_on: date | None = None


@dataclass(frozen=True)
class ScreeningSummary:
    screening_id: uuid.UUID
    instrument: str
    instrument_version: str
    score: int
    outcome: ScreeningOutcome
    completed_by: str
    completed_at: datetime


@dataclass(frozen=True)
class Contact:
    """One contact attempt (kept in its own collection; the case keeps its effect)."""

    id: uuid.UUID
    case_id: uuid.UUID
    kind: ContactKind
    reached: bool
    contact_date: date
    part_of_day: PartOfDay
    minutes: int
    worker: str
    recorded_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One thing that happened to the case, for its timeline. Codes only."""

    kind: str
    at: datetime
    by: str | None
    details: dict[str, Any] = field(default_factory=dict)
    on: date | None = None  # when it happened, if not the day it was recorded


@dataclass
class Case:
    id: uuid.UUID
    person: str
    programme: Programme
    team: str
    district: str
    status: CaseStatus
    priority: Priority
    opened_at: datetime
    first_signal_at: datetime
    signals: list[SignalRef] = field(default_factory=list)
    worker: str | None = None
    outcome: CaseOutcome | None = None
    closed_at: datetime | None = None
    earlier_signal_existed: bool = False
    previous_case_id: uuid.UUID | None = None
    involved: list[InvolvedOrganisation] = field(default_factory=list)
    match_ids: list[uuid.UUID] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    letters: list[Letter] = field(default_factory=list)
    screening: ScreeningSummary | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    version: int = 1
    _events: list[EventData] = field(default_factory=list, repr=False, compare=False)

    # ----------------------------------------------------------------- reading

    @property
    def is_open(self) -> bool:
        return self.status is not CaseStatus.CLOSED

    def has_signal(self, signal_id: uuid.UUID) -> bool:
        return any(s.signal_id == signal_id for s in self.signals)

    def overdue(self, today: date) -> bool:
        return any(d.overdue(today) for d in self.deadlines)

    @property
    def next_due_on(self) -> date | None:
        """The earliest due day of a deadline still to be met (for the overdue filter)."""
        return min((d.due_on for d in self.deadlines if d.pending), default=None)

    @property
    def next_alert_on(self) -> date | None:
        """After this day a breach must be told (for the scheduler's query)."""
        days = [d for d in (x.next_alert_on() for x in self.deadlines) if d is not None]
        return min(days, default=None)

    def letter(self, letter_id: uuid.UUID) -> Letter | None:
        return next((x for x in self.letters if x.id == letter_id), None)

    def next_statuses(self) -> list[CaseStatus]:
        return lifecycle.next_statuses(self.status, self.programme)

    def take_events(self) -> list[EventData]:
        events, self._events = self._events, []
        return events

    def _facts(self) -> dict[str, Any]:
        return {
            "case_id": self.id,
            "team": self.team,
            "programme": self.programme,
            "district": self.district,
        }

    # ----------------------------------------------------------------- opening

    @classmethod
    def open_for(
        cls,
        signal: SignalRef,
        *,
        person: str,
        programme: Programme,
        team: str,
        district: str,
        change: Change,
        earlier_signal_existed: bool = False,
        previous_case_id: uuid.UUID | None = None,
        known_match: tuple[list[uuid.UUID], list[InvolvedOrganisation]] | None = None,
    ) -> Case:
        """A new case; ``known_match`` is what earlier signal-matched events told."""
        case = cls(
            id=uuid.uuid4(),
            person=person,
            programme=programme,
            team=team,
            district=district,
            status=CaseStatus.OPEN,
            priority=Priority.NORMAL,
            opened_at=change.now,
            first_signal_at=signal.received_at,
            signals=[signal],
            earlier_signal_existed=earlier_signal_existed,
            previous_case_id=previous_case_id,
        )
        case._start_signal_deadlines(
            change.rules.local_date(signal.received_at), change, fresh=True
        )
        if known_match is not None:
            case.apply_match(*known_match, change)
        case._events.append(
            CaseOpened(
                **case._facts(),
                person=person,
                signal_id=signal.signal_id,
                source_type=signal.source_type,
                priority=case.priority,
                opened_at=case.opened_at,
                first_signal_at=case.first_signal_at,
            )
        )
        return case

    def add_signal(self, signal: SignalRef, *, earlier_signal_existed: bool = False) -> bool:
        """Join a later signal to this case; False when it is already on it."""
        if self.has_signal(signal.signal_id):
            return False
        self.signals.append(signal)
        self.first_signal_at = min(self.first_signal_at, signal.received_at)
        self.earlier_signal_existed = self.earlier_signal_existed or earlier_signal_existed
        return True

    # -------------------------------------------------------------- assignment

    def assign(self, worker: str, change: Change) -> bool:
        """An area manager assigns (or reassigns) a worker; False when nothing changes."""
        if self.status is CaseStatus.CLOSED:
            raise TransitionRefused("a closed case cannot be assigned; reopen it first")
        moves = self.status in (CaseStatus.OPEN, CaseStatus.REOPENED)
        if not moves and worker == self.worker:
            return False
        if moves:
            lifecycle.check(
                self.status,
                CaseStatus.ASSIGNED,
                Action.ASSIGN,
                programme=self.programme,
                has_worker=True,
            )
        previous, self.worker = self.worker, worker
        self._record(
            "assigned",
            change,
            {"worker": worker, "previous_worker": previous},
        )
        self._events.append(
            CaseAssigned(
                **self._facts(),
                worker=worker,
                previous_worker=previous,
                assigned_by=change.by or SYSTEM,
                assigned_at=change.now,
            )
        )
        if moves:
            self._move(CaseStatus.ASSIGNED, change)
        return True

    # ---------------------------------------------------------- status changes

    def change_status(
        self,
        target: CaseStatus,
        change: Change,
        *,
        outcome: CaseOutcome | None = None,
        reason: ReopenReason | None = None,
    ) -> None:
        """A decision of the worker or area manager, including closing and reopening."""
        if target is CaseStatus.CLOSED:
            action = Action.CLOSE
        elif target is CaseStatus.REOPENED:
            action = Action.REOPEN
        else:
            action = Action.DECIDE
        lifecycle.check(
            self.status,
            target,
            action,
            programme=self.programme,
            has_worker=self.worker is not None,
        )
        if action is Action.CLOSE and outcome is None:
            raise InvalidStep("outcome", "closing a case needs an outcome", "missing")
        if action is not Action.CLOSE and outcome is not None:
            raise InvalidStep("outcome", "an outcome is given only when closing", "not-allowed")
        if action is Action.REOPEN and reason is None:
            raise InvalidStep("reason", "reopening a case needs a reason", "missing")
        if action is not Action.REOPEN and reason is not None:
            raise InvalidStep("reason", "a reason is given only when reopening", "not-allowed")
        if action is Action.CLOSE:
            assert outcome is not None
            self._close(outcome, change)
        elif action is Action.REOPEN:
            assert reason is not None
            self._reopen(reason, change)
        else:
            self._move(target, change)

    def _move(self, target: CaseStatus, change: Change, **details: Any) -> None:
        source, self.status = self.status, target
        self._record("status-changed", change, {"from": source, "to": target, **details})
        self._events.append(
            CaseStatusChanged(
                **self._facts(),
                from_status=source,
                to_status=target,
                changed_by=change.by,
                changed_at=change.now,
            )
        )
        if target is CaseStatus.ACTIVE:
            self._meet(DeadlineKind.TRUANCY_INVESTIGATION, change.today)

    def _close(self, outcome: CaseOutcome, change: Change) -> None:
        self._move(CaseStatus.CLOSED, change, outcome=outcome)
        self.outcome = outcome
        self.closed_at = change.now
        for deadline in self.deadlines:
            if deadline.pending:
                deadline.cancelled_on = change.today
        self._events.append(
            CaseClosed(
                **self._facts(),
                outcome=outcome,
                closed_by=change.by or SYSTEM,
                closed_at=change.now,
                opened_at=self.opened_at,
                first_signal_at=self.first_signal_at,
            )
        )

    def _reopen(self, reason: ReopenReason, change: Change) -> None:
        self._move(CaseStatus.REOPENED, change, reason=reason)
        self.outcome = None
        self.closed_at = None
        self._start_signal_deadlines(change.today, change, fresh=False)
        self._events.append(
            CaseReopened(
                **self._facts(),
                reason=reason,
                reopened_by=change.by,
                reopened_at=change.now,
            )
        )

    # -------------------------------------------------------------- screening

    def complete_screening(
        self, screening_id: uuid.UUID, scored: ScoredScreening, change: Change
    ) -> None:
        if self.status is not CaseStatus.SCREENING:
            raise TransitionRefused(
                f"a screening is recorded while the case is in status screening; it is "
                f"{self.status}"
            )
        by = _required(change.by)
        self.screening = ScreeningSummary(
            screening_id=screening_id,
            instrument=scored.instrument,
            instrument_version=scored.version,
            score=scored.score,
            outcome=scored.outcome,
            completed_by=by,
            completed_at=change.now,
        )
        self._record(
            "screening-completed",
            change,
            {
                "screening_id": str(screening_id),
                "instrument": scored.instrument,
                "instrument_version": scored.version,
                "score": scored.score,
                "outcome": scored.outcome,
            },
        )
        self._meet(DeadlineKind.SCREENING, change.today)
        self._events.append(
            ScreeningCompleted(
                **self._facts(),
                screening_id=screening_id,
                instrument=scored.instrument,
                instrument_version=scored.version,
                score=scored.score,
                outcome=scored.outcome,
                completed_by=by,
                completed_at=change.now,
            )
        )
        # The outcome decides: a trajectory starts at once; otherwise the case
        # waits in screening for the worker to close it (referred to care, or
        # no concern) or to screen again.
        if scored.outcome is ScreeningOutcome.START_TRAJECTORY:
            lifecycle.check(
                self.status,
                CaseStatus.ACTIVE,
                Action.SCREEN,
                programme=self.programme,
                has_worker=self.worker is not None,
            )
            self._move(CaseStatus.ACTIVE, change)

    # --------------------------------------------------------------- contacts

    def record_contact(
        self,
        *,
        kind: ContactKind,
        reached: bool,
        contact_date: date,
        part_of_day: PartOfDay,
        minutes: int,
        change: Change,
    ) -> Contact:
        if not self.is_open:
            raise TransitionRefused("contacts are recorded on open cases; reopen it first")
        if contact_date > change.today:
            raise InvalidStep("contact_date", "lies in the future", "future")
        if contact_date < change.rules.local_date(self.first_signal_at):
            raise InvalidStep("contact_date", "lies before the case's first signal", "too-early")
        contact = Contact(
            id=uuid.uuid4(),
            case_id=self.id,
            kind=kind,
            reached=reached,
            contact_date=contact_date,
            part_of_day=part_of_day,
            minutes=minutes,
            worker=_required(change.by),
            recorded_at=change.now,
        )
        # First contact means the person or family was reached, not merely tried.
        if reached:
            self._meet(DeadlineKind.FIRST_CONTACT, contact_date)
        self._events.append(
            ContactRecorded(
                **self._facts(),
                contact_id=contact.id,
                kind=kind,
                reached=reached,
                contact_date=contact_date,
                part_of_day=part_of_day,
                minutes=minutes,
                worker=contact.worker,
                recorded_at=change.now,
            )
        )
        return contact

    # ------------------------------------------------------ the mayor's letter

    def request_letter(self, addressees: list[LetterAddressee], change: Change) -> Letter:
        lifecycle.check(
            self.status,
            CaseStatus.LETTER_REQUESTED,
            Action.REQUEST_LETTER,
            programme=self.programme,
            has_worker=self.worker is not None,
        )
        by = _required(change.by)
        letter = Letter(
            id=uuid.uuid4(),
            addressees=sorted(set(addressees)),
            requested_by=by,
            requested_at=change.now,
        )
        self.letters.append(letter)
        self._record("letter-requested", change, {"letter_id": str(letter.id)})
        self._start(DeadlineKind.LETTER_DELIVERED, change.today, change)
        self._events.append(
            MayorLetterRequested(
                **self._facts(),
                letter_id=letter.id,
                person=self.person,
                addressees=letter.addressees,
                worker=by,
                requested_at=change.now,
            )
        )
        self._move(CaseStatus.LETTER_REQUESTED, change)
        return letter

    def letter_delivered(
        self,
        letter_id: uuid.UUID,
        *,
        method: LetterDeliveryMethod,
        handed_to: LetterHandedTo,
        delivered_on: date,
        change: Change,
    ) -> bool:
        """The notifications service delivered the letter; False when already known."""
        letter = self.letter(letter_id)
        if letter is None:
            raise UnknownLetter(letter_id)
        if letter.delivered_on is not None:
            return False
        letter.delivered_on, letter.method, letter.handed_to = delivered_on, method, handed_to
        self._record(
            "letter-delivered",
            change,
            {"letter_id": str(letter_id), "method": method, "handed_to": handed_to},
            on=delivered_on,
        )
        self._meet(DeadlineKind.LETTER_DELIVERED, delivered_on)
        # A case closed in the meantime keeps the fact, and needs no answer.
        if self.status is CaseStatus.LETTER_REQUESTED:
            lifecycle.check(
                self.status,
                CaseStatus.LETTER_DELIVERED,
                Action.LETTER_SENT,
                programme=self.programme,
                has_worker=self.worker is not None,
            )
            self._move(CaseStatus.LETTER_DELIVERED, change)
            self._start(DeadlineKind.LETTER_ANSWER, delivered_on, change)
        return True

    def record_answer(
        self, letter_id: uuid.UUID, answer: LetterAnswer, answered_on: date, change: Change
    ) -> None:
        letter = self.letter(letter_id)
        if letter is None:
            raise UnknownLetter(letter_id)
        if letter.delivered_on is None:
            raise TransitionRefused("the letter has not been delivered yet", field="letter_id")
        if letter.answer is not None:
            raise TransitionRefused("the answer to this letter is recorded already", "letter_id")
        lifecycle.check(
            self.status,
            CaseStatus.ANSWER_RECORDED,
            Action.RECORD_ANSWER,
            programme=self.programme,
            has_worker=self.worker is not None,
        )
        if answered_on > change.today:
            raise InvalidStep("answered_on", "lies in the future", "future")
        if answered_on < letter.delivered_on:
            raise InvalidStep("answered_on", "lies before the letter was delivered", "too-early")
        by = _required(change.by)
        letter.answer, letter.answered_on = answer, answered_on
        self._record(
            "letter-answered",
            change,
            {"letter_id": str(letter_id), "answer": answer},
            on=answered_on,
        )
        self._meet(DeadlineKind.LETTER_ANSWER, answered_on)
        self._events.append(
            MayorLetterAnswered(
                **self._facts(),
                letter_id=letter_id,
                answer=answer,
                answered_on=answered_on,
                recorded_by=by,
                recorded_at=change.now,
            )
        )
        self._move(CaseStatus.ANSWER_RECORDED, change)

    # ------------------------------------------------- what signals tell us

    def apply_match(
        self,
        match_ids: list[uuid.UUID],
        participants: list[InvolvedOrganisation],
        change: Change,
    ) -> bool:
        """Other organisations signal this person too: raise priority, show who they are.

        False when the case knew all of it already (a match told twice).
        """
        new = [p for p in participants if p not in self.involved]
        new_ids = [m for m in match_ids if m not in self.match_ids]
        if not new and not new_ids and self.priority is Priority.HIGH:
            return False
        self.involved.extend(new)
        self.match_ids.extend(new_ids)
        raised = self.priority is not Priority.HIGH
        self.priority = Priority.HIGH
        self._record(
            "matched",
            change,
            {
                "match_ids": [str(m) for m in match_ids],
                "organisations": sorted({p.organisation for p in participants}),
                "priority_raised": raised,
            },
        )
        return True

    def signal_withdrawn(
        self, signal_id: uuid.UUID, reason: WithdrawalReason, change: Change
    ) -> bool:
        """A withdrawn signal: a wrongful one leaves the case entirely, others are marked.

        A case nobody has started on (still open, no worker) that is left
        without an active signal is closed by the system: there is nothing to act on.
        """
        signal = next((s for s in self.signals if s.signal_id == signal_id), None)
        if signal is None or signal.state == "withdrawn":
            return False
        if reason is WithdrawalReason.WRONGFUL:
            # Deleted, not archived (DOMAIN.md): no trace of the signal stays here.
            self.signals.remove(signal)
            self.involved = [i for i in self.involved if i.signal_id != signal_id]
            self._record("signal-withdrawn", change, {"reason": reason})
        else:
            signal.state = "withdrawn"
            self._record(
                "signal-withdrawn", change, {"signal_id": str(signal_id), "reason": reason}
            )
        if self.status is CaseStatus.OPEN and not any(s.state == "active" for s in self.signals):
            outcome = (
                CaseOutcome.RESOLVED
                if reason is WithdrawalReason.RESOLVED
                else CaseOutcome.NO_CONCERN
            )
            lifecycle.check(
                self.status,
                CaseStatus.CLOSED,
                Action.CLOSE,
                programme=self.programme,
                has_worker=self.worker is not None,
            )
            self._close(outcome, change)
        return True

    def signal_expired(self, signal_id: uuid.UUID, change: Change) -> bool:
        signal = next((s for s in self.signals if s.signal_id == signal_id), None)
        if signal is None or signal.state != "active":
            return False
        signal.state = "expired"
        self._record("signal-expired", change, {"signal_id": str(signal_id)})
        return True

    # -------------------------------------------------------------- deadlines

    def breaches_due(self, today: date) -> list[tuple[Deadline, Escalation]]:
        if not self.is_open:
            return []
        return [(d, e) for d in self.deadlines for e in d.escalations_due(today)]

    def tell_breaches(self, change: Change, area_manager: str | None) -> list[Escalation]:
        """Raise deadline-breached for every breach due and not told yet (exactly once)."""
        due = self.breaches_due(change.today)
        for deadline, escalation in due:
            deadline.mark_told(escalation, change.now)
            self._record(
                "deadline-breached",
                change,
                {
                    "deadline": deadline.kind,
                    "due_on": deadline.due_on.isoformat(),
                    "escalation": escalation,
                },
            )
            self._events.append(
                DeadlineBreached(
                    **self._facts(),
                    deadline=deadline.kind,
                    due_on=deadline.due_on,
                    escalation=escalation,
                    worker=self.worker,
                    area_manager=area_manager,
                    detected_at=change.now,
                )
            )
        return [escalation for _, escalation in due]

    def _start_signal_deadlines(self, starts_on: date, change: Change, *, fresh: bool) -> None:
        """Deadlines counted from the first signal; on reopening, from the reopening day.

        Reopening starts first contact again, and the others only if they were
        never met before.
        """
        for kind in FROM_FIRST_SIGNAL:
            met_before = any(d.kind is kind and d.met_on is not None for d in self.deadlines)
            if fresh or kind is DeadlineKind.FIRST_CONTACT or not met_before:
                self._start(kind, starts_on, change)

    def _start(self, kind: DeadlineKind, starts_on: date, change: Change) -> None:
        deadline = change.rules.start(self.programme, kind, starts_on)
        if deadline is not None:
            self.deadlines.append(deadline)

    def _meet(self, kind: DeadlineKind, on: date) -> None:
        for deadline in self.deadlines:
            if deadline.kind is kind and deadline.pending:
                deadline.met_on = on

    def _record(
        self, kind: str, change: Change, details: dict[str, Any], on: date | None = None
    ) -> None:
        clean = {k: (v.value if hasattr(v, "value") else v) for k, v in details.items()}
        self.history.append(HistoryEntry(kind, change.now, change.by, clean, on))


class UnknownLetter(Exception):
    def __init__(self, letter_id: uuid.UUID) -> None:
        super().__init__(f"no letter {letter_id} on this case")
        self.letter_id = letter_id


def _required(by: str | None) -> str:
    if by is None:
        raise ValueError("this change needs a person who makes it")
    return by

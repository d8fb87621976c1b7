"""Synthetic events of every kind, as their producers publish them, and a
synthetic year of casework in Schiedam (seeded, so every run is the same)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from buurtsignaal_contracts import CloudEvent, new_event
from buurtsignaal_contracts.codes import (
    AgeBand,
    CaseOutcome,
    CaseStatus,
    Category,
    ContactKind,
    DeadlineKind,
    Escalation,
    EventTypeName,  # noqa: F401  (documents the type of cause_event_type)
    ExpiryReason,
    LetterAddressee,
    LetterAnswer,
    LetterDeliveryMethod,
    LetterHandedTo,
    NotificationChannel,
    PartOfDay,
    Programme,
    RecipientKind,
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
    MatchParticipant,
    MayorLetterAnswered,
    MayorLetterRequested,
    MayorLetterSent,
    NotificationSent,
    ScreeningCompleted,
    SignalExpired,
    SignalMatched,
    SignalReceived,
    SignalWithdrawn,
    SubjectErased,
)
from servicekit.testing.events import a_pseudonym

TEAM_OF = {
    "centrum": "wot-centrum",
    "oost": "wot-oost",
    "west": "wot-west",
    "zuid": "wot-zuid",
    "nieuwland": "wot-zuid",
    "groenoord": "wot-groenoord",
    "woudhoek": "wot-groenoord",
    "noord": "wot-noord",
}


@dataclass
class Case:
    """One person's case, from which the events of its story are made."""

    person: str
    district: str
    programme: Programme
    source: SourceType
    first_signal_at: datetime
    case_id: uuid.UUID = field(default_factory=uuid.uuid4)
    signal_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def team(self) -> str:
        return TEAM_OF[self.district]

    def _facts(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "team": self.team,
            "programme": self.programme,
            "district": self.district,
        }

    def signal(self, at: datetime | None = None, **overrides: Any) -> SignalReceived:
        at = at or self.first_signal_at
        fields: dict[str, Any] = {
            "signal_id": self.signal_id,
            "person": self.person,
            "source_type": self.source,
            "reporting_org": "obs-de-singel",
            "category": Category.BEHAVIOUR_AGGRESSION,
            "district": self.district,
            "age_band": AgeBand.AGE_12_TO_17,
            "suggested_programme": self.programme,
            "occurred_on": at.date(),
            "received_at": at,
        }
        return SignalReceived(**{**fields, **overrides})

    def opened(self, at: datetime | None = None) -> CaseOpened:
        return CaseOpened(
            **self._facts(),
            person=self.person,
            signal_id=self.signal_id,
            source_type=self.source,
            opened_at=at or self.first_signal_at,
            first_signal_at=self.first_signal_at,
        )

    def assigned(self, at: datetime) -> CaseAssigned:
        return CaseAssigned(**self._facts(), worker="w-1", assigned_by="am-02", assigned_at=at)

    def status(
        self, at: datetime, to: CaseStatus, frm: CaseStatus = CaseStatus.OPEN
    ) -> CaseStatusChanged:
        return CaseStatusChanged(**self._facts(), from_status=frm, to_status=to, changed_at=at)

    def screening(self, at: datetime, outcome: ScreeningOutcome) -> ScreeningCompleted:
        return ScreeningCompleted(
            **self._facts(),
            screening_id=uuid.uuid4(),
            instrument="pit-sociale-leerbaarheid",
            instrument_version="2.1",
            score=14,
            outcome=outcome,
            completed_by="w-1",
            completed_at=at,
        )

    def contact(
        self,
        on: date,
        minutes: int,
        kind: ContactKind = ContactKind.HOME_VISIT,
        reached: bool = True,
    ) -> ContactRecorded:
        return ContactRecorded(
            **self._facts(),
            contact_id=uuid.uuid4(),
            kind=kind,
            reached=reached,
            contact_date=on,
            part_of_day=PartOfDay.AFTERNOON,
            minutes=minutes,
            worker="w-1",
            recorded_at=datetime(on.year, on.month, on.day, 16, tzinfo=UTC),
        )

    def letter_requested(self, at: datetime, letter_id: uuid.UUID) -> MayorLetterRequested:
        return MayorLetterRequested(
            **self._facts(),
            letter_id=letter_id,
            person=self.person,
            addressees=[LetterAddressee.YOUTH, LetterAddressee.PARENTS],
            worker="w-1",
            requested_at=at,
        )

    def letter_sent(self, on: date, letter_id: uuid.UUID) -> MayorLetterSent:
        return MayorLetterSent(
            letter_id=letter_id,
            case_id=self.case_id,
            team=self.team,
            programme=self.programme,
            district=self.district,
            method=LetterDeliveryMethod.HOME_VISIT,
            handed_to=LetterHandedTo.YOUTH_AND_PARENT,
            delivered_on=on,
            recorded_by="w-1",
            recorded_at=datetime(on.year, on.month, on.day, 17, tzinfo=UTC),
        )

    def letter_answered(
        self, on: date, letter_id: uuid.UUID, answer: LetterAnswer
    ) -> MayorLetterAnswered:
        return MayorLetterAnswered(
            **self._facts(),
            letter_id=letter_id,
            answer=answer,
            answered_on=on,
            recorded_by="w-1",
            recorded_at=datetime(on.year, on.month, on.day, 18, tzinfo=UTC),
        )

    def breached(
        self,
        at: datetime,
        deadline: DeadlineKind,
        due_on: date,
        escalation: Escalation = Escalation.WORKER,
    ) -> DeadlineBreached:
        return DeadlineBreached(
            **self._facts(), deadline=deadline, due_on=due_on, escalation=escalation, detected_at=at
        )

    def closed(self, at: datetime, outcome: CaseOutcome) -> CaseClosed:
        return CaseClosed(
            **self._facts(),
            outcome=outcome,
            closed_by="w-1",
            closed_at=at,
            opened_at=self.first_signal_at,
            first_signal_at=self.first_signal_at,
        )

    def reopened(self, at: datetime) -> CaseReopened:
        return CaseReopened(**self._facts(), reason=ReopenReason.NEW_SIGNAL, reopened_at=at)

    def matched(self, at: datetime, match_id: uuid.UUID, other_signal: uuid.UUID) -> SignalMatched:
        return SignalMatched(
            match_id=match_id,
            person=self.person,
            joining_org="politie-schiedam",
            joining_signal_id=self.signal_id,
            participants=[
                MatchParticipant(
                    organisation="obs-de-singel", professional="p-1", signal_id=other_signal
                ),
                MatchParticipant(
                    organisation="politie-schiedam", professional="p-2", signal_id=self.signal_id
                ),
            ],
            matched_at=at,
        )

    def withdrawn(self, at: datetime) -> SignalWithdrawn:
        return SignalWithdrawn(
            signal_id=self.signal_id,
            person=self.person,
            reporting_org="obs-de-singel",
            reason=WithdrawalReason.RESOLVED,
            withdrawn_at=at,
        )

    def expired(self, at: datetime) -> SignalExpired:
        return SignalExpired(
            signal_id=self.signal_id,
            person=self.person,
            reason=ExpiryReason.RETENTION_PERIOD,
            expired_at=at,
        )

    def erased(self, at: datetime) -> SubjectErased:
        return SubjectErased(erasure_id=uuid.uuid4(), person=self.person, erased_at=at)


def a_case(
    district: str = "west",
    programme: Programme = Programme.INTENSIVE_YOUTH_WORK,
    source: SourceType = SourceType.POLICE,
    first_signal_at: datetime = datetime(2026, 5, 4, 9, tzinfo=UTC),
) -> Case:
    return Case(a_pseudonym(), district, programme, source, first_signal_at)


def notification(at: datetime) -> NotificationSent:
    return NotificationSent(
        notification_id=uuid.uuid4(),
        channel=NotificationChannel.IN_APP,
        recipient_kind=RecipientKind.TEAM,
        recipient="wot-west",
        cause_event_id=uuid.uuid4(),
        cause_event_type="nl.buurtsignaal.cases.case-opened.v1",
        sent_at=at,
    )


@dataclass
class Year:
    events: list[CloudEvent[Any]]
    minutes: int  # every contact minute recorded
    minutes_by_district: dict[str, int]
    signals: int
    cases: int


# How often each district, programme and source occurs: skewed, so that small
# cells (and a few empty ones) occur in every month, as they would in Schiedam.
DISTRICT_WEIGHTS = {
    "centrum": 5,
    "oost": 6,
    "west": 9,
    "zuid": 4,
    "nieuwland": 7,
    "groenoord": 6,
    "woudhoek": 2,
    "noord": 5,
}
PROGRAMME_WEIGHTS = {
    Programme.EARLY_SIGNALLING: 5,
    Programme.NEIGHBOURHOOD_TEAM: 8,
    Programme.INTENSIVE_YOUTH_WORK: 4,
    Programme.TRUANCY_TASKFORCE: 3,
    Programme.CITYTRAINERS: 1,
}
SOURCE_WEIGHTS = {
    SourceType.SCHOOL: 8,
    SourceType.POLICE: 6,
    SourceType.COMPULSORY_EDUCATION_OFFICER: 3,
    SourceType.YOUTH_WORK: 4,
    SourceType.GP: 1,
    SourceType.RESIDENT: 2,
    SourceType.PARENT: 1,
    SourceType.DISTRICT_MEETING: 1,
}


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def a_year(year: int = 2026, signals: int = 320, seed: int = 6) -> Year:
    """A year of casework: most signals open a case; cases get contacts, a
    screening, sometimes a mayor's letter, breaches, and most are closed."""
    rng = random.Random(seed)
    events: list[tuple[datetime, Any]] = []
    minutes = 0
    by_district: dict[str, int] = {}
    cases = 0
    start = datetime(year, 1, 1, 8, tzinfo=UTC)
    for _ in range(signals):
        at = start + timedelta(days=rng.randrange(0, 364), hours=rng.randrange(0, 10))
        case = Case(
            a_pseudonym(),
            _pick(rng, DISTRICT_WEIGHTS),
            _pick(rng, PROGRAMME_WEIGHTS),
            _pick(rng, SOURCE_WEIGHTS),
            at,
        )
        events.append((at, case.signal()))
        if rng.random() < 0.25:
            continue  # joins a case or needs nothing: no case
        cases += 1
        events.append((at + timedelta(minutes=5), case.opened(at + timedelta(minutes=5))))
        moment = at
        for _ in range(rng.randrange(1, 5)):
            moment += timedelta(days=rng.randrange(1, 12))
            if moment.year != year:
                break
            spent = rng.choice([10, 15, 30, 45, 60, 90])
            kind = _pick(
                rng,
                {
                    ContactKind.HOME_VISIT: 4,
                    ContactKind.PHONE: 5,
                    ContactKind.EMAIL: 1,
                    ContactKind.TEXT_MESSAGE: 1,
                },
            )
            events.append(
                (moment, case.contact(moment.date(), spent, kind, reached=rng.random() < 0.8))
            )
            minutes += spent
            by_district[case.district] = by_district.get(case.district, 0) + spent
        if rng.random() < 0.6 and (moment + timedelta(days=3)).year == year:
            moment += timedelta(days=3)
            events.append(
                (moment, case.screening(moment, _pick(rng, {o: 1 for o in ScreeningOutcome})))
            )
        if rng.random() < 0.15:
            due = (moment + timedelta(days=2)).date()
            events.append(
                (
                    moment + timedelta(days=3),
                    case.breached(moment + timedelta(days=3), DeadlineKind.FIRST_CONTACT, due),
                )
            )
        if case.programme is Programme.INTENSIVE_YOUTH_WORK and rng.random() < 0.7:
            letter = uuid.uuid4()
            events.append(
                (
                    moment + timedelta(hours=1),
                    case.letter_requested(moment + timedelta(hours=1), letter),
                )
            )
            delivered = (moment + timedelta(days=4)).date()
            events.append((moment + timedelta(days=4), case.letter_sent(delivered, letter)))
            answer = LetterAnswer.ACCEPTS_HELP if rng.random() < 0.8 else LetterAnswer.DECLINES
            events.append(
                (
                    moment + timedelta(days=9),
                    case.letter_answered(delivered + timedelta(days=5), letter, answer),
                )
            )
        closing = moment + timedelta(days=rng.randrange(5, 60))
        if rng.random() < 0.7 and closing.year == year:
            events.append((closing, case.closed(closing, _pick(rng, {o: 1 for o in CaseOutcome}))))
    events.sort(key=lambda pair: pair[0])
    return Year([new_event(e) for _, e in events], minutes, by_district, signals, cases)

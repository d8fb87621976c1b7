"""The case aggregate: what each step does to the case, its deadlines and its events."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

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
    DeadlineBreached,
    MayorLetterRequested,
)
from cases_service.domain.case import (
    SYSTEM,
    Case,
    Change,
    Contact,
    InvolvedOrganisation,
    SignalRef,
)
from cases_service.domain.deadlines import DeadlineRules, load_deadline_policy
from cases_service.domain.refusals import InvalidStep, TransitionRefused
from cases_service.domain.screening import ScoredScreening
from cases_service.domain.timeline import timeline

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RULES = DeadlineRules(load_deadline_policy())


def at(local: str) -> datetime:
    """A moment given in Dutch local time, as the UTC datetime the code works with."""
    return datetime.fromisoformat(local).replace(tzinfo=AMSTERDAM).astimezone(UTC)


def by(who: str | None, when: str) -> Change:
    return Change(who, at(when), RULES)


def a_signal(received: str = "2027-03-25 10:00", org: str = "obs-de-singel") -> SignalRef:
    return SignalRef(
        signal_id=uuid.uuid4(),
        source_type=SourceType.SCHOOL,
        reporting_org=org,
        category=Category.BEHAVIOUR_AGGRESSION,
        received_at=at(received),
    )


def a_case(programme: Programme = Programme.EARLY_SIGNALLING, **signal) -> Case:
    case = Case.open_for(
        a_signal(**signal),
        person="ps-" + "a" * 32,
        programme=programme,
        team="wot-west",
        district="west",
        change=by(None, "2027-03-25 10:01"),
    )
    return case


def assigned(programme: Programme = Programme.EARLY_SIGNALLING) -> Case:
    case = a_case(programme)
    case.assign("w-1", by("am-02", "2027-03-25 11:00"))
    case.take_events()
    return case


def deadline(case: Case, kind: DeadlineKind):
    (found,) = [d for d in case.deadlines if d.kind is kind and d.pending]
    return found


def test_opening_starts_the_programme_s_deadlines_from_the_first_signal():
    case = a_case()
    (opened,) = case.take_events()
    assert isinstance(opened, CaseOpened) and opened.priority is Priority.NORMAL
    kinds = {d.kind: d for d in case.deadlines}
    assert set(kinds) == {DeadlineKind.FIRST_CONTACT, DeadlineKind.SCREENING}
    first = kinds[DeadlineKind.FIRST_CONTACT]
    assert (first.starts_on, first.due_on) == (date(2027, 3, 25), date(2027, 4, 5))
    # The area manager hears at twice the working days: 10 after the start.
    assert first.escalates_on == date(2027, 4, 12)
    truancy = a_case(Programme.TRUANCY_TASKFORCE)
    assert {d.kind for d in truancy.deadlines} == {
        DeadlineKind.FIRST_CONTACT,
        DeadlineKind.TRUANCY_INVESTIGATION,
    }


def test_the_start_day_is_the_dutch_day_of_the_signal():
    late_evening = a_case(received="2027-03-25 23:30")  # 22:30 UTC, still Thursday here
    assert deadline(late_evening, DeadlineKind.FIRST_CONTACT).starts_on == date(2027, 3, 25)
    after_midnight = a_case(received="2027-03-26 00:30")  # Thursday in UTC, Good Friday here
    assert deadline(after_midnight, DeadlineKind.FIRST_CONTACT).starts_on == date(2027, 3, 26)


def test_the_worker_hears_of_a_breach_the_day_after_the_due_day_and_the_manager_later():
    case = assigned()
    first = deadline(case, DeadlineKind.FIRST_CONTACT)
    assert case.breaches_due(date(2027, 4, 5)) == []
    assert case.breaches_due(date(2027, 4, 6)) == [(first, Escalation.WORKER)]
    told = case.tell_breaches(by(None, "2027-04-06 00:05"), area_manager="am-02")
    assert told == [Escalation.WORKER]
    (event,) = case.take_events()
    assert isinstance(event, DeadlineBreached)
    assert (event.deadline, event.due_on, event.escalation) == (
        DeadlineKind.FIRST_CONTACT,
        date(2027, 4, 5),
        Escalation.WORKER,
    )
    assert event.worker == "w-1" and event.area_manager == "am-02"
    assert case.tell_breaches(by(None, "2027-04-06 09:00"), "am-02") == [], "exactly once"
    assert case.breaches_due(date(2027, 4, 12)) == []
    assert case.tell_breaches(by(None, "2027-04-13 00:05"), "am-02") == [Escalation.AREA_MANAGER]
    assert case.tell_breaches(by(None, "2027-04-14 00:05"), "am-02") == []
    assert case.overdue(date(2027, 4, 14))


def test_a_late_scheduler_tells_both_at_once_and_each_once():
    case = assigned()
    case.tell_breaches(by(None, "2027-05-01 12:00"), "am-02")
    told = sorted((e.deadline.value, e.escalation.value) for e in case.take_events())
    assert told == [
        ("first-contact", "area-manager"),
        ("first-contact", "worker"),
        ("screening", "worker"),  # due 19 April; the manager hears after 12 May
    ]
    assert case.tell_breaches(by(None, "2027-05-02 12:00"), "am-02") == []


def test_a_reached_contact_meets_the_first_contact_deadline_a_missed_one_does_not():
    case = assigned()
    contact = dict(kind=ContactKind.HOME_VISIT, part_of_day=PartOfDay.AFTERNOON, minutes=45)
    case.record_contact(
        reached=False,
        contact_date=date(2027, 3, 30),
        change=by("w-1", "2027-03-30 17:00"),
        **contact,
    )
    assert deadline(case, DeadlineKind.FIRST_CONTACT).met_on is None
    case.record_contact(
        reached=True, contact_date=date(2027, 4, 1), change=by("w-1", "2027-04-02 09:00"), **contact
    )
    first = next(d for d in case.deadlines if d.kind is DeadlineKind.FIRST_CONTACT)
    assert first.met_on == date(2027, 4, 1) and not first.met_late
    due = [(d.kind, e) for d, e in case.breaches_due(date(2027, 4, 20))]
    assert due == [(DeadlineKind.SCREENING, Escalation.WORKER)], "screening still runs"


def test_contacts_on_a_future_day_or_before_the_signal_are_refused():
    case = assigned()
    contact = dict(kind=ContactKind.PHONE, reached=True, part_of_day=PartOfDay.MORNING, minutes=5)
    with pytest.raises(InvalidStep) as future:
        case.record_contact(
            contact_date=date(2027, 3, 26), change=by("w-1", "2027-03-25 12:00"), **contact
        )
    assert future.value.problems[0].field == "contact_date"
    with pytest.raises(InvalidStep):
        case.record_contact(
            contact_date=date(2027, 3, 24), change=by("w-1", "2027-03-25 12:00"), **contact
        )


def test_closing_needs_an_outcome_cancels_the_deadlines_and_reopening_needs_a_reason():
    case = assigned()
    with pytest.raises(InvalidStep) as no_outcome:
        case.change_status(CaseStatus.CLOSED, by("w-1", "2027-03-26 10:00"))
    assert no_outcome.value.problems[0].field == "outcome"
    with pytest.raises(InvalidStep):
        case.change_status(
            CaseStatus.ACTIVE, by("w-1", "2027-03-26 10:00"), outcome=CaseOutcome.RESOLVED
        )
    assert case.status is CaseStatus.ASSIGNED and case.take_events() == [], "nothing changed"

    case.change_status(
        CaseStatus.CLOSED, by("w-1", "2027-03-30 10:00"), outcome=CaseOutcome.MOVED_AWAY
    )
    changed, closed = case.take_events()
    assert isinstance(changed, CaseStatusChanged) and changed.to_status is CaseStatus.CLOSED
    assert isinstance(closed, CaseClosed) and closed.outcome is CaseOutcome.MOVED_AWAY
    assert closed.closed_by == "w-1"
    assert all(not d.pending for d in case.deadlines)
    assert case.breaches_due(date(2027, 6, 1)) == []

    with pytest.raises(InvalidStep) as no_reason:
        case.change_status(CaseStatus.REOPENED, by("w-1", "2027-04-20 10:00"))
    assert no_reason.value.problems[0].field == "reason"
    case.change_status(
        CaseStatus.REOPENED, by("w-1", "2027-04-20 10:00"), reason=ReopenReason.NEW_SIGNAL
    )
    _, reopened = case.take_events()
    assert isinstance(reopened, CaseReopened) and reopened.reason is ReopenReason.NEW_SIGNAL
    assert case.outcome is None and case.worker == "w-1"
    restarted = {d.kind: d for d in case.deadlines if d.pending}
    assert restarted[DeadlineKind.FIRST_CONTACT].starts_on == date(2027, 4, 20)
    assert restarted[DeadlineKind.SCREENING].starts_on == date(2027, 4, 20)


def test_assigning_opens_the_work_and_reassigning_keeps_the_status():
    case = a_case()
    case.take_events()
    assert case.assign("w-1", by("am-02", "2027-03-25 11:00"))
    assigned_event, moved = case.take_events()
    assert isinstance(assigned_event, CaseAssigned) and assigned_event.previous_worker is None
    assert moved.to_status is CaseStatus.ASSIGNED
    case.change_status(CaseStatus.ACTIVE, by("w-1", "2027-03-26 10:00"))
    case.take_events()
    assert not case.assign("w-1", by("am-02", "2027-03-26 11:00")), "the same worker: nothing"
    assert case.assign("w-2", by("am-02", "2027-03-26 11:00"))
    (reassigned,) = case.take_events()
    assert reassigned.previous_worker == "w-1" and case.status is CaseStatus.ACTIVE


def test_screening_with_start_trajectory_activates_the_case_other_outcomes_wait():
    case = assigned()
    case.change_status(CaseStatus.SCREENING, by("w-1", "2027-03-26 10:00"))
    case.take_events()
    refer = ScoredScreening("social-learnability", "1.0", 25, ScreeningOutcome.REFER_TO_CARE)
    case.complete_screening(uuid.uuid4(), refer, by("w-1", "2027-03-29 10:00"))
    assert case.status is CaseStatus.SCREENING
    assert next(d for d in case.deadlines if d.kind is DeadlineKind.SCREENING).met_on
    start = ScoredScreening("social-learnability", "1.0", 12, ScreeningOutcome.START_TRAJECTORY)
    case.complete_screening(uuid.uuid4(), start, by("w-1", "2027-03-30 10:00"))
    assert case.status is CaseStatus.ACTIVE
    assert case.screening is not None and case.screening.score == 12
    with pytest.raises(TransitionRefused):
        case.complete_screening(uuid.uuid4(), start, by("w-1", "2027-03-30 11:00"))


def test_the_mayor_s_letter_moves_the_case_and_its_deadlines():
    case = assigned(Programme.INTENSIVE_YOUTH_WORK)
    letter = case.request_letter(
        [LetterAddressee.PARENTS, LetterAddressee.YOUTH], by("w-1", "2027-04-26 10:00")
    )
    requested, moved = case.take_events()
    assert isinstance(requested, MayorLetterRequested)
    assert requested.person == case.person and requested.letter_id == letter.id
    assert moved.to_status is CaseStatus.LETTER_REQUESTED
    delivery = deadline(case, DeadlineKind.LETTER_DELIVERED)
    # 10 working days from Monday 26 April 2027: King's Day (Tuesday 27 April) and
    # Ascension Day (Thursday 6 May) do not count.
    assert delivery.due_on == date(2027, 5, 12)

    assert case.letter_delivered(
        letter.id,
        method=LetterDeliveryMethod.HOME_VISIT,
        handed_to=LetterHandedTo.YOUTH_AND_PARENT,
        delivered_on=date(2027, 4, 29),
        change=by("w-9", "2027-04-30 09:00"),
    )
    assert case.status is CaseStatus.LETTER_DELIVERED
    assert delivery.met_on == date(2027, 4, 29)
    answer_deadline = deadline(case, DeadlineKind.LETTER_ANSWER)
    assert answer_deadline.starts_on == date(2027, 4, 29)
    assert not case.letter_delivered(
        letter.id,
        method=LetterDeliveryMethod.POST,
        handed_to=LetterHandedTo.LETTERBOX,
        delivered_on=date(2027, 4, 30),
        change=by("w-9", "2027-04-30 10:00"),
    ), "told twice: the first delivery stands"

    with pytest.raises(InvalidStep):
        case.record_answer(
            letter.id, LetterAnswer.ACCEPTS_HELP, date(2027, 4, 28), by("w-1", "2027-05-03 10:00")
        )
    case.record_answer(
        letter.id, LetterAnswer.ACCEPTS_HELP, date(2027, 5, 3), by("w-1", "2027-05-03 10:00")
    )
    assert case.status is CaseStatus.ANSWER_RECORDED
    assert answer_deadline.met_on == date(2027, 5, 3)
    with pytest.raises(TransitionRefused):
        case.record_answer(
            letter.id, LetterAnswer.DECLINES, date(2027, 5, 3), by("w-1", "2027-05-03 11:00")
        )


def test_only_the_intensive_programme_has_the_letter():
    case = assigned(Programme.NEIGHBOURHOOD_TEAM)
    with pytest.raises(TransitionRefused, match="intensive-youth-work"):
        case.request_letter([LetterAddressee.YOUTH], by("w-1", "2027-04-26 10:00"))
    assert case.letters == [] and case.take_events() == []


def test_truancy_investigation_is_met_when_the_case_becomes_active():
    case = assigned(Programme.TRUANCY_TASKFORCE)
    case.change_status(CaseStatus.ACTIVE, by("w-1", "2027-03-29 10:00"))
    assert next(
        d for d in case.deadlines if d.kind is DeadlineKind.TRUANCY_INVESTIGATION
    ).met_on == date(2027, 3, 29)


def test_a_match_raises_priority_once_and_lists_the_organisations():
    case = assigned()
    police = InvolvedOrganisation("politie-schiedam", "agent-7", uuid.uuid4())
    school = InvolvedOrganisation("obs-de-singel", "juf-3", case.signals[0].signal_id)
    match_id = uuid.uuid4()
    assert case.apply_match([match_id], [school, police], by(None, "2027-03-26 10:00"))
    assert case.priority is Priority.HIGH and case.involved == [school, police]
    assert not case.apply_match([match_id], [police, school], by(None, "2027-03-26 10:01"))


def test_a_wrongful_signal_leaves_no_trace_and_an_unstarted_case_without_signals_closes():
    case = a_case()
    case.take_events()
    signal_id = case.signals[0].signal_id
    school = InvolvedOrganisation("obs-de-singel", "juf-3", signal_id)
    police = InvolvedOrganisation("politie-schiedam", "agent-7", uuid.uuid4())
    case.apply_match([uuid.uuid4()], [school, police], by(None, "2027-03-25 12:00"))
    assert case.signal_withdrawn(signal_id, WithdrawalReason.WRONGFUL, by(None, "2027-03-26 10:00"))
    assert case.signals == [] and case.involved == [police]
    assert case.status is CaseStatus.CLOSED
    assert case.outcome is CaseOutcome.NO_CONCERN
    _, closed = case.take_events()
    assert isinstance(closed, CaseClosed) and closed.closed_by == SYSTEM
    assert str(signal_id) not in repr([e.details for e in timeline(case, [], RULES)])


def test_a_withdrawn_signal_on_a_case_in_work_is_marked_and_the_work_goes_on():
    case = assigned()
    signal_id = case.signals[0].signal_id
    assert case.signal_withdrawn(signal_id, WithdrawalReason.RESOLVED, by(None, "2027-03-26 10:00"))
    assert case.signals[0].state == "withdrawn" and case.status is CaseStatus.ASSIGNED
    assert not case.signal_withdrawn(signal_id, WithdrawalReason.RESOLVED, by(None, "2027-03-26"))
    other = a_case()
    assert other.signal_expired(other.signals[0].signal_id, by(None, "2029-03-26 10:00"))
    assert other.signals[0].state == "expired" and other.status is CaseStatus.OPEN


def test_the_timeline_orders_by_the_day_things_happened():
    case = assigned()
    case.record_contact(
        kind=ContactKind.HOME_VISIT,
        reached=True,
        contact_date=date(2027, 3, 26),
        part_of_day=PartOfDay.EVENING,
        minutes=60,
        change=by("w-1", "2027-03-31 09:00"),  # recorded days later
    )
    contact = case.take_events()[0]
    recorded = Contact(
        id=contact.contact_id,
        case_id=case.id,
        kind=contact.kind,
        reached=contact.reached,
        contact_date=contact.contact_date,
        part_of_day=contact.part_of_day,
        minutes=contact.minutes,
        worker=contact.worker,
        recorded_at=contact.recorded_at,
    )
    case.change_status(CaseStatus.ACTIVE, by("w-1", "2027-03-29 10:00"))
    kinds = [(e.on.isoformat(), e.kind) for e in timeline(case, [recorded], RULES)]
    assert kinds == [
        ("2027-03-25", "signal"),
        ("2027-03-25", "assigned"),
        ("2027-03-25", "status-changed"),
        ("2027-03-26", "contact"),
        ("2027-03-29", "status-changed"),
    ]

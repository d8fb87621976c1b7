"""How cases, contacts and screenings look in MongoDB (dates as ISO strings).

Besides the aggregate's own fields a case document carries three values the
queries need: ``is_open`` (the partial unique index), ``next_due_on`` (the
overdue filter) and ``next_alert_on`` (the deadline scheduler).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

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
    ScreeningOutcome,
    SourceType,
)
from cases_service.domain.case import (
    Case,
    Contact,
    HistoryEntry,
    InvolvedOrganisation,
    Letter,
    ScreeningSummary,
    SignalRef,
)
from cases_service.domain.deadlines import Deadline


def case_to_document(case: Case) -> dict[str, Any]:
    return {
        "_id": str(case.id),
        "person": case.person,
        "programme": case.programme.value,
        "team": case.team,
        "district": case.district,
        "status": case.status.value,
        "is_open": case.is_open,
        "priority": case.priority.value,
        "opened_at": case.opened_at,
        "first_signal_at": case.first_signal_at,
        "worker": case.worker,
        "outcome": _value(case.outcome),
        "closed_at": case.closed_at,
        "earlier_signal_existed": case.earlier_signal_existed,
        "previous_case_id": _str(case.previous_case_id),
        "version": case.version,
        "signals": [
            {
                "signal_id": str(s.signal_id),
                "source_type": s.source_type.value,
                "reporting_org": s.reporting_org,
                "category": s.category.value,
                "received_at": s.received_at,
                "state": s.state,
            }
            for s in case.signals
        ],
        "involved": [
            {
                "organisation": i.organisation,
                "professional": i.professional,
                "signal_id": str(i.signal_id),
            }
            for i in case.involved
        ],
        "match_ids": [str(m) for m in case.match_ids],
        "deadlines": [_deadline_document(d) for d in case.deadlines],
        "next_due_on": _iso(case.next_due_on),
        "next_alert_on": _iso(case.next_alert_on),
        "letters": [_letter_document(x) for x in case.letters],
        "screening": _screening_summary_document(case.screening),
        "history": [
            {"kind": h.kind, "at": h.at, "by": h.by, "on": _iso(h.on), "details": h.details}
            for h in case.history
        ],
    }


def case_from_document(doc: dict[str, Any]) -> Case:
    return Case(
        id=uuid.UUID(doc["_id"]),
        person=doc["person"],
        programme=Programme(doc["programme"]),
        team=doc["team"],
        district=doc["district"],
        status=CaseStatus(doc["status"]),
        priority=Priority(doc["priority"]),
        opened_at=doc["opened_at"],
        first_signal_at=doc.get("first_signal_at") or min(s["received_at"] for s in doc["signals"]),
        worker=doc.get("worker"),
        outcome=CaseOutcome(doc["outcome"]) if doc.get("outcome") else None,
        closed_at=doc.get("closed_at"),
        earlier_signal_existed=doc.get("earlier_signal_existed", False),
        previous_case_id=_uuid(doc.get("previous_case_id")),
        version=doc["version"],
        signals=[
            SignalRef(
                signal_id=uuid.UUID(s["signal_id"]),
                source_type=SourceType(s["source_type"]),
                reporting_org=s["reporting_org"],
                category=Category(s["category"]),
                received_at=s["received_at"],
                state=s.get("state", "active"),
            )
            for s in doc["signals"]
        ],
        involved=[
            InvolvedOrganisation(
                organisation=i["organisation"],
                professional=i["professional"],
                signal_id=uuid.UUID(i["signal_id"]),
            )
            for i in doc.get("involved", [])
        ],
        match_ids=[uuid.UUID(m) for m in doc.get("match_ids", [])],
        deadlines=[_deadline(d) for d in doc.get("deadlines", [])],
        letters=[_letter(x) for x in doc.get("letters", [])],
        screening=_screening_summary(doc.get("screening")),
        history=[
            HistoryEntry(
                kind=h["kind"],
                at=h["at"],
                by=h.get("by"),
                details=h.get("details", {}),
                on=_date(h.get("on")),
            )
            for h in doc.get("history", [])
        ],
    )


def contact_to_document(contact: Contact, case: Case) -> dict[str, Any]:
    # Team, programme and district travel along so hours can be summed per
    # district and programme without reading the cases.
    return {
        "_id": str(contact.id),
        "case_id": str(contact.case_id),
        "person": case.person,
        "team": case.team,
        "programme": case.programme.value,
        "district": case.district,
        "kind": contact.kind.value,
        "reached": contact.reached,
        "contact_date": contact.contact_date.isoformat(),
        "part_of_day": contact.part_of_day.value,
        "minutes": contact.minutes,
        "worker": contact.worker,
        "recorded_at": contact.recorded_at,
    }


def contact_from_document(doc: dict[str, Any]) -> Contact:
    return Contact(
        id=uuid.UUID(doc["_id"]),
        case_id=uuid.UUID(doc["case_id"]),
        kind=ContactKind(doc["kind"]),
        reached=doc["reached"],
        contact_date=date.fromisoformat(doc["contact_date"]),
        part_of_day=PartOfDay(doc["part_of_day"]),
        minutes=doc["minutes"],
        worker=doc["worker"],
        recorded_at=doc["recorded_at"],
    )


def _deadline_document(d: Deadline) -> dict[str, Any]:
    return {
        "kind": d.kind.value,
        "starts_on": d.starts_on.isoformat(),
        "working_days": d.working_days,
        "due_on": d.due_on.isoformat(),
        "escalates_on": d.escalates_on.isoformat(),
        "met_on": _iso(d.met_on),
        "cancelled_on": _iso(d.cancelled_on),
        "worker_told_at": d.worker_told_at,
        "area_manager_told_at": d.area_manager_told_at,
    }


def _deadline(doc: dict[str, Any]) -> Deadline:
    return Deadline(
        kind=DeadlineKind(doc["kind"]),
        starts_on=date.fromisoformat(doc["starts_on"]),
        working_days=doc["working_days"],
        due_on=date.fromisoformat(doc["due_on"]),
        escalates_on=date.fromisoformat(doc["escalates_on"]),
        met_on=_date(doc.get("met_on")),
        cancelled_on=_date(doc.get("cancelled_on")),
        worker_told_at=doc.get("worker_told_at"),
        area_manager_told_at=doc.get("area_manager_told_at"),
    )


def _letter_document(x: Letter) -> dict[str, Any]:
    return {
        "id": str(x.id),
        "addressees": [a.value for a in x.addressees],
        "requested_by": x.requested_by,
        "requested_at": x.requested_at,
        "delivered_on": _iso(x.delivered_on),
        "method": _value(x.method),
        "handed_to": _value(x.handed_to),
        "answer": _value(x.answer),
        "answered_on": _iso(x.answered_on),
    }


def _letter(doc: dict[str, Any]) -> Letter:
    return Letter(
        id=uuid.UUID(doc["id"]),
        addressees=[LetterAddressee(a) for a in doc["addressees"]],
        requested_by=doc["requested_by"],
        requested_at=doc["requested_at"],
        delivered_on=_date(doc.get("delivered_on")),
        method=LetterDeliveryMethod(doc["method"]) if doc.get("method") else None,
        handed_to=LetterHandedTo(doc["handed_to"]) if doc.get("handed_to") else None,
        answer=LetterAnswer(doc["answer"]) if doc.get("answer") else None,
        answered_on=_date(doc.get("answered_on")),
    )


def _screening_summary_document(s: ScreeningSummary | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "screening_id": str(s.screening_id),
        "instrument": s.instrument,
        "instrument_version": s.instrument_version,
        "score": s.score,
        "outcome": s.outcome.value,
        "completed_by": s.completed_by,
        "completed_at": s.completed_at,
    }


def _screening_summary(doc: dict[str, Any] | None) -> ScreeningSummary | None:
    if doc is None:
        return None
    return ScreeningSummary(
        screening_id=uuid.UUID(doc["screening_id"]),
        instrument=doc["instrument"],
        instrument_version=doc["instrument_version"],
        score=doc["score"],
        outcome=ScreeningOutcome(doc["outcome"]),
        completed_by=doc["completed_by"],
        completed_at=doc["completed_at"],
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _value(code: Any) -> str | None:
    return code.value if code is not None else None


def _str(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None

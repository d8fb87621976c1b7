"""The case aggregate: one person, one programme, one team."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from buurtsignaal_contracts.codes import CaseStatus, Category, Priority, Programme, SourceType


@dataclass(frozen=True)
class SignalRef:
    """What a case knows of a signal: codes and dates, never its content."""

    signal_id: uuid.UUID
    source_type: SourceType
    reporting_org: str
    category: Category
    received_at: datetime


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
    signals: list[SignalRef] = field(default_factory=list)
    worker: str | None = None
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.status is not CaseStatus.CLOSED

    @property
    def first_signal_at(self) -> datetime:
        return min(s.received_at for s in self.signals)

    @classmethod
    def open_for(
        cls,
        signal: SignalRef,
        *,
        person: str,
        programme: Programme,
        team: str,
        district: str,
        now: datetime,
    ) -> Case:
        return cls(
            id=uuid.uuid4(),
            person=person,
            programme=programme,
            team=team,
            district=district,
            status=CaseStatus.OPEN,
            priority=Priority.NORMAL,
            opened_at=now,
            signals=[signal],
        )

    def has_signal(self, signal_id: uuid.UUID) -> bool:
        return any(s.signal_id == signal_id for s in self.signals)

    def add_signal(self, signal: SignalRef) -> bool:
        """Join a later signal to this case; False when it is already on it."""
        if self.has_signal(signal.signal_id):
            return False
        self.signals.append(signal)
        return True

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": str(self.id),
            "person": self.person,
            "programme": self.programme.value,
            "team": self.team,
            "district": self.district,
            "status": self.status.value,
            "is_open": self.is_open,
            "priority": self.priority.value,
            "opened_at": self.opened_at,
            "worker": self.worker,
            "version": self.version,
            "signals": [
                {
                    "signal_id": str(s.signal_id),
                    "source_type": s.source_type.value,
                    "reporting_org": s.reporting_org,
                    "category": s.category.value,
                    "received_at": s.received_at,
                }
                for s in self.signals
            ],
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Case:
        return cls(
            id=uuid.UUID(doc["_id"]),
            person=doc["person"],
            programme=Programme(doc["programme"]),
            team=doc["team"],
            district=doc["district"],
            status=CaseStatus(doc["status"]),
            priority=Priority(doc["priority"]),
            opened_at=doc["opened_at"],
            worker=doc.get("worker"),
            version=doc["version"],
            signals=[
                SignalRef(
                    signal_id=uuid.UUID(s["signal_id"]),
                    source_type=SourceType(s["source_type"]),
                    reporting_org=s["reporting_org"],
                    category=Category(s["category"]),
                    received_at=s["received_at"],
                )
                for s in doc["signals"]
            ],
        )

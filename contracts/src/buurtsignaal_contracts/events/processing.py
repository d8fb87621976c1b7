"""``personal-data-processed``: one event type, published by every service that
processes personal data (signals, cases, notifications; reporting holds only
aggregates and publishes none).

Each is the public half of an audit record (NEN 7513 / VNG verwerkingenlogging):
who processed which person's data, when, how and why, so the person's access
trail can be collected across services without reading another's database.
It names the person by pseudonym only and carries codes, never the data itself.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, Field

from buurtsignaal_contracts.codes import (
    Code,
    Confidentiality,
    DataCategory,
    IsoDuration,
    ProcessingAction,
    Pseudonym,
    RecordRef,
    RouteRef,
    UserRef,
)
from buurtsignaal_contracts.envelope import EventData, event


class PersonalDataProcessed(EventData):
    """Somebody (or the system) processed personal data of one person."""

    processing_id: uuid.UUID = Field(description="Id of this act; the audit records name it.")
    person: Pseudonym
    action: ProcessingAction
    activity: Code = Field(description="The processing activity (verwerkingsactiviteit).")
    user: UserRef = Field(description="Account id of who did it, or 'system'.")
    organisation: Code | None = None
    on_behalf_of: UserRef | None = Field(
        default=None, description="The user a service or the system acted for."
    )
    at: AwareDatetime
    categories: list[DataCategory]
    confidentiality: Confidentiality
    retention: IsoDuration = Field(description="How long the audit record is kept.")
    records: list[RecordRef] = Field(description="What was processed, e.g. case:<id>.")
    route: RouteRef


@event("signals", "personal-data-processed", 1, subject="processing_id")
class SignalsPersonalDataProcessed(PersonalDataProcessed):
    """The signals service processed personal data of a person."""


@event("cases", "personal-data-processed", 1, subject="processing_id")
class CasesPersonalDataProcessed(PersonalDataProcessed):
    """The cases service processed personal data of a person."""


@event("notifications", "personal-data-processed", 1, subject="processing_id")
class NotificationsPersonalDataProcessed(PersonalDataProcessed):
    """The notifications service processed personal data of a person."""


def personal_data_processed(service: str) -> type[PersonalDataProcessed] | None:
    """The event a service publishes for its audit records (None: it publishes none)."""
    return _BY_SERVICE.get(service)


_BY_SERVICE: dict[str, type[PersonalDataProcessed]] = {
    "signals": SignalsPersonalDataProcessed,
    "cases": CasesPersonalDataProcessed,
    "notifications": NotificationsPersonalDataProcessed,
}

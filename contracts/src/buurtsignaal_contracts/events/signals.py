"""Events published by the signals service.

The signals service is the only place where identity lives; its events name
the person by pseudonym only.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import AwareDatetime, Field

from buurtsignaal_contracts.codes import (
    AgeBand,
    Category,
    Code,
    ExpiryReason,
    Programme,
    Pseudonym,
    SourceType,
    UserRef,
    WithdrawalReason,
)
from buurtsignaal_contracts.envelope import ContractModel, EventData, event


@event("signals", "signal-received", 1, subject="signal_id")
class SignalReceived(EventData):
    """A concern about a person was registered and the person identified."""

    signal_id: uuid.UUID
    person: Pseudonym
    source_type: SourceType
    reporting_org: Code
    category: Category
    district: Code
    age_band: AgeBand
    suggested_programme: Programme | None = None
    occurred_on: date
    received_at: AwareDatetime
    earlier_signal_existed: bool = Field(
        default=False,
        description="An expired signal about this person is archived; told once.",
    )


class MatchParticipant(ContractModel):
    """One organisation in a match, with the professional to contact.

    Contact details are looked up by the receiving service from its own
    directory; only the account id travels.
    """

    organisation: Code
    professional: UserRef
    signal_id: uuid.UUID


@event("signals", "signal-matched", 1, subject="match_id")
class SignalMatched(EventData):
    """Two or more organisations have active signals about the same person.

    Published once for every organisation that joins the match; never carries
    the content of any signal.
    """

    match_id: uuid.UUID
    person: Pseudonym
    joining_org: Code
    joining_signal_id: uuid.UUID
    participants: list[MatchParticipant] = Field(min_length=2)
    household: bool = Field(
        default=False, description="Matched on a shared address rather than the person."
    )
    matched_at: AwareDatetime


@event("signals", "signal-withdrawn", 1, subject="signal_id")
class SignalWithdrawn(EventData):
    """The reporting organisation withdrew its signal; a wrongful one is deleted, not archived."""

    signal_id: uuid.UUID
    person: Pseudonym
    reporting_org: Code
    reason: WithdrawalReason
    withdrawn_at: AwareDatetime


@event("signals", "signal-expired", 1, subject="signal_id")
class SignalExpired(EventData):
    """The signal reached its retention limit (two years, or the age limit) and was archived."""

    signal_id: uuid.UUID
    person: Pseudonym
    reason: ExpiryReason
    expired_at: AwareDatetime


@event("signals", "subject-erased", 1, subject="erasure_id")
class SubjectErased(EventData):
    """A person's data must be removed everywhere (AVG art. 17)."""

    erasure_id: uuid.UUID
    person: Pseudonym
    erased_at: AwareDatetime

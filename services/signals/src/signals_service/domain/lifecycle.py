"""What may happen to a signal, and when it must be forgotten: one table, pure rules.

A signal is *active* from registration. The reporting organisation may
withdraw it; a withdrawal as *wrongful* deletes it outright (it should never
have existed, so nothing of it is archived). Every signal expires at the
earlier of two dates: ``RETENTION_YEARS`` after registration, or the day the
person reaches ``AGE_LIMIT``. An expired signal leaves a minimal archive
record (pseudonym, dates) for ``ARCHIVE_YEARS``, which tells the next signal
about the same person "there was an earlier one", once. When a person dies
their signals are removed without an archive record: no later signal can be
about them.

    from        step                 to
    active      withdraw             withdrawn   kept, no longer matches, expires as usual
    active      withdraw-wrongful    deleted     removed, not archived
    withdrawn   withdraw-wrongful    deleted     a withdrawal corrected to wrongful
    active      expire               archived    removed, minimal record kept
    withdrawn   expire               archived
    active      deceased             deleted     removed, not archived
    withdrawn   deceased             deleted
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from buurtsignaal_contracts.codes import ExpiryReason, WithdrawalReason
from signals_service.domain.intake import add_years


class SignalStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Step(StrEnum):
    WITHDRAW = "withdraw"
    WITHDRAW_WRONGFUL = "withdraw-wrongful"
    EXPIRE = "expire"
    DECEASED = "deceased"


class Outcome(StrEnum):
    WITHDRAWN = "withdrawn"  # the document stays, with status withdrawn
    DELETED = "deleted"  # the document is removed; nothing is archived
    ARCHIVED = "archived"  # the document is removed; a minimal record is archived


LIFECYCLE: dict[tuple[SignalStatus, Step], Outcome] = {
    (SignalStatus.ACTIVE, Step.WITHDRAW): Outcome.WITHDRAWN,
    (SignalStatus.ACTIVE, Step.WITHDRAW_WRONGFUL): Outcome.DELETED,
    (SignalStatus.WITHDRAWN, Step.WITHDRAW_WRONGFUL): Outcome.DELETED,
    (SignalStatus.ACTIVE, Step.EXPIRE): Outcome.ARCHIVED,
    (SignalStatus.WITHDRAWN, Step.EXPIRE): Outcome.ARCHIVED,
    (SignalStatus.ACTIVE, Step.DECEASED): Outcome.DELETED,
    (SignalStatus.WITHDRAWN, Step.DECEASED): Outcome.DELETED,
}


class StepNotAllowed(Exception):
    def __init__(self, status: SignalStatus, step: Step) -> None:
        super().__init__(f"a {status.value} signal cannot {step.value}")
        self.status = status
        self.step = step


def outcome_of(status: SignalStatus, step: Step) -> Outcome:
    try:
        return LIFECYCLE[(status, step)]
    except KeyError:
        raise StepNotAllowed(status, step) from None


def withdrawal_step(reason: WithdrawalReason) -> Step:
    return Step.WITHDRAW_WRONGFUL if reason is WithdrawalReason.WRONGFUL else Step.WITHDRAW


@dataclass(frozen=True)
class RetentionRules:
    """The configurable limits (settings RETENTION_YEARS, AGE_LIMIT, ARCHIVE_YEARS)."""

    retention_years: int = 2
    age_limit: int = 23
    archive_years: int = 5

    def expiry(self, birth: date, registered: date) -> tuple[date, ExpiryReason]:
        """When a signal registered on ``registered`` expires, and why.

        On a tie the age limit is named: it is the reason that also ends every
        other signal about the person.
        """
        by_retention = add_years(registered, self.retention_years)
        by_age = add_years(birth, self.age_limit)
        if by_age <= by_retention:
            return by_age, ExpiryReason.AGE_LIMIT
        return by_retention, ExpiryReason.RETENTION_PERIOD

    def purge_on(self, expired_on: date) -> date:
        """The day an archived record is removed."""
        return add_years(expired_on, self.archive_years)


def is_active(status: SignalStatus, expires_on: date, today: date) -> bool:
    """Active for matching and for the cases: not withdrawn, not past its expiry.

    The retention job removes expired signals, but it runs periodically: until
    it has, a signal past its date already counts as expired.
    """
    return status is SignalStatus.ACTIVE and expires_on > today

"""The lifecycle table and the retention dates on their own."""

from datetime import date

import pytest

from buurtsignaal_contracts.codes import ExpiryReason, WithdrawalReason
from signals_service.domain.lifecycle import (
    Outcome,
    RetentionRules,
    SignalStatus,
    Step,
    StepNotAllowed,
    is_active,
    outcome_of,
    withdrawal_step,
)

RULES = RetentionRules(retention_years=2, age_limit=23, archive_years=5)


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (SignalStatus.ACTIVE, WithdrawalReason.RESOLVED, Outcome.WITHDRAWN),
        (SignalStatus.ACTIVE, WithdrawalReason.DUPLICATE, Outcome.WITHDRAWN),
        (SignalStatus.ACTIVE, WithdrawalReason.WRONGFUL, Outcome.DELETED),
        (SignalStatus.WITHDRAWN, WithdrawalReason.WRONGFUL, Outcome.DELETED),
    ],
)
def test_withdrawals(status, reason, outcome):
    assert outcome_of(status, withdrawal_step(reason)) is outcome


def test_a_withdrawn_signal_cannot_be_withdrawn_again_for_another_ordinary_reason():
    with pytest.raises(StepNotAllowed):
        outcome_of(SignalStatus.WITHDRAWN, Step.WITHDRAW)


def test_expiry_archives_and_death_deletes_whatever_the_status():
    for status in SignalStatus:
        assert outcome_of(status, Step.EXPIRE) is Outcome.ARCHIVED
        assert outcome_of(status, Step.DECEASED) is Outcome.DELETED


def test_a_signal_expires_two_years_after_registration():
    assert RULES.expiry(date(2016, 5, 1), date(2026, 3, 2)) == (
        date(2028, 3, 2),
        ExpiryReason.RETENTION_PERIOD,
    )


def test_a_signal_expires_earlier_when_the_person_turns_23():
    assert RULES.expiry(date(2004, 6, 30), date(2026, 3, 2)) == (
        date(2027, 6, 30),
        ExpiryReason.AGE_LIMIT,
    )
    same_day = RULES.expiry(date(2005, 3, 2), date(2026, 3, 2))
    assert same_day == (date(2028, 3, 2), ExpiryReason.AGE_LIMIT), "a tie names the age limit"


def test_both_limits_are_configurable_and_leap_days_move_to_1_march():
    rules = RetentionRules(retention_years=1, age_limit=18, archive_years=3)
    assert rules.expiry(date(2010, 1, 1), date(2024, 2, 29)) == (
        date(2025, 3, 1),
        ExpiryReason.RETENTION_PERIOD,
    )
    assert rules.expiry(date(2008, 2, 29), date(2025, 6, 1)) == (
        date(2026, 3, 1),
        ExpiryReason.AGE_LIMIT,
    )
    assert rules.purge_on(date(2028, 3, 2)) == date(2031, 3, 2)
    assert RULES.purge_on(date(2028, 3, 2)) == date(2033, 3, 2)


def test_active_means_not_withdrawn_and_not_past_its_date():
    today = date(2027, 1, 1)
    assert is_active(SignalStatus.ACTIVE, date(2027, 1, 2), today)
    assert not is_active(SignalStatus.ACTIVE, today, today)
    assert not is_active(SignalStatus.WITHDRAWN, date(2027, 1, 2), today)

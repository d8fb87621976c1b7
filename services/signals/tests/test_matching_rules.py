"""The matching rule on its own: who joins, and who is named."""

import uuid
from datetime import UTC, datetime, timedelta

from signals_service.domain.matching import ActiveSignal, join

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def signal(org: str, professional: str, minutes: int) -> ActiveSignal:
    return ActiveSignal(uuid.uuid4(), org, professional, T0 + timedelta(minutes=minutes))


def test_a_single_organisation_is_no_match():
    assert join([], signal("school", "r-1", 0)) is None


def test_the_same_organisation_twice_is_no_match():
    assert join([signal("school", "r-1", 0)], signal("school", "r-2", 5)) is None


def test_a_second_organisation_joins_and_both_are_named():
    school = signal("school", "r-1", 0)
    police = signal("police", "p-1", 5)
    participants = join([school], police)
    assert [(p.organisation, p.professional, p.signal_id) for p in participants] == [
        ("school", "r-1", school.signal_id),
        ("police", "p-1", police.signal_id),
    ]


def test_a_third_organisation_joins_and_each_organisation_is_named_once():
    school_first = signal("school", "r-1", 0)
    school_later = signal("school", "r-2", 1)
    police = signal("police", "p-1", 2)
    gp = signal("gp", "h-1", 3)
    participants = join([school_later, police, school_first], gp)
    assert [p.organisation for p in participants] == ["school", "police", "gp"]
    assert participants[0].signal_id == school_first.signal_id, "the earliest signal is the contact"
    assert join([school_first, police, gp], signal("police", "p-2", 9)) is None

"""Matching across organisations, on the store (the rules are in ``domain.matching``).

Every change to the signals of a group (a person, and with household matching
on, an address) first writes that group's document in ``match_groups``. Two
signals about the same person registered at the same moment by two
organisations therefore conflict in MongoDB: one transaction commits, the other
runs again from the start, now sees the first signal, and announces the
match. Exactly one ``signal-matched`` per joining organisation, whatever the
timing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from buurtsignaal_contracts.events import MatchParticipant, SignalMatched
from servicekit.mongo import UnitOfWork
from signals_service.domain.matching import join, organisations
from signals_service.persons import household_group, person_group
from signals_service.store import MatchGroupStore, Signal, SignalStore


@dataclass(frozen=True)
class Group:
    id: str
    selector: dict[str, str]
    household: bool


class Matcher:
    def __init__(self, household_matching: bool) -> None:
        self.household_matching = household_matching

    def _groups(self, signal: Signal, *, all_kinds: bool = False) -> list[Group]:
        groups = [Group(person_group(signal.person_id), {"person_id": signal.person_id}, False)]
        if signal.household_key and (self.household_matching or all_kinds):
            groups.append(
                Group(
                    household_group(signal.household_key),
                    {"household_key": signal.household_key},
                    True,
                )
            )
        return groups

    async def after_registration(
        self, uow: UnitOfWork, signal: Signal, now: datetime
    ) -> list[SignalMatched]:
        """Announce the match the new signal's organisation joins, if any."""
        store, signals = MatchGroupStore(uow), SignalStore(uow)
        announced: frozenset[str] | None = None
        events = []
        for group in self._groups(signal):
            state = await store.touch(group.id)
            assert state is not None
            active = await signals.active_in_group(group.selector, now.date())
            earlier = [s.as_active() for s in active if s.id != signal.id]
            participants = join(earlier, signal.as_active())
            if participants is None:
                continue
            orgs = frozenset(p.organisation for p in participants)
            if group.household and orgs == announced:
                continue  # the household match names no one the person match did not
            match_id = state.match_id or uuid.uuid4()
            if state.match_id is None:
                await store.set_match(group.id, match_id)
            event = SignalMatched(
                match_id=match_id,
                person=signal.person,
                joining_org=signal.reporting_org,
                joining_signal_id=signal.id,
                participants=[
                    MatchParticipant(
                        organisation=p.organisation,
                        professional=p.professional,
                        signal_id=p.signal_id,
                    )
                    for p in participants
                ],
                household=group.household,
                matched_at=now,
            )
            uow.emit(event)
            events.append(event)
            if not group.household:
                announced = orgs
        return events

    async def after_removal(self, uow: UnitOfWork, signal: Signal, today: date) -> None:
        """A signal stopped counting: end the match when fewer than two organisations remain."""
        store, signals = MatchGroupStore(uow), SignalStore(uow)
        for group in self._groups(signal, all_kinds=True):
            state = await store.touch(group.id, create=False)
            if state is None:
                continue
            remaining = [
                s for s in await signals.active_in_group(group.selector, today) if s.id != signal.id
            ]
            if not remaining:
                await store.delete(group.id)
            elif len(organisations(s.as_active() for s in remaining)) < 2 and state.match_id:
                await store.set_match(group.id, None)

    async def matched_with(self, uow: UnitOfWork, signal: Signal, today: date) -> list[Signal]:
        """The first active signal of every other organisation about the same person."""
        if not signal.is_active(today):
            return []
        active = await SignalStore(uow).active_in_group({"person_id": signal.person_id}, today)
        first: dict[str, Signal] = {}
        for other in active:
            if other.reporting_org != signal.reporting_org:
                first.setdefault(other.reporting_org, other)
        return list(first.values())

"""Matching like the Verwijsindex: who else is worried about the same person.

When an organisation registers a signal about a person about whom another
organisation has an active signal, that organisation *joins* the match: every
organisation with an active signal is a participant, and the event names them
with the professional to contact, never the content. A second signal from an
organisation that already has one is not a join. Optionally the same holds
for the people at one address (a household match).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ActiveSignal:
    """What matching needs of an active signal: no content, no identity."""

    signal_id: uuid.UUID
    organisation: str
    professional: str
    received_at: datetime


@dataclass(frozen=True)
class Participant:
    organisation: str
    professional: str
    signal_id: uuid.UUID


def organisations(signals: Iterable[ActiveSignal]) -> frozenset[str]:
    return frozenset(s.organisation for s in signals)


def join(earlier: list[ActiveSignal], new: ActiveSignal) -> list[Participant] | None:
    """The participants when ``new`` makes its organisation join a match, else None.

    ``earlier`` are the other active signals in the group (same person, or same
    household). Each organisation is represented by its earliest active signal:
    the professional who first raised the concern is the contact.
    """
    if new.organisation in organisations(earlier) or not earlier:
        return None
    first_per_org: dict[str, ActiveSignal] = {}
    for signal in sorted(earlier, key=lambda s: (s.received_at, str(s.signal_id))):
        first_per_org.setdefault(signal.organisation, signal)
    members = [*first_per_org.values(), new]
    return [Participant(s.organisation, s.professional, s.signal_id) for s in members]

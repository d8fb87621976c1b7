"""What partner systems may hear through webhooks, and which subscription hears what.

Modelled on the Dutch Notificaties API: a notification is "informatie-arm" (a
channel - *kanaal* -, the kind of event, the id of the resource, a link and a
few attributes - *kenmerken* - as codes); a subscription - *abonnement* - names
channels with filters on those attributes. Whoever needs more follows the link
and is authorised there.

| channel       | event                  | resource | attributes beyond team, programme, district |
|---------------|------------------------|----------|---------------------------------------------|
| signals       | signal-matched         | match    | organisation (a list), household, signal_id |
|               |                        |          | (only these three; signal_id: its own)      |
| cases         | case-opened            | case     | priority                                    |
| cases         | case-assigned          | case     | -                                           |
| cases         | deadline-breached      | case     | deadline, escalation                        |
| cases         | screening-completed    | case     | outcome                                     |
| cases         | mayor-letter-requested | letter   | -                                           |
| cases         | mayor-letter-answered  | letter   | answer                                      |
| cases         | case-closed            | case     | outcome                                     |
| notifications | mayor-letter-sent      | letter   | method                                      |

Partners see only what they reported and the match contact details (DOMAIN.md):
the signals channel therefore only ever reaches the organisations in the match,
whatever a subscription's filters say. Case events carry codes only and reach a
partner only through a subscription the admin made for it (the municipality's
own systems, the mayor's office).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from buurtsignaal_contracts import EventData
from buurtsignaal_contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    DeadlineBreached,
    MayorLetterAnswered,
    MayorLetterRequested,
    MayorLetterSent,
    ScreeningCompleted,
    SignalMatched,
)

Attribute = str | bool | list[str]


class ChannelName(StrEnum):
    SIGNALS = "signals"
    CASES = "cases"
    NOTIFICATIONS = "notifications"


@dataclass(frozen=True)
class Publication:
    """What partners may be told of one event."""

    channel: ChannelName
    event_type: str  # the event's short name, e.g. "signal-matched"
    resource: str
    resource_id: str
    link: str  # path in the staff application
    attributes: dict[str, Attribute]
    # None: any subscriber of the channel; otherwise only these organisations.
    audience: frozenset[str] | None = None
    # Attributes that only one organisation of the audience may see (its own ids).
    own: dict[str, dict[str, Attribute]] = field(default_factory=dict)

    def attributes_for(self, partner: str) -> dict[str, Attribute]:
        return {**self.attributes, **self.own.get(partner, {})}

    def may_reach(self, partner: str) -> bool:
        return self.audience is None or partner in self.audience


# Which attributes a subscription may filter on, per channel (checked by the API).
FILTERABLE: dict[ChannelName, frozenset[str]] = {
    ChannelName.SIGNALS: frozenset({"organisation", "household"}),
    ChannelName.CASES: frozenset(
        {"team", "programme", "district", "priority", "deadline", "escalation", "outcome", "answer"}
    ),
    ChannelName.NOTIFICATIONS: frozenset({"team", "programme", "district", "method"}),
}

EVENT_TYPES: dict[ChannelName, frozenset[str]] = {
    ChannelName.SIGNALS: frozenset({"signal-matched"}),
    ChannelName.CASES: frozenset(
        {
            "case-opened",
            "case-assigned",
            "deadline-breached",
            "screening-completed",
            "mayor-letter-requested",
            "mayor-letter-answered",
            "case-closed",
        }
    ),
    ChannelName.NOTIFICATIONS: frozenset({"mayor-letter-sent"}),
}


def _place(event: Any) -> dict[str, Attribute]:
    return {"team": event.team, "programme": event.programme.value, "district": event.district}


def publication_for(data: EventData) -> Publication | None:
    """The informatie-arm notification for partners of an event; None if partners never hear it."""
    name = data.event_name
    match data:
        case SignalMatched():
            organisations = sorted({p.organisation for p in data.participants})
            own: dict[str, dict[str, Attribute]] = {}
            for participant in data.participants:
                ids = own.setdefault(participant.organisation, {"signal_id": []})
                ids["signal_id"].append(str(participant.signal_id))  # type: ignore[union-attr]
            return Publication(
                ChannelName.SIGNALS,
                name,
                "match",
                str(data.match_id),
                f"/matches/{data.match_id}",
                {"organisation": organisations, "household": data.household},
                audience=frozenset(organisations),
                own=own,
            )
        case CaseOpened():
            attributes = {**_place(data), "priority": data.priority.value}
            return _case(name, str(data.case_id), attributes)
        case CaseAssigned():
            return _case(name, str(data.case_id), _place(data))
        case DeadlineBreached():
            attributes = {
                **_place(data),
                "deadline": data.deadline.value,
                "escalation": data.escalation.value,
            }
            return _case(name, str(data.case_id), attributes)
        case ScreeningCompleted():
            return _case(name, str(data.case_id), {**_place(data), "outcome": data.outcome.value})
        case CaseClosed():
            return _case(name, str(data.case_id), {**_place(data), "outcome": data.outcome.value})
        case MayorLetterRequested():
            return _letter(ChannelName.CASES, name, str(data.letter_id), _place(data))
        case MayorLetterAnswered():
            attributes = {**_place(data), "answer": data.answer.value}
            return _letter(ChannelName.CASES, name, str(data.letter_id), attributes)
        case MayorLetterSent():
            attributes = {**_place(data), "method": data.method.value}
            return _letter(ChannelName.NOTIFICATIONS, name, str(data.letter_id), attributes)
    return None


def _case(name: str, case_id: str, attributes: dict[str, Attribute]) -> Publication:
    return Publication(ChannelName.CASES, name, "case", case_id, f"/cases/{case_id}", attributes)


def _letter(
    channel: ChannelName, name: str, letter_id: str, attributes: dict[str, Attribute]
) -> Publication:
    return Publication(channel, name, "letter", letter_id, f"/letters/{letter_id}", attributes)


@dataclass(frozen=True)
class ChannelFilter:
    """One channel of a subscription: which events, and which attribute values."""

    name: ChannelName
    event_types: frozenset[str] = frozenset()  # empty: every event of the channel
    filters: Mapping[str, str] = field(default_factory=dict)

    def admits(self, publication: Publication, partner: str) -> bool:
        if publication.channel != self.name:
            return False
        if self.event_types and publication.event_type not in self.event_types:
            return False
        attributes = publication.attributes_for(partner)
        return all(_matches(attributes.get(k), v) for k, v in self.filters.items())


def _matches(value: Attribute | None, wanted: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return wanted == ("true" if value else "false")
    if isinstance(value, list):
        return wanted in value
    return value == wanted


def subscription_hears(
    partner: str, channels: Sequence[ChannelFilter], publication: Publication
) -> bool:
    """A subscription hears a publication when its partner may, and one channel admits it."""
    return publication.may_reach(partner) and any(c.admits(publication, partner) for c in channels)


# --- Signatures: the Standard Webhooks scheme (https://www.standardwebhooks.com) -------------
# webhook-id: the delivery id (the same on every retry, so a receiver can drop a repeat);
# webhook-timestamp: seconds since the epoch (a receiver refuses old ones: no replays);
# webhook-signature: "v1," + base64(HMAC-SHA256(secret, f"{id}.{timestamp}.{body}")).

SIGNATURE_VERSION = "v1"
SECRET_PREFIX = "whsec_"


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = 300,
) -> bool:
    """What a receiver does (and the tests do): check the signature and the timestamp."""
    try:
        timestamp = int(headers["webhook-timestamp"])
        expected = sign(secret, headers["webhook-id"], timestamp, body)
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    offered = headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)

"""The mayor's letter: its life, the rules of recording its delivery, and what it says.

| status    | what happens                                         | next      | the PDF    |
|-----------|------------------------------------------------------|-----------|------------|
| requested | names and address fetched, letter rendered           | ready     | sealed     |
| requested | person unknown to signals, or the retries ran out    | failed    | -          |
| ready     | a worker records the delivery (home visit or post)   | delivered | destroyed  |
| ready     | the retention period passes without a delivery       | expired   | destroyed  |
| any       | the person's data is erased (AVG art. 17)            | erased    | destroyed  |

Why the PDF is destroyed at delivery: it holds names and an address, which
live in the signals service; after the letter is handed over nothing here
needs them. What stays is the record of the letter: ids, codes, dates, who
rendered, downloaded and delivered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from buurtsignaal_contracts.codes import LetterAddressee, LetterDeliveryMethod, LetterHandedTo


class LetterStatus(StrEnum):
    REQUESTED = "requested"
    READY = "ready"
    FAILED = "failed"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    ERASED = "erased"


class FailureReason(StrEnum):
    PERSON_UNKNOWN = "person-unknown"
    SIGNALS_UNAVAILABLE = "signals-unavailable"


class DeliveryRejected(Exception):
    """A delivery record that breaks a rule; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_delivery(
    *,
    status: LetterStatus,
    method: LetterDeliveryMethod,
    handed_to: LetterHandedTo,
    delivered_on: date,
    requested_on: date,
    today: date,
) -> None:
    """A delivery may be recorded once, for a rendered letter, on a plausible date."""
    if status is LetterStatus.DELIVERED:
        raise DeliveryRejected("status", "the delivery of this letter is recorded already")
    if status is not LetterStatus.READY:
        raise DeliveryRejected("status", f"a letter that is {status.value} cannot be delivered")
    if delivered_on > today:
        raise DeliveryRejected("delivered_on", "lies in the future")
    if delivered_on < requested_on:
        raise DeliveryRejected("delivered_on", "lies before the letter was requested")
    if method is LetterDeliveryMethod.POST and handed_to is not LetterHandedTo.LETTERBOX:
        raise DeliveryRejected("handed_to", "a posted letter ends in the letterbox")


# --- What the letter says ---------------------------------------------------------------

MONTHS_NL = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Name:
    given_name: str | None
    family_name: str | None

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


@dataclass(frozen=True)
class Address:
    street: str | None
    house_number: str | None
    postcode: str | None
    city: str | None

    def lines(self) -> list[str]:
        first = " ".join(p for p in (self.street, self.house_number) if p)
        # As PostNL asks: two spaces between postcode and place, the place in capitals.
        city = self.city.upper() if self.city else None
        second = "  ".join(p for p in (self.postcode, city) if p)
        return [line for line in (first, second) if line]


@dataclass(frozen=True)
class WorkerContact:
    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class LetterFacts:
    """Everything a letter says, gathered at the moment it is rendered."""

    reference: str
    municipality: str
    youth: Name
    guardians: tuple[Name, ...]
    address: Address
    addressees: tuple[LetterAddressee, ...]
    worker: WorkerContact
    dated: date

    @property
    def to_parents(self) -> bool:
        return LetterAddressee.PARENTS in self.addressees

    @property
    def to_youth(self) -> bool:
        return LetterAddressee.YOUTH in self.addressees

    def addressed_to(self) -> list[str]:
        """The names above the address: the youth and, when asked, the parent(s)."""
        lines = []
        if self.to_youth:
            lines.append(self.youth.full)
        if self.to_parents:
            if self.guardians:
                lines.extend(g.full for g in self.guardians)
            else:
                lines.append(f"De ouder(s)/verzorger(s) van {self.youth.full}")
        return lines

    def salutation(self) -> str:
        if self.to_youth and self.to_parents:
            return f"Beste {self.youth.given_name or self.youth.full} en ouder(s)/verzorger(s),"
        if self.to_youth:
            return f"Beste {self.youth.given_name or self.youth.full},"
        return "Geachte ouder(s)/verzorger(s),"

"""Who a signal is about, and how the same person is recognised again.

A person is found by BSN, or else by the combination of name, date of birth,
postcode and house number, compared after normalising case, spaces,
punctuation and diacritics ("Özil-Bakker" = "ozil bakker").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any


def normalise_text(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", without_marks.casefold())


def normalise_postcode(value: str) -> str:
    return re.sub(r"\s", "", value).upper()


def normalise_house_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value).lower()


@dataclass(frozen=True)
class Guardian:
    """A parent or guardian, as named in a signal: for the mayor's letter only."""

    given_name: str
    family_name: str


@dataclass(frozen=True)
class PersonIdentity:
    """The identifying data of a person as reported. Never leaves the service."""

    date_of_birth: date
    bsn: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    postcode: str | None = None
    house_number: str | None = None
    street: str | None = None
    city: str | None = None
    guardians: tuple[Guardian, ...] = ()

    def matching_keys(self) -> list[str]:
        """The plain keys this person can be found by (hashed before storing)."""
        keys = []
        if self.bsn:
            keys.append(f"bsn:{self.bsn}")
        if self.given_name and self.family_name and self.postcode and self.house_number:
            keys.append(
                "npa:"
                + "|".join(
                    [
                        normalise_text(self.given_name),
                        normalise_text(self.family_name),
                        self.date_of_birth.isoformat(),
                        normalise_postcode(self.postcode),
                        normalise_house_number(self.house_number),
                    ]
                )
            )
        return keys

    def address_key(self) -> str | None:
        """Plain key of the household address, for the optional household match."""
        if self.postcode and self.house_number:
            postcode = normalise_postcode(self.postcode)
            return f"addr:{postcode}|{normalise_house_number(self.house_number)}"
        return None


def identity_record(identity: PersonIdentity) -> dict[str, Any]:
    """The identity as stored (encrypted) in the person record."""
    return {
        "bsn": identity.bsn,
        "given_name": identity.given_name,
        "family_name": identity.family_name,
        "date_of_birth": identity.date_of_birth.isoformat(),
        "postcode": identity.postcode,
        "house_number": identity.house_number,
        "street": identity.street,
        "city": identity.city,
        "guardians": [
            {"given_name": g.given_name, "family_name": g.family_name} for g in identity.guardians
        ],
    }


def identity_from_record(record: dict[str, Any]) -> PersonIdentity:
    return PersonIdentity(
        date_of_birth=date.fromisoformat(record["date_of_birth"]),
        bsn=record.get("bsn"),
        given_name=record.get("given_name"),
        family_name=record.get("family_name"),
        postcode=record.get("postcode"),
        house_number=record.get("house_number"),
        street=record.get("street"),
        city=record.get("city"),
        guardians=tuple(Guardian(**g) for g in record.get("guardians", [])),
    )


def merge_records(stored: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    """The latest report is the most current: its non-empty fields replace the record's."""
    newer = {k: v for k, v in reported.items() if v not in (None, [])}
    return {**stored, **newer}

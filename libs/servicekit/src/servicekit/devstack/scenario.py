"""A synthetic Schiedam scenario: schools, police and residents report youths.

Everything here is made up. BSNs are drawn from 999990000-999999999, the range
the Dutch population register reserves for test persons, and names are
obviously fictional ("Voorbeeld", "Proefmans").
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)

GIVEN_NAMES = [
    "Sam",
    "Noa",
    "Daan",
    "Lina",
    "Milan",
    "Yara",
    "Finn",
    "Sara",
    "Jayden",
    "Aya",
    "Luuk",
    "Nora",
    "Ilias",
    "Evi",
    "Mees",
    "Fenna",
    "Ryan",
    "Zoë",
]
FAMILY_NAMES = [
    "Voorbeeld",
    "Proefmans",
    "Testhuis",
    "de Demo",
    "van Oefening",
    "Fictief",
    "Schijnveld",
    "Nepbeek",
]
POSTCODES = {  # district -> a postcode area in the configured table
    "centrum": "3111",
    "oost": "3113",
    "west": "3117",
    "zuid": "3115",
    "nieuwland": "3118",
    "groenoord": "3121",
    "woudhoek": "3122",
    "noord": "3124",
}


@dataclass(frozen=True)
class Reporter:
    source_type: str
    org: str
    sub: str
    categories: tuple[str, ...]


REPORTERS = [
    Reporter(
        "school",
        "obs-de-singel",
        "r-singel-01",
        ("behaviour-disobedience", "behaviour-aggression", "school-absence-relative"),
    ),
    Reporter(
        "school",
        "cbs-het-palet",
        "r-palet-01",
        ("behaviour-aggression", "behaviour-vandalism", "parenting-concern"),
    ),
    Reporter("police", "politie-schiedam", "r-politie-01", ("police-incident", "youth-nuisance")),
    Reporter(
        "compulsory-education-officer",
        "leerplicht-schiedam",
        "r-leerplicht-01",
        ("school-absence-absolute", "school-absence-relative"),
    ),
    Reporter(
        "youth-work", "jongerenwerk-schiedam", "r-jongerenwerk-01", ("youth-nuisance", "loneliness")
    ),
    Reporter(
        "resident", "bewonersmeldpunt", "r-meldpunt-01", ("youth-nuisance", "parenting-concern")
    ),
]


def synthetic_bsn(rng: random.Random) -> str:
    """A number in the test range that passes the 11-test."""
    while True:
        digits = "9999" + "".join(str(rng.randint(0, 9)) for _ in range(4))
        check = sum(int(d) * w for d, w in zip(digits, WEIGHTS[:8], strict=True)) % 11
        if check < 10:
            return digits + str(check)


@dataclass(frozen=True)
class Youth:
    bsn: str | None
    given_name: str
    family_name: str
    date_of_birth: date
    district: str
    house_number: str

    def person(self, with_bsn: bool) -> dict[str, Any]:
        person: dict[str, Any] = {
            "date_of_birth": self.date_of_birth.isoformat(),
            "given_name": self.given_name,
            "family_name": self.family_name,
            "postcode": f"{POSTCODES[self.district]} XY",
            "house_number": self.house_number,
            "street": "Voorbeeldstraat",
            "city": "Schiedam",
        }
        if with_bsn and self.bsn:
            person["bsn"] = self.bsn
        return person


def youths(rng: random.Random, count: int, today: date) -> list[Youth]:
    people = []
    for index in range(count):
        age_days = rng.randint(6 * 365, 19 * 365)
        people.append(
            Youth(
                bsn=synthetic_bsn(rng) if index % 3 else None,
                given_name=GIVEN_NAMES[index % len(GIVEN_NAMES)],
                family_name=rng.choice(FAMILY_NAMES),
                date_of_birth=today - timedelta(days=age_days),
                district=list(POSTCODES)[index % len(POSTCODES)],
                house_number=str(rng.randint(1, 240)),
            )
        )
    return people


@dataclass(frozen=True)
class PlannedSignal:
    reporter: Reporter
    body: dict[str, Any]


def scenario(
    signal_count: int = 40, seed: int = 2026, today: date | None = None
) -> list[PlannedSignal]:
    """Signals about youths; about a third of the youths are reported more than once,
    often by different organisations (the matches of the VIR)."""
    rng = random.Random(seed)
    today = today or date.today()
    people = youths(rng, max(4, signal_count * 2 // 5), today)
    planned = []
    for index in range(signal_count):
        youth = (
            people[index % len(people)]
            if index < len(people)
            else rng.choice(people[: len(people) // 3])
        )
        reporter = rng.choice(REPORTERS)
        age = (today - youth.date_of_birth).days // 365
        category = rng.choice(reporter.categories)
        if category.startswith("school-absence") and age >= 18:
            category = "youth-nuisance"
        body = {
            "source_type": reporter.source_type,
            "category": category,
            # The first report names the youth; later ones often give only the BSN.
            "person": youth.person(with_bsn=True),
            "occurred_on": (today - timedelta(days=rng.randint(0, 20))).isoformat(),
            "description": f"Synthetische melding {index + 1} (demo, geen echte persoon).",
        }
        planned.append(PlannedSignal(reporter, body))
    return planned

"""Searching what was stored, said on the bus or logged for values that must not be there.

A test names the values it put in (a BSN, names, a birth date in every common
notation, a postcode, a description) and hands over documents, event bodies or
log lines; every string inside, at any depth, keys included, and every byte
string decoded, is compared case-insensitively. What is found is reported with
where it was, never silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pymongo import AsyncMongoClient

DUTCH_MONTHS = [
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
]


@dataclass(frozen=True)
class Finding:
    where: str  # "database.collection", "event <type>", "log <service>"
    record: str  # the document id, event id or line number
    label: str  # which value was found


def date_notations(day: date) -> list[str]:
    """A date as software and people write it: ISO, Dutch, compact, with the month in words."""
    d, m, y = day.day, day.month, day.year
    return [
        day.isoformat(),
        f"{d:02d}-{m:02d}-{y}",
        f"{d}-{m}-{y}",
        f"{d:02d}/{m:02d}/{y}",
        f"{d}/{m}/{y}",
        f"{m:02d}/{d:02d}/{y}",
        f"{d:02d}.{m:02d}.{y}",
        f"{y}{m:02d}{d:02d}",
        f"{d:02d}{m:02d}{y}",
        f"{d} {DUTCH_MONTHS[m - 1]} {y}",
        day.strftime("%d %B %Y"),
        day.strftime("%B %d, %Y"),
    ]


def texts_of(value: Any) -> Iterator[str]:
    """Every string in a value, at any depth: keys, values, decoded bytes."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        yield raw.decode("utf-8", errors="ignore")
        yield raw.decode("utf-16-le", errors="ignore")  # PDF text strings may be UTF-16
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from texts_of(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from texts_of(item)
    elif value is not None:
        yield str(value)


def found_in(value: Any, needles: Mapping[str, str]) -> set[str]:
    """The labels of the needles that occur anywhere in the value."""
    wanted = {label: needle.casefold() for label, needle in needles.items() if needle}
    hits: set[str] = set()
    for text in texts_of(value):
        folded = text.casefold()
        hits.update(label for label, needle in wanted.items() if needle in folded)
    return hits


def scan(items: Iterable[tuple[str, str, Any]], needles: Mapping[str, str]) -> list[Finding]:
    """Findings in (where, record, value) items."""
    return [
        Finding(where, record, label)
        for where, record, value in items
        for label in sorted(found_in(value, needles))
    ]


Allowed = Callable[[str, str, str], bool]  # (database, collection, label) -> allowed there


async def scan_databases(
    client: AsyncMongoClient[dict[str, Any]],
    databases: Iterable[str],
    needles: Mapping[str, str],
    allowed: Allowed = lambda database, collection, label: False,
) -> list[Finding]:
    """Every document of every collection of the databases, through and through."""
    findings = []
    for name in databases:
        db = client[name]
        for collection in sorted(await db.list_collection_names()):
            documents = await db[collection].find().to_list()
            items = [(f"{name}.{collection}", str(d.get("_id")), d) for d in documents]
            findings += [f for f in scan(items, needles) if not allowed(name, collection, f.label)]
    return findings

"""Rotate the keys of the signals service: ``signals-rotate-keys [--check]``.

Run it with the service's environment after configuring the new keys:

    PSEUDONYM_KEY=<new> PSEUDONYM_KEY_VERSION=k2 PREVIOUS_PSEUDONYM_KEYS='{"k1": "<old>"}'
    ENCRYPTION_KEY=<new> ENCRYPTION_KEY_VERSION=e2 PREVIOUS_ENCRYPTION_KEYS='{"e1": "<old>"}'

For every person, in a transaction of its own (safe while the service runs,
safe to run again, resumable after an interruption), it

- re-hashes the lookup hashes that can be made again from the identity on
  record (BSN; name + birth date + postcode + house number; the household
  address) with the current lookup key, and drops their old versions;
- re-wraps the person's data key with the current master key (the data
  itself is not re-encrypted: it stays sealed with the person's data key).

Some hashes cannot be made again because their input is no longer on record:
the archive's (the identity is deleted when the last signal expires), a
person's former addresses, and the hashed partner references of batch
intake. ``--check`` and the report after a run say how many there are and
until when they live (archive: its purge date; references: the expiry of
their signals); keep the previous lookup key configured until then, or
accept that those are no longer recognised. Pseudonyms never change: they are
stored, so the references other services hold stay valid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import date

from tqdm import tqdm

from servicekit.audit import Action, AuditLog, AuditUser, processing_route
from servicekit.clock import SystemClock
from servicekit.mongo import Mongo, Transactions, UnitOfWork
from servicekit.outbox import write_outbox
from signals_service.domain.identity import identity_from_record
from signals_service.keyring import Keyring
from signals_service.persons import household_group
from signals_service.processing import KEY_ROTATION
from signals_service.settings import SignalsSettings
from signals_service.store import (
    ArchiveStore,
    MatchGroupStore,
    PersonStore,
    SignalStore,
    WrappedKey,
)


@dataclass(frozen=True)
class PersonRotation:
    rehashed: bool
    rewrapped: bool
    former_hashes: int  # hashes of a previous version that cannot be made again
    dropped: int  # hashes of a version whose key is no longer configured


@dataclass
class RotationReport:
    persons: int = 0
    rehashed: int = 0
    rewrapped: int = 0
    former_hashes: int = 0
    dropped: int = 0
    previous_versions: list[str] = field(default_factory=list)
    persons_on_previous_versions: int = 0
    keys_on_previous_versions: int = 0
    archive_records: int = 0
    archive_last_purge: date | None = None
    batch_references: int = 0
    batch_references_last_expiry: date | None = None

    def lines(self) -> list[str]:
        lines = [
            f"persons: {self.persons}; re-hashed: {self.rehashed}; "
            f"data keys re-wrapped: {self.rewrapped}",
            f"still on a previous lookup key ({', '.join(self.previous_versions) or 'none'}): "
            f"persons {self.persons_on_previous_versions}, "
            f"former-address hashes {self.former_hashes}, "
            f"archive records {self.archive_records}"
            + (f" (last purged on {self.archive_last_purge})" if self.archive_last_purge else "")
            + f", batch references {self.batch_references}"
            + (
                f" (last expires on {self.batch_references_last_expiry})"
                if self.batch_references_last_expiry
                else ""
            ),
            f"data keys on a previous master key: {self.keys_on_previous_versions}",
        ]
        if self.dropped:
            lines.append(f"hashes of unconfigured key versions dropped: {self.dropped}")
        return lines


class KeyRotation:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    async def rotate_person(self, uow: UnitOfWork, person_id: str) -> PersonRotation | None:
        persons = PersonStore(uow)
        wrapped = await persons.wrapped_key(person_id)
        if wrapped is None:
            return None  # forgotten in the meantime
        person = await persons.get(person_id)
        keyring = self._keyring
        data_key = keyring.unwrap(wrapped.wrapped, person_id, wrapped.version)
        record = json.loads(keyring.decrypt(data_key, person["identity"], person_id))
        identity = identity_from_record(record)
        plain = identity.matching_keys()
        derivable = {h for key in plain for h in keyring.lookup_hashes(key)}
        current = [keyring.lookup_hash(key) for key in plain]
        owned = await persons.find_all_by_lookup(current)
        current = [
            h
            for h in current
            if not any(o["_id"] != person_id and h in o["lookup_keys"] for o in owned)
        ]
        kept, former, dropped = [], 0, 0
        for stored in person["lookup_keys"]:
            version = stored.split(":", 1)[0]
            if keyring.is_current_hash(stored):
                kept.append(stored)
            elif stored in derivable:
                continue  # replaced by its current version
            elif version in keyring.lookup_versions:
                kept.append(stored)
                former += 1
            else:
                dropped += 1
        lookup_keys = list(dict.fromkeys([*current, *kept]))
        rehashed = lookup_keys != person["lookup_keys"]
        if rehashed:
            await persons.set_lookup_keys(person_id, lookup_keys)

        address = identity.address_key()
        household = keyring.lookup_hash(address) if address else None
        old_household = person.get("address_key")
        if household != old_household:
            rehashed = True
            await persons.set_address_key(person_id, household)
            if old_household:
                await SignalStore(uow).set_household_key(person_id, old_household, household)
                if household:
                    await MatchGroupStore(uow).rename(
                        household_group(old_household), household_group(household)
                    )

        rewrapped = wrapped.version != keyring.wrapping_version
        if rewrapped:
            await persons.replace_wrapped_key(
                person_id, WrappedKey(keyring.wrap(data_key, person_id), keyring.wrapping_version)
            )
        if rehashed or rewrapped:
            pseudonym = person["pseudonym"]
            await AuditLog(uow).record(
                AuditUser.system(), Action.UPDATE, KEY_ROTATION, pseudonym, f"person:{pseudonym}"
            )
        return PersonRotation(rehashed, rewrapped, former, dropped)

    async def run(
        self, transactions: Transactions, *, batch: int = 100, progress: bool = False
    ) -> RotationReport:
        report = RotationReport()
        after: str | None = None
        with (
            processing_route("job:key-rotation"),
            tqdm(unit="person", disable=not progress, file=sys.stderr) as bar,
        ):
            while True:
                ids = await transactions.run(
                    lambda uow, a=after: PersonStore(uow).ids_after(a, batch)
                )
                if not ids:
                    break
                for person_id in ids:
                    done = await transactions.run(
                        lambda uow, p=person_id: self.rotate_person(uow, p)
                    )
                    bar.update(1)
                    if done is None:
                        continue
                    report.persons += 1
                    report.rehashed += done.rehashed
                    report.rewrapped += done.rewrapped
                    report.former_hashes += done.former_hashes
                    report.dropped += done.dropped
                after = ids[-1]
        return await self.check(transactions, report)

    async def check(
        self, transactions: Transactions, report: RotationReport | None = None
    ) -> RotationReport:
        """What still depends on previous keys (nothing is changed)."""
        report = report or RotationReport()
        previous = [v for v in self._keyring.lookup_versions if v != self._keyring.lookup_version]
        report.previous_versions = previous

        async def look(uow: UnitOfWork) -> None:
            persons = PersonStore(uow)
            report.persons_on_previous_versions = await persons.count_holding_versions(previous)
            report.keys_on_previous_versions = await persons.count_keys_not_wrapped_by(
                self._keyring.wrapping_version
            )
            archived = await ArchiveStore(uow).holding_versions(previous)
            report.archive_records, report.archive_last_purge = archived
            references = await SignalStore(uow).intake_keys_holding_versions(previous)
            report.batch_references, report.batch_references_last_expiry = references

        await transactions.run(look)
        return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="signals-rotate-keys",
        description=(
            "Re-hash lookup hashes and re-wrap data keys with the current keys of the "
            "signals service (settings from the environment, as the service reads them)."
        ),
    )
    parser.add_argument(
        "--check", action="store_true", help="only report what still uses previous keys"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    settings = SignalsSettings()
    rotation = KeyRotation(Keyring.from_settings(settings))

    async def run() -> RotationReport:
        mongo = Mongo.from_settings(settings, app_name="signals-rotate-keys")
        transactions = Transactions(
            mongo, SystemClock(), write_outbox, lambda: None, service="signals"
        )
        try:
            if args.check:
                return await rotation.check(transactions)
            return await rotation.run(transactions, progress=not args.no_progress)
        finally:
            await mongo.close()

    report = asyncio.run(run())
    for line in report.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Persons: stored once, recognised again, and forgotten when nothing needs them.

A person is found by the hash of their BSN, or else by the hash of name +
date of birth + postcode + house number (normalised). Their identity is kept
encrypted with a data key of their own. When the last signal about them is
gone (expired, withdrawn as wrongful, or the person died) the person record
and the wrapped data key are deleted: nothing identifying stays behind except,
for expired signals, the archive's lookup hashes (see ``lifecycle``).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from servicekit.audit import Action, Activity, AuditLog, AuditUser
from servicekit.auth import Principal
from servicekit.mongo import UnitOfWork
from signals_service.domain.identity import (
    PersonIdentity,
    identity_from_record,
    identity_record,
    merge_records,
)
from signals_service.keyring import Keyring
from signals_service.processing import MAYOR_LETTER
from signals_service.store import (
    CaseAccessStore,
    MatchGroupStore,
    PersonStore,
    Signal,
    SignalStore,
    WrappedKey,
)

log = logging.getLogger(__name__)


def person_group(person_id: str) -> str:
    return f"person:{person_id}"


def household_group(household_key: str) -> str:
    return f"household:{household_key}"


@dataclass(frozen=True)
class KnownPerson:
    """A person found again or just registered, with their key opened for this unit of work."""

    id: str
    pseudonym: str
    data_key: bytes
    identity: PersonIdentity  # as on record after this report
    lookup_keys: list[str]  # what the archive may know them by
    household_key: str | None
    is_new: bool


class PersonRegistry:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def search_hashes(self, identity: PersonIdentity) -> list[str]:
        """The person's lookup hashes under every configured key version."""
        return self.hashes_of(identity.matching_keys())

    def hashes_of(self, plain_keys: list[str]) -> list[str]:
        """The lookup hashes of these plain keys under every configured key version."""
        return [h for key in plain_keys for h in self._keyring.lookup_hashes(key)]

    async def pseudonym_of_bsn(self, uow: UnitOfWork, bsn: str) -> str | None:
        """The pseudonym of the person on record with this BSN, if any."""
        hashes = list(self._keyring.lookup_hashes(f"bsn:{bsn}"))
        found = await PersonStore(uow).find_all_by_lookup(hashes)
        return found[0]["pseudonym"] if found else None

    async def identify(self, uow: UnitOfWork, reported: PersonIdentity) -> KnownPerson:
        """Find the person again (and update what is on record), or register them."""
        persons = PersonStore(uow)
        candidates = await persons.find_all_by_lookup(self.search_hashes(reported))
        existing = self._choose(candidates, reported)
        taken = {h for c in candidates if c is not existing for h in c["lookup_keys"]}
        if existing is None:
            return await self._register(uow, reported, taken)
        person_id = existing["_id"]
        data_key = await self._data_key(persons, person_id)
        assert data_key is not None, "a person without a key has been forgotten"
        stored = json.loads(self._keyring.decrypt(data_key, existing["identity"], person_id))
        merged = merge_records(stored, identity_record(reported))
        identity = identity_from_record(merged)
        household = self._household_key(identity)
        if merged != stored or household != existing.get("address_key"):
            sealed = self._keyring.encrypt(data_key, json.dumps(merged).encode(), person_id)
            await persons.replace_identity(person_id, sealed, household, bool(identity.bsn))
        wanted = self._current_hashes(identity, reported) - taken - set(existing["lookup_keys"])
        if wanted:
            # A hash made from the merged record may belong to someone not found above.
            owned = await persons.find_all_by_lookup(sorted(wanted))
            wanted -= {
                h for other in owned if other["_id"] != person_id for h in other["lookup_keys"]
            }
        lookup_keys = [*existing["lookup_keys"], *sorted(wanted)]
        if lookup_keys != existing["lookup_keys"]:
            await persons.set_lookup_keys(person_id, lookup_keys)
        if taken:
            log.warning(
                "a report names two registered persons; the signal goes to one",
                extra={"person_id": person_id, "other_persons": len(candidates) - 1},
            )
        return KnownPerson(
            person_id, existing["pseudonym"], data_key, identity, lookup_keys, household, False
        )

    def _choose(
        self, candidates: list[dict[str, Any]], reported: PersonIdentity
    ) -> dict[str, Any] | None:
        """The BSN decides; a name-and-address match with another BSN is someone else."""
        if not candidates:
            return None
        if reported.bsn:
            by_bsn = set(self._keyring.lookup_hashes(f"bsn:{reported.bsn}"))
            for candidate in candidates:
                if by_bsn.intersection(candidate["lookup_keys"]):
                    return candidate
            # Found by name and address only: the same person unless another BSN
            # is on record for them.
            for candidate in candidates:
                if not candidate.get("has_bsn"):
                    return candidate
            return None
        return candidates[0]

    async def _register(
        self, uow: UnitOfWork, reported: PersonIdentity, taken: set[str]
    ) -> KnownPerson:
        person_id = str(uuid.uuid4())
        data_key, wrapped = self._keyring.new_data_key(person_id)
        pseudonym = self._keyring.pseudonym(person_id)
        record = identity_record(reported)
        household = self._household_key(reported)
        lookup_keys = sorted(self._current_hashes(reported, reported) - taken)
        await PersonStore(uow).create(
            {
                "_id": person_id,
                "pseudonym": pseudonym,
                "has_bsn": bool(reported.bsn),
                "address_key": household,
                "identity": self._keyring.encrypt(data_key, json.dumps(record).encode(), person_id),
                "created_at": uow.clock.now(),
            },
            WrappedKey(wrapped, self._keyring.wrapping_version),
            lookup_keys,
        )
        return KnownPerson(person_id, pseudonym, data_key, reported, lookup_keys, household, True)

    def _current_hashes(self, on_record: PersonIdentity, reported: PersonIdentity) -> set[str]:
        keys = {*on_record.matching_keys(), *reported.matching_keys()}
        return {self._keyring.lookup_hash(k) for k in keys}

    def _household_key(self, identity: PersonIdentity) -> str | None:
        address = identity.address_key()
        return self._keyring.lookup_hash(address) if address else None

    async def _data_key(self, persons: PersonStore, person_id: str) -> bytes | None:
        wrapped = await persons.wrapped_key(person_id)
        if wrapped is None:
            return None
        return self._keyring.unwrap(wrapped.wrapped, person_id, wrapped.version)

    # --- reading what is on record ------------------------------------------

    def seal_description(self, person: KnownPerson, description: str | None) -> bytes | None:
        if not description:
            return None
        return self._keyring.encrypt(person.data_key, description.encode(), person.id)

    async def description_of(self, uow: UnitOfWork, signal: Signal) -> str | None:
        if signal.description is None:
            return None
        data_key = await self._data_key(PersonStore(uow), signal.person_id)
        if data_key is None:
            return None
        return self._keyring.decrypt(data_key, signal.description, signal.person_id).decode()

    async def identity_of(self, uow: UnitOfWork, person_id: str) -> dict[str, Any] | None:
        persons = PersonStore(uow)
        data_key = await self._data_key(persons, person_id)
        if data_key is None:
            return None
        person = await persons.get(person_id)
        return json.loads(self._keyring.decrypt(data_key, person["identity"], person_id))  # type: ignore[no-any-return]

    async def known_by(self, uow: UnitOfWork, person: dict[str, Any]) -> list[str]:
        """Every hash the person may be on record by, under every configured key version."""
        record = await self.identity_of(uow, person["_id"])
        derived = self.search_hashes(identity_from_record(record)) if record else []
        return sorted({*person["lookup_keys"], *derived})

    async def letter_details(
        self, uow: UnitOfWork, pseudonym: str, caller: Principal, on_behalf_of: str
    ) -> dict[str, Any] | None:
        """Names and address for the mayor's letter; the read is audit-logged."""
        person = await PersonStore(uow).find_by_pseudonym(pseudonym)
        identity = await self.identity_of(uow, person["_id"]) if person else None
        if identity is None:
            return None
        await AuditLog(uow).record(
            AuditUser.of(caller, on_behalf_of),
            Action.READ,
            MAYOR_LETTER,
            pseudonym,
            f"person:{pseudonym}",
        )
        return identity

    # --- forgetting -----------------------------------------------------------

    async def forget_if_unreferenced(
        self, uow: UnitOfWork, person_id: str, activity: Activity
    ) -> bool:
        """Delete the person, their key and what points at them once no signal does."""
        # Write the person's group first: a signal about them registered at this very
        # moment writes it too, so one of the two transactions runs again and the
        # person is never deleted under a new signal.
        await MatchGroupStore(uow).touch(person_group(person_id))
        if await SignalStore(uow).any_of_person(person_id):
            return False
        persons = PersonStore(uow)
        person = await persons.get(person_id)
        await persons.delete(person_id)
        await MatchGroupStore(uow).delete(person_group(person_id))
        await CaseAccessStore(uow).forget_person(person["pseudonym"])
        pseudonym = person["pseudonym"]
        await AuditLog(uow).record(
            AuditUser.system(), Action.DELETE, activity, pseudonym, f"person:{pseudonym}"
        )
        return True

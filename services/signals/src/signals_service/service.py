"""The signals service layer: register signals and identify the people they are about."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from buurtsignaal_contracts.codes import Category, Programme, SourceType
from buurtsignaal_contracts.events import SignalReceived
from servicekit.areas import AreaConfig
from servicekit.auth import Principal
from servicekit.clock import Clock
from servicekit.mongo import UnitOfWork
from signals_service.domain.identity import PersonIdentity
from signals_service.domain.intake import (
    RuleViolation,
    add_years,
    age_band,
    check_age_for_programme,
    check_person_dates,
)
from signals_service.keyring import Keyring
from signals_service.settings import SignalsSettings
from signals_service.store import AuditLog, PersonStore, Signal, SignalStore


class IntakeRejected(Exception):
    def __init__(self, violations: list[RuleViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.message}" for v in violations))
        self.violations = violations


@dataclass(frozen=True)
class Submission:
    source_type: SourceType
    category: Category
    person: PersonIdentity
    occurred_on: date
    district: str | None = None
    description: str | None = None
    suggested_programme: Programme | None = None


@dataclass(frozen=True)
class Checked:
    submission: Submission
    district: str | None  # None: take it from the person's address on record
    age: int


class SignalIntake:
    def __init__(
        self, areas: AreaConfig, keyring: Keyring, settings: SignalsSettings, clock: Clock
    ) -> None:
        self._areas = areas
        self._keyring = keyring
        self._settings = settings
        self._clock = clock

    def check(self, submission: Submission) -> Checked:
        """Every rule a submission must meet; all violations at once."""
        violations = self._identity_violations(submission.person)
        district = None
        try:
            district = self._district(submission)
        except RuleViolation as violation:
            if violation.code != "district_required":
                violations.append(violation)
        today = self._clock.now().date()
        age = 0
        try:
            age = check_person_dates(
                submission.person.date_of_birth,
                submission.occurred_on,
                today,
                self._settings.age_limit,
            )
            check_age_for_programme(submission.suggested_programme, age)
        except RuleViolation as violation:
            violations.append(violation)
        if violations:
            raise IntakeRejected(violations)
        return Checked(submission, district, age)

    async def register(self, uow: UnitOfWork, checked: Checked, reporter: Principal) -> Signal:
        submission = checked.submission
        person_id, pseudonym, data_key = await self._identify(uow, submission.person)
        district = checked.district or await self._district_on_record(uow, person_id, data_key)
        now = uow.clock.now()
        signal_id = uuid.uuid4()
        description = (
            self._keyring.encrypt(data_key, submission.description.encode(), person_id)
            if submission.description
            else None
        )
        signal = Signal(
            id=signal_id,
            person_id=person_id,
            person=pseudonym,
            reporting_org=reporter.org or "",
            reporter=reporter.sub,
            source_type=submission.source_type,
            category=submission.category,
            district=district,
            age_band=age_band(checked.age),
            suggested_programme=submission.suggested_programme,
            occurred_on=submission.occurred_on,
            received_at=now,
            expires_on=self._expiry(submission.person.date_of_birth, now.date()),
            description=description,
        )
        await SignalStore(uow).add(signal)
        await AuditLog(uow).record(
            actor=reporter.sub,
            org=reporter.org,
            action="create",
            purpose="signal-intake",
            person=pseudonym,
            record=f"signal:{signal_id}",
        )
        uow.emit(
            SignalReceived(
                signal_id=signal_id,
                person=pseudonym,
                source_type=signal.source_type,
                reporting_org=signal.reporting_org,
                category=signal.category,
                district=signal.district,
                age_band=signal.age_band,
                suggested_programme=signal.suggested_programme,
                occurred_on=signal.occurred_on,
                received_at=now,
            )
        )
        return signal

    def read_description(self, signal: Signal, wrapped_key: bytes | None) -> str | None:
        if signal.description is None or wrapped_key is None:
            return None
        data_key = self._keyring.unwrap(wrapped_key, signal.person_id)
        return self._keyring.decrypt(data_key, signal.description, signal.person_id).decode()

    async def _identify(self, uow: UnitOfWork, identity: PersonIdentity) -> tuple[str, str, bytes]:
        """Find the person again, or register them; returns id, pseudonym, data key."""
        persons = PersonStore(uow)
        hashes = [self._keyring.lookup_hash(k) for k in identity.matching_keys()]
        existing = await persons.find_by_lookup(hashes)
        if existing is not None:
            person_id = existing["_id"]
            if missing := [h for h in hashes if h not in existing["lookup_keys"]]:
                await persons.add_lookup_keys(person_id, missing)
            wrapped = await persons.wrapped_key(person_id)
            assert wrapped is not None, "a person without a key has been erased"
            data_key = self._keyring.unwrap(wrapped, person_id)
            await self._update_identity(persons, existing, identity, data_key)
            return person_id, existing["pseudonym"], data_key
        person_id = str(uuid.uuid4())
        data_key, wrapped = self._keyring.new_data_key(person_id)
        pseudonym = self._keyring.pseudonym(person_id)
        identity_json = json.dumps(_identity_fields(identity)).encode()
        address = identity.address_key()
        await persons.create(
            {
                "_id": person_id,
                "pseudonym": pseudonym,
                "lookup_keys": hashes,
                "address_key": self._keyring.lookup_hash(address) if address else None,
                "identity": self._keyring.encrypt(data_key, identity_json, person_id),
                "created_at": uow.clock.now(),
            },
            wrapped,
        )
        return person_id, pseudonym, data_key

    async def _update_identity(
        self, persons: PersonStore, existing: dict[str, Any], reported: PersonIdentity, key: bytes
    ) -> None:
        """The latest report is the most current: its non-empty fields replace the record's."""
        person_id = existing["_id"]
        stored = json.loads(self._keyring.decrypt(key, existing["identity"], person_id))
        newer = {k: v for k, v in _identity_fields(reported).items() if v not in (None, [])}
        merged = {**stored, **newer}
        if merged != stored:
            sealed = self._keyring.encrypt(key, json.dumps(merged).encode(), person_id)
            await persons.replace_identity(person_id, sealed)

    async def letter_details(
        self, uow: UnitOfWork, pseudonym: str, caller: Principal, on_behalf_of: str
    ) -> dict[str, Any] | None:
        """Names and address for the mayor's letter; the read is audit-logged."""
        persons = PersonStore(uow)
        person = await persons.find_by_pseudonym(pseudonym)
        wrapped = await persons.wrapped_key(person["_id"]) if person else None
        if person is None or wrapped is None:
            return None
        key = self._keyring.unwrap(wrapped, person["_id"])
        identity = json.loads(self._keyring.decrypt(key, person["identity"], person["_id"]))
        await AuditLog(uow).record(
            actor=caller.sub,
            org=caller.org,
            action="read",
            purpose="mayor-letter",
            person=pseudonym,
            record=f"person:{pseudonym}",
            on_behalf_of=on_behalf_of,
        )
        return identity

    async def _district_on_record(self, uow: UnitOfWork, person_id: str, data_key: bytes) -> str:
        """A known person's district from the postcode already on record."""
        person = await PersonStore(uow).get(person_id)
        identity = json.loads(self._keyring.decrypt(data_key, person["identity"], person_id))
        postcode = identity.get("postcode")
        district = self._areas.district_for_postcode(postcode) if postcode else None
        if district is None:
            raise IntakeRejected(
                [
                    RuleViolation(
                        "district",
                        "required: no postcode given or on record lies in the municipality",
                        "district_required",
                    )
                ]
            )
        return district

    def _district(self, submission: Submission) -> str:
        postcode = submission.person.postcode
        derived = self._areas.district_for_postcode(postcode) if postcode else None
        given = submission.district
        if given is not None and given not in self._areas.district_codes:
            known = ", ".join(sorted(self._areas.district_codes))
            raise RuleViolation("district", f"unknown district; known: {known}", "unknown_district")
        if derived and given and derived != given:
            raise RuleViolation(
                "district", f"the postcode lies in {derived}, not {given}", "district_mismatch"
            )
        if derived or given:
            return derived or given  # type: ignore[return-value]
        raise RuleViolation(
            "district",
            "required when the postcode is not in the municipality's postcode table",
            "district_required",
        )

    def _identity_violations(self, person: PersonIdentity) -> list[RuleViolation]:
        if person.bsn:
            return []
        required = ("given_name", "family_name", "postcode", "house_number")
        return [
            RuleViolation(f"person.{name}", "required when no BSN is given", "missing")
            for name in required
            if not getattr(person, name)
        ]

    def _expiry(self, birth: date, registered: date) -> date:
        """Two years after registration, or the day the person reaches the age limit."""
        return min(
            add_years(registered, self._settings.retention_years),
            add_years(birth, self._settings.age_limit),
        )


def _identity_fields(identity: PersonIdentity) -> dict[str, Any]:
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

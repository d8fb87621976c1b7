"""Intake: check a submission, identify the person, store the signal, announce it.

``check`` applies every rule without touching the database, so bad input
stores nothing; ``register`` runs inside the caller's unit of work: the person,
the signal, the audit record and the events commit together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from buurtsignaal_contracts.codes import Category, Programme, SourceType
from buurtsignaal_contracts.events import SignalMatched, SignalReceived
from servicekit.areas import AreaConfig
from servicekit.audit import Action, AuditLog, AuditUser
from servicekit.clock import Clock
from servicekit.mongo import UnitOfWork
from signals_service.domain.identity import PersonIdentity
from signals_service.domain.intake import (
    RuleViolation,
    age_band,
    check_age_for_programme,
    check_person_dates,
)
from signals_service.domain.lifecycle import RetentionRules
from signals_service.keyring import Keyring
from signals_service.matcher import Matcher
from signals_service.persons import KnownPerson, PersonRegistry
from signals_service.processing import SIGNAL_INTAKE
from signals_service.store import ArchiveStore, Signal, SignalStore


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


@dataclass(frozen=True)
class Reporter:
    """Who registers the signal: the professional's account and their organisation."""

    account: str
    organisation: str


@dataclass(frozen=True)
class Registered:
    signal: Signal
    created: bool  # False: the partner reference was imported before
    matches: tuple[SignalMatched, ...] = ()


class SignalIntake:
    def __init__(
        self,
        areas: AreaConfig,
        keyring: Keyring,
        persons: PersonRegistry,
        matcher: Matcher,
        rules: RetentionRules,
        clock: Clock,
    ) -> None:
        self._areas = areas
        self._keyring = keyring
        self._persons = persons
        self._matcher = matcher
        self._rules = rules
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
                self._rules.age_limit,
            )
            check_age_for_programme(submission.suggested_programme, age)
        except RuleViolation as violation:
            violations.append(violation)
        if violations:
            raise IntakeRejected(violations)
        return Checked(submission, district, age)

    def intake_keys(self, reporter: Reporter, external_ref: str) -> list[str]:
        """The partner's reference, keyed: it may be a pupil number, so not kept in clear."""
        return self._keyring.lookup_hashes(f"ref:{reporter.organisation}|{external_ref}")

    async def register(
        self,
        uow: UnitOfWork,
        checked: Checked,
        reporter: Reporter,
        external_ref: str | None = None,
    ) -> Registered:
        signals = SignalStore(uow)
        intake_key = None
        if external_ref is not None:
            keys = self.intake_keys(reporter, external_ref)
            if (earlier := await signals.by_intake_key(keys)) is not None:
                return Registered(earlier, created=False)
            intake_key = keys[0]
        submission = checked.submission
        person = await self._persons.identify(uow, submission.person)
        district = checked.district or self._district_on_record(person)
        # Archived hashes may be of a previous key version: search with every version.
        known_by = {*person.lookup_keys, *self._persons.search_hashes(person.identity)}
        earlier_existed = await ArchiveStore(uow).tell_once(person.id, sorted(known_by))
        now = uow.clock.now()
        expires_on, expiry_reason = self._rules.expiry(person.identity.date_of_birth, now.date())
        signal = Signal(
            id=uuid.uuid4(),
            person_id=person.id,
            person=person.pseudonym,
            reporting_org=reporter.organisation,
            reporter=reporter.account,
            source_type=submission.source_type,
            category=submission.category,
            district=district,
            age_band=age_band(checked.age),
            suggested_programme=submission.suggested_programme,
            occurred_on=submission.occurred_on,
            received_at=now,
            expires_on=expires_on,
            expiry_reason=expiry_reason,
            description=self._persons.seal_description(person, submission.description),
            earlier_signal_existed=earlier_existed,
            household_key=person.household_key,
            intake_key=intake_key,
        )
        await signals.add(signal)
        await AuditLog(uow).record(
            AuditUser(reporter.account, reporter.organisation),
            Action.CREATE,
            SIGNAL_INTAKE,
            person.pseudonym,
            f"signal:{signal.id}",
        )
        uow.emit(
            SignalReceived(
                signal_id=signal.id,
                person=signal.person,
                source_type=signal.source_type,
                reporting_org=signal.reporting_org,
                category=signal.category,
                district=signal.district,
                age_band=signal.age_band,
                suggested_programme=signal.suggested_programme,
                occurred_on=signal.occurred_on,
                received_at=now,
                earlier_signal_existed=earlier_existed,
            )
        )
        matches = await self._matcher.after_registration(uow, signal, now)
        return Registered(signal, created=True, matches=tuple(matches))

    def _district_on_record(self, person: KnownPerson) -> str:
        """A known person's district from the postcode on record."""
        postcode = person.identity.postcode
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

"""The use cases of the cases service; each runs inside one unit of work.

The API and the event handlers call these. Each loads the case, lets the
aggregate apply the rules, saves it (optimistic concurrency on ``version``)
and emits the events the aggregate collected, all in the caller's transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from buurtsignaal_contracts.codes import (
    CaseOutcome,
    CaseStatus,
    ContactKind,
    Escalation,
    LetterAddressee,
    LetterAnswer,
    PartOfDay,
    Priority,
    Programme,
    ReopenReason,
    WithdrawalReason,
)
from buurtsignaal_contracts.events import (
    MayorLetterSent,
    SignalExpired,
    SignalMatched,
    SignalReceived,
    SignalWithdrawn,
)
from cases_service.domain.case import (
    Case,
    Change,
    Contact,
    InvolvedOrganisation,
    Letter,
    SignalRef,
    UnknownLetter,
)
from cases_service.domain.deadlines import DeadlineRules
from cases_service.domain.programme import ProgrammeRules
from cases_service.domain.refusals import InvalidStep, TransitionRefused, VersionConflict
from cases_service.domain.screening import InstrumentCatalogue, UnknownInstrument
from cases_service.domain.timeline import TimelineEntry, timeline
from cases_service.processing import (
    CASE_OPENING,
    CASEWORK,
    CONTACTS,
    DEADLINE_MONITORING,
    MATCH,
    MAYOR_LETTER,
    SCREENING,
    SIGNAL_LIFECYCLE,
)
from cases_service.store import (
    CaseStore,
    ContactStore,
    MatchStore,
    OpenCaseExists,
    ScreeningRecord,
    ScreeningStore,
    StaleCase,
)
from servicekit.areas import AreaConfig
from servicekit.audit import Action, Activity, AuditLog, AuditUser
from servicekit.auth import Principal
from servicekit.authz import Access
from servicekit.erasure import forget_mentions
from servicekit.messaging import NotHandledYet, PermanentFailure
from servicekit.mongo import RetryTransaction, UnitOfWork

log = logging.getLogger(__name__)


class CaseNotFound(Exception):
    """No such case, or not one of the caller's teams (the API answers 404 for both)."""


class LetterNotFound(CaseNotFound):
    """No such letter on the case."""


class NotYourTeam(Exception):
    """The caller may see the case but not change it (an admin who is also a worker, say)."""


@dataclass(frozen=True)
class Actor:
    """Who acts through the API and which teams' cases they may see, change and assign.

    The scopes come from the authorisation matrix (``access_matrix.py``):
    ``visible`` from the read route, ``changeable`` and ``assignable`` from the
    route being called. A worker's teams are those in the token. An area
    manager's teams are the teams in the token plus the teams the area
    configuration says they manage (``teams_managed_by``), so a change of
    managers in the configuration needs no new tokens. An admin sees every case
    and changes none.
    """

    principal: Principal
    visible: frozenset[str] | None  # None: every team
    changeable: frozenset[str]
    assignable: frozenset[str]

    @property
    def sub(self) -> str:
        return self.principal.sub

    @classmethod
    def of(cls, access: Access, reading: Access | None, areas: AreaConfig) -> Actor:
        """``access``: the caller on the route called; ``reading``: on the read route."""
        visible = reading.teams(areas) if reading is not None else frozenset()
        here = access.teams(areas)
        # "any" on a changing route is granted to nobody; were it, it would mean every team.
        acting = here if here is not None else frozenset(t.code for t in areas.teams)
        return cls(access.principal, visible, acting, acting)

    def may_see(self, case: Case) -> bool:
        return self.visible is None or case.team in self.visible


@dataclass(frozen=True)
class CaseFilter:
    teams: list[str]
    programmes: list[Programme]
    statuses: list[CaseStatus]
    priority: Priority | None = None
    worker: str | None = None
    person: str | None = None
    overdue: bool | None = None

    def query(self, actor: Actor, today: date) -> dict[str, Any]:
        conditions: list[dict[str, Any]] = []
        if actor.visible is not None:
            conditions.append({"team": {"$in": sorted(actor.visible)}})
        if self.teams:
            conditions.append({"team": {"$in": self.teams}})
        if self.programmes:
            conditions.append({"programme": {"$in": [p.value for p in self.programmes]}})
        if self.statuses:
            conditions.append({"status": {"$in": [s.value for s in self.statuses]}})
        for key, value in (("priority", self.priority), ("worker", self.worker)):
            if value is not None:
                conditions.append({key: str(value)})
        if self.person is not None:
            conditions.append({"person": self.person})
        if self.overdue is True:
            conditions.append({"next_due_on": {"$lt": today.isoformat()}})
        elif self.overdue is False:
            conditions.append(
                {"$or": [{"next_due_on": None}, {"next_due_on": {"$gte": today.isoformat()}}]}
            )
        if not conditions:
            return {}
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}


@dataclass
class CaseService:
    rules: DeadlineRules
    areas: AreaConfig
    programmes: ProgrammeRules
    instruments: InstrumentCatalogue

    def change(self, uow: UnitOfWork, by: str | None) -> Change:
        return Change(by, uow.clock.now(), self.rules)

    # ------------------------------------------------------------------ reads

    # Every read is audit-logged in its transaction: no record, no data.

    async def read(self, uow: UnitOfWork, case_id: uuid.UUID, actor: Actor) -> Case:
        case = await self._visible(uow, case_id, actor)
        await _audit(uow, actor, Action.READ, CASEWORK, case)
        return case

    async def page(
        self, uow: UnitOfWork, actor: Actor, filters: CaseFilter, *, offset: int, limit: int
    ) -> tuple[list[Case], int]:
        query = filters.query(actor, self.today(uow))
        store = CaseStore(uow)
        found = await store.page(query, limit=limit, skip=offset)
        await AuditLog(uow).record_many(
            AuditUser.of(actor.principal),
            Action.READ,
            CASEWORK,
            [(case.person, f"case:{case.id}") for case in found],
        )
        return found, await store.count(query)

    async def timeline(
        self, uow: UnitOfWork, case_id: uuid.UUID, actor: Actor
    ) -> list[TimelineEntry]:
        case = await self.read(uow, case_id, actor)
        return timeline(case, await ContactStore(uow).of_case(case.id), self.rules)

    async def contacts(self, uow: UnitOfWork, case_id: uuid.UUID, actor: Actor) -> list[Contact]:
        case = await self._visible(uow, case_id, actor)
        await _audit(uow, actor, Action.READ, CONTACTS, case)
        return await ContactStore(uow).of_case(case.id)

    async def screenings(
        self, uow: UnitOfWork, case_id: uuid.UUID, actor: Actor
    ) -> list[ScreeningRecord]:
        case = await self._visible(uow, case_id, actor)
        await _audit(uow, actor, Action.READ, SCREENING, case)
        return await ScreeningStore(uow).of_case(case.id)

    async def _visible(self, uow: UnitOfWork, case_id: uuid.UUID, actor: Actor) -> Case:
        case = await CaseStore(uow).get(case_id)
        # Another team's case answers exactly like a case that does not exist.
        if case is None or not actor.may_see(case):
            raise CaseNotFound(case_id)
        return case

    def today(self, uow: UnitOfWork) -> date:
        return self.rules.local_date(uow.clock.now())

    # ------------------------------------------------- decisions through the API

    async def assign(
        self, uow: UnitOfWork, case_id: uuid.UUID, actor: Actor, worker: str, version: int
    ) -> Case:
        case = await self._for_change(uow, case_id, actor, version)
        if case.team not in actor.assignable:
            raise NotYourTeam("only an area manager of the case's team assigns its worker")
        if case.assign(worker, self.change(uow, actor.sub)):
            await self._save(uow, case, version)
            await _audit(uow, actor, Action.UPDATE, CASEWORK, case)
        return case

    async def change_status(
        self,
        uow: UnitOfWork,
        case_id: uuid.UUID,
        actor: Actor,
        status: CaseStatus,
        version: int,
        *,
        outcome: CaseOutcome | None = None,
        reason: ReopenReason | None = None,
    ) -> Case:
        case = await self._for_change(uow, case_id, actor, version)
        if status is CaseStatus.REOPENED and case.status is CaseStatus.CLOSED:
            other = await CaseStore(uow).find_open(case.person, case.programme)
            if other is not None:
                raise TransitionRefused(
                    f"the person has another open case in this programme ({other.id}); "
                    "continue there"
                )
        case.change_status(status, self.change(uow, actor.sub), outcome=outcome, reason=reason)
        await self._save(uow, case, version)
        await _audit(uow, actor, Action.UPDATE, CASEWORK, case)
        return case

    async def complete_screening(
        self,
        uow: UnitOfWork,
        case_id: uuid.UUID,
        actor: Actor,
        *,
        instrument: str,
        instrument_version: str,
        answers: Mapping[str, str],
        version: int,
    ) -> tuple[ScreeningRecord, Case]:
        case = await self._for_change(uow, case_id, actor, version)
        try:
            definition = self.instruments.get(instrument, instrument_version)
        except UnknownInstrument:
            known = ", ".join(self.instruments.versions(instrument)) or "none"
            raise InvalidStep(
                "instrument_version",
                f"unknown instrument version; versions of {instrument}: {known}",
                "unknown",
            ) from None
        scored = definition.score(answers)
        change = self.change(uow, actor.sub)
        record = ScreeningRecord(
            id=uuid.uuid4(),
            case_id=case.id,
            instrument=scored.instrument,
            instrument_version=scored.version,
            answers=dict(answers),
            score=scored.score,
            outcome=scored.outcome,
            completed_by=actor.sub,
            completed_at=change.now,
        )
        case.complete_screening(record.id, scored, change)
        await ScreeningStore(uow).add(record, case.person)
        await self._save(uow, case, version)
        await _audit(uow, actor, Action.CREATE, SCREENING, case, f"screening:{record.id}")
        return record, case

    async def record_contact(
        self,
        uow: UnitOfWork,
        case_id: uuid.UUID,
        actor: Actor,
        *,
        kind: ContactKind,
        reached: bool,
        contact_date: date,
        part_of_day: PartOfDay,
        minutes: int,
    ) -> tuple[Contact, Case]:
        # A contact does not conflict with anyone's decision: no version to send;
        # a concurrent change to the case only makes the transaction run again.
        case = await self._for_change(uow, case_id, actor, None)
        contact = case.record_contact(
            kind=kind,
            reached=reached,
            contact_date=contact_date,
            part_of_day=part_of_day,
            minutes=minutes,
            change=self.change(uow, actor.sub),
        )
        await ContactStore(uow).add(contact, case)
        await self._save(uow, case, None)
        await _audit(uow, actor, Action.CREATE, CONTACTS, case, f"contact:{contact.id}")
        return contact, case

    async def request_letter(
        self,
        uow: UnitOfWork,
        case_id: uuid.UUID,
        actor: Actor,
        addressees: list[LetterAddressee],
        version: int,
    ) -> tuple[Letter, Case]:
        case = await self._for_change(uow, case_id, actor, version)
        letter = case.request_letter(addressees, self.change(uow, actor.sub))
        await self._save(uow, case, version)
        await _audit(uow, actor, Action.CREATE, MAYOR_LETTER, case, f"letter:{letter.id}")
        return letter, case

    async def record_answer(
        self,
        uow: UnitOfWork,
        case_id: uuid.UUID,
        letter_id: uuid.UUID,
        actor: Actor,
        *,
        answer: LetterAnswer,
        answered_on: date,
        version: int,
    ) -> Case:
        case = await self._for_change(uow, case_id, actor, version)
        try:
            case.record_answer(letter_id, answer, answered_on, self.change(uow, actor.sub))
        except UnknownLetter:
            raise LetterNotFound(letter_id) from None
        await self._save(uow, case, version)
        await _audit(uow, actor, Action.UPDATE, MAYOR_LETTER, case, f"letter:{letter_id}")
        return case

    # ------------------------------------------------------- what events tell us

    async def open_or_join(self, uow: UnitOfWork, signal: SignalReceived) -> Case:
        """A signal opens a case for its person and programme, or joins the open one."""
        programme = self.programmes.programme_for(
            signal.category, signal.age_band, signal.suggested_programme
        )
        ref = SignalRef(
            signal_id=signal.signal_id,
            source_type=signal.source_type,
            reporting_org=signal.reporting_org,
            category=signal.category,
            received_at=signal.received_at,
        )
        cases = CaseStore(uow)
        existing = await cases.find_open(signal.person, programme)
        if existing is not None:
            if existing.add_signal(ref, earlier_signal_existed=signal.earlier_signal_existed):
                await self._save(uow, existing, None)
                await _audit(uow, _reporter(signal), Action.UPDATE, CASE_OPENING, existing)
            return existing
        if signal.district not in self.areas.district_codes:
            # The signals service knows a district this service does not (yet): its
            # area configuration lags behind. Retried; replayed from the dead-letter
            # queue once AREA_CONFIG_FILE has the district.
            raise NotHandledYet(f"district {signal.district} is not in the area configuration")
        previous = await cases.last_closed(signal.person, programme)
        known = await MatchStore(uow).of_person(signal.person)
        case = Case.open_for(
            ref,
            person=signal.person,
            programme=programme,
            team=self.areas.team_for_district(signal.district),
            district=signal.district,
            change=self.change(uow, None),
            earlier_signal_existed=signal.earlier_signal_existed,
            previous_case_id=previous.id if previous else None,
            known_match=(known.match_ids, known.involved) if known else None,
        )
        await cases.add(case)
        self._emit(uow, case)
        await _audit(uow, _reporter(signal), Action.CREATE, CASE_OPENING, case)
        return case

    async def apply_match(self, uow: UnitOfWork, match: SignalMatched) -> int:
        """Raise the priority of the person's open cases and show the other organisations."""
        involved = [
            InvolvedOrganisation(p.organisation, p.professional, p.signal_id)
            for p in match.participants
        ]
        await MatchStore(uow).remember(match.person, match.match_id, involved)
        changed = 0
        for case in await CaseStore(uow).of_person(match.person):
            if case.is_open and case.apply_match(
                [match.match_id], involved, self.change(uow, None)
            ):
                await self._save(uow, case, None)
                await _audit(uow, AuditUser.system(), Action.UPDATE, MATCH, case)
                changed += 1
        return changed

    async def letter_delivered(self, uow: UnitOfWork, sent: MayorLetterSent) -> None:
        case = await CaseStore(uow).get(sent.case_id)
        if case is None:
            raise PermanentFailure(f"mayor-letter-sent for an unknown case {sent.case_id}")
        try:
            changed = case.letter_delivered(
                sent.letter_id,
                method=sent.method,
                handed_to=sent.handed_to,
                delivered_on=sent.delivered_on,
                change=self.change(uow, sent.recorded_by),
            )
        except UnknownLetter as unknown:
            raise PermanentFailure(str(unknown)) from unknown
        if changed:
            await self._save(uow, case, None)
            by = AuditUser.system(on_behalf_of=sent.recorded_by)
            await _audit(uow, by, Action.UPDATE, MAYOR_LETTER, case, f"letter:{sent.letter_id}")

    async def signal_withdrawn(self, uow: UnitOfWork, withdrawn: SignalWithdrawn) -> None:
        if withdrawn.reason is WithdrawalReason.WRONGFUL:
            await MatchStore(uow).forget_signal(withdrawn.person, withdrawn.signal_id)
        for case in await CaseStore(uow).with_signal(withdrawn.signal_id):
            if case.signal_withdrawn(withdrawn.signal_id, withdrawn.reason, self.change(uow, None)):
                await self._save(uow, case, None)
                await _audit(uow, AuditUser.system(), Action.UPDATE, SIGNAL_LIFECYCLE, case)

    async def signal_expired(self, uow: UnitOfWork, expired: SignalExpired) -> None:
        for case in await CaseStore(uow).with_signal(expired.signal_id):
            if case.signal_expired(expired.signal_id, self.change(uow, None)):
                await self._save(uow, case, None)
                await _audit(uow, AuditUser.system(), Action.UPDATE, SIGNAL_LIFECYCLE, case)

    async def erase_person(self, uow: UnitOfWork, person: str) -> int:
        """AVG art. 17: every case, contact, screening and match of the person goes, and
        the published events and stored responses that name them."""
        case_ids = [str(case.id) for case in await CaseStore(uow).of_person(person)]
        await ContactStore(uow).delete_of_person(person)
        await ScreeningStore(uow).delete_of_person(person)
        await MatchStore(uow).forget(person)
        await forget_mentions(uow, person, *case_ids)
        return await CaseStore(uow).delete_of_person(person)

    # --------------------------------------------------------------- deadlines

    async def tell_breaches(
        self, uow: UnitOfWork, case_id: uuid.UUID, now: datetime
    ) -> list[Escalation]:
        case = await CaseStore(uow).get(case_id)
        if case is None:
            return []
        area_manager = self.areas.team(case.team).area_manager
        told = case.tell_breaches(Change(None, now, self.rules), area_manager)
        if told:
            await self._save(uow, case, None)
            await _audit(uow, AuditUser.system(), Action.UPDATE, DEADLINE_MONITORING, case)
        return told

    # ----------------------------------------------------------------- helpers

    async def _for_change(
        self, uow: UnitOfWork, case_id: uuid.UUID, actor: Actor, version: int | None
    ) -> Case:
        case = await self._visible(uow, case_id, actor)
        if case.team not in actor.changeable:
            raise NotYourTeam("you may see this case but not change it")
        if version is not None and version != case.version:
            raise VersionConflict(version, case.version)
        return case

    async def _save(self, uow: UnitOfWork, case: Case, version: int | None) -> None:
        """Save and emit. A client's decision on a stale case is a conflict; the
        system's own changes (version None) simply run again on the fresh case."""
        try:
            await CaseStore(uow).save(case)
        except StaleCase:
            if version is None:
                raise RetryTransaction from None
            raise VersionConflict(version, None) from None
        except OpenCaseExists:
            if version is None:
                raise RetryTransaction from None
            raise TransitionRefused(
                "the person has another open case in this programme; continue there"
            ) from None
        self._emit(uow, case)

    @staticmethod
    def _emit(uow: UnitOfWork, case: Case) -> None:
        for event in case.take_events():
            uow.emit(event)


async def _audit(
    uow: UnitOfWork,
    by: Actor | AuditUser,
    action: Action,
    activity: Activity,
    case: Case,
    record: str | None = None,
) -> None:
    """One audit record about the case's person (``record`` defaults to the case)."""
    user = by if isinstance(by, AuditUser) else AuditUser.of(by.principal)
    await AuditLog(uow).record(user, action, activity, case.person, record or f"case:{case.id}")


def _reporter(signal: SignalReceived) -> AuditUser:
    """A case opened or joined by a signal: the service, for the reporting organisation."""
    return AuditUser("system", signal.reporting_org)

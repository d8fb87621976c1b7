"""Test helpers for the cases service: tokens of the people who use it, and a client
that speaks its API the way a case worker's application would. Used by the
service's tests and the end-to-end tests."""

from __future__ import annotations

from typing import Any

import httpx

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import CaseStatus, Programme
from buurtsignaal_contracts.events import SignalReceived
from cases_service.domain.case import Case, Change, SignalRef
from cases_service.service import CaseService
from cases_service.store import CaseStore
from servicekit.testing import eventually, token_for
from servicekit.testing.events import a_pseudonym, publish, signal_received
from servicekit.testing.service import ServiceUnderTest

# am-02 manages wot-west and wot-zuid by the area configuration; the token names no team.
AREA_MANAGER_WEST = token_for("am-02", "area-manager")
AREA_MANAGER_NOORD = token_for("am-04", "area-manager")
WEST_WORKER = token_for("w-west", "worker", teams=["wot-west"])
WEST_COLLEAGUE = token_for("w-west-2", "worker", teams=["wot-west"])
NOORD_WORKER = token_for("w-noord", "worker", teams=["wot-noord"])
ADMIN = token_for("admin-1", "admin")


class CasesApi:
    """The cases API as a client uses it (every call as somebody, with a token)."""

    def __init__(self, service: ServiceUnderTest) -> None:
        self.service = service
        self.client = service.client

    async def case(self, case_id: str, as_: dict = WEST_WORKER) -> dict:
        response = await self.client.get(f"/api/v1/cases/{case_id}", headers=as_)
        assert response.status_code == 200, response.text
        return response.json()

    async def cases_of(self, person: str, as_: dict = WEST_WORKER) -> list[dict]:
        response = await self.client.get("/api/v1/cases", params={"person": person}, headers=as_)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def open_case(self, connection, **signal: Any) -> dict:
        """Publish a signal-received event as the signals service would; the opened case."""
        person = signal.pop("person", None) or a_pseudonym()
        await publish(connection, new_event(signal_received(person=person, **signal)))
        (case,) = await eventually(lambda: self.cases_of(person, ADMIN), what="the case opened")
        return case

    async def published(self) -> None:
        """Wait until every committed event has left the outbox (before tapping new ones)."""
        await eventually(
            lambda: self.service.db.outbox.count_documents({"published_at": None}),
            lambda pending: pending == 0,
            what="the outbox drained",
        )

    async def assign(self, case: dict, worker: str = "w-west", as_: dict = AREA_MANAGER_WEST):
        return await self.client.post(
            f"/api/v1/cases/{case['id']}/assignment",
            json={"worker": worker, "version": case["version"]},
            headers=as_,
        )

    async def move(
        self, case: dict, status: str, as_: dict = WEST_WORKER, **fields: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/cases/{case['id']}/status",
            json={"status": status, "version": case["version"], **fields},
            headers=as_,
        )

    async def seed(
        self,
        status: CaseStatus,
        programme: Programme = Programme.INTENSIVE_YOUTH_WORK,
        worker: str | None = "w-west",
    ) -> dict:
        """A case put straight into the database in ``status``, as earlier steps would leave it."""
        runtime = self.service.runtime
        service = runtime.get(CaseService)
        signal = signal_received(person=a_pseudonym())

        async def insert(uow) -> Case:
            case = Case.open_for(
                _signal_ref(signal),
                person=signal.person,
                programme=programme,
                team="wot-west",
                district="west",
                change=Change(None, uow.clock.now(), service.rules),
            )
            case.take_events()
            case.status, case.worker = status, worker
            await CaseStore(uow).add(case)
            return case

        case = await runtime.transactions.run(insert)
        return await self.case(str(case.id))


def _signal_ref(signal: SignalReceived) -> SignalRef:
    return SignalRef(
        signal_id=signal.signal_id,
        source_type=signal.source_type,
        reporting_org=signal.reporting_org,
        category=signal.category,
        received_at=signal.received_at,
    )


def problem(response: httpx.Response) -> dict:
    """The problem detail of a refused request (and proof that it is one)."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["status"] == response.status_code
    return body

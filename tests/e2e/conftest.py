"""The four services as separate processes, on their own vhost and the shared database."""

from __future__ import annotations

import asyncio
import secrets
import string
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient

from servicekit.devstack.processes import SERVICES, Stack, free_port
from servicekit.inbox import INBOX
from servicekit.outbox import OUTBOX
from servicekit.testing import eventually, token_for
from servicekit.testing.fixtures import isolated_vhost
from servicekit.testing.scan import date_notations


@pytest.fixture(scope="session")
def stack(
    amqp_base_url: str, mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with isolated_vhost(amqp_base_url) as amqp_url:
        system = Stack(
            workdir=tmp_path_factory.mktemp("stack"),
            amqp_url=amqp_url,
            mongodb_url=mongodb_url,
            ports={name: free_port() for name in SERVICES},
            extra_env={"LOG_LEVEL": "INFO"},
        )
        system.start(log=lambda _: None)
        try:
            yield system
        finally:
            system.stop()


# --- a youth's whole journey, for the erasure and leak-scan tests ------------------------

QUEUES = list(SERVICES)
WEST_MANAGER = token_for("am-02", "area-manager")  # manages wot-west by the area configuration
WEST_WORKER = token_for("w-west-1", "worker", teams=["wot-west"])
ANALYST = token_for("an-e2e", "analyst")
ADMIN = token_for("adm-e2e", "admin", org="gemeente-schiedam")
SCREENING_ANSWERS = {
    "accepts-correction": "often",
    "responds-to-praise": "often",
    "keeps-agreements": "sometimes",
    "shows-remorse": "often",
    "considers-others": "sometimes",
    "bonds-with-adult": "often",
    "copies-good-example": "often",
    "physical-aggression": "sometimes",
    "seeks-conflict": "sometimes",
    "repeats-after-sanction": "sometimes",
}


def _letters(count: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(count))


def _test_bsn() -> str:
    while True:
        number = f"9999{secrets.randbelow(10**4):04d}"
        check = sum(int(d) * w for d, w in zip(number, range(9, 1, -1), strict=True)) % 11
        if check != 10:
            return number + str(check)


@dataclass
class Youth:
    """A synthetic youth of 14 in West, with names and address unique to this run."""

    bsn: str = field(default_factory=_test_bsn)
    tag: str = field(default_factory=lambda: _letters(6))
    date_of_birth: date = field(
        default_factory=lambda: (
            date.today() - timedelta(days=14 * 365 + 17 + secrets.randbelow(300))
        )
    )
    house_number: str = field(default_factory=lambda: str(100 + secrets.randbelow(800)))
    descriptions: list[str] = field(default_factory=list)

    @property
    def given_name(self) -> str:
        return f"Jurre{self.tag}"

    @property
    def family_name(self) -> str:
        return f"Vlaskamp{self.tag}"

    @property
    def postcode(self) -> str:  # "Q" as first letter: no other test uses it
        return f"3117 Q{self.tag[0].upper()}"

    def person(self, *, with_bsn: bool = True) -> dict:
        person = {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "postcode": self.postcode,
            "house_number": self.house_number,
            "street": f"Proefweg{self.tag}",
            "city": "Schiedam",
            "guardians": [
                {"given_name": f"Ouder{self.tag}", "family_name": self.family_name},
                {"given_name": f"Voogd{self.tag}", "family_name": f"Bakkerveld{self.tag}"},
            ],
        }
        return {"bsn": self.bsn, **person} if with_bsn else person

    def description(self) -> str:
        text = f"Synthetisch signaal {_letters(10)}: gooit stenen naar ramen bij de speeltuin."
        self.descriptions.append(text)
        return text

    def needles(self) -> dict[str, str]:
        """Every identifying value this youth was reported with, as it may be written."""
        person = self.person()
        compact = self.postcode.replace(" ", "")
        values = {
            "bsn": self.bsn,
            "given name": self.given_name,
            "family name": self.family_name,
            "street": person["street"],
            "guardian 1": person["guardians"][0]["given_name"],
            "guardian 2": person["guardians"][1]["given_name"],
            "guardian 2 family": person["guardians"][1]["family_name"],
            "postcode": self.postcode,
            "postcode (compact)": compact,
            "address": f"{self.postcode} {self.house_number}",
            "address (compact)": f"{compact}{self.house_number}",
        }
        values |= {f"birth date {n}": d for n, d in enumerate(date_notations(self.date_of_birth))}
        values |= {f"description {n}": d for n, d in enumerate(self.descriptions)}
        return values


@dataclass
class Casework:
    """Drives the four service processes through their APIs, as staff would."""

    stack: Stack
    client: httpx.AsyncClient
    mongo: AsyncMongoClient
    databases: tuple[str, ...]

    @staticmethod
    def youth() -> Youth:
        return Youth()

    async def report(self, youth: Youth, reporter: dict, source_type: str, **extra) -> dict:
        body = {
            "source_type": source_type,
            "category": "behaviour-aggression",
            "person": youth.person(),
            "occurred_on": date.today().isoformat(),
            "description": youth.description(),
            **extra,
        }
        response = await self.client.post(
            f"{self.stack.url('signals')}/api/v1/signals", json=body, headers=reporter
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def case_of(self, pseudonym: str, *, signals: int = 1, matched: bool = False) -> dict:
        """The person's one case once it holds ``signals`` signals and, with ``matched``,
        the match has raised its priority: each changes the case's version, which a
        decision must send."""

        async def cases() -> list[dict]:
            response = await self.client.get(
                f"{self.stack.url('cases')}/api/v1/cases",
                params={"person": pseudonym},
                headers=WEST_MANAGER,
            )
            return response.json()["items"]

        def ready(found: list[dict]) -> bool:
            if len(found) != 1 or len(found[0]["signals"]) < signals:
                return False
            return not matched or found[0]["priority"] == "high"

        (case,) = await eventually(cases, ready, what="the case of the person")
        return case

    async def work_on(self, case: dict) -> tuple[dict, str]:
        """Assign, screen, record a contact and ask for the mayor's letter; the letter id."""
        url = f"{self.stack.url('cases')}/api/v1/cases/{case['id']}"

        async def post(path: str, body: dict, headers: dict = WEST_WORKER) -> dict:
            response = await self.client.post(f"{url}{path}", json=body, headers=headers)
            assert response.status_code in (200, 201), response.text
            return response.json()

        case = await post(
            "/assignment", {"worker": "w-west-1", "version": case["version"]}, WEST_MANAGER
        )
        case = await post("/status", {"status": "screening", "version": case["version"]})
        screening = await post(
            "/screenings",
            {
                "instrument": "social-learnability",
                "instrument_version": "1.0",
                "answers": SCREENING_ANSWERS,
                "version": case["version"],
            },
        )
        contact = await post(
            "/contacts",
            {
                "kind": "home-visit",
                "reached": True,
                "contact_date": date.today().isoformat(),
                "part_of_day": "afternoon",
                "minutes": 45,
            },
        )
        assert screening["case_status"] == "active"
        letter = await post(
            "/letters", {"addressees": ["youth", "parents"], "version": contact["case_version"]}
        )
        return case, letter["id"]

    async def letter_ready(self, letter_id: str) -> dict:
        url = f"{self.stack.url('notifications')}/api/v1/letters/{letter_id}"

        async def letter() -> dict:
            response = await self.client.get(url, headers=WEST_WORKER)
            return response.json() if response.status_code == 200 else {}

        ready = await eventually(
            letter, lambda body: body.get("status") not in (None, "requested"), what="the letter"
        )
        assert ready["status"] == "ready", ready
        pdf = await self.client.get(f"{url}/pdf", headers=WEST_WORKER)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        return ready

    async def deliver(self, letter_id: str) -> None:
        response = await self.client.post(
            f"{self.stack.url('notifications')}/api/v1/letters/{letter_id}/delivery",
            json={
                "method": "home-visit",
                "delivered_on": date.today().isoformat(),
                "handed_to": "youth",
            },
            headers=WEST_WORKER,
        )
        assert response.status_code == 201, response.text

    async def erase(self, youth: Youth) -> dict:
        response = await self.client.post(
            f"{self.stack.url('signals')}/api/v1/persons/erasures",
            json={"person": {"bsn": youth.bsn}, "ground": "objection", "reference": "E2E-1"},
            headers={**ADMIN, "Idempotency-Key": f"e2e-{youth.tag}"},
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def report_figures(self) -> dict:
        response = await self.client.get(
            f"{self.stack.url('reporting')}/api/v1/reports/internal",
            params=[
                ("period", str(date.today().year)),
                ("group_by", "district"),
                ("group_by", "source"),
            ],
            headers=ANALYST,
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def quiet(self) -> None:
        """Every service has published what it committed and handled what was queued
        (rabbitmqctl counts messages being handled too, which a passive declare does not)."""

        async def settled() -> bool:
            for database in self.databases:
                if await self.mongo[database][OUTBOX].count_documents({"published_at": None}):
                    return False
            return all(count == 0 for count in (await self._queue_depths()).values())

        await eventually(settled, what="every service quiet", timeout=60)

    async def _queue_depths(self) -> dict[str, int]:
        vhost = urllib.parse.unquote(urllib.parse.urlparse(self.stack.amqp_url).path[1:])
        listing = await asyncio.create_subprocess_exec(
            "rabbitmqctl",
            "list_queues",
            "-p",
            vhost,
            "name",
            "messages",
            "--quiet",
            "--no-table-headers",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await listing.communicate()
        rows = [line.split() for line in out.decode().splitlines() if line.strip()]
        return {row[0]: int(row[1]) for row in rows if row[0] in QUEUES}

    async def handled_everywhere(self, event_id: str) -> None:
        """Every service's inbox holds the event: each has handled it and committed."""

        async def handlers() -> list[str]:
            found = []
            for database in self.databases:
                inbox = self.mongo[database][INBOX]
                if await inbox.count_documents({"_id": {"$regex": f":{event_id}$"}}):
                    found.append(database)
            return found

        await eventually(
            handlers, lambda found: found == list(self.databases), what=f"{event_id} handled"
        )


@dataclass
class StackOfItsOwn(Stack):
    """A second stack beside the session's: its own vhost and its own databases."""

    database_prefix: str = "erasure"

    def _wiring(self, name: str) -> dict[str, str]:
        return {**super()._wiring(name), "MONGODB_DATABASE": f"{self.database_prefix}_{name}"}

    @property
    def databases(self) -> tuple[str, ...]:
        return tuple(f"{self.database_prefix}_{name}" for name in SERVICES)


@pytest.fixture(scope="session")
def erasure_stack(
    amqp_base_url: str, mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackOfItsOwn]:
    """The four services on their own vhost and databases, logging at DEBUG (what a leak scan
    must see, libraries included). Erasures happen here: an erased case is gone from cases
    and notifications but still counted by reporting, which other tests' sums on the
    session's stack would not expect."""
    with isolated_vhost(amqp_base_url) as amqp_url:
        system = StackOfItsOwn(
            workdir=tmp_path_factory.mktemp("erasure-stack"),
            amqp_url=amqp_url,
            mongodb_url=mongodb_url,
            ports={name: free_port() for name in SERVICES},
            extra_env={"LOG_LEVEL": "DEBUG"},
            database_prefix=f"erasure_{secrets.token_hex(3)}",
        )
        system.start(log=lambda _: None)
        try:
            yield system
        finally:
            system.stop()


@pytest.fixture
async def casework(erasure_stack: StackOfItsOwn) -> AsyncIterator[Casework]:
    """Staff at work on the erasure stack."""
    mongo: AsyncMongoClient = AsyncMongoClient(erasure_stack.mongodb_url, tz_aware=True)
    async with httpx.AsyncClient(timeout=15) as client:
        yield Casework(erasure_stack, client, mongo, erasure_stack.databases)
    await mongo.close()

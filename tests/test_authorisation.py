"""The authorisation matrix, tested over every route of every service (generated).

The routes come from each service's FastAPI app (``app.routes``), the rules
from its ``access_matrix.py``. For every route:

- every route of the app has a matrix entry, and every entry a route;
- no token, an expired one, a wrong signature, a wrong audience, a wrong issuer:
  401 problem details;
- every role the matrix does not grant: 403 problem details;
- every role it grants with a limited scope, from another team or
  organisation, on a record of team West / school "obs-de-singel": 404, the
  same as a record that does not exist (lists: the record is not in them),
  while somebody inside the scope passes;
- analysts reach aggregate routes only, and their answers name nobody.

The 401/403 checks need no database (the matrix refuses before a route's code
runs); the scope checks run the four services on the real broker and the
database stand-in, with records made the way production makes them.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from buurtsignaal_contracts import new_event
from servicekit.app import create_app
from servicekit.asyncapi import service_definitions
from servicekit.auth import Role
from servicekit.authz import AccessMatrix, Data, MatrixError, RouteAccess, Scope, route, route_keys
from servicekit.testing import eventually, token_for
from servicekit.testing.event_factories import mayor_letter_requested
from servicekit.testing.events import publish
from servicekit.testing.service import ServiceUnderTest, running_service
from signals_service.testing import signal_body, youth

DEFINITIONS = {d.name: d for d in service_definitions()}
APPS: dict[str, FastAPI] = {name: create_app(d) for name, d in DEFINITIONS.items()}
MATRICES: dict[str, AccessMatrix] = {
    name: d.access for name, d in DEFINITIONS.items() if d.access is not None
}
ROUTES = [(name, row) for name, matrix in MATRICES.items() for row in matrix.api_routes()]


def _id(item: tuple[str, RouteAccess]) -> str:
    return f"{item[0]}:{item[1].method}:{item[1].path}"


SAMPLE_PARAMS = {
    "pseudonym": "ps-" + "0" * 32,
    "instrument": "social-learnability",
    "version": "1.0",
}


def concrete(path: str, **values: str) -> str:
    """The path with its parameters filled: given values, else well-formed unknown ones."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return values.get(name) or SAMPLE_PARAMS.get(name) or str(uuid.uuid4())

    return re.sub(r"\{([a-z_]+)\}", fill, path)


async def call(
    app: FastAPI, row: RouteAccess, headers: dict[str, str], path: str | None = None, **kw: Any
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.request(row.method, path or concrete(row.path), headers=headers, **kw)


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


# --- the matrix and the routes ------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_route_of_the_app_has_exactly_one_matrix_entry(service):
    served = route_keys(APPS[service])
    assert len(served) == len(set(served))
    assert set(served) == set(MATRICES[service].routes), "run the matrix past the routes"
    assert len(MATRICES[service].api_routes()) >= 4


def test_an_app_with_a_route_outside_the_matrix_does_not_start():
    definition = DEFINITIONS["reporting"]
    narrowed = AccessMatrix("reporting", list(definition.access.api_routes())[1:])
    with pytest.raises(MatrixError, match="no matrix entry for GET /api/v1/reports/"):
        create_app(type(definition)(**{**definition.__dict__, "access": narrowed}))


def test_a_matrix_that_gives_analysts_personal_data_is_refused():
    with pytest.raises(MatrixError, match="analysts see aggregates only"):
        AccessMatrix(
            "cases",
            [route("GET", "/api/v1/cases", Data.PERSONAL, {Role.ANALYST: Scope.ANY})],
        )


def test_analysts_are_granted_aggregate_routes_only():
    granted = [(s, r) for s, r in ROUTES if Role.ANALYST in r.grants]
    assert granted, "analysts read reports"
    assert {r.data for _, r in granted} == {Data.AGGREGATE}


# --- 401 and 403, on every route -----------------------------------------------------------

EVERY_ROLE = [r.value for r in Role]
BAD_TOKENS = {
    "no-token": {},
    "expired": token_for("w-west-1", *EVERY_ROLE, teams=["wot-west"], ttl_seconds=-60),
    "wrong-signature": token_for("w-west-1", *EVERY_ROLE, secret="not-our-secret-" * 3),
    "wrong-audience": token_for("w-west-1", *EVERY_ROLE, audience="another-api"),
    "wrong-issuer": token_for("w-west-1", *EVERY_ROLE, issuer="urn:someone-else"),
    "not-a-jwt": {"Authorization": "Bearer not.a.jwt"},
}


@pytest.mark.parametrize("bad", sorted(BAD_TOKENS))
@pytest.mark.parametrize("item", ROUTES, ids=[_id(r) for r in ROUTES])
async def test_a_missing_or_invalid_token_is_401(item, bad):
    service, row = item
    response = await call(APPS[service], row, BAD_TOKENS[bad])
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


NOT_GRANTED = [
    (service, row, role) for service, row in ROUTES for role in Role if role not in row.grants
]


@pytest.mark.parametrize(
    "service,row,role",
    NOT_GRANTED,
    ids=[f"{s}:{r.method}:{r.path}:{role.value}" for s, r, role in NOT_GRANTED],
)
async def test_a_role_the_matrix_does_not_grant_is_403(service, row, role):
    # Teams and organisation of the records' owners: only the role is wrong.
    headers = token_for(f"u-{role.value}", role.value, teams=["wot-west"], org="obs-de-singel")
    response = await call(APPS[service], row, headers)
    assert_problem(response, 403)
    assert role.value not in response.json()["detail"].split(": ")[1].split(", ")


async def test_the_operations_routes_need_no_token():
    response = await call(APPS["cases"], MATRICES["cases"].rule("GET", "/health/live"), {})
    assert response.status_code == 200


# --- scope: another team's or organisation's record ---------------------------------------

TODAY = date.today().isoformat()

# Bodies for the routes that change a record (valid, so a refusal is about the record).
BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("POST", "/api/v1/inbox/{notification_id}/read"): None,
    ("POST", "/api/v1/signals/{signal_id}/withdrawal"): {"reason": "resolved"},
    ("POST", "/api/v1/cases/{case_id}/assignment"): {"worker": "w-west", "version": 1},
    ("POST", "/api/v1/cases/{case_id}/status"): {"status": "assigned", "version": 1},
    ("POST", "/api/v1/cases/{case_id}/screenings"): {
        "instrument": "social-learnability",
        "instrument_version": "1.0",
        "answers": {},
        "version": 1,
    },
    ("POST", "/api/v1/cases/{case_id}/contacts"): {
        "kind": "phone",
        "reached": False,
        "contact_date": TODAY,
        "part_of_day": "morning",
        "minutes": 5,
    },
    ("POST", "/api/v1/cases/{case_id}/letters"): {"addressees": ["youth"], "version": 1},
    ("POST", "/api/v1/cases/{case_id}/letters/{letter_id}/answer"): {
        "answer": "accepts-help",
        "answered_on": TODAY,
        "version": 1,
    },
    ("POST", "/api/v1/letters/{letter_id}/delivery"): {
        "method": "home-visit",
        "delivered_on": TODAY,
        "handed_to": "youth",
    },
}

# Routes with a limited scope that name no record of someone else: creating a
# record for the caller's own organisation, or acting on the caller's own inbox.
OWN_BY_CONSTRUCTION = {
    ("signals", "POST", "/api/v1/signals"): "registers for the token's organisation",
    ("signals", "POST", "/api/v1/signals/batch"): "registers for the token's organisation",
    ("notifications", "POST", "/api/v1/inbox/read"): "marks the caller's own items",
    ("notifications", "GET", "/api/v1/inbox/stream"): (
        "streams what GET /inbox lists (the same visible_to), tested in test_live.py"
    ),
}

# Callers outside the records' scope (team Noord, the police), and inside it.
OUTSIDERS = {
    Role.REPORTER: token_for("r-police", "reporter", org="politie-schiedam"),
    Role.WORKER: token_for("w-noord-1", "worker", teams=["wot-noord"], org="wijkteams-schiedam"),
    Role.AREA_MANAGER: token_for("am-04", "area-manager", teams=["wot-noord"]),
    Role.MATCH_COORDINATOR: token_for("mc-1", "match-coordinator"),
    Role.ADMIN: token_for("admin-1", "admin"),
}
INSIDERS = {
    "signals": token_for("r-school", "reporter", org="obs-de-singel"),
    "cases": token_for("am-02", "area-manager"),  # manages wot-west by the area configuration
    "notifications": token_for(
        "w-west-1", "worker", "area-manager", teams=["wot-west"], org="wijkteams-schiedam"
    ),
}


def limited(row: RouteAccess) -> list[Role]:
    """The roles this route grants with a scope short of ``any``."""
    return [role for role, scopes in row.grants.items() if Scope.ANY not in scopes]


SCOPED = [(s, r) for s, r in ROUTES if r.data is Data.PERSONAL and limited(r)]


@dataclass
class Records:
    """Records of team West and school obs-de-singel, made the production way."""

    services: dict[str, ServiceUnderTest]
    ids: dict[str, str]
    person: str


@pytest.fixture(scope="module")
async def records(amqp_url, mongodb_url) -> AsyncIterator[Records]:
    run = uuid.uuid4().hex[:8]
    async with contextlib.AsyncExitStack() as stack:
        services: dict[str, ServiceUnderTest] = {}
        for name, definition in DEFINITIONS.items():
            settings = type(definition.settings)(
                amqp_url=amqp_url,
                mongodb_url=mongodb_url,
                mongodb_database=f"authz_{name}_{run}",
                outbox_poll_interval=0.2,
            )
            own = importlib.import_module(f"{name}_service.app").definition(settings)
            services[name] = await stack.enter_async_context(running_service(own))
        yield await _make_records(services)


async def _make_records(services: dict[str, ServiceUnderTest]) -> Records:
    school = token_for("r-school", "reporter", org="obs-de-singel")
    admin = token_for("admin-1", "admin")
    west = INSIDERS["notifications"]
    created = await services["signals"].client.post(
        "/api/v1/signals", json=signal_body(youth(bsn="999990019")), headers=school
    )
    assert created.status_code == 201, created.text
    signal = created.json()

    async def cases_of_person() -> list[dict[str, Any]]:
        answer = await services["cases"].client.get(
            "/api/v1/cases", params={"person": signal["person"]}, headers=admin
        )
        return answer.json()["items"]

    (case,) = await eventually(cases_of_person, what="signals -> cases opened the case")
    assert case["team"] == "wot-west"

    async def west_inbox() -> list[dict[str, Any]]:
        answer = await services["notifications"].client.get("/api/v1/inbox", headers=west)
        return [i for i in answer.json()["items"] if i["case_id"] == case["id"]]

    (item, *_) = await eventually(west_inbox, what="cases -> notifications told team West")
    letter = mayor_letter_requested(case_id=case["id"], team="wot-west", worker="w-west-1")
    amqp = services["notifications"].runtime.amqp
    assert amqp is not None
    await publish(amqp, new_event(letter))

    async def letters() -> list[dict[str, Any]]:
        answer = await services["notifications"].client.get(
            "/api/v1/letters", params={"case_id": case["id"]}, headers=west
        )
        return answer.json()["items"]

    await eventually(letters, what="the letter recorded")
    ids = {
        "signal_id": signal["id"],
        "case_id": case["id"],
        "notification_id": item["id"],
        "letter_id": str(letter.letter_id),
    }
    return Records(services, ids, signal["person"])


def test_every_scoped_route_is_covered_by_the_scope_test():
    for service, row in SCOPED:
        if (service, row.method, row.path) in OWN_BY_CONSTRUCTION:
            continue
        names = re.findall(r"\{([a-z_]+)\}", row.path)
        assert names or row.method == "GET", f"{service} {row.method} {row.path}: add it"
        if row.method != "GET":
            assert (row.method, row.path) in BODIES, f"{row.method} {row.path}: add a body"


@pytest.mark.parametrize("item", SCOPED, ids=[_id(r) for r in SCOPED])
async def test_another_teams_record_answers_404_and_is_not_listed(records, item):
    service, row = item
    if (service, row.method, row.path) in OWN_BY_CONSTRUCTION:
        pytest.skip(OWN_BY_CONSTRUCTION[(service, row.method, row.path)])
    client = records.services[service].client
    path = concrete(row.path, **records.ids)
    body = BODIES.get((row.method, row.path))
    params = {"case_id": records.ids["case_id"]} if row.path.endswith("/letters") else None
    has_record = "{" in row.path
    for role in limited(row):
        outsider = OUTSIDERS[role]
        answer = await client.request(row.method, path, headers=outsider, json=body, params=params)
        if has_record:
            assert_problem(answer, 404)
            assert answer.json()["type"].endswith("not-found")
        else:
            assert answer.status_code == 200, answer.text
            for value in records.ids.values():
                assert value not in answer.text, f"{role.value} sees another team's record"
    inside = await client.request(
        row.method, path, headers=INSIDERS[service], json=body, params=params
    )
    assert inside.status_code not in (401, 403, 404), inside.text
    if not has_record:
        assert any(v in inside.text for v in records.ids.values()), "insiders do see it"


async def test_analysts_get_counts_and_never_a_person(records):
    analyst = token_for("an-1", "analyst")
    reports = records.services["reporting"].client
    year = str(date.today().year)
    for report, params in (
        ("internal", {"period": year, "group_by": ["district", "team"]}),
        ("public", {"period": year}),
        ("work-plan", {"period": year}),
        ("totals", {"first_day": f"{year}-01-01", "last_day": f"{year}-12-31"}),
    ):
        answer = await reports.get(f"/api/v1/reports/{report}", params=params, headers=analyst)
        assert answer.status_code == 200, answer.text
        assert records.person not in answer.text
        assert not re.search(r"ps-[0-9a-f]{32}", answer.text), f"{report} names a person"
        for value in records.ids.values():
            assert value not in answer.text

"""Who may call which route, and on which records: the authorisation matrix as data.

Each service declares one :class:`AccessMatrix` (``<service>/access_matrix.py``):
for every route (method + path template) the roles that may call it and, per
role, the *scope* of records they reach, plus what kind of data the route
handles. :func:`servicekit.app.create_app` refuses to build an app with a route
the matrix does not name (or an entry without a route), and puts
:func:`authorize` in front of every API route: no valid token answers 401, a
role the matrix does not grant answers 403. The route's code asks the
:class:`Access` it gets which scopes apply and filters its records with them.

The refusal convention, the same in every service:

- 401: no token, or one that is expired, badly signed, or for another audience
  or issuer;
- 403: the caller's roles are not granted on the route at all (an analyst on a
  case, a worker assigning) — this says nothing about any record;
- 404: the record lies outside every scope the caller has, exactly like a
  record that does not exist, so a refusal never confirms that it exists;
- 403 also when the caller may *read* the record but this route does not let
  them change it (they know it exists already).

Analysts never reach a route with personal data: a matrix that grants them one
is refused when it is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from servicekit.areas import AreaConfig
from servicekit.auth import Principal, Role
from servicekit.http.problems import forbidden
from servicekit.http.security import Credentials, authenticated


class Scope(StrEnum):
    """Which records a role reaches through a route."""

    ANY = "any"
    """every record (admins; analysts on aggregate routes; service clients)"""
    OWN_ORGANISATION = "own-organisation"
    """records reported by the organisation in the token (``org``)"""
    OWN_TEAM = "own-team"
    """records of a team in the token (``teams``)"""
    MANAGED_TEAMS = "managed-teams"
    """the token's teams plus the teams the area configuration says the caller manages"""
    OWN_USER = "own-user"
    """records addressed to or made by the caller (``sub``)"""


class Data(StrEnum):
    """What a route hands out or changes."""

    PERSONAL = "personal"
    """data about one person (a signal, a case, a letter, an inbox item)"""
    AGGREGATE = "aggregate"
    """counts only, never one person"""
    NONE = "none"
    """no personal data: configuration, reference data, operations"""


Grants = Mapping[Role, Scope | tuple[Scope, ...]]


@dataclass(frozen=True)
class RouteAccess:
    """One row of the matrix."""

    method: str
    path: str
    data: Data
    grants: Mapping[Role, tuple[Scope, ...]] = field(default_factory=dict)
    public: bool = False  # no token at all (operations, API documentation)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def scopes_of(self, principal: Principal) -> frozenset[Scope]:
        """The union of the scopes of the caller's granted roles; empty: not granted."""
        return frozenset(s for role in principal.roles for s in self.grants.get(role, ()))


def route(method: str, path: str, data: Data, grants: Grants) -> RouteAccess:
    """A matrix row; ``grants`` maps a role to one scope or a tuple of them."""
    normalised = {
        role: (scopes,) if isinstance(scopes, Scope) else tuple(scopes)
        for role, scopes in grants.items()
    }
    return RouteAccess(method.upper(), path, data, normalised)


def public(method: str, path: str) -> RouteAccess:
    return RouteAccess(method.upper(), path, Data.NONE, public=True)


# Every service has these; they carry no data and need no token.
OPERATIONS = (
    public("GET", "/health/live"),
    public("GET", "/health/ready"),
    public("GET", "/metrics"),
    public("GET", "/api/v1/openapi.json"),
    public("GET", "/api/v1/docs"),
)


class MatrixError(ValueError):
    """The matrix contradicts itself or the routes of the app."""


class AccessMatrix:
    """The routes of one service and who may call them."""

    def __init__(self, service: str, routes: Iterable[RouteAccess]) -> None:
        self.service = service
        self.routes: dict[tuple[str, str], RouteAccess] = {}
        for row in (*routes, *OPERATIONS):
            if row.key in self.routes:
                raise MatrixError(f"{service}: {row.method} {row.path} is in the matrix twice")
            _check_row(service, row)
            self.routes[row.key] = row

    def rule(self, method: str, path: str) -> RouteAccess:
        return self.routes[(method.upper(), path)]

    def api_routes(self) -> list[RouteAccess]:
        return [r for r in self.routes.values() if not r.public]

    def check_covers(self, app: FastAPI) -> None:
        """Every route of the app has exactly one row, and every row a route."""
        served = set(route_keys(app))
        missing = sorted(served - self.routes.keys())
        unused = sorted(self.routes.keys() - served)
        problems = [f"no matrix entry for {m} {p}" for m, p in missing]
        problems += [f"matrix entry without a route: {m} {p}" for m, p in unused]
        if problems:
            raise MatrixError(f"{self.service}: " + "; ".join(problems))


def _check_row(service: str, row: RouteAccess) -> None:
    if row.public and (row.grants or row.data is not Data.NONE):
        raise MatrixError(f"{service}: public route {row.path} may carry no data")
    if not row.public and not row.grants:
        raise MatrixError(f"{service}: {row.method} {row.path} grants nobody")
    if row.data is Data.PERSONAL and Role.ANALYST in row.grants:
        raise MatrixError(
            f"{service}: {row.method} {row.path} hands out personal data; analysts "
            "see aggregates only"
        )


def route_keys(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves (HEAD comes with GET).

    The path is the route's own ``path``, which is what ``scope["route"]`` holds
    at request time (FastAPI includes routers lazily: an included router shows
    in ``app.routes`` as one entry holding the routes).
    """
    keys: list[tuple[str, str]] = []
    for served in _served_routes(app.routes):
        methods = getattr(served, "methods", None) or set()
        path = getattr(served, "path", "")
        keys += [(m, path) for m in sorted(methods) if m != "HEAD"]
    return keys


def _served_routes(routes: Iterable[Any]) -> Iterator[Any]:
    for served in routes:
        contexts = getattr(served, "effective_route_contexts", None)
        if contexts is not None:
            yield from (context.original_route for context in contexts())
        else:
            yield served


@dataclass(frozen=True)
class Access:
    """The caller, the route they called and the scopes the matrix grants them on it."""

    principal: Principal
    route: RouteAccess
    scopes: frozenset[Scope]

    @property
    def sub(self) -> str:
        return self.principal.sub

    @property
    def unrestricted(self) -> bool:
        return Scope.ANY in self.scopes

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    def organisation(self) -> str | None:
        """The caller's organisation when the route grants them its records."""
        return self.principal.org if self.has(Scope.OWN_ORGANISATION) else None

    def teams(self, areas: AreaConfig | None = None) -> frozenset[str] | None:
        """The teams whose records the caller reaches here; None: every team."""
        if self.unrestricted:
            return None
        teams: frozenset[str] = frozenset()
        if self.has(Scope.OWN_TEAM) or self.has(Scope.MANAGED_TEAMS):
            teams = self.principal.teams
        if self.has(Scope.MANAGED_TEAMS) and areas is not None:
            teams = teams | areas.teams_managed_by(self.principal.sub)
        return teams


def access_for(principal: Principal, rule: RouteAccess) -> Access:
    """The caller's access on ``rule``; 403 when none of their roles is granted."""
    scopes = rule.scopes_of(principal)
    if not scopes:
        allowed = ", ".join(sorted(r.value for r in rule.grants))
        raise forbidden(f"this needs one of the roles: {allowed}")
    return Access(principal, rule, scopes)


ANONYMOUS = Principal(sub="anonymous", name="", roles=frozenset())


async def authorize(request: Request, credentials: Credentials) -> Access:
    """The dependency in front of every API route: 401 without a valid token, 403
    for a role the matrix does not grant on this route (FastAPI caches it per
    request, so a route that asks for :data:`Authorized` gets the same object)."""
    matrix: AccessMatrix = request.app.state.access
    method = "GET" if request.method == "HEAD" else request.method
    rule = matrix.rule(method, request.scope["route"].path)
    if rule.public:
        return Access(ANONYMOUS, rule, frozenset())
    return access_for(await authenticated(request, credentials), rule)


def access_elsewhere(request: Request, method: str, path: str) -> Access | None:
    """The caller's access on another route of this service (e.g. the read route
    of the record they are changing); None when they have none there."""
    matrix: AccessMatrix = request.app.state.access
    principal: Principal = request.state.principal
    scopes = matrix.rule(method, path).scopes_of(principal)
    return Access(principal, matrix.rule(method, path), scopes) if scopes else None


Authorized = Annotated[Access, Depends(authorize)]


def render_matrix(matrices: Iterable[AccessMatrix]) -> str:
    """The README table: one row per route of every service."""
    lines = [
        "| service | route | data | roles (scope) |",
        "|---|---|---|---|",
    ]
    for matrix in matrices:
        for row in sorted(matrix.api_routes(), key=lambda r: (r.path, r.method)):
            grants = "; ".join(
                f"{role.value} ({', '.join(s.value for s in scopes)})"
                for role, scopes in sorted(row.grants.items(), key=lambda g: g[0].value)
            )
            lines.append(
                f"| {matrix.service} | `{row.method} {row.path}` | {row.data.value} | {grants} |"
            )
    return "\n".join(lines)

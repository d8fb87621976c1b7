"""Who may call which route of the cases service (the README's matrix is made from it).

A case belongs to one team. Workers reach the cases of the teams in their
token; area managers also those of the teams the area configuration says they
manage. Admins read every case and change none.
"""

from servicekit.auth import Role
from servicekit.authz import AccessMatrix, Data, Grants, RouteAccess, Scope, route

READ_CASE = ("GET", "/api/v1/cases/{case_id}")
"""The route whose scope says which cases a caller may *see* (else 404)."""

READERS = {
    Role.WORKER: Scope.OWN_TEAM,
    Role.AREA_MANAGER: Scope.MANAGED_TEAMS,
    Role.ADMIN: Scope.ANY,
}
CASE_WORKERS = {Role.WORKER: Scope.OWN_TEAM, Role.AREA_MANAGER: Scope.MANAGED_TEAMS}
REFERENCE = {Role.WORKER: Scope.ANY, Role.AREA_MANAGER: Scope.ANY, Role.ADMIN: Scope.ANY}


def _case(method: str, suffix: str, grants: Grants) -> RouteAccess:
    return route(method, f"/api/v1/cases/{{case_id}}{suffix}", Data.PERSONAL, grants)


MATRIX = AccessMatrix(
    "cases",
    [
        route("GET", "/api/v1/cases", Data.PERSONAL, READERS),
        route(*READ_CASE, Data.PERSONAL, READERS),
        _case("GET", "/timeline", READERS),
        _case("GET", "/screenings", READERS),
        _case("GET", "/contacts", READERS),
        _case("POST", "/assignment", {Role.AREA_MANAGER: Scope.MANAGED_TEAMS}),
        _case("POST", "/status", CASE_WORKERS),
        _case("POST", "/screenings", CASE_WORKERS),
        _case("POST", "/contacts", CASE_WORKERS),
        _case("POST", "/letters", CASE_WORKERS),
        _case("POST", "/letters/{letter_id}/answer", CASE_WORKERS),
        route("GET", "/api/v1/screening-instruments", Data.NONE, REFERENCE),
        route("GET", "/api/v1/screening-instruments/{instrument}/{version}", Data.NONE, REFERENCE),
    ],
)

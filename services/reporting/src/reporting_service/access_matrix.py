"""Who may call which route of the reporting service (the README's matrix is made from it).

Every route hands out counts only. Exact figures: analysts and admins for the
whole municipality, area managers for the teams in their token; the public
(suppressed) report: all three for the whole municipality.
"""

from servicekit.auth import Role
from servicekit.authz import AccessMatrix, Data, Scope, route

EXACT = {Role.ANALYST: Scope.ANY, Role.ADMIN: Scope.ANY, Role.AREA_MANAGER: Scope.OWN_TEAM}
PUBLISHED = {Role.ANALYST: Scope.ANY, Role.ADMIN: Scope.ANY, Role.AREA_MANAGER: Scope.ANY}

MATRIX = AccessMatrix(
    "reporting",
    [
        route("GET", "/api/v1/reports/internal", Data.AGGREGATE, EXACT),
        route("GET", "/api/v1/reports/work-plan", Data.AGGREGATE, EXACT),
        route("GET", "/api/v1/reports/totals", Data.AGGREGATE, EXACT),
        route("GET", "/api/v1/reports/public", Data.AGGREGATE, PUBLISHED),
    ],
)

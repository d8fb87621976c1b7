"""Who may call which route of the signals service (the README's matrix is made from it).

Scopes here: ``own-organisation`` = signals the token's organisation reported;
``own-team`` = signals about a person for whom a team in the token holds an
open case (``access.py`` applies both).
"""

from servicekit.auth import Role
from servicekit.authz import AccessMatrix, Data, Scope, route

ORG, TEAM, ANY = Scope.OWN_ORGANISATION, Scope.OWN_TEAM, Scope.ANY
REPORTERS = {Role.REPORTER: ORG, Role.WORKER: ORG}
READERS = {
    Role.REPORTER: ORG,
    Role.WORKER: (ORG, TEAM),
    Role.AREA_MANAGER: TEAM,
    Role.ADMIN: ANY,
}
PRIVACY = {Role.PRIVACY_OFFICER: ANY, Role.ADMIN: ANY}

MATRIX = AccessMatrix(
    "signals",
    [
        route("POST", "/api/v1/signals", Data.PERSONAL, REPORTERS),
        route("POST", "/api/v1/signals/batch", Data.PERSONAL, REPORTERS),
        route("GET", "/api/v1/signals", Data.PERSONAL, READERS),
        route("GET", "/api/v1/signals/{signal_id}", Data.PERSONAL, READERS),
        route("POST", "/api/v1/signals/{signal_id}/withdrawal", Data.PERSONAL, REPORTERS),
        route("POST", "/api/v1/persons/{pseudonym}/deceased", Data.PERSONAL, {Role.ADMIN: ANY}),
        route("POST", "/api/v1/persons/erasures", Data.PERSONAL, {Role.ADMIN: ANY}),
        # A person's right of access (AVG art. 15): who processed their data.
        route("POST", "/api/v1/persons/access-log", Data.PERSONAL, PRIVACY),
        route("GET", "/api/v1/persons/{pseudonym}/access-log", Data.PERSONAL, PRIVACY),
        # Another buurtsignaal service, for the user in X-On-Behalf-Of (audit-logged).
        route(
            "GET",
            "/api/v1/persons/{pseudonym}/letter-details",
            Data.PERSONAL,
            {Role.SERVICE: ANY},
        ),
    ],
)

"""Who may call which route of the notifications service (the README's matrix is made from it).

Inbox: ``own-user`` = items addressed to the caller or to a team in their token
(whoever is told something has an inbox; analysts and service clients are
never told anything). Letters: the case's team (``own-team``) and the worker
who asked for the letter (``own-user``). Partner webhooks are an admin's
configuration and hold no personal data.
"""

from servicekit.auth import Role
from servicekit.authz import AccessMatrix, Data, Scope, route

INBOX_OWNERS = {
    role: Scope.OWN_USER
    for role in (
        Role.REPORTER,
        Role.WORKER,
        Role.AREA_MANAGER,
        Role.MATCH_COORDINATOR,
        Role.ADMIN,
    )
}
LETTER_STAFF = {
    Role.WORKER: (Scope.OWN_TEAM, Scope.OWN_USER),
    Role.AREA_MANAGER: (Scope.OWN_TEAM, Scope.OWN_USER),
}
ADMIN = {Role.ADMIN: Scope.ANY}
SUBSCRIPTION = "/api/v1/webhook-subscriptions/{subscription_id}"

MATRIX = AccessMatrix(
    "notifications",
    [
        route("GET", "/api/v1/inbox", Data.PERSONAL, INBOX_OWNERS),
        route("GET", "/api/v1/inbox/stream", Data.PERSONAL, INBOX_OWNERS),
        route("POST", "/api/v1/inbox/read", Data.PERSONAL, INBOX_OWNERS),
        route("POST", "/api/v1/inbox/{notification_id}/read", Data.PERSONAL, INBOX_OWNERS),
        route("GET", "/api/v1/letters", Data.PERSONAL, LETTER_STAFF),
        route("GET", "/api/v1/letters/{letter_id}", Data.PERSONAL, LETTER_STAFF),
        route("GET", "/api/v1/letters/{letter_id}/pdf", Data.PERSONAL, LETTER_STAFF),
        route("POST", "/api/v1/letters/{letter_id}/delivery", Data.PERSONAL, LETTER_STAFF),
        route("POST", "/api/v1/webhook-subscriptions", Data.NONE, ADMIN),
        route("GET", "/api/v1/webhook-subscriptions", Data.NONE, ADMIN),
        route("GET", SUBSCRIPTION, Data.NONE, ADMIN),
        route("PATCH", SUBSCRIPTION, Data.NONE, ADMIN),
        route("DELETE", SUBSCRIPTION, Data.NONE, ADMIN),
        route("POST", f"{SUBSCRIPTION}/secret", Data.NONE, ADMIN),
        route("GET", "/api/v1/deliveries", Data.NONE, ADMIN),
        route("GET", "/api/v1/deliveries/{delivery_id}", Data.NONE, ADMIN),
        route("POST", "/api/v1/deliveries/{delivery_id}/retry", Data.NONE, ADMIN),
    ],
)

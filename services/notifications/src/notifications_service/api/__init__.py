"""HTTP API of the notifications service, one router per area."""

from notifications_service.api import inbox, letters, subscriptions

ROUTERS = [inbox.router, letters.router, subscriptions.router]

__all__ = ["ROUTERS"]

"""Wiring of the notifications service."""

from __future__ import annotations

from notifications_service import api, handlers, store
from notifications_service.settings import NotificationsSettings
from servicekit.app import ServiceDefinition


def definition(settings: NotificationsSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="notifications",
        title="buurtsignaal notifications",
        description="In-app inbox, e-mail, partner webhooks and the mayor's letter.",
        settings=settings or NotificationsSettings(),
        api_routers=[api.router],
        event_routers=[handlers.cases],
        indexes=store.INDEXES,
    )

"""Wiring of the reporting service."""

from __future__ import annotations

from reporting_service import api, handlers, store
from reporting_service.settings import ReportingSettings
from servicekit.app import ServiceDefinition


def definition(settings: ReportingSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="reporting",
        title="buurtsignaal reporting",
        description="Projections of all events, reports with small-number suppression.",
        settings=settings or ReportingSettings(),
        api_routers=[api.router],
        event_routers=[handlers.projections],
        indexes=store.INDEXES,
    )

"""Wiring of the reporting service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from zoneinfo import ZoneInfo

from reporting_service import access_matrix, api, store
from reporting_service.handlers import ROUTERS
from reporting_service.handlers.placing import Placing
from reporting_service.metrics import BusinessMetrics, refresh_business_metrics
from reporting_service.settings import ReportingSettings
from servicekit.app import ServiceDefinition, ServiceRuntime
from servicekit.areas import load_area_config
from servicekit.scheduling import every


def placing(settings: ReportingSettings) -> Placing:
    return Placing(ZoneInfo(settings.report_timezone), load_area_config(settings.area_config_file))


def dependencies(runtime: ServiceRuntime) -> Iterable[object]:
    settings = runtime.settings
    assert isinstance(settings, ReportingSettings)
    where = placing(settings)
    return [where, where.areas, BusinessMetrics(runtime.metrics.registry)]


def definition(settings: ReportingSettings | None = None) -> ServiceDefinition:
    settings = settings or ReportingSettings()
    return ServiceDefinition(
        name="reporting",
        title="buurtsignaal reporting",
        description="Projections of all events, reports with small-number suppression, "
        "work-plan hours and business metrics.",
        settings=settings,
        api_routers=[api.router],
        access=access_matrix.MATRIX,
        event_routers=ROUTERS,
        indexes=store.INDEXES,
        dependencies=dependencies,
        background_tasks=[
            every(timedelta(seconds=settings.metrics_refresh_interval), refresh_business_metrics)
        ],
    )

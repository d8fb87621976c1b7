"""Wiring of the cases service."""

from __future__ import annotations

from collections.abc import Iterable

from cases_service import api, handlers, store
from cases_service.domain.programme import load_programme_rules
from cases_service.settings import CasesSettings
from servicekit.app import ServiceDefinition, ServiceRuntime
from servicekit.areas import load_area_config


def dependencies(runtime: ServiceRuntime) -> Iterable[object]:
    settings = runtime.settings
    assert isinstance(settings, CasesSettings)
    return [
        load_area_config(settings.area_config_file),
        load_programme_rules(settings.programme_rules_file),
    ]


def definition(settings: CasesSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="cases",
        title="buurtsignaal cases",
        description="Case lifecycle, programmes and teams, deadlines, screening, contacts.",
        settings=settings or CasesSettings(),
        api_routers=[api.router],
        event_routers=[handlers.intake],
        indexes=store.INDEXES,
        dependencies=dependencies,
    )

"""Wiring of the cases service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from cases_service import access_matrix, api, handlers, store
from cases_service.deadline_watch import DeadlineMetrics, tell_deadline_breaches
from cases_service.domain.deadlines import DeadlineRules, load_deadline_policy
from cases_service.domain.programme import load_programme_rules
from cases_service.domain.screening import load_instruments
from cases_service.service import CaseService
from cases_service.settings import CasesSettings
from servicekit.app import ServiceDefinition, ServiceRuntime
from servicekit.areas import load_area_config
from servicekit.scheduling import every


def dependencies(runtime: ServiceRuntime) -> Iterable[object]:
    settings = runtime.settings
    assert isinstance(settings, CasesSettings)
    areas = load_area_config(settings.area_config_file)
    return [
        areas,
        CaseService(
            rules=DeadlineRules(load_deadline_policy(settings.deadlines_file)),
            areas=areas,
            programmes=load_programme_rules(settings.programme_rules_file),
            instruments=load_instruments(settings.screening_instruments_dir),
        ),
        DeadlineMetrics.on(runtime.metrics.registry),
    ]


def definition(settings: CasesSettings | None = None) -> ServiceDefinition:
    settings = settings or CasesSettings()
    return ServiceDefinition(
        name="cases",
        title="buurtsignaal cases",
        description=(
            "Case lifecycle, programmes and teams, deadlines in working days, screening, "
            "contacts and the mayor's letter."
        ),
        settings=settings,
        api_routers=[api.router],
        access=access_matrix.MATRIX,
        event_routers=[handlers.signals, handlers.letters],
        indexes=store.INDEXES,
        dependencies=dependencies,
        background_tasks=[
            every(timedelta(seconds=settings.deadline_check_interval), tell_deadline_breaches)
        ],
    )

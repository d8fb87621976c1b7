"""Wiring of the signals service."""

from __future__ import annotations

from collections.abc import Iterable

from servicekit.app import ServiceDefinition, ServiceRuntime
from servicekit.areas import load_area_config
from signals_service import access_matrix, api, erasure, handlers, store
from signals_service.domain.lifecycle import RetentionRules
from signals_service.intake import SignalIntake
from signals_service.keyring import Keyring
from signals_service.lifecycle import SignalLifecycle, retention_task
from signals_service.matcher import Matcher
from signals_service.metrics import SignalsMetrics
from signals_service.persons import PersonRegistry
from signals_service.settings import SignalsSettings


def retention_rules(settings: SignalsSettings) -> RetentionRules:
    return RetentionRules(
        retention_years=settings.retention_years,
        age_limit=settings.age_limit,
        archive_years=settings.archive_years,
    )


def dependencies(runtime: ServiceRuntime) -> Iterable[object]:
    settings = runtime.settings
    assert isinstance(settings, SignalsSettings)
    keyring = Keyring.from_settings(settings)
    areas = load_area_config(settings.area_config_file)
    rules = retention_rules(settings)
    persons = PersonRegistry(keyring)
    matcher = Matcher(settings.household_matching)
    return [
        keyring,
        areas,
        rules,
        persons,
        matcher,
        SignalsMetrics(runtime.metrics.registry),
        SignalIntake(areas, keyring, persons, matcher, rules, runtime.clock),
        SignalLifecycle(persons, matcher, rules),
        erasure.PersonErasure(persons, matcher),
    ]


def definition(settings: SignalsSettings | None = None) -> ServiceDefinition:
    settings = settings or SignalsSettings()
    return ServiceDefinition(
        name="signals",
        title="buurtsignaal signals",
        description="Intake of signals, identity and pseudonyms, matching, retention.",
        settings=settings,
        api_routers=[api.router],
        access=access_matrix.MATRIX,
        event_routers=[handlers.cases, handlers.access_trail, handlers.erasures],
        indexes=[*store.INDEXES, *erasure.INDEXES],
        dependencies=dependencies,
        background_tasks=[retention_task(settings.retention_interval_seconds)],
    )

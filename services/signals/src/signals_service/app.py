"""Wiring of the signals service."""

from __future__ import annotations

from collections.abc import Iterable

from servicekit.app import ServiceDefinition, ServiceRuntime
from servicekit.areas import load_area_config
from signals_service import api, store
from signals_service.keyring import Keyring
from signals_service.service import SignalIntake
from signals_service.settings import SignalsSettings


def dependencies(runtime: ServiceRuntime) -> Iterable[object]:
    settings = runtime.settings
    assert isinstance(settings, SignalsSettings)
    assert settings.pseudonym_key and settings.encryption_key
    keyring = Keyring(
        settings.pseudonym_key.get_secret_value(), settings.encryption_key.get_secret_value()
    )
    areas = load_area_config(settings.area_config_file)
    return [keyring, areas, SignalIntake(areas, keyring, settings, runtime.clock)]


def definition(settings: SignalsSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="signals",
        title="buurtsignaal signals",
        description="Intake of signals, identity and pseudonyms, matching, retention.",
        settings=settings or SignalsSettings(),
        api_routers=[api.router],
        indexes=store.INDEXES,
        dependencies=dependencies,
    )

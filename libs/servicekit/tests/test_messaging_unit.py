import pytest

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import SignalReceived
from servicekit.areas import AreaConfig, load_area_config
from servicekit.messaging import Dependencies, EventRouter, retry_delay
from servicekit.mongo import UnitOfWork


def test_retry_delay_backs_off_exponentially_up_to_a_maximum():
    assert [retry_delay(n, 0.2, 5.0) for n in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_handlers_declare_injected_dependencies_by_type():
    router = EventRouter()

    @router.handles(SignalReceived)
    async def handler(
        event: CloudEvent[SignalReceived], uow: UnitOfWork, areas: AreaConfig
    ) -> None: ...

    (registration,) = router.registrations
    assert registration.model is SignalReceived
    assert registration.injected == {"areas": AreaConfig}


def test_dependencies_are_found_by_their_type_and_a_missing_one_is_named():
    areas = load_area_config()
    dependencies = Dependencies(areas)
    assert dependencies.get(AreaConfig) is areas
    with pytest.raises(LookupError, match="UnitOfWork"):
        dependencies.get(UnitOfWork)


def test_a_handler_must_take_event_and_unit_of_work():
    router = EventRouter()
    with pytest.raises(TypeError):

        @router.handles(SignalReceived)
        async def handler(event: CloudEvent[SignalReceived]) -> None: ...

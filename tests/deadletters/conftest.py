"""The four services as separate processes on a vhost of their own, with a short delivery
limit, and the cases service on an area configuration that lacks a district."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from servicekit.devstack.processes import SERVICES, Stack, free_port
from servicekit.testing.fixtures import isolated_vhost

DELIVERY_LIMIT = 3
BACKOFF_INITIAL = 0.2
BACKOFF_MAX = 2.0
MISSING_DISTRICT = "woudhoek"


def packaged_areas() -> dict:
    text = resources.files("servicekit").joinpath("config/schiedam.yaml").read_text()
    return yaml.safe_load(text)


def write_areas(path: Path, *, without: str | None = None) -> None:
    areas = packaged_areas()
    areas["districts"] = [d for d in areas["districts"] if d["code"] != without]
    path.write_text(yaml.safe_dump(areas, sort_keys=False))


@pytest.fixture(scope="module")
def cases_areas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cases service's AREA_CONFIG_FILE: Schiedam without Woudhoek (not deployed yet)."""
    path = tmp_path_factory.mktemp("areas") / "areas.yaml"
    write_areas(path, without=MISSING_DISTRICT)
    return path


@pytest.fixture(scope="module")
def stack(
    amqp_base_url: str,
    mongodb_url: str,
    cases_areas: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    with isolated_vhost(amqp_base_url) as amqp_url:
        run = f"dlq_{uuid.uuid4().hex[:8]}"  # databases of their own on the shared stand-in
        system = Stack(
            workdir=tmp_path_factory.mktemp("dlq-stack"),
            amqp_url=amqp_url,
            mongodb_url=mongodb_url,
            ports={name: free_port() for name in SERVICES},
            extra_env={
                "LOG_LEVEL": "INFO",
                "DELIVERY_LIMIT": str(DELIVERY_LIMIT),
                "RETRY_BACKOFF_INITIAL": str(BACKOFF_INITIAL),
                "RETRY_BACKOFF_MAX": str(BACKOFF_MAX),
                "DEAD_LETTER_PROBE_INTERVAL": "0.3",
                "OUTBOX_POLL_INTERVAL": "0.2",
            },
            service_env={name: {"MONGODB_DATABASE": f"{run}_{name}"} for name in SERVICES},
        )
        system.service_env["cases"]["AREA_CONFIG_FILE"] = str(cases_areas)
        system.start(log=lambda _: None)
        try:
            yield system
        finally:
            system.stop()

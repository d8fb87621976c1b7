"""HTTP conventions of every service: problems, auth, idempotency, health, metrics."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI
from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

from servicekit.devstack.processes import DatabaseProcess
from servicekit.http.problems import install_problem_handlers
from servicekit.testing import token_for
from servicekit.testing.sample import Probe, kit_definition
from servicekit.testing.service import running_service

pytestmark = pytest.mark.integration

WORKER = token_for("w-1", "worker", teams=["wot-west"])


@pytest.fixture
def definition(amqp_url, mongodb_url, database_name):
    return kit_definition(amqp_url, mongodb_url, database_name, Probe())


async def test_validation_errors_are_problem_details_naming_each_field(definition):
    async with running_service(definition) as service:
        response = await service.client.post("/things", json={"kind": "Bad Kind"}, headers=WORKER)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:buurtsignaal:problem:validation"
    assert {e["field"] for e in problem["errors"]} == {"kind", "size"}
    assert "Bad Kind" not in response.text, "submitted values are not echoed"


async def test_no_token_is_401_with_a_bearer_challenge(definition):
    async with running_service(definition) as service:
        response = await service.client.post("/things", json={"kind": "a", "size": 1})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


async def test_the_same_idempotency_key_creates_once_and_a_different_body_is_refused(definition):
    async with running_service(definition) as service:
        headers = {**WORKER, "Idempotency-Key": "order-77"}
        first = await service.client.post("/things", json={"kind": "a", "size": 1}, headers=headers)
        again = await service.client.post("/things", json={"kind": "a", "size": 1}, headers=headers)
        other = await service.client.post("/things", json={"kind": "b", "size": 1}, headers=headers)
        count = await service.db.things.count_documents({})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert count == 1


async def test_health_and_metrics(definition):
    async with running_service(definition) as service:
        assert (await service.client.get("/health/live")).status_code == 200
        assert (await service.client.get("/health/ready")).json() == {"status": "ok"}
        await service.client.post("/emit")
        metrics = (await service.client.get("/metrics")).text
    assert "buurtsignaal_outbox_backlog" in metrics
    assert 'buurtsignaal_dead_letter_messages{queue="kittest.dlq"}' in metrics
    assert (
        'buurtsignaal_http_requests_total{method="POST",route="/emit",status="200"} 1.0' in metrics
    )
    assert "faststream_received_messages_total" in metrics or "faststream" in metrics


async def test_a_database_outage_answers_503_quickly_and_the_service_recovers(amqp_url, tmp_path):
    database = DatabaseProcess(tmp_path / "db", tmp_path / "db.log")
    url = database.start()
    definition = kit_definition(amqp_url, url, "outage", Probe(), mongodb_timeout_ms=1000)
    try:
        async with running_service(definition) as service:
            ok = await service.client.post("/things", json={"kind": "a", "size": 1}, headers=WORKER)
            assert ok.status_code == 201
            database.stop()
            started = time.monotonic()
            down = await service.client.post(
                "/things", json={"kind": "a", "size": 2}, headers=WORKER
            )
            elapsed = time.monotonic() - started
            assert down.status_code == 503
            assert down.headers["retry-after"] == "5"
            assert elapsed < 5, f"answered after {elapsed:.1f}s"
            ready = await service.client.get("/health/ready")
            assert ready.status_code == 503 and "database" in ready.json()["detail"]

            database.start()
            recovered = await service.client.post(
                "/things", json={"kind": "a", "size": 3}, headers=WORKER
            )
            assert recovered.status_code == 201
            assert await service.db.things.count_documents({}) == 2, (
                "the refused request stored nothing"
            )
    finally:
        database.stop()


@pytest.mark.parametrize(
    "error",
    [
        ServerSelectionTimeoutError("no server within 1000 ms"),
        AutoReconnect("connection reset"),
        NetworkTimeout("timed out"),
    ],
)
async def test_a_pymongo_connection_error_outside_a_unit_of_work_is_503_not_500(error):
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/read")
    async def read() -> None:
        raise error  # a raw find() while the database is away

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/read")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "urn:buurtsignaal:problem:unavailable"

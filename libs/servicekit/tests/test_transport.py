"""TLS to MongoDB and RabbitMQ, for real.

MongoDB: the SecantusDB stand-in started with a throwaway CA's server
certificate and required client certificates. RabbitMQ: the machine's broker
listens in plaintext, so the test puts a TLS-terminating proxy (asyncio, the
same throwaway CA, client certificates required) in front of it; the service
then speaks amqps:// to the proxy, and the proxy plain AMQP to the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest

from servicekit.app import create_app, start, stop
from servicekit.devstack.processes import DatabaseProcess, free_port
from servicekit.mongo import Mongo
from servicekit.settings import ServiceSettings
from servicekit.testing import eventually
from servicekit.testing.sample import Probe, kit_definition
from servicekit.testing.tls import Pki, make_pki
from servicekit.transport import amqp_ssl_context, mongo_tls_options, mongo_uses_tls


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: its retention removes old base directories when other
    # pytest runs of the same user start, and the clients read these files late.
    with tempfile.TemporaryDirectory(prefix="buurtsignaal-tls-") as directory:
        yield Path(directory)


@pytest.fixture(scope="module")
def pki(workdir: Path) -> Pki:
    return make_pki(workdir / "pki")


def _tls_stand_in(pki: Pki, workdir: Path) -> DatabaseProcess:
    """The stand-in, TLS only, client certificates required."""
    return DatabaseProcess(
        workdir / "data",
        workdir / "secantusdb.log",
        arguments=(
            "--tls-cert-file",
            str(pki.server_cert),
            "--tls-key-file",
            str(pki.server_key),
            "--tls-ca-file",
            str(pki.ca_file),
            "--tls-require-client-cert",
        ),
        client_options={
            "tls": True,
            "tlsCAFile": str(pki.ca_file),
            "tlsCertificateKeyFile": str(pki.client_pem),
        },
    )


@contextlib.contextmanager
def _started(database: DatabaseProcess) -> Iterator[str]:
    database.start()
    try:
        yield database.url
    finally:
        database.stop()


@pytest.fixture(scope="module")
def tls_mongodb(pki: Pki, workdir: Path) -> Iterator[str]:
    with _started(_tls_stand_in(pki, workdir / "secantus")) as url:
        yield url


@pytest.fixture(scope="module")
def tls_mongodb_for_refusals(pki: Pki, workdir: Path) -> Iterator[str]:
    # Its own process: the stand-in does TLS handshakes on its accept thread without
    # a timeout, so a refused client that leaves a half-open socket behind can stall
    # it for everyone after (MongoDB itself does not have this problem).
    with _started(_tls_stand_in(pki, workdir / "secantus-refusals")) as url:
        yield url


def settings(**values: object) -> ServiceSettings:
    return ServiceSettings(service_name="kittest", **values)  # type: ignore[arg-type]


async def pings(settings: ServiceSettings) -> bool:
    mongo = Mongo.from_settings(settings, app_name="tls-test")
    try:
        return await mongo.ping()
    finally:
        await mongo.close()


async def test_mongodb_over_tls_with_a_client_certificate(tls_mongodb, pki):
    good = settings(
        mongodb_url=tls_mongodb,
        mongodb_tls=True,
        mongodb_tls_ca_file=pki.ca_file,
        mongodb_tls_cert_key_file=pki.client_pem,
        mongodb_timeout_ms=3000,
    )
    mongo = Mongo.from_settings(good, app_name="tls-test", database=f"tls_{uuid.uuid4().hex}")
    try:
        await mongo.db.things.insert_one({"_id": "a", "kind": "over-tls"})
        assert await mongo.db.things.find_one({"_id": "a"}) == {"_id": "a", "kind": "over-tls"}
    finally:
        await mongo.close()


def test_mongodb_tls_options_and_detection(pki):
    assert mongo_tls_options(settings()) == {}
    chosen = settings(mongodb_tls_ca_file=pki.ca_file, mongodb_tls_cert_key_file=pki.client_pem)
    assert mongo_tls_options(chosen) == {
        "tls": True,
        "tlsCAFile": str(pki.ca_file),
        "tlsCertificateKeyFile": str(pki.client_pem),
    }
    assert mongo_uses_tls("mongodb://db.example/?replicaSet=rs0&tls=true")
    assert mongo_uses_tls("mongodb://db.example/?ssl=true")
    assert mongo_uses_tls("mongodb+srv://cluster.example/")
    assert mongo_uses_tls("mongodb://db.example/", tls_setting=True)
    assert not mongo_uses_tls("mongodb://db.example/?tls=false")


# --- RabbitMQ ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def tls_proxy(pki: Pki, upstream: str) -> AsyncIterator[int]:
    """A TLS endpoint (client certificates required) that forwards to the broker."""
    target = urlsplit(upstream)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_file))
    server_context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    server_context.verify_mode = ssl.CERT_REQUIRED

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        broker_r, broker_w = await asyncio.open_connection(target.hostname, target.port or 5672)
        await asyncio.gather(pipe(client_r, broker_w), pipe(broker_r, client_w))

    port = free_port()
    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=server_context)
    try:
        yield port
    finally:
        server.close()


def amqps_url(amqp_url: str, port: int) -> str:
    parts = urlsplit(amqp_url)
    return parts._replace(scheme="amqps", netloc=f"guest:guest@localhost:{port}").geturl()


def test_the_amqp_ssl_context_verifies_the_broker_and_carries_the_client_certificate(pki):
    assert amqp_ssl_context(settings(amqp_url="amqp://u:p@broker:5672/")) is None
    context = amqp_ssl_context(
        settings(
            amqp_url="amqps://u:p@localhost:5671/",
            amqp_tls_ca_file=pki.ca_file,
            amqp_tls_cert_file=pki.client_cert,
            amqp_tls_key_file=pki.client_key,
        )
    )
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    subjects = [dict(x[0] for x in ca["subject"]) for ca in context.get_ca_certs()]
    assert {"commonName": "buurtsignaal-test CA"} in subjects
    with pytest.raises(ValueError, match="amqps://"):
        settings(amqp_url="amqp://u:p@broker:5672/", amqp_tls_ca_file=pki.ca_file)
    with pytest.raises(ValueError, match="go together"):
        settings(amqp_url="amqps://u:p@broker/", amqp_tls_cert_file=pki.client_cert)
    with pytest.raises(ValueError, match="amqp_tls_ca_file"):
        settings(amqp_url="amqps://u:p@broker/", amqp_tls_ca_file=Path("/nonexistent/ca.pem"))


async def test_amqps_through_tls_with_a_client_certificate(pki, amqp_url):
    async with tls_proxy(pki, amqp_url) as port:
        url = amqps_url(amqp_url, port)
        good = settings(
            amqp_url=url,
            amqp_tls_ca_file=pki.ca_file,
            amqp_tls_cert_file=pki.client_cert,
            amqp_tls_key_file=pki.client_key,
        )
        connection = await aio_pika.connect(url, ssl_context=amqp_ssl_context(good))
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(exclusive=True)
            await channel.default_exchange.publish(aio_pika.Message(b"over tls"), queue.name)
            message = await queue.get(timeout=5)
            assert message.body == b"over tls"
        untrusted = settings(amqp_url=url)  # system CAs only: ours is unknown
        with pytest.raises((ssl.SSLError, ConnectionError, aio_pika.exceptions.AMQPError)):
            await aio_pika.connect(url, ssl_context=amqp_ssl_context(untrusted), timeout=5)


async def test_a_service_runs_with_tls_to_both_the_broker_and_the_database(
    pki, amqp_url, tls_mongodb
):
    async with tls_proxy(pki, amqp_url) as port:
        probe = Probe()
        definition = kit_definition(
            amqps_url(amqp_url, port),
            tls_mongodb,
            f"tls_{uuid.uuid4().hex}",
            probe,
            amqp_tls_ca_file=pki.ca_file,
            amqp_tls_cert_file=pki.client_cert,
            amqp_tls_key_file=pki.client_key,
            mongodb_tls_ca_file=pki.ca_file,
            mongodb_tls_cert_key_file=pki.client_pem,
            # The stand-in is Python: a TLS handshake with a client certificate
            # takes long on a machine busy with other test runs.
            mongodb_timeout_ms=10000,
        )
        probe_db = Mongo.from_settings(definition.settings, app_name="tls-probe")
        try:  # fails with the driver's own reason, if it fails
            await probe_db.client.admin.command("ping")
        finally:
            await probe_db.close()
        app = create_app(definition)
        runtime = app.state.runtime
        await start(runtime)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
                emitted = await client.post("/emit")
                assert emitted.status_code == 200
            # The event went out through the relay (amqps) and came back to the consumer.
            await eventually(lambda: _calls(probe), what="the event consumed over TLS")
        finally:
            await stop(runtime)


async def _calls(probe: Probe) -> int:
    return probe.calls


# Last, and on a stand-in of their own (see tls_mongodb_for_refusals).
@pytest.mark.parametrize(
    "missing",
    ["tls", "ca", "client-certificate"],
)
async def test_mongodb_refuses_a_client_without_tls_trust_or_certificate(
    tls_mongodb_for_refusals, pki, missing
):
    tls_mongodb = tls_mongodb_for_refusals
    values: dict[str, object] = {
        "mongodb_url": tls_mongodb,
        "mongodb_tls_ca_file": pki.ca_file,
        "mongodb_tls_cert_key_file": pki.client_pem,
        "mongodb_timeout_ms": 1000,
    }
    if missing == "tls":
        values = {"mongodb_url": tls_mongodb, "mongodb_timeout_ms": 1000}
    elif missing == "ca":
        del values["mongodb_tls_ca_file"]  # the system's CAs do not know ours
    else:
        del values["mongodb_tls_cert_key_file"]
    assert not await pings(settings(**values))

"""Processes of a local stack: the database stand-in, RabbitMQ, the services."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from pymongo import MongoClient
from pymongo.errors import PyMongoError

SERVICES: dict[str, tuple[str, int]] = {
    "signals": ("signals_service", 8001),
    "cases": ("cases_service", 8002),
    "notifications": ("notifications_service", 8003),
    "reporting": ("reporting_service", 8004),
}

RABBITMQ_HELP = (
    "RabbitMQ is not reachable at {url}. On this kind of machine start it with "
    "'rabbitmq-server -detached'; elsewhere install RabbitMQ 3.10+ or set AMQP_URL."
)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1
) -> None:
    """Poll ``condition`` until it holds; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- RabbitMQ ---------------------------------------------------------------


def broker_reachable(url: str, timeout: float = 3.0) -> bool:
    async def attempt() -> bool:
        try:
            connection = await aio_pika.connect(url, timeout=timeout)
        except Exception:
            return False
        await connection.close()
        return True

    return asyncio.run(attempt())


def ensure_rabbitmq(url: str, log: Callable[[str], None] = print) -> None:
    """Make sure RabbitMQ answers at ``url``; start the local server if it is down."""
    if broker_reachable(url):
        return
    host = urllib.parse.urlparse(url).hostname
    server = shutil.which("rabbitmq-server")
    if host in {"127.0.0.1", "localhost"} and server:
        log("RabbitMQ is down; starting it with 'rabbitmq-server -detached'")
        subprocess.run([server, "-detached"], check=False, capture_output=True)
        wait_until(lambda: broker_reachable(url), 90, "RabbitMQ start-up", interval=1)
        return
    raise RuntimeError(RABBITMQ_HELP.format(url=url))


def rabbitmqctl_available() -> bool:
    return shutil.which("rabbitmqctl") is not None


def create_vhost(name: str, user: str = "guest") -> None:
    subprocess.run(["rabbitmqctl", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", name, user, ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )


def delete_vhost(name: str) -> None:
    subprocess.run(["rabbitmqctl", "delete_vhost", name], check=False, capture_output=True)


def with_vhost(url: str, vhost: str) -> str:
    parts = urllib.parse.urlparse(url)
    return urllib.parse.urlunparse(parts._replace(path="/" + urllib.parse.quote(vhost, safe="")))


# --- MongoDB stand-in -------------------------------------------------------


def find_secantusd() -> str:
    """The stand-in's launcher: SECANTUSD_BIN, on PATH, or where ./dev installs it."""
    checkout_tools = Path(__file__).resolve().parents[5] / ".tools/secantus/bin/secantusd-py"
    candidate = (
        os.environ.get("SECANTUSD_BIN")
        or shutil.which("secantusd-py")
        or (str(checkout_tools) if checkout_tools.exists() else None)
    )
    if not candidate or not Path(candidate).exists():
        raise RuntimeError(
            "secantusd-py (the MongoDB stand-in) was not found; run './dev install' "
            "or set MONGODB_URL to a MongoDB replica set"
        )
    return candidate


def mongo_reachable(url: str, timeout_ms: int = 1000, **options: Any) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, **options
    )
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True


@dataclass
class DatabaseProcess:
    """SecantusDB speaking the MongoDB wire protocol, in its own process."""

    storage: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    arguments: tuple[str, ...] = ()  # e.g. the --tls-* options
    client_options: dict[str, Any] = field(default_factory=dict)  # to check it is up

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 60) -> str:
        self.storage.mkdir(parents=True, exist_ok=True)
        command = [
            find_secantusd(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage),
            "--log-level",
            "WARNING",
            *self.arguments,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout, "MongoDB stand-in start-up", interval=0.2)
        return self.url

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the MongoDB stand-in exited; see {self.log_path}")
        return mongo_reachable(self.url, 500, **self.client_options)

    def stop(self, timeout: float = 20) -> None:
        _terminate(self.process, timeout)
        self.process = None


# --- the services -----------------------------------------------------------


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        module, _ = SERVICES[self.name]
        env = {**os.environ, **self.env, "HTTP_PORT": str(self.port)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(self._ready, timeout, f"{self.name} readiness", interval=0.2)

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
            )
        try:
            return httpx.get(f"{self.base_url}/health/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 30) -> None:
        _terminate(self.process, timeout)
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _terminate(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Stack:
    """The four services on one broker and one database."""

    workdir: Path
    amqp_url: str
    mongodb_url: str | None = None
    ports: dict[str, int] = field(default_factory=lambda: {n: p for n, (_, p) in SERVICES.items()})
    extra_env: dict[str, str] = field(default_factory=dict)
    # Per service, over extra_env: e.g. {"cases": {"AREA_CONFIG_FILE": "..."}}.
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    database: DatabaseProcess | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self, log: Callable[[str], None] = print) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.mongodb_url is None:
            self.database = DatabaseProcess(self.workdir / "db", self.workdir / "secantusdb.log")
            self.mongodb_url = self.database.start()
            log(f"MongoDB stand-in (SecantusDB) on {self.mongodb_url}")
        env = {"AMQP_URL": self.amqp_url, "MONGODB_URL": self.mongodb_url, **self.extra_env}
        for name in SERVICES:
            service_env = {**env, **self._wiring(name), **self.service_env.get(name, {})}
            service = ServiceProcess(
                name, service_env, self.workdir / f"{name}.log", self.ports[name]
            )
            self.services[name] = service
            service.start()
        for service in self.services.values():
            service.wait_ready()
            log(f"{service.name:<14} ready on {service.base_url}")

    def _wiring(self, name: str) -> dict[str, str]:
        """Where a service finds the others it calls over HTTP (notifications -> signals)."""
        if name == "notifications":
            return {"SIGNALS_URL": f"http://127.0.0.1:{self.ports['signals']}"}
        return {}

    def url(self, service: str) -> str:
        return self.services[service].base_url

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        if self.database is not None:
            self.database.stop()

"""What the figures were measured on: they mean little without it."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
from pymongo import MongoClient


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def ram_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    raise ValueError("no MemTotal in /proc/meminfo")


def rabbitmq_version(amqp_url: str) -> str:
    async def ask() -> str:
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            properties = connection.transport.connection.server_properties
            return f"{properties['product']} {properties['version']}"

    return asyncio.run(ask())


def database_version(mongodb_url: str, stand_in: str | None) -> str:
    client: MongoClient = MongoClient(mongodb_url)
    try:
        version = client.admin.command("buildInfo")["version"]
    finally:
        client.close()
    if stand_in is None:
        return f"MongoDB {version}"
    return f"SecantusDB {_secantus_version(stand_in)} (stand-in, reports MongoDB {version})"


def _secantus_version(launcher: str) -> str:
    python = Path(launcher).with_name("python")
    asked = "import importlib.metadata as m; print(m.version('SecantusDB'))"
    done = subprocess.run([python, "-c", asked], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "(version unknown)"


def describe(amqp_url: str, mongodb_url: str, stand_in: str | None) -> dict:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": ram_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "rabbitmq": rabbitmq_version(amqp_url),
        "database": database_version(mongodb_url, stand_in),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }

"""Fuzzing each service's OpenAPI with schemathesis: the service runs in-process under
uvicorn (in a thread of its own, with its own event loop) on the real broker and the
database stand-in, and hypothesis drives generated requests at it over real HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from servicekit.app import ServiceDefinition
from servicekit.testing import token_for
from servicekit.testing.server import served

# Examples per operation and per caller; FUZZ_EXAMPLES=300 ./dev test -m fuzz for a deep run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

# Every role, every team and an organisation: the caller that gets furthest into each route.
ALL_ROLES = (
    "reporter",
    "worker",
    "area-manager",
    "match-coordinator",
    "analyst",
    "admin",
    "service",
)
ALL_TEAMS = ["wot-centrum", "wot-oost", "wot-west", "wot-zuid", "wot-groenoord", "wot-noord"]


class ServiceThread:
    """A service served by uvicorn on a loop of its own, for synchronous hypothesis tests."""

    def __init__(self, definition: ServiceDefinition) -> None:
        self._definition = definition
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.base_url = ""
        self._thread = threading.Thread(target=self._run, name=f"fuzz-{definition.name}")

    def __enter__(self) -> ServiceThread:
        self._thread.start()
        if not self._ready.wait(90):
            raise TimeoutError(f"{self._definition.name} did not start within 90s")
        if self._error is not None:
            raise RuntimeError(f"{self._definition.name} did not start") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the test thread
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with served(self._definition) as service:
            self.base_url = service.base_url
            self._ready.set()
            await self._stop.wait()


@dataclass
class Fuzzer:
    """Runs every operation of a served service's OpenAPI and collects the 5xx answers."""

    service: ServiceThread
    skip: frozenset[str] = frozenset()
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    # Ids of things that exist (seeded): path parameters take them half of the time,
    # so requests get past "404 not found" into the route's real work.
    known: dict[str, list[str]] = field(default_factory=dict)

    def schema(self) -> Any:
        document = requests.get(f"{self.service.base_url}/api/v1/openapi.json", timeout=10)
        document.raise_for_status()
        return schemathesis.openapi.from_dict(document.json())

    def run(self, headers: dict[str, str], examples: int = EXAMPLES) -> list[str]:
        """Fuzz every operation with ``headers``; the failures, one line each (the answers
        per operation are in ``statuses`` until the next run)."""
        failures: list[str] = []
        self.statuses.clear()
        session = requests.Session()
        for result in self.schema().get_all_operations():
            operation = result.ok()
            if f"{operation.method.upper()} {operation.path}" in self.skip:
                continue
            failures.extend(self._fuzz(operation, headers, examples, session))
        return failures

    def _fuzz(
        self, operation: Any, headers: dict[str, str], examples: int, session: requests.Session
    ) -> list[str]:
        found: dict[int, str] = {}
        seen = self.statuses.setdefault(f"{operation.method.upper()} {operation.path}", Counter())

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,  # the same requests every run: a red test stays red
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=self._strategy(operation))
        def send(case: Any) -> None:
            response = case.call(
                base_url=self.service.base_url, session=session, headers=headers, timeout=30
            )
            seen[response.status_code] += 1
            if response.status_code >= 500 and response.status_code not in found:
                found[response.status_code] = (
                    f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                    f"{case.as_curl_command(headers=headers)}\n    {response.text[:300]}"
                )

        send()
        return list(found.values())

    def coverage(self, headers: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Schemathesis' coverage phase (its command line): deterministic boundary values
        of every parameter and body field, valid and just invalid: the longest strings,
        the smallest and largest numbers and dates, missing and extra fields."""
        command = [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{self.service.base_url}/api/v1/openapi.json",
            "--phases=coverage",
            "--checks=not_a_server_error",
            "--generation-deterministic",
            "--no-color",
            *(f"--header={name}: {value}" for name, value in headers.items()),
            *(f"--exclude-path={op.split(' ', 1)[1]}" for op in sorted(self.skip)),
        ]
        with tempfile.TemporaryDirectory() as scratch:  # where st keeps its cache
            return subprocess.run(
                command, capture_output=True, text=True, timeout=300, check=False, cwd=scratch
            )

    def _strategy(self, operation: Any) -> st.SearchStrategy[Any]:
        names = [p.name for p in operation.path_parameters]
        strategies = [operation.as_strategy(mode) for mode in GenerationMode]
        if names and all(name in self.known for name in names):
            existing = st.fixed_dictionaries({n: st.sampled_from(self.known[n]) for n in names})
            strategies += [
                existing.flatmap(
                    lambda path, m=mode: operation.as_strategy(m, path_parameters=path)
                )
                for mode in GenerationMode
            ]
        return st.one_of(strategies)


def bearer(**claims: Any) -> dict[str, str]:
    return token_for(
        claims.get("sub", f"fuzz-{uuid.uuid4().hex[:6]}"),
        *claims.get("roles", ALL_ROLES),
        teams=claims.get("teams", ALL_TEAMS),
        org=claims.get("org", "org-fuzz"),
    )


@pytest.fixture
def serve() -> Iterator[Any]:
    threads: list[ServiceThread] = []

    def start(definition: ServiceDefinition) -> ServiceThread:
        thread = ServiceThread(definition).__enter__()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.__exit__()

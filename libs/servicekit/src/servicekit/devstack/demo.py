"""``./dev demo``: run the whole system here and play the Schiedam scenario."""

from __future__ import annotations

import collections
import os
import shutil
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from servicekit.auth import mint_token
from servicekit.devstack.processes import (
    Stack,
    create_vhost,
    delete_vhost,
    ensure_rabbitmq,
    rabbitmqctl_available,
    wait_until,
    with_vhost,
)
from servicekit.devstack.scenario import REPORTERS, scenario
from servicekit.settings import DEVELOPMENT_JWT_SECRET

DEMO_VHOST = "buurtsignaal-demo"
ISSUER = os.environ.get("AUTH_ISSUER", "urn:buurtsignaal:dev-issuer")
AUDIENCE = os.environ.get("AUTH_AUDIENCE", "buurtsignaal")
TEAMS = ["wot-centrum", "wot-oost", "wot-west", "wot-zuid", "wot-groenoord", "wot-noord"]


def token(
    sub: str, roles: list[str], teams: list[str] | None = None, org: str | None = None
) -> str:
    secret = os.environ.get("AUTH_JWT_SECRET", DEVELOPMENT_JWT_SECRET)
    return mint_token(
        secret=secret, sub=sub, roles=roles, teams=teams, org=org, issuer=ISSUER, audience=AUDIENCE
    )


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@dataclass
class Outcome:
    submitted: int
    rejected: int
    cases_by_team: dict[str, int]
    notifications_by_team: dict[str, int]
    report_rows: list[dict[str, Any]]


class SystemView:
    """What the services show through their own authenticated APIs."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._admin = bearer(token("demo-admin", ["admin"]))
        self._analyst = bearer(token("demo-analyst", ["analyst"]))
        today = date.today()
        self._window = {
            "first_day": (today - timedelta(days=1)).isoformat(),
            "last_day": (today + timedelta(days=1)).isoformat(),
        }

    def report_rows(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self._stack.url('reporting')}/api/v1/reports/totals",
            params=self._window,
            headers=self._analyst,
        )
        return list(response.json()["rows"])

    def signals_counted(self) -> int:
        return sum(r["signals"] for r in self.report_rows())

    def cases(self) -> list[dict[str, Any]]:
        cases: list[dict[str, Any]] = []
        while True:
            response = httpx.get(
                f"{self._stack.url('cases')}/api/v1/cases",
                params={"offset": len(cases), "limit": 100},
                headers=self._admin,
            )
            page = response.json()["items"]
            cases += page
            if len(page) < 100:
                return cases

    def notifications_by_team(self) -> dict[str, int]:
        counts = {}
        for team in TEAMS:
            worker = bearer(token(f"demo-worker-{team}", ["worker"], teams=[team]))
            response = httpx.get(
                f"{self._stack.url('notifications')}/api/v1/inbox",
                params={"limit": 100},
                headers=worker,
            )
            counts[team] = len(response.json()["items"])
        return counts

    def consistent(self, signals_expected: int) -> bool:
        """Every signal counted, every case counted and notified."""
        cases = len(self.cases())
        rows = self.report_rows()
        return (
            sum(r["signals"] for r in rows) == signals_expected
            and sum(r["cases_opened"] for r in rows) == cases
            and sum(self.notifications_by_team().values()) == cases
        )


def submit_scenario(stack: Stack, signal_count: int, say: Callable[[str], None]) -> tuple[int, int]:
    tokens = {r.org: token(r.sub, ["reporter"], org=r.org) for r in REPORTERS}
    submitted = rejected = 0
    with httpx.Client(base_url=stack.url("signals"), timeout=10) as client:
        for item in scenario(signal_count):
            response = client.post(
                "/api/v1/signals", json=item.body, headers=bearer(tokens[item.reporter.org])
            )
            if response.status_code == 201:
                submitted += 1
            else:
                rejected += 1
                say(f"  rejected ({response.status_code}): {response.json().get('detail')}")
    return submitted, rejected


def play(stack: Stack, signal_count: int, say: Callable[[str], None] = print) -> Outcome:
    """Submit the scenario's signals, wait until every service has caught up, sum up."""
    view = SystemView(stack)
    counted_before = view.signals_counted()
    submitted, rejected = submit_scenario(stack, signal_count, say)
    say(f"submitted {submitted} signals ({rejected} rejected by intake rules)")
    wait_until(
        lambda: view.consistent(counted_before + submitted),
        60,
        "all services catching up with the scenario",
        interval=0.5,
    )
    return Outcome(
        submitted=submitted,
        rejected=rejected,
        cases_by_team=dict(collections.Counter(c["team"] for c in view.cases())),
        notifications_by_team=view.notifications_by_team(),
        report_rows=view.report_rows(),
    )


def summary(stack: Stack, outcome: Outcome) -> str:
    lines = ["", "What happened", "-------------"]
    opened = sum(outcome.cases_by_team.values())
    lines.append(f"signals accepted: {outcome.submitted}; cases opened: {opened}")
    lines.append("cases and in-app notifications per team:")
    for team in TEAMS:
        lines.append(
            f"  {team:<15} cases {outcome.cases_by_team.get(team, 0):>3}   "
            f"notifications {outcome.notifications_by_team.get(team, 0):>3}"
        )
    lines.append("report (reporting service), per district:")
    for row in outcome.report_rows:
        signals, cases = row["signals"], row["cases_opened"]
        lines.append(f"  {row['group']:<12} signals {signals:>3}   cases opened {cases:>3}")
    lines += ["", "Where to look", "-------------"]
    for name in stack.services:
        url = stack.url(name)
        lines.append(f"  {name:<14} API docs {url}/api/v1/docs   metrics {url}/metrics")
    lines.append("  a token to try the APIs: ./dev token --sub w-1 --role worker --team wot-west")
    return "\n".join(lines)


def run_demo(*, once: bool, signal_count: int, workdir: Path) -> int:
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_rabbitmq(amqp_url)
    if rabbitmqctl_available() and "AMQP_URL" not in os.environ:
        delete_vhost(DEMO_VHOST)  # a clean broker for every demo run
        create_vhost(DEMO_VHOST)
        amqp_url = with_vhost(amqp_url, DEMO_VHOST)
    if "MONGODB_URL" not in os.environ and (workdir / "db").exists():
        shutil.rmtree(workdir / "db")  # and a clean database
    stack = Stack(workdir=workdir, amqp_url=amqp_url, mongodb_url=os.environ.get("MONGODB_URL"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(f"starting the four services (logs in {workdir})")
        stack.start()
        outcome = play(stack, signal_count)
        print(summary(stack, outcome))
        if not once:
            print("\nRunning. Press Ctrl-C to stop.")
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...")
        stack.stop()
        print("stopped")
    return 0

"""docker-compose.yml, the Dockerfile and the monitoring configuration, checked
without a Docker engine: what can be read is read and held to the rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = {"signals": 8001, "cases": 8002, "notifications": 8003, "reporting": 8004}
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASS|_KEY|TOKEN)$")
INTERPOLATION = re.compile(r"\$\{[A-Z_]+(:\?[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_stack_has_every_part(compose):
    assert set(compose["services"]) == {
        *APP_SERVICES,
        "mongo",
        "rabbitmq",
        "prometheus",
        "grafana",
        "mailpit",
    }


def test_every_image_is_pinned_to_a_version(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), name
        assert re.search(r":v?\d", image), f"{name}: {image} has no version tag"


def test_every_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] == "CMD", f"{name} has no exec-form health check"


def test_services_wait_for_a_healthy_broker_and_database(compose):
    for name in APP_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends["rabbitmq"]["condition"] == "service_healthy", name
        assert depends["mongo"]["condition"] == "service_healthy", name
    assert (
        compose["services"]["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    )


def test_the_services_use_a_mongodb_replica_set_and_their_ports(compose):
    mongo = compose["services"]["mongo"]
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    assert "rs.initiate" in (ROOT / "deploy/mongo/replica-set.js").read_text()
    for name, port in APP_SERVICES.items():
        service = compose["services"][name]
        env = service["environment"]
        assert env["MONGODB_URL"].endswith("replicaSet=rs0")
        assert env["HTTP_PORT"] == str(port)
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
        assert service["build"]["args"]["SERVICE"] == name
        assert int(service["stop_grace_period"].rstrip("s")) > int(env["GRACEFUL_TIMEOUT"])


def test_notifications_reach_signals_and_the_mail_catcher_by_name(compose):
    notifications = compose["services"]["notifications"]
    assert notifications["environment"]["SIGNALS_URL"] == "http://signals:8001"
    assert notifications["environment"]["SMTP_HOST"] == "mailpit"
    assert notifications["depends_on"]["signals"]["condition"] == "service_healthy"


def test_no_secret_is_baked_into_the_compose_file(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            if SECRET_NAME.search(key):
                assert INTERPOLATION.fullmatch(text), f"{name}.{key} must come from the environment"
            if "://" in text and "@" in text:
                credentials = text.split("://", 1)[1].split("@", 1)[0]
                password = credentials.split(":", 1)[1]
                assert INTERPOLATION.fullmatch(password), f"{name}.{key} embeds a password"
    assert (ROOT / ".gitignore").read_text().count(".env") >= 1


def test_rabbitmq_runs_management_and_prometheus_plugins(compose):
    plugins = (ROOT / "deploy/rabbitmq/enabled_plugins").read_text()
    assert "rabbitmq_management" in plugins and "rabbitmq_prometheus" in plugins
    mounts = compose["services"]["rabbitmq"]["volumes"]
    assert any(m.startswith("./deploy/rabbitmq/enabled_plugins:") for m in mounts)


def test_prometheus_scrapes_every_service_and_rabbitmq():
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    }
    assert {f"{name}:{port}" for name, port in APP_SERVICES.items()} | {"rabbitmq:15692"} == targets


def test_grafana_gets_the_prometheus_data_source():
    datasources = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"


def test_the_dockerfile_builds_one_pinned_non_root_image_per_service():
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base)
    assert re.search(r"^USER 10001$", text, re.M)
    assert "HEALTHCHECK" in text and "/health/ready" in text
    assert 'exec python -m \\"$SERVICE_MODULE\\"' in text
    assert "secantus" not in text.lower().split("never in an image")[1], (
        "the GPL stand-in stays out"
    )
    for line in text.splitlines():
        if line.startswith(("ENV", "ARG")):
            assert not re.search(r"(SECRET|PASSWORD|_KEY)\s*=", line), line
    for service in APP_SERVICES:
        assert (ROOT / "services" / service / "pyproject.toml").exists()

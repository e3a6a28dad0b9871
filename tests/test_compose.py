"""compose.yaml and the Dockerfile agree with kgrca's configuration and commands.

No Docker engine exists here, so the images are not built or run: these checks read the files and
hold them against kgrca/config.py, the CLI's parser and the local servers' pinned versions.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from faces.cli import build_parser
from kgrca.config import KEYS, env_name
from localdev.servers import fetch

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = {key.name: key.default for key in KEYS}
KNOWN_VARIABLES = {env_name(key.name) for key in KEYS}
KGRCA_SERVICES = ("builder", "server", "tracer")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def published(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port of a service's "127.0.0.1:HOST:CONTAINER" entries."""
    ports = {}
    for entry in service.get("ports", []):
        host_ip, host, container = str(entry).split(":")
        assert host_ip == "127.0.0.1", f"{entry} is published beyond the loopback address"
        ports[int(container)] = int(host)
    return ports


def test_the_services_are_there(services: dict[str, Any]) -> None:
    assert set(services) == {"neo4j", "kafka", "builder", "server", "tracer"}


def test_every_kgrca_variable_is_a_known_setting(services: dict[str, Any]) -> None:
    text = (ROOT / "compose.yaml").read_text()
    used = set(re.findall(r"\bKGRCA_[A-Z0-9_]+", text))
    assert used, "compose.yaml wires no KGRCA_* variable"
    assert used <= KNOWN_VARIABLES, f"unknown settings: {sorted(used - KNOWN_VARIABLES)}"
    for name in KGRCA_SERVICES:
        environment = services[name]["environment"]
        assert {"KGRCA_NEO4J_URI", "KGRCA_NEO4J_PASSWORD", "KGRCA_KAFKA_BOOTSTRAP"} <= set(environment)


def test_ports_match_the_configuration_defaults(services: dict[str, Any]) -> None:
    assert published(services["neo4j"]) == {7687: DEFAULTS["neo4j_bolt_port"],
                                            7474: DEFAULTS["neo4j_http_port"]}
    assert published(services["kafka"]) == {9092: DEFAULTS["kafka_port"]}
    server = services["server"]
    assert published(server) == {int(server["environment"]["KGRCA_HTTP_PORT"]): DEFAULTS["http_port"]}


def test_kgrca_services_reach_neo4j_and_kafka_inside_the_network(services: dict[str, Any]) -> None:
    kafka_env = services["kafka"]["environment"]
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    for name in KGRCA_SERVICES:
        environment = services[name]["environment"]
        assert environment["KGRCA_NEO4J_URI"] == "bolt://neo4j:7687"
        assert any(item.endswith("//" + environment["KGRCA_KAFKA_BOOTSTRAP"]) for item in advertised)
        assert set(services[name]["depends_on"]) == {"neo4j", "kafka"}


def test_one_password_with_the_documented_default(services: dict[str, Any]) -> None:
    default = DEFAULTS["neo4j_password"]
    assert services["neo4j"]["environment"]["NEO4J_AUTH"] == f"neo4j/${{KGRCA_NEO4J_PASSWORD:-{default}}}"
    for name in KGRCA_SERVICES:
        assert services[name]["environment"]["KGRCA_NEO4J_PASSWORD"] == f"${{KGRCA_NEO4J_PASSWORD:-{default}}}"


def test_neo4j_and_kafka_are_the_local_servers_versions(services: dict[str, Any]) -> None:
    neo4j = services["neo4j"]
    local_neo4j = fetch.pom_property("neo4j", "neo4j.version")
    assert neo4j["image"] == "neo4j:5.26-community" and local_neo4j.startswith("5.26.")
    assert "apoc" in yaml.safe_load(neo4j["environment"]["NEO4J_PLUGINS"])
    kafka = services["kafka"]
    assert kafka["image"] == f"apache/kafka:{fetch.pom_property('kafka', 'kafka.version')}"
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one node
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", kafka["environment"]["CLUSTER_ID"])


def test_every_service_has_a_health_check_and_data_survives(compose: dict[str, Any],
                                                            services: dict[str, Any]) -> None:
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "neo4j-data:/data" in services["neo4j"]["volumes"]
    assert "kafka-data:/var/lib/kafka/data" in services["kafka"]["volumes"]
    assert {"neo4j-data", "kafka-data"} <= set(compose["volumes"])


def test_commands_are_real_kgrca_commands(services: dict[str, Any]) -> None:
    parser = build_parser()
    expected = {"builder": "build", "server": "serve", "tracer": "trace"}
    for name, command in expected.items():
        argv = services[name]["command"]
        assert argv[0] == command
        parser.parse_args(argv)  # exits (fails the test) on an unknown option
    assert services["tracer"]["command"][1:] == ["--sink", "kafka"]
    health = services["tracer"]["healthcheck"]["test"]
    parser.parse_args(health[2:])


def test_the_tracer_can_trace(services: dict[str, Any]) -> None:
    tracer = services["tracer"]
    assert tracer["privileged"] is True and tracer["pid"] == "host" and tracer["user"] == "root"
    mounts = {volume.split(":")[0]: volume for volume in tracer["volumes"]}
    for path in ("/sys/kernel/tracing", "/sys/kernel/debug", "/lib/modules", "/usr/src"):
        assert mounts[path] == f"{path}:{path}:ro"
    assert tracer["build"]["target"] == "tracer"


def test_the_dockerfile_builds_what_compose_asks_for(services: dict[str, Any]) -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE)
    for name in KGRCA_SERVICES:
        assert services[name]["build"]["target"] in stages
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim", text, re.MULTILINE), "pin python:3.11.x-slim"
    runtime = text.split("AS runtime", 1)[1].split("\nFROM ", 1)[0]
    assert re.search(r"^USER kgrca$", runtime, re.MULTILINE), "the runtime stage must not run as root"
    for name in ("builder", "server"):
        assert services[name]["user"] == "kgrca"
    for folder in ("kgrca", "kg_builder", "ingest", "bpf", "webhooks", "rca", "cypher"):
        assert f"COPY {folder} ./{folder}" in text, f"the image lacks {folder}/"

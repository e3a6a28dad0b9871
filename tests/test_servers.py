"""The local servers as a user meets them: `kgrca servers` starts a real Neo4j and a real Kafka,
says clearly what is wrong, and keeps data across a restart.

The shared servers (the ones every other test uses) are only read here. Anything that stops a
server, or needs a port taken, runs on a throwaway server: its own data folder and free ports.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from kgrca import graphdb
from kgrca.config import Config, load_config
from kgrca.contracts import KgrcaError
from localdev import servers
from localdev.servers import cds, control, fetch

LOCAL_NEO4J = not os.environ.get("KGRCA_NEO4J_URI")
LOCAL_KAFKA = not os.environ.get("KGRCA_KAFKA_BOOTSTRAP")
needs_local_neo4j = pytest.mark.skipif(not LOCAL_NEO4J, reason="KGRCA_NEO4J_URI names another server")
needs_local_kafka = pytest.mark.skipif(not LOCAL_KAFKA,
                                       reason="KGRCA_KAFKA_BOOTSTRAP names another broker")


# --- helpers ----------------------------------------------------------------------------------------

def free_port_pair() -> int:
    """A port p such that p and p + 1 are both free on 127.0.0.1 (Kafka's controller takes p + 1)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65535 and all(_bindable(p) for p in (port, port + 1)):
            return port
    raise RuntimeError("no two adjacent free ports")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def throwaway_config(tmp_path: Path) -> Config:
    """Settings of a private server: own data folder and ports, small memory, shared jar cache."""
    base = free_port_pair()
    http = free_port_pair()
    kafka = free_port_pair()
    return load_config().replace(
        data_dir=str(tmp_path / "data"), neo4j_bolt_port=base, neo4j_http_port=http, kafka_port=kafka,
        neo4j_heap="512m", neo4j_pagecache="64m", kafka_heap="256m",
        neo4j_password="throwaway-" + uuid.uuid4().hex[:8])


@pytest.fixture
def throwaway(tmp_path: Path) -> Iterator[Config]:
    cfg = throwaway_config(tmp_path)
    try:
        yield cfg
    finally:
        servers.stop(cfg, "all")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "faces.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def cli_env(cfg: Config, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KGRCA_")}
    env.update({"KGRCA_DATA_DIR": str(cfg.data_path), "KGRCA_CACHE_DIR": str(cfg.cache_path),
                "KGRCA_NEO4J_BOLT_PORT": str(cfg.neo4j_bolt_port),
                "KGRCA_NEO4J_HTTP_PORT": str(cfg.neo4j_http_port), "KGRCA_KAFKA_PORT": str(cfg.kafka_port)})
    env.update(extra)
    return env


def produce(bootstrap: str, topic: str, value: bytes) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
        future.result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, value=value, key=b"k")
    assert producer.flush(30) == 0, "the message was not delivered"


def consume_one(bootstrap: str, topic: str, timeout: float = 60) -> bytes | None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                return message.value()
        return None
    finally:
        consumer.close()


# --- the shared servers ----------------------------------------------------------------------------

@pytest.mark.neo4j
@pytest.mark.kafka
@needs_local_neo4j
@needs_local_kafka
def test_status_says_both_servers_are_up(neo4j_config: Config, kafka_config: Config) -> None:
    for name, port_role, port in (("neo4j", "bolt", neo4j_config.neo4j_bolt_port),
                                  ("kafka", "broker", kafka_config.kafka_port)):
        state = servers.status(neo4j_config, name)
        assert state["running"] and state["answers"], state
        assert state["ports"][port_role] == port
        assert state["pid"] > 0 and state["rss_bytes"] > 0
    assert servers.status(neo4j_config, "neo4j")["version"] == "5.26.30"

    done = run_cli("servers", "status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["neo4j", "kafka"]
    assert all("answers" in line for line in lines), done.stdout


@pytest.mark.neo4j
@needs_local_neo4j
def test_up_when_already_up_is_a_no_op(neo4j_config: Config) -> None:
    before = servers.status(neo4j_config, "neo4j")["pid"]
    started = control.up(servers.SERVERS["neo4j"], neo4j_config)
    assert started.already and started.pid == before  # the same JVM: nothing was restarted

    done = run_cli("servers", "up", "neo4j")
    assert done.returncode == 0, done.stderr
    assert "already up" in done.stdout and f"pid {before}" in done.stdout


@pytest.mark.neo4j
@needs_local_neo4j
def test_the_browser_answers(neo4j_config: Config) -> None:
    url = f"http://127.0.0.1:{neo4j_config.neo4j_http_port}/browser/"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert b"<title>Neo4j Browser</title>" in response.read()


@pytest.mark.neo4j
def test_apoc_answers_over_bolt(neo4j_driver) -> None:
    records, _, _ = neo4j_driver.execute_query("RETURN apoc.version() AS version")
    assert records[0]["version"].startswith("5.26")
    records, _, _ = neo4j_driver.execute_query("RETURN apoc.convert.toJson({a: 1}) AS json")
    assert records[0]["json"] == '{"a":1}'


@pytest.mark.kafka
def test_kafka_round_trip(kafka_config: Config, kafka_topic_prefix: str) -> None:
    topic = f"{kafka_topic_prefix}.round-trip"
    value = uuid.uuid4().bytes
    produce(kafka_config.kafka_bootstrap, topic, value)
    assert consume_one(kafka_config.kafka_bootstrap, topic) == value


@pytest.mark.neo4j
def test_wrong_password_gives_one_clear_line(neo4j_config: Config) -> None:
    cfg = neo4j_config.replace(neo4j_password="not-the-password")
    with pytest.raises(KgrcaError) as caught:
        graphdb.connect(cfg)
    message = str(caught.value)
    assert "\n" not in message
    assert "refused user 'neo4j'" in message and "KGRCA_NEO4J_PASSWORD" in message


@pytest.mark.neo4j
def test_neo4j_driver_fixture_gives_an_empty_graph(neo4j_driver) -> None:
    neo4j_driver.execute_query("UNWIND range(1, 3) AS i CREATE (:FixtureProbe {i: i})")
    count = neo4j_driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    assert count == 3  # nothing but what this test made: the fixture wiped the rest


# --- faults, on throwaway servers -----------------------------------------------------------------

@pytest.mark.parametrize("which, port_key", [("neo4j", "neo4j_bolt_port"), ("kafka", "kafka_port")])
def test_port_in_use_gives_one_clear_line(throwaway: Config, which: str, port_key: str) -> None:
    port = getattr(throwaway, port_key)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        done = run_cli("servers", "up", which, env=cli_env(throwaway))
        with pytest.raises(KgrcaError, match=f"port {port} .*in use by pid {os.getpid()}"):
            servers.ensure_up(throwaway, which)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"kgrca: cannot start {servers.SERVERS[which].title}: port {port} ")
    assert f"KGRCA_{port_key.upper()}" in done.stderr
    assert not servers.status(throwaway, which)["running"]


def test_no_java_gives_one_clear_line(throwaway: Config, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = cli_env(throwaway, PATH=str(empty))
    env.pop("JAVA_HOME", None)
    done = subprocess.run([sys.executable, "-m", "faces.cli", "servers", "up", "neo4j"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("kgrca: Java is not installed") and done.stderr.count("\n") == 1
    assert "scripts/bootstrap.sh" in done.stderr


def test_no_maven_gives_one_clear_line(throwaway: Config, tmp_path: Path) -> None:
    only_java = tmp_path / "java-bin"
    only_java.mkdir()
    (only_java / "java").symlink_to(os.path.realpath(_which("java")))
    empty_cache = tmp_path / "cache"  # nothing fetched, so Maven is needed
    env = cli_env(throwaway, PATH=str(only_java), KGRCA_CACHE_DIR=str(empty_cache))
    env.pop("JAVA_HOME", None)
    done = subprocess.run([sys.executable, "-m", "faces.cli", "servers", "up", "kafka"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("kgrca: Maven is not installed") and done.stderr.count("\n") == 1
    assert "apt-get install default-jre-headless maven" in done.stderr


@pytest.mark.kafka
def test_a_server_that_dies_while_starting_gives_one_clear_line(throwaway: Config) -> None:
    cfg = throwaway.replace(kafka_heap="1k")  # the JVM refuses a heap this small and exits at once
    done = run_cli("servers", "up", "kafka", env=cli_env(cfg, KGRCA_KAFKA_HEAP="1k"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    log = cfg.data_path / "kafka" / "logs" / "kafka.log"
    assert done.stderr.startswith("kgrca: Kafka stopped while starting")
    assert "heap" in done.stderr.lower() and str(log) in done.stderr
    assert not servers.status(cfg, "kafka")["running"]


def test_a_half_fetched_cache_is_fetched_again(tmp_path: Path) -> None:
    # A fetch killed half way leaves a temporary folder; an older kgrca may have left a folder with
    # a truncated jar and no marker. Neither may be taken for an install.
    real = load_config()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "maven").symlink_to(real.cache_path / "maven", target_is_directory=True)  # no re-download
    cfg = real.replace(cache_dir=str(cache), data_dir=str(tmp_path / "data"))
    kafka = servers.SERVERS["kafka"]
    broken = fetch.install_dir(cfg, "kafka", kafka.version())
    (broken / "lib").mkdir(parents=True)
    (broken / "lib" / f"kafka_2.13-{kafka.version()}.jar").write_bytes(b"PK\x03\x04 cut short")
    partial = cache / f".kafka-{kafka.version()}.partial-1"
    (partial / "lib").mkdir(parents=True)
    assert not kafka.is_installed(cfg)

    install = kafka.install(cfg)

    assert kafka.is_installed(cfg) and not partial.exists()
    jar = install / "lib" / f"kafka_2.13-{kafka.version()}.jar"
    with zipfile.ZipFile(jar) as archive:
        assert "kafka/Kafka.class" in archive.namelist()


def test_a_class_archive_is_kept_only_from_a_clean_stop(tmp_path: Path) -> None:
    archive = tmp_path / "cds" / "java-test.jsa"
    home = tmp_path / "data" / "neo4j"
    assert "-XX:ArchiveClassesAtExit=" in " ".join(cds.flags(archive, home))  # no archive yet: make one
    cds.pending(archive, home).write_bytes(b"half written")
    cds.settle(archive, home, clean=False)  # the JVM was killed while writing
    assert not archive.exists() and not cds.pending(archive, home).exists()
    cds.pending(archive, home).write_bytes(b"archive")
    cds.settle(archive, home, clean=True)
    assert archive.read_bytes() == b"archive"
    assert cds.flags(archive, home)[-1] == f"-XX:SharedArchiveFile={archive}"


@pytest.mark.neo4j
def test_neo4j_down_then_up_keeps_data(throwaway: Config) -> None:
    servers.ensure_up(throwaway, "neo4j")
    marker = uuid.uuid4().hex
    with graphdb.driver_for(throwaway.replace(neo4j_uri=f"bolt://127.0.0.1:{throwaway.neo4j_bolt_port}")) as d:
        d.execute_query("CREATE (:Kept {marker: $marker})", marker=marker)

    down = run_cli("servers", "down", "neo4j", env=cli_env(throwaway))
    assert down.returncode == 0 and "neo4j: stopped" in down.stdout, down.stderr
    assert not servers.status(throwaway, "neo4j")["running"]

    neo4j = servers.SERVERS["neo4j"]
    archive = cds.archive_path(neo4j.install_path(throwaway))
    assert archive.is_file(), "a clean stop leaves the class archive that later starts map"

    up = run_cli("servers", "up", "neo4j", env=cli_env(throwaway, KGRCA_NEO4J_PASSWORD=throwaway.neo4j_password))
    assert up.returncode == 0, up.stderr
    pid = servers.status(throwaway, "neo4j")["pid"]
    assert f"-XX:SharedArchiveFile={archive}" in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    with graphdb.driver_for(throwaway.replace(neo4j_uri=f"bolt://127.0.0.1:{throwaway.neo4j_bolt_port}")) as d:
        records, _, _ = d.execute_query("MATCH (k:Kept) RETURN k.marker AS marker")
    assert [r["marker"] for r in records] == [marker]


@pytest.mark.kafka
def test_kafka_down_then_up_keeps_data(throwaway: Config) -> None:
    servers.ensure_up(throwaway, "kafka")
    bootstrap = f"127.0.0.1:{throwaway.kafka_port}"
    value = uuid.uuid4().bytes
    produce(bootstrap, "kept", value)
    cluster_id = (throwaway.data_path / "kafka" / "cluster.id").read_text()

    servers.stop(throwaway, "kafka")
    assert not servers.status(throwaway, "kafka")["running"]
    servers.ensure_up(throwaway, "kafka")

    assert (throwaway.data_path / "kafka" / "cluster.id").read_text() == cluster_id
    assert consume_one(bootstrap, "kept") == value


def _which(program: str) -> str:
    import shutil

    path = shutil.which(program)
    assert path, f"{program} is needed on PATH for this test"
    return path

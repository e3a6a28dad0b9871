"""Kafka between the sources and the builder, on the real broker and the real Neo4j the project starts.

What a user relies on: what a source publishes reaches the graph; a message that cannot be read is
dead-lettered with its reason and its bytes while the stream goes on; a Neo4j outage or a builder killed
mid-batch loses nothing and doubles nothing, so the final graph equals that of a run without the fault.
Graphs are compared by node counts per label, relationship counts per type and a checksum of every
node's labels and properties and every relationship's type, ends and properties.
"""

from __future__ import annotations

import base64
import collections
import functools
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from typing import Any

import neo4j
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from faces.commands.watch import make_sink
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.bus import KafkaSink, messages, producer
from kgrca.bus.consumer import Builder
from kgrca.bus.topics import json_schema, topics_for
from kgrca.config import Config
from kgrca.contracts import Observation
from tests import factories as f
from tests.fixtures.servers import wipe

RELEASES = 12


# --- the data: releases, their objects, events and helm runs ------------------------------------

def _helm_run(name: str, namespace: str, pid: int, action: str) -> Observation:
    record = {
        "schema": 1, "operation_id": f"helm-{pid}-1795168800000", "tool": "helm", "pid": pid, "ppid": 1,
        "argv": ["helm", "upgrade", name, "./chart", "-n", namespace, "--wait"], "command": "upgrade",
        "release": name, "releases": [name], "namespace": namespace, "namespace_explicit": True,
        "chart": "./chart", "wait": True, "host": "ci-runner-1", "started_at": "2026-11-20T10:00:00.000Z",
        "ended_at": None if action == "RUNNING" else "2026-11-20T10:05:00.000Z",
        "status": "running" if action == "RUNNING" else "failed",
        "exit_code": None if action == "RUNNING" else 1,
        "stderr": "" if action == "RUNNING" else "Error: UPGRADE FAILED: context deadline exceeded\n",
    }
    return Observation("helm_process", action, record, "2026-11-20T10:05:00Z", f"test:helm:{name}")


@functools.cache
def stream() -> tuple[Observation, ...]:
    """About 130 observations of 12 releases, in the order a watcher and a tracer would see them."""
    out: list[Observation] = []

    def k8s(obj: dict[str, Any], action: str = "ADDED", at: str = "2026-11-20T10:05:00Z") -> None:
        out.append(Observation("k8s", action, obj, at, f"test:{obj['kind']}/{obj['metadata']['name']}"))

    for i in range(RELEASES):
        namespace, name = f"team{i % 4}", f"app{i}"
        manifest = f.manifest(("apps/v1", "Deployment", name), ("v1", "Service", name))
        k8s(f.release_secret(f.release_json(name, namespace, 1, "deployed", manifest=manifest,
                                            last_deployed="2026-11-19T10:00:00Z")))
        deploy = f.deployment(name, namespace, release=name, ready=1)
        rs = f.replicaset(deploy)
        k8s(deploy)
        k8s(rs)
        pods = [f.pod(f"{name}-7d4b9c-{n}", namespace, owner_obj=rs, labels={"app": name}) for n in "ab"]
        for pod in pods:
            k8s(pod)
        out.append(_helm_run(name, namespace, 4000 + i, "RUNNING"))
        k8s(f.release_secret(f.release_json(name, namespace, 2, "pending-upgrade", manifest=manifest,
                                            last_deployed="2026-11-20T10:00:00Z")))
        crashing = f.pod(pods[1]["metadata"]["name"], namespace, owner_obj=rs, labels={"app": name},
                         ready=False, waiting="CrashLoopBackOff", restarts=4,
                         waiting_message="back-off 40s restarting failed container")
        crashing["metadata"]["uid"] = pods[1]["metadata"]["uid"]
        k8s(crashing, "MODIFIED", "2026-11-20T10:03:00Z")
        k8s(f.event(crashing, "BackOff", "Back-off restarting failed container main", count=4))
        k8s(f.release_secret(f.release_json(name, namespace, 2, "failed", manifest=manifest,
                                            description="Upgrade failed: context deadline exceeded",
                                            last_deployed="2026-11-20T10:00:00Z")), "MODIFIED")
        out.append(_helm_run(name, namespace, 4000 + i, "EXITED"))
    return tuple(out)


# --- comparing graphs ---------------------------------------------------------------------------

def identity(var: str) -> str:
    """A node's key, whatever its label calls it."""
    return f"coalesce({var}.uid, {var}.key, {var}.ref, {var}.operation_id, {var}.id, {var}.sha, {var}.name)"


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def fingerprint(driver: neo4j.Driver) -> dict[str, Any]:
    """Counts per label and per relationship type, and a checksum of all key and value properties."""
    with driver.session() as session:
        labels = {r["label"]: r["n"] for r in session.run(
            "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n")}
        types = {r["type"]: r["n"] for r in session.run(
            "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")}
        nodes = sorted(json.dumps(_canonical([sorted(r["labels"]), r["props"]]))
                       for r in session.run("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"))
        rels = sorted(json.dumps(_canonical([r["type"], r["start"], r["end"], r["props"]])) for r in session.run(
            f"MATCH (a)-[r]->(b) RETURN type(r) AS type, {identity('a')} AS start, {identity('b')} AS end, "
            f"properties(r) AS props"))
    checksum = hashlib.sha256("\n".join(nodes + rels).encode()).hexdigest()
    return {"labels": labels, "relationships": types, "checksum": checksum}


@pytest.fixture(scope="module")
def reference(neo4j_config: Config) -> dict[str, Any]:
    """The graph of the stream written straight to Neo4j, no Kafka, no fault."""
    driver = neo4j.GraphDatabase.driver(neo4j_config.neo4j_uri,
                                        auth=(neo4j_config.neo4j_user, neo4j_config.neo4j_password))
    try:
        wipe(driver)
        apply_schema(driver)
        stats = Neo4jWriter(driver).write(stream())
        assert not stats.rejected
        graph = fingerprint(driver)
        wipe(driver)
    finally:
        driver.close()
    assert graph["labels"]["HelmOperation"] == RELEASES
    return graph


@pytest.fixture
def cfg(neo4j_config: Config, kafka_config: Config, kafka_topic_prefix: str) -> Config:
    return neo4j_config.replace(kafka_bootstrap=kafka_config.kafka_bootstrap, kafka_topic_prefix=kafka_topic_prefix,
                                kafka_group=f"{kafka_topic_prefix}-builder")


@pytest.fixture
def graph(neo4j_driver: neo4j.Driver) -> neo4j.Driver:
    apply_schema(neo4j_driver)
    return neo4j_driver


# --- the published JSON Schemas ----------------------------------------------------------------

_TYPES = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
          "boolean": bool, "null": type(None)}


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema``, for the keywords kgrca/bus/schemas use (type, const, enum,
    required, properties, items); formats and descriptions are documentation."""
    errors = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(isinstance(value, _TYPES[n]) and not (n in ("integer", "number") and isinstance(value, bool))
                   for n in names):
            return [f"{path}: {value!r} is not of type {names}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, dict):
        errors += [f"{path}: lacks {name}" for name in schema.get("required", []) if name not in value]
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors += schema_errors(value[name], sub, f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def test_schema_files_describe_what_is_published():
    observation = json.loads(messages.encode(stream()[0]))
    assert schema_errors(observation, json_schema("kgrca.k8s.events.v1")) == []
    assert schema_errors(json.loads(messages.encode(stream()[5])), json_schema("p.processes.v1")) == []
    broken = dict(observation, action="TOUCHED", payload={"kind": "Pod"})
    assert schema_errors(broken, json_schema("kgrca.k8s.events.v1")) == [
        "$.action: 'TOUCHED' is not one of ['ADDED', 'MODIFIED', 'DELETED', 'SNAPSHOT']",
        "$.payload: lacks apiVersion", "$.payload: lacks metadata"]


# --- Kafka helpers ------------------------------------------------------------------------------

def read_topic(cfg: Config, topic: str) -> list[Any]:
    """Every message of a topic, read from the start by a throwaway group."""
    consumer = Consumer({"bootstrap.servers": cfg.kafka_bootstrap, "group.id": f"reader-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        wanted = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        got: list[Any] = []
        deadline = time.monotonic() + 30
        while sum(wanted.values()) > sum(1 for m in got) and time.monotonic() < deadline:
            got.extend(m for m in consumer.consume(500, timeout=0.5) if m.error() is None)
        return sorted(got, key=lambda m: (m.partition(), m.offset()))
    finally:
        consumer.close()


class Offsets:
    """How far the builder's group has committed, read without joining the group."""

    def __init__(self, cfg: Config):
        self._consumer = Consumer({"bootstrap.servers": cfg.kafka_bootstrap, "group.id": cfg.kafka_group,
                                   "enable.auto.commit": False})
        metadata = self._consumer.list_topics(timeout=10)
        self._partitions = [TopicPartition(topic, p) for topic in topics_for(cfg).sources
                            for p in metadata.topics[topic].partitions]

    def committed(self) -> int:
        return sum(max(0, tp.offset) for tp in self._consumer.committed(self._partitions, timeout=10))

    def close(self) -> None:
        self._consumer.close()


def metric(builder: Builder, name: str, **labels: str) -> float:
    return builder.metrics.registry.get_sample_value(name, labels) or 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- tests that need no server ------------------------------------------------------------------

def test_one_objects_events_share_a_partition_key():
    events = stream()
    pod_added = next(o for o in events if o.kind == "k8s" and o.payload["kind"] == "Pod")
    secret = next(o for o in events if o.kind == "k8s" and o.payload["kind"] == "Secret")
    running, exited = (o for o in events if o.kind == "helm_process" and o.payload["release"] == "app0")
    assert messages.key(pod_added) == pod_added.payload["metadata"]["uid"]
    # every revision of a release, and every helm run against it, is keyed by the release
    assert messages.key(secret) == "team0/app0"
    assert messages.key(running) == messages.key(exited) == "team0/app0"
    kubectl = Observation("kubectl_process", "EXITED", {"operation_id": "kubectl-9-1"}, "2026-11-20T10:00:00Z")
    assert messages.key(kubectl) == "kubectl-9-1"
    delivery = Observation("webhook", "github", {"delivery_id": "72d3162e"}, "2026-11-20T10:00:00Z")
    assert messages.key(delivery) == "github:72d3162e"


@pytest.mark.parametrize("value, reason", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{not json", "not JSON"),
    (b'{"schema": 1, "kind": "k8s"}', "lacks action, payload"),
    (b'{"schema": 2, "kind": "k8s", "action": "ADDED", "payload": {}}', "schema 2 is not supported"),
    (None, "empty message value"),
])
def test_unreadable_values_say_why(value, reason):
    from kgrca.contracts import PermanentError

    with pytest.raises(PermanentError, match=reason):
        messages.decode(value)


# --- on the real broker and Neo4j ---------------------------------------------------------------

@pytest.mark.kafka
@pytest.mark.neo4j
def test_published_observations_reach_the_graph(cfg, graph, reference):
    sink = make_sink("kafka", cfg)  # what `kgrca watch --sink kafka` publishes with
    stats = sink.write(stream())
    sink.close()
    assert (stats.observations, stats.rows, stats.rejected) == (len(stream()), len(stream()), [])

    # What is on the topics follows the published schemas, and one object's events share a partition
    # in the order they were seen.
    topics = topics_for(cfg)
    published = read_topic(cfg, topics.k8s) + read_topic(cfg, topics.processes)
    assert len(published) == len(stream())
    where: dict[bytes, set[int]] = collections.defaultdict(set)
    for message in published:
        assert schema_errors(json.loads(message.value()), json_schema(message.topic())) == []
        assert dict(message.headers())["kgrca-schema"] == b"1"
        where[message.key()].add(message.partition())
    assert all(len(partitions) == 1 for partitions in where.values())
    pod_versions = [json.loads(m.value())["action"] for m in published
                    if m.key() == stream()[4].payload["metadata"]["uid"].encode()]
    assert pod_versions == ["ADDED", "MODIFIED"]

    builder = Builder(cfg, Neo4jWriter(graph))
    totals = builder.run(once=True)
    assert (totals.messages, totals.observations, totals.dead_lettered) == (len(stream()), len(stream()), 0)
    assert fingerprint(graph) == reference

    # The metrics a dashboard reads: messages per topic, batches, and no lag left.
    assert metric(builder, "kgrca_build_messages_total", topic=topics.k8s) + \
        metric(builder, "kgrca_build_messages_total", topic=topics.processes) == len(stream())
    assert metric(builder, "kgrca_build_batch_seconds_count") == totals.batches
    lags = [s for m in builder.metrics.registry.collect() if m.name == "kgrca_build_consumer_lag"
            for s in m.samples]
    assert lags and all(s.value == 0 for s in lags)

    # Offsets were committed: the same group finds nothing more to do.
    again = Builder(cfg, Neo4jWriter(graph)).run(once=True)
    assert again.messages == 0


@pytest.mark.kafka
@pytest.mark.neo4j
def test_a_crashed_containers_last_lines_cross_kafka_beside_its_pod(cfg, graph):
    """`kgrca watch --sink kafka` publishes the log lines it reads (ingest/container_logs.py) on their own topic,
    keyed by the pod, and `kgrca build` writes them: a distributed setup loses none of a crash's last words."""
    pod = stream()[4]
    lines = ["panic: runtime error: invalid memory address or nil pointer dereference",
             "goroutine 1 [running]:"]
    log = Observation("container_log", "FETCHED", {
        "namespace": pod.payload["metadata"]["namespace"], "pod": pod.payload["metadata"]["name"],
        "container": "app", "lines": lines, "previous": True, "source": "watch"},
        "2026-11-20T10:06:00Z", "watch:logs")
    sink = make_sink("kafka", cfg)
    stats = sink.write([pod, log])
    sink.close()
    assert (stats.observations, stats.rejected) == (2, [])

    topics = topics_for(cfg)
    (message,) = read_topic(cfg, topics.container_logs)
    assert schema_errors(json.loads(message.value()), json_schema(message.topic())) == []
    assert message.key() == f"Pod/{log.payload['namespace']}/{log.payload['pod']}".encode()

    totals = Builder(cfg, Neo4jWriter(graph)).run(once=True)
    assert (totals.observations, totals.dead_lettered) == (2, 0)
    stored = graph.execute_query(
        "MATCH (:Pod {name: $pod})-[:LOGGED]->(l:ContainerLog) RETURN l.container AS container, l.lines AS lines",
        pod=log.payload["pod"]).records
    assert [(r["container"], r["lines"]) for r in stored] == [("app", lines)]


@pytest.mark.kafka
@pytest.mark.neo4j
def test_poison_message_is_dead_lettered_and_later_messages_still_reach_the_graph(cfg, graph):
    KafkaSink(cfg).close()  # creates the topics
    topics = topics_for(cfg)
    first, later = stream()[1], stream()[2]  # a Deployment and its ReplicaSet
    no_start = dict(_helm_run("app0", "team0", 4000, "EXITED").payload, started_at=None)
    poison = [
        (topics.k8s, later.payload["metadata"]["uid"], b"\xff\x00{not json at all"),
        (topics.k8s, "x", b'{"schema": 1, "kind": "k8s", "action": "ADDED"}'),
        (topics.processes, "team0/app0", json.dumps(Observation(
            "helm_process", "EXITED", no_start, "2026-11-20T10:05:00Z", "test").to_json()).encode()),
    ]
    delivered: dict[bytes, tuple[str, int, int]] = {}
    producer = Producer({"bootstrap.servers": cfg.kafka_bootstrap, "enable.idempotence": True})

    def note(error, message):
        assert error is None
        delivered[message.value()] = (message.topic(), message.partition(), message.offset())

    producer.produce(topics.k8s, messages.encode(first), first.payload["metadata"]["uid"], on_delivery=note)
    for topic, key, value in poison:
        producer.produce(topic, value, key, headers=[("trace", b"t-1")], on_delivery=note)
    # Same key as the first poison: it sits behind it in the same partition.
    producer.produce(topics.k8s, messages.encode(later), later.payload["metadata"]["uid"], on_delivery=note)
    assert producer.flush(30) == 0

    builder = Builder(cfg, Neo4jWriter(graph))
    totals = builder.run(once=True)
    assert (totals.messages, totals.dead_lettered) == (5, 3)

    with graph.session() as session:
        uids = {r["uid"] for r in session.run("MATCH (o:Object) RETURN o.uid AS uid")}
    assert {first.payload["metadata"]["uid"], later.payload["metadata"]["uid"]} <= uids

    letters = read_topic(cfg, topics.deadletter)
    assert len(letters) == 3
    by_bytes = {}
    for letter in letters:
        envelope = json.loads(letter.value())
        assert schema_errors(envelope, json_schema(topics.deadletter)) == []
        original = messages.read_dead_letter(letter.value())["original"]["value"]
        by_bytes[original] = (envelope, dict(letter.headers()))
    assert set(by_bytes) == {value for _, _, value in poison}  # the original bytes, exactly
    expected_reasons = ["parse: message value is not UTF-8", "parse: observation lacks payload",
                        "write: record has no started_at"]
    for (_topic, key, value), expected in zip(poison, expected_reasons, strict=True):
        envelope, headers = by_bytes[value]
        stage, reason = expected.split(": ", 1)
        assert envelope["stage"] == stage and reason in envelope["reason"]
        assert (envelope["source"]["topic"], envelope["source"]["partition"], envelope["source"]["offset"]) \
            == delivered[value]
        assert base64.b64decode(envelope["source"]["key_base64"]) == key.encode()
        assert envelope["original"]["headers"] == [{"name": "trace", "value_base64": "dC0x"}]
        assert headers["kgrca-dlq-offset"] == str(delivered[value][2]).encode()
        assert reason.encode() in headers["kgrca-dlq-reason"]
    assert metric(builder, "kgrca_build_dead_lettered_total", stage="parse") == 2
    assert metric(builder, "kgrca_build_dead_lettered_total", stage="write") == 1


class BoltProxy:
    """A TCP proxy on loopback in front of Neo4j's Bolt port. ``cut()`` closes every connection and
    stops listening, so the builder meets exactly what a stopped Neo4j gives it (connection refused);
    ``restore()`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listening.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        self._listening.clear()
        time.sleep(0.3)  # the accept loop notices and closes the listener
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(self.target)
                with self._lock:
                    self._sockets.update((client, upstream))
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.mark.kafka
@pytest.mark.neo4j
def test_neo4j_outage_mid_stream_loses_and_doubles_nothing(cfg, graph, reference):
    """Neo4j goes away after the first batch and comes back after several failed attempts.

    The outage is a TCP proxy on loopback in front of the test's Neo4j, cut and restored, rather than
    a stopped and restarted throwaway Neo4j: `kgrca servers down neo4j && kgrca servers up neo4j` took
    172 s on this 2-core machine (the brief's bound is 60 s), and to the builder both are the same
    dropped and refused connections. The shared Neo4j itself is never stopped.
    """
    publisher = producer(cfg)  # what `kgrca trace --sink kafka` publishes with
    publisher.send(list(stream()))
    publisher.close()
    host, port = cfg.neo4j_uri.split("://", 1)[1].rsplit(":", 1)
    proxy = BoltProxy((host, int(port)))
    # Small batches so the outage falls mid-stream; a short driver retry so the builder's own pause
    # and backoff do the waiting.
    driver = neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{proxy.port}",
                                        auth=(cfg.neo4j_user, cfg.neo4j_password),
                                        connection_timeout=2, max_transaction_retry_time=0.5)
    at_cut: list[int] = []

    def first_batch_done(records):
        if not at_cut:
            at_cut.append(builder.totals.messages)
            proxy.cut()

    builder = Builder(cfg.replace(build_batch=20), Neo4jWriter(driver, batch_size=20),
                      on_committed=first_batch_done, max_backoff=1.0)

    def restore_after_retries():
        deadline = time.monotonic() + 120
        while builder.totals.retries < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proxy.restore()

    restorer = threading.Thread(target=restore_after_retries, daemon=True)
    restorer.start()
    try:
        totals = builder.run(once=True)
    finally:
        restorer.join(130)
        driver.close()
        proxy.cut()
    assert at_cut and at_cut[0] < len(stream())  # the outage began mid-stream
    assert totals.retries >= 3 and metric(builder, "kgrca_build_neo4j_retries_total") == totals.retries
    # Every message read exactly once: pausing kept the batch in hand and skipped nothing.
    assert totals.messages == len(stream())
    assert fingerprint(graph) == reference


@pytest.mark.kafka
@pytest.mark.neo4j
def test_builder_killed_mid_batch_and_restarted_gives_the_same_graph(cfg, graph, reference, tmp_path):
    KafkaSink(cfg).write(stream())
    env = {**os.environ, **cfg.environ(), "KGRCA_BATCH_SIZE": "10", "KGRCA_BUILD_BATCH": "10"}
    port = free_port()
    command = [sys.executable, "-m", "faces.cli", "build", "--metrics-host", "127.0.0.1"]
    offsets = Offsets(cfg)
    log = (tmp_path / "build.log").open("w")
    first = subprocess.Popen([*command, "--metrics-port", str(port)], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while (done := offsets.committed()) == 0 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        alive = first.poll() is None
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert alive and 0 < done < len(stream()), (tmp_path / "build.log").read_text()[-2000:]
        for name in ("kgrca_build_messages_total", "kgrca_build_batch_seconds_bucket",
                     "# TYPE kgrca_build_consumer_lag gauge", "kgrca_build_dead_lettered_total",
                     "kgrca_build_neo4j_retries_total"):
            assert name in page

        again = subprocess.run([*command, "--once", "--metrics-port", "0"], env=env, capture_output=True,
                               text=True, timeout=240)
        assert again.returncode == 0, again.stderr[-2000:]
        assert offsets.committed() == len(stream())
    finally:
        if first.poll() is None:
            first.kill()
        offsets.close()
        log.close()
    assert fingerprint(graph) == reference


@pytest.mark.kafka
@pytest.mark.neo4j
def test_build_says_in_one_line_when_kafka_does_not_answer(cfg, graph):
    env = {**os.environ, **cfg.environ(), "KGRCA_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}
    done = subprocess.run([sys.executable, "-m", "faces.cli", "build", "--once", "--metrics-port", "0"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("kgrca: Kafka is not answering at 127.0.0.1:") and "kgrca servers up kafka" in last
    assert "Traceback" not in done.stderr


@pytest.mark.kafka
@pytest.mark.neo4j
def test_build_says_in_one_line_when_the_metrics_port_is_taken(cfg, graph):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "faces.cli", "build", "--once", "--metrics-host", "127.0.0.1",
                               "--metrics-port", str(port)],
                              env={**os.environ, **cfg.environ()}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"kgrca: cannot serve metrics on 127.0.0.1:{port}: Address already in use; "
                                   f"choose another port with --metrics-port, or 0 for none")


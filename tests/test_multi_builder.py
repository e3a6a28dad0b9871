"""Many producers, many builders (#20): two clusters publish to the same topics, two `kgrca build` processes share
the partitions as one consumer group, one of them is killed (SIGKILL) mid-stream, and the graph still holds every
object once, in its last state, with each cluster's same-named release apart and diagnosed.

The two producers are the sink `kgrca watch --sink kafka` publishes through (KafkaSink), each stamping its own
cluster on recorded observations: the golden scenario hook_image_pull (release prod/api) and a stream of updates
to pods whose names *and uids* are the same in both clusters, as two watchers of one API server would see them,
so only the cluster keeps them apart. Real Kafka, real Neo4j, the real `kgrca build` command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from kg_builder.schema import apply_schema
from kgrca.bus.producer import KafkaSink
from kgrca.clusters import stamped
from kgrca.contracts import Observation
from rca.runner import Detector
from tests.scenarios import suite

ROOT = Path(__file__).resolve().parents[1]
HOOK = suite.load(ROOT / "tests" / "scenarios" / "hook_image_pull")
CLUSTERS = ("eu-1", "us-2")
PODS = 150
STEPS = 6  # updates per pod; the builders see them in order per pod, the graph keeps the last
WAIT = 600.0


def _pod(i: int, step: int) -> dict:
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {
        "name": f"load-{i}", "namespace": "load", "uid": f"00000000-0000-4000-8000-{i:012d}",
        "resourceVersion": str(1000 + step * PODS + i), "labels": {"step": str(step)},
        "creationTimestamp": "2026-11-20T10:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]},
        "status": {"phase": "Running" if step == STEPS - 1 else "Pending"}}


def _steps(steps: range, cluster: str) -> list[Observation]:
    return [Observation("k8s", "MODIFIED", _pod(i, step), f"2026-11-20T10:{step:02d}:00Z", f"load:{i}", cluster)
            for step in steps for i in range(PODS)]


def _publish(cfg, cluster: str, observations: list[Observation]) -> None:
    sink = KafkaSink(cfg)
    try:
        for start in range(0, len(observations), 200):
            stats = sink.write(observations[start:start + 200])
            assert stats.rejected == []
    finally:
        sink.close()


def _both(cfg, make) -> None:
    """Both clusters' producers at once, as two watchers would publish."""
    threads = [threading.Thread(target=_publish, args=(cfg, cluster, make(cluster))) for cluster in CLUSTERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _final(driver, db) -> dict[str, int]:
    """Per cluster, how many load pods are in their last state."""
    rows = driver.execute_query(
        "MATCH (p:Pod {namespace: 'load'}) WHERE 'step=' + $last IN p.label_pairs AND p.phase = 'Running' "
        "RETURN p.cluster AS cluster, count(*) AS n", last=str(STEPS - 1), database_=db).records
    return {r["cluster"]: r["n"] for r in rows}


def _members(cfg) -> dict[str, int]:
    """Members of the builders' group and how many partitions each holds."""
    admin = AdminClient({"bootstrap.servers": cfg.kafka_bootstrap})
    try:
        described = admin.describe_consumer_groups([cfg.kafka_group])[cfg.kafka_group].result(timeout=30)
    except (KafkaException, TimeoutError):  # the group's coordinator is still being chosen: ask again
        return {}
    return {m.member_id: len(m.assignment.topic_partitions) for m in described.members}


def _wait(predicate, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
        time.sleep(1)


@pytest.mark.neo4j
@pytest.mark.kafka
def test_two_clusters_two_builders_one_killed(neo4j_driver, neo4j_config, kafka_config, kafka_topic_prefix,
                                              tmp_path):
    db = neo4j_config.neo4j_database
    cfg = neo4j_config.replace(kafka_bootstrap=kafka_config.kafka_bootstrap, kafka_topic_prefix=kafka_topic_prefix,
                               kafka_group=f"{kafka_topic_prefix}-builders")
    apply_schema(neo4j_driver, db)
    KafkaSink(cfg).close()  # the topics exist before the builders subscribe
    env = {**os.environ, "KGRCA_NEO4J_URI": cfg.neo4j_uri, "KGRCA_KAFKA_BOOTSTRAP": cfg.kafka_bootstrap,
           "KGRCA_KAFKA_TOPIC_PREFIX": cfg.kafka_topic_prefix, "KGRCA_KAFKA_GROUP": cfg.kafka_group,
           "KGRCA_BUILD_BATCH": "100"}  # small batches, so a kill falls between a write and its commit
    builders = [subprocess.Popen([sys.executable, "-m", "faces.cli", "build", "--metrics-port", "0"], env=env,
                                 cwd=ROOT, stdout=open(tmp_path / f"b{n}.out", "w"), stderr=subprocess.STDOUT)
                for n in range(2)]
    try:
        _wait(lambda: (lambda m: len(m) == 2 and all(m.values()))(_members(cfg)),
              "two builders sharing the partitions", 180)
        recorded, problems = suite.observations(HOOK)
        assert not problems
        _both(cfg, lambda cluster: list(stamped(recorded, cluster)) + _steps(range(0, STEPS - 2), cluster))
        _wait(lambda: neo4j_driver.execute_query("MATCH (p:Pod {namespace: 'load'}) RETURN count(p) AS n",
                                                 database_=db).records[0]["n"] > 0, "the first writes")
        builders[0].send_signal(signal.SIGKILL)  # mid-stream: what it wrote but did not commit is redelivered
        builders[0].wait(30)
        _both(cfg, lambda cluster: _steps(range(STEPS - 2, STEPS), cluster))
        _wait(lambda: _final(neo4j_driver, db) == {c: PODS for c in CLUSTERS}, "every pod in its last state")
        assert len(_members(cfg)) == 1  # the survivor took the killed builder's partitions
    finally:
        for builder in builders:
            if builder.poll() is None:
                builder.terminate()
                builder.wait(60)

    # nothing lost, nothing doubled: one node per object per cluster, in its last state
    pods = neo4j_driver.execute_query(
        "MATCH (p:Pod {namespace: 'load'}) RETURN p.cluster AS cluster, p.uid AS uid, p.rv AS rv", database_=db)
    assert len(pods.records) == PODS * len(CLUSTERS)
    assert {(r["cluster"], r["uid"], r["rv"]) for r in pods.records} == {
        (c, f"{c}:00000000-0000-4000-8000-{i:012d}", 1000 + (STEPS - 1) * PODS + i) for c in CLUSTERS
        for i in range(PODS)}
    census = neo4j_driver.execute_query(
        "MATCH (n) WHERE n:Object OR n:Event OR n:Revision OR n:Hook OR n:Condition OR n:ContainerState "
        "WITH n, split(coalesce(n.key, n.uid), ':')[0] AS cluster WHERE cluster IN $clusters "
        "RETURN cluster, [l IN labels(n) WHERE l <> 'Object'][0] AS label, count(*) AS n",
        clusters=list(CLUSTERS), database_=db).records
    by_label: dict[str, dict[str, int]] = {}
    for row in census:
        by_label.setdefault(row["label"], {})[row["cluster"]] = row["n"]
    assert by_label and all(counts.get("eu-1") == counts.get("us-2") for counts in by_label.values()), by_label

    # the two clusters' releases prod/api are two Release nodes, each diagnosed in its own cluster
    releases = neo4j_driver.execute_query("MATCH (r:Release {name: 'api', namespace: 'prod'}) "
                                          "RETURN r.key AS key, r.cluster AS cluster", database_=db).records
    assert {(r["key"], r["cluster"]) for r in releases} == {(f"{c}:prod/api", c) for c in CLUSTERS}
    detector = Detector(neo4j_driver, cfg)
    for cluster in CLUSTERS:
        best = detector.run(f"{cluster}:prod/api", HOOK.now).diagnoses[0]
        assert (best.pattern, best.release["cluster"]) == ("hook_image_pull", cluster)

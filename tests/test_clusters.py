"""Cluster identity (#20): what one cluster wrote never merges with another's, and an old graph can take a name.

The same recorded scenario written as the unnamed cluster and as two named clusters gives three of everything,
with no relationship between two clusters' nodes; each release is diagnosed in its own cluster. A graph written
before clusters were named keeps its keys (every golden scenario runs unnamed), and ``kgrca db migrate`` turns it
into exactly the graph a named watcher would have written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg_builder.migrate import migrate
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca import clusters, keys
from kgrca.bus import messages
from kgrca.contracts import KgrcaError, Observation, PermanentError
from rca.clusters import of_cluster, resolve_release
from rca.runner import Detector
from tests.scenarios import suite

ROOT = Path(__file__).resolve().parents[1]
HOOK = suite.load(ROOT / "tests" / "scenarios" / "hook_image_pull")  # release prod/api, a pre-upgrade hook
WAIT = suite.load(ROOT / "tests" / "scenarios" / "rec_wait_timeout")  # a recorded helm run with its process


def _pod(uid: str = "u-1", name: str = "web-0") -> dict:
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "prod", "uid": uid, "labels": {"uid": "label-value"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "web", "uid": "rs-1"}]}}


def test_keys_carry_a_named_cluster_and_leave_the_unnamed_one_as_it_was():
    assert keys.release_key("prod", "api") == "prod/api"
    assert keys.resource_ref("Node", None, "n1") == "Node//n1"
    with keys.in_cluster("eu-1"):
        assert keys.release_key("prod", "api") == "eu-1:prod/api"
        assert keys.hook_key("prod", "api", 7, "Job", "migrate") == "eu-1:prod/api/7/Job/migrate"
        assert keys.resource_ref("Node", None, "n1") == "eu-1:Node//n1"
        assert keys.unqualify("eu-1:prod/api") == "prod/api"
    assert keys.release_key("prod", "api") == "prod/api"  # the context ends with the block


def test_a_named_clusters_uids_are_its_own_and_user_maps_are_untouched():
    observation = Observation("k8s", "ADDED", _pod(), "2026-11-20T10:00:00Z", "t", cluster="eu-1")
    scoped = keys.scoped(observation).payload
    assert scoped["metadata"]["uid"] == "eu-1:u-1"
    assert scoped["metadata"]["ownerReferences"][0]["uid"] == "eu-1:rs-1"
    assert scoped["metadata"]["labels"] == {"uid": "label-value"}  # a label called uid is the user's
    assert observation.payload["metadata"]["uid"] == "u-1"  # a copy: writing it again gives the same keys
    unnamed = Observation("k8s", "ADDED", _pod(), "2026-11-20T10:00:00Z", "t")
    assert keys.scoped(unnamed) is unnamed


def test_messages_without_a_cluster_still_read_and_names_are_checked():
    old = {"schema": 1, "kind": "k8s", "action": "ADDED", "payload": _pod(), "observed_at": "2026-11-20T10:00:00Z"}
    assert Observation.from_json(old).cluster == ""
    named = Observation.from_json({**old, "cluster": "eu-1"})
    assert named.cluster == "eu-1" and named.to_json()["cluster"] == "eu-1"
    assert "cluster" not in Observation.from_json(old).to_json()  # the unnamed cluster's messages are as before
    assert messages.decode(messages.encode(named)).cluster == "eu-1"
    for bad in ("eu/1", "a b", ":x", "-x", "x" * 64):
        with pytest.raises(PermanentError, match="cluster name"):
            Observation.from_json({**old, "cluster": bad})


def test_partition_keys_are_per_cluster_and_object():
    pod = Observation("k8s", "MODIFIED", _pod(), "2026-11-20T10:00:00Z")
    assert messages.key(pod) == "u-1"
    assert messages.key(Observation("k8s", "MODIFIED", _pod(), "2026-11-20T10:00:00Z", cluster="eu-1")) == "eu-1:u-1"
    process = Observation("helm_process", "EXITED", {"operation_id": "h:1", "release": "api", "namespace": "prod"},
                          "2026-11-20T10:00:00Z", cluster="us-2")
    assert messages.key(process) == "us-2:prod/api"


def test_watch_names_the_cluster_after_the_kubeconfig_context(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "arn:aws:eks:eu-west-1:123:cluster/prod",
        "contexts": [{"name": "arn:aws:eks:eu-west-1:123:cluster/prod", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {}}]}))
    assert clusters.from_kubeconfig(str(kubeconfig)) == "arn-aws-eks-eu-west-1-123-cluster-prod"
    assert clusters.from_kubeconfig(str(tmp_path / "missing")) == ""


def _write(driver, cfg, scenario, cluster: str = "") -> None:
    read, problems = suite.observations(scenario)
    assert not problems
    stats = Neo4jWriter(driver, batch_size=cfg.batch_size, database=cfg.neo4j_database).write(
        clusters.stamped(read, cluster))
    assert stats.rejected == []


def _prefix(value: str, names: set[str]) -> str:
    head, colon, _ = value.partition(":")
    return head if colon and head in names else ""


# Every relationship between two nodes that belong to a cluster, with the keys that say which cluster each is in.
CROSSING = """
MATCH (a)-[r]->(b)
WHERE (a:Release OR a:Revision OR a:Hook OR a:Object OR a:Resource OR a:Event OR a:ContainerState OR a:Condition)
  AND (b:Release OR b:Revision OR b:Hook OR b:Object OR b:Resource OR b:Event OR b:ContainerState OR b:Condition)
RETURN type(r) AS rel, coalesce(a.key, a.uid, a.ref) AS a, coalesce(b.key, b.uid, b.ref) AS b
"""


@pytest.mark.neo4j
def test_two_clusters_with_the_same_release_stay_apart_and_each_is_diagnosed(neo4j_driver, neo4j_config):
    cfg = neo4j_config
    apply_schema(neo4j_driver, cfg.neo4j_database)
    for cluster in ("", "eu-1", "us-2"):
        _write(neo4j_driver, cfg, HOOK, cluster)
    releases = neo4j_driver.execute_query("MATCH (r:Release) RETURN r.key AS key, r.cluster AS cluster",
                                          database_=cfg.neo4j_database).records
    assert {(r["key"], r["cluster"]) for r in releases} == {
        ("prod/api", None), ("eu-1:prod/api", "eu-1"), ("us-2:prod/api", "us-2")}
    counts = neo4j_driver.execute_query(
        "MATCH (n:Object) RETURN coalesce(n.cluster, '') AS cluster, count(*) AS n", database_=cfg.neo4j_database)
    by_cluster = {r["cluster"]: r["n"] for r in counts.records}
    assert set(by_cluster) == {"", "eu-1", "us-2"} and len(set(by_cluster.values())) == 1, by_cluster
    links = neo4j_driver.execute_query(CROSSING, database_=cfg.neo4j_database).records
    names = {"eu-1", "us-2"}
    crossing = [(r["rel"], r["a"], r["b"]) for r in links if _prefix(r["a"], names) != _prefix(r["b"], names)]
    assert links and crossing == []

    detector = Detector(neo4j_driver, cfg)
    for cluster in (None, "eu-1", "us-2"):
        key = resolve_release(neo4j_driver, cfg.neo4j_database, "prod", "api", cluster)
        best = detector.run(key, HOOK.now).diagnoses[0]
        assert best.pattern == "hook_image_pull"
        assert best.release["cluster"] == cluster and best.release["name"] == "api"
        assert best.to_json()["release"]["cluster"] == cluster
    everything = detector.run(None, HOOK.now).diagnoses
    for cluster in ("", "eu-1", "us-2"):
        mine = of_cluster(everything, cluster)
        assert [d.pattern for d in mine if d.release][0] == "hook_image_pull"
        assert len(mine) * 3 == len(everything)  # the same story, once in each cluster
    with pytest.raises(KgrcaError, match="no release prod/api of cluster eu-9"):
        resolve_release(neo4j_driver, cfg.neo4j_database, "prod", "api", "eu-9")


@pytest.mark.neo4j
def test_diagnose_command_takes_the_cluster(neo4j_driver, neo4j_config):
    cfg = neo4j_config
    apply_schema(neo4j_driver, cfg.neo4j_database)
    for cluster in ("eu-1", "us-2"):
        _write(neo4j_driver, cfg, HOOK, cluster)
    env = {**os.environ, "KGRCA_NEO4J_URI": cfg.neo4j_uri}
    now = HOOK.now.isoformat()

    def diagnose(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "faces.cli", "diagnose", "--now", now, *args],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)

    ambiguous = diagnose("--release", "prod/api")
    assert ambiguous.returncode == 1 and "several clusters (eu-1, us-2)" in ambiguous.stderr
    done = diagnose("--release", "prod/api", "--cluster", "us-2", "--json")
    assert done.returncode == 3, done.stderr
    found = json.loads(done.stdout)
    assert found[0]["pattern"] == "hook_image_pull"
    assert {d["release"]["cluster"] for d in found if d["release"]} == {"us-2"}


@pytest.mark.neo4j
def test_migrate_names_an_old_graph_as_a_named_watcher_would_have_written_it(neo4j_driver, neo4j_config):
    cfg, db = neo4j_config, neo4j_config.neo4j_database
    apply_schema(neo4j_driver, db)
    for scenario in (HOOK, WAIT):
        _write(neo4j_driver, cfg, scenario)  # written before clusters had names

    def census() -> dict[str, int]:
        rows = neo4j_driver.execute_query("MATCH (n) RETURN labels(n) AS l, count(*) AS n UNION ALL "
                                          "MATCH ()-[r]->() RETURN [type(r)] AS l, count(*) AS n", database_=db)
        return {":".join(sorted(r["l"])): r["n"] for r in rows.records}

    before = census()
    done = migrate(neo4j_driver, "eu-1", db)
    assert done.rewritten["Release"] == 2 and done.rewritten["Object"] > 0 and done.rewritten["HelmOperation"] >= 1
    assert census() == before  # renamed, nothing added or lost
    unnamed = neo4j_driver.execute_query("""
        MATCH (n) WHERE (n:Release OR n:Revision OR n:Hook OR n:Resource OR n:ContainerState OR n:Condition)
          AND NOT n[CASE WHEN n:Resource THEN 'ref' ELSE 'key' END] STARTS WITH 'eu-1:'
        RETURN count(n) AS n UNION ALL
        MATCH (n) WHERE (n:Object OR n:Event) AND NOT n.uid STARTS WITH 'eu-1:' RETURN count(n) AS n""",
                                         database_=db).records
    assert [r["n"] for r in unnamed] == [0, 0]
    assert neo4j_driver.execute_query("MATCH (r:Release {key: 'eu-1:prod/api'}) RETURN r.cluster AS c",
                                      database_=db).records[0]["c"] == "eu-1"

    # The named watcher's own writes land on the migrated nodes: the same input again adds nothing.
    for scenario in (HOOK, WAIT):
        _write(neo4j_driver, cfg, scenario, "eu-1")
    assert census() == before
    assert migrate(neo4j_driver, "eu-2", db).total == 0  # nothing unnamed is left
    with pytest.raises(KgrcaError, match="already in the graph"):
        migrate(neo4j_driver, "eu-1", db)

    best = Detector(neo4j_driver, cfg).run("eu-1:prod/api", HOOK.now).diagnoses[0]
    assert best.pattern == "hook_image_pull" and best.release["cluster"] == "eu-1"


@pytest.mark.neo4j
def test_rest_api_serves_each_cluster_and_the_one_cluster_routes_still_answer(neo4j_driver, neo4j_config):
    from faces.api.app import close_app, create_app

    cfg = neo4j_config
    apply_schema(neo4j_driver, cfg.neo4j_database)
    _write(neo4j_driver, cfg, HOOK, "eu-1")
    app = create_app(cfg, driver=neo4j_driver)
    client = app.test_client()
    now = HOOK.now.isoformat().replace("+00:00", "Z")
    try:
        # one cluster in the graph: the one-cluster routes find its release
        assert client.get("/api/v1/releases/prod/api/revisions").get_json()["release"] == "eu-1:prod/api"
        _write(neo4j_driver, cfg, HOOK, "us-2")
        ambiguous = client.get("/api/v1/releases/prod/api")
        assert ambiguous.status_code == 400 and "eu-1, us-2" in ambiguous.get_json()["error"]
        found = client.get(f"/api/v1/clusters/us-2/releases/prod/api/diagnosis?now={now}")
        assert found.status_code == 200, found.get_json()
        assert found.get_json()[0]["pattern"] == "hook_image_pull"
        assert found.get_json()[0]["release"]["cluster"] == "us-2"
        assert client.get("/api/v1/clusters/eu-1/releases/prod/api/timeline").get_json()["release"] == "eu-1:prod/api"
        assert client.get("/api/v1/clusters/eu-9/releases/prod/api").status_code == 404
        assert client.get("/api/v1/clusters/bad:name/releases/prod/api").status_code == 400
    finally:
        close_app(app)

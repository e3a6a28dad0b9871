"""The graph kg_builder writes, on a real Neo4j: chains a diagnosis walks, idempotency, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kg_builder.times import parse_time
from kg_builder.writer import Neo4jWriter, apply_schema
from kgrca.commands.db import graph_counts
from kgrca.contracts import Observation
from tests import factories as f

pytestmark = pytest.mark.neo4j


def obs(obj, action="ADDED", at="2026-11-20T10:05:00Z"):
    return Observation("k8s", action, obj, at, f"test:{obj['kind']}/{obj['metadata']['name']}")


@pytest.fixture
def writer(neo4j_driver):
    apply_schema(neo4j_driver)
    return Neo4jWriter(neo4j_driver, batch_size=7)  # small batches so tests cross batch boundaries


def epoch(text: str) -> int:
    return int(parse_time(text).timestamp())


def one(driver, query, **params):
    with driver.session() as session:
        return session.run(query, **params).single()


def failed_hook_upgrade():
    """Revision 7 of prod/api: a pre-upgrade hook Job whose pod cannot pull its image."""
    deploy = f.deployment("api", release="api")
    rs = f.replicaset(deploy)
    app_pod = f.pod("api-7d4b9c-x1", owner_obj=rs, labels={"app": "api"})
    hook_job = f.job("api-migrate", hook="pre-upgrade", failed=1, failed_reason="BackoffLimitExceeded",
                     created="2026-11-20T10:00:02Z")
    hook_pod = f.pod("api-migrate-abcde", owner_obj=hook_job, phase="Pending", ready=False,
                     image="registry.example/migrate:404", waiting="ImagePullBackOff",
                     waiting_message='Back-off pulling image "registry.example/migrate:404"',
                     created="2026-11-20T10:00:03Z")
    rev6 = f.release_json("api", "prod", 6, "deployed", description="Upgrade complete",
                          manifest=f.manifest(("apps/v1", "Deployment", "api"), ("v1", "Service", "api")),
                          last_deployed="2026-11-19T10:00:00Z")
    rev7 = f.release_json("api", "prod", 7, "failed",
                          description='Upgrade "api" failed: pre-upgrade hooks failed: 1 error occurred:\n\t* '
                                      'job api-migrate failed: BackoffLimitExceeded',
                          manifest=f.manifest(("apps/v1", "Deployment", "api"), ("v1", "Service", "api")),
                          hooks=[f.hook("api-migrate", ["pre-upgrade"], phase="Failed",
                                        started="2026-11-20T10:00:01.5Z", completed="2026-11-20T10:05:00Z")],
                          config={"image": {"tag": "2.0"}, "db": {"password": "s3cret-value"}},
                          last_deployed="2026-11-20T10:00:00Z")
    pull = f.event(hook_pod, "Failed", 'Failed to pull image "registry.example/migrate:404": manifest unknown')
    backoff = f.event(hook_pod, "BackOff", 'Back-off pulling image "registry.example/migrate:404"', count=12)
    objects = [deploy, rs, app_pod, hook_job, hook_pod, f.release_secret(rev6), f.release_secret(rev7),
               pull, backoff]
    return [obs(o) for o in objects]


def test_pod_to_release_through_hook_job_and_revision(neo4j_driver, writer):
    stats = writer.write(failed_hook_upgrade())
    assert stats.rejected == []
    row = one(neo4j_driver, """
        MATCH (p:Pod {name: 'api-migrate-abcde'})-[:OWNED_BY]->(j:Job)<-[:RAN_AS]-(h:Hook)
              <-[:HAS_HOOK]-(rev:Revision)<-[:HAS_REVISION]-(rel:Release)
        RETURN j.name AS job, j.failed_reason AS reason, h.phase AS phase, h.events AS events,
               rev.version AS version, rev.status AS status, rel.key AS release, rel.status AS release_status,
               rel.latest_version AS latest""")
    assert dict(row) == {"job": "api-migrate", "reason": "BackoffLimitExceeded", "phase": "Failed",
                         "events": ["pre-upgrade"], "version": 7, "status": "failed", "release": "prod/api",
                         "release_status": "failed", "latest": 7}


def test_pod_to_deployment_and_the_release_that_manages_it(neo4j_driver, writer):
    writer.write(failed_hook_upgrade())
    row = one(neo4j_driver, """
        MATCH (p:Pod {name: 'api-7d4b9c-x1'})-[:OWNED_BY]->(rs:ReplicaSet)-[:OWNED_BY]->(d:Deployment)
              <-[:MANAGES]-(rel:Release)
        MATCH (p)-[:SCHEDULED_ON]->(n:Resource)
        RETURN rs.name AS rs, d.name AS deployment, rel.key AS release, n.ref AS node""")
    assert dict(row) == {"rs": "api-7d4b9c", "deployment": "api", "release": "prod/api",
                         "node": "Node//kwok-node-0"}


def test_revisions_declare_their_manifest_and_supersede_each_other(neo4j_driver, writer):
    writer.write(failed_hook_upgrade())
    row = one(neo4j_driver, """
        MATCH (r7:Revision {key: 'prod/api/7'})-[:SUPERSEDES]->(r6:Revision {key: 'prod/api/6'})
        MATCH (r7)-[d:DECLARES]->(res:Resource)
        OPTIONAL MATCH (res)<-[:INSTANCE_OF]-(live:Object)
        RETURN r6.status AS previous, collect(res.ref + '=' + coalesce(live.name, 'missing')) AS declared,
               r7.values_keys AS keys""")
    assert row["previous"] == "deployed"
    assert sorted(row["declared"]) == ["Deployment/prod/api=api", "Service/prod/api=missing"]
    assert row["keys"] == ["db.password", "image.tag"]


def test_events_hang_on_their_object_with_their_times(neo4j_driver, writer):
    writer.write(failed_hook_upgrade())
    row = one(neo4j_driver, """
        MATCH (e:Event {reason: 'BackOff'})-[:ABOUT]->(p:Pod)
        RETURN p.name AS pod, e.count AS count, e.type AS type, e.last_seen.epochSeconds AS seen""")
    assert (row["pod"], row["count"], row["type"]) == ("api-migrate-abcde", 12, "Warning")
    assert row["seen"] == epoch("2026-11-20T10:01:00Z")


def test_container_history_keeps_each_state(neo4j_driver, writer):
    created = "2026-11-20T10:00:00Z"
    crashing = f.pod("web-1", restarts=3, waiting="CrashLoopBackOff", ready=False,
                     last_terminated={"exitCode": 137, "reason": "OOMKilled", "startedAt": created,
                                      "finishedAt": "2026-11-20T10:03:00Z"}, rv=10)
    running = f.pod("web-1", restarts=3, rv=11)
    writer.write([obs(crashing), obs(running, "MODIFIED")])
    states = neo4j_driver.execute_query("""
        MATCH (:Pod {name: 'web-1'})-[:HAD_STATE]->(s:ContainerState)
        RETURN s.state AS state, s.reason AS reason, s.exit_code AS code ORDER BY s.at, s.state""").records
    assert {(r["state"], r["reason"], r["code"]) for r in states} == {
        ("waiting", "CrashLoopBackOff", None), ("terminated", "OOMKilled", 137), ("running", "Running", None)}
    pod_now = one(neo4j_driver, "MATCH (p:Pod {name: 'web-1'}) RETURN p.ready AS ready, p.restarts AS restarts")
    assert (pod_now["ready"], pod_now["restarts"]) == (True, 3)


def test_a_stale_replay_does_not_move_an_object_backwards(neo4j_driver, writer):
    newer = f.pod("web-2", rv=20)
    older = f.pod("web-2", waiting="ImagePullBackOff", ready=False, rv=19)
    writer.write([obs(newer)])
    writer.write([obs(older, "MODIFIED")])
    row = one(neo4j_driver, "MATCH (p:Pod {name: 'web-2'}) RETURN p.ready AS ready, p.waiting_reasons AS w")
    assert (row["ready"], row["w"]) == (True, [])


def test_writing_twice_gives_the_same_graph(neo4j_driver, writer):
    observations = failed_hook_upgrade()
    writer.write(observations)
    first = graph_counts(neo4j_driver)
    writer.write(observations)
    writer.write(list(reversed(observations)))
    assert graph_counts(neo4j_driver) == first
    assert first["Release"] == 1 and first["Revision"] == 2 and first["Event"] == 2


def test_deleted_objects_stay_with_deleted_at(neo4j_driver, writer):
    job = f.job("cleanup")
    writer.write([obs(job), obs(job, "DELETED", at="2026-11-20T11:00:00Z")])
    row = one(neo4j_driver, "MATCH (j:Job {name: 'cleanup'}) RETURN j.deleted_at.epochSeconds AS gone")
    assert row["gone"] == epoch("2026-11-20T11:00:00Z")


def test_no_release_value_reaches_the_graph(neo4j_driver, writer):
    writer.write(failed_hook_upgrade())
    nodes = neo4j_driver.execute_query("MATCH (n) RETURN properties(n) AS p").records
    rels = neo4j_driver.execute_query("MATCH ()-[r]->() RETURN properties(r) AS p").records
    assert len(nodes) > 20
    assert not [r["p"] for r in nodes + rels if "s3cret-value" in repr(r["p"])]


def test_corrupt_release_is_counted_named_and_the_rest_goes_in(neo4j_driver, writer):
    good = f.release_secret(f.release_json("web", "prod", 1, "deployed"))
    bad = f.release_secret(f.release_json("api", "prod", 3, "deployed"))
    bad["data"]["release"] = bad["data"]["release"][:40]
    stats = writer.write([obs(bad), obs(good)])
    assert len(stats.rejected) == 1
    assert "sh.helm.release.v1.api.v3" in stats.rejected[0][1]
    counts = one(neo4j_driver, """
        MATCH (s:Secret) WITH count(s) AS secrets
        MATCH (r:Revision) RETURN secrets, count(r) AS revisions""")
    assert (counts["secrets"], counts["revisions"]) == (2, 1)


def test_services_select_their_pods_whichever_comes_first(neo4j_driver, writer):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": f.meta("api"),
               "spec": {"selector": {"app": "api"}, "type": "ClusterIP", "clusterIP": "10.0.0.10"}}
    early = f.pod("api-a", labels={"app": "api", "pod-template-hash": "x"})
    late = f.pod("api-b", labels={"app": "api"})
    other = f.pod("db-a", labels={"app": "db"})
    writer.write([obs(early), obs(service)])
    writer.write([obs(late), obs(other)])
    names = neo4j_driver.execute_query(
        "MATCH (:Service {name: 'api'})-[:SELECTS]->(p:Pod) RETURN p.name AS n ORDER BY n").records
    assert [r["n"] for r in names] == ["api-a", "api-b"]


def test_ingest_command_names_file_and_line_and_loads_the_rest(neo4j_config, neo4j_driver, tmp_path):
    good = f.pod("ok-pod")
    lines = [json.dumps({"type": "ADDED", "object": good}), "{not json", json.dumps({"type": "ADDED"}),
             json.dumps({"type": "ADDED", "object": f.job("ok-job")})]
    watch_file = tmp_path / "events.jsonl"
    watch_file.write_text("\n".join(lines) + "\n")
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [f.deployment("web")]}))
    env = {**os.environ, **neo4j_config.environ()}
    result = subprocess.run([sys.executable, "-m", "kgrca.cli", "ingest", "-q", str(watch_file), str(dump)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert f"{watch_file}:2: not valid JSON" in result.stderr
    assert f"{watch_file}:3: expected a Kubernetes object" in result.stderr
    assert "ingested 3 observations" in result.stdout
    names = neo4j_driver.execute_query("MATCH (o:Object) RETURN o.name AS n ORDER BY n").records
    assert [r["n"] for r in names] == ["ok-job", "ok-pod", "web"]


def test_prune_removes_old_history_and_keeps_releases(neo4j_driver, writer):
    import datetime as dt

    from kg_builder.prune import prune

    writer.write(failed_hook_upgrade())
    gone = f.job("old-cleanup")
    writer.write([obs(gone), obs(gone, "DELETED", at="2026-11-20T10:30:00Z")])
    removed = prune(neo4j_driver, dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC))
    assert removed["events"] == 2 and removed["deleted objects"] == 1
    after = graph_counts(neo4j_driver)
    assert (after["Event"], after["Release"], after["Revision"], after["Hook"]) == (0, 1, 2, 1)
    assert one(neo4j_driver, "MATCH (j:Job {name: 'old-cleanup'}) RETURN count(j) AS n")["n"] == 0

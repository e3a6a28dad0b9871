"""The graph kg_builder writes, on a real Neo4j: chains a diagnosis walks, idempotency, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from faces.commands.db import graph_counts
from kg_builder.schema import apply_schema
from kg_builder.times import parse_time
from kg_builder.writer import Neo4jWriter
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


def test_a_helm4_revision_keeps_its_apply_method(neo4j_driver, writer):
    from tests.test_helm_release import HELM4_RELEASE

    writer.write([obs(f.release_secret(HELM4_RELEASE)), obs(f.release_secret(f.release_json(
        "api", "prod", 1, "deployed")))])
    row = one(neo4j_driver, """
        MATCH (h4:Revision {key: 'e2e-healthy-rollback/cart/3'}), (h3:Revision {key: 'prod/api/1'})
        RETURN h4.apply_method AS helm4, h3.apply_method AS helm3""")
    assert (row["helm4"], row["helm3"]) == ("ssa", None)  # Helm 3 writes no apply method


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


def daemonset(name: str, desired: int, ready: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": f.meta(name),
            "spec": {"selector": {"matchLabels": {"app": name}}},
            "status": {"desiredNumberScheduled": desired, "currentNumberScheduled": desired, "numberReady": ready,
                       "numberAvailable": ready, "updatedNumberScheduled": desired, "observedGeneration": 1}}


def claim(name: str, phase: str) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": f.meta(name),
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                     "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": phase}}


def test_unhealthy_is_set_while_a_workload_or_claim_fails_and_removed_when_it_recovers(neo4j_driver, writer):
    """partial_deployment seeks the indexed unhealthy mark instead of reading every workload's replicas."""
    rolling = f.deployment("web", replicas=3, ready=1)
    unset = f.deployment("worker", ready=0)
    del unset["spec"]["replicas"]  # the API server defaults it to 1
    unset["status"].pop("readyReplicas")
    scaled_down = f.deployment("batch", replicas=0, ready=0)
    failed_job = f.job("reindex", failed=2, failed_reason="BackoffLimitExceeded")
    running_job = f.job("export")
    agents = daemonset("agent", desired=3, ready=2)
    pending, bound = claim("data", "Pending"), claim("logs", "Bound")
    pod = f.pod("web-1", ready=False)
    writer.write([obs(o) for o in (rolling, unset, scaled_down, failed_job, running_job, agents, pending, bound,
                                   pod)])

    def marked() -> list[str]:
        return sorted(r["name"] for r in neo4j_driver.execute_query(
            "MATCH (o:Object {unhealthy: true}) RETURN o.kind + ' ' + o.name AS name").records)

    assert marked() == ["DaemonSet agent", "Deployment web", "Deployment worker", "Job reindex",
                        "PersistentVolumeClaim data"]
    rolling["status"]["readyReplicas"] = 3
    rolling["metadata"]["resourceVersion"] = str(int(rolling["metadata"]["resourceVersion"]) + 1)
    agents["status"]["numberReady"] = 3
    agents["metadata"]["resourceVersion"] = str(int(agents["metadata"]["resourceVersion"]) + 1)
    pending["status"]["phase"] = "Bound"
    pending["metadata"]["resourceVersion"] = str(int(pending["metadata"]["resourceVersion"]) + 1)
    writer.write([obs(rolling, "MODIFIED"), obs(agents, "MODIFIED"), obs(pending, "MODIFIED")])
    assert marked() == ["Deployment worker", "Job reindex"]
    row = one(neo4j_driver, "MATCH (d:Deployment {name: 'web'}) RETURN keys(d) AS keys, d.ready_replicas AS ready")
    assert row["ready"] == 3 and "unhealthy" not in row["keys"]


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
    result = subprocess.run([sys.executable, "-m", "faces.cli", "ingest", "-q", str(watch_file), str(dump)],
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


def busy_cluster() -> list[Observation]:
    """Releases with revisions and hooks, pods that change phase several times, events on them: enough
    rows that every statement spans several batches and write sessions."""
    observations = []
    for r in range(6):
        name, namespace = f"svc{r}", f"team{r % 3}"
        deploy = f.deployment(name, namespace, release=name)
        rs = f.replicaset(deploy)
        service = {"apiVersion": "v1", "kind": "Service", "metadata": f.meta(name, namespace),
                   "spec": {"selector": {"app": name}, "clusterIP": "10.0.0.1"}}
        observations += [obs(deploy), obs(rs), obs(service)]
        for version in (1, 2, 3):
            release = f.release_json(name, namespace, version, "deployed" if version == 3 else "superseded",
                                     manifest=f.manifest(("apps/v1", "Deployment", name), ("v1", "Service", name)),
                                     hooks=[f.hook(f"{name}-migrate", ["pre-upgrade"])],
                                     last_deployed=f"2026-11-20T10:0{version}:00Z")
            observations.append(obs(f.release_secret(release)))
        for p in range(8):
            pod_name = f"{name}-{p}"
            first = f.pod(pod_name, namespace, owner_obj=rs, labels={"app": name}, phase="Pending", ready=False,
                          waiting="ContainerCreating", rv=1000 + r * 100 + p * 10)
            crashing = f.pod(pod_name, namespace, owner_obj=rs, labels={"app": name}, ready=False,
                             waiting="CrashLoopBackOff", restarts=2, rv=1001 + r * 100 + p * 10)
            healthy = f.pod(pod_name, namespace, owner_obj=rs, labels={"app": name}, restarts=3,
                            rv=1002 + r * 100 + p * 10)
            for pod_obj in (first, crashing, healthy):
                pod_obj["metadata"]["uid"] = first["metadata"]["uid"]
            observations += [obs(first), obs(crashing, "MODIFIED"), obs(healthy, "MODIFIED")]
            observations += [obs(f.event(first, reason, f"{reason} {pod_name}")) for reason in ("Scheduled", "BackOff")]
    return observations


def graph_snapshot(driver) -> tuple[list[str], list[str]]:
    """Every node (labels and properties) and every relationship (type, ends), as sorted text."""
    nodes = driver.execute_query("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props").records
    links = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, "
        "coalesce(a.uid, a.key, a.ref, a.id) AS a, coalesce(b.uid, b.key, b.ref, b.id) AS b").records
    return (sorted(json.dumps([sorted(n["labels"]), n["props"]], sort_keys=True, default=str) for n in nodes),
            sorted(json.dumps([r["type"], r["props"], r["a"], r["b"]], sort_keys=True, default=str) for r in links))


def test_concurrent_write_sessions_give_the_graph_one_session_gives(neo4j_driver):
    """Rows are dealt to sessions by the node they lock; one object's updates must still land in input
    order (the pods end Running and ready, not in whichever state a racing session wrote last)."""
    apply_schema(neo4j_driver)
    observations = busy_cluster()
    Neo4jWriter(neo4j_driver, batch_size=5, sessions=1).write(observations)
    alone = graph_snapshot(neo4j_driver)
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    stats = Neo4jWriter(neo4j_driver, batch_size=5, sessions=3).write(observations)
    assert not stats.rejected
    assert graph_snapshot(neo4j_driver) == alone
    pods = one(neo4j_driver, "MATCH (p:Pod) RETURN count(p) AS n, collect(DISTINCT p.phase) AS phases, "
                             "collect(DISTINCT p.ready) AS ready, sum(p.restarts) AS restarts")
    assert (pods["n"], pods["phases"], pods["ready"], pods["restarts"]) == (48, ["Running"], [True], 48 * 3)
    selected = one(neo4j_driver, "MATCH (:Service)-[s:SELECTS]->(:Pod) RETURN count(s) AS n")["n"]
    assert selected == 48


def test_times_reach_the_graph_as_the_driver_itself_would_write_them(neo4j_driver):
    """kg_builder puts datetimes on the wire itself (the driver's conversion is ~100x slower)."""
    import datetime as dt

    from kg_builder.bolt_values import bolt_rows

    values = [dt.datetime(2026, 11, 20, 10, 0, 5, 123456, tzinfo=dt.UTC),
              dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
              dt.datetime(1960, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
              dt.datetime(2026, 1, 1, 1, 1, 1)]
    rows = [{"at": value, "nested": {"times": [value]}} for value in values]
    sent = neo4j_driver.execute_query(
        "UNWIND $rows AS row RETURN toString(row.at) AS at, row.at AS value, toString(row.nested.times[0]) AS nested",
        rows=bolt_rows(rows)).records
    driver_own = neo4j_driver.execute_query(
        "UNWIND $rows AS row RETURN toString(row.at) AS at, row.at AS value", rows=rows).records
    assert [r["at"] for r in sent] == [r["at"] for r in driver_own] == [
        "2026-11-20T10:00:05.123456Z", "2026-11-20T12:00:00+02:00", "1960-01-01T00:00:00-05:30",
        "2026-01-01T01:01:01"]
    assert [r["nested"] for r in sent] == [r["at"] for r in driver_own]
    assert [r["value"] for r in sent] == [r["value"] for r in driver_own]
    assert rows[0]["at"] == values[0], "the caller's rows are left as they were"

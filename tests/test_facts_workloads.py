"""Workload facts (kg_builder/facts_workloads.py) as the graph holds them, on a real Neo4j."""

from __future__ import annotations

import pytest

from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests import factories as f
from tests.scenarios import builders_pods as bp
from tests.scenarios import builders_workloads as bw
from tests.scenarios import generate_workloads

T = "2026-11-20T10:0{}:00Z"


def obs(obj, at="2026-11-20T10:05:00Z"):
    return Observation("k8s", "ADDED", obj, at, f"test:{obj['kind']}/{obj['metadata']['name']}")


def objects():
    """A failed CronJob Job with its pod (restartPolicy Never, exit 2), a bare pod left out of everything
    optional, an HPA and a PDB. The same objects (resourceVersions too) on every call."""
    f._counter = iter(range(1000, 10_000_000))
    main = bp.container("backup", "registry.example/pg-backup:16", cpu_request="100m", memory_request="64Mi",
                        readiness=True)
    main["ports"] = [{"containerPort": 5432, "name": "pg"}]
    cron = bw.cronjob("db-backup", schedule="0 * * * *", containers=[main], last_schedule=T.format(0),
                      last_success="2026-11-20T08:00:00Z")
    job = bw.job("db-backup-1", owner=cron, containers=[main], created=T.format(0), failed=1, backoff_limit=0,
                 failed_reason="BackoffLimitExceeded", failed_message=bw.BACKOFF_MESSAGE, finished=T.format(1))
    pod = bw.job_pod("db-backup-1-abcde", job, [bp.status(main, bp.terminated("Error", 2, T.format(0),
                                                                              T.format(1)))])
    plain = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain", "namespace": "prod", "uid": "u-plain",
                                                             "resourceVersion": "5"},
             "spec": {"containers": [{"name": "c", "image": "x"}]}}
    deploy = bp.deployment("web")
    hpa = bw.hpa("web", deploy, min_replicas=2, max_replicas=5, current=3, desired=4)
    pdb = bw.pdb("web", match={"app": "web"}, allowed=0, healthy=1, desired=1, expected=1)
    return [cron, job, pod, plain, deploy, hpa, pdb]


def props(driver, name):
    with driver.session() as session:
        return dict(session.run("MATCH (o:Object {name: $name}) RETURN properties(o) AS p", name=name).single()["p"])


@pytest.fixture
def written(neo4j_driver):
    apply_schema(neo4j_driver)
    stats = Neo4jWriter(neo4j_driver, batch_size=5).write([obs(o) for o in objects()])
    assert stats.rejected == []
    return neo4j_driver


@pytest.mark.neo4j
def test_pod_facts_name_what_the_spec_and_status_say(written):
    pod = props(written, "db-backup-1-abcde")
    assert pod["exited_nonzero"] is True and pod["exited_containers"] == ["backup"]
    assert pod["container_names"] == ["backup"] and pod["cpu_requests"] == ["100m"]
    assert pod["memory_requests"] == ["64Mi"] and pod["cpu_limits"] == [""]
    assert pod["container_ports"] == ["backup:5432/TCP"]
    assert pod["probes"] == ["backup readiness httpGet :8080/healthz period=10 failure=3"]
    assert pod["service_account"] == "default"


@pytest.mark.neo4j
def test_absent_fields_stay_absent(written):
    plain = props(written, "plain")
    for key in ("exited_nonzero", "exited_containers", "service_account", "probes", "container_ports"):
        assert key not in plain, key
    assert plain["cpu_requests"] == [""]  # one container that asks for nothing: the list stays parallel


@pytest.mark.neo4j
def test_job_cronjob_hpa_pdb_facts(written):
    job = props(written, "db-backup-1")
    assert job["failed_reason"] == "BackoffLimitExceeded" and job["restart_policy"] == "Never"
    assert job["failed_at"].iso_format().startswith("2026-11-20T10:01:00")
    cron = props(written, "db-backup")
    assert cron["schedule"] == "0 * * * *" and cron["suspend"] is False and cron["active_jobs"] == 0
    assert cron["last_schedule_time"].iso_format().startswith("2026-11-20T10:00:00")
    assert cron["last_successful_time"].iso_format().startswith("2026-11-20T08:00:00")
    assert "time_zone" not in cron and "starting_deadline_seconds" not in cron
    # the Deployment, the HPA and the PDB share a name: read each by its label
    with written.session() as session:
        hpa = dict(session.run("MATCH (h:HorizontalPodAutoscaler) RETURN properties(h) AS p").single()["p"])
        pdb = dict(session.run("MATCH (b:PodDisruptionBudget) RETURN properties(b) AS p").single()["p"])
    assert (hpa["target_kind"], hpa["target_name"], hpa["min_replicas"], hpa["max_replicas"],
            hpa["current_replicas"], hpa["desired_replicas"]) == ("Deployment", "web", 2, 5, 3, 4)
    assert (pdb["disruptions_allowed"], pdb["current_healthy"], pdb["expected_pods"], pdb["min_available"],
            pdb["selector_pairs"]) == (0, 1, 1, "1", ["app=web"])
    assert "max_unavailable" not in pdb


@pytest.mark.neo4j
def test_replay_gives_the_same_graph(written):
    def snapshot():
        with written.session() as session:
            return session.run("MATCH (n) OPTIONAL MATCH (n)-[r]->(m) RETURN count(DISTINCT n) AS nodes, "
                               "count(r) AS links, collect(DISTINCT properties(n)) AS props").single().data()

    before = snapshot()
    assert Neo4jWriter(written, batch_size=3).write([obs(o) for o in objects()]).rejected == []
    after = snapshot()
    assert (after["nodes"], after["links"]) == (before["nodes"], before["links"])
    assert sorted(map(repr, after["props"])) == sorted(map(repr, before["props"]))


def test_a_recovered_onfailure_container_is_not_exited_nonzero():
    from kg_builder.facts_workloads import pod_props

    tool = bp.container("tool")
    failed_once = bw.bare_pod("p", "prod", [bp.status(tool, bp.terminated("Error", 1, T.format(0), T.format(1)))],
                              containers=[tool], phase="Running", restart_policy="OnFailure")
    assert pod_props(failed_once)["exited_nonzero"] is None  # the kubelet restarts it
    failed_once["status"]["phase"] = "Failed"
    assert pod_props(failed_once)["exited_nonzero"] is True


def test_scenarios_are_generated():
    assert generate_workloads.main(["--check"]) == 0

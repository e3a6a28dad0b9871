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


def controllers_and_more():
    """A StatefulSet short of pods, a DaemonSet with a misscheduled pod, a Deployment with all its pods, a pod with
    hooks and a scheduling gate, an HPA whose metrics cannot be read and a PDB that allows nothing."""
    f._counter = iter(range(1000, 10_000_000))
    sts = bw.statefulset("ledger-db", replicas=3, ready=1, created_pods=2)
    ds = bw.daemonset("agent", desired=3, current=3, ready=3, misscheduled=1)
    full = bp.deployment("web", replicas=2, ready=2)
    main = bw.lifecycle(bw.lifecycle(bp.container("app"), "postStart", {"exec": {"command": ["sh", "-c", "seed"]}}),
                        "preStop", {"httpGet": {"path": "/quit", "port": 8443, "scheme": "HTTPS"}})
    gated = bw.gated_pod("job-x1", gates=("example.com/quota-check", "example.com/gpu"))
    gated["spec"]["containers"] = [main]
    hpa = bw.hpa("web", full, conditions=[
        {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
         "message": "the HPA was unable to compute the replica count: missing request for cpu",
         "lastTransitionTime": T.format(2)}])
    hpa["status"]["currentMetrics"] = [{"type": "Resource", "resource": {
        "name": "cpu", "current": {"averageUtilization": 186, "averageValue": "372m"}}}]
    pdb = bw.pdb("web", match={"app": "web"}, allowed=0, healthy=2, desired=2, expected=2)
    pdb["spec"]["selector"]["matchExpressions"] = [{"key": "tier", "operator": "In", "values": ["a"]}]
    return [sts, ds, full, gated, hpa, pdb]


@pytest.mark.neo4j
def test_controller_pod_hpa_and_pdb_facts_for_the_new_patterns(neo4j_driver):
    apply_schema(neo4j_driver)
    assert Neo4jWriter(neo4j_driver, batch_size=4).write([obs(o) for o in controllers_and_more()]).rejected == []
    with neo4j_driver.session() as session:
        def one(label):
            return dict(session.run(f"MATCH (n:{label}) RETURN properties(n) AS p").single()["p"])

        sts, ds, full, pod = one("StatefulSet"), one("DaemonSet"), one("Deployment"), one("Pod")
        hpa, pdb = one("HorizontalPodAutoscaler"), one("PodDisruptionBudget")
    assert sts["short_of_pods"] is True and sts["pod_management_policy"] == "OrderedReady"
    assert ds["short_of_pods"] is True and ds["misscheduled"] == 1  # all ready, but one pod where it should not be
    assert "short_of_pods" not in full
    assert pod["scheduling_gates"] == ["example.com/quota-check", "example.com/gpu"] and pod["scheduling_gated"]
    assert pod["lifecycle_hooks"] == ["app postStart exec sh -c seed", "app preStop httpGet HTTPS :8443/quit"]
    assert (hpa["scaling_active_status"], hpa["scaling_active_reason"]) == ("False", "FailedGetResourceMetric")
    assert hpa["scaling_active_message"].endswith("missing request for cpu")
    assert hpa["scaling_active_since"].iso_format().startswith("2026-11-20T10:02:00")
    assert "able_to_scale_status" not in hpa and "scaling_limited_status" not in hpa  # not reported: absent
    assert hpa["metric_targets"] == ["cpu resource utilization 80%"]
    assert hpa["current_metrics"] == ["cpu resource utilization 186% average 372m"]
    assert (pdb["disruption_allowed_status"], pdb["disruption_allowed_reason"]) == ("False", "InsufficientPods")
    assert "disruption_allowed_message" not in pdb  # the controller writes an empty message
    assert pdb["selector_has_expressions"] is True


def test_short_of_pods_follows_the_counters_and_clears():
    from kg_builder.facts_workloads import workload_props

    sts = bw.statefulset("db", replicas=3, ready=3, created_pods=3)
    assert workload_props(sts)["short_of_pods"] is None  # None removes the property on write
    sts["status"]["readyReplicas"] = 2
    assert workload_props(sts)["short_of_pods"] is True
    del sts["spec"]["replicas"]  # the API's default is 1: two ready are enough
    assert workload_props(sts)["short_of_pods"] is None
    ds = bw.daemonset("agent", desired=3, current=2, ready=2)
    assert workload_props(ds)["short_of_pods"] is True


def test_the_recorded_statefulset_stuck_on_an_ordinal_reads_as_short():
    """The local control plane's own StatefulSet (tests/e2e/recordings/workload_statefulset_ordinal.jsonl)."""
    import json
    from pathlib import Path

    from kg_builder.facts_workloads import pdb_props, workload_props

    lines = Path(__file__).parent / "e2e" / "recordings" / "workload_statefulset_ordinal.jsonl"
    last = {}
    for line in lines.read_text().splitlines():
        obj = json.loads(line)["object"]
        last[obj["kind"]] = obj
    sts = workload_props(last["StatefulSet"])
    assert sts["short_of_pods"] is True and sts["pod_management_policy"] == "OrderedReady"
    pdb = pdb_props(last["PodDisruptionBudget"])
    assert (pdb["disruptions_allowed"], pdb["disruption_allowed_reason"]) == (0, "InsufficientPods")

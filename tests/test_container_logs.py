"""The last words of a failing container (docs/container-logs.md): read once, bounded, redacted, kept, classified.

* the source (ingest/container_logs.py): which pod states are a crash to read, once per run of a container, within
  a budget of reads a minute; `kubectl logs` output from a file;
* the graph (kg_builder/facts_logs.py, real Neo4j): one log per container, the newest run's, linked to its pod
  whichever arrives first, its findings replaced with its lines; `kgrca ingest --logs` to `kgrca diagnose`;
* the real thing (the local cluster, where kwok serves containers' logs through the API server): `kgrca watch`
  reads a crash-looping container's *previous* log, and no more reads than its budget allows.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from pathlib import Path

import pytest
from kubernetes import client

from ingest import container_logs as cl
from kgrca.contracts import Observation
from tests.scenarios import builders_pods as b

NS = "prod"


def crashing(name: str = "api-5f6d8c-p4n1c", restarts: int = 3, uid: str | None = None) -> dict:
    api = b.container("api")
    pod = b.pod(name, containers=[api], ready=False,
                statuses=[b.status(api, b.waiting("CrashLoopBackOff", "back-off 40s restarting failed container"),
                                   last=b.terminated("Error", 1, b.T0, b.T0), restarts=restarts)])
    if uid:
        pod["metadata"]["uid"] = uid
    return pod


# --- which states are a crash, read once per run ------------------------------------------------------------------


def test_a_crash_is_the_previous_run_of_a_restarted_container_or_the_last_of_a_stopped_one():
    assert [(c.container, c.run, c.previous) for c in cl.crashes(crashing(restarts=3))] == [("api", 2, True)]
    main = b.container("main")
    stopped = b.pod("report", containers=[main], phase="Failed", ready=False,
                    statuses=[b.status(main, b.terminated("Error", 2, b.T0, b.T0))])
    assert [(c.container, c.run, c.previous) for c in cl.crashes(stopped)] == [("main", 0, False)]
    done = b.pod("done", containers=[main], phase="Succeeded", ready=False,
                 statuses=[b.status(main, b.terminated("Completed", 0, b.T0, b.T0))])
    healthy = b.pod("healthy", containers=[main])
    assert cl.crashes(done) == [] and cl.crashes(healthy) == []


def test_each_run_of_a_container_is_queued_once():
    fetcher = cl.LogFetcher(client.ApiClient(), _cfg(), queue.Queue(), threading.Event())
    pod = crashing(restarts=3)
    for _ in range(3):  # the same status seen again (a re-list, a MODIFIED of another field)
        fetcher.observe("MODIFIED", pod)
    assert fetcher.pending.qsize() == 1
    fetcher.observe("MODIFIED", crashing(restarts=4, uid=pod["metadata"]["uid"]))
    assert fetcher.pending.qsize() == 2
    assert [fetcher.pending.get().run for _ in range(2)] == [2, 3]
    fetcher.observe("DELETED", pod)
    assert pod["metadata"]["uid"] not in fetcher.seen


def test_the_budget_allows_so_many_reads_a_minute():
    now = [0.0]
    budget = cl.Budget(2, clock=lambda: now[0])
    budget.take()
    budget.take()
    assert budget.free_in() == pytest.approx(60)
    now[0] = 59.5
    assert budget.free_in() == pytest.approx(0.5)
    now[0] = 60.0
    assert budget.free_in() == 0


def test_the_tail_keeps_the_last_lines_within_lines_and_bytes():
    text = "".join(f"line {i:02d}\n" for i in range(20))
    assert cl.bounded_tail(text, 3, 10_000) == (["line 17", "line 18", "line 19"], True)
    assert cl.bounded_tail(text, 50, 16) == (["line 18", "line 19"], True)
    assert cl.bounded_tail("a\nb\n", 50, 100) == (["a", "b"], False)


def test_a_saved_kubectl_logs_output_is_read_redacted_with_its_container(tmp_path):
    path = tmp_path / "app.log"
    path.write_text('Defaulted container "api" out of: api, metrics\nconnecting to postgres://app:s3cret@db:5432/app\n'
                    "FATAL: password authentication failed for user \"app\"\n")
    found, problems = cl.read_file(path, path.read_text(), (NS, "api-5f6d8c-p4n1c", None))
    assert problems == []
    record = found[0].payload
    assert (record["namespace"], record["pod"], record["container"], record["source"]) == (
        NS, "api-5f6d8c-p4n1c", "api", "file")
    assert record["lines"][0] == "connecting to postgres://app:<redacted>@db:5432/app"
    assert "s3cret" not in json.dumps(record)
    assert record.get("restart_count") is None  # a file does not say which run it is
    empty = tmp_path / "empty.log"
    empty.write_text("\n\n")
    assert cl.read_file(empty, "\n\n", (NS, "x", "y"))[1][0][1].startswith("the log holds no line")


def test_the_target_must_name_namespace_and_pod():
    assert cl.parse_target("prod/api-1/app") == ("prod", "api-1", "app")
    assert cl.parse_target("prod/api-1") == ("prod", "api-1", None)
    for bad in ("api-1", "prod/", "a/b/c/d", "/api"):
        with pytest.raises(ValueError, match="NAMESPACE/POD"):
            cl.parse_target(bad)


def test_ingest_logs_refuses_a_bad_target_with_the_form_expected(capsys):
    from faces.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "--logs", "api-1", "app.log"])
    assert exit_.value.code == 2
    assert "expected NAMESPACE/POD or NAMESPACE/POD/CONTAINER" in capsys.readouterr().err


def test_generated_log_scenarios_are_current():
    from tests.scenarios import generate_logs

    assert generate_logs.main(["--check"]) == 0, "run: python tests/scenarios/generate_logs.py"


def _cfg(**changes):
    from kgrca.config import load_config

    return load_config().replace(**changes)


# --- the graph ----------------------------------------------------------------------------------------------------


def _log(pod: dict, lines: list[str], run: int | None, container: str = "api") -> Observation:
    crash = cl.Crash(NS, pod["metadata"]["name"], pod["metadata"]["uid"], container, run, True, "CrashLoopBackOff") \
        if run is not None else None
    if crash is None:
        return cl.observation(None, lines, False, "file", "app.log", namespace=NS, pod=pod["metadata"]["name"],
                              container=container, at="2026-11-20T10:09:23Z")
    return cl.observation(crash, lines, False, "watch", "test", at="2026-11-20T10:09:23Z")


def _k8s(pod: dict) -> Observation:
    return Observation("k8s", "ADDED", pod, "2026-11-20T10:09:22Z", "test")


def _graph(driver) -> list[tuple]:
    return [tuple(r.values()) for r in driver.execute_query(
        "MATCH (l:ContainerLog) OPTIONAL MATCH (p:Pod)-[:LOGGED]->(l) OPTIONAL MATCH (l)-[:FOUND]->(f:LogFinding) "
        "WITH l, p, f ORDER BY f.rank RETURN l.key, l.restart_count, l.lines, p.name, collect(f.class), "
        "collect(f.host)").records]


@pytest.mark.neo4j
def test_one_log_per_container_linked_to_its_pod_the_newest_run_winning(neo4j_driver, neo4j_config):
    from kg_builder.schema import apply_schema
    from kg_builder.writer import Neo4jWriter

    apply_schema(neo4j_driver, neo4j_config.neo4j_database)
    writer = Neo4jWriter.from_config(neo4j_driver, neo4j_config)
    pod = crashing(restarts=3)
    dns = "dial tcp: lookup orders-db.prod.svc.cluster.local on 10.96.0.10:53: no such host"
    # the log first, its pod after: linked all the same
    assert writer.write([_log(pod, ["starting", dns], run=2)]).rejected == []
    assert writer.write([_k8s(pod)]).rejected == []
    key = f"{NS}/{pod['metadata']['name']}/api"
    assert _graph(neo4j_driver) == [(key, 2, ["starting", dns], pod["metadata"]["name"], ["dns_failure"],
                                     ["orders-db.prod.svc.cluster.local"])]
    # an older run's lines arriving late change nothing; replaying changes nothing
    writer.write([_log(pod, ["panic: old"], run=1), _log(pod, ["starting", dns], run=2)])
    assert _graph(neo4j_driver)[0][1:3] == (2, ["starting", dns])
    # the next run replaces the lines and what they said
    writer.write([_log(pod, ["panic: assignment to entry in nil map"], run=3)])
    assert _graph(neo4j_driver) == [(key, 3, ["panic: assignment to entry in nil map"], pod["metadata"]["name"],
                                     ["panic"], [])]
    counts = neo4j_driver.execute_query("MATCH (f:LogFinding) RETURN count(f) AS n").records[0]["n"]
    assert counts == 1
    # a log that does not fit is refused, named, and the rest is written
    bad = Observation("container_log", "FETCHED", {"namespace": NS, "pod": "x", "container": "y", "lines": [1]},
                      "2026-11-20T10:09:23Z", "bad.log")
    rejected = writer.write([bad]).rejected
    assert len(rejected) == 1 and rejected[0][0] == "bad.log" and "lines" in rejected[0][1], rejected
    writer.close()


@pytest.mark.neo4j
def test_kubectl_logs_handed_to_ingest_name_the_cause_of_a_crash_loop(neo4j_driver, neo4j_config, tmp_path,
                                                                      capsys, monkeypatch):
    from faces.cli import main

    for name, value in neo4j_config.items():
        if value is not None and name.startswith("neo4j_"):
            monkeypatch.setenv(f"KGRCA_{name.upper()}", str(value))
    pod = crashing(restarts=6)
    dump = tmp_path / "pod.json"
    dump.write_text(json.dumps(pod))
    saved = tmp_path / "api.log"
    saved.write_text("I1120 10:09:20.137524       1 main.go:40] starting\n"
                     "panic: runtime error: invalid memory address or nil pointer dereference\n"
                     "goroutine 1 [running]:\n")
    assert main(["ingest", "-q", str(dump)]) == 0
    target = f"{NS}/{pod['metadata']['name']}"  # no container: the pod has one
    assert main(["ingest", "-q", "--logs", target, str(saved)]) == 0
    capsys.readouterr()
    main(["diagnose", "--all", "--json", "--now", "2026-11-20T10:10:00Z"])
    out = json.loads(capsys.readouterr().out)
    diagnoses = out["diagnoses"] if isinstance(out, dict) else out
    top = diagnoses[0]
    assert top["pattern"] == "container_log_error", [d["pattern"] for d in diagnoses]
    assert "panic: runtime error: invalid memory address or nil pointer dereference" in top["root_cause"]["summary"]
    assert f"kubectl -n prod logs {pod['metadata']['name']} -c api --previous" in top["root_cause"]["resolution"]
    assert [c["pattern"] for c in top["consequences"]] == ["crashloop"]


# --- the real thing: kwok serves a crash-looping container's previous log through the API server ---------------------


@pytest.fixture
def logs_namespace():
    """kwok serves logs to the pods of one namespace (localdev/cluster/stages.py LOGS_NAMESPACE), from files."""
    from kgrca.config import load_config
    from localdev.cluster import ensure_up
    from localdev.cluster.control_plane import kubectl
    from localdev.cluster.layout import Layout
    from localdev.cluster.stages import LOGS_NAMESPACE

    cfg = load_config()
    kubeconfig = ensure_up(cfg)
    deadline = time.monotonic() + 90
    while kubectl(cfg, "get", "namespace", LOGS_NAMESPACE, "--ignore-not-found", "-o", "name").strip() and \
            time.monotonic() < deadline:  # a namespace an earlier run deleted is still terminating
        time.sleep(1)
    kubectl(cfg, "create", "namespace", LOGS_NAMESPACE)
    try:
        yield cfg.replace(kubeconfig=str(kubeconfig), namespaces=[LOGS_NAMESPACE]), Layout.of(cfg).container_logs
    finally:
        kubectl(cfg, "delete", "namespace", LOGS_NAMESPACE, "--wait=false")


@pytest.mark.cluster
def test_watch_reads_a_crash_looping_containers_previous_log_once_per_run_within_budget(logs_namespace):
    from ingest.k8s_watch import Kind, start_watch
    from localdev.cluster.control_plane import kubectl

    cfg, files = logs_namespace
    files.mkdir(parents=True, exist_ok=True)
    said = ["starting worker 1.4.0", "connecting to postgres://app:s3cret@orders-db:5432/orders",
            "dial tcp: lookup orders-db.kgrca-logs.svc.cluster.local on 10.96.0.10:53: no such host"]
    # the CRI log format kwok reads, as a container runtime writes it
    (files / "previous.log").write_text("".join(f"2026-12-07T22:00:0{i}.000000000Z stderr F {line}\n"
                                                for i, line in enumerate(["noise before the tail"] + said)))
    (files / "current.log").write_text("2026-12-07T22:01:00.000000000Z stdout F starting again\n")
    name = f"worker-{uuid.uuid4().hex[:6]}"
    cfg = cfg.replace(container_log_lines=3, container_log_fetches_per_minute=2)
    stop = threading.Event()
    watch = start_watch(cfg, stop, kinds=(Kind("Pod", "v1", "pods"),))
    try:
        kubectl(cfg, "run", name, "-n", cfg.namespaces[0], "--image=registry.example/worker:1.4",
                "--annotations=kgrca.io/fault=crashloop", "--restart=Always")
        logs: list[Observation] = []
        restarts = 0
        deadline = time.monotonic() + 120
        for seen in watch.observations(idle=0.5):
            if seen is not None and seen.kind == "container_log":
                logs.append(seen)
            elif seen is not None and seen.payload.get("metadata", {}).get("name") == name:
                restarts = max([restarts] + [int(s.get("restartCount") or 0) for s in
                                             (seen.payload.get("status") or {}).get("containerStatuses") or []])
            if restarts >= 3 and logs or time.monotonic() > deadline:
                break
        time.sleep(3)  # more crashes than the budget allows: the reads wait, they are not made
        while not watch.out.empty():
            seen = watch.out.get()
            if seen.kind == "container_log":
                logs.append(seen)
    finally:
        stop.set()
        kubectl(cfg, "delete", "pod", name, "-n", cfg.namespaces[0], "--wait=false")
    assert logs, f"no log was read (restarts seen: {restarts}; refused: {watch.logs.refused})"
    first = logs[0].payload
    assert (first["pod"], first["container"], first["previous"], first["source"]) == (name, name, True, "watch")
    # the last 3 lines of the previous run, as the kubelet endpoint served them, the password redacted
    assert first["lines"] == ["starting worker 1.4.0", "connecting to postgres://app:<redacted>@orders-db:5432/orders",
                              said[2]]
    assert first["truncated"] is False  # the kubelet's tail is what was asked for; kgrca cut nothing of it
    runs = [log.payload["restart_count"] for log in logs]
    assert len(runs) == len(set(runs)), f"a run was read twice: {runs}"
    assert len(logs) <= 2 == watch.logs.budget.per_minute, f"{len(logs)} reads in a minute, budget 2"
    assert watch.logs.fetched == len(logs) and watch.logs.refused == 0
    from kg_builder import facts_logs

    rows = list(facts_logs.rows(logs[0]))
    finding = rows[0][1]["findings"][0]
    assert (finding["class"], finding["host"]) == ("dns_failure", "orders-db.kgrca-logs.svc.cluster.local")


def test_kwok_is_configured_to_serve_logs_of_its_logs_namespace(tmp_path):
    import yaml

    from localdev.cluster import stages

    path = tmp_path / "kwok.yaml"
    assert stages.write_kwok_config(path, tmp_path / "logs") is True
    docs = list(yaml.safe_load_all(path.read_text()))
    logs = [d for d in docs if d["kind"] == "ClusterLogs"]
    assert logs == [stages.container_logs(tmp_path / "logs")]
    assert logs[0]["spec"]["selector"]["matchNamespaces"] == [stages.LOGS_NAMESPACE]
    node = next(d for d in docs if d["metadata"]["name"] == "node-initialize")
    assert "daemonEndpoints" in node["spec"]["steps"][0]["patch"]["template"]
    assert Path(logs[0]["spec"]["logs"][0]["previousLogsFile"]).name == "previous.log"

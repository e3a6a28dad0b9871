"""Prometheus metrics of the long-running processes, scraped over HTTP from the real process: `kgrca serve` (its
own port, the sum of its gunicorn workers), `kgrca watch` (against the local cluster) and `kgrca trace` (root and
eBPF). docs/metrics.md lists the series; tests/test_chart.py checks the Grafana dashboard plots only these."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import neo4j
import pytest
from prometheus_client.parser import text_string_to_metric_families

from faces.api.process import free_port, serving

ROOT = Path(__file__).resolve().parents[1]
KGRCA = [sys.executable, "-m", "faces.cli"]


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of http://127.0.0.1:port/metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def names(samples: dict) -> set[str]:
    return {name for name, _ in samples}


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return predicate()


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


# ---------------------------------------------------------------------------------------------- kgrca serve


@pytest.mark.neo4j
def test_serve_counts_every_worker_on_its_metrics_port(neo4j_config, neo4j_driver, tmp_path):
    metrics_port = free_port(19400, 19499)
    cfg = neo4j_config.replace(serve_metrics_port=metrics_port, report_schedule="* * * * * */2",
                               report_dir=str(tmp_path / "reports"), argocd_webhook_token="t0ken")
    with serving(cfg, workers=2, log_path=tmp_path / "serve.log") as base:
        for _ in range(6):  # spread over both workers by the kernel's accept queue
            assert get(base + "/api/v1/releases") == 200
        assert get(base + "/api/v1/releases/prod/none") == 404
        assert post(base + "/webhooks/github", b"{}", {"Content-Type": "application/json"}) == 401
        assert post(base + "/webhooks/argocd", b"not json", {"Authorization": "Bearer t0ken",
                                                               "Content-Type": "application/json"}) == 400
        samples = scrape(metrics_port)
        assert value(samples, "kgrca_serve_request_seconds_count", route="/api/v1/releases", method="GET",
                     status="200") == 6
        assert value(samples, "kgrca_serve_request_seconds_count", route="/api/v1/releases/<namespace>/<name>",
                     method="GET", status="404") == 1
        assert value(samples, "kgrca_serve_webhook_deliveries_total", source="github", outcome="refused") == 1
        assert value(samples, "kgrca_serve_webhook_deliveries_total", source="argocd", outcome="invalid") == 1
        # present at zero before anything failed, so a dashboard shows 0 rather than no data
        assert ("kgrca_serve_neo4j_errors_total", (("kind", "timeout"),)) in samples
        assert value(samples, "kgrca_webhook_spool_enabled") == 0
        # the scheduled reports run in the gunicorn master, every 2 seconds (each runs every pattern: slow on a
        # loaded machine even over the empty graph)
        assert wait_for(lambda: value(scrape(metrics_port), "kgrca_serve_report_runs_total", outcome="written") >= 1,
                        timeout=180)
        assert value(scrape(metrics_port), "kgrca_serve_report_last_success_timestamp_seconds") > time.time() - 60
    with pytest.raises(urllib.error.URLError):  # the metrics server ends with the server
        scrape(metrics_port)


@pytest.mark.neo4j
def test_serve_stops_with_one_line_when_its_metrics_port_is_taken(neo4j_config):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*KGRCA, "serve", "--port", str(free_port()), "--metrics-port", str(port)],
                                capture_output=True, text=True, timeout=120, cwd=ROOT,
                                env={**os.environ, **neo4j_config.environ()})
    assert result.returncode == 1
    assert result.stderr.strip() == (f"kgrca: port {port} on 127.0.0.1 is in use: stop what listens there or "
                                     "choose another with --metrics-port / KGRCA_SERVE_METRICS_PORT")


@pytest.mark.neo4j
def test_serve_counts_neo4j_that_does_not_answer(neo4j_config):
    """A Neo4j nothing listens on: each request is a 503 and a counted Neo4j error (the real driver)."""
    from faces.api.app import close_app, create_app
    from faces.api.metrics import serve_metrics

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    cfg = neo4j_config.replace(neo4j_uri=f"bolt://127.0.0.1:{dead}")
    errors = serve_metrics().neo4j_errors
    before = errors.labels("error")._value.get() + errors.labels("timeout")._value.get()
    driver = neo4j.GraphDatabase.driver(cfg.neo4j_uri, auth=(cfg.neo4j_user, cfg.neo4j_password))
    app = create_app(cfg, driver=driver)
    try:
        for _ in range(2):
            assert app.test_client().get("/api/v1/releases").status_code == 503
    finally:
        close_app(app)
        driver.close()
    assert errors.labels("error")._value.get() + errors.labels("timeout")._value.get() == before + 2


# ---------------------------------------------------------------------------------------------- kgrca watch


@pytest.fixture(scope="module")
def kubeconfig(neo4j_config) -> Path:
    from localdev.cluster import ensure_up

    return Path(ensure_up(neo4j_config))


@pytest.fixture
def namespace(kubeconfig):
    from kgrca.config import load_config
    from localdev.cluster import kubectl_binary

    name = f"h8-metrics-{uuid.uuid4().hex[:8]}"
    kubectl = [str(kubectl_binary(load_config())), "--kubeconfig", str(kubeconfig)]
    subprocess.run([*kubectl, "create", "namespace", name], check=True, capture_output=True)
    yield name, kubectl
    subprocess.run([*kubectl, "delete", "namespace", name, "--wait=false"], capture_output=True)


def configmap(name: str, namespace: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
                       "data": {"k": "v"}})


@pytest.mark.cluster
@pytest.mark.neo4j
def test_watch_serves_what_it_listed_saw_and_wrote(neo4j_config, kubeconfig, namespace, tmp_path):
    ns, kubectl = namespace
    port = free_port(19500, 19599)
    env = {**os.environ, **neo4j_config.environ(), "KGRCA_KUBECONFIG": str(kubeconfig),
           "KGRCA_WATCH_METRICS_PORT": str(port)}
    log = open(tmp_path / "watch.log", "wb")  # noqa: SIM115 - closed below
    watch = subprocess.Popen([*KGRCA, "watch", "--namespace", ns], cwd=ROOT, env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        # every namespace holds the kube-root-ca.crt ConfigMap: the first list reads it
        assert wait_for(lambda: value(scrape(port), "kgrca_watch_objects_listed_total", kind="ConfigMap") >= 1), \
            (tmp_path / "watch.log").read_text()
        subprocess.run([*kubectl, "apply", "-f", "-"], input=configmap("seen", ns), text=True, check=True,
                       capture_output=True)
        assert wait_for(lambda: value(scrape(port), "kgrca_watch_events_total", kind="ConfigMap", type="ADDED") >= 1)
        assert wait_for(lambda: value(scrape(port), "kgrca_watch_write_lag_seconds_count") >= 1)
        samples = scrape(port)
        assert value(samples, "kgrca_watch_observations_written_total") >= 2
        assert 0 <= value(samples, "kgrca_watch_last_write_lag_seconds") < 60
        # one series per watched kind from the start: nothing re-listed, no 410, no restart yet
        assert value(samples, "kgrca_watch_gone_total", kind="ConfigMap") == 0
        assert ("kgrca_watch_relists_total", (("kind", "Pod"),)) in samples
        assert ("kgrca_watch_restarts_total", (("kind", "Pod"),)) in samples
    finally:
        watch.send_signal(signal.SIGTERM)
        code = watch.wait(30)  # stops at once on SIGTERM
        log.close()
    assert code == 0
    assert scrape_fails(port)  # the metrics server ended with the process


def scrape_fails(port: int) -> bool:
    try:
        scrape(port)
    except (urllib.error.URLError, OSError):
        return True
    return False


@pytest.mark.cluster
@pytest.mark.neo4j
def test_a_410_gone_is_counted_with_its_relist(neo4j_config, kubeconfig, namespace):
    """The KindWatcher of `kgrca watch` resuming from a compacted resourceVersion (tests/test_watch.py's way)."""
    from ingest.k8s_watch import KINDS, KindWatcher, api_client
    from kgrca.bus.metrics import WatchMetrics
    from tests.test_watch import compact_etcd

    ns, _ = namespace
    kind = next(k for k in KINDS if k.kind == "ConfigMap")
    stop = threading.Event()
    watcher = KindWatcher(api_client(neo4j_config.replace(kubeconfig=str(kubeconfig))), kind, ns, queue.Queue(),
                          stop)
    metrics = WatchMetrics()
    metrics.watching(lambda: [watcher])
    port = free_port(19600, 19699)
    metrics.serve(port, "127.0.0.1")
    watcher._list()
    assert value(scrape(port), "kgrca_watch_relists_total", kind="ConfigMap") == 0  # the first list is no re-list
    compact_etcd()
    watcher.resource_version = "1"
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: value(scrape(port), "kgrca_watch_relists_total", kind="ConfigMap") == 1)
        assert value(scrape(port), "kgrca_watch_gone_total", kind="ConfigMap") == 1
    finally:
        stop.set()
        thread.join(10)


# ---------------------------------------------------------------------------------------------- kgrca trace


@pytest.mark.ebpf
@pytest.mark.skipif(sys.platform != "linux", reason="eBPF exists only on Linux")
def test_trace_serves_records_lost_events_and_buffer_use(tmp_path):
    from tests.test_bpf_cli import fake_helm, start_trace, stop_trace

    helm = fake_helm(tmp_path / "bin")
    port = free_port(19700, 19799)
    trace = start_trace("--sink", "stdout", "--metrics-port", str(port))
    try:
        for _ in range(3):
            subprocess.run([str(helm), "upgrade", "api", "./chart"], capture_output=True,
                           env={**os.environ, "FAKE_EXIT": "1"})
        assert wait_for(lambda: value(scrape(port), "kgrca_trace_records_total", kind="helm_process",
                                      action="EXITED") >= 3, timeout=30)
        samples = scrape(port)
        assert value(samples, "kgrca_trace_events_total") > 0
        assert value(samples, "kgrca_trace_lost_events_total", where="kernel") == 0
        assert value(samples, "kgrca_trace_lost_events_total", where="backlog") == 0
        ring = value(samples, "kgrca_trace_buffer_bytes", buffer="ring")
        assert ring > 0 and ring % 4096 == 0
        assert value(samples, "kgrca_trace_backlog_capacity") > 0
        assert value(samples, "kgrca_trace_buffer_fill_ratio_count") >= 1  # a read that found events waiting
        assert value(samples, "kgrca_trace_buffer_fill_ratio_sum") <= value(samples,
                                                                            "kgrca_trace_buffer_fill_ratio_count")
    finally:
        out, _ = stop_trace(trace)
    printed = [json.loads(line) for line in out.splitlines()]
    assert len([p for p in printed if p["payload"]["argv"][1:3] == ["upgrade", "api"]]) == 3

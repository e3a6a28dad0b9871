"""Writes the container-log scenarios (logs_*, near_miss_logs_*): a failing container's last lines name the cause.

    python tests/scenarios/generate_logs.py            rewrite them
    python tests/scenarios/generate_logs.py --check    exit 1 when one on disk differs (CI)

Each story is a crashing or failed container (a Deployment's pod in CrashLoopBackOff, a Job's failed pod, a bare
pod that exited non-zero) plus the ``container_log`` observation `kgrca watch` makes of its previous log
(ingest/container_logs.py): the lines are real ones, each set from the public issue thread named beside it, with
names changed to the story's. The near misses: a crash loop whose lines say nothing classifiable (crashloop
stays the diagnosis, with the lines as evidence) and a healthy pod whose log holds error-looking lines (nothing).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import builders_pods as b  # noqa: E402
from tests.scenarios import builders_workloads as w  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.generate_pods import NOW, Story, app, at, nodes  # noqa: E402

Obj = dict[str, Any]
Expected = dict[str, Any]
SCENARIOS = suite.Registry()
scenario = SCENARIOS


def log_line(pod: Obj, container: str, lines: list[str], *, run: int, previous: bool, reason: str,
             when: str) -> Obj:
    """The observation kgrca watch makes of a container's log (kgrca/contracts.py, kind container_log)."""
    meta = pod["metadata"]
    payload = {"namespace": meta["namespace"], "pod": meta["name"], "pod_uid": meta["uid"], "container": container,
               "lines": lines, "truncated": False, "source": "watch", "fetched_at": when, "restart_count": run,
               "previous": previous, "reason": reason}
    return {"schema": 1, "kind": "container_log", "action": "FETCHED", "payload": payload, "observed_at": when,
            "origin": f"watch:log {meta['namespace']}/{meta['name']} {container} run {run}"}


def crashing_pod(st: Story, rs: Obj, name: str, container: Obj, lines: list[str], *, restarts: int = 5,
                 exit_code: int = 2, reason: str = "Error") -> Obj:
    """A pod of ``rs`` in CrashLoopBackOff whose previous run's log kgrca read."""
    cname = container["name"]
    pod = b.pod(name, owner_obj=rs, labels={"app": rs["metadata"]["labels"]["app"]}, ready=False,
                containers=[container], created=at(0, 5),
                statuses=[b.status(container, b.waiting("CrashLoopBackOff", f"back-off 2m40s restarting failed "
                                                                            f"container={cname} pod={name}_prod"),
                                   last=b.terminated(reason, exit_code, at(9, 20), at(9, 21)), restarts=restarts)])
    st.add(pod, at(9, 22))
    st.add(b.event(pod, "BackOff", f"Back-off restarting failed container {cname} in pod {name}_prod"
                   f"({pod['metadata']['uid']})", count=12, first=at(0, 40), last=at(9, 30),
                   field_path=f"spec.containers{{{cname}}}"), at(9, 30))
    st.lines.append(log_line(pod, cname, lines, run=restarts - 1, previous=True,
                             reason=f"CrashLoopBackOff after exit code {exit_code}", when=at(9, 23)))
    return pod


# --- the classes --------------------------------------------------------------------------------------------------


@scenario
def logs_panic() -> tuple[Story, Expected]:
    # github.com/libopenstorage/stork/issues/45: a controller's nil pointer panic on start
    st = Story()
    nodes(st, 1)
    api = b.container("api", "registry.example/api:2.0")
    _, rs = app(st, containers=[api], replicas=1)
    lines = ["I1120 10:09:20.137524       1 snapshot-controller.go:169] Starting snapshot controller",
             "I1120 10:09:20.137558       1 controller_utils.go:1041] Waiting for caches to sync for api controller",
             "panic: runtime error: invalid memory address or nil pointer dereference",
             "[signal SIGSEGV: segmentation violation code=0x1 addr=0x8 pc=0x108178b]",
             "",
             "goroutine 29 [running]:",
             "example.com/api/pkg/volume.(*portworx).InspectVolume(0xc4203393a0, 0xc4202c84e0, 0x28)",
             "\t/src/pkg/volume/portworx.go:100 +0x22b"]
    crashing_pod(st, rs, "api-5f6d8c-p4n1c", api, lines)
    return st, {
        "description": "a Helm release's pod crash-loops; its previous log ends in a Go nil pointer panic",
        "expected": "container_log_error", "now": NOW, "release": "prod/api", "subject": "Deployment/prod/api",
        "consequences": ["crashloop"], "roots": 1,
        "evidence": ["api-5f6d8c-p4n1c", "panic: runtime error: invalid memory address or nil pointer dereference",
                     "exit code 2"],
        "resolution": ["kubectl -n prod logs api-5f6d8c-p4n1c -c api --previous"]}


@scenario
def logs_exception() -> tuple[Story, Expected]:
    # a Python traceback ending in the uncaught exception, as in github.com/Mailu/helm-charts/issues/363
    st = Story()
    nodes(st, 1)
    migrate = b.container("migrate", "registry.example/migrate:3.1")
    job = w.job("schema-upgrade", containers=[migrate], failed=2, backoff_limit=1, failed_reason="BackoffLimitExceeded",
                failed_message="Job has reached the specified backoff limit", finished=at(6))
    st.add(job, at(6, 1))
    for index, name in enumerate(("schema-upgrade-7xk2p", "schema-upgrade-m9q4d")):
        started, ended = at(2 + 3 * index), at(2 + 3 * index, 4)
        pod = w.job_pod(name, job, [b.status(migrate, b.terminated("Error", 1, started, ended))], created=started)
        st.add(pod, at(2 + 3 * index, 5))
        st.lines.append(log_line(pod, "migrate", [
            "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
            "Traceback (most recent call last):",
            '  File "/app/migrate.py", line 12, in <module>',
            '    url = os.environ["SCHEMA_TARGET"]',
            '  File "/usr/local/lib/python3.12/os.py", line 714, in __getitem__',
            "    raise KeyError(key) from None",
            "KeyError: 'SCHEMA_TARGET'"], run=0, previous=False, reason="terminated with exit code 1",
            when=at(2 + 3 * index, 6)))
    return st, {
        "description": "a Job failed (BackoffLimitExceeded); its pod's log ends in a Python KeyError traceback",
        "expected": "container_log_error", "now": NOW, "subject": "Job/prod/schema-upgrade",
        "consequences": ["job_failed"], "roots": 1,
        "evidence": ["schema-upgrade-m9q4d", "KeyError: 'SCHEMA_TARGET'", "exit code 1"],
        "resolution": ["kubectl -n prod logs schema-upgrade-m9q4d -c migrate"]}


@scenario
def logs_dns_failure() -> tuple[Story, Expected]:
    # Go's resolver error, as in github.com/prometheus-community/postgres_exporter/issues/482
    st = Story()
    nodes(st, 1)
    worker = b.container("worker", "registry.example/worker:1.4")
    _, rs = app(st, "worker", containers=[worker], replicas=1, helm=False)
    lines = ['time="2026-11-20T10:09:20Z" level=info msg="starting worker" version=1.4.0',
             'time="2026-11-20T10:09:20Z" level=fatal msg="cannot reach the queue" error="dial tcp: lookup '
             'queue.messaging.svc.cluster.local on 10.96.0.10:53: no such host"']
    crashing_pod(st, rs, "worker-5f6d8c-d8s2k", worker, lines, exit_code=1)
    return st, {
        "description": "a Deployment's pod crash-loops because the queue's host name does not resolve (no such host)",
        "expected": "container_log_error", "now": NOW, "subject": "Deployment/prod/worker",
        "consequences": ["crashloop"], "roots": 1,
        "evidence": ["queue.messaging.svc.cluster.local", "no such host"],
        "resolution": ["kubectl -n prod logs worker-5f6d8c-d8s2k -c worker --previous",
                       "nslookup queue.messaging.svc.cluster.local",
                       "kubernetes.io/service-name=queue"]}


@scenario
def logs_db_connection_refused() -> tuple[Story, Expected]:
    # libpq's words, as in github.com/bitnami/charts/issues/20222
    st = Story()
    nodes(st, 1)
    report = b.container("report", "registry.example/report:5.0")
    pod = w.bare_pod("nightly-report", "prod", [b.status(report, b.terminated("Error", 2, at(8), at(8, 3)))],
                     containers=[report], created=at(8))
    st.add(pod, at(8, 4))
    st.lines.append(log_line(pod, "report", [
        "2026-11-20 10:08:02 INFO  starting nightly report",
        'psql: error: connection to server at "orders-db.prod.svc.cluster.local" (10.96.14.7), port 5432 failed: '
        "Connection refused",
        "\tIs the server running on that host and accepting TCP/IP connections?"],
        run=0, previous=False, reason="terminated with exit code 2", when=at(8, 5)))
    return st, {
        "description": "a bare pod (restartPolicy Never) exited 2: its log says postgres refused the connection",
        "expected": "container_log_error", "now": NOW, "subject": "Pod/prod/nightly-report",
        "consequences": ["pod_exited_nonzero"], "roots": 1,
        "evidence": ["orders-db.prod.svc.cluster.local", "postgres", "Connection refused"],
        "resolution": ["kubectl -n prod logs nightly-report -c report",
                       "kubernetes.io/service-name=orders-db"]}


@scenario
def logs_http_5xx() -> tuple[Story, Expected]:
    # an access log's 502s as nginx writes them when its upstream is down (combined log format)
    st = Story()
    nodes(st, 1)
    gateway = b.container("gateway", "registry.example/gateway:1.25")
    _, rs = app(st, "gateway", containers=[gateway], replicas=1, helm=False)
    lines = [f'10.244.1.7 - - [20/Nov/2026:10:09:{second:02d} +0000] "GET /api/orders HTTP/1.1" 502 157 "-" '
             f'"curl/8.5.0"' for second in range(10, 16)]
    lines.append("2026/11/20 10:09:16 [emerg] 1#1: too many upstream failures, exiting")
    crashing_pod(st, rs, "gateway-5f6d8c-h5t8r", gateway, lines, exit_code=1)
    return st, {
        "description": "a gateway crash-loops after a burst of 502 responses in its previous log",
        "expected": "container_log_error", "now": NOW, "subject": "Deployment/prod/gateway",
        "consequences": ["crashloop"], "roots": 1, "max_confidence": 0.8,
        "evidence": ["6 HTTP 5xx responses", "502"],
        "resolution": ["kubectl -n prod logs gateway-5f6d8c-h5t8r -c gateway --previous"]}


@scenario
def logs_leader_election_lost() -> tuple[Story, Expected]:
    # client-go's words, as in github.com/kubeovn/kube-ovn/pull/28 and kubernetes/test-infra/issues/21005
    st = Story()
    nodes(st, 1)
    manager = b.container("manager", "registry.example/orders-operator:0.9")
    _, rs = app(st, "orders-operator", containers=[manager], replicas=1, helm=False)
    lines = ["I1120 10:09:01.000000       1 leaderelection.go:258] successfully acquired lease "
             "prod/orders-operator-lock",
             "E1120 10:09:19.492385       1 leaderelection.go:330] failed to renew lease prod/orders-operator-lock: "
             "timed out waiting for the condition",
             "F1120 10:09:19.492390       1 main.go:187] leaderelection lost"]
    crashing_pod(st, rs, "orders-operator-5f6d8c-v2c7w", manager, lines, exit_code=255)
    return st, {
        "description": "an operator crash-loops: it lost its leader election (failed to renew its lease)",
        "expected": "container_log_error", "now": NOW, "subject": "Deployment/prod/orders-operator",
        "consequences": ["crashloop"], "roots": 1,
        "evidence": ["leaderelection lost", "exit code 255"],
        "resolution": ["kubectl -n prod logs orders-operator-5f6d8c-v2c7w -c manager --previous"]}


# --- near misses ----------------------------------------------------------------------------------------------------


@scenario
def logs_unclassified_crashloop() -> tuple[Story, Expected]:
    st = Story()
    nodes(st, 1)
    api = b.container("api", "registry.example/api:2.0")
    _, rs = app(st, containers=[api], replicas=1)
    crashing_pod(st, rs, "api-5f6d8c-u6b3q", api, ["starting api 2.0.0", "loading /etc/api/app.yaml",
                                                   "shutting down"], exit_code=3)
    return st, {
        "description": "a crash loop whose last lines name no cause: crashloop says so, citing the lines; no log claim",
        "expected": "crashloop", "now": NOW, "release": "prod/api", "subject": "Deployment/prod/api",
        "absent": ["container_log_error"], "roots": 1,
        "evidence": ["shutting down"]}


@scenario
def near_miss_logs_healthy_error_lines() -> tuple[Story, Expected]:
    st = Story()
    nodes(st, 1)
    api = b.container("api", "registry.example/api:2.0")
    _, rs = app(st, containers=[api], replicas=1, ready=1)
    pod = b.pod("api-5f6d8c-r8m2x", owner_obj=rs, labels={"app": "api"}, containers=[api], created=at(0, 5),
                statuses=[b.status(api, b.running(at(0, 6)), ready=True)])
    st.add(pod, at(0, 7))
    lines = ["ERROR Error 111 connecting to cache.prod.svc.cluster.local:6379. Connection refused. (retrying in 2s)",
             'psql: error: connection to server at "orders-db.prod.svc.cluster.local" (10.96.14.7), port 5432 '
             "failed: Connection refused",
             "panic: recovered from handler panic: assignment to entry in nil map"]
    lines += [f'10.244.1.7 - - [20/Nov/2026:10:0{i}:00 +0000] "GET /api/orders HTTP/1.1" 503 0 "-" "probe"'
              for i in range(6)]
    st.lines.append(log_line(pod, "api", lines, run=0, previous=False, reason="given", when=at(9)))
    return st, {
        "description": "a running, ready pod whose log holds error-looking lines: it is not failing, nothing to say",
        "expected": "none", "now": NOW}


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_logs.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

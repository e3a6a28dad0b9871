"""Writes the truth_* scenarios: inputs that leave out a field, or hold several containers, so that a pattern
filling the gap with a plausible default, or naming the first container instead of the failing one, is caught
by tests/test_truthful_evidence.py (and the expected.yaml here asks for the honest wording).

    python tests/scenarios/generate_truth.py            rewrite them
    python tests/scenarios/generate_truth.py --check    exit 1 when one on disk differs (CI)

Each gap is one the API server really leaves: a container status whose waiting state has no message (the
kubelet sets one only for some reasons and versions), an event without involvedObject.fieldPath (events
copied by tools that drop it, or from older kubelets), a node condition whose reason and message are empty
(a node-lifecycle controller marking Ready Unknown before any kubelet posted). Messages that are present are
the kubelet's own formats, as in generate_pods.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import builders_pods as b  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.generate_pods import NOW, Expected, Lines, Story, app, at, nodes  # noqa: E402

SCENARIOS = suite.Registry()
scenario = SCENARIOS


@scenario
def truth_crashloop_sidecar() -> tuple[Lines, Expected]:
    """The second of two containers crash-loops, and its waiting state carries no message."""
    st = Story()
    nodes(st, 1)
    proxy = b.container("proxy", "registry.example/envoy:1.31")
    worker = b.container("worker", "registry.example/worker:3.2")
    deploy, rs = app(st, "queue", helm=False, containers=[proxy, worker], replicas=1)
    pod = b.pod("queue-5f6d8c-s1d3c", owner_obj=rs, labels={"app": "queue"}, ready=False,
                containers=[proxy, worker], created=at(0, 5),
                statuses=[b.status(proxy, b.running(at(0, 6)), ready=True),
                          b.status(worker, b.waiting("CrashLoopBackOff"),
                                   last=b.terminated("Error", 2, at(8, 1), at(8, 2)), restarts=7)])
    st.add(pod, at(8, 3))
    return st.lines, {
        "description": "the sidecar runs, the worker (second container) crash-loops; the kubelet gave no message",
        "expected": "crashloop", "now": NOW, "subject": "Deployment/prod/queue",
        "evidence": ["container worker", "exit code 2", "The kubelet gave no message"],
        "resolution": ["kubectl -n prod logs queue-5f6d8c-s1d3c -c worker --previous"], "roots": 1}


@scenario
def truth_probe_no_field_path() -> tuple[Lines, Expected]:
    """A readiness probe event that names no container: the pod's only container is the one, not 'main'."""
    st = Story()
    nodes(st, 1)
    web = b.container("web", "registry.example/shop:5.1", readiness=True)
    deploy, rs = app(st, "shop", helm=False, containers=[web], replicas=1)
    pod = b.pod("shop-5f6d8c-p0r8e", owner_obj=rs, labels={"app": "shop"}, ready=False, containers=[web],
                created=at(0, 5))
    st.add(pod, at(0, 10))
    st.add(b.event(pod, "Unhealthy", 'Readiness probe failed: Get "http://10.244.1.23:8080/healthz": dial tcp '
                   "10.244.1.23:8080: connect: connection refused", count=40, first=at(0, 15), last=at(9, 50)),
           at(9, 50))
    return st.lines, {
        "description": "a readiness probe fails; its event has no fieldPath, the pod has one container (web)",
        "expected": "probe_failing", "now": NOW, "subject": "Deployment/prod/shop",
        "evidence": ["container web", "connection refused"], "roots": 1}


@scenario
def truth_node_not_ready_no_message() -> tuple[Lines, Expected]:
    """A node whose Ready condition is Unknown with neither reason nor message."""
    st = Story()
    st.add(b.node("node-1"), "2026-11-20T09:00:00Z")
    silent = b.node("node-7", ready="Unknown", at=at(3))
    ready = silent["status"]["conditions"][-1]
    del ready["reason"], ready["message"]
    st.add(silent, at(3))
    main = b.container("cache", "registry.example/redis:7.4")
    deploy, rs = app(st, "cache", helm=False, containers=[main], replicas=1, ready=0)
    st.add(b.pod("cache-5f6d8c-n7d7e", owner_obj=rs, labels={"app": "cache"}, node="node-7", ready=False,
                 containers=[main], created="2026-11-20T08:00:00Z"), at(3, 5))
    return st.lines, {
        "description": "node-7 is Ready Unknown and its condition gives no reason and no message",
        "expected": "node_not_ready", "now": NOW, "subject": "Node//node-7",
        "evidence": ["node-7", "no message", "cache-5f6d8c-n7d7e"], "roots": 1}


@scenario
def truth_oom_second_container() -> tuple[Lines, Expected]:
    """The second container is OOMKilled; the two containers have different memory limits, and the graph does
    not record which limit is whose: the diagnosis names the killed container and lists the limits as such."""
    st = Story()
    nodes(st, 1)
    proxy = b.container("proxy", "registry.example/envoy:1.31", memory_limit="128Mi")
    indexer = b.container("indexer", "registry.example/indexer:4.0", memory_limit="1Gi")
    deploy, rs = app(st, "search", helm=False, containers=[proxy, indexer], replicas=1)
    pod = b.pod("search-5f6d8c-o0m2c", owner_obj=rs, labels={"app": "search"}, ready=False,
                containers=[proxy, indexer], created=at(0, 5),
                statuses=[b.status(proxy, b.running(at(0, 6)), ready=True),
                          b.status(indexer, b.waiting("CrashLoopBackOff", "back-off 2m40s restarting failed container"),
                                   last=b.terminated("OOMKilled", 137, at(8, 0), at(8, 45)), restarts=4)])
    st.add(pod, at(8, 46))
    return st.lines, {
        "description": "the indexer (second of two containers, limits 128Mi and 1Gi) is OOMKilled",
        "expected": "oom_killed", "now": NOW, "subject": "Deployment/prod/search",
        "evidence": ["Container indexer of search-5f6d8c-o0m2c was OOMKilled", "128Mi, 1Gi", "is not recorded"],
        "resolution": ["kubectl -n prod logs search-5f6d8c-o0m2c -c indexer --previous"], "roots": 1}


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_truth.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

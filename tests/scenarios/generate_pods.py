"""Writes the pod and workload failure scenarios: objects.jsonl and expected.yaml of every folder listed here.

    python tests/scenarios/generate_pods.py            rewrite them
    python tests/scenarios/generate_pods.py --check    exit 1 when one on disk differs (CI)

Each scenario is a function returning its input lines (in delivery order) and what must come out;
RECORDED lists the scenarios whose input is a real recording (tests/e2e/recordings), expected.yaml only.
Near-misses are named after the pattern they must not trigger (crashloop_restarted_once_healthy).
Messages are the kubelet's, the scheduler's and the controllers' own, from
../shared/reference/failure-messages.jsonl. Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import builders_pods as b  # noqa: E402
from tests.scenarios import suite  # noqa: E402

Obj = dict[str, Any]
Expected = dict[str, Any]
Lines = list[Obj]
NOW = "2026-11-20T10:10:00Z"
NS = b.NS
SCENARIOS = suite.Registry()
scenario = SCENARIOS


class Story:
    """Input lines in the order a watcher delivers them; each object is copied when it is added."""

    def __init__(self) -> None:
        self.lines: Lines = []

    def add(self, obj: Obj, when: str = b.T0, action: str = "ADDED") -> Obj:
        self.lines.append(suite.watch_event(copy.deepcopy(obj), when, action))
        return obj

    def update(self, obj: Obj, when: str) -> Obj:
        """A later state of an object added before (same uid, newer resourceVersion)."""
        obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1_000_000)
        return self.add(obj, when, "MODIFIED")


def app(st: Story, name: str = "api", namespace: str = NS, *, helm: bool = True, replicas: int = 2,
        ready: int = 0, containers: list[Obj] | None = None, suffix: str = "5f6d8c",
        progressing: tuple[str, str, str] | None = None, release_status: str = "deployed",
        release_description: str | None = None) -> tuple[Obj, Obj]:
    """A Deployment (managed by Helm release `name` revision 2 when ``helm``), its ReplicaSet and node."""
    if helm:
        for secret in b.helm_revisions(name, namespace, latest_status=release_status,
                                       latest_description=release_description, latest_at="2026-11-20T09:58:00Z",
                                       kinds=(("apps/v1", "Deployment", name),)):
            st.add(secret, "2026-11-20T09:58:01Z")
    deploy = b.deployment(name, namespace, release=name if helm else None, replicas=replicas, ready=ready,
                          containers=containers, created="2026-11-19T09:00:00Z", progressing=progressing,
                          progressing_at="2026-11-20T10:08:00Z")
    st.add(deploy, "2026-11-20T09:58:02Z")
    rs = b.replicaset(deploy, suffix, ready=ready, created="2026-11-20T09:58:02Z")
    st.add(rs, "2026-11-20T09:58:02Z")
    return deploy, rs


def nodes(st: Story, count: int = 3) -> list[Obj]:
    made = [b.node(f"node-{i}") for i in range(1, count + 1)]
    for n in made:
        st.add(n, "2026-11-20T09:00:00Z")
    return made


def at(minute: int, second: int = 0) -> str:
    return f"2026-11-20T10:{minute:02d}:{second:02d}Z"


def backoff_event(pod: Obj, count: int) -> Obj:
    m = pod["metadata"]
    return b.event(pod, "BackOff", f"Back-off restarting failed container main in pod {m['name']}_{m['namespace']}"
                   f"({m['uid']})", count=count, first=at(0, 40), last=at(9, 30), field_path="spec.containers{main}")


# --- crashloop ----------------------------------------------------------------------------------


@scenario
def crashloop() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st)
    main = b.container(image="registry.example/api:2.0")
    deploy, rs = app(st, containers=[main])
    for name, restarts in (("api-5f6d8c-k2x9p", 6), ("api-5f6d8c-q7w4z", 5)):
        pod = b.pod(name, owner_obj=rs, labels={"app": "api"}, ready=False, containers=[main], created=at(0, 5),
                    statuses=[b.status(main, b.waiting("CrashLoopBackOff", "back-off 5m0s restarting failed "
                                                       f"container=main pod={name}_prod(uid)"),
                                       last=b.terminated("Error", 1, at(9, 20), at(9, 21), "panic: dial tcp "
                                                         "10.96.14.7:5432: connect: connection refused"),
                                       restarts=restarts)])
        st.add(pod, at(9, 22))
        st.add(backoff_event(pod, 24), at(9, 30))
    return st.lines, {
        "description": "two pods of a Helm release crash on start (exit 1, the database refuses connections)",
        "expected": "crashloop", "now": NOW, "release": "prod/api", "subject": "Deployment/prod/api",
        "evidence": ["api-5f6d8c-k2x9p", "CrashLoopBackOff", "exit code 1", "connection refused"],
        "resolution": ["kubectl -n prod logs api-5f6d8c-k2x9p -c main --previous", "helm rollback api 1 -n prod"],
        "roots": 1}


@scenario
def crashloop_wait_timeout() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(image="registry.example/api:2.1")
    deploy, rs = app(st, containers=[main], replicas=1, release_status="failed",
                     release_description=b.wait_failed("api"))
    pod = b.pod("api-5f6d8c-w4i7t", owner_obj=rs, labels={"app": "api"}, ready=False, containers=[main],
                created=at(0, 5),
                statuses=[b.status(main, b.waiting("CrashLoopBackOff", "back-off 2m40s restarting failed container"),
                                   last=b.terminated("Error", 1, at(4), at(4, 2),
                                                     "Error: required key DATABASE_URL missing value"), restarts=5)])
    st.add(pod, at(4, 3))
    st.add(backoff_event(pod, 17), at(9, 30))
    return st.lines, {
        "description": "`helm upgrade --wait` timed out (context deadline exceeded) because the new pod crash-loops",
        "expected": "crashloop", "now": NOW, "release": "prod/api", "consequences": ["wait_timeout"],
        "evidence": ["api-5f6d8c-w4i7t", "exit code 1", "DATABASE_URL"],
        "resolution": ["helm rollback api 1 -n prod"], "roots": 1}


@scenario
def crashloop_command_not_found() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(image="registry.example/worker:3.1")
    deploy, rs = app(st, "worker", "batch", helm=False, replicas=1, containers=[main], suffix="66c7d9")
    pod = b.pod("worker-66c7d9-x8v2n", "batch", owner_obj=rs, labels={"app": "worker"}, ready=False,
                containers=[main], created=at(1),
                statuses=[b.status(main, b.waiting("CrashLoopBackOff", "back-off 2m40s restarting failed container"),
                                   last=b.terminated("Error", 127, at(8, 10), at(8, 10)), restarts=4)])
    st.add(pod, at(8, 11))
    st.add(backoff_event(pod, 9), at(9, 30))
    return st.lines, {
        "description": "a plain Deployment whose command is missing from the image (exit 127)",
        "expected": "crashloop", "now": NOW, "subject": "Deployment/batch/worker",
        "evidence": ["worker-66c7d9-x8v2n", "exit code 127", "not found"],
        "resolution": ["kubectl -n batch logs worker-66c7d9-x8v2n -c main --previous",
                       "kubectl -n batch rollout undo deployment/worker"]}


@scenario
def crashloop_rollout_stuck() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(image="registry.example/web:5.0")
    deploy, rs = app(st, "web", "shop", helm=False, replicas=2, ready=0, containers=[main], suffix="7b8f9d",
                     progressing=("False", "ProgressDeadlineExceeded",
                                  'ReplicaSet "web-7b8f9d" has timed out progressing.'))
    pod = b.pod("web-7b8f9d-h5j6k", "shop", owner_obj=rs, labels={"app": "web"}, ready=False, containers=[main],
                created=at(0, 5),
                statuses=[b.status(main, b.waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container"),
                                   last=b.terminated("Error", 2, at(7), at(7, 1),
                                                     "Error: unknown flag: --listen-addr"), restarts=7)])
    st.add(pod, at(7, 2))
    st.add(backoff_event(pod, 30), at(9, 30))
    return st.lines, {
        "description": "a crash loop (exit 2, bad flag) that made the Deployment pass its progress deadline",
        "expected": "crashloop", "now": NOW, "subject": "Deployment/shop/web",
        "evidence": ["web-7b8f9d-h5j6k", "exit code 2", "unknown flag"], "consequences": ["rollout_stuck"],
        "resolution": ["kubectl -n shop rollout undo deployment/web"], "roots": 1}


@scenario
def crashloop_restarted_once_healthy() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container()
    deploy, rs = app(st, ready=1, replicas=1, containers=[main])
    pod = b.pod("api-5f6d8c-m3n4b", owner_obj=rs, labels={"app": "api"}, ready=True, containers=[main],
                created=at(0, 5),
                statuses=[b.status(main, b.running(at(0, 40)), ready=True, restarts=1,
                                   last=b.terminated("Error", 1, at(0, 6), at(0, 30)))])
    st.add(pod, at(0, 41))
    st.add(b.event(pod, "BackOff", "Back-off restarting failed container main in pod api-5f6d8c-m3n4b_prod",
                   first=at(0, 31), field_path="spec.containers{main}"), at(0, 31))
    return st.lines, {"description": "a pod that crashed once at start and has run fine since: no finding",
                      "expected": "none", "now": NOW}


# --- oom_killed ---------------------------------------------------------------------------------


@scenario
def oom_killed() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(image="registry.example/api:2.0", memory_limit="256Mi")
    deploy, rs = app(st, replicas=1, containers=[main])
    pod = b.pod("api-5f6d8c-r8t2y", owner_obj=rs, labels={"app": "api"}, ready=False, containers=[main],
                created=at(0, 5),
                statuses=[b.status(main, b.waiting("CrashLoopBackOff", "back-off 2m40s restarting failed container"),
                                   last=b.terminated("OOMKilled", 137, at(8, 0), at(8, 45)), restarts=5)])
    st.add(pod, at(8, 46))
    st.add(backoff_event(pod, 14), at(9, 30))
    return st.lines, {
        "description": "a Helm release's container grows past its 256Mi limit and is killed (exit 137)",
        "expected": "oom_killed", "now": NOW, "release": "prod/api", "subject": "Deployment/prod/api",
        "evidence": ["api-5f6d8c-r8t2y", "OOMKilled", "256Mi", "137"], "consequences": ["crashloop"],
        "resolution": ["helm upgrade api <chart> -n prod --reuse-values --set resources.limits.memory=512Mi",
                       "kubectl -n prod logs api-5f6d8c-r8t2y -c main --previous"], "roots": 1}


@scenario
def oom_killed_running_again() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(image="registry.example/cache:7.2", memory_limit="1Gi")
    sts = b.statefulset("cache", "data", replicas=1, ready=1)
    st.add(sts)
    pod = b.pod("cache-0", "data", owner_obj=sts, labels={"app": "cache"}, ready=True, containers=[main],
                created="2026-11-20T08:00:00Z",
                statuses=[b.status(main, b.running(at(6)), ready=True, restarts=4,
                                   last=b.terminated("OOMKilled", 137, at(2), at(5, 58)))])
    st.add(pod, at(6, 1))
    return st.lines, {
        "description": "a StatefulSet pod OOM-killed four times, running again between kills",
        "expected": "oom_killed", "now": NOW, "subject": "StatefulSet/data/cache",
        "evidence": ["cache-0", "OOMKilled", "1Gi"],
        "resolution": ["kubectl -n data set resources statefulset/cache -c main --limits=memory=2Gi"]}


@scenario
def oom_killed_once_running() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(memory_limit="512Mi")
    deploy, rs = app(st, replicas=1, ready=1, containers=[main])
    pod = b.pod("api-5f6d8c-p0o9i", owner_obj=rs, labels={"app": "api"}, ready=True, containers=[main],
                created="2026-11-20T06:00:00Z",
                statuses=[b.status(main, b.running("2026-11-20T07:12:00Z"), ready=True, restarts=1,
                                   last=b.terminated("OOMKilled", 137, "2026-11-20T06:00:10Z",
                                                     "2026-11-20T07:11:58Z"))])
    st.add(pod, at(1))
    return st.lines, {"description": "one OOM kill three hours ago, running and ready since: no finding",
                      "expected": "none", "now": NOW}


# --- image_pull_backoff -------------------------------------------------------------------------


def pulling_pod(st: Story, rs: Obj, name: str, image: str, message: str, *, namespace: str = NS,
                label: str = "api") -> Obj:
    main = b.container(image=image)
    pod = b.pod(name, namespace, owner_obj=rs, labels={"app": label}, ready=False, phase="Pending",
                containers=[main], created=at(0, 5),
                statuses=[b.status(main, b.waiting("ImagePullBackOff", f'Back-off pulling image "{image}"'))])
    st.add(pod, at(1, 10))
    st.add(b.event(pod, "Failed", message, count=6, first=at(0, 8), last=at(8, 50),
                   field_path="spec.containers{main}"), at(8, 50))
    st.add(b.event(pod, "Failed", "Error: ErrImagePull", count=6, first=at(0, 8), last=at(8, 50),
                   field_path="spec.containers{main}"), at(8, 50))
    st.add(b.event(pod, "BackOff", f'Back-off pulling image "{image}"', type_="Normal", count=31, first=at(0, 20),
                   last=at(9, 40), field_path="spec.containers{main}"), at(9, 40))
    return pod


@scenario
def image_pull_backoff_rate_limit() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    image = "docker.io/obsidiandynamics/kafdrop:latest"
    deploy, rs = app(st, "kafdrop", containers=[b.container(image=image)], replicas=1)
    pulling_pod(st, rs, "kafdrop-5f6d8c-w2e3r", image, label="kafdrop",
                message=f'Failed to pull image "{image}": rpc error: code = Unknown desc = Error reading manifest '
                        "latest in docker.io/obsidiandynamics/kafdrop: toomanyrequests: You have reached your "
                        "pull rate limit. You may increase the limit by authenticating and upgrading: "
                        "https://www.docker.com/increase-rate-limit")
    return st.lines, {
        "description": "Docker Hub rate-limits the pulls of a Helm release's image (toomanyrequests, 429)",
        "expected": "image_pull_backoff", "now": NOW, "release": "prod/kafdrop",
        "evidence": ["kafdrop-5f6d8c-w2e3r", "429", "toomanyrequests"],
        "resolution": ["create secret docker-registry regcred --docker-server=docker.io"]}


@scenario
def image_pull_backoff_manifest_unknown() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    image = "registry.example/api:2.0.1"
    deploy, rs = app(st, containers=[b.container(image=image)], replicas=1)
    pulling_pod(st, rs, "api-5f6d8c-t5y6u", image,
                message=f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                        f'unpack image "{image}": failed to resolve reference "{image}": '
                        f"{image}: not found")
    return st.lines, {
        "description": "the Helm release points at a tag that does not exist",
        "expected": "image_pull_backoff", "now": NOW, "release": "prod/api", "subject": "Deployment/prod/api",
        "evidence": ["api-5f6d8c-t5y6u", "registry.example/api:2.0.1", "does not exist"],
        "resolution": ["helm upgrade api <chart> -n prod --reuse-values --set image.tag=",
                       "helm rollback api 1 -n prod"]}


@scenario
def image_pull_backoff_docker_manifest_unknown() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    image = "oamdev/vela-core:0.3.1"
    deploy, rs = app(st, "vela-core", "vela-system", helm=False, containers=[b.container(image=image)], replicas=1)
    pulling_pod(st, rs, "vela-core-5f6d8c-k0l9m", image, namespace="vela-system", label="vela-core",
                message=f'Failed to pull image "{image}": rpc error: code = Unknown desc = Error response from daemon: '
                        "manifest for oamdev/vela-core:0.3.1 not found: manifest unknown: manifest unknown")
    return st.lines, {
        "description": "dockershim's wording of a tag that does not exist (manifest unknown), no Helm",
        "expected": "image_pull_backoff", "now": NOW, "subject": "Deployment/vela-system/vela-core",
        "evidence": ["vela-core-5f6d8c-k0l9m", "manifest unknown", "docker.io"],
        "resolution": ["kubectl -n vela-system set image deployment/vela-core "
                       "main=oamdev/vela-core:<a tag that exists>"]}


@scenario
def image_pull_backoff_unauthorized() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    image = "registry.example/team/billing:4.2"
    deploy, rs = app(st, "billing", "finance", helm=False, containers=[b.container(image=image)], replicas=1)
    pulling_pod(st, rs, "billing-5f6d8c-a1s2d", image, namespace="finance", label="billing",
                message=f'Failed to pull image "{image}": rpc error: code = Unknown desc = failed to pull and unpack '
                        f'image "{image}": failed to resolve reference "{image}": failed to authorize: failed to '
                        "fetch oauth token: unexpected status from GET request to "
                        "https://registry.example/token?scope=repository%3Ateam%2Fbilling%3Apull&service=registry: "
                        "401 Unauthorized")
    return st.lines, {
        "description": "a private registry refuses the pull: no imagePullSecrets (401 Unauthorized)",
        "expected": "image_pull_backoff", "now": NOW, "subject": "Deployment/finance/billing",
        "evidence": ["billing-5f6d8c-a1s2d", "unauthorized", "401 Unauthorized"],
        "resolution": ["kubectl -n finance create secret docker-registry regcred --docker-server=registry.example",
                       "kubectl -n finance rollout undo deployment/billing"]}


@scenario
def image_pull_backoff_pulled_after_retry() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    image = "docker.io/library/nginx:1.27"
    main = b.container(image=image)
    deploy, rs = app(st, "web", containers=[main], replicas=1, ready=1)
    pod = b.pod("web-5f6d8c-z9x8c", owner_obj=rs, labels={"app": "web"}, ready=False, phase="Pending",
                containers=[main], created=at(0, 5), statuses=[b.status(main, b.waiting("ErrImagePull"))])
    st.add(pod, at(0, 9))
    st.add(b.event(pod, "Failed", f'Failed to pull image "{image}": toomanyrequests: You have reached your pull '
                   "rate limit.", first=at(0, 8)), at(0, 8))
    pod["status"] = b.pod("web-5f6d8c-z9x8c", owner_obj=rs, containers=[main], created=at(0, 5))["status"]
    pod["status"]["containerStatuses"][0]["state"] = b.running(at(0, 40))
    st.update(pod, at(0, 41))
    return st.lines, {"description": "one pull refused (429), the retry pulled and the pod runs: no finding",
                      "expected": "none", "now": NOW}


# --- pod_unschedulable --------------------------------------------------------------------------


def pending_pod(st: Story, owner: Obj, name: str, message: str, *, namespace: str = NS, label: str = "api",
                volumes: list[Obj] = (), main: Obj | None = None, count: int = 12) -> Obj:
    main = main or b.container(cpu_request="2", memory_request="6Gi")
    pod = b.pod(name, namespace, owner_obj=owner, labels={"app": label}, node=None, phase="Pending", ready=False,
                containers=[main], volumes=list(volumes), created=at(0, 5), scheduled_message=message)
    st.add(pod, at(0, 6))
    st.add(b.event(pod, "FailedScheduling", message, count=count, first=at(0, 6), last=at(9, 6),
                   component="default-scheduler"), at(9, 6))
    return pod


@scenario
def pod_unschedulable() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st)
    main = b.container(memory_request="6Gi")
    deploy, rs = app(st, containers=[main], replicas=3, ready=2)
    pending_pod(st, rs, "api-5f6d8c-c4v5b", main=main,
                message="0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
                        "3 No preemption victims found for incoming pod.")
    return st.lines, {
        "description": "a Helm release's third replica asks for more memory than any node has free",
        "expected": "pod_unschedulable", "now": NOW, "release": "prod/api", "subject": "Deployment/prod/api",
        "evidence": ["api-5f6d8c-c4v5b", "Insufficient memory", "0/3 nodes are available"],
        "resolution": ["kubectl -n prod set resources deployment/api --requests=memory=<less>"]}


@scenario
def pod_unschedulable_wait_timeout() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st)
    main = b.container(cpu_request="8")
    deploy, rs = app(st, containers=[main], replicas=1, release_status="failed",
                     release_description='Upgrade "api" failed: timed out waiting for the condition')
    pending_pod(st, rs, "api-5f6d8c-v8b9n", main=main,
                message="0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
                        "3 No preemption victims found for incoming pod.")
    return st.lines, {
        "description": "`helm upgrade --wait` timed out (helm < 3.12 wording): the new pod asks for 8 cpus",
        "expected": "pod_unschedulable", "now": NOW, "release": "prod/api", "consequences": ["wait_timeout"],
        "evidence": ["api-5f6d8c-v8b9n", "Insufficient cpu"],
        "resolution": ["kubectl -n prod set resources deployment/api --requests=cpu=<less>"], "roots": 1}


@scenario
def pod_unschedulable_taint() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st)
    deploy, rs = app(st, "trainer", "ml", helm=False, replicas=1)
    pending_pod(st, rs, "trainer-5f6d8c-g6h7j", namespace="ml", label="trainer",
                message="0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/"
                        "control-plane: }, 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes "
                        "are available: 3 Preemption is not helpful for scheduling.")
    return st.lines, {
        "description": "every node carries a taint the pod does not tolerate",
        "expected": "pod_unschedulable", "now": NOW, "subject": "Deployment/ml/trainer",
        "evidence": ["trainer-5f6d8c-g6h7j", "untolerated taint", "dedicated: gpu"],
        "resolution": ["kubectl taint nodes <node> <key>:<effect>-"]}


@scenario
def pod_unschedulable_unbound_pvc() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    sts = b.statefulset("db", "data", replicas=1, ready=0)
    st.add(sts)
    st.add(b.pvc("data-db-0", "data", phase="Pending", storage_class="fast-ssd"))
    pending_pod(st, sts, "db-0", namespace="data", label="db",
                volumes=[b.volume("data", "PersistentVolumeClaim", "data-db-0")],
                message="0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: "
                        "0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
    return st.lines, {
        "description": "a StatefulSet pod waits for a claim no storage class provisions",
        "expected": "pod_unschedulable", "now": NOW, "subject": "StatefulSet/data/db",
        "evidence": ["db-0", "data-db-0", "unbound immediate PersistentVolumeClaims", "fast-ssd"],
        "resolution": ["kubectl -n data describe pvc data-db-0"]}


@scenario
def pod_unschedulable_pending_2s_then_scheduled() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st)
    main = b.container()
    deploy, rs = app(st, containers=[main], replicas=1, ready=1)
    pod = pending_pod(st, rs, "api-5f6d8c-l1k2j", main=main, count=1,
                      message="0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
                              "3 No preemption victims found for incoming pod.")
    scheduled = b.pod("api-5f6d8c-l1k2j", owner_obj=rs, labels={"app": "api"}, node="node-2", containers=[main],
                      created=at(0, 5))
    scheduled["metadata"]["resourceVersion"] = pod["metadata"]["resourceVersion"]
    st.update(scheduled, at(0, 8))
    return st.lines, {"description": "Pending for two seconds until a node freed up, then scheduled: no finding",
                      "expected": "none", "now": NOW}


# --- probe_failing ------------------------------------------------------------------------------


@scenario
def probe_failing_readiness() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(readiness=True)
    deploy, rs = app(st, containers=[main], replicas=1)
    pod = b.pod("api-5f6d8c-f3g4h", owner_obj=rs, labels={"app": "api"}, ready=False, containers=[main],
                created=at(0, 5))
    st.add(pod, at(0, 10))
    st.add(b.event(pod, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=58,
                   first=at(0, 15), last=at(9, 55), field_path="spec.containers{main}"), at(9, 55))
    return st.lines, {
        "description": "a Helm release's pod runs but its readiness endpoint answers 503",
        "expected": "probe_failing", "now": NOW, "release": "prod/api",
        "evidence": ["api-5f6d8c-f3g4h", "Readiness probe failed", "503"],
        "resolution": ["kubectl -n prod get pod api-5f6d8c-f3g4h -o jsonpath='{.spec.containers[*].readinessProbe}'"]}


@scenario
def probe_failing_liveness() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(image="registry.example/jenkins:2.440", liveness=True)
    deploy, rs = app(st, "jenkins", "ci", helm=False, containers=[main], replicas=1)
    pod = b.pod("jenkins-5f6d8c-u7i8o", "ci", owner_obj=rs, labels={"app": "jenkins"}, ready=False,
                containers=[main], created=at(0, 5),
                statuses=[b.status(main, b.waiting("CrashLoopBackOff", "back-off 1m20s restarting failed container"),
                                   last=b.terminated("Error", 137, at(7), at(8, 30)), restarts=3)])
    st.add(pod, at(8, 31))
    st.add(b.event(pod, "Unhealthy", 'Liveness probe failed: Get "http://10.244.2.117:8080/login": context deadline '
                   "exceeded (Client.Timeout exceeded while awaiting headers)", count=9, first=at(1, 30),
                   last=at(8, 29), field_path="spec.containers{main}"), at(8, 29))
    st.add(b.event(pod, "Killing", "Container main failed liveness probe, will be restarted", type_="Normal", count=3,
                   first=at(2, 0), last=at(8, 30), field_path="spec.containers{main}"), at(8, 30))
    st.add(backoff_event(pod, 5), at(9, 30))
    return st.lines, {
        "description": "a liveness probe that times out makes the kubelet restart the container into a crash loop",
        "expected": "probe_failing", "now": NOW, "subject": "Deployment/ci/jenkins",
        "evidence": ["jenkins-5f6d8c-u7i8o", "Liveness probe failed", "failed liveness probe, will be restarted"],
        "consequences": ["crashloop"], "roots": 1,
        "resolution": ["kubectl -n ci logs jenkins-5f6d8c-u7i8o -c main --previous"]}


@scenario
def probe_failing_startup_then_ready() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(readiness=True)
    deploy, rs = app(st, containers=[main], replicas=1, ready=1)
    pod = b.pod("api-5f6d8c-b5n6m", owner_obj=rs, labels={"app": "api"}, ready=True, containers=[main],
                created=at(0, 5))
    st.add(pod, at(0, 40))
    st.add(b.event(pod, "Unhealthy", 'Readiness probe failed: Get "http://10.244.0.6:8000/status": dial tcp '
                   "10.244.0.6:8000: connect: connection refused", count=2, first=at(0, 15), last=at(0, 25),
                   field_path="spec.containers{main}"), at(0, 25))
    return st.lines, {"description": "readiness failed twice while the app started, then ready: no finding",
                      "expected": "none", "now": NOW}


# --- evicted ------------------------------------------------------------------------------------


@scenario
def evicted() -> tuple[Lines, Expected]:
    st = Story()
    st.add(b.node("node-1"), "2026-11-20T09:00:00Z")
    st.add(b.node("node-2", pressure=("MemoryPressure",), at=at(3),
                  taints=[{"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule",
                           "timeAdded": at(3)}]), at(3))
    main = b.container(image="registry.example/report:1.4", memory_request="512Mi")
    deploy, rs = app(st, "report", "analytics", helm=False, containers=[main], replicas=2, ready=2)
    message = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 20948Ki. Container main "
               "was using 25378008Ki, request is 512Mi, has larger consumption of memory. ")
    for name in ("report-5f6d8c-e1v2i", "report-5f6d8c-e3v4i"):
        pod = b.pod(name, "analytics", owner_obj=rs, labels={"app": "report"}, node="node-2", phase="Failed",
                    ready=False, containers=[main], created=at(0, 5), reason="Evicted", message=message,
                    statuses=[b.status(main, b.terminated("ContainerStatusUnknown", 137, at(0, 6), at(3, 5)))])
        st.add(pod, at(3, 6))
        st.add(b.event(pod, "Evicted", message, first=at(3, 4)), at(3, 4))
    for name in ("report-5f6d8c-n1w2x", "report-5f6d8c-n3w4x"):
        st.add(b.pod(name, "analytics", owner_obj=rs, labels={"app": "report"}, node="node-1", containers=[main],
                     created=at(3, 10)), at(3, 30))
    return st.lines, {
        "description": "two pods evicted from node-2 under memory pressure (using 24Gi on a 512Mi request)",
        "expected": "evicted", "now": NOW, "subject": "Deployment/analytics/report",
        "evidence": ["report-5f6d8c-e1v2i", "node-2", "memory", "25378008Ki", "MemoryPressure"],
        "resolution": ["kubectl describe node node-2",
                       "kubectl -n analytics set resources deployment/report -c main --requests=memory=<at least "
                       "25378008Ki>"]}


# --- create_container_config_error --------------------------------------------------------------


@scenario
def create_container_config_error() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(env=[b.env_from_key("DB_HOST", "ConfigMap", "api-config", "db_host")])
    deploy, rs = app(st, containers=[main], replicas=1)
    pod = b.pod("api-5f6d8c-j8k9l", owner_obj=rs, labels={"app": "api"}, ready=False, phase="Pending",
                containers=[main], created=at(0, 5),
                statuses=[b.status(main, b.waiting("CreateContainerConfigError", 'configmap "api-config" not found'))])
    st.add(pod, at(0, 9))
    st.add(b.event(pod, "Failed", 'Error: configmap "api-config" not found', count=44, first=at(0, 8),
                   last=at(9, 50), field_path="spec.containers{main}"), at(9, 50))
    return st.lines, {
        "description": "a Helm release's pod reads DB_HOST from a ConfigMap that does not exist",
        "expected": "create_container_config_error", "now": NOW, "release": "prod/api",
        "subject": "Deployment/prod/api",
        "evidence": ["api-5f6d8c-j8k9l", "api-config", 'configmap "api-config" not found'],
        "resolution": ["kubectl -n prod create configmap api-config --from-literal=<key>=<value>"]}


@scenario
def create_container_config_error_missing_key() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(b.secret("aegis-secret", "default", keys=("password", "username")))
    main = b.container(env=[b.env_from_key("VALUE", "Secret", "aegis-secret", "VALUE")])
    deploy, rs = app(st, "aegis", "default", helm=False, containers=[main], replicas=1)
    pod = b.pod("aegis-5f6d8c-q1w2e", "default", owner_obj=rs, labels={"app": "aegis"}, ready=False,
                phase="Pending", containers=[main], created=at(0, 5),
                statuses=[b.status(main, b.waiting("CreateContainerConfigError",
                                                   "couldn't find key VALUE in Secret default/aegis-secret"))])
    st.add(pod, at(0, 9))
    st.add(b.event(pod, "Failed", "Error: couldn't find key VALUE in Secret default/aegis-secret", count=40,
                   first=at(0, 8), last=at(9, 50), field_path="spec.containers{main}"), at(9, 50))
    return st.lines, {
        "description": "the Secret exists but lacks the key the pod's env asks for",
        "expected": "create_container_config_error", "now": NOW, "subject": "Deployment/default/aegis",
        "evidence": ["aegis-5f6d8c-q1w2e", "aegis-secret", "no key VALUE"],
        "resolution": ["kubectl -n default patch secret aegis-secret --type merge -p "
                       "'{\"stringData\":{\"VALUE\":\"<value>\"}}'"]}


# --- failed_mount -------------------------------------------------------------------------------


def mounting_pod(st: Story, rs: Obj, name: str, volume: Obj, *, namespace: str = NS, label: str = "api") -> Obj:
    main = b.container(mounts=[volume["name"]])
    return b.pod(name, namespace, owner_obj=rs, labels={"app": label}, ready=False, phase="Pending",
                 containers=[main], volumes=[volume], created=at(0, 5),
                 statuses=[b.status(main, b.waiting("ContainerCreating"))])


@scenario
def failed_mount() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy, rs = app(st, "contour", "projectcontour", replicas=1)
    pod = mounting_pod(st, rs, "contour-5f6d8c-o9p8i", b.volume("contourcert", "Secret", "contourcert"),
                       namespace="projectcontour", label="contour")
    st.add(pod, at(0, 6))
    st.add(b.event(pod, "FailedMount", 'MountVolume.SetUp failed for volume "contourcert" : secret "contourcert" '
                   "not found", count=13, first=at(0, 6), last=at(8, 14)), at(8, 14))
    st.add(b.event(pod, "FailedMount", "Unable to attach or mount volumes: unmounted volumes=[contourcert], "
                   "unattached volumes=[contourcert kube-api-access-7x2lq]: timed out waiting for the condition",
                   count=4, first=at(2, 8), last=at(8, 20)), at(8, 20))
    return st.lines, {
        "description": "a Helm release's pod mounts a TLS Secret nobody created",
        "expected": "failed_mount", "now": NOW, "release": "projectcontour/contour",
        "evidence": ["contour-5f6d8c-o9p8i", "contourcert", 'secret "contourcert" not found'],
        "resolution": ["kubectl -n projectcontour create secret generic contourcert"]}


@scenario
def failed_mount_secret_arrived_late() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy, rs = app(st, replicas=1, ready=1)
    pod = mounting_pod(st, rs, "api-5f6d8c-y6t5r", b.volume("tls", "Secret", "api-tls"))
    st.add(pod, at(0, 6))
    st.add(b.event(pod, "FailedMount", 'MountVolume.SetUp failed for volume "tls" : secret "api-tls" not found',
                   count=2, first=at(0, 6), last=at(0, 8)), at(0, 8))
    st.add(b.secret("api-tls", keys=("tls.crt", "tls.key")), at(0, 9))
    running = b.pod("api-5f6d8c-y6t5r", owner_obj=rs, labels={"app": "api"},
                    containers=pod["spec"]["containers"], volumes=pod["spec"]["volumes"], created=at(0, 5))
    running["metadata"]["resourceVersion"] = pod["metadata"]["resourceVersion"]
    st.update(running, at(0, 20))
    return st.lines, {"description": "the Secret arrived a few seconds after the pod, which then started: no finding",
                      "expected": "none", "now": NOW}


# --- rollout_stuck ------------------------------------------------------------------------------


@scenario
def rollout_stuck() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = b.container(readiness=True)
    deploy, rs = app(st, containers=[main], replicas=2, ready=0,
                     progressing=("False", "ProgressDeadlineExceeded",
                                  'ReplicaSet "api-5f6d8c" has timed out progressing.'))
    for name in ("api-5f6d8c-s1d2f", "api-5f6d8c-s3d4f"):
        st.add(b.pod(name, owner_obj=rs, labels={"app": "api"}, ready=False, containers=[main],
                     created="2026-11-20T09:58:03Z"), at(0, 30))
    return st.lines, {
        "description": "new pods run but never become ready (their probe events expired): the rollout timed out",
        "expected": "rollout_stuck", "now": NOW, "release": "prod/api", "subject": "Deployment/prod/api",
        "evidence": ["has timed out progressing", "api-5f6d8c-s1d2f", "not ready"],
        "resolution": ["helm rollback api 1 -n prod", "kubectl -n prod describe replicaset api-5f6d8c"]}


# --- quota_exceeded -----------------------------------------------------------------------------


@scenario
def quota_exceeded() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st)
    deploy, rs = app(st, "veryfront-renderer", replicas=4, ready=3, suffix="6f7989d755")
    for i in range(3):
        st.add(b.pod(f"veryfront-renderer-6f7989d755-r{i}k{i}z", owner_obj=rs, labels={"app": "veryfront-renderer"},
                     created=at(0, 5)), at(0, 30))
    st.add(b.event(rs, "FailedCreate", 'Error creating: pods "veryfront-renderer-6f7989d755-mrnq5" is forbidden: '
                   "exceeded quota: resource-quota, requested: limits.cpu=3, used: limits.cpu=21500m, limited: "
                   "limits.cpu=24", count=17, first=at(0, 4), last=at(9, 10), component="replicaset-controller"),
           at(9, 10))
    return st.lines, {
        "description": "the fourth replica of a Helm release does not fit the namespace's cpu quota",
        "expected": "quota_exceeded", "now": NOW, "release": "prod/veryfront-renderer",
        "subject": "Deployment/prod/veryfront-renderer",
        "evidence": ["veryfront-renderer-6f7989d755", "resource-quota", "limits.cpu=3", "21500m"],
        "resolution": ["kubectl -n prod describe resourcequota resource-quota",
                       "kubectl -n prod patch resourcequota resource-quota"]}


@scenario
def quota_exceeded_must_specify() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    sts = b.statefulset("es-master", "search", replicas=3, ready=0)
    st.add(sts)
    st.add(b.event(sts, "FailedCreate", 'create Pod es-master-0 in StatefulSet es-master failed error: pods '
                   '"es-master-0" is forbidden: failed quota: fpl-quota: must specify requests.cpu,requests.memory',
                   count=12, first=at(0, 4), last=at(9, 0), component="statefulset-controller"), at(9, 0))
    return st.lines, {
        "description": "the quota demands requests the StatefulSet's pods do not set",
        "expected": "quota_exceeded", "now": NOW, "subject": "StatefulSet/search/es-master",
        "evidence": ["es-master", "fpl-quota", "requests.cpu,requests.memory"],
        "resolution": ["kubectl -n search set resources statefulset/es-master --requests=cpu=<cpu>,memory=<memory>"]}


# --- admission_denied ---------------------------------------------------------------------------


@scenario
def admission_denied() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy, rs = app(st, "payments", "pay", helm=False, replicas=2, ready=0, suffix="7c9f8d")
    st.add(b.event(rs, "FailedCreate", 'Error creating: admission webhook "validate.kyverno.svc-fail" denied the '
                   "request: policy Pod/pay/payments-7c9f8d-x7c6v for resource violation: require-run-as-nonroot: "
                   "run-as-non-root: validation error: Running as root is not allowed. rule run-as-non-root failed "
                   "at path /spec/securityContext/runAsNonRoot/", count=15, first=at(0, 3), last=at(9, 3),
                   component="replicaset-controller"), at(9, 3))
    return st.lines, {
        "description": "a Kyverno policy denies the Deployment's pods (running as root)",
        "expected": "admission_denied", "now": NOW, "subject": "Deployment/pay/payments",
        "evidence": ["payments-7c9f8d", "validate.kyverno.svc-fail", "Running as root is not allowed"],
        "resolution": ["kubectl -n pay describe replicaset payments-7c9f8d"]}


@scenario
def admission_denied_webhook_down() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy, rs = app(st, replicas=2, ready=1, suffix="8d9e0f")
    st.add(b.event(rs, "FailedCreate", 'Error creating: Internal error occurred: failed calling webhook '
                   '"check-ignore-label.gatekeeper.sh": Post "https://gatekeeper-webhook-service.gatekeeper-system.'
                   'svc:443/v1/admitlabel?timeout=3s": service "gatekeeper-webhook-service" not found', count=9,
                   first=at(1, 3), last=at(9, 3), component="replicaset-controller"), at(9, 3))
    return st.lines, {
        "description": "Gatekeeper's webhook service is gone, so the API server cannot admit a Helm release's pods",
        "expected": "admission_denied", "now": NOW, "release": "prod/api",
        "evidence": ["api-8d9e0f", "check-ignore-label.gatekeeper.sh", "cannot be called",
                     'service "gatekeeper-webhook-service" not found'],
        "resolution": ["failurePolicy"]}


# --- node_not_ready -----------------------------------------------------------------------------


@scenario
def node_not_ready() -> tuple[Lines, Expected]:
    st = Story()
    st.add(b.node("node-1"), "2026-11-20T09:00:00Z")
    st.add(b.node("node-3", ready="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.",
                  at=at(4, 10), taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                                         "timeAdded": at(4, 10)},
                                        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule",
                                         "timeAdded": at(4, 10)}]), at(4, 10))
    main = b.container()
    deploy, rs = app(st, "cart", "shop", helm=False, containers=[main], replicas=1, ready=0)
    st.add(b.pod("cart-5f6d8c-n0d3a", "shop", owner_obj=rs, labels={"app": "cart"}, node="node-3", ready=False,
                 containers=[main], created="2026-11-20T08:00:00Z"), at(4, 15))
    return st.lines, {
        "description": "node-3's kubelet stopped posting status; the pod on it is not ready",
        "expected": "node_not_ready", "now": NOW, "subject": "Node//node-3",
        "evidence": ["node-3", "Kubelet stopped posting node status", "cart-5f6d8c-n0d3a"],
        "resolution": ["kubectl describe node node-3", "kubectl drain node-3 --ignore-daemonsets"]}


@scenario
def node_not_ready_cni() -> tuple[Lines, Expected]:
    st = Story()
    st.add(b.node("node-1"), "2026-11-20T09:00:00Z")
    st.add(b.node("node-4", ready="False", reason="KubeletNotReady",
                  message="container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                          "message:Network plugin returns error: cni plugin not initialized", at=at(2)), at(2))
    main = b.container()
    deploy, rs = app(st, containers=[main], replicas=1, ready=0)
    st.add(b.pod("api-5f6d8c-c0n1i", owner_obj=rs, labels={"app": "api"}, node="node-4", ready=False,
                 containers=[main], created=at(1)), at(2, 5))
    return st.lines, {
        "description": "the CNI plugin is not initialized on node-4, where a Helm release's pod landed",
        "expected": "node_not_ready", "now": NOW, "release": "prod/api", "subject": "Node//node-4",
        "evidence": ["node-4", "NetworkPluginNotReady", "api-5f6d8c-c0n1i"],
        "resolution": ["kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=node-4"]}


# --- real recordings (tests/e2e/recordings: a real API server, kwok's kubelet and helm) -------------

# Pod names and times change whenever a recording is made again: evidence names the workload, not the pod,
# and no `now` is set (these patterns judge the state, not its age).
RECORDINGS = "../../e2e/recordings/"
RECORDED: dict[str, Expected] = {
    "crashloop_recorded": {
        "description": "recorded: helm install of a Deployment whose container exits 1 (kwok, helm 4.3)",
        "expected": "crashloop", "recording": RECORDINGS + "crashloop.jsonl",
        "release": "e2e-crashloop/auth", "subject": "Deployment/e2e-crashloop/auth",
        "evidence": ["auth-", "exit code 1", "CrashLoopBackOff"],
        "resolution": ["kubectl -n e2e-crashloop logs auth-", "-c web --previous"], "roots": 1},
    "image_pull_backoff_recorded": {
        "description": "recorded: the image's registry does not resolve (no such host)",
        "expected": "image_pull_backoff", "recording": RECORDINGS + "image_pull.jsonl",
        "release": "e2e-image-pull/gateway",
        "evidence": ["gateway-", "registry.invalid/acme/gateway:2.52", "cannot be reached"],
        "resolution": ["nslookup registry.invalid"], "roots": 1},
    "create_container_config_error_recorded": {
        "description": "recorded: envFrom names ConfigMap app-settings, which nobody created",
        "expected": "create_container_config_error", "recording": RECORDINGS + "missing_configmap.jsonl",
        "release": "e2e-missing-configmap/payments",
        "evidence": ["payments-", "app-settings", 'configmap "app-settings" not found'],
        "resolution": ["kubectl -n e2e-missing-configmap create configmap app-settings"], "roots": 1},
    "oom_killed_recorded": {
        "description": "recorded: the container grows past its 128Mi limit and is OOMKilled into a crash loop",
        "expected": "oom_killed", "recording": RECORDINGS + "oomkilled.jsonl",
        "release": "e2e-oomkilled/reports", "consequences": ["crashloop"],
        "evidence": ["reports-", "OOMKilled", "128Mi"],
        "resolution": ["helm upgrade reports <chart> -n e2e-oomkilled --reuse-values "
                       "--set resources.limits.memory=256Mi"], "roots": 1},
    "probe_failing_recorded": {
        "description": "recorded: the container runs but its readiness probe answers 503",
        "expected": "probe_failing", "recording": RECORDINGS + "probe_failing.jsonl",
        "release": "e2e-probe-failing/notifications",
        "evidence": ["notifications-", "Readiness probe failed", "503"], "roots": 1},
    "probe_failing_wait_timeout_recorded": {
        "description": "recorded: `helm install --wait --timeout 20s` fails because the readiness probe never passes",
        "expected": "probe_failing", "recording": RECORDINGS + "wait_timeout.jsonl",
        "release": "e2e-wait-timeout/recommendations", "consequences": ["wait_timeout"],
        "evidence": ["recommendations-", "Readiness probe failed"], "roots": 1},
    "pod_unschedulable_recorded": {
        "description": "recorded: the pods ask for 16 CPUs, more than any node has (Kubernetes 1.36 wording)",
        "expected": "pod_unschedulable", "recording": RECORDINGS + "unschedulable.jsonl",
        "release": "e2e-unschedulable/analytics",
        "evidence": ["analytics-", "Insufficient cpu", "nodes are available"],
        "resolution": ["kubectl -n e2e-unschedulable set resources deployment/analytics --requests=cpu=<less>"],
        "roots": 1},
}


# --- writing ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_pods.py", __doc__, argv, recorded=RECORDED)


if __name__ == "__main__":
    sys.exit(main())

"""Writes the workload failure scenarios (issue #18 item 2): objects.jsonl and expected.yaml of every folder here.

    python tests/scenarios/generate_workloads.py            rewrite them
    python tests/scenarios/generate_workloads.py --check    exit 1 when one on disk differs (CI)

Each scenario is a function returning its input lines (in delivery order) and what must come out. The
folders are named after the pattern they exercise (job_failed_*, pod_exited_nonzero_*); near-misses after
the area (near_miss_workloads_*). Messages are the controllers' and the kubelet's own, each with the thread
or source line it comes from. Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import builders_pods as bp  # noqa: E402
from tests.scenarios import builders_workloads as bw  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.generate_pods import Story, app, at, nodes, pulling_pod  # noqa: E402

Obj = dict[str, Any]
Expected = dict[str, Any]
Lines = list[Obj]
NOW = "2026-11-20T10:10:00Z"
NS = bp.NS
SCENARIOS = suite.Registry()
scenario = SCENARIOS


def terminated(exit_code: int, started: str, finished: str, message: str | None = None,
               reason: str = "Error") -> Obj:
    return bp.terminated(reason, exit_code, started, finished, message)


# --- job_failed ---------------------------------------------------------------------------------


@scenario
def job_failed_backoff_limit() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = bp.container("migrate", "registry.example/longhorn-manager:v1.5.1")
    job = bw.job("schema-upgrade", containers=[main], backoff_limit=1, created=at(0), failed=2,
                 failed_reason="BackoffLimitExceeded", failed_message=bw.BACKOFF_MESSAGE, finished=at(1, 10))
    st.add(job, at(0))
    # the pod's last words as its termination message (terminationMessagePolicy: FallbackToLogsOnError):
    # `panic: unrecognized command: pre-upgrade`, https://github.com/longhorn/longhorn/issues/6681
    for name, started, finished in (("schema-upgrade-x7k2p", at(0, 2), at(0, 9)),
                                    ("schema-upgrade-q4m8n", at(0, 40), at(0, 48))):
        st.add(bw.job_pod(name, job, [bp.status(main, terminated(2, started, finished,
                                                                 "panic: unrecognized command: pre-upgrade"))],
                          created=started), finished)
    st.update(job, at(1, 10))
    # the job-controller's Warning event, as in https://github.com/kubernetes/kubernetes/issues/92245
    st.add(bp.event(job, "BackoffLimitExceeded", bw.BACKOFF_MESSAGE, first=at(1, 10), component="job-controller"),
           at(1, 10))
    return st.lines, {
        "description": "a plain Job (no Helm) failed twice with exit 2 and reached its backoff limit",
        "expected": "job_failed", "now": NOW, "subject": "Job/prod/schema-upgrade",
        "evidence": ["schema-upgrade-q4m8n", "BackoffLimitExceeded", "migrate", "exit code 2",
                     "panic: unrecognized command: pre-upgrade", bw.BACKOFF_MESSAGE],
        "resolution": ["kubectl -n prod logs schema-upgrade-q4m8n -c migrate", "kubectl -n prod describe job "
                       "schema-upgrade"],
        "consequences": [], "absent": ["pod_exited_nonzero"], "roots": 1}


@scenario
def job_failed_deadline_no_message() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    sidecar = bp.container("proxy", "registry.example/cloud-sql-proxy:2.8")
    main = bp.container("export", "registry.example/exporter:3.1")
    job = bw.job("nightly-export", containers=[sidecar, main], backoff_limit=3, deadline=300, created=at(0),
                 active=1)
    st.add(job, at(0))
    pod = bw.job_pod("nightly-export-7fj2d", job, [bp.status(sidecar, bp.running(at(0, 3)), ready=True),
                                                    bp.status(main, bp.running(at(0, 3)), ready=True)],
                     phase="Running", created=at(0, 1))
    st.add(pod, at(0, 3))
    # the controller deletes the active pod at the deadline; the kubelet reports the SIGKILLed container
    # (exit 137, no termination message) before the pod goes
    pod["status"]["phase"] = "Failed"
    pod["status"]["containerStatuses"] = [bp.status(sidecar, terminated(0, at(0, 3), at(5, 31), reason="Completed")),
                                          bp.status(main, terminated(137, at(0, 3), at(5, 31)))]
    st.update(pod, at(5, 31))
    job["status"].update({"failed": 1})
    job["status"].pop("active")
    job["status"]["conditions"] = [
        {"type": kind, "status": "True", "reason": "DeadlineExceeded", "message": bw.DEADLINE_MESSAGE,
         "lastProbeTime": at(5, 0), "lastTransitionTime": at(5, 0)} for kind in ("FailureTarget", "Failed")]
    st.update(job, at(5, 1))
    # kubernetes/kubernetes pkg/controller/job/job_controller.go: Warning DeadlineExceeded with this message
    st.add(bp.event(job, "DeadlineExceeded", bw.DEADLINE_MESSAGE, first=at(5, 0), component="job-controller"),
           at(5, 0))
    return st.lines, {
        "description": "a Job ran past activeDeadlineSeconds 300; its second container (not the first) was killed",
        "expected": "job_failed", "now": NOW, "subject": "Job/prod/nightly-export",
        "evidence": ["DeadlineExceeded", bw.DEADLINE_MESSAGE, "container export", "exit code 137",
                     "left no termination message", "activeDeadlineSeconds 300"],
        "resolution": ["kubectl -n prod logs nightly-export-7fj2d -c export"], "roots": 1}


@scenario
def job_failed_from_cronjob() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = bp.container("backup", "registry.example/pg-backup:16")
    cron = bw.cronjob("db-backup", schedule="0 * * * *", containers=[main], last_schedule=at(0),
                      last_success="2026-11-20T08:00:00Z")
    st.add(cron, "2026-11-19T09:00:00Z")
    job = bw.job("db-backup-29391000", owner=cron, containers=[main], backoff_limit=0, created=at(0), failed=1,
                 failed_reason="BackoffLimitExceeded", failed_message=bw.BACKOFF_MESSAGE, finished=at(0, 20))
    st.add(job, at(0, 1))
    # pg_dumpall's words in a CronJob's backup pod: https://github.com/reactive-tech/kubegres/issues/143
    said = ('pg_dumpall: error: connection to server at "mypostgres-replica" (192.168.108.126), port 5432 failed: '
            "Connection refused\n        Is the server running on that host and accepting TCP/IP connections?")
    st.add(bw.job_pod("db-backup-29391000-mc5vd", job, [bp.status(main, terminated(1, at(0, 3), at(0, 18), said))],
                      created=at(0, 2)), at(0, 19))
    return st.lines, {
        "description": "a CronJob's Job failed at once (backoffLimit 0): pg_dump could not reach the database",
        "expected": "job_failed", "now": NOW, "subject": "Job/prod/db-backup-29391000",
        "evidence": ["db-backup-29391000-mc5vd", "CronJob db-backup", "exit code 1", "Connection refused"],
        "resolution": ["kubectl -n prod create job db-backup-manual --from=cronjob/db-backup"], "roots": 1}


# --- pod_exited_nonzero -------------------------------------------------------------------------


@scenario
def pod_exited_nonzero_never() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = bp.container("seed", "registry.example/seed-data:1.4")
    # the runtime's words when the entrypoint is not executable (containerd/runc 1.1+):
    # https://github.com/appleboy/scp-action/issues/164 ; the kubelet reports StartError with exit code 128
    said = ("failed to create shim task: OCI runtime create failed: runc create failed: unable to start container "
            "process: exec /bin/entrypoint.sh: permission denied: unknown")
    st.add(bw.bare_pod("seed-data", NS, [bp.status(main, terminated(128, at(1), at(1), said,
                                                                     reason="StartError"))],
                       containers=[main], created=at(0, 50)), at(1, 1))
    return st.lines, {
        "description": "a bare pod with restartPolicy Never whose entrypoint is not executable (StartError, exit 128)",
        "expected": "pod_exited_nonzero", "now": NOW, "subject": "Pod/prod/seed-data",
        "evidence": ["seed-data", "restartPolicy Never", "exit code 128", "StartError", "permission denied"],
        "resolution": ["kubectl -n prod logs seed-data -c seed"], "roots": 1}


@scenario
def pod_exited_nonzero_second_container() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    web = bp.container("web", "registry.example/report-ui:2.2")
    render = bp.container("render", "registry.example/report-render:2.2")
    st.add(bw.bare_pod("report-render-once", NS,
                       [bp.status(web, bp.running(at(2)), ready=True),
                        bp.status(render, terminated(3, at(2), at(3, 30)))],
                       containers=[web, render], phase="Running", created=at(1, 58)), at(3, 31))
    return st.lines, {
        "description": "of two containers, the second exited 3 with no message while the first still runs",
        "expected": "pod_exited_nonzero", "now": NOW, "subject": "Pod/prod/report-render-once",
        "evidence": ["container render", "exit code 3", "left no termination message"],
        "resolution": ["kubectl -n prod logs report-render-once -c render"], "roots": 1}


# --- failed_create ------------------------------------------------------------------------------


@scenario
def failed_create_pod_security() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy, rs = app(st, "nodejs-app", "dev", helm=False, replicas=1, ready=0, suffix="8665bd77fb")
    # https://github.com/redhat-developer/odo/issues/6847 (replicaset-controller, verbatim)
    said = ('Error creating: pods "nodejs-app-8665bd77fb-2dd4n" is forbidden: violates PodSecurity "restricted:latest":'
            ' allowPrivilegeEscalation != false (container "runtime" must set securityContext.allowPrivilegeEscalation'
            '=false), unrestricted capabilities (container "runtime" must set securityContext.capabilities.drop=["ALL"'
            ']), runAsNonRoot != true (pod or container "runtime" must set securityContext.runAsNonRoot=true), '
            'seccompProfile (pod or container "runtime" must set securityContext.seccompProfile.type to '
            '"RuntimeDefault" or "Localhost")')
    st.add(bp.event(rs, "FailedCreate", said, count=14, first=at(0, 3), last=at(8, 10),
                    component="replicaset-controller"), at(8, 10))
    return st.lines, {
        "description": "the namespace enforces PodSecurity restricted; the Deployment's pods set no securityContext",
        "expected": "failed_create", "now": NOW, "subject": "Deployment/dev/nodejs-app",
        "evidence": ["nodejs-app-8665bd77fb", 'violates PodSecurity "restricted:latest"',
                     "securityContext.runAsNonRoot=true", "0 of 1 pods available"],
        "resolution": ["kubectl get namespace dev --show-labels"], "absent": ["admission_denied"], "roots": 1}


@scenario
def failed_create_missing_service_account() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    sts = bp.statefulset("mytest-mysql", "default", replicas=1, ready=0)
    st.add(sts)
    # https://github.com/apecloud/kubeblocks/issues/4599 (statefulset-controller, verbatim)
    said = ('create Pod mytest-mysql-0 in StatefulSet mytest-mysql failed error: pods "mytest-mysql-0" is forbidden: '
            'error looking up service account default/kb-release-name-apecloud-mysql-cluster: serviceaccount '
            '"kb-release-name-apecloud-mysql-cluster" not found')
    st.add(bp.event(sts, "FailedCreate", said, count=19, first=at(0, 5), last=at(9),
                    component="statefulset-controller"), at(9))
    return st.lines, {
        "description": "the StatefulSet's pods name a ServiceAccount nobody created",
        "expected": "failed_create", "now": NOW, "subject": "StatefulSet/default/mytest-mysql",
        "evidence": ["mytest-mysql-0", "kb-release-name-apecloud-mysql-cluster", "does not exist", "19 times"],
        "resolution": ["kubectl -n default create serviceaccount kb-release-name-apecloud-mysql-cluster"],
        "roots": 1}


@scenario
def failed_create_limit_range() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy, rs = app(st, "coredns", "kube-system", helm=False, replicas=2, ready=0, suffix="546565776c")
    # https://github.com/pixiu-io/kubez-ansible/issues/11 (replicaset-controller, verbatim)
    said = ('Error creating: pods "coredns-546565776c-dhbcc" is forbidden: minimum memory usage per Container is 90Mi, '
            "but request is 70Mi")
    st.add(bp.event(rs, "FailedCreate", said, count=9, first=at(0, 3), last=at(7), component="replicaset-controller"),
           at(7))
    return st.lines, {
        "description": "a LimitRange's minimum memory is above what the Deployment's containers request",
        "expected": "failed_create", "now": NOW, "subject": "Deployment/kube-system/coredns",
        "evidence": ["coredns-546565776c", "LimitRange", "minimum memory usage per Container is 90Mi",
                     "but request is 70Mi"],
        "resolution": ["kubectl -n kube-system describe limitrange"], "roots": 1}


@scenario
def near_miss_workloads_failed_create_recovered() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy, rs = app(st, "web", "shop", helm=False, replicas=2, ready=2, suffix="5d4f7c")
    # the ServiceAccount arrived after the first tries: the ReplicaSet has all its pods now
    said = ('Error creating: pods "web-5d4f7c-" is forbidden: error looking up service account shop/web: '
            'serviceaccount "web" not found')
    st.add(bp.event(rs, "FailedCreate", said, count=3, first=at(0, 3), last=at(0, 20),
                    component="replicaset-controller"), at(0, 20))
    for name in ("web-5d4f7c-a1b2c", "web-5d4f7c-d3e4f"):
        st.add(bp.pod(name, "shop", owner_obj=rs, labels={"app": "web"}, created=at(0, 40)), at(1))
    return st.lines, {
        "description": "FailedCreate for a missing ServiceAccount that was created soon after: all pods run",
        "expected": "none", "now": NOW}


# --- cronjob_failing ----------------------------------------------------------------------------


@scenario
def cronjob_failing_missed_schedule() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    cron = bw.cronjob("nightly-report", schedule="0 10 * * *", last_schedule="2026-11-19T10:00:00Z",
                      last_success="2026-11-19T10:04:10Z")
    cron["spec"]["startingDeadlineSeconds"] = 60
    st.add(cron, "2026-11-19T09:00:00Z")
    # pkg/controller/cronjob/cronjob_controllerv2.go: Warning MissSchedule, "Missed scheduled time to start a job:
    # %s" with the time in RFC1123Z, when the controller got to it after startingDeadlineSeconds
    st.add(bp.event(cron, "MissSchedule", "Missed scheduled time to start a job: Fri, 20 Nov 2026 10:00:00 +0000",
                    count=4, first=at(2, 10), last=at(9, 40), component="cronjob-controller"), at(9, 40))
    return st.lines, {
        "description": "today's 10:00 run of a CronJob was not started within its 60s startingDeadlineSeconds",
        "expected": "cronjob_failing", "now": NOW, "subject": "CronJob/prod/nightly-report",
        "evidence": ["nightly-report", "MissSchedule", "Fri, 20 Nov 2026 10:00:00 +0000", "startingDeadlineSeconds 60",
                     "0 10 * * *"],
        "resolution": ["kubectl -n prod describe cronjob nightly-report"], "roots": 1}


@scenario
def cronjob_failing_unknown_time_zone() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    cron = bw.cronjob("invoice-export", schedule="30 2 * * *")
    cron["spec"]["timeZone"] = "Europe/Kyiv"
    st.add(cron, "2026-11-19T09:00:00Z")
    # pkg/controller/cronjob/cronjob_controllerv2.go: Warning UnknownTimeZone, `invalid timeZone: %q: %s`, the
    # error being Go's time.LoadLocation's ("unknown time zone X") when the controller-manager's time zone
    # database lacks the name (Europe/Kyiv came with tzdata 2022b)
    st.add(bp.event(cron, "UnknownTimeZone", 'invalid timeZone: "Europe/Kyiv": unknown time zone Europe/Kyiv',
                    count=31, first="2026-11-19T09:00:01Z", last=at(9), component="cronjob-controller"), at(9))
    return st.lines, {
        "description": "the controller-manager does not know the CronJob's time zone: it never schedules a Job",
        "expected": "cronjob_failing", "now": NOW, "subject": "CronJob/prod/invoice-export",
        "evidence": ["UnknownTimeZone", "unknown time zone Europe/Kyiv", "never scheduled a Job"],
        "resolution": ["kubectl -n prod describe cronjob invoice-export"], "roots": 1}


# --- near misses ----------------------------------------------------------------------------------


@scenario
def near_miss_workloads_healthy() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = bp.container("backup", "registry.example/pg-backup:16", cpu_request="100m", memory_request="64Mi",
                        readiness=True)
    cron = bw.cronjob("db-backup", schedule="0 * * * *", containers=[main], last_schedule=at(0),
                      last_success=at(1))
    st.add(cron, "2026-11-19T09:00:00Z")
    # the 09:00 run was missed, the 10:00 one ran: a CronJob that scheduled since is not reported
    st.add(bp.event(cron, "MissSchedule", "Missed scheduled time to start a job: Fri, 20 Nov 2026 09:00:00 +0000",
                    first="2026-11-20T09:02:00Z", component="cronjob-controller"), "2026-11-20T09:02:00Z")
    job = bw.job("db-backup-29391000", owner=cron, containers=[main], created=at(0), succeeded=1, finished=at(1))
    st.add(job, at(1))
    st.add(bw.job_pod("db-backup-29391000-k2w9x", job, [bp.status(main, terminated(0, at(0, 3), at(0, 58),
                                                                                     reason="Completed"))],
                      phase="Succeeded", created=at(0, 2)), at(0, 59))
    # a bare Never pod that ended well, and one that retried once (OnFailure) and now runs
    tool = bp.container("tool", "registry.example/tool:1.0")
    st.add(bw.bare_pod("one-shot-ok", NS, [bp.status(tool, terminated(0, at(2), at(2, 5), reason="Completed"))],
                       containers=[tool], phase="Succeeded", created=at(1, 59)), at(2, 6))
    retried = bw.bare_pod("retry-ok", NS, [bp.status(tool, bp.running(at(3)), ready=True,
                                                     last=terminated(1, at(2), at(2, 30)), restarts=1)],
                          containers=[tool], phase="Running", restart_policy="OnFailure", created=at(1, 59))
    st.add(retried, at(3, 1))
    deploy = bp.deployment("web", replicas=2, ready=2, containers=[bp.container()])
    st.add(deploy, at(0))
    st.add(bw.hpa("web", deploy, conditions=[
        {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
         "message": "recommended size matches current size", "lastTransitionTime": at(0)},
        {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
         "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization "
                    "(percentage of request)", "lastTransitionTime": at(0)}]), at(0))
    st.add(bw.pdb("web", match={"app": "web"}), at(0))
    return st.lines, {
        "description": "a CronJob that missed a run then ran and succeeded, pods that ended with exit 0 or recovered, "
                       "an HPA, a PDB",
        "expected": "none", "now": NOW}



# --- workload_unavailable -----------------------------------------------------------------------


def ledger_db(st: Story, *, helm: bool) -> Obj:
    """A StatefulSet (OrderedReady) of 3 stuck at ordinal 1, in Helm release prod/ledger when ``helm`` (which also
    declares a ConfigMap that exists, so the release is partly deployed)."""
    nodes(st, 3)
    if helm:
        for secret in bp.helm_revisions("ledger", latest_at="2026-11-20T09:58:00Z", kinds=(
                ("apps/v1", "StatefulSet", "ledger-db"), ("v1", "ConfigMap", "ledger-db"))):
            st.add(secret, "2026-11-20T09:58:01Z")
        st.add(bp.config_map("ledger-db", keys=("postgresql.conf",)), at(0))
    sts = bw.statefulset("ledger-db", replicas=3, ready=1, created_pods=2,
                         containers=[bp.container("postgres", "registry.example/postgres:16.4")])
    if helm:
        sts["metadata"]["annotations"] = {"meta.helm.sh/release-name": "ledger", "meta.helm.sh/release-namespace": NS}
    st.add(sts, at(0))
    st.add(bw.statefulset_pod(sts, 0, node="node-1", created=at(0)), at(0, 20))
    # pod 1 runs, but the readiness gate of the AWS Load Balancer Controller (target-health.elbv2.k8s.aws/<target
    # group binding>) was never set: the kubelet's words are pkg/kubelet/status/generate.go's. With OrderedReady
    # the controller does not create ledger-db-2 until ledger-db-1 is Ready.
    st.add(bw.statefulset_pod(sts, 1, node="node-2", created=at(0, 40),
                              readiness_gate="target-health.elbv2.k8s.aws/k8s-prod-ledgerdb-4f2a9c1e7b"), at(1))
    return sts


@scenario
def workload_unavailable_statefulset_ordinal() -> tuple[Lines, Expected]:
    st = Story()
    ledger_db(st, helm=False)
    return st.lines, {
        "description": "a StatefulSet (OrderedReady) is stuck at ordinal 1: its readiness gate is never set, so pod 2 "
                       "is never created",
        "expected": "workload_unavailable", "now": NOW, "subject": "StatefulSet/prod/ledger-db",
        "evidence": ["1 of 3 pods ready", "stuck at ordinal 1", "ledger-db-1", "ledger-db-2 is not created",
                     "ReadinessGatesNotReady", "target-health.elbv2.k8s.aws/k8s-prod-ledgerdb-4f2a9c1e7b",
                     "podManagementPolicy OrderedReady"],
        "resolution": ["kubectl -n prod describe pod ledger-db-1", "kubectl -n prod describe statefulset ledger-db"],
        "roots": 1}


@scenario
def workload_unavailable_in_helm_release() -> tuple[Lines, Expected]:
    st = Story()
    ledger_db(st, helm=True)
    return st.lines, {
        "description": "the same StatefulSet stuck at ordinal 1 in a Helm release: the release is partly deployed, "
                       "the StatefulSet's missing pods are its consequence",
        "expected": "partial_deployment", "now": NOW, "release": "prod/ledger",
        "consequences": ["workload_unavailable"], "roots": 1}


@scenario
def workload_unavailable_daemonset_failed_pod() -> tuple[Lines, Expected]:
    st = Story()
    for name in ("node-1", "node-2", "node-3"):
        st.add(bp.node(name, cpu="4"), "2026-11-20T09:00:00Z")
    agent = bp.container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2", cpu_request="500m",
                         memory_request="64Mi")
    ds = bw.daemonset("node-exporter", "monitoring", desired=3, current=3, ready=2, containers=[agent])
    st.add(ds, at(0))
    for suffix, node in (("7xkqp", "node-1"), ("m2v9d", "node-2")):
        st.add(bw.daemon_pod(ds, suffix, node, created="2026-11-19T09:00:10Z"), "2026-11-19T09:00:20Z")
    # the kubelet of node-3 rejects the pod at admission; the words are pkg/kubelet/lifecycle/predicate.go's
    # ("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d", prefixed "Pod was rejected: "
    # as in https://github.com/red-hat-storage/ocs-ci/issues/12362), for this node's 4 CPUs
    st.add(bw.daemon_pod(ds, "q8z7x", "node-3", phase="Failed", ready=False, reason="OutOfcpu",
                         message="Pod was rejected: Node didn't have enough resource: cpu, requested: 500, used: 3800, "
                                 "capacity: 4000", created=at(9, 48)), at(9, 49))
    # the daemonset-controller deletes a Failed daemon pod and makes it again, with this Warning each time:
    # pkg/controller/daemon/daemon_controller.go, https://github.com/kubernetes/kubernetes/pull/40720
    st.add(bp.event(ds, "FailedDaemonPod", "Found failed daemon pod monitoring/node-exporter-q8z7x on node node-3, "
                    "will try to kill it", count=37, first=at(0, 30), last=at(9, 50), component="daemonset-controller"),
           at(9, 50))
    return st.lines, {
        "description": "a DaemonSet's pod does not fit one node: the kubelet rejects it (OutOfcpu), the controller "
                       "kills and recreates it in a loop",
        "expected": "workload_unavailable", "now": NOW, "subject": "DaemonSet/monitoring/node-exporter",
        "evidence": ["2 of 3 daemon pods ready", "FailedDaemonPod", "node-3", "OutOfcpu",
                     "Node didn't have enough resource: cpu"],
        "resolution": ["kubectl -n monitoring describe pod node-exporter-q8z7x"], "roots": 1}


@scenario
def workload_unavailable_explained_by_image_pull() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    image = "registry.example/billing:3.2.0"
    deploy, rs = app(st, "billing", "payments", helm=False, replicas=1, containers=[bp.container(image=image)])
    pulling_pod(st, rs, "billing-5f6d8c-k7m2p", image, namespace="payments", label="billing",
                message=f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                        f'unpack image "{image}": failed to resolve reference "{image}": {image}: not found')
    return st.lines, {
        "description": "a Deployment (no Helm) short of its one pod, whose image tag does not exist: the pull is "
                       "the cause, the missing replica its consequence",
        "expected": "image_pull_backoff", "now": NOW, "subject": "Deployment/payments/billing",
        "evidence": ["billing-5f6d8c-k7m2p", "not found"], "consequences": ["workload_unavailable"], "roots": 1}


# --- sandbox_failed -----------------------------------------------------------------------------


def creating_pod(st: Story, rs: Obj, name: str, node: str, said: str, *, namespace: str, label: str,
                 count: int) -> Obj:
    """A pod bound to ``node`` whose sandbox the kubelet cannot create: ContainerCreating, FailedCreatePodSandBox
    and SandboxChanged events."""
    main = rs["spec"]["template"]["spec"]["containers"][0]
    pod = bp.pod(name, namespace, owner_obj=rs, labels={"app": label}, node=node, phase="Pending", ready=False,
                 containers=[main], created=at(0, 10), statuses=[bp.status(main, bp.waiting("ContainerCreating"))])
    pod["status"].pop("podIP")
    st.add(pod, at(0, 12))
    st.add(bp.event(pod, "FailedCreatePodSandBox", said, count=count, first=at(0, 15), last=at(9, 40)), at(9, 40))
    st.add(bp.event(pod, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", type_="Normal",
                    count=count, first=at(0, 16), last=at(9, 41)), at(9, 41))
    return pod


@scenario
def sandbox_failed_calico_unauthorized() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 2)
    deploy, rs = app(st, "nfs-client-provisioner", "storage", helm=False, replicas=1, suffix="59c5f46f5",
                     containers=[bp.container("nfs-client-provisioner",
                                              "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2")])
    # https://github.com/kubernetes-sigs/nfs-subdir-external-provisioner/issues/257 (the kubelet, verbatim)
    said = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
            '"cb8a846be7902a752bae7f4cdee280111ba8f005e90b6b68c7062bd1cb68a7b4": plugin type="calico" failed (add): '
            "connection is unauthorized: Unauthorized")
    creating_pod(st, rs, "nfs-client-provisioner-59c5f46f5-d4nds", "node-2", said, namespace="storage",
                 label="nfs-client-provisioner", count=8)
    return st.lines, {
        "description": "the calico CNI plugin's token is refused on node-2: the pod's sandbox is never created",
        "expected": "sandbox_failed", "now": NOW, "subject": "Deployment/storage/nfs-client-provisioner",
        "evidence": ["nfs-client-provisioner-59c5f46f5-d4nds", "node-2", 'plugin type="calico"', "Unauthorized",
                     "FailedCreatePodSandBox x8"],
        "resolution": ["kubectl get pods -A -o wide --field-selector spec.nodeName=node-2"],
        "consequences": ["workload_unavailable"], "roots": 1}


@scenario
def sandbox_failed_cni_unreachable() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 3)
    deploy, rs = app(st, "checkout", "shop", helm=True, replicas=2, ready=1, suffix="6d9f8b7c5")
    st.add(bp.pod("checkout-6d9f8b7c5-p4x2m", "shop", owner_obj=rs, labels={"app": "checkout"}, node="node-1",
                  created="2026-11-20T09:58:10Z"), "2026-11-20T09:58:20Z")
    # https://github.com/kubernetes-sigs/kubespray/issues/9897 (the kubelet, verbatim): calico's CNI plugin
    # cannot reach the API server's Service address from the node
    said = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
            '"1f81d650b5e9f17d4a01973d52b53417352babd39290e1267770d6b2141f6a8b": plugin type="calico" failed (add): '
            'error getting ClusterInformation: Get "https://10.233.0.1:443/apis/crd.projectcalico.org/v1/'
            'clusterinformations/default": dial tcp 10.233.0.1:443: i/o timeout')
    creating_pod(st, rs, "checkout-6d9f8b7c5-w8n3q", "node-3", said, namespace="shop", label="checkout", count=14)
    return st.lines, {
        "description": "a Helm release's second pod landed on node-3, whose calico plugin cannot reach the API "
                       "server: one of its two pods never starts",
        "expected": "sandbox_failed", "now": NOW, "release": "shop/checkout",
        "evidence": ["checkout-6d9f8b7c5-w8n3q", "node-3", "cannot reach 10.233.0.1:443", "i/o timeout"],
        "consequences": ["workload_unavailable"], "roots": 1}


# --- lifecycle_hook_failed ----------------------------------------------------------------------


@scenario
def lifecycle_hook_failed_post_start() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    command = ["sh", "-c", "sleep 5; influx v1 dbrp create --db default --rp default-rp --bucket-id $(influx bucket "
                           "list -n default --json | grep -o '\"id\": \"[^\"]*' | grep -o '[^\"]*$') --default"]
    main = bw.lifecycle(bp.container("influxdb2", "influxdb:2.0.6-alpine"), "postStart", {"exec": {"command": command}})
    sts = bw.statefulset("monitor1-influxdb2", "perf", replicas=1, ready=0, containers=[main])
    st.add(sts, at(0))
    # https://github.com/influxdata/helm-charts/issues/336 (the kubelet's event, verbatim); the container waits in
    # PostStartHookError with the same words (kubelet kuberuntime_container.go returns them as the start error)
    said = ('Exec lifecycle hook ([sh -c sleep 5; influx v1 dbrp create --db default --rp default-rp --bucket-id '
            "$(influx bucket list -n default --json | grep -o '\"id\": \"[^\"]*' | grep -o '[^\"]*$') --default]) for "
            'Container "influxdb2" in Pod "monitor1-influxdb2-0_perf(010ef5d3-a252-4cd4-a070-91f10eb4c02f)" failed - '
            "error: command 'sh -c sleep 5; influx v1 dbrp create --db default --rp default-rp --bucket-id $(influx "
            "bucket list -n default --json | grep -o '\"id\": \"[^\"]*' | grep -o '[^\"]*$') --default' exited with 1: "
            ', message: "Error: invalid argument \\"--default\\" for \\"--bucket-id\\" flag: id must have a length of '
            "16 bytes\\nSee 'influx v1 dbrp create -h' for help\\n\"")
    pod = bw.statefulset_pod(sts, 0, ready=False, created=at(0, 5),
                             statuses=[bp.status(main, bp.waiting("PostStartHookError", said), restarts=3)])
    st.add(pod, at(6))
    st.add(bp.event(pod, "FailedPostStartHook", said, count=4, first=at(0, 12), last=at(5, 50),
                    field_path="spec.containers{influxdb2}"), at(5, 50))
    st.add(bp.event(pod, "Killing", "FailedPostStartHook", type_="Normal", count=4, first=at(0, 12), last=at(5, 50),
                    field_path="spec.containers{influxdb2}"), at(5, 50))
    return st.lines, {
        "description": "a postStart hook that fails on every start (bad flag): the kubelet kills the container each "
                       "time, the StatefulSet has no ready pod",
        "expected": "lifecycle_hook_failed", "now": NOW, "subject": "StatefulSet/perf/monitor1-influxdb2",
        "evidence": ["postStart hook of container influxdb2", "monitor1-influxdb2-0", "exited with code 1",
                     "id must have a length of 16 bytes", "3 restarts", "PostStartHookError"],
        "resolution": ["kubectl -n perf logs monitor1-influxdb2-0 -c influxdb2 --previous"],
        "consequences": ["workload_unavailable"], "roots": 1}


@scenario
def lifecycle_hook_failed_pre_stop() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    main = bw.lifecycle(bp.container("account-manager", "registry.example/account-manager:5.1"), "preStop",
                        {"httpGet": {"path": "/api/system/terminate", "port": 8443, "scheme": "HTTPS"}})
    deploy, rs = app(st, "account-manager-deployment-4edu", "default", helm=False, replicas=1, ready=1,
                     suffix="5dbc6757c8", containers=[main])
    old = bp.pod("account-manager-deployment-4edu-5dbc6757c8-xzd7m", "default", owner_obj=rs,
                 labels={"app": "account-manager-deployment-4edu"}, containers=[main], created="2026-11-20T08:00:00Z")
    st.add(old, "2026-11-20T08:00:10Z")
    st.add(bp.pod("account-manager-deployment-4edu-5dbc6757c8-r5t8w", "default", owner_obj=rs,
                  labels={"app": "account-manager-deployment-4edu"}, containers=[main], created=at(8, 2)), at(8, 20))
    # https://github.com/kubernetes/kubernetes/issues/68940 (the kubelet, verbatim): an HTTPS preStop hook called as
    # plain HTTP
    said = ('Http lifecycle hook (/api/system/terminate) for Container "account-manager" in Pod '
            '"account-manager-deployment-4edu-5dbc6757c8-xzd7m_default(1d59a4fe-bdb4-11e8-9ab6-42010a8001d0)" failed - '
            'error: Get http://10.52.4.10:8443/api/system/terminate: net/http: HTTP/1.x transport connection broken: '
            'malformed HTTP response "\\x15\\x03\\x03\\x00\\x02\\x02P", message: ""')
    st.add(bp.event(old, "FailedPreStopHook", said, first=at(8), field_path="spec.containers{account-manager}"),
           at(8))
    st.add(old, at(8, 35), "DELETED")
    return st.lines, {
        "description": "a pod deleted by a rollout ran its HTTPS preStop hook over plain HTTP: the hook failed, the "
                       "container was stopped without it",
        "expected": "lifecycle_hook_failed", "now": NOW,
        "subject": "Deployment/default/account-manager-deployment-4edu",
        "evidence": ["preStop hook of container account-manager", "httpGet HTTPS :8443/api/system/terminate",
                     "malformed HTTP response", "stopped without the hook's work"], "roots": 1}


# --- hpa_cannot_scale ---------------------------------------------------------------------------


@scenario
def hpa_cannot_scale_missing_request() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy = bp.deployment("myapp1", replicas=2, ready=2, containers=[
        bp.container("app", "registry.example/myapp1:4.2", memory_request="256Mi"),
        bp.container("istio-proxy", "docker.io/istio/proxyv2:1.22.3", cpu_request="100m", memory_request="128Mi")])
    st.add(deploy, at(0))
    # https://github.com/kubernetes/kubernetes/issues/79365: the horizontal-pod-autoscaler's words, verbatim; the
    # condition message is pkg/controller/podautoscaler/horizontal.go's "the HPA was unable to compute the replica
    # count: %v" around the same error
    error = "failed to get cpu utilization: missing request for cpu"
    hpa = bw.hpa("myapp1", deploy, min_replicas=2, max_replicas=10, current=2, desired=2, conditions=[
        {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale",
         "message": "the HPA controller was able to get the target's current scale", "lastTransitionTime": at(0, 30)},
        {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
         "message": f"the HPA was unable to compute the replica count: {error}", "lastTransitionTime": at(0, 30)}])
    st.add(hpa, at(0, 30))
    st.add(bp.event(hpa, "FailedGetResourceMetric", "missing request for cpu", count=136, first=at(0, 30),
                    last=at(9, 50), component="horizontal-pod-autoscaler"), at(9, 50))
    st.add(bp.event(hpa, "FailedComputeMetricsReplicas", error, count=12, first=at(0, 30), last=at(2, 30),
                    component="horizontal-pod-autoscaler"), at(2, 30))
    return st.lines, {
        "description": "a CPU-utilization HPA over a Deployment one of whose containers requests no CPU",
        "expected": "hpa_cannot_scale", "now": NOW, "subject": "HorizontalPodAutoscaler/prod/myapp1",
        "evidence": ["ScalingActive False (FailedGetResourceMetric)", "missing request for cpu",
                     "app: cpu not set", "istio-proxy: cpu 100m", "cpu resource utilization 80%"],
        "resolution": ["kubectl -n prod set resources deployment/myapp1 --requests=cpu="], "roots": 1}


@scenario
def hpa_cannot_scale_no_metrics_api() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    deploy = bp.deployment("web", "shop", replicas=1, ready=1, containers=[bp.container("web", cpu_request="200m")])
    st.add(deploy, at(0))
    # what the local control plane's horizontal-pod-autoscaler wrote with no metrics-server installed (kube-
    # controller-manager v1.36, recorded 2026-12-07; the same words in
    # https://github.com/NatLabRockies/openstudio-server-helm/issues/4)
    error = ("failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from "
             "resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)")
    hpa = bw.hpa("web", deploy, "shop", min_replicas=1, max_replicas=3, current=1, desired=0, conditions=[
        {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale",
         "message": "the HPA controller was able to get the target's current scale", "lastTransitionTime": at(0, 15)},
        {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
         "message": f"the HPA was unable to compute the replica count: {error}", "lastTransitionTime": at(0, 15)}])
    hpa["status"]["currentMetrics"] = [{"type": ""}]
    st.add(hpa, at(0, 15))
    st.add(bp.event(hpa, "FailedGetResourceMetric", error, count=40, first=at(0, 15), last=at(9, 45),
                    component="horizontal-pod-autoscaler"), at(9, 45))
    return st.lines, {
        "description": "an HPA in a cluster whose resource metrics API is not served (no metrics-server)",
        "expected": "hpa_cannot_scale", "now": NOW, "subject": "HorizontalPodAutoscaler/shop/web",
        "evidence": ["cannot compute a replica count", "get pods.metrics.k8s.io", "FailedGetResourceMetric (x40)"],
        "resolution": ["kubectl get apiservices"], "roots": 1}


@scenario
def hpa_cannot_scale_at_max() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 3)
    deploy = bp.deployment("staging-myapp1", "default", replicas=10, ready=10,
                           containers=[bp.container("app", cpu_request="200m")])
    st.add(deploy, at(0))
    # the conditions' words are pkg/controller/podautoscaler/horizontal.go's (ScalingLimited TooManyReplicas); the
    # 186% (372m) against 40% as https://github.com/kubernetes/kubernetes/issues/56165 shows them
    hpa = bw.hpa("staging-myapp1", deploy, "default", min_replicas=1, max_replicas=10, current=10, desired=10,
                 conditions=[
                     {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                      "message": "recommended size matches current size", "lastTransitionTime": at(1)},
                     {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
                      "message": "the HPA was able to successfully calculate a replica count from cpu resource "
                                 "utilization (percentage of request)", "lastTransitionTime": at(1)},
                     {"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas",
                      "message": "the desired replica count is more than the maximum replica count",
                      "lastTransitionTime": at(2)}])
    hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] = 40
    hpa["status"]["currentMetrics"] = [{"type": "Resource", "resource": {
        "name": "cpu", "current": {"averageUtilization": 186, "averageValue": "372m"}}}]
    st.add(hpa, at(2))
    return st.lines, {
        "description": "an HPA held at maxReplicas 10 while its pods use 186% of their CPU request against a 40% "
                       "target",
        "expected": "hpa_cannot_scale", "now": NOW, "subject": "HorizontalPodAutoscaler/default/staging-myapp1",
        "evidence": ["held at its maximum of 10 replicas", "TooManyReplicas",
                     "cpu resource utilization 186% average 372m", "cpu resource utilization 40%"],
        "resolution": ["kubectl -n default patch hpa staging-myapp1"], "roots": 1}


# --- pdb_blocks_disruption ----------------------------------------------------------------------


@scenario
def pdb_blocks_disruption_drain() -> tuple[Lines, Expected]:
    st = Story()
    node = bp.node("i-2fklm29g")
    st.add(node, "2026-11-20T09:00:00Z")
    st.add(bp.node("i-7hq2x0sd"), "2026-11-20T09:00:00Z")
    deploy, rs = app(st, "istio-pilot", "istio-system", helm=False, replicas=1, ready=1, suffix="67fd55d974")
    st.add(bp.pod("istio-pilot-67fd55d974-662wp", "istio-system", owner_obj=rs, labels={"app": "istio-pilot"},
                  node="i-2fklm29g", created="2026-11-19T09:00:00Z"), "2026-11-19T09:00:10Z")
    pdb = bw.pdb("istio-pilot", "istio-system", match={"app": "istio-pilot"}, min_available=1, allowed=0, healthy=1,
                 desired=1, expected=1)
    pdb["status"]["conditions"][0]["lastTransitionTime"] = "2026-11-19T09:00:10Z"
    st.add(pdb, "2026-11-19T09:00:10Z")
    # `kubectl drain i-2fklm29g` cordoned the node first, then kept retrying: "error when evicting pod
    # "istio-pilot-67fd55d974-662wp" (will retry after 5s): Cannot evict pod as it would violate the pod's
    # disruption budget." (https://github.com/kubesphere/ks-installer/issues/1110); the refusal is the eviction
    # API's answer to kubectl, not an Event
    st.update(bw.cordon(node, at(2)), at(2))
    return st.lines, {
        "description": "minAvailable 1 over a single-replica Deployment: draining the node that runs it is blocked",
        "expected": "pdb_blocks_disruption", "now": NOW, "subject": "PodDisruptionBudget/istio-system/istio-pilot",
        "evidence": ["minAvailable 1", "1 of 1 pods healthy", "Deployment istio-pilot", "node i-2fklm29g is cordoned",
                     "istio-pilot-67fd55d974-662wp", "draining it is blocked", "InsufficientPods"],
        "resolution": ["kubectl -n istio-system describe pdb istio-pilot",
                       "kubectl -n istio-system get pods -l app=istio-pilot -o wide"],
        "min_confidence": 0.9, "roots": 1}


# --- pod_scheduling_gated -----------------------------------------------------------------------


@scenario
def pod_scheduling_gated() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 2)
    deploy, rs = app(st, "trainer", "ml", helm=False, replicas=1, suffix="7c9d5f")
    # the gate and the PodScheduled condition as the local control plane's API server and scheduler left a gated
    # pod (kube-apiserver v1.36, 2026-12-07): reason SchedulingGated, this message
    st.add(bw.gated_pod("trainer-7c9d5f-x2k8j", "ml", gates=("example.com/quota-check",), owner=rs, created=at(0, 5)),
           at(0, 6))
    return st.lines, {
        "description": "a Deployment's pod held by a scheduling gate nobody lifts",
        "expected": "pod_scheduling_gated", "now": NOW, "subject": "Deployment/ml/trainer",
        "evidence": ["trainer-7c9d5f-x2k8j", "example.com/quota-check", "SchedulingGated",
                     "Scheduling is blocked due to non-empty scheduling gates"],
        "resolution": ["kubectl -n ml describe pod trainer-7c9d5f-x2k8j"],
        "consequences": ["workload_unavailable"], "absent": [], "roots": 1}


@scenario
def near_miss_workloads_unavailable_recovering() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 2)
    # a StatefulSet whose second pod became not ready 40 seconds ago (within the correlation window)
    sts = bw.statefulset("cache", replicas=3, ready=1, created_pods=2)
    st.add(sts, at(0))
    st.add(bw.statefulset_pod(sts, 0, created=at(0)), at(0, 10))
    st.add(bw.statefulset_pod(sts, 1, ready=False, created=at(9, 20), node="node-2"), at(9, 25))
    # a sandbox that failed once and then came up; a postStart hook that failed once, now running and ready
    deploy, rs = app(st, "web", "shop", helm=False, replicas=2, ready=2, suffix="5d4f7c")
    ok = bp.pod("web-5d4f7c-a1b2c", "shop", owner_obj=rs, labels={"app": "web"}, created=at(0, 40))
    st.add(ok, at(1))
    # https://github.com/easzlab/kubeasz/issues/1332 (the kubelet, verbatim)
    said = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
            '"20d3feb0e9ed29a754fb921b8ae728d4b2d6035d2add28d7e1d4b1f7ce08be10": plugin type="calico" failed (add): '
            'Unauthorized')
    st.add(bp.event(ok, "FailedCreatePodSandBox", said, first=at(0, 42)), at(0, 42))
    hooked = bp.pod("web-5d4f7c-d3e4f", "shop", owner_obj=rs, labels={"app": "web"}, created=at(0, 40))
    st.add(hooked, at(1))
    st.add(bp.event(hooked, "FailedPostStartHook", "PostStartHook failed", first=at(0, 50),
                    field_path="spec.containers{main}"), at(0, 50))
    # an HPA created a minute ago, still waiting for its first metrics; a PDB that allows one disruption
    hpa = bw.hpa("web", deploy, "shop", conditions=[
        {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
         "message": "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get "
                    "metrics for resource cpu: no metrics returned from resource metrics API",
         "lastTransitionTime": at(9)}])
    st.add(hpa, at(9))
    st.add(bw.pdb("web", "shop", match={"app": "web"}, allowed=1, healthy=2, desired=1, expected=2), at(0))
    # a PDB that allowed nothing for 20 seconds while a pod restarted
    restarting = bw.pdb("cache", match={"app": "cache"}, allowed=0, healthy=1, desired=2, expected=2)
    restarting["status"]["conditions"][0]["lastTransitionTime"] = at(9, 40)
    st.add(restarting, at(9, 40))
    # a gated pod whose gate a queueing controller lifts within seconds
    st.add(bw.gated_pod("batch-6b7c8d-q1w2e", "shop", gates=("example.com/quota-check",), created=at(9, 55)),
           at(9, 56))
    return st.lines, {
        "description": "states that pass: a pod not ready for 40 s, a sandbox and a postStart hook that failed once, "
                       "a new HPA awaiting metrics, PDBs, a pod gated for 5 s",
        "expected": "none", "now": NOW}


# Replays of real recordings (tests/e2e/recordings/, made by tests/e2e/record_scenarios.py against the local
# control plane); only their expected.yaml is written here.
RECORDED = {
    "rec_workload_statefulset_ordinal": {
        "description": "A StatefulSet of 4 (OrderedReady) whose pods need a node each: db-2 stays Pending (the "
                       "scheduler's pod anti-affinity refusal), so db-3 is never created; a PodDisruptionBudget with "
                       "minAvailable 2 over it allows no disruption. No Helm release. (real recording, "
                       "kube-apiserver v1.36.3)",
        "recording": "../../e2e/recordings/workload_statefulset_ordinal.jsonl",
        "now": "2026-12-07T22:25:00Z",
        "expected": "pod_unschedulable",
        "subject": "StatefulSet/e2e-workload-statefulset-ordinal/db",
        "evidence": ["db-2", "didn't match pod anti-affinity rules"],
        "consequences": ["workload_unavailable"],
        "roots": 2,
        "tags": ["recording"]},
}


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_workloads.py", __doc__, argv, recorded=RECORDED)


if __name__ == "__main__":
    sys.exit(main())

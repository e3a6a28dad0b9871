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
from tests.scenarios.generate_pods import Story, app, at, nodes  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_workloads.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

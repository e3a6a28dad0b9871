"""Jobs, CronJobs, their pods, HPAs and PodDisruptionBudgets in the API server's JSON form, for the workload scenarios.

Field for field as the Job, CronJob, HPA and disruption controllers write them (k8s.io/api batch/v1,
autoscaling/v2, policy/v1). Pods, containers, nodes and Events come from builders_pods.py.
"""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.scenarios import builders_pods as bp

Obj = dict[str, Any]
NS = bp.NS

# kubernetes/kubernetes pkg/controller/job/job_controller.go: the Failed condition's messages
BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"


def job(name: str, namespace: str = NS, *, owner: Obj | None = None, release: str | None = None,
        containers: list[Obj] | None = None, backoff_limit: int = 6, deadline: int | None = None,
        created: str = bp.T0, failed: int = 0, succeeded: int = 0, active: int = 0,
        failed_reason: str | None = None, failed_message: str | None = None, finished: str | None = None,
        restart_policy: str = "Never") -> Obj:
    """A Job; ``failed_reason`` gives it the Failed=True condition (BackoffLimitExceeded, DeadlineExceeded) at
    ``finished``, ``succeeded`` without it a Complete=True one."""
    spec: Obj = {"backoffLimit": backoff_limit, "completions": 1, "parallelism": 1,
                 "selector": {"matchLabels": {"job-name": name}},
                 "template": {"metadata": {"labels": {"job-name": name}},
                              "spec": {"restartPolicy": restart_policy, "serviceAccountName": "default",
                                       "containers": containers or [bp.container()]}}}
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    status: Obj = {"startTime": created}
    for field, value in (("failed", failed), ("succeeded", succeeded), ("active", active)):
        if value:
            status[field] = value
    conditions = []
    if failed_reason:
        # since 1.31 the controller first adds FailureTarget, then Failed, with the same reason and message
        for kind in ("FailureTarget", "Failed"):
            conditions.append({"type": kind, "status": "True", "reason": failed_reason,
                               "message": failed_message, "lastProbeTime": finished,
                               "lastTransitionTime": finished})
    elif succeeded:
        for kind in ("SuccessCriteriaMet", "Complete"):
            conditions.append({"type": kind, "status": "True", "reason": "CompletionsReached",
                               "message": "Reached expected number of succeeded pods",
                               "lastProbeTime": finished, "lastTransitionTime": finished})
        status["completionTime"] = finished
    if conditions:
        status["conditions"] = conditions
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": f.meta(name, namespace, labels={"job-name": name},
                               owners=[f.owner(owner)] if owner else None,
                               annotations=f.helm_managed(release, namespace) if release else None,
                               created=created),
            "spec": spec, "status": status}


def cronjob(name: str, namespace: str = NS, *, schedule: str = "*/5 * * * *", suspend: bool = False,
            containers: list[Obj] | None = None, last_schedule: str | None = None,
            last_success: str | None = None, active: list[Obj] = (), created: str = "2026-11-19T09:00:00Z") -> Obj:
    status: Obj = {}
    if active:
        status["active"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": j["metadata"]["name"],
                             "namespace": namespace, "uid": j["metadata"]["uid"]} for j in active]
    if last_schedule:
        status["lastScheduleTime"] = last_schedule
    if last_success:
        status["lastSuccessfulTime"] = last_success
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": f.meta(name, namespace, created=created),
            "spec": {"schedule": schedule, "suspend": suspend, "concurrencyPolicy": "Forbid",
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                     "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {
                         "restartPolicy": "Never", "containers": containers or [bp.container()]}}}}},
            "status": status}


def job_pod(name: str, job_obj: Obj, statuses: list[Obj], *, containers: list[Obj] | None = None,
            phase: str = "Failed", created: str = bp.T0, restart_policy: str = "Never", node: str = "node-1") -> Obj:
    """A pod the Job controller made (labels and owner as it sets them), in ``phase`` with these statuses."""
    labels = {"job-name": job_obj["metadata"]["name"], "batch.kubernetes.io/job-name": job_obj["metadata"]["name"]}
    return bare_pod(name, job_obj["metadata"]["namespace"], statuses, containers=containers or
                    job_obj["spec"]["template"]["spec"]["containers"], phase=phase, created=created,
                    restart_policy=restart_policy, labels=labels, owner=job_obj, node=node)


def bare_pod(name: str, namespace: str, statuses: list[Obj], *, containers: list[Obj], phase: str = "Failed",
             created: str = bp.T0, restart_policy: str = "Never", labels: dict[str, str] | None = None,
             owner: Obj | None = None, node: str = "node-1") -> Obj:
    pod = bp.pod(name, namespace, owner_obj=owner, labels=labels, node=node, phase=phase, ready=False,
                 containers=containers, statuses=statuses, created=created)
    pod["spec"]["restartPolicy"] = restart_policy
    if phase in ("Failed", "Succeeded"):
        reason = "PodFailed" if phase == "Failed" else "PodCompleted"
        for condition in pod["status"]["conditions"]:
            if condition["type"] in ("Ready", "ContainersReady"):
                condition.update({"status": "False", "reason": reason})
                condition.pop("message", None)
    return pod


def _meta(kind: str, name: str, namespace: str) -> Obj:
    """Metadata whose uid is the kind's own: an HPA or PDB often shares its Deployment's name."""
    meta = f.meta(name, namespace)
    meta["uid"] = f.uid(f"{kind}/{namespace}/{name}")
    return meta


def hpa(name: str, target: Obj, namespace: str = NS, *, min_replicas: int = 2, max_replicas: int = 10,
        current: int = 2, desired: int = 2, conditions: list[Obj] = ()) -> Obj:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _meta("HorizontalPodAutoscaler", name, namespace),
            "spec": {"scaleTargetRef": {"apiVersion": target["apiVersion"], "kind": target["kind"],
                                        "name": target["metadata"]["name"]},
                     "minReplicas": min_replicas, "maxReplicas": max_replicas,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
            "status": {"currentReplicas": current, "desiredReplicas": desired, "conditions": list(conditions)}}


def pdb(name: str, namespace: str = NS, *, match: dict[str, str], min_available: int | str = 1,
        allowed: int = 1, healthy: int = 2, desired: int = 1, expected: int = 2) -> Obj:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _meta("PodDisruptionBudget", name, namespace),
            "spec": {"minAvailable": min_available, "selector": {"matchLabels": match}},
            "status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": healthy,
                       "desiredHealthy": desired, "expectedPods": expected,
                       "conditions": [{"type": "DisruptionAllowed", "status": "True" if allowed else "False",
                                       "reason": "SufficientPods" if allowed else "InsufficientPods",
                                       "message": "", "observedGeneration": 1,
                                       "lastTransitionTime": "2026-11-20T09:00:00Z"}]}}


# --- StatefulSets and DaemonSets short of pods (workload_unavailable) -------------------------------------------
# Status fields as the statefulset and daemonset controllers write them; compared with what the local control
# plane's API server returned for a StatefulSet stuck on an ordinal and a PDB over it (docs/patterns-workloads.md).


def statefulset(name: str, namespace: str = NS, *, replicas: int = 3, ready: int = 0, created_pods: int = 1,
                containers: list[Obj] | None = None, policy: str | None = "OrderedReady",
                created: str = "2026-11-19T09:00:00Z") -> Obj:
    """A StatefulSet whose controller made ``created_pods`` pods, ``ready`` of them Ready; ``policy`` None leaves
    spec.podManagementPolicy out, as a hand-written dump may."""
    labels = {"app": name}
    spec: Obj = {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": containers or [bp.container()]}}}
    if policy:
        spec["podManagementPolicy"] = policy
    revision = f"{name}-5896b98d88"
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": f.meta(name, namespace, labels=labels, created=created), "spec": spec,
            "status": {"availableReplicas": ready, "collisionCount": 0, "currentReplicas": created_pods,
                       "currentRevision": revision, "observedGeneration": 1, "readyReplicas": ready,
                       "replicas": created_pods, "updateRevision": revision, "updatedReplicas": created_pods}}


def statefulset_pod(sts: Obj, ordinal: int, *, ready: bool = True, node: str | None = "node-1",
                    created: str = bp.T0, readiness_gate: str | None = None, statuses: list[Obj] | None = None) -> Obj:
    """Pod ``<sts>-<ordinal>`` with the labels the controller sets; ``readiness_gate`` adds a gate whose condition
    nobody set, so the kubelet keeps the pod not Ready with its ReadinessGatesNotReady words."""
    name = f"{sts['metadata']['name']}-{ordinal}"
    labels = {**sts["spec"]["selector"]["matchLabels"], "apps.kubernetes.io/pod-index": str(ordinal),
              "controller-revision-hash": sts["status"]["updateRevision"], "statefulset.kubernetes.io/pod-name": name}
    containers = sts["spec"]["template"]["spec"]["containers"]
    pod = bp.pod(name, sts["metadata"]["namespace"], owner_obj=sts, labels=labels, node=node, ready=ready,
                 containers=containers, created=created,
                 statuses=statuses if statuses is not None else
                 ([bp.status(c, bp.running(created), ready=True) for c in containers] if node else None))
    if readiness_gate:
        pod["spec"]["readinessGates"] = [{"conditionType": readiness_gate}]
        for condition in pod["status"]["conditions"]:
            if condition["type"] == "Ready":
                # kubernetes pkg/kubelet/status/generate.go (GeneratePodReadyCondition)
                condition.update({"status": "False", "reason": "ReadinessGatesNotReady",
                                  "message": f'corresponding condition of pod readiness gate "{readiness_gate}" does '
                                             "not exist."})
    return pod


def daemonset(name: str, namespace: str = "kube-system", *, desired: int = 3, current: int = 3, ready: int = 3,
              misscheduled: int = 0, containers: list[Obj] | None = None,
              created: str = "2026-11-19T09:00:00Z") -> Obj:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": f.meta(name, namespace, labels=labels, created=created),
            "spec": {"selector": {"matchLabels": labels}, "updateStrategy": {"type": "RollingUpdate"},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": containers or [bp.container()]}}},
            "status": {"currentNumberScheduled": current, "desiredNumberScheduled": desired,
                       "numberAvailable": ready, "numberMisscheduled": misscheduled, "numberReady": ready,
                       "observedGeneration": 1, "updatedNumberScheduled": current,
                       **({"numberUnavailable": desired - ready} if desired > ready else {})}}


def daemon_pod(ds: Obj, suffix: str, node: str, *, phase: str = "Running", ready: bool = True,
               reason: str | None = None, message: str | None = None, created: str = bp.T0) -> Obj:
    """A daemon pod bound to ``node`` (the controller pins it there with node affinity); ``phase`` Failed with
    ``reason``/``message`` as the kubelet rejects a pod at admission (OutOfcpu, ...), with no container started."""
    containers = ds["spec"]["template"]["spec"]["containers"]
    statuses = ([bp.status(c, bp.running(created), ready=True) for c in containers] if phase == "Running"
                else [])
    pod = bp.pod(f"{ds['metadata']['name']}-{suffix}", ds["metadata"]["namespace"], owner_obj=ds,
                 labels=ds["spec"]["selector"]["matchLabels"], node=node, phase=phase, ready=ready,
                 containers=containers, statuses=statuses, reason=reason, message=message, created=created)
    pod["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
    if phase == "Failed":
        pod["status"]["conditions"] = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"]
    return pod


def cordon(node: Obj, at: str) -> Obj:
    """``kubectl cordon``: spec.unschedulable and the taint the node lifecycle controller adds."""
    node["spec"]["unschedulable"] = True
    node["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": at}]
    return node


def lifecycle(container: Obj, which: str, handler: Obj) -> Obj:
    container.setdefault("lifecycle", {})[which] = handler
    return container


def gated_pod(name: str, namespace: str = NS, *, gates: tuple[str, ...], owner: Obj | None = None,
              created: str = bp.T0) -> Obj:
    """A pod held by spec.schedulingGates, as the API server and scheduler leave it (no node, PodScheduled
    False SchedulingGated with the message the local control plane's kube-apiserver wrote)."""
    pod = bp.pod(name, namespace, owner_obj=owner, labels={"app": name.rsplit("-", 2)[0]}, node=None,
                 phase="Pending", ready=False, created=created,
                 scheduled_message="Scheduling is blocked due to non-empty scheduling gates")
    pod["spec"]["schedulingGates"] = [{"name": g} for g in gates]
    pod["status"]["conditions"][0]["reason"] = "SchedulingGated"
    pod["status"]["qosClass"] = "BestEffort"
    return pod

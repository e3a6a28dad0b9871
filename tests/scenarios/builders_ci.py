"""CI deploy jobs for the CI scenarios: a Job whose pod runs helm, in the API server's JSON form.

A deploy Job as CI systems create them in a cluster (a GitLab Kubernetes executor, a Tekton or Argo Workflows step,
a plain ``kubectl create job``): one container running helm directly or in ``sh -c``, with
``terminationMessagePolicy: FallbackToLogsOnError``, so the kubelet puts the container's last log lines, helm's
``Error:`` among them, in the terminated state's ``message`` (the Kubernetes API reference, Container
``terminationMessagePolicy``). Times, names and uids are fixed so a regenerated scenario is byte-identical.
"""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.scenarios.builders_helm import terminated

Obj = dict[str, Any]
CI_NS = "ci"
IMAGE = "alpine/helm:3.14.4"


def deploy_job(name: str, script: list[str], *, ns: str = CI_NS, created: str, failed: int = 0, succeeded: int = 0,
               active: int = 0, restart_policy: str = "Never", env: dict[str, str] | None = None) -> Obj:
    """A deploy Job whose container runs ``script`` (its command and args as the pod spec gives them)."""
    conditions = []
    if failed:
        conditions.append({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                           "message": "Job has reached the specified backoff limit",
                           "lastProbeTime": created, "lastTransitionTime": created})
    if succeeded:
        conditions.append({"type": "Complete", "status": "True", "lastProbeTime": created,
                           "lastTransitionTime": created})
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": f.meta(name, ns, labels={"app.kubernetes.io/name": "deploy"}, created=created),
            "spec": {"backoffLimit": 0, "completions": 1, "parallelism": 1,
                     "template": {"metadata": {"labels": {"job-name": name}},
                                  "spec": {"restartPolicy": restart_policy, "serviceAccountName": "deployer",
                                           "containers": [_container(script, env)]}}},
            "status": {"startTime": created, "active": active, "failed": failed, "succeeded": succeeded,
                       **({"conditions": conditions} if conditions else {})}}


def _container(script: list[str], env: dict[str, str] | None) -> Obj:
    container: Obj = {"name": "helm", "image": IMAGE, "command": script[:1], "args": script[1:],
                      "terminationMessagePolicy": "FallbackToLogsOnError"}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return container


def deploy_pod(job: Obj, suffix: str, *, created: str, state: Obj, last_state: Obj | None = None,
               restarts: int = 0, phase: str = "Failed") -> Obj:
    """The Job's pod with its container's ``state`` (``terminated(...)`` or running) and ``lastState``."""
    meta = job["metadata"]
    template = job["spec"]["template"]["spec"]
    ready = "running" in state
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": f.meta(f"{meta['name']}-{suffix}", meta["namespace"],
                               labels={"job-name": meta["name"]}, owners=[f.owner(job)], created=created),
            "spec": {"containers": template["containers"], "restartPolicy": template["restartPolicy"],
                     "serviceAccountName": template["serviceAccountName"], "nodeName": "node-1"},
            "status": {"phase": phase, "startTime": created,
                       "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": created},
                                      {"type": "Ready", "status": "True" if ready else "False",
                                       "lastTransitionTime": created}],
                       "containerStatuses": [{
                           "name": "helm", "image": IMAGE, "imageID": "", "ready": ready, "started": ready,
                           "restartCount": restarts, "state": state, "lastState": last_state or {}}]}}


def failed_run(started: str, finished: str, log_tail: str) -> Obj:
    """A helm container that exited 1; ``log_tail`` is what FallbackToLogsOnError kept of its log."""
    return terminated(1, started, finished, message=log_tail)


def succeeded_run(started: str, finished: str) -> Obj:
    return terminated(0, started, finished, reason="Completed")

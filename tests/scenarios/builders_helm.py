"""Objects and helm process records for the Helm scenarios, in the forms their sources write them.

Kubernetes objects are the API server's JSON (built on tests/factories.py); helm process records are
what bpf/records.py assembles for one helm process (schema 1, with the command line parsed by
kgrca/commandline.py). Messages are helm's, the API server's and the kubelet's real ones, from
../shared/reference/failure-messages.jsonl.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from typing import Any

from kg_builder.times import parse_time
from kgrca.commandline import parse_command
from tests import factories as f
from tests.scenarios import suite

Obj = dict[str, Any]
NS = "prod"
T0 = "2026-11-20T10:00:00Z"


def at(base: str, seconds: float) -> str:
    moment = parse_time(base) + dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def ms(when: str) -> str:
    """The tracer's time format: UTC with milliseconds."""
    return parse_time(when).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Story:
    """The input lines of one scenario, in the order a watcher and the tracer would deliver them."""

    def __init__(self) -> None:
        self.lines: list[Obj] = []
        self._pid = 4100

    def add(self, obj: Obj, when: str, action: str = "ADDED") -> Obj:
        self.lines.append(suite.watch_event(obj, when, action))
        return obj

    def helm(self, argv: list[str], started: str, *, ended: str | None = None, status: str = "succeeded",
             exit_code: int | None = 0, signal: str | None = None, stderr: str = "",
             files_read: list[str] = (), cwd: str = "/home/ci/deploy") -> Obj:
        """A helm process record as bpf/records.py writes it (EXITED, or RUNNING when status is running)."""
        self._pid += 37
        parsed = parse_command("helm", argv)
        start_ms = int(parse_time(started).timestamp() * 1000)
        values = [v if v.startswith("/") else f"{cwd}/{v}" for v in parsed["values_files"]]
        record: Obj = {
            "schema": 1, "operation_id": f"helm-{self._pid}-{start_ms}", "tool": "helm", "host": "ci-runner-3",
            "pid": self._pid, "ppid": 4000, "parent_operation_id": None, "binary": "/usr/local/bin/helm",
            "comm": "helm", "argv": argv, "argv_truncated": False, "cwd": cwd, **parsed, "values_files": values,
            "files_read": list(files_read) or values, "files_written": [], "files_failed": [],
            "api_endpoints": ["10.96.0.1:443"], "stderr": stderr, "stderr_bytes": len(stderr.encode()),
            "stderr_truncated": False, "children": [], "uid": 1001, "user": "ci", "gid": 1001,
            "cgroup_id": 9121, "cgroup": "/system.slice/ci-runner.service", "container_id": None,
            "started_at": ms(started), "status": status,
        }
        if status != "running":
            ended = ended or started
            duration = (parse_time(ended) - parse_time(started)).total_seconds()
            record.update({"ended_at": ms(ended), "duration_seconds": duration,
                           "exit_code": exit_code if status != "killed" else None, "signal": signal,
                           "signal_received": signal, "signal_from_pid": 3999 if signal else None,
                           "signaled_at": ms(ended) if signal else None})
        self.lines.append({"schema": 1, "kind": "helm_process", "action": "RUNNING" if status == "running"
                           else "EXITED", "payload": record,
                           "observed_at": (ended if status != "running" else started) or started,
                           "origin": "bpf"})
        return record


def release_secret(release: Obj, *, created: str) -> Obj:
    """factories.release_secret with a fixed gzip time, so a regenerated scenario is byte-identical."""
    secret = f.release_secret(release, created=created)
    packed = gzip.compress(json.dumps(release).encode(), compresslevel=9, mtime=0)
    secret["data"]["release"] = base64.b64encode(base64.b64encode(packed)).decode()
    return secret


# --- the release and its workloads ----------------------------------------------------------------


APP = (("apps/v1", "Deployment", "api"), ("v1", "Service", "api"), ("v1", "ConfigMap", "api-config"))


def revision(st: Story, version: int, status: str, *, name: str = "api", ns: str = NS, description: str = "",
             objects: tuple[tuple[str, str, str], ...] = APP, hooks: list[Obj] = (), when: str = T0,
             pending_first: bool = False, ended: str | None = None, chart_version: str = "1.2.3",
             first_deployed: str | None = None, deleted: str | None = None) -> Obj:
    """One revision Secret; with ``pending_first`` helm's pending-* write comes first, then the outcome;
    ``deleted`` is info.deleted (helm sets it when an uninstall starts)."""
    pending = {1: "pending-install"}.get(version, "pending-upgrade")
    if description.startswith("Rollback"):
        pending = "pending-rollback"
    rel = f.release_json(name, ns, version, status, description=description or {
        "deployed": "Upgrade complete" if version > 1 else "Install complete", "superseded": "Upgrade complete",
        "failed": f'Upgrade "{name}" failed', "pending-install": "Initial install underway",
        "pending-upgrade": "Preparing upgrade", "pending-rollback": "Rollback in progress"}.get(status, ""),
        manifest=manifest(objects, ns), hooks=list(hooks), chart_version=chart_version,
        first_deployed=first_deployed or at(T0, -86400 * 3), last_deployed=when,
        config={"image": {"tag": f"{chart_version}"}, "replicaCount": 2})
    if deleted:
        rel["info"]["deleted"] = deleted
    if pending_first and status != pending:
        early = dict(rel, info=dict(rel["info"], status=pending, description="Preparing upgrade"))
        st.add(release_secret(early, created=when), when)
        st.add(release_secret(rel, created=when), ended or when, "MODIFIED")
    else:
        st.add(release_secret(rel, created=when), ended or when)
    return rel


def manifest(objects: tuple[tuple[str, str, str], ...], ns: str) -> str:
    docs = []
    for api_version, kind, name in objects:
        docs.append(f"---\n# Source: app/templates/{kind.lower()}.yaml\napiVersion: {api_version}\nkind: {kind}\n"
                    f"metadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: {name}\n")
    return "".join(docs)


def healthy_app(st: Story, *, name: str = "api", ns: str = NS, release: str = "api", when: str = T0,
                replicas: int = 2, service: bool = True, config: bool = True) -> Obj:
    deploy = f.deployment(name, ns, release=release, replicas=replicas, ready=replicas, created=at(when, -86400))
    rs = f.replicaset(deploy)
    st.add(deploy, when)
    st.add(rs, when)
    for index in range(replicas):
        st.add(f.pod(f"{name}-7d4b9c-{'xyzab'[index]}{index}", ns, owner_obj=rs, labels={"app": name},
                     created=at(when, -86000)), when)
    if service:
        st.add(service_obj(name, ns, release), when)
    if config:
        st.add(config_map(f"{name}-config", ns, release), when)
    return deploy


def service_obj(name: str, ns: str = NS, release: str | None = "api", cluster_ip: str = "10.96.12.7") -> Obj:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": f.meta(name, ns, labels={"app": name, "app.kubernetes.io/managed-by": "Helm"} if release
                               else {"app": name},
                               annotations=f.helm_managed(release, ns) if release else None,
                               created="2026-11-17T10:00:00Z"),
            "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                     "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]},
            "status": {"loadBalancer": {}}}


def config_map(name: str, ns: str = NS, release: str | None = "api") -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": f.meta(name, ns, labels={"app.kubernetes.io/managed-by": "Helm"} if release else None,
                               annotations=f.helm_managed(release, ns) if release else None,
                               created="2026-11-17T10:00:00Z"),
            "data": {"app.yaml": "log_level: info\n"}}


# --- hooks ------------------------------------------------------------------------------------------


def hook_job(name: str, ns: str = NS, *, event: str = "pre-upgrade", created: str = T0, active: int = 0,
             failed: int = 0, succeeded: int = 0, failed_reason: str | None = None, failed_message: str = "",
             backoff_limit: int = 1, deadline: int | None = None,
             image: str = "registry.example/migrate:2.0") -> Obj:
    conditions = []
    if failed_reason:
        conditions.append({"type": "Failed", "status": "True", "reason": failed_reason, "message": failed_message,
                           "lastProbeTime": created, "lastTransitionTime": created})
    if succeeded:
        conditions.append({"type": "Complete", "status": "True", "lastProbeTime": created,
                           "lastTransitionTime": created})
    spec: Obj = {"backoffLimit": backoff_limit, "completions": 1, "parallelism": 1,
                 "template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "migrate", "image": image}]}}}
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": f.meta(name, ns, labels={"app.kubernetes.io/managed-by": "Helm"},
                               annotations={"helm.sh/hook": event, "helm.sh/hook-weight": "0",
                                            "helm.sh/hook-delete-policy": "before-hook-creation"},
                               created=created),
            "spec": spec,
            "status": {"startTime": created, "active": active, "failed": failed, "succeeded": succeeded,
                       **({"conditions": conditions} if conditions else {})}}


def job_pod(job: Obj, suffix: str, *, created: str, phase: str = "Running", state: Obj | None = None,
            last_state: Obj | None = None, restarts: int = 0, node: str | None = "node-1",
            unschedulable: str | None = None, ready: bool = False) -> Obj:
    """A Job's pod; ``state`` is the container state as the kubelet writes it ({"terminated": {...}})."""
    meta = job["metadata"]
    image = job["spec"]["template"]["spec"]["containers"][0]["image"]
    name = f"{meta['name']}-{suffix}"
    conditions = [{"type": "PodScheduled", "status": "False" if unschedulable else "True",
                   "lastTransitionTime": created,
                   **({"reason": "Unschedulable", "message": unschedulable} if unschedulable else {})}]
    if node:
        conditions += [{"type": "Initialized", "status": "True", "lastTransitionTime": created},
                       {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": created,
                        **({} if ready else {"reason": "PodFailed" if phase == "Failed" else "ContainersNotReady"})}]
    status: Obj = {"phase": phase, "conditions": conditions, "startTime": created}
    if node:
        status["containerStatuses"] = [{
            "name": "migrate", "image": image, "imageID": "", "ready": ready, "restartCount": restarts,
            "started": False, "state": state or {"running": {"startedAt": created}},
            "lastState": last_state or {}}]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": f.meta(name, meta["namespace"], labels={"job-name": meta["name"]},
                               owners=[f.owner(job)], created=created),
            "spec": {"containers": [{"name": "migrate", "image": image,
                                     "terminationMessagePolicy": "FallbackToLogsOnError"}],
                     "restartPolicy": "Never", **({"nodeName": node} if node else {})},
            "status": status}


def terminated(exit_code: int, started: str, finished: str, message: str | None = None,
               reason: str = "Error") -> Obj:
    return {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": finished,
                           "containerID": "containerd://4f1c0e", **({"message": message} if message else {})}}


def hook(name: str, event: str, *, phase: str, started: str, completed: str | None = None) -> Obj:
    return f.hook(name, [event], phase=phase, started=started, completed=completed,
                  path=f"app/templates/{name.removeprefix('api-')}-job.yaml")


def event(about: Obj, reason: str, message: str, when: str, *, type_: str = "Warning", count: int = 1,
          component: str = "kubelet", first: str | None = None) -> Obj:
    ev = f.event(about, reason, message, type_=type_, count=count, at=when, component=component)
    if first:
        ev["firstTimestamp"] = first
    return ev


# --- generic workloads ------------------------------------------------------------------------------


def deployment(name: str, *, replicas: int, ready: int, release: str = "api", ns: str = NS, created: str = T0,
               progressing: str = "ReplicaSetUpdated") -> Obj:
    deploy = f.deployment(name, ns, release=release, replicas=replicas, ready=ready, created=created,
                          progressing_reason=progressing)
    deploy["status"]["unavailableReplicas"] = replicas - ready
    return deploy


def app_pod(rs: Obj, suffix: str, *, created: str, ready: bool, waiting: str | None = None,
            waiting_message: str | None = None, last_terminated: Obj | None = None, restarts: int = 0,
            phase: str = "Running", node: str | None = "node-1", readiness: bool = True) -> Obj:
    name = rs["metadata"]["name"] + "-" + suffix
    labels = rs["spec"]["selector"]["matchLabels"]
    obj = f.pod(name, rs["metadata"]["namespace"], owner_obj=rs, labels=labels, node=node, phase=phase,
                ready=ready, image=rs["spec"]["template"]["spec"]["containers"][0]["image"], waiting=waiting,
                waiting_message=waiting_message, last_terminated=last_terminated, restarts=restarts,
                created=created)
    if readiness:
        obj["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080},
                                                          "initialDelaySeconds": 5, "periodSeconds": 10}
    return obj


def pvc(name: str, ns: str = NS, *, phase: str = "Pending", storage_class: str = "fast-ssd",
        release: str = "api", created: str = T0) -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": f.meta(name, ns, labels={"app.kubernetes.io/managed-by": "Helm"},
                               annotations=f.helm_managed(release, ns), created=created),
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                     "resources": {"requests": {"storage": "10Gi"}}, "volumeMode": "Filesystem"},
            "status": {"phase": phase}}


def crd(plural: str, group: str, kind: str, versions: list[str], created: str = "2026-11-01T10:00:00Z") -> Obj:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": f.meta(f"{plural}.{group}", None, created=created),
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": kind + "List"},
                     "versions": [{"name": v, "served": True, "storage": i == 0, "schema": {
                         "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
                                  for i, v in enumerate(versions)]},
            "status": {"acceptedNames": {"kind": kind, "plural": plural}, "storedVersions": versions[:1],
                       "conditions": [{"type": "Established", "status": "True",
                                       "lastTransitionTime": created, "reason": "InitialNamesAccepted"}]}}


def custom(api_version: str, kind: str, name: str, ns: str = NS, release: str = "api", created: str = T0) -> Obj:
    return {"apiVersion": api_version, "kind": kind,
            "metadata": f.meta(name, ns, labels={"app.kubernetes.io/managed-by": "Helm"},
                               annotations=f.helm_managed(release, ns), created=created),
            "spec": {}}

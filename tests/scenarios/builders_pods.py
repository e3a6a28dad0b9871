"""Pods, workloads, nodes and Events in the API server's JSON form, for the pod-failure scenarios.

Field for field as the kubelet, the scheduler and the controllers write them (the messages are the real
ones from ../shared/reference/failure-messages.jsonl). tests/factories.py has the Helm side; this adds
what a pod failure needs: several container states, resources, probes, env and volume references,
node conditions, and Events whose first and last sightings differ.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from tests import factories as f

NS = "prod"
T0 = "2026-11-20T10:00:00Z"

Obj = dict[str, Any]


# --- containers -----------------------------------------------------------------------------------


def container(name: str = "main", image: str = "registry.example/app:2.0", *, memory_limit: str | None = None,
              cpu_request: str | None = None, memory_request: str | None = None, readiness: bool = False,
              liveness: bool = False, env: list[Obj] = (), env_from: list[Obj] = (),
              mounts: list[str] = ()) -> Obj:
    resources: Obj = {}
    if memory_limit:
        resources.setdefault("limits", {})["memory"] = memory_limit
    if cpu_request:
        resources.setdefault("requests", {})["cpu"] = cpu_request
    if memory_request:
        resources.setdefault("requests", {})["memory"] = memory_request
    spec: Obj = {"name": name, "image": image, "resources": resources, "imagePullPolicy": "IfNotPresent"}
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3}
    if readiness:
        spec["readinessProbe"] = probe
    if liveness:
        spec["livenessProbe"] = probe
    if env:
        spec["env"] = list(env)
    if env_from:
        spec["envFrom"] = list(env_from)
    if mounts:
        spec["volumeMounts"] = [{"name": m, "mountPath": f"/mnt/{m}"} for m in mounts]
    return spec


def env_from_key(var: str, kind: str, name: str, key: str) -> Obj:
    field = "configMapKeyRef" if kind == "ConfigMap" else "secretKeyRef"
    return {"name": var, "valueFrom": {field: {"name": name, "key": key}}}


def running(since: str = T0) -> Obj:
    return {"running": {"startedAt": since}}


def waiting(reason: str, message: str | None = None) -> Obj:
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


def terminated(reason: str, exit_code: int, started: str, finished: str, message: str | None = None) -> Obj:
    return {"terminated": {"reason": reason, "exitCode": exit_code, "startedAt": started, "finishedAt": finished,
                           "containerID": "containerd://" + "0" * 12, **({"message": message} if message else {})}}


def status(spec: Obj, state: Obj, *, last: Obj | None = None, restarts: int = 0, ready: bool = False) -> Obj:
    return {"name": spec["name"], "image": spec["image"], "imageID": "", "ready": ready, "restartCount": restarts,
            "started": "running" in state, "state": state, "lastState": last or {}}


# --- pods -----------------------------------------------------------------------------------------


def pod(name: str, namespace: str = NS, *, owner_obj: Obj | None = None, labels: dict[str, str] | None = None,
        node: str | None = "node-1", phase: str = "Running", ready: bool = True,
        containers: list[Obj] | None = None, statuses: list[Obj] | None = None, volumes: list[Obj] = (),
        reason: str | None = None, message: str | None = None, created: str = T0,
        scheduled_message: str | None = None) -> Obj:
    """A pod; ``node=None`` leaves it unscheduled (PodScheduled False with the scheduler's message)."""
    containers = containers or [container()]
    if statuses is None:
        statuses = [status(c, running(created), ready=ready) for c in containers] if node else []
    conditions: list[Obj] = [{"type": "PodScheduled", "status": "True" if node else "False",
                              "lastTransitionTime": created, "lastProbeTime": None,
                              **({} if node else {"reason": "Unschedulable", "message": scheduled_message or ""})}]
    if node:
        not_ready = [s["name"] for s in statuses if not s["ready"]]
        unready = {"reason": "ContainersNotReady",
                   "message": f"containers with unready status: [{' '.join(not_ready)}]"}
        conditions += [
            {"type": "Initialized", "status": "True", "lastTransitionTime": created, "lastProbeTime": None},
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": created,
             "lastProbeTime": None, **({} if ready else unready)},
            {"type": "ContainersReady", "status": "True" if ready else "False", "lastTransitionTime": created,
             "lastProbeTime": None, **({} if ready else unready)}]
    body: Obj = {"phase": phase, "conditions": conditions, "qosClass": "Burstable"}
    if node:
        body.update({"hostIP": "10.0.0.11", "podIP": "10.244.1.23", "startTime": created,
                     "containerStatuses": statuses})
    if reason:
        body["reason"] = reason
    if message:
        body["message"] = message
    spec: Obj = {"containers": containers, "restartPolicy": "Always", "serviceAccountName": "default",
                 "terminationGracePeriodSeconds": 30, "volumes": list(volumes)}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": f.meta(name, namespace, labels=labels,
                               owners=[f.owner(owner_obj)] if owner_obj else None, created=created),
            "spec": spec, "status": body}


def volume(name: str, kind: str, ref: str) -> Obj:
    field = {"ConfigMap": ("configMap", "name"), "Secret": ("secret", "secretName"),
             "PersistentVolumeClaim": ("persistentVolumeClaim", "claimName")}[kind]
    return {"name": name, field[0]: {field[1]: ref}}


# --- workloads ------------------------------------------------------------------------------------


def deployment(name: str, namespace: str = NS, *, release: str | None = None, replicas: int = 2, ready: int = 2,
               updated: int | None = None, containers: list[Obj] | None = None, created: str = T0,
               progressing: tuple[str, str, str] | None = None, progressing_at: str = T0) -> Obj:
    """A Deployment; ``progressing`` is (status, reason, message) of its Progressing condition."""
    labels = {"app": name}
    meta_labels = {**labels, **({"app.kubernetes.io/managed-by": "Helm",
                                 "app.kubernetes.io/instance": release} if release else {})}
    status_, reason, message = progressing or ("True", "NewReplicaSetAvailable",
                                               f'ReplicaSet "{name}-7d4b9c" has successfully progressed.')
    available_status = "True" if ready >= replicas else "False"
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": f.meta(name, namespace, labels=meta_labels,
                           annotations=f.helm_managed(release, namespace) if release else None, created=created),
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "progressDeadlineSeconds": 600,
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": containers or [container()]}}},
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": ready,
                   "availableReplicas": ready, "updatedReplicas": replicas if updated is None else updated,
                   **({"unavailableReplicas": replicas - ready} if replicas > ready else {}),
                   "conditions": [
                       {"type": "Available", "status": available_status, "lastUpdateTime": created,
                        "lastTransitionTime": created,
                        "reason": "MinimumReplicasAvailable" if available_status == "True"
                        else "MinimumReplicasUnavailable",
                        "message": "Deployment has minimum availability." if available_status == "True"
                        else "Deployment does not have minimum availability."},
                       {"type": "Progressing", "status": status_, "reason": reason, "message": message,
                        "lastUpdateTime": progressing_at, "lastTransitionTime": progressing_at}]},
    }


def replicaset(deploy: Obj, suffix: str = "7d4b9c", *, replicas: int | None = None, ready: int | None = None,
               created: str | None = None) -> Obj:
    name = f"{deploy['metadata']['name']}-{suffix}"
    labels = {**deploy["spec"]["selector"]["matchLabels"], "pod-template-hash": suffix}
    want = deploy["spec"]["replicas"] if replicas is None else replicas
    have = deploy["status"]["readyReplicas"] if ready is None else ready
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": f.meta(name, deploy["metadata"]["namespace"], labels=labels, owners=[f.owner(deploy)],
                           created=created or deploy["metadata"]["creationTimestamp"]),
        "spec": {"replicas": want, "selector": {"matchLabels": labels}, "template": deploy["spec"]["template"]},
        "status": {"replicas": have, "readyReplicas": have, "availableReplicas": have, "fullyLabeledReplicas": have,
                   "observedGeneration": 1},
    }


def statefulset(name: str, namespace: str = NS, *, replicas: int = 1, ready: int = 0) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": f.meta(name, namespace, labels=labels),
        "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [container()]}}},
        "status": {"replicas": ready, "readyReplicas": ready, "availableReplicas": ready, "currentReplicas": ready,
                   "updatedReplicas": ready, "observedGeneration": 1},
    }


def config_map(name: str, namespace: str = NS, keys: tuple[str, ...] = ("app.yaml",)) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": f.meta(name, namespace),
            "data": {k: "x" for k in keys}}


def secret(name: str, namespace: str = NS, keys: tuple[str, ...] = ("password",)) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": f.meta(name, namespace),
            "data": {k: "eA==" for k in keys}}


def pvc(name: str, namespace: str = NS, *, phase: str = "Pending", storage_class: str = "fast-ssd") -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": f.meta(name, namespace),
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                     "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": phase}}


# --- nodes ----------------------------------------------------------------------------------------


def node(name: str, *, ready: str = "True", reason: str = "KubeletReady",
         message: str = "kubelet is posting ready status", pressure: tuple[str, ...] = (),
         taints: list[Obj] = (), at: str = T0, cpu: str = "4",
         memory: str = "16Gi") -> Obj:
    conditions = [{"type": kind, "status": "True" if kind in pressure else "False",
                   "reason": f"KubeletHas{'Insufficient' if kind in pressure else 'Sufficient'}"
                             f"{kind.removesuffix('Pressure')}",
                   "message": f"kubelet has {'insufficient' if kind in pressure else 'sufficient'} "
                              f"{kind.removesuffix('Pressure').lower()} available",
                   "lastHeartbeatTime": at, "lastTransitionTime": at}
                  for kind in ("MemoryPressure", "DiskPressure", "PIDPressure")]
    conditions.append({"type": "Ready", "status": ready, "reason": reason, "message": message,
                       "lastHeartbeatTime": at, "lastTransitionTime": at})
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": f.meta(name, None, labels={"kubernetes.io/hostname": name}),
            "spec": {"taints": list(taints)} if taints else {},
            "status": {"conditions": conditions, "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                       "capacity": {"cpu": cpu, "memory": memory, "pods": "110"}}}


# --- events ---------------------------------------------------------------------------------------


def event(about: Obj, reason: str, message: str, *, type_: str = "Warning", count: int = 1, first: str = T0,
          last: str | None = None, component: str = "kubelet", field_path: str | None = None) -> Obj:
    """An Event seen ``count`` times from ``first`` to ``last`` (the API server folds repeats this way)."""
    ev = f.event(about, reason, message, type_=type_, count=count, at=last or first, component=component)
    ev["firstTimestamp"] = first
    if field_path:
        ev["involvedObject"]["fieldPath"] = field_path
    if component == "kubelet":
        ev["source"]["host"] = (about.get("spec") or {}).get("nodeName") or ""
    return ev


# --- Helm -----------------------------------------------------------------------------------------


def helm_revisions(name: str, namespace: str = NS, *, latest_status: str = "deployed",
                   latest_description: str | None = None, kinds: tuple[tuple[str, str, str], ...] = (),
                   latest_at: str = T0, previous_at: str = "2026-11-19T09:00:00Z") -> list[Obj]:
    """Release Secrets of revisions 1 (superseded) and 2 (``latest_status``), declaring ``kinds``."""
    manifest = f.manifest(*(kinds or (("apps/v1", "Deployment", name), ("v1", "Service", name))))
    first = f.release_json(name, namespace, 1, "superseded", description="Install complete", manifest=manifest,
                           first_deployed=previous_at, last_deployed=previous_at)
    second = f.release_json(name, namespace, 2, latest_status, manifest=manifest, first_deployed=previous_at,
                            last_deployed=latest_at,
                            description=latest_description or {"deployed": "Upgrade complete"}.get(latest_status, ""))
    return [release_secret(first, created=previous_at), release_secret(second, created=latest_at)]


def release_secret(release: Obj, *, created: str) -> Obj:
    """factories.release_secret with gzip's time fixed, so a regenerated scenario is byte-identical."""
    secret = f.release_secret(release, created=created)
    packed = gzip.compress(json.dumps(release).encode(), compresslevel=9, mtime=0)
    secret["data"]["release"] = base64.b64encode(base64.b64encode(packed)).decode()
    return secret


def wait_failed(name: str) -> str:
    """The description helm writes when `helm upgrade --wait` times out (v3.12+: context deadline)."""
    return f'Upgrade "{name}" failed: context deadline exceeded'

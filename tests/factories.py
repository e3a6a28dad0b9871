"""Kubernetes objects and Helm release Secrets in the API server's own JSON form, for tests.

These are built here, field for field as the API server and Helm 3 write them (see
../shared/reference/helm-release-format.md); the end-to-end recordings in tests/e2e/recordings are the
same shapes captured from a real cluster.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from typing import Any

_counter = iter(range(1000, 10_000_000))


def uid(seed: str | None = None) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed)) if seed else str(uuid.uuid4())


def meta(name: str, namespace: str | None = "prod", *, labels: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None, owners: list[dict[str, Any]] | None = None,
         created: str = "2026-11-20T10:00:00Z", rv: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "uid": uid(f"{namespace}/{name}/{created}"),
                            "resourceVersion": str(rv if rv is not None else next(_counter)),
                            "creationTimestamp": created}
    if namespace:
        data["namespace"] = namespace
    if labels:
        data["labels"] = labels
    if annotations:
        data["annotations"] = annotations
    if owners:
        data["ownerReferences"] = owners
    return data


def owner(obj: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def helm_managed(release: str, namespace: str = "prod") -> dict[str, str]:
    return {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}


def deployment(name: str, namespace: str = "prod", *, release: str | None = None, replicas: int = 2,
               ready: int = 2, labels: dict[str, str] | None = None, created: str = "2026-11-20T10:00:00Z",
               progressing_reason: str = "NewReplicaSetAvailable") -> dict[str, Any]:
    selector = labels or {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta(name, namespace, labels={**selector, "app.kubernetes.io/managed-by": "Helm"},
                         annotations=helm_managed(release, namespace) if release else None, created=created),
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                 "template": {"metadata": {"labels": selector},
                              "spec": {"containers": [{"name": name, "image": f"registry.example/{name}:1.0"}]}}},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                   "updatedReplicas": replicas, "observedGeneration": 1,
                   "conditions": [{"type": "Progressing", "status": "True", "reason": progressing_reason,
                                   "lastTransitionTime": created, "lastUpdateTime": created,
                                   "message": f'ReplicaSet "{name}-7d4b9c" has successfully progressed.'}]},
    }


def replicaset(deploy: dict[str, Any], suffix: str = "7d4b9c") -> dict[str, Any]:
    name = f"{deploy['metadata']['name']}-{suffix}"
    labels = deploy["spec"]["selector"]["matchLabels"]
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": meta(name, deploy["metadata"]["namespace"], labels=labels, owners=[owner(deploy)],
                         created=deploy["metadata"]["creationTimestamp"]),
        "spec": {"replicas": deploy["spec"]["replicas"], "selector": {"matchLabels": labels},
                 "template": deploy["spec"]["template"]},
        "status": {"replicas": deploy["spec"]["replicas"], "readyReplicas": deploy["status"]["readyReplicas"]},
    }


def pod(name: str, namespace: str = "prod", *, owner_obj: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None, node: str | None = "kwok-node-0", phase: str = "Running",
        ready: bool = True, image: str = "registry.example/app:1.0", waiting: str | None = None,
        waiting_message: str | None = None, terminated: dict[str, Any] | None = None,
        last_terminated: dict[str, Any] | None = None, restarts: int = 0, config_maps: list[str] = (),
        created: str = "2026-11-20T10:00:00Z", rv: int | None = None) -> dict[str, Any]:
    if waiting:
        state: dict[str, Any] = {"waiting": {"reason": waiting, **({"message": waiting_message}
                                                                    if waiting_message else {})}}
    elif terminated:
        state = {"terminated": terminated}
    else:
        state = {"running": {"startedAt": created}}
    container_status = {"name": "main", "image": image, "imageID": "", "ready": ready,
                        "restartCount": restarts, "started": ready, "state": state,
                        "lastState": {"terminated": last_terminated} if last_terminated else {}}
    conditions = [
        {"type": "PodScheduled", "status": "True" if node else "False", "lastTransitionTime": created,
         **({} if node else {"reason": "Unschedulable",
                             "message": "0/1 nodes are available: 1 Insufficient memory."})},
    ]
    if node:
        conditions += [{"type": "Initialized", "status": "True", "lastTransitionTime": created},
                       {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": created,
                        **({} if ready else {"reason": "ContainersNotReady",
                                             "message": "containers with unready status: [main]"})},
                       {"type": "ContainersReady", "status": "True" if ready else "False",
                        "lastTransitionTime": created}]
    volumes = [{"name": f"cm-{cm}", "configMap": {"name": cm}} for cm in config_maps]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta(name, namespace, labels=labels, owners=[owner(owner_obj)] if owner_obj else None,
                         created=created, rv=rv),
        "spec": {"containers": [{"name": "main", "image": image,
                                 "volumeMounts": [{"name": v["name"], "mountPath": "/etc/cfg"} for v in volumes]}],
                 "volumes": volumes, "restartPolicy": "Always" if not owner_obj or owner_obj["kind"] != "Job"
                 else "Never", **({"nodeName": node} if node else {})},
        "status": {"phase": phase, "conditions": conditions, "startTime": created,
                   **({"containerStatuses": [container_status]} if node else {})},
    }


def job(name: str, namespace: str = "prod", *, hook: str | None = None, failed: int = 0, succeeded: int = 0,
        failed_reason: str | None = None, created: str = "2026-11-20T10:00:00Z",
        image: str = "registry.example/migrate:1.0") -> dict[str, Any]:
    conditions = []
    if failed_reason:
        conditions.append({"type": "Failed", "status": "True", "reason": failed_reason,
                           "message": "Job has reached the specified backoff limit",
                           "lastProbeTime": created, "lastTransitionTime": created})
    if succeeded:
        conditions.append({"type": "Complete", "status": "True", "lastProbeTime": created,
                           "lastTransitionTime": created})
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": meta(name, namespace, annotations={"helm.sh/hook": hook} if hook else None, created=created),
        "spec": {"backoffLimit": 1, "completions": 1, "parallelism": 1,
                 "template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "main", "image": image}]}}},
        "status": {"startTime": created, "failed": failed, "succeeded": succeeded,
                   **({"conditions": conditions} if conditions else {})},
    }


def event(about: dict[str, Any], reason: str, message: str, *, type_: str = "Warning", count: int = 1,
          at: str = "2026-11-20T10:01:00Z", component: str = "kubelet") -> dict[str, Any]:
    m = about["metadata"]
    name = f"{m['name']}.{next(_counter):x}"
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": meta(name, m.get("namespace") or "default", created=at),
        "involvedObject": {"apiVersion": about["apiVersion"], "kind": about["kind"], "name": m["name"],
                           "namespace": m.get("namespace"), "uid": m["uid"]},
        "reason": reason, "message": message, "type": type_, "count": count,
        "firstTimestamp": at, "lastTimestamp": at, "source": {"component": component},
        "reportingComponent": component, "reportingInstance": "",
    }


def release_json(name: str, namespace: str, version: int, status: str, *, description: str = "",
                 manifest: str = "", hooks: list[dict[str, Any]] = (), config: dict[str, Any] | None = None,
                 chart: str = "app", chart_version: str = "1.2.3", app_version: str = "4.5.6",
                 first_deployed: str = "2026-11-20T09:00:00.123456789Z",
                 last_deployed: str = "2026-11-20T10:00:00.123456789Z") -> dict[str, Any]:
    """A release object with the JSON keys Helm 3 writes (pkg/release/release.go, info.go, hook.go)."""
    return {
        "name": name,
        "info": {"first_deployed": first_deployed, "last_deployed": last_deployed, "deleted": "",
                 "description": description or {"deployed": "Upgrade complete", "failed": "Upgrade failed",
                                                "pending-upgrade": "Preparing upgrade"}.get(status, ""),
                 "status": status, "notes": "Thank you for installing"},
        "chart": {"metadata": {"name": chart, "version": chart_version, "appVersion": app_version,
                               "apiVersion": "v2"},
                  "lock": None, "templates": [{"name": "templates/deployment.yaml", "data": "YXBpVmVyc2lvbjo="}],
                  "values": {"replicaCount": 1}, "schema": None, "files": []},
        "config": config or {},
        "manifest": manifest,
        "hooks": list(hooks),
        "version": version,
        "namespace": namespace,
    }


def hook(name: str, events: list[str], *, phase: str = "Succeeded", kind: str = "Job", weight: int = 0,
         started: str = "2026-11-20T10:00:01Z", completed: str | None = "2026-11-20T10:00:30Z",
         path: str = "app/templates/migrate-job.yaml") -> dict[str, Any]:
    return {"name": name, "kind": kind, "path": path,
            "manifest": f"apiVersion: batch/v1\nkind: {kind}\nmetadata:\n  name: {name}\n",
            "events": events, "weight": weight, "delete_policies": ["before-hook-creation"],
            "last_run": {"started_at": started, "completed_at": completed or "", "phase": phase}}


def manifest(*objects: tuple[str, str, str]) -> str:
    """A rendered manifest from (apiVersion, kind, name) triples, with Helm's '# Source:' comments."""
    docs = []
    for api_version, kind, name in objects:
        docs.append(f"---\n# Source: app/templates/{kind.lower()}.yaml\napiVersion: {api_version}\nkind: {kind}\n"
                    f"metadata:\n  name: {name}\n  labels:\n    app: {name}\n")
    return "".join(docs)


def helm_encode(release: dict[str, Any]) -> str:
    """Helm's encoding: JSON -> gzip -> base64 (pkg/storage/driver/util.go encodeRelease)."""
    return base64.b64encode(gzip.compress(json.dumps(release).encode(), compresslevel=9)).decode()


def release_secret(release: dict[str, Any], *, rv: int | None = None,
                   created: str = "2026-11-20T10:00:00Z") -> dict[str, Any]:
    """A Secret as the API server returns it: data values are base64 of Helm's base64 (double)."""
    name, version = release["name"], release["version"]
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": meta(f"sh.helm.release.v1.{name}.v{version}", release["namespace"], rv=rv, created=created,
                         labels={"name": name, "owner": "helm", "status": release["info"]["status"],
                                 "version": str(version), "modifiedAt": "1763632800"}),
        "data": {"release": base64.b64encode(helm_encode(release).encode()).decode()},
    }


def release_configmap(release: dict[str, Any]) -> dict[str, Any]:
    """HELM_DRIVER=configmap storage: one base64 layer (pkg/storage/driver/cfgmaps.go)."""
    name, version = release["name"], release["version"]
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": meta(f"{name}.v{version}", release["namespace"],
                         labels={"name": name, "owner": "helm", "status": release["info"]["status"],
                                 "version": str(version)}),
        "data": {"release": helm_encode(release)},
    }

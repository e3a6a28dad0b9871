"""Argo CD Applications as the API server returns them, with status as Argo CD's controller writes it.

Field for field from github.com/argoproj/argo-cd/v3@v3.2.0 pkg/apis/application/v1alpha1/types.go (Application,
ApplicationSpec, ApplicationStatus, OperationState, SyncOperationResult, ResourceResult, ApplicationCondition) and
the controller's habits (controller/appcontroller.go): a failed attempt with retries left shows phase Running with
finishedAt set and retryCount counting the next attempt; startedAt stays the operation's start. The workloads,
events and release Secrets of a story come from tests/scenarios/builders_helm.py.
"""

from __future__ import annotations

import copy
from typing import Any

from tests import factories as f

Obj = dict[str, Any]
API = "argoproj.io/v1alpha1"
CONTROL_PLANE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"


def helm_repo_source(repo: str, chart: str, version: str, *, release_name: str | None = None,
                     values_files: tuple[str, ...] = (), values: str | None = None) -> Obj:
    """A chart from a Helm repository (spec.source.chart)."""
    helm: Obj = {}
    if release_name:
        helm["releaseName"] = release_name
    if values_files:
        helm["valueFiles"] = list(values_files)
    if values:
        helm["values"] = values
    return {"repoURL": repo, "chart": chart, "targetRevision": version, **({"helm": helm} if helm else {})}


def git_chart_source(repo: str, path: str, revision: str = "HEAD", *, values_files: tuple[str, ...] = (),
                     release_name: str | None = None) -> Obj:
    """A chart in a git path; ``helm`` is set only when there is something to say (Argo CD detects the chart)."""
    helm: Obj = {}
    if values_files:
        helm["valueFiles"] = list(values_files)
    if release_name:
        helm["releaseName"] = release_name
    return {"repoURL": repo, "path": path, "targetRevision": revision, **({"helm": helm} if helm else {})}


def application(name: str, *, source: Obj | None = None, sources: list[Obj] | None = None,
                destination_ns: str | None = "prod", namespace: str = CONTROL_PLANE, project: str = "default",
                automated: Obj | None = None, retry_limit: int | None = None, created: str) -> Obj:
    """An Application without status (as applied); ``automated`` is syncPolicy.automated, None for manual sync."""
    policy: Obj = {"syncOptions": ["CreateNamespace=true"]}
    if automated is not None:
        policy["automated"] = automated
    if retry_limit is not None:
        policy["retry"] = {"limit": retry_limit, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}
    destination: Obj = {"server": IN_CLUSTER}
    if destination_ns:
        destination["namespace"] = destination_ns
    spec: Obj = {"project": project, "destination": destination, "syncPolicy": policy}
    if sources is not None:
        spec["sources"] = sources
    else:
        spec["source"] = source or {}
    return {"apiVersion": API, "kind": "Application",
            "metadata": f.meta(name, namespace, created=created,
                               labels={"app.kubernetes.io/part-of": "platform"}),
            "spec": spec}


def condition(type_: str, message: str, at: str) -> Obj:
    return {"type": type_, "message": message, "lastTransitionTime": at}


def resource_result(kind: str, namespace: str, name: str, *, group: str = "", version: str = "v1",
                    status: str = "Synced", message: str = "", hook_phase: str = "Running") -> Obj:
    """One syncResult.resources[] entry; a SyncFailed one carries the API server's (or Argo CD's) words."""
    return {"group": group, "version": version, "kind": kind, "namespace": namespace, "name": name,
            "status": status, "message": message, "hookPhase": hook_phase, "syncPhase": "Sync"}


def operation_state(phase: str, *, started: str, revision: str, source: Obj, finished: str | None = None,
                    message: str = "", retry_count: int = 0, results: list[Obj] = (),
                    automated: bool = True, retry_limit: int | None = None) -> Obj:
    operation: Obj = {"sync": {"revision": revision, "syncOptions": ["CreateNamespace=true"]},
                      "initiatedBy": {"automated": True} if automated else {"username": "admin"}}
    if retry_limit is not None:
        operation["retry"] = {"limit": retry_limit}
    state: Obj = {"operation": operation, "phase": phase, "startedAt": started}
    if message:
        state["message"] = message
    if finished:
        state["finishedAt"] = finished
    if retry_count:
        state["retryCount"] = retry_count
    if results or phase != "Running":
        state["syncResult"] = {"resources": list(results), "revision": revision, "source": source}
    return state


def with_status(app: Obj, *, sync: str, health: str, revision: str, reconciled: str, rv_step: int,
                conditions: list[Obj] = (), operation: Obj | None = None, source_type: str = "Helm",
                resources: list[Obj] = (), health_at: str | None = None) -> Obj:
    """A copy of ``app`` with status as the controller writes it, and a newer resourceVersion (``rv_step``)."""
    out = copy.deepcopy(app)
    out["metadata"]["resourceVersion"] = str(int(app["metadata"]["resourceVersion"]) + rv_step)
    source = out["spec"].get("source") or (out["spec"].get("sources") or [{}])[0]
    status: Obj = {
        "sync": {"status": sync, "revision": revision,
                 "comparedTo": {"source": source, "destination": out["spec"]["destination"]}},
        "health": {"status": health, **({"lastTransitionTime": health_at} if health_at else {})},
        "reconciledAt": reconciled, "sourceType": source_type, "controllerNamespace": CONTROL_PLANE,
        "resources": list(resources),
        "summary": {},
    }
    if conditions:
        status["conditions"] = list(conditions)
    if operation:
        status["operationState"] = operation
    out["status"] = status
    return out


def resource_status(kind: str, namespace: str, name: str, *, group: str = "", version: str = "v1",
                    status: str = "Synced", health: str | None = "Healthy") -> Obj:
    """One status.resources[] entry (ResourceStatus)."""
    entry: Obj = {"group": group, "version": version, "kind": kind, "namespace": namespace, "name": name,
                  "status": status}
    if health:
        entry["health"] = {"status": health}
    return entry


def tracked(obj: Obj, app: str) -> Obj:
    """``obj`` with Argo CD v3's tracking annotation (``<app>:<group>/<kind>:<namespace>/<name>``) for ``app``."""
    api_version = obj["apiVersion"]
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    meta = obj["metadata"]
    meta.setdefault("annotations", {})[TRACKING_ANNOTATION] = \
        f"{app}:{group}/{obj['kind']}:{meta.get('namespace') or ''}/{meta['name']}"
    return obj


def labelled(obj: Obj, instance: str) -> Obj:
    """``obj`` with the app.kubernetes.io/instance label (Argo CD's legacy tracking, and every helm chart's)."""
    obj["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = instance
    return obj

"""Flux: HelmRelease, Kustomization and the sources charts come from, as graph rows (docs/gitops-flux.md).

Read the way helm-controller v1.4 and source-controller v1.7 write them (their Go API types: helm-controller
api/v2, v2beta2, v2beta1; source-controller api/v1):

* a HelmRelease gets its release's facts as properties (``release_key``, conditions, failure counters,
  ``status.history``), ``-[:DEPLOYS]->(:Release)`` and ``-[:FROM_SOURCE]->`` the name slot of its chart's source;
* a Kustomization ``-[:FROM_SOURCE]->`` its source's slot, a HelmChart its HelmRepository's (or Git/Bucket);
* every source object carries its Ready condition, URL and artifact revision.

Witnessed helm runs (kg_builder/operations.py): helm-controller runs helm's install, upgrade, rollback, uninstall
and test actions in its own process and reports each outcome as a condition (``Released``, ``Remediated``,
``TestSuccess``, summarized into ``Ready``). A failed outcome becomes a failed HelmOperation whose ``stderr`` is
the condition's message (``Helm upgrade failed for release ns/name with chart c@v: <helm's error>``); a chart
that cannot be fetched (``Ready=False``, reason ``SourceNotReady`` or ``ArtifactFailed``) becomes a failed
``pull``: source-controller fetches charts with helm's repository and registry code, ``helm pull``'s work. A
``Ready=True`` reconcile becomes a succeeded run of the action that made it, so an older failure is superseded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

from kg_builder import operations
from kg_builder.statements import HISTORY, Emitted, Statement
from kg_builder.times import parse_time
from kgrca.contracts import Observation
from kgrca.keys import release_key, resource_ref, resource_version

Obj = dict[str, Any]
HELM_GROUP = "helm.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
SOURCE_KINDS = ("HelmRepository", "OCIRepository", "GitRepository", "HelmChart", "Bucket")
# helm-controller internal/release/name.go ShortenName: helm refuses release names over 53 characters
MAX_RELEASE_NAME = 53
SHORT_HASH = 12
# Condition reasons of helm-controller api/v2/condition_types.go and the helm action each reports on
FAILED = {"InstallFailed": "install", "UpgradeFailed": "upgrade", "RollbackFailed": "rollback",
          "UninstallFailed": "uninstall", "TestFailed": "test"}
SUCCEEDED = {"InstallSucceeded": "install", "UpgradeSucceeded": "upgrade", "RollbackSucceeded": "rollback",
             "UninstallSucceeded": "uninstall", "TestSucceeded": "test"}
CHART_NOT_READY = ("SourceNotReady", "ArtifactFailed")
# helm-controller's own words while it waits for a chart that is on its way (helmrelease_controller.go): no failure
WAITING_FOR_CHART = ("latest generation of object has not been reconciled", "does not have an artifact",
                     "artifact not found. Retrying", "reconciliation in progress")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}

# --- statements -------------------------------------------------------------------------------------------

# Both links follow the object's newest state: a row older than the object's resourceVersion is skipped, and a
# link the newest spec no longer names is removed (a renamed release, a moved source).
DEPLOYS = Statement("flux_deploys", HISTORY, """
UNWIND $rows AS row
MATCH (o:Object {uid: row.uid})
WHERE coalesce(o.rv, -2) <= row.rv
OPTIONAL MATCH (o)-[old:DEPLOYS]->(other:Release)
WHERE other.key <> row.key
DELETE old
WITH DISTINCT o, row
MERGE (r:Release {key: row.key})
ON CREATE SET r.namespace = row.namespace, r.name = row.name
MERGE (o)-[:DEPLOYS]->(r)
""", partition_by="key")

FROM_SOURCE = Statement("flux_from_source", HISTORY, """
UNWIND $rows AS row
MATCH (o:Object {uid: row.uid})
WHERE coalesce(o.rv, -2) <= row.rv
OPTIONAL MATCH (o)-[old:FROM_SOURCE]->(other:Resource)
WHERE other.ref <> row.ref
DELETE old
WITH DISTINCT o, row
MERGE (r:Resource {ref: row.ref})
ON CREATE SET r.kind = row.kind, r.namespace = row.namespace, r.name = row.name
MERGE (o)-[:FROM_SOURCE]->(r)
""", partition_by="ref")


# --- names ------------------------------------------------------------------------------------------------


def shorten_name(name: str) -> str:
    """helm-controller's ShortenName: a name over 53 characters becomes its first 40, '-' and 12 hex of its sha256."""
    if len(name) <= MAX_RELEASE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()
    return name[:MAX_RELEASE_NAME - SHORT_HASH - 1] + "-" + digest[:SHORT_HASH]


def release_name(obj: Obj) -> str:
    """The Helm release name helm-controller uses: spec.releaseName, else ``[targetNamespace-]name``, shortened."""
    spec = obj.get("spec") or {}
    name = spec.get("releaseName") or "-".join(
        part for part in (spec.get("targetNamespace"), obj["metadata"].get("name", "")) if part)
    return shorten_name(name)


def release_namespace(obj: Obj) -> str:
    """GetReleaseNamespace: spec.targetNamespace, else the HelmRelease's own namespace."""
    return (obj.get("spec") or {}).get("targetNamespace") or obj["metadata"].get("namespace") or ""


def chart_source(obj: Obj) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of the chart's source: spec.chart.spec.sourceRef or spec.chartRef; a reference
    without a namespace is resolved in the HelmRelease's namespace, as helm-controller does."""
    spec = obj.get("spec") or {}
    ref = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or spec.get("chartRef") or {}
    return _reference(ref, obj)


def _reference(ref: Obj, obj: Obj) -> tuple[str, str, str] | None:
    if not ref.get("kind") or not ref.get("name"):
        return None
    return ref["kind"], ref.get("namespace") or obj["metadata"].get("namespace") or "", ref["name"]


def _resource_version(obj: Obj) -> int:
    return resource_version(obj["metadata"])


# --- properties -------------------------------------------------------------------------------------------


def _conditions(obj: Obj) -> dict[str, Obj]:
    status = obj.get("status") or {}
    return {c["type"]: c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type")}


def _ready_props(obj: Obj) -> dict[str, Any]:
    ready = _conditions(obj).get("Ready") or {}
    return {"ready_status": ready.get("status"), "ready_reason": ready.get("reason"),
            "ready_message": ready.get("message"), "ready_at": parse_time(ready.get("lastTransitionTime"))}


def snapshot_text(snapshot: Obj) -> str:
    """One status.history entry as ``v3 podinfo@6.5.0 failed``."""
    return f"v{snapshot.get('version')} {snapshot.get('chartName')}@{snapshot.get('chartVersion')} " \
           f"{snapshot.get('status')}"


def _snapshots(obj: Obj) -> list[Obj]:
    """status.history, newest first (Snapshots.SortByVersion); an empty list when the status has none."""
    history = [s for s in (obj.get("status") or {}).get("history") or [] if isinstance(s, dict)]
    return sorted(history, key=lambda s: int(s.get("version") or 0), reverse=True)


def helm_release_props(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = _conditions(obj)
    released = conditions.get("Released") or {}
    stalled = conditions.get("Stalled") or {}
    chart = (spec.get("chart") or {}).get("spec") or {}
    source = chart_source(obj)
    history = [snapshot_text(s) for s in _snapshots(obj)] or None  # v2beta1 keeps no history: absent
    name = release_name(obj)
    return {
        **_ready_props(obj),
        "release_key": release_key(release_namespace(obj), name), "release_name": name,
        "target_namespace": spec.get("targetNamespace"),
        "storage_namespace": status.get("storageNamespace") or spec.get("storageNamespace"),
        "suspended": bool(spec.get("suspend")), "interval": spec.get("interval"),
        "released_status": released.get("status"), "released_reason": released.get("reason"),
        "stalled": True if stalled.get("status") == "True" else None,
        "stalled_reason": stalled.get("reason") if stalled.get("status") == "True" else None,
        "reconciling": (conditions.get("Reconciling") or {}).get("status") == "True",
        "install_failures": status.get("installFailures"), "upgrade_failures": status.get("upgradeFailures"),
        "failures": status.get("failures"),
        "install_retries": _remediation(spec, "install").get("retries"),
        "upgrade_retries": _remediation(spec, "upgrade").get("retries"),
        "upgrade_remediation_strategy": _remediation(spec, "upgrade").get("strategy"),
        "last_attempted_revision": status.get("lastAttemptedRevision"),
        "last_attempted_release_action": status.get("lastAttemptedReleaseAction"),
        "last_attempted_generation": status.get("lastAttemptedGeneration"),
        "history": history,
        "chart": chart.get("chart"), "chart_version": chart.get("version"),
        "source_kind": source[0] if source else None, "source_namespace": source[1] if source else None,
        "source_name": source[2] if source else None,
    }


def _remediation(spec: Obj, action: str) -> Obj:
    return ((spec.get(action) or {}).get("remediation")) or {}


def source_props(obj: Obj) -> dict[str, Any]:
    """HelmRepository, OCIRepository, GitRepository, HelmChart, Bucket: readiness, where from, what was fetched."""
    spec = obj.get("spec") or {}
    artifact = (obj.get("status") or {}).get("artifact") or {}
    props = {**_ready_props(obj), "url": spec.get("url") or spec.get("endpoint"),
             "artifact_revision": artifact.get("revision"), "suspended": bool(spec.get("suspend")),
             "interval": spec.get("interval")}
    if obj.get("kind") == "HelmChart":
        source = _reference(spec.get("sourceRef") or {}, obj)  # a HelmChart's source is in its own namespace
        props.update({"chart": spec.get("chart"), "chart_version": spec.get("version"),
                      "source_kind": source[0] if source else None, "source_name": source[2] if source else None,
                      "source_namespace": source[1] if source else None})
    return props


def kustomization_props(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    source = _reference(spec.get("sourceRef") or {}, obj)
    return {**_ready_props(obj), "suspended": bool(spec.get("suspend")), "interval": spec.get("interval"),
            "path": spec.get("path"), "target_namespace": spec.get("targetNamespace"),
            "last_applied_revision": status.get("lastAppliedRevision"),
            "last_attempted_revision": status.get("lastAttemptedRevision"),
            "source_kind": source[0] if source else None, "source_namespace": source[1] if source else None,
            "source_name": source[2] if source else None}


# --- rows -------------------------------------------------------------------------------------------------


def _from_source_row(obj: Obj, source: tuple[str, str, str] | None) -> Iterator[Emitted]:
    if source:
        kind, namespace, name = source
        yield FROM_SOURCE, {"uid": obj["metadata"]["uid"], "rv": _resource_version(obj), "kind": kind,
                            "namespace": namespace, "name": name, "ref": resource_ref(kind, namespace, name)}


def helm_release_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    namespace, name = release_namespace(obj), release_name(obj)
    if name:
        yield DEPLOYS, {"uid": obj["metadata"]["uid"], "rv": _resource_version(obj), "namespace": namespace,
                        "name": name, "key": release_key(namespace, name)}
    yield from _from_source_row(obj, chart_source(obj))
    for record in attempts(obj):
        yield from operations.witness_rows(record, observation.observed_at, observation.origin)


def helm_chart_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    """A HelmChart's source is in its own namespace (LocalHelmChartSourceReference)."""
    yield from _from_source_row(obj, _reference((obj.get("spec") or {}).get("sourceRef") or {}, obj))


def kustomization_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    yield from _from_source_row(obj, _reference((obj.get("spec") or {}).get("sourceRef") or {}, obj))


# --- witnessed helm runs ----------------------------------------------------------------------------------


def attempts(obj: Obj) -> list[Obj]:
    """The helm runs a HelmRelease's status reports, as helm process records (see the module's docstring).

    Failed: Released=False (install/upgrade), Remediated=False (rollback/uninstall), TestSuccess=False (test),
    each with a failure reason; Ready=False on a chart that cannot be had (pull); with no Released condition
    (early v2beta1), Ready=False with a failure reason. Succeeded: Ready=True with Released=True."""
    conditions = _conditions(obj)
    ready = conditions.get("Ready") or {}
    found = [_record(obj, condition, FAILED[condition["reason"]], "failed")
             for kind in ("Released", "Remediated", "TestSuccess")
             for condition in [conditions.get(kind) or {}]
             if condition.get("status") == "False" and condition.get("reason") in FAILED]
    if ready.get("status") == "False" and ready.get("reason") in CHART_NOT_READY and _chart_failed(ready):
        found.append(_record(obj, ready, "pull", "failed"))
    if not found and ready.get("status") == "False" and ready.get("reason") in FAILED and "Released" not in conditions:
        found.append(_record(obj, ready, FAILED[ready["reason"]], "failed"))
    released = conditions.get("Released") or ready
    if ready.get("status") == "True" and released.get("status") == "True" and released.get("reason") in SUCCEEDED:
        found.append(_record(obj, released, SUCCEEDED[released["reason"]], "succeeded"))
    return [record for record in found if record]


def _chart_failed(ready: Obj) -> bool:
    message = ready.get("message") or ""
    return bool(message.strip()) and not any(words in message for words in WAITING_FOR_CHART)


def _record(obj: Obj, condition: Obj, command: str, status: str) -> Obj | None:
    """One helm run from the condition that reports it; None when the condition carries no transition time."""
    ended = condition.get("lastTransitionTime")
    if not ended:
        return None
    meta = obj["metadata"]
    state = obj.get("status") or {}
    namespace, name = release_namespace(obj), release_name(obj)
    chart = ((obj.get("spec") or {}).get("chart") or {}).get("spec") or {}
    attempt = ":".join(str(part) for part in (command, state.get("lastAttemptedGeneration") or "",
                                              state.get("lastAttemptedRevision") or "", ended))
    record: Obj = {
        "operation_id": f"flux:{meta['uid']}:{attempt}", "witness": "flux", "witness_kind": "HelmRelease",
        "witness_name": f"{meta.get('namespace', '')}/{meta.get('name', '')}", "witness_uid": meta["uid"],
        "said_by": f"Flux HelmRelease {meta.get('namespace', '')}/{meta.get('name', '')}: "
                   f"{condition.get('type')}={condition.get('status')} ({condition.get('reason')})",
        "command": command, "release": name, "releases": [name], "namespace": namespace,
        "chart": chart.get("chart"), "status": status, "started_at": _started(obj, command, status, ended),
        "ended_at": ended,
    }
    if status == "failed":
        record["stderr"] = condition.get("message")
    return record


def _started(obj: Obj, command: str, status: str, ended: str) -> str:
    """When the run began, from the object's own fields: the newest history snapshot when it is this run's (its
    status matches and it was deployed before the outcome), else the outcome's time less
    status.lastAttemptedReleaseActionDuration for the last attempted action, else the outcome's time itself."""
    state = obj.get("status") or {}
    newest = next(iter(_snapshots(obj)), {})
    statuses = ("failed",) if status == "failed" else ("deployed", "superseded")
    deployed, end = parse_time(newest.get("lastDeployed")), parse_time(ended)
    if command in ("install", "upgrade") and newest.get("status") in statuses and deployed and end \
            and deployed <= end and str(state.get("lastAttemptedRevision") or "").startswith(
                str(newest.get("chartVersion") or "")):
        return str(newest["lastDeployed"])
    seconds = _go_duration(state.get("lastAttemptedReleaseActionDuration"))
    if seconds and end and command == state.get("lastAttemptedReleaseAction"):
        return (end - dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    return ended


def _go_duration(text: Any) -> float | None:
    """A Go duration string ("5m0.41s") in seconds; None when absent or not one."""
    if not isinstance(text, str) or not text:
        return None
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)


PROPS: dict[tuple[str, str], Callable[[Obj], dict[str, Any]]] = {
    (HELM_GROUP, "HelmRelease"): helm_release_props,
    (KUSTOMIZE_GROUP, "Kustomization"): kustomization_props,
    **{(SOURCE_GROUP, kind): source_props for kind in SOURCE_KINDS},
}
ROWS: dict[tuple[str, str], Callable[[Obj, Observation], Iterator[Emitted]]] = {
    (HELM_GROUP, "HelmRelease"): helm_release_rows,
    (KUSTOMIZE_GROUP, "Kustomization"): kustomization_rows,
    (SOURCE_GROUP, "HelmChart"): helm_chart_rows,
}

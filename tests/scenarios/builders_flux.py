"""Flux objects for the Flux scenarios and tests, in the form the API server returns them.

Field for field as helm-controller v1.4 (api/v2, v2beta2, v2beta1) and source-controller v1.7 (api/v1) write
them: status.conditions are metav1.Conditions (type, status, reason, message, lastTransitionTime,
observedGeneration), status.history holds helm-controller's Snapshots (api/v2/snapshot_types.go). Built on
tests/factories.py so uids and resourceVersions follow the same rules as every other scenario object.
"""

from __future__ import annotations

from typing import Any

from tests import factories as f

Obj = dict[str, Any]
HELM_V2 = "helm.toolkit.fluxcd.io/v2"
HELM_V2BETA2 = "helm.toolkit.fluxcd.io/v2beta2"
HELM_V2BETA1 = "helm.toolkit.fluxcd.io/v2beta1"
SOURCE_V1 = "source.toolkit.fluxcd.io/v1"
FLUX_NS = "flux-system"


def condition(type_: str, status: str, reason: str, message: str, at: str, generation: int = 1) -> Obj:
    return {"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": at,
            "observedGeneration": generation}


def snapshot(version: int, status: str, chart: str, chart_version: str, deployed: str, *, name: str,
             namespace: str, first: str | None = None) -> Obj:
    """One status.history entry (api/v2 Snapshot); digests are the shape helm-controller writes."""
    return {"digest": f"sha256:{version:064d}", "name": name, "namespace": namespace, "version": version,
            "status": status, "chartName": chart, "chartVersion": chart_version,
            "configDigest": f"sha256:{version + 100:064d}", "firstDeployed": first or deployed,
            "lastDeployed": deployed}


def helm_release(name: str, namespace: str = FLUX_NS, *, api_version: str = HELM_V2, chart: str | None = "podinfo",
                 version: str | None = "6.5.0", source: tuple[str, str] = ("HelmRepository", "podinfo"),
                 source_namespace: str | None = FLUX_NS, chart_ref: bool = False, target_namespace: str | None = None,
                 release_name: str | None = None, storage_namespace: str | None = None,
                 install_retries: int | None = None, upgrade_retries: int | None = None,
                 upgrade_strategy: str | None = None, suspend: bool = False, created: str = "2026-11-19T10:00:00Z",
                 generation: int = 1, status: Obj | None = None, interval: str = "5m") -> Obj:
    """A HelmRelease; what is not given stays out of the spec, as the API server returns an object the user
    wrote without it."""
    spec: Obj = {"interval": interval}
    reference = {"kind": source[0], "name": source[1], **({"namespace": source_namespace} if source_namespace
                                                          else {})}
    if chart_ref:
        spec["chartRef"] = reference
    else:
        spec["chart"] = {"spec": {k: v for k, v in (("chart", chart), ("version", version),
                                                    ("sourceRef", reference)) if v is not None}}
    for key, value in (("releaseName", release_name), ("targetNamespace", target_namespace),
                       ("storageNamespace", storage_namespace)):
        if value:
            spec[key] = value
    if suspend:
        spec["suspend"] = True
    if install_retries is not None:
        spec["install"] = {"remediation": {"retries": install_retries}}
    upgrade = {k: v for k, v in (("retries", upgrade_retries), ("strategy", upgrade_strategy)) if v is not None}
    if upgrade:
        spec["upgrade"] = {"remediation": upgrade}
    meta = f.meta(name, namespace, created=created)
    meta["uid"] = f.uid(f"HelmRelease/{namespace}/{name}/{created}")  # a source of the same name is another object
    meta["generation"] = generation
    meta["finalizers"] = ["finalizers.fluxcd.io"]
    obj = {"apiVersion": api_version, "kind": "HelmRelease", "metadata": meta, "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


def hr_status(conditions: list[Obj], *, history: list[Obj] = (), failures: int | None = None,
              install_failures: int | None = None, upgrade_failures: int | None = None, action: str | None = None,
              revision: str | None = None, generation: int | None = 1, storage_namespace: str | None = None,
              helm_chart: str | None = None, duration: str | None = None) -> Obj:
    """A HelmRelease status; counters helm-controller leaves at zero are omitted (omitempty), as it writes them."""
    fields = (("observedGeneration", generation), ("lastAttemptedGeneration", generation),
              ("conditions", list(conditions)), ("helmChart", helm_chart), ("storageNamespace", storage_namespace),
              ("history", list(history) or None), ("lastAttemptedReleaseAction", action),
              ("lastAttemptedReleaseActionDuration", duration), ("failures", failures),
              ("installFailures", install_failures), ("upgradeFailures", upgrade_failures),
              ("lastAttemptedRevision", revision))
    return {k: v for k, v in fields if v is not None}


def with_status(obj: Obj, status: Obj, *, generation: int | None = None) -> Obj:
    """The same HelmRelease as a later watch event carries it: a new resourceVersion and status."""
    meta = dict(obj["metadata"], resourceVersion=str(next(f._counter)))
    if generation is not None:
        meta["generation"] = generation
    return dict(obj, metadata=meta, status=status)


def source(kind: str, name: str, namespace: str = FLUX_NS, *, url: str | None = None, ready: Obj | None = None,
           revision: str | None = None, chart: str | None = None, chart_version: str | None = None,
           source_ref: tuple[str, str] | None = None, created: str = "2026-11-19T10:00:00Z") -> Obj:
    """A source-controller object: HelmRepository, OCIRepository, GitRepository, HelmChart or Bucket."""
    spec: Obj = {"interval": "10m"}
    if url:
        spec["url"] = url
    if chart:
        spec["chart"] = chart
    if chart_version:
        spec["version"] = chart_version
    if source_ref:
        spec["sourceRef"] = {"kind": source_ref[0], "name": source_ref[1]}
    status: Obj = {"observedGeneration": 1, "conditions": [ready] if ready else []}
    if revision:
        status["artifact"] = {"revision": revision, "path": f"{kind.lower()}/{namespace}/{name}/artifact.tgz",
                              "url": f"http://source-controller.flux-system.svc.cluster.local./{kind.lower()}/"
                                     f"{namespace}/{name}/artifact.tgz",
                              "digest": "sha256:" + "0" * 64, "lastUpdateTime": created}
    meta = f.meta(name, namespace, created=created)
    meta["uid"] = f.uid(f"{kind}/{namespace}/{name}/{created}")
    meta["generation"] = 1
    return {"apiVersion": SOURCE_V1, "kind": kind, "metadata": meta, "spec": spec, "status": status}

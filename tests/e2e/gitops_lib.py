"""Flux and Argo CD objects on the local API server, with status written the way their controllers write it.

The controllers do not run here (they would need a Git server, a chart repository and a helm that talks to
real kubelets); their CRDs do (localdev/cluster/gitops_crds.py, pinned). So a test creates the objects a user
would apply, then writes ``status`` as the controller would after a reconcile, following its Go types:

- Flux helm-controller v1.4.3 (``api/v2`` HelmReleaseStatus; ``internal/reconcile/install.go``,
  ``upgrade.go``, ``release.go`` summarize): a failed install or upgrade marks ``Released=False`` with reason
  ``InstallFailed``/``UpgradeFailed`` and the message ``Helm <action> failed for release <ns>/<name> with chart
  <chart>@<version>: <helm's error>``; ``Ready`` copies it; ``failures`` counts every failure, while
  ``installFailures``/``upgradeFailures`` count only attempts that stored a release. Written through the
  ``status`` subresource, as the controller's patch helper does.
- Flux source-controller v1.7.3: a HelmRepository whose index cannot be fetched gets ``FetchFailed=True`` and
  ``Ready=False`` with reason ``Failed``; a HelmChart whose HelmRepository has no artifact gets reason
  ``NoSourceArtifact``; the HelmRelease then says ``SourceNotReady``: ``HelmChart '<ns>/<name>' is not ready:
  <its message>`` (helm-controller ``isReady``).
- Argo CD v3.2.0 (``pkg/apis/application/v1alpha1`` ApplicationStatus): ``conditions`` are
  ``{type, message, lastTransitionTime}`` (no status or reason); ``operationState`` has ``phase``,
  ``message``, ``syncResult.resources[]`` (group, version, kind, namespace, name, status, message,
  hookPhase, syncPhase), ``startedAt``/``finishedAt``. The Application CRD has no status subresource: the
  application controller patches the whole object (merge patch), and so do we.

Helm's words inside these messages are never made up: each case quotes a public issue thread verbatim and
names it (``source``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import time
from pathlib import Path
from typing import Any

FLUX_HELM = "helm.toolkit.fluxcd.io/v2"
FLUX_SOURCE = "source.toolkit.fluxcd.io/v1"
ARGOCD = "argoproj.io/v1alpha1"


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass
class Kube:
    """kubectl against one cluster; every command is kept (argv as a person would type it, exit, output)."""

    kubectl: Path
    kubeconfig: Path
    commands: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def run(self, *args: str, stdin: str | None = None, check: bool = True, shown: str | None = None) -> str:
        began = time.monotonic()
        done = subprocess.run([str(self.kubectl), f"--kubeconfig={self.kubeconfig}", *args], input=stdin,
                              capture_output=True, text=True, timeout=120, check=False)
        output = (done.stdout + done.stderr).strip()
        self.commands.append({"argv": ["kubectl", *args] + ([shown] if shown else []), "exit": done.returncode,
                              "output": output[-2000:], "seconds": round(time.monotonic() - began, 1)})
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {done.returncode}: {output[-800:]}")
        return done.stdout

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or update like a GitOps tool's own apply; returns the object as the API server holds it."""
        out = self.run("apply", "--server-side", "--field-manager=kgrca-test", "-o", "json", "-f", "-",
                       stdin=json.dumps(obj), shown=f"<<< {obj['kind']} {obj['metadata']['name']}")
        return json.loads(out)

    def write_status(self, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """Write ``status`` as the object's controller does: through the status subresource where the CRD has
        one (Flux), else a merge patch of the object (Argo CD's Application)."""
        meta = obj["metadata"]
        resource = _resource(obj)
        args = ["patch", resource, meta["name"], "-n", meta["namespace"], "--type=merge", "-o", "json",
                "-p", json.dumps({"status": status})]
        if obj["apiVersion"] != ARGOCD:
            args.insert(-2, "--subresource=status")
        return json.loads(self.run(*args))

    def namespace(self, name: str) -> None:
        self.run("delete", "namespace", name, "--ignore-not-found", "--wait=true", "--timeout=120s")
        self.run("create", "namespace", name)


def _resource(obj: dict[str, Any]) -> str:
    plural = {"HelmRelease": "helmreleases", "HelmRepository": "helmrepositories", "HelmChart": "helmcharts",
              "OCIRepository": "ocirepositories", "GitRepository": "gitrepositories",
              "Kustomization": "kustomizations", "Application": "applications"}[obj["kind"]]
    return f"{plural}.{obj['apiVersion'].split('/')[0]}"


# --------------------------------------------------------------------------------------------- Flux


def condition(type_: str, status: str, reason: str, message: str, generation: int, at: str) -> dict[str, Any]:
    """A metav1.Condition as Flux's ``conditions.Mark*`` writes it."""
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": at}


def helm_repository(namespace: str, name: str, url: str) -> dict[str, Any]:
    return {"apiVersion": FLUX_SOURCE, "kind": "HelmRepository", "metadata": {"name": name, "namespace": namespace},
            "spec": {"interval": "10m", "url": url}}


def oci_repository(namespace: str, name: str, url: str, tag: str) -> dict[str, Any]:
    return {"apiVersion": FLUX_SOURCE, "kind": "OCIRepository", "metadata": {"name": name, "namespace": namespace},
            "spec": {"interval": "10m", "url": url, "ref": {"tag": tag},
                     "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                                       "operation": "copy"}}}


def helm_chart(namespace: str, name: str, chart: str, version: str, repository: str) -> dict[str, Any]:
    """The HelmChart helm-controller creates for a HelmRelease's ``spec.chart`` (named ``<ns>-<name>``)."""
    return {"apiVersion": FLUX_SOURCE, "kind": "HelmChart", "metadata": {"name": name, "namespace": namespace},
            "spec": {"interval": "10m", "chart": chart, "version": version, "reconcileStrategy": "ChartVersion",
                     "sourceRef": {"kind": "HelmRepository", "name": repository}}}


def helm_release(namespace: str, name: str, *, chart: str | None = None, version: str | None = None,
                 repository: str | None = None, chart_ref: tuple[str, str] | None = None,
                 target_namespace: str | None = None, release_name: str | None = None,
                 values: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"interval": "10m", "install": {"remediation": {"retries": 3}},
                            "upgrade": {"remediation": {"retries": 3, "remediateLastFailure": True}}}
    if chart_ref:
        spec["chartRef"] = {"kind": chart_ref[0], "name": chart_ref[1]}
    else:
        spec["chart"] = {"spec": {"chart": chart, "version": version,
                                  "sourceRef": {"kind": "HelmRepository", "name": repository}}}
    if target_namespace:
        spec["targetNamespace"] = target_namespace
    if release_name:
        spec["releaseName"] = release_name
    if values:
        spec["values"] = values
    return {"apiVersion": FLUX_HELM, "kind": "HelmRelease", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def snapshot(name: str, namespace: str, version: int, status: str, chart: str, chart_version: str,
             app_version: str, deployed: str, digest: str, config_digest: str) -> dict[str, Any]:
    """One ``status.history`` entry (helm-controller api/v2 Snapshot)."""
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "name": name, "namespace": namespace, "version": version,
            "status": status, "chartName": chart, "chartVersion": chart_version, "appVersion": app_version,
            "configDigest": config_digest, "digest": digest, "firstDeployed": deployed, "lastDeployed": deployed}


def release_failed(obj: dict[str, Any], action: str, message: str, revision: str, at: str,
                   history: list[dict[str, Any]] | None = None, stored: bool = False,
                   failures: int = 1) -> dict[str, Any]:
    """Status after a failed ``install``/``upgrade`` (``message`` is helm-controller's whole condition message).

    ``stored``: helm wrote a release before failing (only then install/upgradeFailures count, and the
    remediation retries); a rendering, conflict or mapping error fails before helm stores anything.
    """
    generation = obj["metadata"]["generation"]
    reason = {"install": "InstallFailed", "upgrade": "UpgradeFailed"}[action]
    status: dict[str, Any] = {
        "observedGeneration": generation, "lastAttemptedGeneration": generation,
        "conditions": [condition("Ready", "False", reason, message, generation, at),
                       condition("Released", "False", reason, message, generation, at)],
        "helmChart": _helm_chart_name(obj), "storageNamespace": obj["metadata"]["namespace"],
        "lastAttemptedReleaseAction": action, "lastAttemptedReleaseActionDuration": "1.2s",
        "failures": failures, "lastAttemptedRevision": revision,
    }
    if history:
        status["history"] = history
    if stored:
        status[f"{action}Failures"] = failures
    return status


def release_succeeded(obj: dict[str, Any], message: str, revision: str, at: str,
                      history: list[dict[str, Any]]) -> dict[str, Any]:
    """Status after ``Helm install succeeded for release <ns>/<name>.v<n> with chart <chart>@<version>``."""
    generation = obj["metadata"]["generation"]
    return {
        "observedGeneration": generation, "lastAttemptedGeneration": generation,
        "conditions": [condition("Ready", "True", "InstallSucceeded", message, generation, at),
                       condition("Released", "True", "InstallSucceeded", message, generation, at)],
        "helmChart": _helm_chart_name(obj), "storageNamespace": obj["metadata"]["namespace"],
        "lastAttemptedReleaseAction": "install", "lastAttemptedReleaseActionDuration": "2.4s",
        "lastAttemptedRevision": revision, "history": history,
    }


def source_not_ready(obj: dict[str, Any], message: str, at: str) -> dict[str, Any]:
    generation = obj["metadata"]["generation"]
    return {"observedGeneration": -1, "helmChart": _helm_chart_name(obj),
            "conditions": [condition("Reconciling", "True", "Progressing", "Fulfilling prerequisites", generation, at),
                           condition("Ready", "False", "SourceNotReady", message, generation, at)]}


def source_failed(obj: dict[str, Any], reason: str, message: str, at: str) -> dict[str, Any]:
    """A Flux source (HelmRepository, HelmChart, OCIRepository) whose fetch failed: FetchFailed=True, Ready=False."""
    generation = obj["metadata"]["generation"]
    return {"observedGeneration": generation,
            "conditions": [condition("Ready", "False", reason, message, generation, at),
                           condition("FetchFailed", "True", reason, message, generation, at)]}


def source_ready(obj: dict[str, Any], message: str, revision: str, digest: str, url: str,
                 at: str) -> dict[str, Any]:
    generation = obj["metadata"]["generation"]
    return {"observedGeneration": generation, "url": url,
            "artifact": {"revision": revision, "digest": digest, "lastUpdateTime": at, "size": 14321,
                         "path": f"{obj['kind'].lower()}/{obj['metadata']['namespace']}/{obj['metadata']['name']}"
                                 f"/{digest.split(':')[-1]}.tar.gz",
                         "url": f"http://source-controller.flux-system.svc.cluster.local./"
                                f"{obj['kind'].lower()}/{obj['metadata']['namespace']}/{obj['metadata']['name']}"
                                f"/{digest.split(':')[-1]}.tar.gz"},
            "conditions": [condition("Ready", "True", "Succeeded", message, generation, at),
                           condition("ArtifactInStorage", "True", "Succeeded", message, generation, at)]}


def _helm_chart_name(obj: dict[str, Any]) -> str:
    namespace = obj["metadata"]["namespace"]
    if "chartRef" in obj["spec"]:
        return ""
    return f"{namespace}/{namespace}-{obj['metadata']['name']}"


# ------------------------------------------------------------------------------------------ Argo CD


def application(namespace: str, name: str, *, repo: str, chart: str, revision: str, dest_namespace: str,
                release_name: str | None = None, values_files: list[str] | None = None,
                auto_sync: bool = True) -> dict[str, Any]:
    helm: dict[str, Any] = {}
    if release_name:
        helm["releaseName"] = release_name
    if values_files:
        helm["valueFiles"] = values_files
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": repo, "chart": chart, "targetRevision": revision, **({"helm": helm} if helm else {})},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": dest_namespace},
    }
    if auto_sync:
        spec["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True},
                              "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}}
    return {"apiVersion": ARGOCD, "kind": "Application", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def app_comparison_error(obj: dict[str, Any], message: str, at: str) -> dict[str, Any]:
    """What the application controller writes when rendering fails: a ComparisonError, sync Unknown."""
    source = obj["spec"]["source"]
    return {"conditions": [{"type": "ComparisonError", "message": message, "lastTransitionTime": at}],
            "sync": {"status": "Unknown", "comparedTo": {"source": source, "destination": obj["spec"]["destination"]}},
            "health": {"status": "Healthy", "lastTransitionTime": at}, "reconciledAt": at,
            "sourceType": "Helm", "controllerNamespace": "argocd"}


def app_sync_result(obj: dict[str, Any], *, phase: str, message: str, resources: list[dict[str, Any]],
                    started: str, finished: str, sync: str, health: str, revision: str,
                    retry_count: int = 0) -> dict[str, Any]:
    """A finished sync operation (operationState) and the comparison after it."""
    source = obj["spec"]["source"]
    state: dict[str, Any] = {
        "operation": {"sync": {"revision": revision, "syncStrategy": {"hook": {}}},
                      "initiatedBy": {"automated": True},
                      "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}},
        "phase": phase, "message": message, "startedAt": started, "finishedAt": finished,
        "syncResult": {"resources": resources, "revision": revision, "source": source},
    }
    if retry_count:
        state["retryCount"] = retry_count
    return {"operationState": state,
            "sync": {"status": sync, "revision": revision,
                     "comparedTo": {"source": source, "destination": obj["spec"]["destination"]}},
            "health": {"status": health, "lastTransitionTime": finished}, "reconciledAt": finished,
            "sourceType": "Helm", "controllerNamespace": "argocd",
            "history": ([{"id": 0, "revision": revision, "deployedAt": finished, "deployStartedAt": started,
                          "source": source, "initiatedBy": {"automated": True}}] if phase == "Succeeded" else [])}


def resource_result(group: str, version: str, kind: str, namespace: str, name: str, status: str,
                    message: str) -> dict[str, Any]:
    """One ``syncResult.resources`` entry as gitops-engine's sync context reports it."""
    return {"group": group, "version": version, "kind": kind, "namespace": namespace, "name": name,
            "status": status, "message": message, "hookPhase": "Failed" if status == "SyncFailed" else "Running",
            "syncPhase": "Sync"}

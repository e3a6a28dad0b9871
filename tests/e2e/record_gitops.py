"""Record the GitOps and CI deploy scenarios into ``tests/e2e/recordings/gitops_<case>.jsonl`` (+ ``.meta.json``).

    python tests/e2e/record_gitops.py                    # every case
    python tests/e2e/record_gitops.py flux_template_error argocd_healthy

Each case runs against the local cluster (``kgrca cluster up``, which installs Flux's and Argo CD's pinned CRDs):
it deletes and recreates its namespace, starts kgrca's watcher (the recorder), applies the objects a user would
(HelmRelease, sources, Application, a CI Pod), writes their status as the controller (or the kubelet) would
(tests/e2e/gitops_lib.py says how, from their Go types), lets updates settle and writes what the watcher saw.

Helm's words in every status are quoted verbatim from a public issue thread, named in ``source`` of the case
and its ``.meta.json``; the names of namespaces, releases and charts are the thread's, so the objects agree
with the message. Where the thread gives only helm's own error, the controller's wrapper around it is the
format string of its source (cited too). Anything a thread does not give (a repository URL, an earlier chart
version, a digest) is a placeholder on ``example.org``/``example.com`` or says so in ``placeholders``.

The CI deploy pod runs on ``ci-runner-0``, a Node kwok does not manage (kwok's Stages cannot set a container's
termination message), so nothing but this script writes its status: as the kubelet would after helm exited 1
with ``terminationMessagePolicy: FallbackToLogsOnError`` (the message is the tail of helm's output).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import gitops_lib as g  # noqa: E402

from kgrca.config import load_config  # noqa: E402
from localdev import cluster  # noqa: E402
from localdev.cluster import build, gitops_crds  # noqa: E402
from localdev.cluster.recorder import Recorder  # noqa: E402

RECORDINGS = Path(__file__).resolve().parent / "recordings"
HELM_CONTROLLER_FORMAT = ("https://github.com/fluxcd/helm-controller/blob/v1.4.3/internal/reconcile/install.go#L136 "
                          "(fmtInstallFailure)")
CI_NODE = "ci-runner-0"


@dataclasses.dataclass
class Case:
    name: str
    description: str
    namespaces: list[str]
    release: str  # namespace/name: the Helm release the case is about
    expected: str  # the pattern kgrca should name, or "none"
    witness: str
    source: list[str]
    run: Callable[[g.Kube, str], None]
    placeholders: list[str] = dataclasses.field(default_factory=list)
    evidence: list[str] = dataclasses.field(default_factory=list)  # words the diagnosis must cite


# --------------------------------------------------------------------------------------------- Flux


def flux_template_error(kube: g.Kube, at: str) -> None:
    # https://github.com/enix/x509-certificate-exporter/issues/580 (helm-controller Event, 2026-05-06)
    message = ('Helm upgrade failed for release infra-x509/x509 with chart '
               'x509-certificate-exporter@3.20.0+5c938ddd1547: template: '
               'x509-certificate-exporter/templates/migrations/pre-upgrade-3-20-0.yaml:17:13: executing '
               '"x509-certificate-exporter/templates/migrations/pre-upgrade-3-20-0.yaml" at <semverCompare "<3.20.0" '
               '$prevVersion>: error calling semverCompare: invalid semantic version')
    source = kube.apply(g.oci_repository("infra-x509", "x509-certificate-exporter",
                                         "oci://registry.example.org/charts/x509-certificate-exporter", "3.20.0"))
    kube.write_status(source, g.source_ready(
        source, "stored artifact for digest '3.20.0@sha256:5c938ddd1547'", "3.20.0@sha256:5c938ddd1547",
        "sha256:5c938ddd1547" + "0" * 52, "oci://registry.example.org/charts/x509-certificate-exporter", at))
    release = kube.apply(g.helm_release("infra-x509", "x509", chart_ref=("OCIRepository", "x509-certificate-exporter")))
    history = [g.snapshot("x509", "infra-x509", 1, "deployed", "x509-certificate-exporter", "3.19.1", "3.19.1", at,
                          "sha256:" + "1" * 64, "sha256:" + "2" * 64)]
    kube.write_status(release, g.release_failed(release, "upgrade", message, "3.20.0+5c938ddd1547", at,
                                                history=history))


def flux_ownership_conflict(kube: g.Kube, at: str) -> None:
    # https://github.com/k0rdent/kcm/issues/286 (the HelmRelease's condition, 2024-09-09); the thread's sentence
    # ends with a full stop after the last quote, which is the reporter's: helm's format ends at the quote.
    message = ('Helm install failed for release hmc-system/second-cluster with chart aws-standalone-cp@0.1.2: '
               'Unable to continue with install: HelmRepository "cert-manager" in namespace "hmc-system" exists '
               'and cannot be imported into the current release: invalid ownership metadata; annotation validation '
               'error: key "meta.helm.sh/release-name" must equal "second-cluster": current value is "first-cluster"')
    templates = kube.apply(g.helm_repository("hmc-system", "hmc-templates", "https://charts.example.org/hmc"))
    kube.write_status(templates, g.source_ready(templates, "stored artifact: revision 'sha256:" + "3" * 64 + "'",
                                                "sha256:" + "3" * 64, "sha256:" + "4" * 64,
                                                "https://charts.example.org/hmc/index.yaml", at))
    # The object the first release made, carrying its ownership metadata.
    owned = g.helm_repository("hmc-system", "cert-manager", "https://charts.jetstack.io")
    owned["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    owned["metadata"]["annotations"] = {"meta.helm.sh/release-name": "first-cluster",
                                        "meta.helm.sh/release-namespace": "hmc-system"}
    kube.apply(owned)
    first = kube.apply(g.helm_release("hmc-system", "first-cluster", chart="aws-standalone-cp", version="0.1.2",
                                      repository="hmc-templates"))
    kube.write_status(first, g.release_succeeded(
        first, "Helm install succeeded for release hmc-system/first-cluster.v1 with chart aws-standalone-cp@0.1.2",
        "0.1.2", at, [g.snapshot("first-cluster", "hmc-system", 1, "deployed", "aws-standalone-cp", "0.1.2", "", at,
                                 "sha256:" + "5" * 64, "sha256:" + "6" * 64)]))
    second = kube.apply(g.helm_release("hmc-system", "second-cluster", chart="aws-standalone-cp", version="0.1.2",
                                       repository="hmc-templates"))
    kube.write_status(second, g.release_failed(second, "install", message, "0.1.2", at))


def flux_missing_crd(kube: g.Kube, at: str) -> None:
    # helm's error: https://github.com/redhat-cop/vault-config-operator/issues/221 (2024-01-04), wrapped in
    # helm-controller's install failure format.
    helm_error = ('unable to build kubernetes objects from release manifest: resource mapping not found for name: '
                  '"vault-config-operator-controller-manager-metrics-monitor" namespace: "vault-config-operator" '
                  'from "": no matches for kind "ServiceMonitor" in version "monitoring.coreos.com/v1"\n'
                  'ensure CRDs are installed first')
    message = ("Helm install failed for release vault-config-operator/vault-config-operator with chart "
               f"vault-config-operator@0.8.25: {helm_error}")
    repository = kube.apply(g.helm_repository("vault-config-operator", "vault-config-operator",
                                              "https://redhat-cop.github.io/vault-config-operator"))
    kube.write_status(repository, g.source_ready(repository, "stored artifact: revision 'sha256:" + "7" * 64 + "'",
                                                 "sha256:" + "7" * 64, "sha256:" + "8" * 64,
                                                 "https://redhat-cop.github.io/vault-config-operator/index.yaml", at))
    release = kube.apply(g.helm_release("vault-config-operator", "vault-config-operator", chart="vault-config-operator",
                                        version="0.8.25", repository="vault-config-operator"))
    kube.write_status(release, g.release_failed(release, "install", message, "0.8.25", at))


def flux_removed_api(kube: g.Kube, at: str) -> None:
    # helm's error: https://github.com/cruise-automation/k-rail/issues/136 (Kubernetes 1.25.4, 2022-12-18), wrapped
    # in helm-controller's install failure format.
    helm_error = ('unable to build kubernetes objects from release manifest: unable to recognize "": no matches for '
                  'kind "PodDisruptionBudget" in version "policy/v1beta1"')
    message = f"Helm install failed for release k-rail/k-rail with chart k-rail@3.6.1: {helm_error}"
    repository = kube.apply(g.helm_repository("k-rail", "k-rail", "https://cruise-automation.github.io/k-rail/"))
    kube.write_status(repository, g.source_ready(repository, "stored artifact: revision 'sha256:" + "9" * 64 + "'",
                                                 "sha256:" + "9" * 64, "sha256:" + "a" * 64,
                                                 "https://cruise-automation.github.io/k-rail/index.yaml", at))
    release = kube.apply(g.helm_release("k-rail", "k-rail", chart="k-rail", version="3.6.1", repository="k-rail"))
    kube.write_status(release, g.release_failed(release, "install", message, "3.6.1", at))


def flux_chart_not_fetched(kube: g.Kube, at: str) -> None:
    # https://github.com/l7mp/stunner-helm/issues/64 ("this is via FluxCD", 2026-02-17): the HelmRepository's
    # Ready message. The HelmChart and HelmRelease messages follow from it by source-controller v1.7.3
    # (NoSourceArtifact) and helm-controller v1.4.3 (isReady: SourceNotReady).
    fetch_error = ("failed to fetch Helm repository index: failed to cache index to temporary file: failed to fetch "
                   "https://l7mp.io/stunner/index.yaml : 404 Not Found")
    repository = kube.apply(g.helm_repository("stunner", "stunner", "https://l7mp.io/stunner"))
    kube.write_status(repository, g.source_failed(repository, "Failed", fetch_error, at))
    chart = kube.apply(g.helm_chart("stunner", "stunner-stunner-gateway-operator", "stunner-gateway-operator", "*",
                                    "stunner"))
    no_artifact = "no artifact available for HelmRepository source 'stunner'"
    kube.write_status(chart, g.source_failed(chart, "NoSourceArtifact", no_artifact, at))
    release = kube.apply(g.helm_release("stunner", "stunner-gateway-operator", chart="stunner-gateway-operator",
                                        version="*", repository="stunner"))
    kube.write_status(release, g.source_not_ready(
        release, f"HelmChart 'stunner/stunner-stunner-gateway-operator' is not ready: {no_artifact}", at))


def flux_healthy(kube: g.Kube, at: str) -> None:
    # Flux's own example (https://fluxcd.io/flux/guides/helmreleases/): podinfo from its HelmRepository.
    repository = kube.apply(g.helm_repository("podinfo", "podinfo", "https://stefanprodan.github.io/podinfo"))
    revision = "sha256:" + "b" * 64
    kube.write_status(repository, g.source_ready(repository, f"stored artifact: revision '{revision}'", revision,
                                                 "sha256:" + "c" * 64, "https://stefanprodan.github.io/podinfo/index.yaml",
                                                 at))
    chart = kube.apply(g.helm_chart("podinfo", "podinfo-podinfo", "podinfo", "6.9.2", "podinfo"))
    kube.write_status(chart, g.source_ready(chart, "pulled 'podinfo' chart with version '6.9.2'", "6.9.2",
                                            "sha256:" + "d" * 64, "", at))
    release = kube.apply(g.helm_release("podinfo", "podinfo", chart="podinfo", version="6.9.2", repository="podinfo"))
    kube.write_status(release, g.release_succeeded(
        release, "Helm install succeeded for release podinfo/podinfo.v1 with chart podinfo@6.9.2", "6.9.2", at,
        [g.snapshot("podinfo", "podinfo", 1, "deployed", "podinfo", "6.9.2", "6.9.2", at, "sha256:" + "e" * 64,
                    "sha256:" + "f" * 64)]))


# ------------------------------------------------------------------------------------------ Argo CD


def argocd_template_error(kube: g.Kube, at: str) -> None:
    # https://github.com/argoproj/argo-cd/issues/1057 (the ComparisonError's message, 2019-01-23)
    message = ('rpc error: code = Unknown desc = Error: render error in "helloworld/templates/deployment.yaml": '
               'template: helloworld/templates/deployment.yaml:24:27: executing "helloworld/templates/deployment.yaml" '
               'at <.Values.image.reposi...>: can\'t evaluate field repository in type interface {}')
    app = kube.apply(g.application("argocd", "helloworld", repo="https://charts.example.org", chart="helloworld",
                                   revision="0.1.0", dest_namespace="helloworld"))
    kube.write_status(app, g.app_comparison_error(app, message, at))


def argocd_immutable_conflict(kube: g.Kube, at: str) -> None:
    # https://github.com/zitadel/zitadel-charts/issues/348 (Argo CD sync, chart 8.13.1 -> 8.13.4, 2025-06-08): the
    # operation's message; the resource's own message is what follows "reason: " (gitops-engine setOperationFailed).
    refused = ('error when patching "/dev/shm/2013686522": Deployment.apps "zitadel" is invalid: spec.selector: '
               'Invalid value: v1.LabelSelector{MatchLabels:v1.LabelSelectorRequirement(nil)}: field is immutable')
    app = kube.apply(g.application("argocd", "zitadel", repo="https://charts.zitadel.com", chart="zitadel",
                                   revision="8.13.4", dest_namespace="zitadel"))
    kube.write_status(app, g.app_sync_result(
        app, phase="Failed", message=f"one or more synchronization tasks completed unsuccessfully, reason: {refused}",
        resources=[g.resource_result("", "v1", "ServiceAccount", "zitadel", "zitadel", "Synced",
                                     "serviceaccount/zitadel unchanged"),
                   g.resource_result("apps", "v1", "Deployment", "zitadel", "zitadel", "SyncFailed", refused)],
        started=at, finished=at, sync="OutOfSync", health="Healthy", revision="8.13.4", retry_count=5))


def argocd_healthy(kube: g.Kube, at: str) -> None:
    # Argo CD's own example app (https://github.com/argoproj/argocd-example-apps, helm-guestbook).
    app = kube.apply(g.application("argocd", "helm-guestbook", repo="https://github.com/argoproj/argocd-example-apps",
                                   chart="helm-guestbook", revision="0.1.0", dest_namespace="helm-guestbook"))
    kube.write_status(app, g.app_sync_result(
        app, phase="Succeeded", message="successfully synced (all tasks run)",
        resources=[g.resource_result("", "v1", "Service", "helm-guestbook", "helm-guestbook", "Synced",
                                     "service/helm-guestbook created"),
                   g.resource_result("apps", "v1", "Deployment", "helm-guestbook", "helm-guestbook", "Synced",
                                     "deployment.apps/helm-guestbook created")],
        started=at, finished=at, sync="Synced", health="Healthy", revision="0.1.0"))


# ----------------------------------------------------------------------------------------- CI pods


def ci_removed_api(kube: g.Kube, at: str) -> None:
    # https://github.com/pegasystems/pega-helm-charts/issues/502 (helm v3.5.4 against Kubernetes 1.25.3,
    # 2022-12-29): helm's last output line, which the kubelet keeps as the termination message.
    helm_error = ('Error: unable to build kubernetes objects from release manifest: unable to recognize "": no matches '
                  'for kind "PodDisruptionBudget" in version "policy/v1beta1"\n')
    _ci_node(kube)
    kube.run("wait", "--for=create", "serviceaccount/default", "-n", "ci", "--timeout=60s")
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "deploy-backingservices-x7k2p", "namespace": "ci",
                        "labels": {"app.kubernetes.io/name": "deploy", "ci.example.org/pipeline": "4711"}},
           "spec": {"nodeName": CI_NODE, "restartPolicy": "Never", "serviceAccountName": "default",
                    "containers": [{"name": "helm", "image": "alpine/helm:3.5.4",
                                    "command": ["helm", "upgrade", "--install", "backingservices",
                                                "pega/backingservices", "--namespace", "pega", "--version", "2.6.2",
                                                "--values", "values-backingservices.yaml"],
                                    "terminationMessagePolicy": "FallbackToLogsOnError"}],
                    "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                     "effect": "NoExecute"},
                                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                     "effect": "NoExecute"}]}}
    created = json.loads(kube.run("create", "-o", "json", "-f", "-", stdin=json.dumps(pod),
                                  shown=f"<<< Pod {pod['metadata']['name']}"))
    started = created["metadata"]["creationTimestamp"]
    time.sleep(1.0)
    finished = g.now()
    container_id = "containerd://" + "0f" * 32
    status = {
        "phase": "Failed", "hostIP": "10.0.0.50", "podIP": "10.244.9.17", "startTime": started,
        "conditions": [{"type": "PodReadyToStartContainers", "status": "False", "lastTransitionTime": finished},
                       {"type": "Initialized", "status": "True", "lastTransitionTime": started},
                       {"type": "Ready", "status": "False", "reason": "PodFailed", "lastTransitionTime": finished},
                       {"type": "ContainersReady", "status": "False", "reason": "PodFailed",
                        "lastTransitionTime": finished},
                       {"type": "PodScheduled", "status": "True", "lastTransitionTime": started}],
        "containerStatuses": [{"name": "helm", "image": "docker.io/alpine/helm:3.5.4",
                               "imageID": "docker.io/alpine/helm@sha256:" + "ab" * 32, "containerID": container_id,
                               "ready": False, "started": False, "restartCount": 0,
                               "state": {"terminated": {"exitCode": 1, "reason": "Error", "message": helm_error,
                                                        "startedAt": started, "finishedAt": finished,
                                                        "containerID": container_id}},
                               "lastState": {}}],
        "qosClass": "BestEffort",
    }
    kube.run("patch", "pod", pod["metadata"]["name"], "-n", "ci", "--subresource=status", "--type=merge",
             "-p", json.dumps({"status": status}))


def _ci_node(kube: g.Kube) -> None:
    """A Node no kwok manages (no kwok.x-k8s.io/node annotation): a runner whose kubelet this script plays."""
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": CI_NODE, "labels": {"kubernetes.io/hostname": CI_NODE, "kubernetes.io/os": "linux",
                                                     "ci.example.org/runner": "true"}},
            "spec": {"taints": [{"key": "ci.example.org/runner", "value": "true", "effect": "NoSchedule"}]}}
    kube.run("apply", "-f", "-", stdin=json.dumps(node), shown=f"<<< Node {CI_NODE}")


CASES: dict[str, Case] = {case.name: case for case in (
    Case("flux_template_error", "A Flux HelmRelease upgrade fails rendering a pre-upgrade template "
         "(semverCompare on an OCI chart version); nothing is stored, revision 1 stays deployed.",
         ["infra-x509"], "infra-x509/x509", "template_error", "flux",
         ["https://github.com/enix/x509-certificate-exporter/issues/580"], flux_template_error,
         ["OCIRepository URL (registry.example.org)", "earlier chart version 3.19.1 in status.history",
          "digests"],
         evidence=["pre-upgrade-3-20-0.yaml", "invalid semantic version"]),
    Case("flux_ownership_conflict", "A second Flux HelmRelease installs a chart whose HelmRepository cert-manager "
         "already belongs to the release first-cluster: helm refuses to adopt it.",
         ["hmc-system"], "hmc-system/second-cluster", "resource_conflict", "flux",
         ["https://github.com/k0rdent/kcm/issues/286"], flux_ownership_conflict,
         ["HelmRepository hmc-templates URL (charts.example.org)", "digests"],
         evidence=["HelmRepository", "cert-manager", "first-cluster"]),
    Case("flux_missing_crd", "A Flux HelmRelease installs a chart with a ServiceMonitor while the Prometheus "
         "operator's CRDs are not installed.",
         ["vault-config-operator"], "vault-config-operator/vault-config-operator", "crd_mismatch", "flux",
         ["https://github.com/redhat-cop/vault-config-operator/issues/221", HELM_CONTROLLER_FORMAT],
         flux_missing_crd, ["chart version 0.8.25 (the thread ran helm without one)", "digests"],
         evidence=["ServiceMonitor", "monitoring.coreos.com/v1"]),
    Case("flux_removed_api", "A Flux HelmRelease installs a chart with a policy/v1beta1 PodDisruptionBudget, an "
         "API Kubernetes 1.25 removed.",
         ["k-rail"], "k-rail/k-rail", "crd_mismatch", "flux",
         ["https://github.com/cruise-automation/k-rail/issues/136", HELM_CONTROLLER_FORMAT],
         flux_removed_api, ["chart version 3.6.1 (the thread names none)", "digests"],
         evidence=["PodDisruptionBudget", "policy/v1beta1"]),
    Case("flux_chart_not_fetched", "The HelmRepository's index answers 404, so the HelmChart has no artifact and "
         "the HelmRelease waits on SourceNotReady: helm never runs.",
         ["stunner"], "stunner/stunner-gateway-operator", "helm_error", "flux",
         ["https://github.com/l7mp/stunner-helm/issues/64"], flux_chart_not_fetched,
         ["HelmRelease and chart name stunner-gateway-operator (the thread names only the repository)"],
         evidence=["stunner", "404 Not Found"]),
    Case("flux_healthy", "Flux installs podinfo from its HelmRepository: every source and the HelmRelease Ready.",
         ["podinfo"], "podinfo/podinfo", "none", "flux", ["https://fluxcd.io/flux/guides/helmreleases/"],
         flux_healthy, ["digests"]),
    Case("argocd_template_error", "Argo CD cannot render the Application's chart: helm template fails on a nil "
         "value, a ComparisonError, nothing is synced.",
         ["argocd"], "helloworld/helloworld", "template_error", "argocd",
         ["https://github.com/argoproj/argo-cd/issues/1057"], argocd_template_error,
         ["chart repository (charts.example.org) and version 0.1.0"],
         evidence=["helloworld/templates/deployment.yaml", "repository"]),
    Case("argocd_immutable_conflict", "An Argo CD auto-sync of a new chart version changes a Deployment's selector; "
         "the API server refuses the patch (field is immutable) and the sync fails after its retries.",
         ["argocd"], "zitadel/zitadel", "resource_conflict_immutable", "argocd",
         ["https://github.com/zitadel/zitadel-charts/issues/348"], argocd_immutable_conflict, [],
         evidence=["zitadel", "spec.selector"]),
    Case("argocd_healthy", "Argo CD syncs helm-guestbook: the sync succeeds, the Application is Synced and Healthy.",
         ["argocd"], "helm-guestbook/helm-guestbook", "none", "argocd",
         ["https://github.com/argoproj/argocd-example-apps"], argocd_healthy, []),
    Case("ci_removed_api", "A CI deploy pod runs `helm upgrade --install` of a chart with a policy/v1beta1 "
         "PodDisruptionBudget; helm exits 1 and its error is the container's termination message.",
         ["ci"], "pega/backingservices", "crd_mismatch", "ci_pod",
         ["https://github.com/pegasystems/pega-helm-charts/issues/502"], ci_removed_api,
         ["pod, pipeline label, node and container ids", "values file name"],
         evidence=["PodDisruptionBudget", "policy/v1beta1"]),
)}


def record(case: Case, kube: g.Kube, cfg: Any) -> Path:
    kube.commands.clear()
    for namespace in case.namespaces:
        kube.namespace(namespace)
        kube.run("wait", "--for=jsonpath={.status.phase}=Active", f"namespace/{namespace}")
    out = RECORDINGS / f"gitops_{case.name}.jsonl"
    partial = out.with_name(out.name + ".part")
    began = time.monotonic()
    recorder = Recorder(cfg, partial, case.namespaces).start()
    try:
        case.run(kube, g.now())
        recorder.settle(quiet=2.0, timeout=20.0)
    except BaseException:
        with contextlib.suppress(Exception):
            recorder.stop()
        partial.unlink(missing_ok=True)
        raise
    lines = recorder.stop()
    partial.replace(out)
    server = json.loads(kube.run("version", "-o", "json"))["serverVersion"]["gitVersion"]
    meta = {
        "scenario": f"gitops_{case.name}", "description": case.description, "namespaces": case.namespaces,
        "release": case.release, "expected": case.expected, "witness": case.witness,
        "source": case.source, "placeholders": case.placeholders,
        "kubernetes_version": server, "kwok_version": build.KWOK_VERSION, "etcd_version": build.ETCD_VERSION,
        "crds": gitops_crds.versions(),
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "recorded_with": f"python tests/e2e/record_gitops.py {case.name}",
        "commands": kube.commands[:], "watch_events": lines,
    }
    out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    write_scenario(case, meta)
    for namespace in case.namespaces:
        kube.run("delete", "namespace", namespace, "--wait=false", check=False)
    if case.witness == "ci_pod":
        kube.run("delete", "node", CI_NODE, "--ignore-not-found", check=False)
    print(f"{out.name}: {lines} watch events, {out.stat().st_size // 1024} KiB, {time.monotonic() - began:.0f}s",
          flush=True)
    return out


def write_scenario(case: Case, meta: dict[str, Any]) -> Path:
    """The golden scenario replaying the recording: ``tests/scenarios/rec_gitops_<case>/expected.yaml``."""
    import yaml

    recorded = dt.datetime.fromisoformat(meta["recorded_at"].replace("Z", "+00:00"))
    data: dict[str, Any] = {
        "description": f"{case.description} (real recording: {case.witness} objects on the API server, status "
                       f"written as the controller writes it; source: {case.source[0]})",
        "recording": f"../../e2e/recordings/gitops_{case.name}.jsonl",
        "now": (recorded + dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expected": case.expected,
    }
    if case.expected != "none":
        data["release"] = case.release
        data["evidence"] = case.evidence
    data["tags"] = ["recording", "gitops", case.witness]
    folder = Path(__file__).resolve().parents[1] / "scenarios" / f"rec_gitops_{case.name}"
    folder.mkdir(exist_ok=True)
    path = folder / "expected.yaml"
    path.write_text("# Generated by tests/e2e/record_gitops.py with the recording; re-record to change it.\n"
                    + yaml.safe_dump(data, sort_keys=False, width=116))
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"cases (default: all): {', '.join(CASES)}")
    parser.add_argument("--scenarios-only", action="store_true",
                        help="only rewrite tests/scenarios/rec_gitops_*/expected.yaml from the committed recordings")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(CASES))
    if unknown:
        print(f"unknown cases: {', '.join(unknown)}; known: {', '.join(CASES)}", file=sys.stderr)
        return 2
    if args.scenarios_only:
        for name in args.names or list(CASES):
            meta = json.loads((RECORDINGS / f"gitops_{name}.meta.json").read_text())
            print(write_scenario(CASES[name], meta))
        return 0
    cfg = load_config()
    kubeconfig = cluster.ensure_up(cfg)  # installs the pinned GitOps CRDs
    kube = g.Kube(cluster.kubectl_binary(cfg), kubeconfig)
    for name in args.names or list(CASES):
        record(CASES[name], kube, cfg.replace(kubeconfig=str(kubeconfig)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Writes the Flux scenarios (flux_* and near_miss_flux_*): objects.jsonl and expected.yaml of every folder here.

    python tests/scenarios/generate_flux.py            rewrite them
    python tests/scenarios/generate_flux.py --check    exit 1 when one on disk differs (CI)

A HelmRelease's status is the only place helm's words reach kgrca when helm-controller runs helm: a template
error or a conflict fails before any release Secret is written. Each scenario delivers the HelmRelease as a
watch would (ADDED while it reconciles, MODIFIED with the outcome), with its status written the way
helm-controller v1.4 writes it (api/v2 types; v2beta2 and v2beta1 where named). Helm's words are real ones,
quoted verbatim from the thread cited beside them; helm-controller's wrapper around them is its own format
string (internal/reconcile/install.go fmtInstallFailure, upgrade.go fmtUpgradeFailure; helmrelease_controller.go
isReady for "is not ready"). Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import factories as f  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.builders_flux import (  # noqa: E402
    FLUX_NS,
    HELM_V2BETA1,
    HELM_V2BETA2,
    condition,
    helm_release,
    hr_status,
    snapshot,
    source,
    with_status,
)
from tests.scenarios.builders_helm import T0, Obj, Story, at, healthy_app, revision  # noqa: E402

Expected = dict[str, Any]
SCENARIOS = suite.Registry()
scenario = SCENARIOS
DAY = 86400
PROGRESSING = "Fulfilling prerequisites"  # helm-controller's Reconciling message at the start of a reconcile


def repository(st: Story, name: str, url: str, namespace: str = FLUX_NS) -> Obj:
    """A HelmRepository that fetched its index (Ready=True), as source-controller reports it."""
    return st.add(source("HelmRepository", name, namespace, url=url, revision="sha256:" + "a" * 64,
                         ready=condition("Ready", "True", "Succeeded", f"stored artifact: revision 'sha256:{'a' * 64}'",
                                         at(T0, -DAY))), at(T0, -DAY))


def reconciling(st: Story, hr: Obj, when: str) -> Obj:
    """The HelmRelease as the watch sees it first: helm-controller has started on it."""
    hr = with_status(hr, hr_status([condition("Reconciling", "True", "Progressing", PROGRESSING, when),
                                    condition("Ready", "Unknown", "Progressing", PROGRESSING, when)]))
    return st.add(hr, when)


def failed(st: Story, hr: Obj, reason: str, message: str, when: str, *, action: str, revision: str,
           history: list[Obj] = (), **counters: Any) -> Obj:
    """The outcome of a failed install or upgrade: Released=False and Ready=False with helm's words (summarize
    copies Released into Ready), the retry still pending (Reconciling=True, ProgressingWithRetry)."""
    status = hr_status([condition("Reconciling", "True", "ProgressingWithRetry", message, when),
                        condition("Ready", "False", reason, message, when),
                        condition("Released", "False", reason, message, when)],
                       history=list(history), action=action, revision=revision, duration="1.204s",
                       helm_chart=f"{hr['metadata']['namespace']}/{hr['metadata']['namespace']}-"
                                  f"{hr['metadata']['name']}", storage_namespace=hr["metadata"]["namespace"],
                       **counters)
    return st.add(with_status(hr, status), when, "MODIFIED")


# --- template error -------------------------------------------------------------------------------


# Real: https://github.com/flux-iac/tofu-controller/issues/1280 (the HelmRelease's message, verbatim)
TOFU_TEMPLATE = ('Helm install failed for release flux-system/tf-controller with chart tofu-controller@0.16.0-rc.4: '
                 'template: tofu-controller/templates/runner-discovery-service.yaml:2:10: executing '
                 '"tofu-controller/templates/runner-discovery-service.yaml" at <include '
                 '"tf-controller.runner.allowedNamespaces" .>: error calling include: template: no template '
                 '"tf-controller.runner.allowedNamespaces" associated with template "gotpl"')


def tofu_release() -> Obj:
    return helm_release("tf-controller", chart="tofu-controller", version="0.16.0-rc.4",
                        source=("HelmRepository", "tofu-controller"))


@scenario
def flux_template_error() -> tuple[Story, Expected]:
    st = Story()
    repository(st, "tofu-controller", "https://flux-iac.github.io/tofu-controller")
    hr = reconciling(st, tofu_release(), T0)
    failed(st, hr, "InstallFailed", TOFU_TEMPLATE, at(T0, 2), action="install", revision="0.16.0-rc.4", failures=1)
    return st, {"description": "a Flux install fails rendering a chart template; helm stored no release Secret, "
                               "the HelmRelease's condition is the only witness (flux-iac/tofu-controller#1280)",
                "expected": "template_error", "shape": "template_error", "now": at(T0, 600),
                "release": "flux-system/tf-controller",
                "evidence": ["tofu-controller/templates/runner-discovery-service.yaml",
                             "tf-controller.runner.allowedNamespaces", "Flux HelmRelease flux-system/tf-controller"],
                "tags": ["flux"]}


@scenario
def near_miss_flux_recovered() -> tuple[Story, Expected]:
    st = Story()
    repository(st, "tofu-controller", "https://flux-iac.github.io/tofu-controller")
    hr = reconciling(st, tofu_release(), T0)
    hr = failed(st, hr, "InstallFailed", TOFU_TEMPLATE, at(T0, 2), action="install", revision="0.16.0-rc.4",
                failures=1)
    # the chart's next release candidate renders: the install succeeds, helm stores revision 1
    deployed = at(T0, 601)
    done = at(T0, 640)
    revision(st, 1, "deployed", name="tf-controller", ns=FLUX_NS, when=deployed, pending_first=True, ended=done,
             chart_version="0.16.0-rc.5", objects=(("apps/v1", "Deployment", "tf-controller"),))
    healthy_app(st, name="tf-controller", ns=FLUX_NS, release="tf-controller", when=done, service=False, config=False)
    message = "Helm install succeeded for release flux-system/tf-controller.v1 with chart tofu-controller@0.16.0-rc.5"
    fixed = hr_status([condition("Ready", "True", "InstallSucceeded", message, done, 2),
                       condition("Released", "True", "InstallSucceeded", message, done, 2)],
                      history=[snapshot(1, "deployed", "tofu-controller", "0.16.0-rc.5", deployed,
                                        name="tf-controller", namespace=FLUX_NS)],
                      action="install", revision="0.16.0-rc.5", generation=2, duration="39s",
                      helm_chart="flux-system/flux-system-tf-controller", storage_namespace=FLUX_NS)
    st.add(with_status(hr, fixed, generation=2), done, "MODIFIED")
    return st, {"description": "a Flux install failed on a template, the next chart version installed: healthy",
                "expected": "none", "now": at(T0, 1200), "tags": ["flux"]}


# --- ownership conflict ---------------------------------------------------------------------------


# Real: https://github.com/helm/helm/issues/10736 (helm's words, verbatim; helm-controller wraps them in
# fmtUpgradeFailure): release ingress-public's new chart adds IngressClass "nginx", which release "ingress" owns
INGRESS_CONFLICT = ('Helm upgrade failed for release ingress-nginx/ingress-public with chart ingress-nginx@4.0.17: '
                    'rendered manifests contain a resource that already exists. Unable to continue with update: '
                    'IngressClass "nginx" in namespace "" exists and cannot be imported into the current release: '
                    'invalid ownership metadata; annotation validation error: key "meta.helm.sh/release-name" must '
                    'equal "ingress-public": current value is "ingress"')


@scenario
def flux_ownership_conflict() -> tuple[Story, Expected]:
    st = Story()
    ns = "ingress-nginx"
    repository(st, "ingress-nginx", "https://kubernetes.github.io/ingress-nginx")
    revision(st, 1, "deployed", name="ingress", ns=ns, when=at(T0, -30 * DAY), chart_version="4.0.17",
             objects=(("networking.k8s.io/v1", "IngressClass", "nginx"),
                      ("apps/v1", "Deployment", "ingress-ingress-nginx-controller")))
    st.add({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": f.meta("nginx", None, labels={"app.kubernetes.io/managed-by": "Helm"},
                               annotations=f.helm_managed("ingress", ns), created=at(T0, -30 * DAY)),
            "spec": {"controller": "k8s.io/ingress-nginx"}}, at(T0, -30 * DAY))
    deployed = at(T0, -10 * DAY)
    revision(st, 1, "deployed", name="ingress-public", ns=ns, when=deployed, chart_version="3.34.0",
             objects=(("apps/v1", "Deployment", "ingress-public-ingress-nginx-controller"),))
    history = [snapshot(1, "deployed", "ingress-nginx", "3.34.0", deployed, name="ingress-public", namespace=ns)]
    hr = helm_release("ingress-public", ns, api_version=HELM_V2BETA2, chart="ingress-nginx", version="4.0.17",
                      source=("HelmRepository", "ingress-nginx"), upgrade_retries=3, upgrade_strategy="rollback",
                      generation=2, created=at(T0, -10 * DAY))
    hr = st.add(with_status(hr, hr_status([condition("Ready", "True", "UpgradeSucceeded", "Helm upgrade succeeded "
                                                     "for release ingress-nginx/ingress-public.v1 with chart "
                                                     "ingress-nginx@3.34.0", deployed)],
                                          history=history, generation=1)), at(T0, -10 * DAY))
    failed(st, hr, "UpgradeFailed", INGRESS_CONFLICT, at(T0, 3), action="upgrade", revision="4.0.17",
           history=history, failures=1, generation=2)
    return st, {"description": "a Flux upgrade (v2beta2) adds an IngressClass another release owns; helm refused "
                               "before storing a revision (helm/helm#10736)",
                "expected": "resource_conflict", "shape": "resource_conflict", "now": at(T0, 600),
                "release": "ingress-nginx/ingress-public",
                "evidence": ["IngressClass nginx", "ingress", "Flux HelmRelease ingress-nginx/ingress-public"],
                "tags": ["flux"]}


# --- CRDs and API versions ------------------------------------------------------------------------


# Real: https://github.com/VictoriaMetrics/helm-charts/issues/1001 (helm's words, verbatim, as helm-controller logged
# them; wrapped in fmtInstallFailure): the operator chart's own VMServiceScrape, installed before its CRD exists
VM_NO_CRD = ('Helm install failed for release monitoring/victoria-metrics-operator with chart '
             'victoria-metrics-operator@0.30.3: unable to build kubernetes objects from release manifest: resource '
             'mapping not found for name: "victoria-metrics-operator" namespace: "monitoring" from "": no matches '
             'for kind "VMServiceScrape" in version "operator.victoriametrics.com/v1beta1"\n'
             'ensure CRDs are installed first')


@scenario
def flux_missing_crd() -> tuple[Story, Expected]:
    st = Story()
    repository(st, "victoria-metrics", "https://victoriametrics.github.io/helm-charts/")
    hr = helm_release("victoria-metrics-operator", "monitoring", chart="victoria-metrics-operator", version="0.30.3",
                      source=("HelmRepository", "victoria-metrics"), install_retries=3)
    hr = reconciling(st, hr, T0)
    failed(st, hr, "InstallFailed", VM_NO_CRD, at(T0, 2), action="install", revision="0.30.3", failures=1)
    return st, {"description": "a Flux install of a chart whose custom resource's CRD is not installed yet "
                               "(VictoriaMetrics/helm-charts#1001)",
                "expected": "crd_mismatch", "shape": "crd_mismatch", "now": at(T0, 600),
                "release": "monitoring/victoria-metrics-operator",
                "evidence": ["VMServiceScrape", "operator.victoriametrics.com/v1beta1",
                             "Flux HelmRelease monitoring/victoria-metrics-operator"],
                "tags": ["flux"]}


# Real: https://github.com/fluxcd/flux2-kustomize-helm-example/issues/46 (helm-controller v2beta1's words, verbatim):
# rbac.authorization.k8s.io/v1beta1 was removed in Kubernetes 1.22
NGINX_REMOVED_API = ('Helm install failed: unable to build kubernetes objects from release manifest: [unable to '
                     'recognize "": no matches for kind "ClusterRole" in version "rbac.authorization.k8s.io/v1beta1", '
                     'unable to recognize "": no matches for kind "ClusterRoleBinding" in version '
                     '"rbac.authorization.k8s.io/v1beta1", unable to recognize "": no matches for kind "Role" in '
                     'version "rbac.authorization.k8s.io/v1beta1", unable to recognize "": no matches for kind '
                     '"RoleBinding" in version "rbac.authorization.k8s.io/v1beta1"]')
# Real: https://github.com/cozystack/cozystack/issues/3 (a v2beta1 HelmRelease whose install remediation gave up:
# Ready says only this, Released keeps helm's words)
RETRIES_EXHAUSTED = "install retries exhausted"


@scenario
def flux_removed_api() -> tuple[Story, Expected]:
    st = Story()
    repository(st, "ingress-nginx", "https://kubernetes.github.io/ingress-nginx")
    hr = helm_release("nginx", "nginx", api_version=HELM_V2BETA1, chart="ingress-nginx", version="2.16.0",
                      source=("HelmRepository", "ingress-nginx"))
    hr = reconciling(st, hr, T0)
    when = at(T0, 2)
    status = hr_status([condition("Ready", "False", "InstallFailed", RETRIES_EXHAUSTED, when),
                        condition("Released", "False", "InstallFailed", NGINX_REMOVED_API, when)],
                       revision="2.16.0", failures=1, install_failures=1, helm_chart="flux-system/nginx-nginx",
                       generation=None)
    st.add(with_status(hr, status), when, "MODIFIED")
    return st, {"description": "a Flux v2beta1 install of a chart that still uses rbac.authorization.k8s.io/v1beta1, "
                               "removed in Kubernetes 1.22 (fluxcd/flux2-kustomize-helm-example#46)",
                "expected": "crd_mismatch", "shape": "crd_mismatch", "now": at(T0, 600), "release": "nginx/nginx",
                "evidence": ["ClusterRole", "rbac.authorization.k8s.io/v1beta1", "Flux HelmRelease nginx/nginx"],
                "tags": ["flux", "v2beta1"]}


# --- the chart cannot be fetched -------------------------------------------------------------------


# Real: https://github.com/fluxcd/helm-controller/issues/429 (source-controller's HelmChart message, verbatim;
# helm-controller's isReady prefixes it with "HelmChart '<ns>/<name>' is not ready: ")
NO_CHART_NAME = "chart pull error: failed to get chart version for remote reference: no chart name found"


@scenario
def flux_chart_fetch_failed() -> tuple[Story, Expected]:
    st = Story()
    repository(st, "podinfo", "https://stefanprodan.github.io/podinfo")
    deployed = at(T0, -DAY)
    revision(st, 1, "deployed", name="podinfo", ns=FLUX_NS, when=deployed, chart_version="6.5.0",
             objects=(("apps/v1", "Deployment", "podinfo"),))
    history = [snapshot(1, "deployed", "podinfo", "6.5.0", deployed, name="podinfo", namespace=FLUX_NS)]
    st.add(source("HelmChart", "flux-system-podinfo", chart="podinfo", chart_version="6.6.0",
                  source_ref=("HelmRepository", "podinfo"), revision="6.5.0",
                  ready=condition("Ready", "False", "ChartPullError", NO_CHART_NAME, T0)), T0)
    hr = helm_release("podinfo", version="6.6.0", generation=2)
    hr = st.add(with_status(hr, hr_status([condition("Ready", "True", "InstallSucceeded", "Helm install succeeded "
                                                     "for release flux-system/podinfo.v1 with chart podinfo@6.5.0",
                                                     deployed)], history=history, action="install",
                                          revision="6.5.0")), deployed)
    message = f"HelmChart 'flux-system/flux-system-podinfo' is not ready: {NO_CHART_NAME}"
    status = hr_status([condition("Ready", "False", "SourceNotReady", message, at(T0, 5), 2),
                        condition("Released", "True", "InstallSucceeded", "Helm install succeeded for release "
                                  "flux-system/podinfo.v1 with chart podinfo@6.5.0", deployed)],
                       history=history, action="install", revision="6.5.0", generation=2,
                       helm_chart="flux-system/flux-system-podinfo", storage_namespace=FLUX_NS)
    st.add(with_status(hr, status), at(T0, 5), "MODIFIED")
    return st, {"description": "Flux cannot fetch podinfo 6.6.0 from its HelmRepository; the release stays at 6.5.0 "
                               "(fluxcd/helm-controller#429)",
                "expected": "helm_error", "shape": "template_error", "now": at(T0, 600),
                "release": "flux-system/podinfo",
                "evidence": ["no chart name found", "flux-system/flux-system-podinfo"], "tags": ["flux"]}


# --- healthy ----------------------------------------------------------------------------------------


@scenario
def near_miss_flux_healthy() -> tuple[Story, Expected]:
    st = Story()
    repository(st, "podinfo", "https://stefanprodan.github.io/podinfo")
    objects = (("apps/v1", "Deployment", "podinfo"),)
    revision(st, 1, "superseded", name="podinfo", ns="apps", when=at(T0, -DAY), chart_version="6.5.0",
             objects=objects)
    revision(st, 2, "deployed", name="podinfo", ns="apps", when=T0, pending_first=True, ended=at(T0, 30),
             chart_version="6.5.1", objects=objects)
    healthy_app(st, name="podinfo", ns="apps", release="podinfo", when=at(T0, 30), service=False, config=False)
    message = "Helm upgrade succeeded for release apps/podinfo.v2 with chart podinfo@6.5.1"
    history = [snapshot(2, "deployed", "podinfo", "6.5.1", T0, name="podinfo", namespace="apps"),
               snapshot(1, "superseded", "podinfo", "6.5.0", at(T0, -DAY), name="podinfo", namespace="apps")]
    hr = helm_release("podinfo", version="6.5.1", target_namespace="apps", release_name="podinfo",
                      storage_namespace="apps", generation=2)
    hr = reconciling(st, hr, at(T0, -1))
    status = hr_status([condition("Ready", "True", "UpgradeSucceeded", message, at(T0, 31), 2),
                        condition("Released", "True", "UpgradeSucceeded", message, at(T0, 31), 2)],
                       history=history, action="upgrade", revision="6.5.1", generation=2, duration="31s",
                       helm_chart="flux-system/flux-system-podinfo", storage_namespace="apps")
    st.add(with_status(hr, status), at(T0, 31), "MODIFIED")
    return st, {"description": "a Flux upgrade that succeeded (Ready=True): nothing to say",
                "expected": "none", "now": at(T0, 900), "tags": ["flux"]}


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_flux.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

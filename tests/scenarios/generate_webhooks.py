"""Writes the admission webhook scenarios (webhook_unavailable and its near-misses): objects.jsonl and
expected.yaml of every folder listed here.

    python tests/scenarios/generate_webhooks.py            rewrite them
    python tests/scenarios/generate_webhooks.py --check    exit 1 when one on disk differs (CI)

A fail-closed ValidatingWebhookConfiguration or MutatingWebhookConfiguration is cluster-scoped: it outlives
the release and the namespace that served it, and then refuses every create or update it matches. The
messages are the API server's own, quoted by helm in the failed revision's description; each scenario
names the public thread it comes from. Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import factories as f  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.builders_helm import T0, Story, at, crd, custom, event, healthy_app, revision  # noqa: E402
from tests.scenarios.builders_webhooks import deleted, service, webhook, webhook_config, webhook_server  # noqa: E402

Expected = dict[str, Any]
SCENARIOS = suite.Registry()
scenario = SCENARIOS
DAY = 86400


# --- a leftover webhook blocks an upgrade ------------------------------------------------------------


# Real: https://github.com/helm/charts/issues/22496 (Error: UPGRADE FAILED: cannot patch "k8s-alertmanager.rules"
# with kind PrometheusRule: ... service "app-operator" not found && ...): the operator of release "app" was
# disabled, which removed its Service; the MutatingWebhookConfiguration, created by a hook job and so not
# part of the release, stayed and still points at the Service.
PROMETHEUS_RULE_MUTATE = ('Internal error occurred: failed calling webhook "prometheusrulemutate.monitoring.coreos.'
                          'com": Post https://app-operator.monitoring.svc:443/admission-prometheusrules/mutate?'
                          'timeout=30s: service "app-operator" not found')
RULES = (("monitoring.coreos.com/v1", "PrometheusRule", "k8s-alertmanager.rules"),
         ("monitoring.coreos.com/v1", "PrometheusRule", "k8s-general.rules"))
OPERATOR = (("apps/v1", "Deployment", "app-operator"), ("v1", "Service", "app-operator"))


def prometheus_admission(*, policy: str | None) -> dict[str, Any]:
    return webhook_config(
        "MutatingWebhookConfiguration", "app-admission",
        [webhook("prometheusrulemutate.monitoring.coreos.com", "monitoring", "app-operator",
                 path="/admission-prometheusrules/mutate", policy=policy, groups=("monitoring.coreos.com",),
                 versions=("*",), resources=("prometheusrules",))],
        created=at(T0, -3 * DAY), labels={"app": "kube-prometheus-stack-admission", "release": "app",
                                          "app.kubernetes.io/managed-by": "Helm"})


def operator_removed(st: Story, *, policy: str | None) -> None:
    """Release monitoring/app: revision 5 with the operator and its Service, 6 without (the Service deleted)."""
    st.add(crd("prometheusrules", "monitoring.coreos.com", "PrometheusRule", ["v1"]), at(T0, -30 * DAY))
    st.add(prometheus_admission(policy=policy), at(T0, -3 * DAY))
    svc = st.add(service("app-operator", "monitoring", {"app": "kube-prometheus-stack-operator", "release": "app"},
                         port=443, target=10250, cluster_ip="10.96.31.4", release="app", created=at(T0, -3 * DAY)),
                 at(T0, -3 * DAY))
    revision(st, 5, "superseded", name="app", ns="monitoring", objects=OPERATOR + RULES, when=at(T0, -3 * DAY))
    revision(st, 6, "deployed", name="app", ns="monitoring", objects=RULES, when=at(T0, -DAY))
    for _, kind, name in RULES:
        st.add(custom("monitoring.coreos.com/v1", kind, name, "monitoring", "app", created=at(T0, -3 * DAY)),
               at(T0, -3 * DAY))
    deleted(st, svc, at(T0, -DAY + 4))


@scenario
def webhook_unavailable_service_missing() -> tuple[Story, Expected]:
    st = Story()
    operator_removed(st, policy="Fail")
    revision(st, 7, "failed", name="app", ns="monitoring", objects=RULES, when=T0, pending_first=True,
             ended=at(T0, 3),
             description='Upgrade "app" failed: cannot patch "k8s-alertmanager.rules" with kind PrometheusRule: '
                         + PROMETHEUS_RULE_MUTATE + ' && cannot patch "k8s-general.rules" with kind PrometheusRule: '
                         + PROMETHEUS_RULE_MUTATE)
    return st, {"description": "an upgrade refused by a leftover fail-closed webhook whose Service went with the "
                               "operator (helm/charts#22496)",
                "expected": "webhook_unavailable", "now": at(T0, 600), "release": "monitoring/app",
                "subject": "MutatingWebhookConfiguration//app-admission",
                "evidence": ["prometheusrulemutate.monitoring.coreos.com", "monitoring/app-operator",
                             "was deleted at", "no installed release", 'service "app-operator" not found'],
                "resolution": ["kubectl get mutatingwebhookconfiguration app-admission -o yaml",
                               "kubectl -n monitoring get svc,endpoints app-operator",
                               "kubectl delete mutatingwebhookconfiguration app-admission"],
                "roots": 1, "min_confidence": 0.9}


# Real: https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/4140 (Internal error occurred:
# failed calling webhook "mservice.elbv2.k8s.aws": failed to call webhook: Post "https://aws-load-balancer-
# webhook-service...": no endpoints available for service "aws-load-balancer-webhook-service"), wrapped the
# way helm's install wraps it ("failed to create resource: ...", as in apecloud/kubeblocks#1928).
LB_LABELS = {"app.kubernetes.io/name": "aws-load-balancer-controller", "app.kubernetes.io/instance": "aws-lb"}


def lb_webhooks(created: str) -> dict[str, Any]:
    return webhook_config(
        "MutatingWebhookConfiguration", "aws-load-balancer-webhook",
        [webhook("mpod.elbv2.k8s.aws", "kube-system", "aws-load-balancer-webhook-service", path="/mutate-v1-pod",
                 namespace_selector={"matchExpressions": [{"key": "elbv2.k8s.aws/pod-readiness-gate-inject",
                                                           "operator": "In", "values": ["enabled"]}]}),
         webhook("mservice.elbv2.k8s.aws", "kube-system", "aws-load-balancer-webhook-service",
                 path="/mutate-v1-service", operations=("CREATE",), resources=("services",))],
        created=created, labels=LB_LABELS)


@scenario
def webhook_unavailable_no_endpoints() -> tuple[Story, Expected]:
    st = Story()
    st.add(lb_webhooks(at(T0, -10 * DAY)), at(T0, -10 * DAY))
    st.add(service("aws-load-balancer-webhook-service", "kube-system", LB_LABELS, created=at(T0, -10 * DAY)),
           at(T0, -10 * DAY))
    webhook_server(st, "aws-load-balancer-controller", "kube-system", LB_LABELS, ready=0,
                   created=at(T0, -1800), when=at(T0, -1700))
    revision(st, 1, "failed", name="web", objects=(("v1", "Service", "web"), ("apps/v1", "Deployment", "web")),
             when=T0, pending_first=True, ended=at(T0, 2),
             description='Release "web" failed: failed to create resource: Internal error occurred: failed calling '
                         'webhook "mservice.elbv2.k8s.aws": failed to call webhook: Post "https://aws-load-balancer-'
                         'webhook-service.kube-system.svc:443/mutate-v1-service?timeout=10s": no endpoints available '
                         'for service "aws-load-balancer-webhook-service"')
    return st, {"description": "a first install refused: the load balancer controller's webhook Service exists, "
                               "its pods are not ready (aws-load-balancer-controller#4140)",
                "expected": "webhook_unavailable", "now": at(T0, 600), "release": "prod/web",
                "subject": "MutatingWebhookConfiguration//aws-load-balancer-webhook",
                "evidence": ["mservice.elbv2.k8s.aws", "kube-system/aws-load-balancer-webhook-service",
                             "none of them ready", "aws-load-balancer-controller-6c9f7d-q0x", "no endpoints available"],
                "resolution": ["kubectl get mutatingwebhookconfiguration aws-load-balancer-webhook -o yaml",
                               "kubectl -n kube-system get svc,endpoints aws-load-balancer-webhook-service",
                               "kubectl -n kube-system describe pods -l app.kubernetes.io/instance=aws-lb,"
                               "app.kubernetes.io/name=aws-load-balancer-controller"],
                "roots": 1}


# Real: https://github.com/open-policy-agent/gatekeeper/issues/1769 (failed calling webhook
# "validation.gatekeeper.sh": Post "https://gatekeeper-webhook-service.kube-system.svc:443/v1/admit?timeout=3s":
# service "gatekeeper-webhook-service" not found), here refusing the pods of an upgraded Deployment: helm
# (without --wait) reported success, the ReplicaSet cannot create its pods.
@scenario
def webhook_unavailable_pods_refused() -> tuple[Story, Expected]:
    st = Story()
    revision(st, 5, "superseded", when=at(T0, -2 * DAY), chart_version="1.2.2")
    revision(st, 6, "deployed", when=T0, pending_first=True, ended=at(T0, 4))
    st.add(webhook_config(
        "ValidatingWebhookConfiguration", "gatekeeper-validating-webhook-configuration",
        [webhook("validation.gatekeeper.sh", "kube-system", "gatekeeper-webhook-service", path="/v1/admit",
                 groups=("*",), versions=("*",), resources=("*",),
                 namespace_selector={"matchExpressions": [{"key": "admission.gatekeeper.sh/ignore",
                                                           "operator": "DoesNotExist"}]})],
        created=at(T0, -20 * DAY), labels={"gatekeeper.sh/system": "yes"}), at(T0, -20 * DAY))
    st.add(service("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, port=53, target=53, cluster_ip="10.96.0.10",
                   created=at(T0, -30 * DAY)), at(T0, -30 * DAY))
    deploy = f.deployment("api", "prod", release="api", replicas=2, ready=0, created=at(T0, -3 * DAY),
                          progressing_reason="ReplicaSetUpdated")
    st.add(deploy, at(T0, 5))
    rs = f.replicaset(deploy, suffix="8d9e0f")
    st.add(rs, at(T0, 5))
    st.add(event(rs, "FailedCreate", 'Error creating: Internal error occurred: failed calling webhook '
                 '"validation.gatekeeper.sh": Post "https://gatekeeper-webhook-service.kube-system.svc:443/v1/admit?'
                 'timeout=3s": service "gatekeeper-webhook-service" not found', at(T0, 300), count=14,
                 component="replicaset-controller", first=at(T0, 6)), at(T0, 300))
    return st, {"description": "a Gatekeeper webhook left in kube-system without its Service refuses the pods of an "
                               "upgraded release (gatekeeper#1769); admission_denied is its consequence",
                "expected": "webhook_unavailable", "now": at(T0, 600), "release": "prod/api",
                "subject": "ValidatingWebhookConfiguration//gatekeeper-validating-webhook-configuration",
                "evidence": ["validation.gatekeeper.sh", "kube-system/gatekeeper-webhook-service", "api-8d9e0f",
                             "FailedCreate"],
                "resolution": ["kubectl delete validatingwebhookconfiguration "
                               "gatekeeper-validating-webhook-configuration"],
                "consequences": ["admission_denied"], "roots": 1}


# --- a leftover webhook that has not broken anything yet -------------------------------------------------


# Real: https://github.com/open-policy-agent/gatekeeper/issues/1769 (helm deleted the webhook's Service before
# the fail-closed ValidatingWebhookConfiguration, so the uninstall left the configuration behind) and #2192
# (the next install then fails with service "gatekeeper-webhook-service" not found).
def gatekeeper_webhooks(*, policy: str = "Fail") -> dict[str, Any]:
    ignored = {"matchExpressions": [{"key": "admission.gatekeeper.sh/ignore", "operator": "DoesNotExist"}]}
    return webhook_config(
        "ValidatingWebhookConfiguration", "gatekeeper-validating-webhook-configuration",
        [webhook("validation.gatekeeper.sh", "gatekeeper-system", "gatekeeper-webhook-service", path="/v1/admit",
                 policy="Ignore", groups=("*",), versions=("*",), resources=("*",), namespace_selector=ignored),
         webhook("check-ignore-label.gatekeeper.sh", "gatekeeper-system", "gatekeeper-webhook-service",
                 path="/v1/admitlabel", policy=policy, resources=("namespaces",))],
        created=at(T0, -7 * DAY), labels={"gatekeeper.sh/system": "yes", "app.kubernetes.io/managed-by": "Helm"},
        release="gatekeeper", release_ns="gatekeeper-system")


@scenario
def webhook_unavailable_standalone() -> tuple[Story, Expected]:
    st = Story()
    revision(st, 6, "deployed", when=at(T0, -DAY))
    healthy_app(st, when=at(T0, -DAY))
    st.add(gatekeeper_webhooks(), at(T0, -7 * DAY))
    svc = st.add(service("gatekeeper-webhook-service", "gatekeeper-system", {"control-plane": "controller-manager"},
                         target=8443, cluster_ip="10.96.7.21", release="gatekeeper", created=at(T0, -7 * DAY)),
                 at(T0, -7 * DAY))
    # helm uninstall deleted the Service (and the release Secrets, before kgrca watched: no revision of
    # gatekeeper-system/gatekeeper is in the graph); deleting the configuration failed, so it stayed
    deleted(st, svc, at(T0, -3600))
    return st, {"description": "Gatekeeper was uninstalled but its fail-closed ValidatingWebhookConfiguration "
                               "stayed: every namespace create or update is refused, though no release failed yet "
                               "(gatekeeper#1769)",
                "expected": "webhook_unavailable", "now": at(T0, 600),
                "subject": "ValidatingWebhookConfiguration//gatekeeper-validating-webhook-configuration",
                "evidence": ["check-ignore-label.gatekeeper.sh", "gatekeeper-system/gatekeeper-webhook-service",
                             "gatekeeper-system/gatekeeper", "no stored revision", "no failed release"],
                "resolution": ["kubectl delete validatingwebhookconfiguration "
                               "gatekeeper-validating-webhook-configuration",
                               "kubectl -n gatekeeper-system get svc,endpoints gatekeeper-webhook-service"],
                "roots": 1}


# --- near-misses ---------------------------------------------------------------------------------------


@scenario
def near_miss_webhook_ignore_policy() -> tuple[Story, Expected]:
    st = Story()
    operator_removed(st, policy="Ignore")
    healthy_app(st, when=at(T0, -DAY))
    revision(st, 6, "deployed", when=at(T0, -DAY))
    return st, {"description": "the leftover webhook's Service is gone, but its failurePolicy is Ignore: the API "
                               "server admits without it",
                "expected": "none", "now": at(T0, 600)}


@scenario
def near_miss_webhook_healthy() -> tuple[Story, Expected]:
    st = Story()
    st.add(lb_webhooks(at(T0, -10 * DAY)), at(T0, -10 * DAY))
    st.add(service("aws-load-balancer-webhook-service", "kube-system", LB_LABELS, created=at(T0, -10 * DAY)),
           at(T0, -10 * DAY))
    webhook_server(st, "aws-load-balancer-controller", "kube-system", LB_LABELS, ready=2,
                   created=at(T0, -10 * DAY), when=at(T0, -10 * DAY))
    revision(st, 1, "failed", name="web", objects=(("v1", "Service", "web"), ("apps/v1", "Deployment", "web")),
             when=at(T0, -DAY), first_deployed=at(T0, -DAY),
             description='Release "web" failed: failed to create resource: Internal error occurred: failed calling '
                         'webhook "mservice.elbv2.k8s.aws": failed to call webhook: Post "https://aws-load-balancer-'
                         'webhook-service.kube-system.svc:443/mutate-v1-service?timeout=10s": no endpoints available '
                         'for service "aws-load-balancer-webhook-service"')
    revision(st, 2, "deployed", name="web", objects=(("v1", "Service", "web"), ("apps/v1", "Deployment", "web")),
             when=T0, first_deployed=at(T0, -DAY))
    healthy_app(st, name="web", release="web", when=at(T0, 5), config=False)
    return st, {"description": "the webhook's pods are ready again; the install it once refused was retried and "
                               "succeeded",
                "expected": "none", "now": at(T0, 600)}


@scenario
def near_miss_webhook_service_not_watched() -> tuple[Story, Expected]:
    st = Story()
    revision(st, 6, "deployed", when=at(T0, -DAY))
    healthy_app(st, when=at(T0, -DAY))
    st.add(webhook_config("ValidatingWebhookConfiguration", "cert-manager-webhook",
                          [webhook("webhook.cert-manager.io", "cert-manager", "cert-manager-webhook", path="/validate",
                                   groups=("cert-manager.io", "acme.cert-manager.io"), versions=("v1",),
                                   resources=("*/*",))],
                          created=at(T0, -30 * DAY), labels={"app.kubernetes.io/name": "webhook"}), at(T0, -30 * DAY))
    return st, {"description": "a fail-closed webhook whose Service namespace kgrca does not watch (nothing of "
                               "cert-manager in the graph): not a missing Service",
                "expected": "none", "now": at(T0, 600)}


# --- writing --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_webhooks.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Writes the networking scenarios: objects.jsonl and expected.yaml of every folder listed here.

    python tests/scenarios/generate_network.py            rewrite them
    python tests/scenarios/generate_network.py --check    exit 1 when one on disk differs (CI)

Each scenario is a function returning its input lines (in delivery order) and what must come out. Objects are
built by builders_network.py (Services, EndpointSlices, Ingresses, IngressClasses, NetworkPolicies) on top of
builders_pods.py, as the API server and its controllers write them. These patterns read object state, not
messages; where a message appears it is the kubelet's own (../shared/reference/failure-messages.jsonl, with the
thread it was seen in). Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import builders_network as n  # noqa: E402
from tests.scenarios import builders_pods as bp  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.generate_pods import Story, at, nodes  # noqa: E402

Obj = dict[str, Any]
Expected = dict[str, Any]
Lines = list[Obj]
NOW = "2026-11-20T10:10:00Z"
NS = n.NS
SCENARIOS = suite.Registry()
scenario = SCENARIOS


def workload(st: Story, name: str, labels: dict[str, str], pods: tuple[str, ...], *, namespace: str = NS,
             ready: bool = True, main: Obj | None = None, suffix: str = "6d9f7b") -> list[Obj]:
    """A plain Deployment, its ReplicaSet and its pods labelled ``labels`` (running; ready or not)."""
    main = main or n.container()
    deploy = bp.deployment(name, namespace, replicas=len(pods), ready=len(pods) if ready else 0, containers=[main],
                           created="2026-11-19T09:00:00Z")
    deploy["spec"]["selector"]["matchLabels"] = dict(labels)
    deploy["spec"]["template"]["metadata"]["labels"] = dict(labels)
    st.add(deploy, "2026-11-19T09:00:01Z")
    rs = bp.replicaset(deploy, suffix, created="2026-11-19T09:00:01Z")
    st.add(rs, "2026-11-19T09:00:02Z")
    made = []
    for pod_name in pods:
        pod = bp.pod(pod_name, namespace, owner_obj=rs, labels={**labels, "pod-template-hash": suffix},
                     ready=ready, containers=[main], created="2026-11-20T08:00:00Z")
        st.add(pod, "2026-11-20T08:00:30Z")
        made.append(pod)
    return made


# --- service_no_endpoints -------------------------------------------------------------------------


@scenario
def service_no_endpoints_selector_mismatch() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    workload(st, "checkout", {"app": "checkout", "tier": "backend"}, ("checkout-6d9f7b-2xkqp", "checkout-6d9f7b-9zl4m"))
    svc = n.service("checkout", selector={"app": "checkout", "tier": "web"}, release="checkout")
    st.add(svc, "2026-11-19T09:00:00Z")
    st.add(n.endpoint_slice(svc, []), "2026-11-19T09:00:01Z")
    return st.lines, {
        "description": "a Helm release's Service selects tier=web, its pods are labelled tier=backend: no endpoint",
        "expected": "service_no_endpoints", "now": NOW, "release": "prod/checkout", "subject": "Service/prod/checkout",
        "evidence": ["app=checkout,tier=web", "matches no pod", "checkout-6d9f7b-2xkqp", "tier=backend"],
        "resolution": ["kubectl -n prod get endpointslices -l kubernetes.io/service-name=checkout",
                       "kubectl -n prod get pods --show-labels"],
        "roots": 1}


@scenario
def service_no_endpoints_pods_not_ready() -> tuple[Lines, Expected]:
    # Pods running for two hours whose readiness probe never passed: their Unhealthy Events have aged out (the
    # API server keeps Events one hour), the Ready condition and the slice still say it.
    st = Story()
    nodes(st, 1)
    main = n.container(readiness=True)
    pods = workload(st, "notifications", {"app": "notifications"},
                    ("notifications-7c5d4-h8w2q", "notifications-7c5d4-p3v6x"), ready=False, main=main,
                    suffix="7c5d4")
    svc = n.service("notifications", selector={"app": "notifications"})
    st.add(svc, "2026-11-19T09:00:00Z")
    st.add(n.endpoint_slice(svc, [n.endpoint(p, ready=False) for p in pods], created="2026-11-20T08:00:31Z"),
           "2026-11-20T08:00:31Z")
    return st.lines, {
        "description": "the two pods behind a Service run but never became ready: the slice lists them not ready",
        "expected": "service_no_endpoints", "now": NOW, "subject": "Service/prod/notifications",
        "evidence": ["notifications-7c5d4-h8w2q", "notifications-7c5d4-p3v6x", "not ready", "ContainersNotReady",
                     "containers with unready status: [main]"],
        "resolution": ["kubectl -n prod describe pod notifications-7c5d4-h8w2q"],
        "roots": 1}


@scenario
def service_no_endpoints_no_pods() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    workload(st, "cache", {"app": "cache"}, ("cache-5b8c9-x2m4n",), suffix="5b8c9")
    svc = n.service("search", selector={"app.kubernetes.io/name": "search"}, ports=(("http", 80, 9200),))
    st.add(svc, "2026-11-19T09:00:00Z")
    st.add(n.endpoint_slice(svc, []), "2026-11-19T09:00:01Z")
    return st.lines, {
        "description": "a Service whose selector matches no pod at all and no pod comes close",
        "expected": "service_no_endpoints", "now": NOW, "subject": "Service/prod/search",
        "evidence": ["app.kubernetes.io/name=search", "matches no pod", "No pod of the namespace carries"],
        "roots": 1}


@scenario
def near_miss_network_healthy() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    pods = workload(st, "web", {"app": "web"}, ("web-6d9f7b-a1b2c", "web-6d9f7b-d3e4f"))
    svc = n.service("web", selector={"app": "web"}, ports=(("http", 80, "http"),))
    st.add(svc, "2026-11-19T09:00:00Z")
    st.add(n.endpoint_slice(svc, [n.endpoint(p, ready=True) for p in pods]), "2026-11-20T08:00:31Z")
    # a Service without a selector (its endpoints are written by hand) and its empty slice: not judged
    external = n.service("legacy-db", selector=None, ports=(("pg", 5432, 5432),), cluster_ip="10.96.41.9")
    st.add(external, "2026-11-19T09:00:00Z")
    st.add(n.ingress_class(), "2026-11-01T08:00:00Z")
    st.add(n.tls_secret("web-tls"), "2026-11-01T08:00:01Z")
    st.add(n.ingress("web", rules=(("shop.example.com", "/", "web", 80), ("shop.example.com", "/api", "web", "http")),
                     tls=(("shop.example.com", "web-tls"),)), "2026-11-19T09:00:02Z")
    st.add(n.network_policy("allow-ingress-nginx", pod_selector={"app": "web"}, ingress=[
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
         "ports": [{"protocol": "TCP", "port": 8080}]}]), "2026-11-20T09:30:00Z")
    return st.lines, {"description": "a Service with ready endpoints behind an Ingress whose class, backend and "
                                     "TLS Secret exist, and a policy that admits the controller: no finding",
                      "expected": "none", "now": NOW}


# --- ingress_backend_missing, ingress_class_missing, ingress_tls_secret_missing -------------------------


def backend(st: Story, name: str, *, ports: tuple[tuple[str, int, int | str], ...] = (("http", 80, "http"),),
            suffix: str = "6d9f7b") -> Obj:
    """A healthy Service: its Deployment's pods are ready and listed ready in its slice."""
    pods = workload(st, name, {"app": name}, (f"{name}-{suffix}-k4j7w",), suffix=suffix)
    svc = n.service(name, selector={"app": name}, ports=ports)
    st.add(svc, "2026-11-19T09:00:00Z")
    st.add(n.endpoint_slice(svc, [n.endpoint(p, ready=True) for p in pods]), "2026-11-20T08:00:31Z")
    return svc


@scenario
def ingress_backend_missing_service() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    backend(st, "frontend")
    st.add(n.ingress_class(), "2026-11-01T08:00:00Z")
    st.add(n.ingress("shop", rules=(("shop.example.com", "/", "shop-frontend", 80),), release="shop"),
           "2026-11-19T09:00:02Z")
    return st.lines, {
        "description": "a Helm release's Ingress routes shop.example.com/ to Service shop-frontend; it is frontend",
        "expected": "ingress_backend_missing", "now": NOW, "release": "prod/shop", "subject": "Ingress/prod/shop",
        "evidence": ["shop-frontend", "shop.example.com/", "does not exist"],
        "resolution": ["kubectl -n prod get ingress shop -o yaml"], "roots": 1}


@scenario
def ingress_backend_missing_port() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    backend(st, "api", ports=(("http", 80, "http"),), suffix="58c7d")
    st.add(n.ingress_class(), "2026-11-01T08:00:00Z")
    st.add(n.ingress("api", rules=(("api.example.com", "/v1", "api", "https"),
                                   ("api.example.com", "/health", "api", 80))), "2026-11-19T09:00:02Z")
    return st.lines, {
        "description": "an Ingress names port https of Service api, which has only port http 80",
        "expected": "ingress_backend_missing", "now": NOW, "subject": "Ingress/prod/api",
        "evidence": ["api.example.com/v1", "port https", "http 80"],
        "resolution": ["kubectl -n prod get service api -o wide"], "roots": 1}


@scenario
def ingress_backend_missing_deleted() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(n.ingress_class(), "2026-11-01T08:00:00Z")
    svc = n.service("reports", selector=None, ports=(("http", 80, 8080),), cluster_ip="10.96.41.12")
    st.add(svc, "2026-11-19T09:00:00Z")
    st.add(n.ingress("reports", rules=(("reports.example.com", "/", "reports", 80),)), "2026-11-19T09:00:02Z")
    st.add(svc, at(4, 12), "DELETED")
    return st.lines, {
        "description": "the Service behind an Ingress was deleted at 10:04:12",
        "expected": "ingress_backend_missing", "now": NOW, "subject": "Ingress/prod/reports",
        "evidence": ["reports.example.com/", "deleted at 2026-11-20T10:04:12"], "roots": 1}


@scenario
def ingress_class_missing() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    backend(st, "portal", suffix="4f6a2")
    st.add(n.ingress_class(), "2026-11-01T08:00:00Z")
    st.add(n.ingress("portal", class_name="nginx-internal", rules=(("portal.corp.example", "/", "portal", 80),),
                     lb_ip=None), "2026-11-19T09:00:02Z")
    return st.lines, {
        "description": "an Ingress names IngressClass nginx-internal; the cluster has only nginx",
        "expected": "ingress_class_missing", "now": NOW, "subject": "Ingress/prod/portal",
        "evidence": ["nginx-internal", "does not exist", "nginx (k8s.io/ingress-nginx)", "no address"],
        "resolution": ["kubectl get ingressclass"], "roots": 1}


@scenario
def ingress_class_missing_no_controller() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    backend(st, "docs", suffix="2b9e1")
    st.add(n.ingress("docs", class_name="traefik", rules=(("docs.example.com", "/", "docs", 80),), lb_ip=None),
           "2026-11-19T09:00:02Z")
    return st.lines, {
        "description": "an Ingress names IngressClass traefik and no IngressClass exists at all",
        "expected": "ingress_class_missing", "now": NOW, "subject": "Ingress/prod/docs",
        "evidence": ["traefik", "no IngressClass was observed at all"], "roots": 1}


@scenario
def ingress_tls_secret_missing() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    backend(st, "store", suffix="9d3c8")
    st.add(n.ingress_class(), "2026-11-01T08:00:00Z")
    # a dump of the namespace's Secrets (kgrca ingest of `kubectl get secrets -o json`): the TLS one is not there
    st.add(bp.secret("store-db-credentials"), "2026-11-20T10:05:00Z")
    st.add(n.ingress("store", rules=(("store.example.com", "/", "store", 80),),
                     tls=(("store.example.com", "store-example-tls"),)), "2026-11-19T09:00:02Z")
    return st.lines, {
        "description": "an Ingress's TLS Secret store-example-tls is not among the namespace's Secrets",
        "expected": "ingress_tls_secret_missing", "now": NOW, "subject": "Ingress/prod/store",
        "evidence": ["store-example-tls", "store.example.com", "store-db-credentials"],
        "resolution": ["kubectl -n prod create secret tls store-example-tls"], "roots": 1}


@scenario
def near_miss_ingress_tls_secret_not_seen() -> tuple[Lines, Expected]:
    # The watcher reads only Helm's release Secrets: that the TLS Secret was not seen proves nothing.
    st = Story()
    nodes(st, 1)
    backend(st, "blog", suffix="7a1f3")
    st.add(n.ingress_class(), "2026-11-01T08:00:00Z")
    for secret in bp.helm_revisions("blog", kinds=(("networking.k8s.io/v1", "Ingress", "blog"),
                                                   ("v1", "Service", "blog"))):
        st.add(secret, "2026-11-20T09:58:01Z")
    st.add(n.ingress("blog", release="blog", rules=(("blog.example.com", "/", "blog", 80),),
                     tls=(("blog.example.com", "blog-tls"),)), "2026-11-19T09:00:02Z")
    return st.lines, {"description": "an Ingress's TLS Secret is not in a watch that reads only Helm's Secrets: "
                                     "no finding", "expected": "none", "now": NOW}


# --- service_target_port_mismatch -------------------------------------------------------------------


@scenario
def service_target_port_mismatch_named() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    pods = workload(st, "payments", {"app": "payments"}, ("payments-7f9c2-b5n8m",), suffix="7f9c2")
    svc = n.service("payments", selector={"app": "payments"}, ports=(("http", 80, "http-api"),))
    st.add(svc, "2026-11-19T08:59:30Z")
    # the controller cannot resolve port name http-api on the pod: the endpoint is listed without that port
    st.add(n.endpoint_slice(svc, [n.endpoint(p, ready=True) for p in pods], ports=[]), "2026-11-20T08:00:31Z")
    return st.lines, {
        "description": "a Service targets port name http-api; the container names its port http",
        "expected": "service_target_port_mismatch", "now": NOW, "subject": "Service/prod/payments",
        "evidence": ["http-api", "payments-7f9c2-b5n8m", "http=8080"],
        "resolution": ["kubectl -n prod get service payments"], "roots": 1}


@scenario
def service_target_port_mismatch_number() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    pods = workload(st, "catalog", {"app": "catalog"}, ("catalog-3c8d1-q2w9e", "catalog-3c8d1-r4t6y"),
                    suffix="3c8d1")
    svc = n.service("catalog", selector={"app": "catalog"}, ports=(("http", 80, 80),))
    st.add(svc, "2026-11-19T08:59:30Z")
    st.add(n.endpoint_slice(svc, [n.endpoint(p, ready=True) for p in pods]), "2026-11-20T08:00:31Z")
    return st.lines, {
        "description": "a Service targets port 80; its pods declare only http 8080",
        "expected": "service_target_port_mismatch", "now": NOW, "subject": "Service/prod/catalog",
        "evidence": ["port 80", "catalog-3c8d1-q2w9e", "http=8080"], "roots": 1}


@scenario
def near_miss_service_target_port_undeclared() -> tuple[Lines, Expected]:
    # A container need not declare the port it listens on: a numeric targetPort on pods declaring none is fine.
    st = Story()
    nodes(st, 1)
    pods = workload(st, "exporter", {"app": "exporter"}, ("exporter-8e2a4-u7i9o",), suffix="8e2a4",
                    main=n.container(ports=()))
    svc = n.service("exporter", selector={"app": "exporter"}, ports=(("metrics", 9100, 9100),))
    st.add(svc, "2026-11-19T08:59:30Z")
    st.add(n.endpoint_slice(svc, [n.endpoint(p, ready=True) for p in pods]), "2026-11-20T08:00:31Z")
    return st.lines, {"description": "a numeric targetPort on pods that declare no ports: not judged, no finding",
                      "expected": "none", "now": NOW}


# --- network_policy_isolates ----------------------------------------------------------------------


@scenario
def network_policy_isolates_default_deny() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    backend(st, "orders", suffix="6b2d9")
    st.add(n.network_policy("default-deny-ingress"), "2026-11-20T09:30:00Z")
    return st.lines, {
        "description": "a default-deny ingress policy ({} selects every pod) and no policy admitting the orders pods",
        "expected": "network_policy_isolates", "now": NOW, "subject": "Service/prod/orders",
        "evidence": ["default-deny-ingress", "orders-6b2d9-k4j7w", "no ingress rule"],
        "resolution": ["kubectl -n prod get networkpolicy default-deny-ingress -o yaml"], "roots": 1}


@scenario
def near_miss_network_policy_deny_with_allow() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    backend(st, "orders", suffix="6b2d9")
    st.add(n.network_policy("default-deny-ingress"), "2026-11-20T09:30:00Z")
    allow = {"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
             "ports": [{"protocol": "TCP", "port": 8080}]}
    st.add(n.network_policy("allow-orders-from-frontend", pod_selector={"app": "orders"}, ingress=[allow]),
           "2026-11-20T09:30:01Z")
    return st.lines, {"description": "default-deny with a policy that admits the frontend to the orders pods: "
                                     "no finding", "expected": "none", "now": NOW}


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_network.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

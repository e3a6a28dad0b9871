"""Services, EndpointSlices, Ingresses, IngressClasses and NetworkPolicies in the API server's JSON form.

Field for field as the API server and its controllers write them (discovery.k8s.io/v1 and networking.k8s.io/v1
types): the EndpointSlice controller labels each slice with kubernetes.io/service-name and
endpointslice.kubernetes.io/managed-by, owns it by the Service, writes `"endpoints": null` and no ports in the
placeholder slice of a Service whose selector matches no pod, and lists a not-ready pod with ready false.
Pods, workloads and Events come from builders_pods.py.
"""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.scenarios import builders_pods as bp

Obj = dict[str, Any]
NS = bp.NS
T0 = bp.T0


def container(name: str = "main", image: str = "registry.example/app:2.0", *,
              ports: tuple[tuple[str, int], ...] = (("http", 8080),), readiness: bool = False) -> Obj:
    """A container declaring named TCP ports."""
    spec = bp.container(name, image, readiness=readiness)
    if ports:
        spec["ports"] = [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports]
    return spec


def service(name: str, namespace: str = NS, *, selector: dict[str, str] | None = None,
            ports: tuple[tuple[str, int, int | str], ...] = (("http", 80, "http"),), release: str | None = None,
            cluster_ip: str = "10.96.41.7", created: str = "2026-11-19T08:59:30Z") -> Obj:
    """A ClusterIP Service; ``ports`` are (name, port, targetPort) with targetPort a number or a port name."""
    spec: Obj = {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                 "internalTrafficPolicy": "Cluster",
                 "ports": [{"name": n, "port": p, "protocol": "TCP", "targetPort": t} for n, p, t in ports]}
    if selector is not None:
        spec["selector"] = selector
    labels = {"app": name, **({"app.kubernetes.io/managed-by": "Helm"} if release else {})}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": f.meta(name, namespace, labels=labels, created=created,
                               annotations=f.helm_managed(release, namespace) if release else None),
            "spec": spec, "status": {"loadBalancer": {}}}


def endpoint(pod: Obj, *, ready: bool, terminating: bool = False) -> Obj:
    """One endpoint as the controller writes it for a pod (serving follows readiness unless terminating)."""
    meta = pod["metadata"]
    return {"addresses": [pod["status"].get("podIP") or "10.244.1.23"],
            "conditions": {"ready": ready, "serving": ready, "terminating": terminating},
            "nodeName": pod["spec"].get("nodeName"),
            "targetRef": {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}}


def endpoint_slice(svc: Obj, endpoints: list[Obj], *, suffix: str = "x7k2p", created: str | None = None,
                   ports: list[Obj] | None = None) -> Obj:
    """The controller's slice of ``svc``; with no endpoints the placeholder: endpoints null, no ports. ``ports``
    as the controller resolved them for the pods (a named targetPort no container declares is left out)."""
    meta = svc["metadata"]
    name = meta["name"]
    body: Obj = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": f.meta(f"{name}-{suffix}", meta["namespace"], owners=[f.owner(svc)],
                           created=created or meta["creationTimestamp"],
                           labels={"kubernetes.io/service-name": name,
                                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                           annotations={"endpoints.kubernetes.io/last-change-trigger-time":
                                        created or meta["creationTimestamp"]}),
        "addressType": "IPv4", "endpoints": endpoints or None}
    if ports is not None:
        if ports:
            body["ports"] = ports
    elif endpoints:
        body["ports"] = [{"name": p["name"], "port": p["targetPort"] if isinstance(p["targetPort"], int) else 8080,
                          "protocol": "TCP"} for p in svc["spec"]["ports"]]
    return body


def ingress(name: str, namespace: str = NS, *, class_name: str | None = "nginx",
            rules: tuple[tuple[str, str, str, int | str], ...] = (), tls: tuple[tuple[str, str], ...] = (),
            default_backend: tuple[str, int | str] | None = None, release: str | None = None,
            created: str = "2026-11-19T09:01:00Z", lb_ip: str | None = "203.0.113.10") -> Obj:
    """An Ingress; ``rules`` are (host, path, service, port number or name), ``tls`` (host, secretName)."""
    def backend(service_name: str, port: int | str) -> Obj:
        return {"service": {"name": service_name, "port": {"number": port} if isinstance(port, int)
                            else {"name": port}}}

    spec: Obj = {}
    if class_name:
        spec["ingressClassName"] = class_name
    if default_backend:
        spec["defaultBackend"] = backend(*default_backend)
    if tls:
        spec["tls"] = [{"hosts": [host], "secretName": secret} for host, secret in tls]
    hosts: dict[str, list[Obj]] = {}
    for host, path, service_name, port in rules:
        hosts.setdefault(host, []).append({"path": path, "pathType": "Prefix", "backend": backend(service_name, port)})
    if hosts:
        spec["rules"] = [{"host": host, "http": {"paths": paths}} for host, paths in hosts.items()]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": f.meta(name, namespace, created=created,
                               annotations=f.helm_managed(release, namespace) if release else None),
            "spec": spec,
            "status": {"loadBalancer": {"ingress": [{"ip": lb_ip}]} if lb_ip else {}}}


def ingress_class(name: str = "nginx", controller: str = "k8s.io/ingress-nginx", *, default: bool = False) -> Obj:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else None
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": f.meta(name, None, annotations=annotations, created="2026-11-01T08:00:00Z",
                               labels={"app.kubernetes.io/name": "ingress-nginx"}),
            "spec": {"controller": controller}}


def tls_secret(name: str, namespace: str = NS) -> Obj:
    """A kubernetes.io/tls Secret (its values are never read: only its keys reach the graph)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": f.meta(name, namespace, created="2026-11-01T08:00:00Z"),
            "data": {"tls.crt": "eA==", "tls.key": "eA=="}}


def network_policy(name: str, namespace: str = NS, *, pod_selector: dict[str, str] | None = None,
                   policy_types: tuple[str, ...] | None = ("Ingress",), ingress: list[Obj] | None = None) -> Obj:
    spec: Obj = {"podSelector": {"matchLabels": pod_selector} if pod_selector else {}}
    if policy_types is not None:
        spec["policyTypes"] = list(policy_types)
    if ingress is not None:
        spec["ingress"] = ingress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": f.meta(name, namespace, created="2026-11-20T09:30:00Z"), "spec": spec}

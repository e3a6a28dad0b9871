"""Admission webhook configurations and the Services and pods behind them, as the API server returns them.

ValidatingWebhookConfiguration and MutatingWebhookConfiguration are cluster-scoped
(admissionregistration.k8s.io/v1); each webhook names the Service the API server posts to. The rest of a
story (release Secrets, workloads, events) comes from tests/scenarios/builders_helm.py.
"""

from __future__ import annotations

import copy
from typing import Any

from tests import factories as f
from tests.scenarios.builders_helm import Story

Obj = dict[str, Any]
API = "admissionregistration.k8s.io/v1"


def webhook(name: str, service_ns: str, service: str, *, path: str, port: int | None = 443,
            policy: str | None = "Fail", operations: tuple[str, ...] = ("CREATE", "UPDATE"),
            groups: tuple[str, ...] = ("",), versions: tuple[str, ...] = ("v1",),
            resources: tuple[str, ...] = ("pods",), namespace_selector: Obj | None = None) -> Obj:
    """One entry of ``webhooks``; ``policy=None`` leaves failurePolicy out (the v1 API defaults it to Fail)."""
    svc: Obj = {"namespace": service_ns, "name": service, "path": path}
    if port is not None:
        svc["port"] = port
    hook: Obj = {"name": name, "admissionReviewVersions": ["v1"], "sideEffects": "None", "timeoutSeconds": 10,
                 "clientConfig": {"service": svc, "caBundle": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
                 "rules": [{"operations": list(operations), "apiGroups": list(groups), "apiVersions": list(versions),
                            "resources": list(resources), "scope": "*"}],
                 "namespaceSelector": namespace_selector or {}, "objectSelector": {}, "matchPolicy": "Equivalent"}
    if policy is not None:
        hook["failurePolicy"] = policy
    return hook


def webhook_config(kind: str, name: str, hooks: list[Obj], *, created: str, labels: dict[str, str] | None = None,
                   release: str | None = None, release_ns: str | None = None) -> Obj:
    """A Validating- or MutatingWebhookConfiguration (no namespace); ``release`` adds Helm's annotations."""
    return {"apiVersion": API, "kind": kind,
            "metadata": f.meta(name, None, labels=labels, created=created,
                               annotations=f.helm_managed(release, release_ns) if release else None),
            "webhooks": hooks}


def service(name: str, ns: str, selector: dict[str, str], *, port: int = 443, target: int = 9443,
            cluster_ip: str = "10.96.80.10", release: str | None = None, created: str) -> Obj:
    labels = dict(selector, **({"app.kubernetes.io/managed-by": "Helm"} if release else {}))
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": f.meta(name, ns, labels=labels, created=created,
                               annotations=f.helm_managed(release, ns) if release else None),
            "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "selector": selector,
                     "ports": [{"name": "webhook-server", "port": port, "targetPort": target, "protocol": "TCP"}]},
            "status": {"loadBalancer": {}}}


def webhook_server(st: Story, name: str, ns: str, labels: dict[str, str], *, ready: int, replicas: int = 2,
                   created: str, when: str, release: str | None = None) -> list[Obj]:
    """The Deployment, ReplicaSet and pods that serve a webhook; ``ready`` of them pass their readiness probe."""
    deploy = f.deployment(name, ns, release=release, replicas=replicas, ready=ready, labels=labels, created=created)
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = f"registry.example/{name}:2.7.1"
    rs = f.replicaset(deploy, suffix="6c9f7d")
    st.add(deploy, when)
    st.add(rs, when)
    pods = []
    for index in range(replicas):
        pod = f.pod(f"{name}-6c9f7d-{'qrstu'[index]}{index}x", ns, owner_obj=rs, labels=labels, ready=index < ready,
                    image=f"registry.example/{name}:2.7.1", created=created)
        pod["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/readyz", "port": 61779}}
        st.add(pod, when)
        pods.append(pod)
    return pods


def deleted(st: Story, obj: Obj, when: str) -> Obj:
    """The DELETED watch event of an object added before (its last state, a newer resourceVersion)."""
    gone = copy.deepcopy(obj)
    gone["metadata"]["resourceVersion"] = str(int(gone["metadata"]["resourceVersion"]) + 1_000_000)
    gone["metadata"]["deletionTimestamp"] = when
    return st.add(gone, when, "DELETED")

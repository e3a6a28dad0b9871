"""Writes the node and control-plane scenarios: objects.jsonl and expected.yaml of every folder listed here.

    python tests/scenarios/generate_nodes.py            rewrite them
    python tests/scenarios/generate_nodes.py --check    exit 1 when one on disk differs (CI)

Each scenario is a function returning its input lines (in delivery order) and what must come out. Messages are
the kubelet's, the scheduler's and the API server's own; the thread each was seen in is cited beside it. Times
are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import builders_nodes as bn  # noqa: E402
from tests.scenarios import builders_pods as b  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.generate_pods import Story, app, at  # noqa: E402

Obj = dict[str, Any]
Expected = dict[str, Any]
Lines = list[Obj]
NOW = "2026-11-20T10:10:00Z"
SCENARIOS = suite.Registry()
scenario = SCENARIOS

# Evicted for a node condition (kubelet eviction manager, "The node had condition: %v. "):
# https://github.com/canonical/k8s-snap/issues/1456
EVICTED_DISK = "The node had condition: [DiskPressure]. "
# The scheduler keeping a pod off a pressure-tainted node: https://github.com/canonical/k8s-snap/issues/1456
UNTOLERATED_DISK = ("0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }. "
                    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
# NetworkUnavailable set by the cloud route controller before a route exists (pkg/controller/route):
# https://github.com/kubernetes/kubernetes/issues/44254 ("NoRouteCreated  Node created without a route")
NO_ROUTE = ("NoRouteCreated", "Node created without a route")
# A cordoned node, as the scheduler says it (plugins/nodeunschedulable ErrReasonUnschedulable):
# https://github.com/kubernetes/kubernetes/issues/118893
CORDONED_ONLY = ("0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: "
                 "1 Preemption is not helpful for scheduling.")


def healthy_node(st: Story, name: str = "node-1") -> Obj:
    return st.add(bn.node(name), "2026-11-20T09:00:00Z")


# --- node_pressure ---------------------------------------------------------------------------------


@scenario
def node_pressure_disk() -> tuple[Lines, Expected]:
    st = Story()
    node = bn.node("node-2", conditions={"DiskPressure": bn.condition(
        "DiskPressure", *bn.PRESSURE["DiskPressure"], since=at(2), heartbeat=at(9, 40))},
        taints=[bn.taint(bn.TAINTS["DiskPressure"], added=at(2))])
    st.add(node, at(2, 5))
    main = b.container()
    deploy, rs = app(st, containers=[main], replicas=2, ready=0)
    evicted = b.pod("api-5f6d8c-d1s2k", owner_obj=rs, labels={"app": "api"}, node="node-2", phase="Failed",
                    ready=False, containers=[main], created=at(0, 5), reason="Evicted", message=EVICTED_DISK,
                    statuses=[b.status(main, b.terminated("ContainerStatusUnknown", 137, at(0, 6), at(3, 5)))])
    st.add(evicted, at(3, 6))
    st.add(b.event(evicted, "Evicted", EVICTED_DISK, first=at(3, 4)), at(3, 4))
    pending = b.pod("api-5f6d8c-p3n4d", owner_obj=rs, labels={"app": "api"}, node=None, phase="Pending",
                    ready=False, containers=[main], created=at(3, 10), scheduled_message=UNTOLERATED_DISK)
    st.add(pending, at(3, 11))
    st.add(b.event(pending, "FailedScheduling", UNTOLERATED_DISK, count=6, first=at(3, 11), last=at(9, 11),
                   component="default-scheduler"), at(9, 11))
    return st.lines, {
        "description": "node-2 has DiskPressure: one pod of a Helm release was evicted, its replacement is kept off",
        "expected": "node_pressure", "now": NOW, "release": "prod/api", "subject": "Node//node-2",
        "consequences": ["evicted"],
        "evidence": ["node-2", "DiskPressure=True", "kubelet has disk pressure", "KubeletHasDiskPressure",
                     "2026-11-20T10:02:00Z", "api-5f6d8c-d1s2k", "api-5f6d8c-p3n4d",
                     "node.kubernetes.io/disk-pressure"],
        "resolution": ["kubectl describe node node-2", "/api/v1/nodes/node-2/proxy/stats/summary"], "roots": 1}


@scenario
def node_pressure_memory_no_pods() -> tuple[Lines, Expected]:
    st = Story()
    healthy_node(st)
    st.add(bn.node("node-3", conditions={"MemoryPressure": bn.condition(
        "MemoryPressure", *bn.PRESSURE["MemoryPressure"], since=at(4), heartbeat=at(9, 50))},
        taints=[bn.taint(bn.TAINTS["MemoryPressure"], added=at(4))]), at(4, 2))
    return st.lines, {
        "description": "node-3 reports MemoryPressure; no pod has been evicted from it yet",
        "expected": "node_pressure", "now": NOW, "subject": "Node//node-3",
        "evidence": ["MemoryPressure=True", "kubelet has insufficient memory available", "KubeletHasInsufficientMemory",
                     "2026-11-20T10:04:00Z", "2026-11-20T10:09:50Z", "No evicted pod"],
        "resolution": ["kubectl describe node node-3"], "roots": 1}


@scenario
def node_pressure_pid() -> tuple[Lines, Expected]:
    st = Story()
    st.add(bn.node("node-4", conditions={"PIDPressure": bn.condition(
        "PIDPressure", *bn.PRESSURE["PIDPressure"], since=at(1))},
        taints=[bn.taint(bn.TAINTS["PIDPressure"])]), at(1, 2))
    return st.lines, {
        "description": "node-4 reports PIDPressure (too many processes)",
        "expected": "node_pressure", "now": NOW, "subject": "Node//node-4",
        "evidence": ["PIDPressure=True", "kubelet has insufficient PID available"],
        "resolution": ["kubectl describe node node-4", "pids limit"], "roots": 1}


@scenario
def node_pressure_network_unavailable() -> tuple[Lines, Expected]:
    st = Story()
    st.add(bn.node("node-5", conditions={"NetworkUnavailable": bn.condition(
        "NetworkUnavailable", "True", *NO_ROUTE, since="2026-11-20T09:30:00Z")},
        taints=[bn.taint(bn.TAINTS["NetworkUnavailable"])]), at(0, 30))
    return st.lines, {
        "description": "the route controller has not created node-5's route: NetworkUnavailable",
        "expected": "node_pressure", "now": NOW, "subject": "Node//node-5",
        "evidence": ["NetworkUnavailable=True", "Node created without a route", "NoRouteCreated"],
        "resolution": ["kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=node-5"], "roots": 1}


@scenario
def node_pressure_no_message() -> tuple[Lines, Expected]:
    """A condition set by a node problem detector without reason or message: said missing, never made up."""
    st = Story()
    st.add(bn.node("node-6", conditions={"DiskPressure": bn.condition("DiskPressure", "True", None, None,
                                                                       since=at(5))}), at(5, 1))
    return st.lines, {
        "description": "node-6 has DiskPressure=True with no reason and no message",
        "expected": "node_pressure", "now": NOW, "subject": "Node//node-6",
        "evidence": ["DiskPressure=True", "the kubelet gave no message", "no reason given"], "roots": 1}


@scenario
def near_miss_node_pressure_recovered() -> tuple[Lines, Expected]:
    st = Story()
    node = bn.node("node-2", conditions={"DiskPressure": bn.condition(
        "DiskPressure", *bn.PRESSURE["DiskPressure"], since=at(2))},
        taints=[bn.taint(bn.TAINTS["DiskPressure"], added=at(2))])
    st.add(node, at(2, 5))
    recovered = bn.node("node-2", conditions={"DiskPressure": bn.condition(
        "DiskPressure", *bn.HEALTHY["DiskPressure"], since=at(6), heartbeat=at(9))})
    recovered["metadata"] = dict(node["metadata"])
    st.update(recovered, at(6, 5))
    return st.lines, {"description": "node-2 had DiskPressure for four minutes and recovered (taint removed)",
                      "expected": "none", "now": NOW}


# --- node_cordoned --------------------------------------------------------------------------------


@scenario
def node_cordoned_pending() -> tuple[Lines, Expected]:
    st = Story()
    node = bn.node("node-1", unschedulable=True, taints=[bn.taint(bn.UNSCHEDULABLE, added=at(1))])
    st.add(node, at(1, 1))
    # the kubelet's event when it sees spec.unschedulable (pkg/kubelet/nodestatus/setters.go)
    st.add(bn.node_event(node, "NodeNotSchedulable", "Node node-1 status is now: NodeNotSchedulable", at=at(1, 3)),
           at(1, 3))
    main = b.container()
    deploy, rs = app(st, containers=[main], replicas=2, ready=1)
    st.add(b.pod("api-5f6d8c-r1u2n", owner_obj=rs, labels={"app": "api"}, node="node-1", containers=[main],
                 created="2026-11-20T09:30:00Z"), at(0, 20))
    pending = b.pod("api-5f6d8c-c0r1d", owner_obj=rs, labels={"app": "api"}, node=None, phase="Pending",
                    ready=False, containers=[main], created=at(2), scheduled_message=CORDONED_ONLY)
    st.add(pending, at(2, 1))
    st.add(b.event(pending, "FailedScheduling", CORDONED_ONLY, count=8, first=at(2, 1), last=at(9, 1),
                   component="default-scheduler"), at(9, 1))
    return st.lines, {
        "description": "the only node is cordoned: a Helm release's new replica stays Pending",
        "expected": "node_cordoned", "now": NOW, "release": "prod/api", "subject": "Node//node-1",
        "consequences": ["pod_unschedulable"],
        "evidence": ["node-1", "2026-11-20T10:01:00Z", "api-5f6d8c-c0r1d", "node(s) were unschedulable",
                     "api-5f6d8c-r1u2n"],
        "resolution": ["kubectl uncordon node-1", "kubectl describe node node-1"], "roots": 1}


@scenario
def node_cordoned_time_unknown() -> tuple[Lines, Expected]:
    """Cordoned with no taint time and no kubelet event: when is said unknown, not guessed."""
    st = Story()
    node = bn.node("node-7", unschedulable=True, taints=[bn.taint(bn.UNSCHEDULABLE)])
    st.add(node, at(1, 1))
    main = b.container()
    deploy, rs = app(st, "web", "shop", containers=[main], replicas=1, ready=0)
    pending = b.pod("web-5f6d8c-w3b4x", "shop", owner_obj=rs, labels={"app": "web"}, node=None, phase="Pending",
                    ready=False, containers=[main], created=at(2), scheduled_message=CORDONED_ONLY)
    st.add(pending, at(2, 1))
    st.add(b.event(pending, "FailedScheduling", CORDONED_ONLY, count=3, first=at(2, 1), last=at(8, 1),
                   component="default-scheduler"), at(8, 1))
    return st.lines, {
        "description": "node-7 is cordoned, when is not recorded; the pod of release shop/web waits",
        "expected": "node_cordoned", "now": NOW, "release": "shop/web", "subject": "Node//node-7",
        "evidence": ["node-7", "since when is not recorded", "web-5f6d8c-w3b4x"],
        "resolution": ["kubectl uncordon node-7"], "roots": 1}


@scenario
def near_miss_node_cordoned_idle() -> tuple[Lines, Expected]:
    """A cordon for maintenance that keeps no pod waiting is no finding."""
    st = Story()
    healthy_node(st)
    st.add(bn.node("node-2", unschedulable=True, taints=[bn.taint(bn.UNSCHEDULABLE, added=at(1))]), at(1, 1))
    main = b.container()
    deploy, rs = app(st, containers=[main], replicas=1, ready=1)
    st.add(b.pod("api-5f6d8c-i1d2l", owner_obj=rs, labels={"app": "api"}, node="node-1", containers=[main],
                 created=at(0, 5)), at(0, 20))
    return st.lines, {"description": "node-2 is cordoned but every pod runs on node-1", "expected": "none",
                      "now": NOW}


# --- rbac_forbidden -------------------------------------------------------------------------------

# kustomize-controller applying as the namespace's default service account:
# https://github.com/fluxcd/flux2-multi-tenancy/issues/69
FORBIDDEN_NAMESPACED = ('Namespace/apps dry-run failed, reason: Forbidden, error: namespaces "apps" is forbidden: '
                        'User "system:serviceaccount:flux-system:default" cannot patch resource "namespaces" in API '
                        'group "" in the namespace "apps"')
# the same controller at the cluster scope: https://github.com/fluxcd/flux2/issues/3871
FORBIDDEN_CLUSTER = ('ClusterRoleBinding/crd-controller-flux-system apply failed, error: '
                     'clusterrolebindings.rbac.authorization.k8s.io "crd-controller-flux-system" is forbidden: User '
                     '"system:serviceaccount:flux-system:kustomize-controller" cannot patch resource '
                     '"clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope')


def kustomization(name: str, message: str, at_: str) -> Obj:
    """A Flux Kustomization (kustomize.toolkit.fluxcd.io/v1) whose last reconciliation failed with ``message``."""
    from tests import factories as f

    return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": f.meta(name, "flux-system", created="2026-11-19T08:00:00Z"),
            "spec": {"interval": "10m", "path": f"./tenants/{name}", "prune": True,
                     "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
            "status": {"observedGeneration": 1, "conditions": [
                {"type": "Ready", "status": "False", "reason": "ReconciliationFailed", "message": message,
                 "lastTransitionTime": at_, "observedGeneration": 1}]}}


@scenario
def rbac_forbidden_namespaced() -> tuple[Lines, Expected]:
    st = Story()
    ks = st.add(kustomization("tenants", FORBIDDEN_NAMESPACED, at(3)), at(3, 1))
    st.add(b.event(ks, "ReconciliationFailed", FORBIDDEN_NAMESPACED, count=4, first=at(3), last=at(9),
                   component="kustomize-controller"), at(9, 1))
    return st.lines, {
        "description": "Flux applies as flux-system's default service account, which may not patch namespaces",
        "expected": "rbac_forbidden", "now": NOW, "subject": "Kustomization/flux-system/tenants",
        "evidence": ["system:serviceaccount:flux-system:default", "patch", "namespaces", "apps",
                     "dry-run failed"],
        "resolution": ["kubectl auth can-i patch namespaces --as=system:serviceaccount:flux-system:default -n apps",
                       "--serviceaccount=flux-system:default"], "roots": 1}


@scenario
def rbac_forbidden_cluster_scope() -> tuple[Lines, Expected]:
    st = Story()
    ks = st.add(kustomization("flux-system", FORBIDDEN_CLUSTER, at(4)), at(4, 1))
    st.add(b.event(ks, "ReconciliationFailed", FORBIDDEN_CLUSTER, count=2, first=at(4), last=at(8),
                   component="kustomize-controller"), at(8, 1))
    return st.lines, {
        "description": "kustomize-controller may not patch ClusterRoleBindings (cluster scope, API group rbac)",
        "expected": "rbac_forbidden", "now": NOW, "subject": "Kustomization/flux-system/flux-system",
        "evidence": ["system:serviceaccount:flux-system:kustomize-controller", "clusterrolebindings",
                     "rbac.authorization.k8s.io", "at the cluster scope"],
        "resolution": ["kubectl auth can-i patch clusterrolebindings.rbac.authorization.k8s.io "
                       "--as=system:serviceaccount:flux-system:kustomize-controller",
                       "kubectl create clusterrolebinding"], "roots": 1}


# --- csr_pending ----------------------------------------------------------------------------------

# kubelet-serving requests stay Pending: kube-controller-manager only auto-approves client certificates
# (https://github.com/kubernetes/kubernetes/issues/73356; `kubectl get csr` output in
# https://github.com/awslabs/eks-perf-tests/issues/189)
KUBELET_NODE = "system:node:ip-10-0-102-158.us-west-2.compute.internal"
SERVING_USAGES = ["digital signature", "key encipherment", "server auth"]


@scenario
def csr_pending_kubelet_serving() -> tuple[Lines, Expected]:
    st = Story()
    st.add(bn.csr("csr-28tx9", signer="kubernetes.io/kubelet-serving", username=KUBELET_NODE,
                  groups=["system:nodes", "system:authenticated"], usages=SERVING_USAGES,
                  created="2026-11-20T09:00:00Z"), "2026-11-20T09:00:01Z")
    return st.lines, {
        "description": "a kubelet's serving CSR has waited 70 minutes: nothing approves kubelet-serving requests",
        "expected": "csr_pending", "now": NOW, "subject": "CertificateSigningRequest//csr-28tx9",
        "evidence": ["csr-28tx9", KUBELET_NODE, "kubernetes.io/kubelet-serving", "4200s",
                     "no expirationSeconds requested"],
        "resolution": ["kubectl certificate approve csr-28tx9"], "roots": 1}


@scenario
def csr_pending_denied() -> tuple[Lines, Expected]:
    st = Story()
    # kubectl certificate deny writes this reason and message (staging/src/k8s.io/kubectl/pkg/cmd/certificates)
    st.add(bn.csr("app-client-tls", signer="kubernetes.io/kube-apiserver-client",
                  username="system:serviceaccount:prod:api",
                  groups=["system:serviceaccounts", "system:serviceaccounts:prod", "system:authenticated"],
                  usages=["client auth"], created=at(1), expiration_seconds=86400,
                  decision=("Denied", "KubectlDeny", "This CSR was denied by kubectl certificate deny.", at(2))),
           at(2, 1))
    return st.lines, {
        "description": "a workload's client CSR was denied with kubectl",
        "expected": "csr_pending", "now": NOW, "subject": "CertificateSigningRequest//app-client-tls",
        "evidence": ["Denied", "KubectlDeny", "This CSR was denied by kubectl certificate deny.",
                     "system:serviceaccount:prod:api", "expirationSeconds 86400"],
        "roots": 1}


@scenario
def near_miss_csr_pending_young() -> tuple[Lines, Expected]:
    """A request two minutes old is not stuck yet (csr_pending_timeout is 900 s)."""
    st = Story()
    st.add(bn.csr("csr-4pddk", signer="kubernetes.io/kube-apiserver-client-kubelet", username="system:bootstrap:rpnqru",
                  groups=["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                          "system:authenticated"],
                  usages=["digital signature", "key encipherment", "client auth"], created=at(8)), at(8, 1))
    return st.lines, {"description": "a bootstrap CSR created two minutes ago", "expected": "none", "now": NOW}


# --- near miss: a healthy cluster of the same kinds ------------------------------------------------


@scenario
def near_miss_nodes_healthy() -> tuple[Lines, Expected]:
    st = Story()
    healthy_node(st)
    st.add(bn.node("node-2", conditions={"NetworkUnavailable": bn.condition(
        "NetworkUnavailable", "False", "CalicoIsUp", "Calico is running on this node", since="2026-11-19T08:01:00Z")}),
        "2026-11-20T09:00:00Z")
    main = b.container()
    deploy, rs = app(st, containers=[main], replicas=1, ready=1)
    st.add(b.pod("api-5f6d8c-h1e2a", owner_obj=rs, labels={"app": "api"}, node="node-2", containers=[main],
                 created=at(0, 5)), at(0, 20))
    # a kubelet's client certificate, auto-approved and issued (csrapproving controller's reason and message;
    # `kubectl get csr` output in https://github.com/alex1989hu/kubelet-serving-cert-approver/issues/93)
    st.add(bn.csr("csr-6jjtd", signer="kubernetes.io/kube-apiserver-client-kubelet",
                  username="system:bootstrap:rpnqru", groups=["system:bootstrappers", "system:authenticated"],
                  usages=["digital signature", "key encipherment", "client auth"], created="2026-11-20T09:00:00Z",
                  decision=("Approved", "AutoApproved",
                            "Auto approving kubelet client certificate after SubjectAccessReview.",
                            "2026-11-20T09:00:01Z"), certificate=True), "2026-11-20T09:00:02Z")
    return st.lines, {"description": "healthy nodes (one with Calico's NetworkUnavailable=False), a running pod and "
                                     "an issued CSR: nothing to diagnose",
                      "expected": "none", "now": NOW}


# --- writing ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_nodes.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Nodes, CertificateSigningRequests and control-plane Events in the API server's JSON form, for the node scenarios.

Field for field as the kubelet (NodeStatus: conditions with lastHeartbeatTime and lastTransitionTime), the node
lifecycle controller (taints with timeAdded) and the certificates API (certificates.k8s.io/v1) write them. Pods,
workloads and Events come from builders_pods.
"""

from __future__ import annotations

from typing import Any

from tests import factories as f

Obj = dict[str, Any]
T0 = "2026-11-20T10:00:00Z"

# The kubelet's words for each condition (pkg/kubelet/nodestatus/setters.go): (status, reason, message)
HEALTHY = {
    "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
}
PRESSURE = {
    "MemoryPressure": ("True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    "DiskPressure": ("True", "KubeletHasDiskPressure", "kubelet has disk pressure"),
    "PIDPressure": ("True", "KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
}
TAINTS = {"MemoryPressure": "node.kubernetes.io/memory-pressure", "DiskPressure": "node.kubernetes.io/disk-pressure",
          "PIDPressure": "node.kubernetes.io/pid-pressure",
          "NetworkUnavailable": "node.kubernetes.io/network-unavailable"}
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


def condition(kind: str, status: str, reason: str | None, message: str | None, *, since: str = T0,
              heartbeat: str | None = None) -> Obj:
    """A node condition; a None reason or message is left out, as the API server leaves an empty one out."""
    out: Obj = {"type": kind, "status": status, "lastHeartbeatTime": heartbeat or since, "lastTransitionTime": since}
    if reason is not None:
        out["reason"] = reason
    if message is not None:
        out["message"] = message
    return out


def node(name: str, *, conditions: dict[str, Obj] | None = None, taints: list[Obj] = (),
         unschedulable: bool = False, created: str = "2026-11-19T08:00:00Z", heartbeat: str = T0) -> Obj:
    """A node with the kubelet's healthy conditions, some replaced by ``conditions`` (by type; a type mapped to
    a condition not in HEALTHY, NetworkUnavailable, is added)."""
    merged = {kind: condition(kind, *words, since=created, heartbeat=heartbeat) for kind, words in HEALTHY.items()}
    merged.update(conditions or {})
    order = ["NetworkUnavailable", "MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    spec: Obj = {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]}
    if unschedulable:
        spec["unschedulable"] = True
    if taints:
        spec["taints"] = list(taints)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": f.meta(name, None, labels={"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
                               created=created),
            "spec": spec,
            "status": {"conditions": [merged[k] for k in order if k in merged],
                       "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "95Gi"},
                       "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"},
                       "nodeInfo": {"kubeletVersion": "v1.31.2", "containerRuntimeVersion": "containerd://1.7.22"}}}


def taint(key: str, effect: str = "NoSchedule", added: str | None = None) -> Obj:
    """A taint; the node lifecycle controller sets timeAdded on the NoExecute ones and on those it manages."""
    out: Obj = {"key": key, "effect": effect}
    if added:
        out["timeAdded"] = added
    return out


def node_event(node_obj: Obj, reason: str, message: str, *, at: str, type_: str = "Normal",
               count: int = 1) -> Obj:
    """An Event about a node as the kubelet posts it: involvedObject.uid is the node's name, not its uid
    (pkg/kubelet/kubelet.go nodeRef), and the namespace is "default"."""
    name = node_obj["metadata"]["name"]
    ev = f.event(node_obj, reason, message, type_=type_, count=count, at=at, component="kubelet")
    ev["involvedObject"] = {"kind": "Node", "name": name, "uid": name}
    ev["source"]["host"] = name
    return ev


def csr(name: str, *, signer: str, username: str, groups: list[str], usages: list[str],
        created: str, expiration_seconds: int | None = None, decision: tuple[str, str, str, str] | None = None,
        certificate: bool = False) -> Obj:
    """A CertificateSigningRequest (certificates.k8s.io/v1); ``decision`` is (type, reason, message, at) of its
    Approved, Denied or Failed condition; ``certificate`` puts a (shortened) PEM in status.certificate."""
    spec: Obj = {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K", "signerName": signer,
                 "usages": usages, "username": username, "groups": groups}
    if expiration_seconds is not None:
        spec["expirationSeconds"] = expiration_seconds
    status: Obj = {}
    if decision:
        kind, reason, message, at = decision
        status["conditions"] = [{"type": kind, "status": "True", "reason": reason, "message": message,
                                 "lastUpdateTime": at, "lastTransitionTime": at}]
    if certificate:
        status["certificate"] = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": f.meta(name, None, created=created), "spec": spec, "status": status}

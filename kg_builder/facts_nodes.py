"""Graph facts for nodes and the control plane: Node conditions, CertificateSigningRequests (docs/graph-model.md).

Registered by kg_builder/k8s_objects.py: ``PROPS[(group, kind)]`` returns properties merged into the object's,
``ROWS[(group, kind)]`` yields extra (Statement, row) pairs; the core group is "".

Node: k8s_objects keeps ``ready``, ``ready_reason``, ``unschedulable``, ``taints`` and ``pressure``; the patterns
(cypher/patterns/node_pressure.cypher, node_cordoned.cypher) also need each condition's own words and times, as
the kubelet wrote them, so they are stored flat per condition (a property holds no map):
``memory_pressure_status``, ``_reason``, ``_message``, ``_since`` (lastTransitionTime), ``_heartbeat_at``
(lastHeartbeatTime), and the same for disk_pressure, pid_pressure, network_unavailable and ready. A condition
the node does not report leaves its properties absent.

CertificateSigningRequest: who asked (``csr_username``), for which signer, the approval state
(``csr_state``: Pending, Approved, Issued, Denied or Failed) with the deciding condition's reason, message and
time, and whether a certificate was issued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kg_builder.times import parse_time

Props = dict[str, Any]

# The conditions a node's kubelet (or its cloud route controller, for NetworkUnavailable) reports, and the prefix
# of their properties. "Bad" is the status that means trouble: True for these, False/Unknown for Ready.
NODE_CONDITIONS = {"MemoryPressure": "memory_pressure", "DiskPressure": "disk_pressure",
                   "PIDPressure": "pid_pressure", "NetworkUnavailable": "network_unavailable", "Ready": "ready"}
PROBLEM_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
# The taint the node lifecycle controller puts on a cordoned node; its timeAdded is when the cordon was seen.
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


def node_props(obj: dict[str, Any]) -> Props:
    """Each known condition's status, reason, message and times; the problem conditions now; when cordoned."""
    status = obj.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, dict)}
    props: Props = {}
    for kind, prefix in NODE_CONDITIONS.items():
        condition = conditions.get(kind)
        if condition is not None:
            props.update(_condition_props(prefix, condition))
    problems = [kind for kind in PROBLEM_CONDITIONS if (conditions.get(kind) or {}).get("status") == "True"]
    props["problem_conditions"] = problems
    # an index seek for node_pressure: true when one problem condition holds, else None (the property is removed)
    props["has_problem_condition"] = True if problems else None
    props["cordoned_at"] = _cordoned_at(obj)
    return props


def _condition_props(prefix: str, condition: dict[str, Any]) -> Props:
    props = {f"{prefix}_status": condition.get("status"), f"{prefix}_message": condition.get("message") or None,
             f"{prefix}_since": parse_time(condition.get("lastTransitionTime")),
             f"{prefix}_heartbeat_at": parse_time(condition.get("lastHeartbeatTime"))}
    if prefix != "ready":  # ready_reason is k8s_objects' own
        props[f"{prefix}_reason"] = condition.get("reason")
    return props


def _cordoned_at(obj: dict[str, Any]) -> Any:
    """When the unschedulable taint was added, if the node is cordoned and the taint carries a time; else None."""
    spec = obj.get("spec") or {}
    if not spec.get("unschedulable"):
        return None
    for taint in spec.get("taints") or []:
        if isinstance(taint, dict) and taint.get("key") == UNSCHEDULABLE_TAINT:
            return parse_time(taint.get("timeAdded"))
    return None


# --- CertificateSigningRequest ----------------------------------------------------------------------------------

CSR_DECISIONS = ("Denied", "Failed", "Approved")  # a Denied or Failed request is that, even if also Approved


def csr_props(obj: dict[str, Any]) -> Props:
    """Requester, signer, requested lifetime and the approval state with the deciding condition's words."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []
                  if isinstance(c, dict) and c.get("status", "True") == "True"}
    decision = next((kind for kind in CSR_DECISIONS if kind in conditions), None)
    issued = bool(status.get("certificate"))
    deciding = conditions.get(decision) or {}
    return {
        "signer_name": spec.get("signerName"), "csr_username": spec.get("username"),
        "csr_groups": [g for g in spec.get("groups") or [] if isinstance(g, str)],
        "csr_usages": [u for u in spec.get("usages") or [] if isinstance(u, str)],
        "expiration_seconds": spec.get("expirationSeconds"),
        "certificate_issued": issued,
        "csr_state": "Issued" if decision == "Approved" and issued else (decision or "Pending"),
        "csr_reason": deciding.get("reason"), "csr_message": deciding.get("message") or None,
        "csr_decided_at": parse_time(deciding.get("lastUpdateTime") or deciding.get("lastTransitionTime")),
    }


PROPS: dict[tuple[str, str], Callable[[dict[str, Any]], Props]] = {
    ("", "Node"): node_props,
    ("certificates.k8s.io", "CertificateSigningRequest"): csr_props,
}
ROWS: dict[tuple[str, str], Any] = {}

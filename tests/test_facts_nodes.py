"""Node conditions and CertificateSigningRequests as graph facts (kg_builder/facts_nodes.py), on a real Neo4j:
each condition's own words and times, the problem conditions, when a node was cordoned, a CSR's state; a
replay gives the same graph and what the object does not say stays absent."""

from __future__ import annotations

import pytest

from kg_builder.schema import apply_schema
from kg_builder.times import parse_time
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests.scenarios import builders_nodes as bn
from tests.scenarios import generate_nodes

T0 = "2026-11-20T10:00:00Z"
T1 = "2026-11-20T10:02:00Z"


def obs(obj: dict, action: str = "ADDED", at: str = T1) -> Observation:
    return Observation("k8s", action, obj, at, f"test:{obj['kind']}/{obj['metadata']['name']}")


@pytest.fixture
def writer(neo4j_driver):
    apply_schema(neo4j_driver)
    return Neo4jWriter(neo4j_driver, batch_size=7)


def props(driver, uid: str) -> dict:
    with driver.session() as session:
        return session.run("MATCH (o:Object {uid: $uid}) RETURN properties(o) AS p", uid=uid).single()["p"]


def graph(driver) -> tuple[int, int, list]:
    with driver.session() as session:
        nodes = session.run("MATCH (n) RETURN count(n) AS c").single()["c"]
        links = session.run("MATCH ()-[r]->() RETURN count(r) AS c").single()["c"]
        everything = session.run("MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY elementId(n)").data()
    return nodes, links, everything


def pressured_node() -> dict:
    return bn.node("node-2", conditions={
        "DiskPressure": bn.condition("DiskPressure", *bn.PRESSURE["DiskPressure"], since=T1,
                                     heartbeat="2026-11-20T10:09:40Z"),
        "NetworkUnavailable": bn.condition("NetworkUnavailable", "False", "CalicoIsUp",
                                           "Calico is running on this node", since=T0)},
        taints=[bn.taint(bn.TAINTS["DiskPressure"], added=T1)])


def test_node_scenarios_are_generated_and_current():
    assert generate_nodes.main(["--check"]) == 0


def test_node_conditions_keep_the_kubelets_words_and_times(neo4j_driver, writer):
    node = pressured_node()
    writer.write([obs(node)])
    p = props(neo4j_driver, node["metadata"]["uid"])
    assert p["disk_pressure_status"] == "True"
    assert p["disk_pressure_reason"] == "KubeletHasDiskPressure"
    assert p["disk_pressure_message"] == "kubelet has disk pressure"
    assert p["disk_pressure_since"].to_native() == parse_time(T1)
    assert p["disk_pressure_heartbeat_at"].to_native() == parse_time("2026-11-20T10:09:40Z")
    assert p["network_unavailable_reason"] == "CalicoIsUp"
    assert p["memory_pressure_status"] == "False"
    assert p["ready_status"] == "True" and p["ready_message"] == "kubelet is posting ready status"
    assert p["problem_conditions"] == ["DiskPressure"]
    assert p["has_problem_condition"] is True
    assert "cordoned_at" not in p  # not cordoned: nothing to say


def test_a_condition_the_node_does_not_report_stays_absent(neo4j_driver, writer):
    node = bn.node("node-6", conditions={"DiskPressure": bn.condition("DiskPressure", "True", None, None, since=T1)})
    writer.write([obs(node)])
    p = props(neo4j_driver, node["metadata"]["uid"])
    assert p["disk_pressure_status"] == "True"
    assert "disk_pressure_reason" not in p and "disk_pressure_message" not in p  # never a default
    assert not any(key.startswith("network_unavailable") for key in p)  # this node reports no such condition


def test_recovery_removes_the_problem_flag(neo4j_driver, writer):
    node = pressured_node()
    writer.write([obs(node)])
    recovered = bn.node("node-2")
    recovered["metadata"] = {**node["metadata"], "resourceVersion": str(int(node["metadata"]["resourceVersion"]) + 1)}
    writer.write([obs(recovered, "MODIFIED", "2026-11-20T10:06:00Z")])
    p = props(neo4j_driver, node["metadata"]["uid"])
    assert "has_problem_condition" not in p and p["problem_conditions"] == []
    assert p["disk_pressure_status"] == "False"


def test_cordoned_at_is_the_unschedulable_taints_time_or_absent(neo4j_driver, writer):
    timed = bn.node("node-1", unschedulable=True, taints=[bn.taint(bn.UNSCHEDULABLE, added=T1)])
    untimed = bn.node("node-7", unschedulable=True, taints=[bn.taint(bn.UNSCHEDULABLE)])
    writer.write([obs(timed), obs(untimed)])
    assert props(neo4j_driver, timed["metadata"]["uid"])["cordoned_at"].to_native() == parse_time(T1)
    untimed_props = props(neo4j_driver, untimed["metadata"]["uid"])
    assert untimed_props["unschedulable"] is True and "cordoned_at" not in untimed_props


def test_csr_state_signer_and_requester(neo4j_driver, writer):
    pending = bn.csr("csr-28tx9", signer="kubernetes.io/kubelet-serving", username=generate_nodes.KUBELET_NODE,
                     groups=["system:nodes"], usages=generate_nodes.SERVING_USAGES, created=T0)
    denied = bn.csr("app-client-tls", signer="kubernetes.io/kube-apiserver-client", username="u", groups=[],
                    usages=["client auth"], created=T0, expiration_seconds=86400,
                    decision=("Denied", "KubectlDeny", "This CSR was denied by kubectl certificate deny.", T1))
    issued = bn.csr("csr-6jjtd", signer="kubernetes.io/kube-apiserver-client-kubelet", username="system:bootstrap:x",
                    groups=[], usages=["client auth"], created=T0,
                    decision=("Approved", "AutoApproved", "ok", T1), certificate=True)
    approved = bn.csr("csr-a1", signer="example.com/custom", username="u", groups=[], usages=["client auth"],
                      created=T0, decision=("Approved", "KubectlApprove", "ok", T1))
    writer.write([obs(pending), obs(denied), obs(issued), obs(approved)])
    p = props(neo4j_driver, pending["metadata"]["uid"])
    assert (p["csr_state"], p["signer_name"], p["csr_username"]) == (
        "Pending", "kubernetes.io/kubelet-serving", generate_nodes.KUBELET_NODE)
    assert p["certificate_issued"] is False
    assert "expiration_seconds" not in p and "csr_reason" not in p and "csr_decided_at" not in p
    d = props(neo4j_driver, denied["metadata"]["uid"])
    assert (d["csr_state"], d["csr_reason"], d["expiration_seconds"]) == ("Denied", "KubectlDeny", 86400)
    assert d["csr_decided_at"].to_native() == parse_time(T1)
    assert props(neo4j_driver, issued["metadata"]["uid"])["csr_state"] == "Issued"
    assert props(neo4j_driver, approved["metadata"]["uid"])["csr_state"] == "Approved"


def test_replaying_the_same_objects_gives_the_same_graph(neo4j_driver, writer):
    objects = [pressured_node(), bn.node("node-1", unschedulable=True, taints=[bn.taint(bn.UNSCHEDULABLE, added=T1)]),
               bn.csr("csr-28tx9", signer="kubernetes.io/kubelet-serving", username="u", groups=[], usages=[],
                      created=T0)]
    writer.write([obs(o) for o in objects])
    first = graph(neo4j_driver)
    writer.write([obs(o) for o in objects])
    assert graph(neo4j_driver) == first

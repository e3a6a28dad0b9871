"""PersistentVolumes, StorageClasses and PVC details as graph facts (kg_builder/facts_storage.py), on a real
Neo4j: each field as the object gives it, the links to the class, volume and claim name slots; a replay gives
the same graph and what the object does not say stays absent."""

from __future__ import annotations

import pytest

from kg_builder.facts_storage import pvc_props, quantity_bytes
from kg_builder.schema import apply_schema
from kg_builder.times import parse_time
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests.scenarios import builders_storage as s
from tests.scenarios import generate_storage

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


def links(driver, uid: str) -> list[tuple[str, str, str]]:
    with driver.session() as session:
        return sorted((r["how"], r["ref"], r["key"]) for r in session.run(
            "MATCH (:Object {uid: $uid})-[u:USES]->(r:Resource) RETURN u.how AS how, r.ref AS ref, u.key AS key",
            uid=uid))


def graph(driver) -> tuple[int, int, list]:
    with driver.session() as session:
        nodes = session.run("MATCH (n) RETURN count(n) AS c").single()["c"]
        rels = session.run("MATCH ()-[r]->() RETURN count(r) AS c").single()["c"]
        everything = session.run("MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY elementId(n)").data()
    return nodes, rels, everything


def objects() -> tuple[dict, dict, dict, dict]:
    sc = s.storage_class("standard", "rancher.io/local-path", default=True, binding="WaitForFirstConsumer",
                         expansion=True)
    claim = s.claim("data-api", storage_class="standard", phase="Bound", volume="pv-data", capacity="12Gi",
                    provisioner="rancher.io/local-path", selected_node="node-1")
    claim["status"]["conditions"] = [{"type": "FileSystemResizePending", "status": "True",
                                      "lastTransitionTime": T1, "lastProbeTime": None}]
    pv = s.volume("pv-data", claim, storage_class="standard", size="12Gi", reclaim="Retain",
                  source={"nfs": {"server": "10.0.0.5", "path": "/exports/data"}})
    bare = s.claim("bare", storage_class=None)
    return sc, claim, pv, bare


def test_storage_class_facts(writer, neo4j_driver):
    sc, *_ = objects()
    writer.write([obs(sc)])
    p = props(neo4j_driver, sc["metadata"]["uid"])
    assert (p["provisioner"], p["volume_binding_mode"], p["allow_volume_expansion"], p["reclaim_policy"],
            p["is_default"]) == ("rancher.io/local-path", "WaitForFirstConsumer", True, "Delete", True)
    plain = s.storage_class("slow", "kubernetes.io/no-provisioner")
    writer.write([obs(plain)])
    p = props(neo4j_driver, plain["metadata"]["uid"])
    assert "is_default" not in p and "allow_volume_expansion" not in p  # not said, not filled in


def test_claim_facts_and_links(writer, neo4j_driver):
    _, claim, _, bare = objects()
    writer.write([obs(claim), obs(bare)])
    p = props(neo4j_driver, claim["metadata"]["uid"])
    assert (p["requested_storage"], p["capacity"], p["access_modes"], p["volume_mode"], p["selected_node"],
            p["storage_provisioner"], p["conditions_true"]) == (
        "10Gi", "12Gi", ["ReadWriteOnce"], "Filesystem", "node-1", "rancher.io/local-path",
        ["FileSystemResizePending"])
    assert links(neo4j_driver, claim["metadata"]["uid"]) == [
        ("boundVolume", "PersistentVolume//pv-data", ""), ("storageClass", "StorageClass//standard", "")]
    q = props(neo4j_driver, bare["metadata"]["uid"])
    for absent in ("storage_class", "capacity", "selected_node", "storage_provisioner", "conditions_true",
                   "resize_status", "volume_name"):
        assert absent not in q, absent
    assert links(neo4j_driver, bare["metadata"]["uid"]) == []


def test_volume_facts_and_claim_link(writer, neo4j_driver):
    _, claim, pv, _ = objects()
    writer.write([obs(pv)])
    p = props(neo4j_driver, pv["metadata"]["uid"])
    assert (p["phase"], p["reclaim_policy"], p["storage_class"], p["capacity"], p["claim_namespace"],
            p["claim_name"], p["claim_uid"], p["source_type"], p["nfs_server"], p["source_path"]) == (
        "Bound", "Retain", "standard", "12Gi", "prod", "data-api", claim["metadata"]["uid"], "nfs", "10.0.0.5",
        "/exports/data")
    assert p["phase_changed_at"] == parse_time(pv["status"]["lastPhaseTransitionTime"])
    assert "csi_driver" not in p and "message" not in p
    assert links(neo4j_driver, pv["metadata"]["uid"]) == [
        ("claimRef", "PersistentVolumeClaim/prod/data-api", claim["metadata"]["uid"]),
        ("storageClass", "StorageClass//standard", "")]
    # the claim written later lands in the same slot the volume points at
    writer.write([obs(claim)])
    with neo4j_driver.session() as session:
        found = session.run("MATCH (v:PersistentVolume)-[:USES {how: 'claimRef'}]->(:Resource)"
                            "<-[:INSTANCE_OF]-(c:PersistentVolumeClaim) RETURN c.uid AS uid").single()["uid"]
    assert found == claim["metadata"]["uid"]


def test_resize_wanted_compares_bytes_of_bound_claims():
    assert quantity_bytes("26Gi") == 26 * 2**30 and quantity_bytes("500M") == 500e6
    assert quantity_bytes("1e9") is None  # not read rather than guessed
    grown = s.claim("c", size="26Gi", phase="Bound", capacity="26000490496")
    assert pvc_props(grown)["resize_wanted"] is True
    same = s.claim("c", size="1Gi", phase="Bound", capacity="1073741824")
    rounded_up = s.claim("c", size="10Gi", phase="Bound", capacity="12Gi")
    pending = s.claim("c", size="10Gi")
    assert [pvc_props(o)["resize_wanted"] for o in (same, rounded_up, pending)] == [None, None, None]


def test_replay_gives_the_same_graph(writer, neo4j_driver):
    batch = [obs(o) for o in objects()]
    writer.write(batch)
    first = graph(neo4j_driver)
    writer.write(batch)
    assert graph(neo4j_driver) == first


def test_scenarios_are_current():
    assert generate_storage.main(["--check"]) == 0, "run: python tests/scenarios/generate_storage.py"

"""kgrca's labels are its own: no Kubernetes object, whatever its kind is called, becomes a node kgrca owns.

A CustomResourceDefinition may name its kind anything: Release, Delivery, Revision, Hook, or Pod in a group of its
own. Each label the schema defines is tried as a kind, from a CRD's group and from the core group, against a real
Neo4j: the object is stored (as ``:Object`` with its ``kind`` property) and never takes a label kgrca owns or a
kind's label from another API group, so ``GET /api/v1/releases`` and delivery counts see only what kgrca wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg_builder.k8s_objects import KIND_GROUPS, OWN_LABELS, kind_label
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests import factories as f

SCHEMA = Path(__file__).resolve().parents[1] / "cypher"
LABELS = sorted({m.group(1) for path in [SCHEMA / "schema.cypher", *(SCHEMA / "schema").glob("*.cypher")]
                 for m in re.finditer(r"FOR \(\w+:(\w+)\)", path.read_text())})


def custom_object(kind: str, api_version: str) -> dict:
    where = "crd" if "." in api_version else "core"
    return {"apiVersion": api_version, "kind": kind, "metadata": f.meta(f"my-{kind.lower()}-{where}", "prod"),
            "spec": {"anything": "goes"}, "status": {"phase": "Pending"}}


def test_the_schema_defines_the_labels_tried():
    assert {"Release", "Revision", "Delivery", "HelmOperation", "Pod", "HelmRelease", "Application"} <= set(LABELS)
    assert OWN_LABELS <= set(LABELS) | {"GitHubDeployment", "Event"}, OWN_LABELS - set(LABELS)


@pytest.mark.neo4j
def test_no_kind_takes_a_label_kgrca_owns_or_another_groups_label(neo4j_driver):
    apply_schema(neo4j_driver)
    # a core v1 Event is an Event (kg_builder writes it as one); every other pair is an object to store
    objects = [custom_object(label, api) for label in LABELS if label != "Object"
               for api in ("evil.example.com/v1", "v1") if (label, api) != ("Event", "v1")]
    stats = Neo4jWriter(neo4j_driver).write(
        [Observation("k8s", "ADDED", o, "2026-11-20T10:00:00Z", "test") for o in objects])
    assert stats.rejected == []
    rows = neo4j_driver.execute_query(
        "MATCH (o:Object) WHERE o.name STARTS WITH 'my-' RETURN o.kind AS kind, o.api_version AS api, "
        "labels(o) AS labels").records
    assert len(rows) == len(objects)
    for row in rows:
        kind, api, labels = row["kind"], row["api"], set(row["labels"])
        allowed = {"Object"}
        if kind not in OWN_LABELS and api.rpartition("/")[0] in KIND_GROUPS.get(kind, {api.rpartition("/")[0]}):
            allowed.add(kind)
        assert labels <= allowed, f"{api} {kind} was stored as {labels}"
        assert kind not in OWN_LABELS or labels == {"Object"}
    owned = neo4j_driver.execute_query(
        "MATCH (n) WHERE n.name STARTS WITH 'my-' AND any(l IN labels(n) WHERE l IN $own) "
        "RETURN labels(n) AS labels, n.name AS name",
        own=sorted(OWN_LABELS - {"Resource"})).records
    assert owned == [], [r.data() for r in owned]


def test_a_core_kind_from_a_custom_group_is_not_read_as_that_kind():
    assert kind_label("Pod", "v1") == "Pod"
    assert kind_label("Pod", "evil.example.com/v1") == "Object"
    assert kind_label("Deployment", "extensions/v1beta1") == "Deployment"  # an old group of the same kind
    assert kind_label("HelmRelease", "helm.toolkit.fluxcd.io/v2beta1") == "HelmRelease"
    assert kind_label("Application", "app.k8s.io/v1beta1") == "Object"
    assert kind_label("Certificate", "cert-manager.io/v1") == "Certificate"  # a kind kgrca does not read
    assert kind_label("Release", "v1") == "Object" and kind_label("Pod", None) == "Pod"

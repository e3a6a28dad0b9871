"""Networking facts (kg_builder/facts_network.py) on a real Neo4j: slots resolve in either order, a fresh
observation replaces an object's links, a stale one changes nothing, replays are idempotent, absent stays absent."""

from __future__ import annotations

import copy

import pytest

from kg_builder import facts_network
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests.scenarios import builders_network as n
from tests.scenarios import builders_pods as bp


def obs(obj, action="ADDED", at="2026-11-20T10:05:00Z"):
    return Observation("k8s", action, obj, at, f"test:{obj['kind']}/{obj['metadata']['name']}")


def rows(driver, query, **params):
    with driver.session() as session:
        return [dict(r) for r in session.run(query, **params)]


def newer(obj, **changes):
    """A later state of ``obj``: same uid, higher resourceVersion."""
    later = copy.deepcopy(obj)
    later["metadata"]["resourceVersion"] = str(int(later["metadata"]["resourceVersion"]) + 1000)
    later.update(changes)
    return later


def counts(driver):
    return rows(driver, "MATCH (x) OPTIONAL MATCH (x)-[r]->() RETURN count(DISTINCT x) AS nodes, count(r) AS links")[0]


# --- properties, without a graph ---------------------------------------------------------------------


def test_placeholder_slice_holds_no_ready_endpoint():
    svc = n.service("search", selector={"app": "search"})
    props = facts_network.endpoint_slice_props(n.endpoint_slice(svc, []))
    assert props["service_name"] == "search"
    assert props["endpoint_count"] == 0 and props["ready_count"] == 0
    assert props["no_ready_endpoints"] is True
    assert props["port_numbers"] == []


def test_slice_conditions_are_kept_as_said():
    svc = n.service("web", selector={"app": "web"})
    ready_pod = bp.pod("web-1", labels={"app": "web"})
    slice_ = n.endpoint_slice(svc, [n.endpoint(ready_pod, ready=True), n.endpoint(ready_pod, ready=False)])
    del slice_["endpoints"][0]["conditions"]["ready"]  # not reported: the API says it means ready
    props = facts_network.endpoint_slice_props(slice_)
    assert props["endpoint_ready"] == ["", "false"]
    assert props["ready_count"] == 1
    assert props["no_ready_endpoints"] is None  # removed, so the index holds only the slices to look at
    assert props["endpoint_target_names"] == ["web-1", "web-1"]


def test_ingress_backends_in_both_api_forms():
    v1 = n.ingress("shop", rules=(("shop.example.com", "/", "web", 80), ("shop.example.com", "/api", "api", "grpc")),
                   default_backend=("fallback", 8080))
    props = facts_network.ingress_props(v1)
    assert props["backend_services"] == ["fallback", "web", "api"]
    assert props["backend_ports"] == ["8080", "80", "grpc"]
    assert props["backend_hosts"] == ["", "shop.example.com", "shop.example.com"]
    assert props["ingress_class"] == "nginx"
    assert props["tls_secrets"] is None  # no tls in the spec: absent, not an empty claim
    old = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": v1["metadata"],
           "spec": {"backend": {"serviceName": "legacy", "servicePort": "http"}}}
    assert facts_network.ingress_props(old)["backend_services"] == ["legacy"]
    assert facts_network.ingress_props(old)["ingress_class"] is None


def test_pod_without_ports_has_no_port_properties():
    assert all(v is None for v in facts_network.pod_props(bp.pod("p", containers=[bp.container()])).values())
    with_ports = facts_network.pod_props(bp.pod("p", containers=[n.container(ports=(("http", 8080), ("", 9090)))]))
    assert with_ports["container_port_names"] == ["http", ""]
    assert with_ports["container_port_numbers"] == ["8080", "9090"]


def test_network_policy_summary():
    policy = n.network_policy("deny-all", pod_selector={"app": "web"}, ingress=None)
    props = facts_network.network_policy_props(policy)
    assert props == {"pod_selector": "app=web", "pod_selector_pairs": ["app=web"],
                     "pod_selector_has_expressions": False, "policy_types": ["Ingress"], "ingress_rule_count": 0,
                     "ingress_rules": [], "egress_rule_count": 0}
    allow = n.network_policy("allow", ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "lb"}}}],
                                                "ports": [{"port": 8080}]}])
    assert facts_network.network_policy_props(allow)["ingress_rules"] == ["from pods role=lb; ports TCP/8080"]


# --- the graph -----------------------------------------------------------------------------------------


@pytest.fixture
def writer(neo4j_driver):
    apply_schema(neo4j_driver)
    return Neo4jWriter(neo4j_driver, batch_size=7)


def ingress_world():
    svc = n.service("web", selector={"app": "web"})
    ing = n.ingress("web", rules=(("shop.example.com", "/", "web", 80),), tls=(("shop.example.com", "web-tls"),))
    return svc, ing, n.ingress_class(), n.tls_secret("web-tls")


LINKS = """
MATCH (i:Ingress {name: 'web'})
OPTIONAL MATCH (i)-[r:ROUTES_TO]->(:Resource)<-[:INSTANCE_OF]-(s:Service)
OPTIONAL MATCH (i)-[:USES {how: 'tls'}]->(:Resource)<-[:INSTANCE_OF]-(t:Secret)
OPTIONAL MATCH (i)-[:OF_CLASS]->(:Resource)<-[:INSTANCE_OF]-(c:IngressClass)
RETURN s.name AS service, r.port AS port, r.host AS host, t.name AS secret, c.name AS class
"""


@pytest.mark.neo4j
@pytest.mark.parametrize("ingress_first", [True, False])
def test_ingress_links_resolve_whichever_arrives_first(neo4j_driver, writer, ingress_first):
    svc, ing, klass, secret = ingress_world()
    ordered = [ing, svc, klass, secret] if ingress_first else [svc, klass, secret, ing]
    assert writer.write([obs(o) for o in ordered]).rejected == []
    assert rows(neo4j_driver, LINKS) == [{"service": "web", "port": "80", "host": "shop.example.com",
                                          "secret": "web-tls", "class": "nginx"}]


@pytest.mark.neo4j
def test_replay_gives_the_same_graph(neo4j_driver, writer):
    svc, ing, klass, secret = ingress_world()
    pod = bp.pod("web-1", labels={"app": "web"}, containers=[n.container()])
    slice_ = n.endpoint_slice(svc, [n.endpoint(pod, ready=True)])
    batch = [obs(o) for o in (svc, ing, klass, secret, pod, slice_)]
    writer.write(batch)
    first = counts(neo4j_driver)
    writer.write(batch)
    assert counts(neo4j_driver) == first


@pytest.mark.neo4j
def test_fresh_ingress_replaces_its_links_and_a_stale_one_does_not(neo4j_driver, writer):
    svc, ing, klass, secret = ingress_world()
    writer.write([obs(o) for o in (svc, ing, klass, secret)])
    moved = newer(ing)
    moved["spec"] = {"ingressClassName": "nginx", "rules": [{"host": "shop.example.com", "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web-v2", "port": {"name": "http"}}}}]}}]}
    writer.write([obs(moved)])
    writer.write([obs(ing, "MODIFIED")])  # a stale redelivery of the old state
    links = rows(neo4j_driver, """
        MATCH (i:Ingress {name: 'web'})-[r:ROUTES_TO|USES]->(slot:Resource)
        RETURN type(r) AS link, slot.ref AS ref, r.port AS port ORDER BY ref""")
    assert links == [{"link": "ROUTES_TO", "ref": "Service/prod/web-v2", "port": "http"}]


@pytest.mark.neo4j
def test_slice_mark_comes_and_goes_with_readiness(neo4j_driver, writer):
    svc = n.service("web", selector={"app": "web"})
    pod = bp.pod("web-1", labels={"app": "web"})
    empty = n.endpoint_slice(svc, [n.endpoint(pod, ready=False)])
    writer.write([obs(svc), obs(empty)])
    query = """
        MATCH (es:EndpointSlice)-[:SLICE_OF]->(:Resource)<-[:INSTANCE_OF]-(s:Service)
        RETURN s.name AS service, es.no_ready_endpoints AS marked, es.endpoint_ready AS ready"""
    assert rows(neo4j_driver, query) == [{"service": "web", "marked": True, "ready": ["false"]}]
    ready = newer(empty, endpoints=[n.endpoint(pod, ready=True)])
    writer.write([obs(ready, "MODIFIED")])
    assert rows(neo4j_driver, query) == [{"service": "web", "marked": None, "ready": ["true"]}]


@pytest.mark.neo4j
def test_target_port_mark_follows_the_pods_either_way(neo4j_driver, writer):
    svc = n.service("payments", selector={"app": "payments"}, ports=(("http", 80, "http-api"),))
    pod = bp.pod("payments-1", labels={"app": "payments"}, containers=[n.container(ports=(("http", 8080),))])
    query = ("MATCH (s:Service {name: 'payments'}) "
             "RETURN s.target_port_mismatch AS marked, s.unexposed_target_ports AS ports")
    writer.write([obs(svc)])
    assert rows(neo4j_driver, query) == [{"marked": None, "ports": None}]  # no pod selected yet: not judged
    writer.write([obs(pod)])  # the pod arrives after its Service
    assert rows(neo4j_driver, query) == [{"marked": True, "ports": ["http-api"]}]
    fixed = newer(pod)
    fixed["spec"]["containers"] = [n.container(ports=(("http-api", 8080),))]
    writer.write([obs(fixed, "MODIFIED")])
    assert rows(neo4j_driver, query) == [{"marked": None, "ports": None}]


def test_golden_scenarios_are_fresh():
    from tests.scenarios import generate_network

    assert generate_network.main(["--check"]) == 0, "run: python tests/scenarios/generate_network.py"

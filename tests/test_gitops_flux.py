"""Flux as a source (kg_builder/gitops_flux.py), on a real Neo4j: HelmRelease v2, v2beta2 and v2beta1 objects and
their sources become properties and links; what helm-controller reports of a helm run becomes a witnessed
HelmOperation the patterns read, classified by the same table as a revision's description."""

from __future__ import annotations

import pytest

from kg_builder import gitops_flux
from kg_builder.schema import apply_schema
from kg_builder.times import parse_time
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from rca.registry import load_patterns
from rca.runner import Detector
from tests.scenarios import generate_flux
from tests.scenarios.builders_flux import (
    HELM_V2BETA1,
    HELM_V2BETA2,
    condition,
    helm_release,
    hr_status,
    snapshot,
    source,
    with_status,
)

T0 = "2026-11-20T10:00:00Z"
T1 = "2026-11-20T10:00:02Z"
T2 = "2026-11-20T10:10:00Z"
TEMPLATE = generate_flux.TOFU_TEMPLATE
CONFLICT = generate_flux.INGRESS_CONFLICT


def obs(obj: dict, action: str = "ADDED", at: str = T1) -> Observation:
    return Observation("k8s", action, obj, at, f"test:{obj['kind']}/{obj['metadata']['name']}")


@pytest.fixture
def writer(neo4j_driver):
    apply_schema(neo4j_driver)
    return Neo4jWriter(neo4j_driver, batch_size=7)


def rows(driver, query: str, **params) -> list[dict]:
    with driver.session() as session:
        return [record.data() for record in session.run(query, **params)]


def node(driver, uid: str) -> dict:
    return rows(driver, "MATCH (o:Object {uid: $uid}) RETURN properties(o) AS p", uid=uid)[0]["p"]


def failed_install(**spec) -> dict:
    """flux-system/tf-controller (v2): the install failed rendering a template (generate_flux's real message)."""
    hr = helm_release("tf-controller", chart="tofu-controller", version="0.16.0-rc.4",
                      source=("HelmRepository", "tofu-controller"), **spec)
    return with_status(hr, hr_status([condition("Ready", "False", "InstallFailed", TEMPLATE, T1),
                                      condition("Released", "False", "InstallFailed", TEMPLATE, T1)],
                                     action="install", revision="0.16.0-rc.4", failures=1, duration="1.5s"))


def installed(hr: dict, *, at: str = T2, deployed: str = "2026-11-20T10:09:20Z") -> dict:
    message = "Helm install succeeded for release flux-system/tf-controller.v1 with chart tofu-controller@0.16.0-rc.5"
    return with_status(hr, hr_status(
        [condition("Ready", "True", "InstallSucceeded", message, at, 2),
         condition("Released", "True", "InstallSucceeded", message, at, 2)],
        history=[snapshot(1, "deployed", "tofu-controller", "0.16.0-rc.5", deployed, name="tf-controller",
                          namespace="flux-system")],
        action="install", revision="0.16.0-rc.5", generation=2), generation=2)


# --- the scenarios' generator ----------------------------------------------------------------------


def test_flux_scenarios_are_generated_and_current():
    assert generate_flux.main(["--check"]) == 0


# --- release names (no graph needed) ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "short"), [
    # helm-controller internal/release/name_test.go, its own cases
    ("release-name", "release-name"),
    ("release-name-with-very-long-name-which-is-longer-than-53-characters",
     "release-name-with-very-long-name-which-i-788ca0d0d7b0"),
    ("another-release-name-with-very-long-name-which-is-longer-than-53-characters",
     "another-release-name-with-very-long-name-7e72150d5a36"),
])
def test_shorten_name_matches_helm_controller(name, short):
    assert gitops_flux.shorten_name(name) == short


def test_release_name_composition():
    assert gitops_flux.release_name(helm_release("podinfo")) == "podinfo"
    assert gitops_flux.release_name(helm_release("podinfo", target_namespace="apps")) == "apps-podinfo"
    assert gitops_flux.release_name(helm_release("podinfo", target_namespace="apps", release_name="web")) == "web"


# --- objects, properties and links ---------------------------------------------------------------------


@pytest.mark.neo4j
def test_helm_release_v2_props_and_links(neo4j_driver, writer):
    repo = source("HelmRepository", "podinfo", url="https://stefanprodan.github.io/podinfo",
                  revision="sha256:" + "a" * 64, ready=condition("Ready", "True", "Succeeded", "stored artifact", T0))
    history = [snapshot(3, "failed", "podinfo", "6.5.1", T1, name="podinfo", namespace="apps"),
               snapshot(2, "deployed", "podinfo", "6.5.0", T0, name="podinfo", namespace="apps")]
    hr = helm_release("podinfo", target_namespace="apps", storage_namespace="apps", install_retries=0,
                      upgrade_retries=3, upgrade_strategy="rollback", version="6.5.1", status=hr_status(
                          [condition("Ready", "False", "UpgradeFailed", "Helm upgrade failed for release apps/"
                                     "apps-podinfo with chart podinfo@6.5.1: context deadline exceeded", T1),
                           condition("Released", "False", "UpgradeFailed", "Helm upgrade failed", T1),
                           condition("Stalled", "True", "RetriesExceeded", "Failed to upgrade after 4 attempt(s)", T1),
                           condition("Reconciling", "False", "Progressing", "", T1)],
                          history=history, action="upgrade", revision="6.5.1", failures=4, upgrade_failures=4,
                          storage_namespace="apps"))
    assert writer.write([obs(repo), obs(hr)]).rejected == []
    props = node(neo4j_driver, hr["metadata"]["uid"])
    expected = {
        "release_key": "apps/apps-podinfo", "release_name": "apps-podinfo", "target_namespace": "apps",
        "storage_namespace": "apps", "suspended": False, "ready_status": "False", "ready_reason": "UpgradeFailed",
        "released_status": "False", "released_reason": "UpgradeFailed", "stalled": True,
        "stalled_reason": "RetriesExceeded", "reconciling": False, "failures": 4, "upgrade_failures": 4,
        "install_retries": 0, "upgrade_retries": 3, "upgrade_remediation_strategy": "rollback",
        "last_attempted_revision": "6.5.1", "last_attempted_release_action": "upgrade",
        "last_attempted_generation": 1, "history": ["v3 podinfo@6.5.1 failed", "v2 podinfo@6.5.0 deployed"],
        "chart": "podinfo", "chart_version": "6.5.1", "source_kind": "HelmRepository", "source_name": "podinfo",
        "source_namespace": "flux-system", "interval": "5m"}
    assert {k: props.get(k) for k in expected} == expected
    assert "install_failures" not in props  # helm-controller wrote none (omitempty)
    assert props["ready_at"].isoformat().startswith("2026-11-20T10:00:02")
    links = rows(neo4j_driver, """
        MATCH (hr:HelmRelease {uid: $uid})-[:DEPLOYS]->(rel:Release)
        MATCH (hr)-[:FROM_SOURCE]->(slot:Resource)<-[:INSTANCE_OF]-(repo:HelmRepository)
        RETURN rel.key AS release, rel.namespace AS ns, rel.name AS name, slot.ref AS ref, repo.url AS url,
               repo.ready_status AS ready, repo.artifact_revision AS revision""", uid=hr["metadata"]["uid"])
    assert links == [{"release": "apps/apps-podinfo", "ns": "apps", "name": "apps-podinfo",
                      "ref": "HelmRepository/flux-system/podinfo", "url": "https://stefanprodan.github.io/podinfo",
                      "ready": "True", "revision": "sha256:" + "a" * 64}]


@pytest.mark.neo4j
def test_helm_release_v2beta2_chart_ref_and_long_name(neo4j_driver, writer):
    long_name = "observability-platform-opentelemetry-collector"  # with its target namespace: over 53 characters
    hr = helm_release(long_name, "tenants", api_version=HELM_V2BETA2, chart_ref=True,
                      source=("OCIRepository", "otel-collector"), source_namespace=None, target_namespace="monitoring")
    oci = source("OCIRepository", "otel-collector", "tenants", url="oci://ghcr.io/open-telemetry/charts/collector")
    assert writer.write([obs(hr), obs(oci)]).rejected == []
    composed = f"monitoring-{long_name}"
    assert len(composed) > 53
    short = gitops_flux.shorten_name(composed)
    found = rows(neo4j_driver, """
        MATCH (hr:HelmRelease {uid: $uid})-[:DEPLOYS]->(rel:Release), (hr)-[:FROM_SOURCE]->(slot)<-[:INSTANCE_OF]-(o)
        RETURN rel.key AS key, hr.release_name AS name, slot.ref AS ref, o.kind AS kind, hr.api_version AS api,
               hr.chart AS chart, hr.history AS history""", uid=hr["metadata"]["uid"])
    assert found == [{"key": f"monitoring/{short}", "name": short, "ref": "OCIRepository/tenants/otel-collector",
                      "kind": "OCIRepository", "api": HELM_V2BETA2, "chart": None, "history": None}]
    assert len(short) == 53


@pytest.mark.neo4j
def test_helm_release_v2beta1_keeps_what_it_has(neo4j_driver, writer):
    message = generate_flux.NGINX_REMOVED_API
    hr = helm_release("nginx", "nginx", api_version=HELM_V2BETA1, chart="ingress-nginx", version="2.16.0",
                      source=("HelmRepository", "ingress-nginx"), status=hr_status(
                          [condition("Ready", "False", "InstallFailed", "install retries exhausted", T1),
                           condition("Released", "False", "InstallFailed", message, T1)],
                          revision="2.16.0", failures=1, install_failures=1, generation=None))
    assert writer.write([obs(hr)]).rejected == []
    props = node(neo4j_driver, hr["metadata"]["uid"])
    assert props["release_key"] == "nginx/nginx" and props["install_failures"] == 1
    for absent in ("history", "last_attempted_release_action", "last_attempted_generation", "install_retries",
                   "upgrade_retries", "upgrade_remediation_strategy", "storage_namespace", "target_namespace",
                   "stalled"):
        assert absent not in props, absent
    # Ready says only "install retries exhausted": helm's words are Released's, and they are what is classified
    op = rows(neo4j_driver, """
        MATCH (:HelmRelease {uid: $uid})-[:RAN]->(op:HelmOperation)-[:FAILED_WITH]->(e:HelmError)
        RETURN op.stderr AS stderr, op.command AS command, e.family AS family, e.api_version AS api""",
              uid=hr["metadata"]["uid"])
    assert op == [{"stderr": message, "command": "install", "family": "removed_api",
                   "api": "rbac.authorization.k8s.io/v1beta1"}]


@pytest.mark.neo4j
def test_kustomization_and_helm_chart_point_at_their_sources(neo4j_driver, writer):
    kustomization = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                     "metadata": {**helm_release("apps")["metadata"], "uid": "k-uid-1"},
                     "spec": {"interval": "10m", "path": "./apps", "prune": True,
                              "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
                     "status": {"conditions": [condition("Ready", "True", "ReconciliationSucceeded",
                                                         "Applied revision: main@sha1:0a1b", T0)],
                                "lastAppliedRevision": "main@sha1:0a1b"}}
    chart = source("HelmChart", "flux-system-podinfo", chart="podinfo", chart_version="6.6.0",
                   source_ref=("HelmRepository", "podinfo"),
                   ready=condition("Ready", "False", "ChartPullError", generate_flux.NO_CHART_NAME, T0))
    git = source("GitRepository", "flux-system", url="ssh://git@github.com/example/fleet", revision="main@sha1:0a1b")
    assert writer.write([obs(kustomization), obs(chart), obs(git)]).rejected == []
    found = rows(neo4j_driver, """
        MATCH (o:Object)-[:FROM_SOURCE]->(slot:Resource)
        OPTIONAL MATCH (slot)<-[:INSTANCE_OF]-(live:Object)
        RETURN o.kind AS kind, slot.ref AS ref, live.url AS url, o.ready_reason AS reason ORDER BY kind""")
    assert found == [
        {"kind": "HelmChart", "ref": "HelmRepository/flux-system/podinfo", "url": None, "reason": "ChartPullError"},
        {"kind": "Kustomization", "ref": "GitRepository/flux-system/flux-system",
         "url": "ssh://git@github.com/example/fleet", "reason": "ReconciliationSucceeded"}]


@pytest.mark.neo4j
def test_a_renamed_release_moves_the_link(neo4j_driver, writer):
    hr = helm_release("podinfo")
    renamed = dict(with_status(hr, hr_status([])), spec={**hr["spec"], "releaseName": "web"})
    assert writer.write([obs(hr), obs(renamed, "MODIFIED")]).rejected == []
    # a replay of the older version afterwards moves nothing back
    assert writer.write([obs(hr)]).rejected == []
    keys = rows(neo4j_driver, "MATCH (:HelmRelease)-[:DEPLOYS]->(r:Release) RETURN r.key AS key")
    assert keys == [{"key": "flux-system/web"}]


# --- witnessed helm runs -----------------------------------------------------------------------------


@pytest.mark.neo4j
def test_failed_install_is_a_witnessed_helm_operation(neo4j_driver, writer):
    hr = failed_install()
    assert writer.write([obs(hr)]).rejected == []
    found = rows(neo4j_driver, """
        MATCH (hr:HelmRelease {uid: $uid})-[:RAN]->(op:HelmOperation)-[t:TARGETS]->(rel:Release)
        MATCH (op)-[:FAILED_WITH]->(e:HelmError)
        RETURN op.witness AS witness, op.witness_kind AS wkind, op.witness_name AS wname, op.said_by AS said_by,
               op.command AS command, op.status AS status, op.stderr AS stderr, op.release_key AS key,
               op.started_at = datetime($started) AS started, op.ended_at = datetime($ended) AS ended,
               op.pid AS pid,
               rel.key AS release, e.family AS family, e.shape AS shape, e.seen_in AS seen_in,
               e.release_key AS error_release""", uid=hr["metadata"]["uid"],
                 # started: the outcome's time less status.lastAttemptedReleaseActionDuration (1.5s)
                 started="2026-11-20T10:00:00.5Z", ended=T1)
    assert found == [{
        "witness": "flux", "wkind": "HelmRelease", "wname": "flux-system/tf-controller",
        "said_by": "Flux HelmRelease flux-system/tf-controller: Released=False (InstallFailed)",
        "command": "install", "status": "failed", "stderr": TEMPLATE, "key": "flux-system/tf-controller",
        "started": True, "ended": True, "pid": None,
        "release": "flux-system/tf-controller", "family": "template_function", "shape": "template_error",
        "seen_in": "flux", "error_release": "flux-system/tf-controller"}]


@pytest.mark.neo4j
def test_an_upgrade_conflict_is_classified(neo4j_driver, writer):
    hr = helm_release("ingress-public", "ingress-nginx", api_version=HELM_V2BETA2, chart="ingress-nginx",
                      version="4.0.17", status=hr_status(
                          [condition("Ready", "False", "UpgradeFailed", CONFLICT, T1),
                           condition("Released", "False", "UpgradeFailed", CONFLICT, T1)],
                          action="upgrade", revision="4.0.17", failures=1))
    assert writer.write([obs(hr)]).rejected == []
    found = rows(neo4j_driver, """
        MATCH (:HelmRelease)-[:RAN]->(op:HelmOperation)-[:FAILED_WITH]->(e:HelmError)
        RETURN op.command AS command, e.family AS family, e.kind AS kind, e.name AS name, e.owner AS owner""")
    assert found == [{"command": "upgrade", "family": "ownership_conflict", "kind": "IngressClass", "name": "nginx",
                      "owner": "ingress"}]


@pytest.mark.neo4j
def test_replaying_the_same_input_gives_the_same_graph(neo4j_driver, writer):
    hr = failed_install()
    later = installed(hr)
    batch = [obs(hr), obs(later, "MODIFIED", T2)]

    def snapshot_graph() -> tuple:
        nodes = rows(neo4j_driver, "MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY elementId(n)")
        links = rows(neo4j_driver, "MATCH (a)-[r]->(b) RETURN type(r) AS t, count(*) AS n ORDER BY t")
        return sorted(repr(n) for n in nodes), links

    assert writer.write(batch).rejected == []
    first = snapshot_graph()
    assert writer.write(batch).rejected == []
    assert snapshot_graph() == first
    ops = rows(neo4j_driver, "MATCH (op:HelmOperation) RETURN op.operation_id AS id, op.status AS s ORDER BY s")
    assert [o["s"] for o in ops] == ["failed", "succeeded"] and ops[0]["id"] != ops[1]["id"]


@pytest.mark.neo4j
def test_a_ready_update_supersedes_the_failure(neo4j_driver, writer, neo4j_config):
    hr = failed_install()
    template_error = [p for p in load_patterns() if p.id == "template_error"]
    now = parse_time("2026-11-20T10:20:00Z")
    assert writer.write([obs(hr)]).rejected == []
    before = Detector(neo4j_driver, neo4j_config, template_error).run("flux-system/tf-controller", now)
    assert [d.pattern for d in before.diagnoses] == ["template_error"]
    assert writer.write([obs(installed(hr), "MODIFIED", T2)]).rejected == []
    after = Detector(neo4j_driver, neo4j_config, template_error).run("flux-system/tf-controller", now)
    assert after.diagnoses == []
    succeeded = rows(neo4j_driver, """
        MATCH (:HelmRelease)-[:RAN]->(op:HelmOperation {status: 'succeeded'})
        RETURN op.command AS command, op.started_at = datetime($deployed) AS started, op.stderr AS stderr""",
                     deployed="2026-11-20T10:09:20Z")
    # started: the newest history snapshot's lastDeployed, this run's own
    assert succeeded == [{"command": "install", "started": True, "stderr": None}]


@pytest.mark.neo4j
def test_waiting_for_a_chart_is_no_failure(neo4j_driver, writer):
    waiting = "HelmChart 'default/default-test' is not ready: latest generation of object has not been reconciled"
    hr = helm_release("test", "default", status=hr_status([condition("Ready", "False", "SourceNotReady", waiting,
                                                                     T1)]))
    fetch = generate_flux.NO_CHART_NAME
    broken = helm_release("podinfo", status=hr_status([condition(
        "Ready", "False", "SourceNotReady", f"HelmChart 'flux-system/flux-system-podinfo' is not ready: {fetch}", T1)]))
    assert writer.write([obs(hr), obs(broken)]).rejected == []
    found = rows(neo4j_driver, """
        MATCH (hr:HelmRelease)-[:RAN]->(op:HelmOperation)-[:FAILED_WITH]->(e:HelmError)
        RETURN hr.name AS name, op.command AS command, e.family AS family""")
    assert found == [{"name": "podinfo", "command": "pull", "family": "chart_fetch"}]

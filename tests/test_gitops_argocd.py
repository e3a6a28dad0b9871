"""Argo CD Applications in the graph, on a real Neo4j: their release, the objects they manage, the helm runs they
witnessed, and the webhook receiver's node they share."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kg_builder import helm_errors
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from rca.runner import Detector
from tests import factories as f
from tests.scenarios import generate_argocd
from tests.scenarios.builders_argocd import (
    application,
    condition,
    git_chart_source,
    helm_repo_source,
    labelled,
    operation_state,
    resource_result,
    tracked,
    with_status,
)
from tests.scenarios.builders_helm import T0, at
from tests.test_webhooks import argocd_body
from webhooks import normalize

pytestmark = pytest.mark.neo4j

Obj = dict[str, Any]
SOURCE = helm_repo_source("https://stefanprodan.github.io/podinfo", "podinfo", "6.5.4", release_name="web",
                          values_files=("values-prod.yaml",))
IMMUTABLE = ('Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:'
             'map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable')
NIL_POINTER = ("Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown "
               "desc = failed to execute helm template command: failed to get command args to log: `helm template . "
               "--name-template web --namespace prod --kube-version 1.30 <api versions removed> --include-crds` failed "
               "exit status 1: Error: template: podinfo/templates/deployment.yaml:5:33: executing \"podinfo/templates/"
               "deployment.yaml\" at <.Values.image.repository>: nil pointer evaluating interface {}.repository")


def obs(obj: Obj, action: str = "ADDED", when: str = T0) -> Observation:
    return Observation("k8s", action, obj, when, f"test:{obj['kind']}/{obj['metadata']['name']}")


@pytest.fixture
def writer(neo4j_driver):
    apply_schema(neo4j_driver)
    return Neo4jWriter(neo4j_driver, batch_size=7)


def rows(driver, query: str, **params) -> list[dict[str, Any]]:
    with driver.session() as session:
        return [record.data() for record in session.run(query, **params)]


def web_app(**kwargs: Any) -> Obj:
    return application("web", source=kwargs.pop("source", SOURCE), destination_ns="prod",
                       automated=kwargs.pop("automated", {"prune": True, "selfHeal": True}),
                       created=at(T0, -86400), **kwargs)


def failed_sync(app: Obj, *, started: str = T0, rv_step: int = 1) -> Obj:
    results = [resource_result("Service", "prod", "web", message="service/web configured"),
               resource_result("Deployment", "prod", "web", group="apps", status="SyncFailed", message=IMMUTABLE,
                               hook_phase="Failed")]
    op = operation_state("Failed", started=started, finished=at(started, 4), revision="6.5.4", source=SOURCE,
                         message=f"one or more objects failed to apply, reason: {IMMUTABLE}", results=results)
    return with_status(app, sync="OutOfSync", health="Healthy", revision="6.5.4", reconciled=at(started, 5),
                       operation=op, rv_step=rv_step)


def succeeded_sync(app: Obj, *, started: str, rv_step: int) -> Obj:
    op = operation_state("Succeeded", started=started, finished=at(started, 4), revision="6.5.4", source=SOURCE,
                         message="successfully synced (all tasks run)")
    return with_status(app, sync="Synced", health="Healthy", revision="6.5.4", reconciled=at(started, 5),
                       operation=op, rv_step=rv_step)


# --- the Application's properties and its release --------------------------------------------------------------


def test_an_application_carries_its_release_policy_state_and_source(neo4j_driver, writer):
    app = failed_sync(web_app(retry_limit=3))
    app["status"]["conditions"] = [condition("SyncError", "Failed sync attempt to 6.5.4: one or more objects "
                                                          "failed to apply", at(T0, 5))]
    assert writer.write([obs(app)]).rejected == []
    [row] = rows(neo4j_driver, "MATCH (a:Application {name: 'web'})-[:DEPLOYS]->(r:Release) "
                               "RETURN properties(a) AS a, r.key AS key, r.namespace AS ns, r.name AS name")
    props = row["a"]
    assert (row["key"], row["ns"], row["name"]) == ("prod/web", "prod", "web")
    assert {k: props.get(k) for k in (
        "release_key", "release_name", "destination_namespace", "destination_server", "project", "sync_status",
        "health_status", "operation_phase", "retry_count", "auto_sync", "self_heal", "prune", "retry_limit",
        "conditions_text", "repo_url", "chart", "target_revision", "path", "values_files")} == {
        "release_key": "prod/web", "release_name": "web", "destination_namespace": "prod",
        "destination_server": "https://kubernetes.default.svc", "project": "default", "sync_status": "OutOfSync",
        "health_status": "Healthy", "operation_phase": "Failed", "retry_count": 0, "auto_sync": True,
        "self_heal": True, "prune": True, "retry_limit": 3,
        "conditions_text": ["SyncError: Failed sync attempt to 6.5.4: one or more objects failed to apply"],
        "repo_url": "https://stefanprodan.github.io/podinfo", "chart": "podinfo", "target_revision": "6.5.4",
        "path": None, "values_files": ["values-prod.yaml"]}
    assert props["operation_message"].startswith("one or more objects failed to apply, reason: Deployment.apps")
    assert props["operation_started_at"].iso_format().startswith("2026-11-20T10:00:00")


def test_no_retry_policy_leaves_retry_limit_absent_and_a_disabled_automation_is_no_auto_sync(neo4j_driver, writer):
    app = web_app(automated={"enabled": False, "selfHeal": True})
    writer.write([obs(app)])
    [props] = rows(neo4j_driver, "MATCH (a:Application {name: 'web'}) RETURN properties(a) AS p")
    assert "retry_limit" not in props["p"]
    assert props["p"]["auto_sync"] is False


def test_a_multi_source_application_deploys_the_release_of_its_first_helm_source(neo4j_driver, writer):
    sources = [{"repoURL": "https://github.com/example/values.git", "targetRevision": "main", "ref": "values"},
               helm_repo_source("https://charts.bitnami.com/bitnami", "redis", "18.1.0", release_name="cache",
                                values_files=("$values/redis/prod.yaml",))]
    app = application("redis", sources=sources, destination_ns="data", created=T0)
    writer.write([obs(app)])
    assert rows(neo4j_driver, """
        MATCH (a:Application {name: 'redis'})-[:DEPLOYS]->(r:Release)
        RETURN r.key AS key, a.chart AS chart, a.values_files AS values""") == [
        {"key": "data/cache", "chart": "redis", "values": ["$values/redis/prod.yaml"]}]


def test_an_application_that_does_not_render_with_helm_deploys_no_release(neo4j_driver, writer):
    source = {"repoURL": "https://github.com/argoproj/argocd-example-apps.git", "path": "kustomize-guestbook",
              "targetRevision": "HEAD"}
    app = failed_sync(application("guestbook", source=source, destination_ns="guestbook", created=T0))
    app["status"]["sourceType"] = "Kustomize"
    writer.write([obs(app)])
    assert rows(neo4j_driver, "MATCH (a:Application {name: 'guestbook'}) RETURN a.release_key AS key, "
                              "EXISTS { (a)-[:DEPLOYS]->() } AS deploys, EXISTS { (a)-[:RAN]->() } AS ran") == [
        {"key": None, "deploys": False, "ran": False}]
    assert rows(neo4j_driver, "MATCH (n:Release) RETURN n.key AS key") == []


def test_a_git_chart_argo_cd_reported_as_helm_renders_with_helm(neo4j_driver, writer):
    app = with_status(application("api", source=git_chart_source("https://github.com/example/charts.git", "api"),
                                  destination_ns="prod", created=T0),
                      sync="Synced", health="Healthy", revision="abc1234", reconciled=T0, rv_step=1)
    writer.write([obs(app)])
    assert rows(neo4j_driver, "MATCH (:Application {name: 'api'})-[:DEPLOYS]->(r) RETURN r.key AS key") == [
        {"key": "prod/api"}]


# --- which objects an Application manages -----------------------------------------------------------------------


def managed(driver) -> list[dict[str, Any]]:
    return rows(driver, "MATCH (a:Application)-[m:MANAGES]->(o:Object) "
                        "RETURN a.name AS app, o.kind + '/' + o.name AS object, m.by AS by ORDER BY object")


@pytest.mark.parametrize("app_first", [True, False], ids=["application-first", "objects-first"])
def test_the_tracking_annotation_links_the_objects_argo_cd_applied_whichever_comes_first(neo4j_driver, writer,
                                                                                          app_first):
    deploy = tracked(f.deployment("web", "prod", created=T0), "web")
    rs = f.replicaset(deploy)  # the Deployment controller copies annotations onto its ReplicaSets
    rs["metadata"]["annotations"] = dict(deploy["metadata"]["annotations"])
    objects = [obs(deploy), obs(rs)]
    app = obs(web_app())
    writer.write([app, *objects] if app_first else [*objects, app])
    assert managed(neo4j_driver) == [{"app": "web", "object": "Deployment/web", "by": "annotation"}]


def test_an_application_in_another_namespace_tracks_under_its_qualified_name(neo4j_driver, writer):
    app = with_status(application("web", source=SOURCE, namespace="team-a", created=T0), sync="Synced",
                      health="Healthy", revision="6.5.4", reconciled=T0, rv_step=1)
    other = application("web", source=SOURCE, namespace="argocd", created=at(T0, 1))
    ours = tracked(f.deployment("web", "prod", created=T0), "team-a_web")
    writer.write([obs(app), obs(other), obs(ours)])
    assert rows(neo4j_driver, "MATCH (a:Application)-[:MANAGES]->(o) RETURN a.namespace AS ns, o.name AS o") == [
        {"ns": "team-a", "o": "web"}]


def test_the_instance_label_links_only_to_an_application_that_exists(neo4j_driver, writer):
    deploy = labelled(f.deployment("web", "prod", created=T0), "web")
    cache = labelled(f.deployment("cache", "prod", created=T0), "cache")  # a helm chart's label, no Application
    rs = f.replicaset(deploy)
    pod = labelled(f.pod("web-7d4b9c-x0", "prod", owner_obj=rs, created=T0), "web")  # copied from the template
    writer.write([obs(deploy), obs(cache), obs(rs), obs(pod), obs(web_app())])
    assert managed(neo4j_driver) == [{"app": "web", "object": "Deployment/web", "by": "label"}]
    assert rows(neo4j_driver, "MATCH (a:Application) RETURN count(a) AS n") == [{"n": 1}]


# --- the helm runs it witnessed ---------------------------------------------------------------------------------


def test_a_failed_sync_is_a_witnessed_helm_run_with_classified_words(neo4j_driver, writer):
    app = failed_sync(web_app())
    writer.write([obs(app)])
    [row] = rows(neo4j_driver, """
        MATCH (a:Application {name: 'web'})-[:RAN]->(op:HelmOperation)-[:TARGETS]->(r:Release)
        MATCH (op)-[:FAILED_WITH]->(e:HelmError)
        RETURN op.operation_id AS id, op.witness AS witness, op.witness_kind AS kind, op.witness_name AS name,
               op.command AS command, op.status AS status, op.stderr AS stderr, op.said_by AS said_by,
               op.release_key AS release, toString(op.started_at) AS started, toString(op.ended_at) AS ended,
               r.key AS target, e.family AS family, e.seen_in AS seen_in, e.kind AS e_kind, e.name AS e_name,
               e.field AS field""")
    uid = app["metadata"]["uid"]
    assert row == {
        "id": f"argocd:{uid}:sync:{T0}:0", "witness": "argocd", "kind": "Application", "name": "argocd/web",
        "command": "sync", "status": "failed",
        "stderr": f"one or more objects failed to apply, reason: {IMMUTABLE}\nDeployment/prod/web: {IMMUTABLE}",
        "said_by": "Argo CD Application argocd/web: sync Failed", "release": "prod/web",
        "started": "2026-11-20T10:00:00Z", "ended": "2026-11-20T10:00:04Z", "target": "prod/web",
        "family": "immutable_field", "seen_in": "argocd", "e_kind": "Deployment", "e_name": "web",
        "field": "spec.selector"}


def test_a_comparison_error_is_a_failed_helm_template(neo4j_driver, writer):
    app = with_status(web_app(), sync="Unknown", health="Healthy", revision="6.5.4", reconciled=at(T0, 30),
                      rv_step=1, conditions=[condition("ComparisonError", NIL_POINTER, at(T0, 3))])
    writer.write([obs(app)])
    [row] = rows(neo4j_driver, """
        MATCH (:Application {name: 'web'})-[:RAN]->(op:HelmOperation)-[:FAILED_WITH]->(e:HelmError)
        RETURN op.command AS command, op.status AS status, toString(op.started_at) AS started, op.chart AS chart,
               op.values_files AS values, op.said_by AS said_by, e.family AS family, e.shape AS shape,
               e.seen_in AS seen_in, e.file AS file, e.release_key AS release""")
    assert row == {"command": "template", "status": "failed", "started": "2026-11-20T10:00:03Z", "chart": "podinfo",
                   "values": ["values-prod.yaml"],
                   "said_by": "Argo CD Application argocd/web: ComparisonError (sync Unknown)",
                   "family": "template_nil_pointer", "shape": "template_error", "seen_in": "argocd",
                   "file": "podinfo/templates/deployment.yaml", "release": "prod/web"}


def test_a_condition_without_its_own_time_takes_reconciled_at(neo4j_driver, writer):
    app = with_status(web_app(), sync="Unknown", health="Healthy", revision="6.5.4", reconciled=at(T0, 30),
                      rv_step=1, conditions=[{"type": "InvalidSpecError", "message": NIL_POINTER}])
    writer.write([obs(app)])
    assert rows(neo4j_driver, "MATCH (op:HelmOperation) RETURN toString(op.started_at) AS at") == [
        {"at": "2026-11-20T10:00:30Z"}]


def test_each_attempt_of_a_retried_sync_is_its_own_operation(neo4j_driver, writer):
    app = web_app(retry_limit=1)
    failed = failed_sync(app)["status"]["operationState"]
    waiting = dict(failed, phase="Running", retryCount=1,
                   message=failed["message"] + ". Retrying attempt #1 at 10:00AM.")
    retrying = {k: v for k, v in waiting.items() if k not in ("finishedAt", "syncResult")}
    final = dict(failed, retryCount=1, finishedAt=at(T0, 20), message=failed["message"] + " (retried 1 times).")
    states = [waiting, retrying, final]
    events = []
    for step, state in enumerate(states, start=1):
        event = with_status(app, sync="OutOfSync", health="Healthy", revision="6.5.4", reconciled=at(T0, step),
                            rv_step=step, operation=state)
        events.append(obs(event, "MODIFIED", at(T0, 10 * step)))
    writer.write(events)
    uid = app["metadata"]["uid"]
    assert rows(neo4j_driver, "MATCH (op:HelmOperation) RETURN op.operation_id AS id, op.status AS status, "
                              "op.said_by AS said_by ORDER BY id") == [
        {"id": f"argocd:{uid}:sync:{T0}:0", "status": "failed",
         "said_by": "Argo CD Application argocd/web: sync attempt failed, retry pending (phase Running, retryCount 1)"},
        {"id": f"argocd:{uid}:sync:{T0}:1", "status": "failed",
         "said_by": "Argo CD Application argocd/web: sync Failed, retryCount 1"}]


def diagnosed(driver, cfg) -> list[str]:
    return [d.pattern for d in Detector(driver, cfg).run("prod/web", None).diagnoses]


def test_a_later_succeeded_sync_supersedes_the_failed_one(neo4j_driver, neo4j_config, writer):
    app = web_app()
    writer.write([obs(failed_sync(app))])
    assert diagnosed(neo4j_driver, neo4j_config) != []
    writer.write([obs(succeeded_sync(app, started=at(T0, 600), rv_step=2), "MODIFIED", at(T0, 610))])
    assert rows(neo4j_driver, "MATCH (op:HelmOperation) RETURN op.status AS s ORDER BY op.started_at") == [
        {"s": "failed"}, {"s": "succeeded"}]
    assert diagnosed(neo4j_driver, neo4j_config) == []


# --- the webhook receiver's node, and replays -----------------------------------------------------------------


def test_a_webhook_delivery_and_the_watched_application_meet_on_one_argo_app(neo4j_driver, writer):
    app = failed_sync(web_app())
    body = json.loads(argocd_body(app))
    delivery = Observation("webhook", "argocd", normalize.argocd("d-1", body, at(T0, 6)), at(T0, 6), "webhook")
    writer.write([delivery, obs(app, "MODIFIED", at(T0, 7))])
    assert rows(neo4j_driver, """
        MATCH (argo:ArgoApp)
        OPTIONAL MATCH (argo)-[:RENDERS]->(r:Release)
        OPTIONAL MATCH (argo)-[:WATCHED_AS]->(a:Application)-[:DEPLOYS]->(r2:Release)
        RETURN argo.key AS key, argo.sync_status AS sync, argo.release_name AS release, collect(DISTINCT r.key) AS
               renders, collect(DISTINCT a.name) AS watched, collect(DISTINCT r2.key) AS deploys""") == [
        {"key": "argocd/web", "sync": "OutOfSync", "release": "web", "renders": ["prod/web"], "watched": ["web"],
         "deploys": ["prod/web"]}]


def snapshot(driver) -> tuple[list[str], list[str]]:
    nodes = rows(driver, "MATCH (n) RETURN labels(n) AS l, properties(n) AS p")
    links = rows(driver, "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, elementId(a) AS a, "
                         "elementId(b) AS b")
    ids = {}
    for node in rows(driver, "MATCH (n) RETURN elementId(n) AS id, labels(n) AS l, properties(n) AS p"):
        ids[node["id"]] = json.dumps([node["l"], node["p"]], sort_keys=True, default=str)
    return (sorted(json.dumps(n, sort_keys=True, default=str) for n in nodes),
            sorted(f"{ids[r['a']]} -{r['t']} {json.dumps(r['p'], sort_keys=True, default=str)}-> {ids[r['b']]}"
                   for r in links))


def test_replaying_the_same_watch_twice_gives_the_same_graph(neo4j_driver, writer):
    app = web_app()
    deploy = tracked(f.deployment("web", "prod", created=T0), "web")
    events = [obs(app), obs(deploy), obs(failed_sync(app), "MODIFIED", at(T0, 5)),
              obs(with_status(app, sync="Unknown", health="Healthy", revision="6.5.4", reconciled=at(T0, 40), rv_step=2,
                              conditions=[condition("ComparisonError", NIL_POINTER, at(T0, 35))]), "MODIFIED",
                  at(T0, 41)),
              obs(succeeded_sync(app, started=at(T0, 600), rv_step=3), "MODIFIED", at(T0, 610))]
    writer.write(copy.deepcopy(events))
    first = snapshot(neo4j_driver)
    writer.write(copy.deepcopy(events))
    assert snapshot(neo4j_driver) == first
    assert len([n for n in first[0] if "HelmOperation" in n]) == 3


# Argo CD users' words, as the Application's status carries them, each with its thread: the classifier must give
# them the family helm's own words of the same failure get.
ARGO_CD_WORDS = [
    # https://github.com/argoproj/argo-cd/issues/1057 (a ComparisonError)
    ('rpc error: code = Unknown desc = Error: render error in "helloworld/templates/deployment.yaml": template: '
     'helloworld/templates/deployment.yaml:24:27: executing "helloworld/templates/deployment.yaml" at '
     "<.Values.image.reposi...>: can't evaluate field repository in type interface {}", "template_nil_pointer"),
    # https://github.com/mabusaa/argocd-course-issues-tracker/issues/56 (a ComparisonError, Argo CD v3's frame)
    ("Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
     "failed to execute helm template command: failed to get command args to log: `helm template . --name-template "
     "falco --namespace {{namespace}} --kube-version 1.33 <api versions removed> --include-crds` failed exit status 1: "
     "Error: YAML parse error on falco/charts/falco/templates/clusterrolebinding.yaml: error converting YAML to JSON: "
     'yaml: invalid map key: map[interface {}]interface {}{"namespace":interface {}(nil)} Use --debug flag to render '
     "out invalid YAML", "yaml_parse"),
    # https://github.com/argoproj/argo-cd/issues/20899 (operationState.message)
    ('one or more objects failed to apply, reason: StatefulSet.apps "postgresql" is invalid: spec: Forbidden: updates '
     "to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
     "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden (retried 5 times).",
     "forbidden_update"),
    # https://github.com/thoth-station/thoth-application/issues/274 (a sync result's message)
    (IMMUTABLE.replace('"web"', '"workflow-controller"'), "immutable_field"),
    # https://github.com/argoproj/argo-cd/issues/2150 (a sync result's message, Argo CD 1.1)
    ('The Service "ingress-nginx-nginx-ingress-controller" is invalid: spec.clusterIP: Invalid value: "": field is '
     "immutable", "immutable_field"),
    # https://github.com/argoproj/argo-cd/issues/12729 (a sync result's message before Argo CD 2.7)
    ("the server could not find the requested resource", "missing_crd"),
    # https://github.com/argoproj/argo-cd/pull/25561 (server-side apply's conflict)
    ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.template.spec.'
     'containers[name="argocd-applicationset-controller"].env[name="NAMESPACE"].valueFrom.fieldRef', "apply_conflict"),
]


@pytest.mark.parametrize("words,family", ARGO_CD_WORDS, ids=[family for _, family in ARGO_CD_WORDS])
def test_argo_cd_users_words_are_classified_like_helms(words, family):
    assert helm_errors.classify(words, "web", "prod").family == family


def test_the_generated_argocd_scenarios_are_current():
    assert generate_argocd.main(["--check"]) == 0

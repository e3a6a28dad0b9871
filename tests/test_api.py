"""The REST API of `kgrca serve` on a real Neo4j: each endpoint, its errors, and the OpenAPI document."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from faces.api.app import close_app, create_app
from faces.api.openapi import document
from faces.api.process import free_port, serving
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from kgrca.graphdb import connect
from tests import factories as f
from tests.fixtures.servers import wipe

pytestmark = pytest.mark.neo4j


def obs(obj: dict, at: str = "2026-11-20T10:05:00Z") -> Observation:
    return Observation("k8s", "ADDED", obj, at, f"test:{obj['kind']}/{obj['metadata']['name']}")


def failed_upgrade() -> list[Observation]:
    """Revision 7 of prod/api failed: its pre-upgrade hook Job's pod cannot pull its image."""
    deploy = f.deployment("api", release="api")
    rs = f.replicaset(deploy)
    app_pod = f.pod("api-7d4b9c-x1", owner_obj=rs, labels={"app": "api"})
    hook_job = f.job("api-migrate", hook="pre-upgrade", failed=1, failed_reason="BackoffLimitExceeded",
                     created="2026-11-20T10:00:02Z")
    hook_pod = f.pod("api-migrate-abcde", owner_obj=hook_job, phase="Pending", ready=False,
                     image="registry.example/migrate:404", waiting="ImagePullBackOff",
                     waiting_message='Back-off pulling image "registry.example/migrate:404"',
                     created="2026-11-20T10:00:03Z")
    manifest = f.manifest(("apps/v1", "Deployment", "api"), ("v1", "Service", "api"))
    rev6 = f.release_json("api", "prod", 6, "deployed", manifest=manifest, last_deployed="2026-11-19T10:00:00Z")
    rev7 = f.release_json("api", "prod", 7, "failed", manifest=manifest,
                          description='Upgrade "api" failed: pre-upgrade hooks failed: 1 error occurred:\n\t* '
                                      'job api-migrate failed: BackoffLimitExceeded',
                          hooks=[f.hook("api-migrate", ["pre-upgrade"], phase="Failed",
                                        started="2026-11-20T10:00:01.5Z", completed="2026-11-20T10:05:00Z")],
                          last_deployed="2026-11-20T10:00:00Z")
    pull = f.event(hook_pod, "Failed", 'Failed to pull image "registry.example/migrate:404": manifest unknown')
    backoff = f.event(hook_pod, "BackOff", 'Back-off pulling image "registry.example/migrate:404"', count=12)
    return [obs(o) for o in (deploy, rs, app_pod, hook_job, hook_pod, f.release_secret(rev6),
                             f.release_secret(rev7), pull, backoff)]


def healthy_and_pending() -> list[Observation]:
    """prod/web: one deployed revision, its Deployment ready. staging/api: revision 3 pending-upgrade."""
    web = f.deployment("web", release="web")
    web_rev = f.release_json("web", "prod", 1, "deployed", description="Install complete",
                             manifest=f.manifest(("apps/v1", "Deployment", "web")),
                             last_deployed="2026-11-20T08:00:00Z")
    staging = [f.release_json("api", "staging", v, s, last_deployed=f"2026-11-20T0{v}:00:00Z")
               for v, s in ((2, "deployed"), (3, "pending-upgrade"))]
    return [obs(o) for o in (web, f.release_secret(web_rev), *(f.release_secret(r) for r in staging))]


@pytest.fixture(scope="module")
def graph(neo4j_config):
    """One graph for the module: every test here only reads it (the wipe is the servers plugin's)."""
    driver = connect(neo4j_config)
    try:
        wipe(driver, neo4j_config.neo4j_database)
        apply_schema(driver)
        stats = Neo4jWriter(driver).write(failed_upgrade() + healthy_and_pending())
        assert not stats.rejected
        yield driver
    finally:
        driver.close()


@pytest.fixture
def client(neo4j_config, graph):
    return create_app(neo4j_config, driver=graph).test_client()


def test_releases_are_listed_sorted_and_filtered_by_status_and_namespace(client):
    body = client.get("/api/v1/releases").get_json()
    assert [r["key"] for r in body["releases"]] == ["prod/api", "prod/web", "staging/api"]
    assert body["total"] == 3
    assert {r["key"]: r["status"] for r in body["releases"]} == {
        "prod/api": "failed", "prod/web": "deployed", "staging/api": "pending-upgrade"}
    failed = client.get("/api/v1/releases?status=failed").get_json()
    assert [(r["key"], r["latest_version"]) for r in failed["releases"]] == [("prod/api", 7)]
    staging = client.get("/api/v1/releases?namespace=staging").get_json()
    assert [r["key"] for r in staging["releases"]] == ["staging/api"]
    page = client.get("/api/v1/releases?limit=1&offset=1").get_json()
    assert [r["key"] for r in page["releases"]] == ["prod/web"] and page["total"] == 3


@pytest.mark.parametrize("query, named", [("status=broken", "status"), ("limit=0", "limit"),
                                          ("limit=ten", "limit"), ("offset=-1", "offset"),
                                          ("namespace=Not_A_Namespace", "namespace")])
def test_bad_list_parameters_are_400_naming_the_parameter(client, query, named):
    response = client.get(f"/api/v1/releases?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(named)
    assert response.get_json()["status"] == 400


def test_one_release_with_its_newest_revision(client):
    body = client.get("/api/v1/releases/prod/api").get_json()
    assert body["key"] == "prod/api" and body["status"] == "failed" and body["latest_version"] == 7
    assert body["revisions"] == 2
    assert body["last_deployed"].startswith("2026-11-20T10:00:00")
    assert body["incidents"] == [] and body["argo_apps"] == []


@pytest.mark.parametrize("suffix", ["", "/diagnosis", "/timeline", "/revisions"])
def test_unknown_release_is_404_with_a_clear_message(client, suffix):
    response = client.get(f"/api/v1/releases/prod/nothing-here{suffix}")
    assert response.status_code == 404
    assert "no release prod/nothing-here in the graph" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/releases/Prod/api", "/api/v1/releases/prod/API_v2/timeline",
                                  "/api/v1/releases/prod/api/timeline?since=yesterday",
                                  "/api/v1/releases/prod/api/timeline?limit=0",
                                  "/api/v1/releases/prod/api/diagnosis?now=soon"])
def test_bad_names_and_times_are_400(client, path):
    response = client.get(path)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]


def test_revisions_newest_first_with_hooks(client):
    body = client.get("/api/v1/releases/prod/api/revisions").get_json()
    assert body["release"] == "prod/api"
    assert [(r["version"], r["status"]) for r in body["revisions"]] == [(7, "failed"), (6, "deployed")]
    hooks = body["revisions"][0]["hooks"]
    assert [(h["name"], h["phase"], h["events"]) for h in hooks] == [("api-migrate", "Failed", ["pre-upgrade"])]
    assert body["revisions"][1]["hooks"] == []


def test_timeline_puts_revisions_hooks_jobs_pod_states_and_events_on_one_axis(client):
    items = client.get("/api/v1/releases/prod/api/timeline").get_json()["items"]
    times = [item["at"] for item in items]
    assert times == sorted(times)
    kinds = {item["type"] for item in items}
    assert {"revision", "hook", "hook_job", "pod_state", "event", "condition", "object"} <= kinds
    texts = [item["what"] for item in items]
    assert texts.index("revision 6 deployed: Upgrade complete") < next(
        i for i, t in enumerate(texts) if t.startswith("revision 7 failed"))
    assert any("api-migrate-abcde" in t and "ImagePullBackOff" in t for t in texts)
    assert any(t.startswith("Warning BackOff on Pod api-migrate-abcde") and "(x12)" in t for t in texts)
    assert "Job api-migrate created for hook api-migrate" in texts
    window = client.get("/api/v1/releases/prod/api/timeline?since=2026-11-20T10:00:01Z&until=2026-11-20T10:00:02Z")
    assert [i["what"] for i in window.get_json()["items"]] == [
        "hook Job/api-migrate (pre-upgrade) of revision 7 started",
        "Job api-migrate Failed=True BackoffLimitExceeded: Job has reached the specified backoff limit",
        "Job api-migrate created for hook api-migrate", "Job api-migrate created"]


def test_diagnosis_is_the_detectors_json_best_first(client):
    response = client.get("/api/v1/releases/prod/api/diagnosis")
    assert response.status_code == 200, response.get_json()
    diagnoses = response.get_json()
    assert diagnoses, "a failed hook whose pod cannot pull its image must be diagnosed"
    assert [d["confidence"] for d in diagnoses] == sorted((d["confidence"] for d in diagnoses), reverse=True)
    best = diagnoses[0]
    assert best["type"] == "operational" and best["source"] == "kgrca"
    assert best["release"]["name"] == "api" and best["release"]["to_version"] == 7
    assert (best["shape"], best["pattern"]) == ("hook_failure", "hook_image_pull")  # the Helm shape and its cause
    assert set(best["root_cause"]) >= {"summary", "details", "evidence", "impact", "resolution"}
    assert all(d["release"]["namespace"] == "prod" and d["release"]["name"] == "api" for d in diagnoses)


def test_a_healthy_release_has_no_diagnosis(client):
    response = client.get("/api/v1/releases/prod/web/diagnosis")
    assert response.status_code == 200
    assert response.get_json() == []


def test_neo4j_down_is_503_with_the_one_line_reason(neo4j_config):
    port = free_port(19000, 19999)  # nothing listens there: the driver's connection is refused
    down = neo4j_config.replace(neo4j_uri=f"bolt://127.0.0.1:{port}")
    app = create_app(down)
    client = app.test_client()
    for path in ("/api/v1/releases", "/api/v1/releases/prod/api/diagnosis", "/readyz"):
        response = client.get(path)
        assert response.status_code == 503, path
        error = response.get_json()["error"]
        assert error.startswith(f"Neo4j is not answering at bolt://127.0.0.1:{port}") and "\n" not in error
    assert client.get("/healthz").status_code == 200
    close_app(app)


def test_probes(client):
    assert client.get("/healthz").get_json() == {"status": "alive"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_unknown_route_and_method_are_json_errors(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404 and "openapi.json" in response.get_json()["error"]
    response = client.delete("/api/v1/releases")
    assert response.status_code == 405 and response.get_json()["status"] == 405


def test_openapi_describes_every_route_and_only_those(neo4j_config):
    app = create_app(neo4j_config)
    close_app(app)  # only its routes are looked at
    DOCUMENT = document(app)  # generated from the routes' docstrings and the models
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert routes == documented
    served = app.test_client().get("/api/v1/openapi.json").get_json()
    assert served["openapi"].startswith("3.") and served["paths"].keys() == DOCUMENT["paths"].keys()
    text = json.dumps(DOCUMENT)
    for ref in set(re.findall(r'"#/components/schemas/(\w+)"', text)):
        assert ref in DOCUMENT["components"]["schemas"], ref
    for path, item in DOCUMENT["paths"].items():
        for parameter in re.findall(r"{(\w+)}", path):
            assert any(p["name"] == parameter and p["in"] == "path" for p in item["get"]["parameters"]), path


def test_the_real_server_answers_over_http(neo4j_config, graph, tmp_path):
    with serving(neo4j_config, workers=2, log_path=tmp_path / "serve.log") as base:
        with urllib.request.urlopen(base + "/api/v1/releases?status=failed", timeout=30) as response:
            assert response.status == 200
            assert [r["key"] for r in json.load(response)["releases"]] == ["prod/api"]
        with urllib.request.urlopen(base + "/api/v1/releases/prod/api/diagnosis", timeout=120) as response:
            assert json.load(response)[0]["release"]["to_version"] == 7
        with urllib.request.urlopen(base + "/readyz", timeout=30) as response:
            assert response.status == 200
        try:
            urllib.request.urlopen(base + "/api/v1/releases/prod/none", timeout=30)
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404 and "no release prod/none" in json.load(exc)["error"]


def run_serve(cfg, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "faces.cli", "serve", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **cfg.environ(), **env})


def test_serve_stops_with_one_line_on_a_port_in_use_or_a_bad_report_schedule(neo4j_config):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve(neo4j_config, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"kgrca: port {port} on 127.0.0.1 is in use: stop what listens there or "
                                     "choose another with --port / KGRCA_HTTP_PORT")
    result = run_serve(neo4j_config, "--port", str(free_port()), KGRCA_REPORT_SCHEDULE="every day")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("kgrca: report_schedule='every day': expected a cron")

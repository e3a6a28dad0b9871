"""The diagnosis contract as a typed model (kgrca/diagnosis.py): its JSON form, its published JSON Schema
(docs/diagnosis.schema.json, `kgrca schema diagnosis`) and the OpenAPI document generated from it.

What integrators rely on: the JSON keeps its keys, nesting and nulls; the schema file is what the model says;
every golden scenario's diagnoses validate against that file.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from flask import Flask
from openapi_spec_validator import validate as validate_openapi

from faces import cli
from faces.api import openapi
from faces.commands import schema
from kgrca.contracts import Diagnosis
from rca import gitops_context
from rca.runner import headline, rank
from tests.scenarios import suite

SCHEMA = json.loads(schema.FILES["diagnosis"].read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def detected(**overrides) -> Diagnosis:
    """A diagnosis built as rca/runner.py builds one: flat keywords, release by key only."""
    fields = dict(pattern="hook_image_pull", title="Hook image cannot be pulled", severity="high",
                  confidence=0.92349, tags=["helm", "hooks"], summary="pre-upgrade hook api-migrate cannot pull",
                  details="", evidence=[{"kind": "Event", "name": "api-migrate-abcde", "at": "2026-11-20T10:00:05Z",
                                         "text": "Failed to pull image \"registry.example/migrate:404\""}],
                  impact="The upgrade is stuck.", resolution=[], release={"key": "prod/api"},
                  subject={"kind": "Pod", "namespace": "prod", "name": "api-migrate-abcde"},
                  operation_id=None, shape="hook_failure",
                  event_chain=[{"at": "2026-11-20T10:00:01Z", "what": "hook api-migrate started"}])
    return Diagnosis(**{**fields, **overrides})


def test_the_json_form_keeps_its_keys_nesting_and_nulls():
    diagnosis = detected()
    # what the runner does next: the release from the graph, the resolution, a folded consequence
    diagnosis.release = {"name": "api", "namespace": "prod", "operation": "upgrade", "from_version": 6,
                         "to_version": 7, "status": "failed"}
    diagnosis.resolution = ["helm rollback api 6 -n prod"]
    diagnosis.consequences.append({"pattern": "wait_timeout", "shape": "wait_timeout", "summary": "timed out",
                                   "confidence": 0.5})
    assert diagnosis.to_json() == {
        "type": "operational", "severity": "high", "source": "kgrca", "shape": "hook_failure",
        "pattern": "hook_image_pull", "title": "Hook image cannot be pulled", "confidence": 0.923,
        "tags": ["helm", "hooks"],
        "release": {"name": "api", "namespace": "prod", "operation": "upgrade", "from_version": 6, "to_version": 7,
                    "status": "failed"},
        "subject": {"kind": "Pod", "namespace": "prod", "name": "api-migrate-abcde"},
        "root_cause": {"summary": "pre-upgrade hook api-migrate cannot pull", "details": "",
                       "evidence": [{"kind": "Event", "name": "api-migrate-abcde", "text": "Failed to pull image "
                                     "\"registry.example/migrate:404\"", "at": "2026-11-20T10:00:05Z"}],
                       "impact": "The upgrade is stuck.", "resolution": ["helm rollback api 6 -n prod"]},
        "correlation": {"operation_id": None, "confidence": 0.923,
                        "event_chain": [{"at": "2026-11-20T10:00:01Z", "what": "hook api-migrate started"}]},
        "consequences": [{"pattern": "wait_timeout", "shape": "wait_timeout", "summary": "timed out",
                          "confidence": 0.5}],
    }
    assert list(diagnosis.to_json()) == ["type", "severity", "source", "shape", "pattern", "title", "confidence",
                                         "tags", "release", "subject", "root_cause", "correlation", "consequences"]
    assert list(VALIDATOR.iter_errors(diagnosis.to_json())) == []


def test_keys_present_when_observed_stay_absent_otherwise():
    diagnosis = detected(release={"name": "api", "namespace": "prod", "operation": "upgrade", "from_version": 3,
                                  "to_version": 4, "status": "failed"})
    release = diagnosis.to_json()["release"]
    assert not {"context", "controller", "rolled_back_to", "current_version", "cluster"} & release.keys()
    # a rollback whose description names no revision: rolled_back_to is there, and null
    headline(diagnosis, {"version": 4, "from_version": 3, "command": "upgrade", "now": 5,
                         "now_description": "no rollback words"})
    release = diagnosis.to_json()["release"]
    assert release["rolled_back_to"] is None and release["current_version"] == 5
    assert diagnosis.summary.startswith("the upgrade to revision 4 failed and was rolled back (now revision 5)")
    gitops_context.apply(diagnosis, {"argocd": {"namespace": "argocd", "name": "api", "auto_sync": True}})
    assert diagnosis.to_json()["release"]["controller"] == {"kind": "Application", "controller": "argocd",
                                                            "namespace": "argocd", "name": "api", "auto_sync": True}
    assert diagnosis.to_json()["root_cause"]["resolution"][-1] == "argocd app sync api"
    assert list(VALIDATOR.iter_errors(diagnosis.to_json())) == []


def test_the_json_form_reads_back_into_the_same_model():
    first, second = detected(), detected(pattern="crashloop", shape=None, confidence=0.7)
    first.release = {"name": "api", "namespace": "prod", "operation": None, "from_version": None,
                     "to_version": None, "status": None}
    second.release = dict(first.release)
    ranked = rank([second, first], {"hook_image_pull": ("crashloop",)})
    assert [d.pattern for d in ranked] == ["hook_image_pull"]
    data = json.loads(json.dumps(ranked[0].to_json()))
    again = Diagnosis.model_validate(data)
    assert again.to_json() == data
    assert again.summary == first.summary and again.evidence == first.evidence
    assert again.consequences[0]["pattern"] == "crashloop"


def test_the_schema_refuses_what_kgrca_never_gives():
    good = detected(release={"name": "api", "namespace": "prod", "operation": "install", "from_version": None,
                             "to_version": 1, "status": "failed"}).to_json()
    assert VALIDATOR.is_valid(good)
    for path, value in ((("severity",), "urgent"), (("shape",), "sideways"), (("confidence",), 1.5),
                        (("root_cause", "resolution"), "helm rollback"), (("correlation", "event_chain"), [{}])):
        bad = json.loads(json.dumps(good))
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert not VALIDATOR.is_valid(bad), path
    missing = json.loads(json.dumps(good))
    del missing["release"]["status"]  # always given, null when unknown
    assert not VALIDATOR.is_valid(missing)


def test_the_published_schema_is_generated_from_the_model():
    assert schema.FILES["diagnosis"].read_text(encoding="utf-8") == schema.text("diagnosis"), \
        "docs/diagnosis.schema.json is stale: run kgrca schema diagnosis --write"
    described = SCHEMA["$defs"]["RootCause"]["properties"]
    assert all(field.get("description") for field in described.values())
    assert all(field.get("description") for field in SCHEMA["properties"].values())


def test_the_published_openapi_document_is_generated_and_valid():
    generated = schema.text("openapi")
    assert schema.FILES["openapi"].read_text(encoding="utf-8") == generated, \
        "docs/openapi.json is stale: run kgrca schema openapi --write"
    document = json.loads(generated)
    validate_openapi(document)
    # the REST API's diagnosis is the same model as the CLI's
    same = json.loads(json.dumps(SCHEMA["properties"]).replace("#/$defs/", "#/components/schemas/"))
    assert document["components"]["schemas"]["Diagnosis"]["properties"] == same
    response = document["paths"]["/api/v1/releases/{namespace}/{name}/diagnosis"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Diagnosis"}}


def test_a_new_route_is_described_by_its_docstring_alone():
    app = Flask("probe")

    @app.get("/api/v1/things/<namespace>/<name>")
    def thing(namespace: str, name: str) -> str:
        """A thing.
        ---
        get:
          summary: One thing
          parameters: [namespace, name]
          responses:
            200: {description: the diagnoses, content: {application/json: {schema: {type: array, items: Diagnosis}}}}
            404: NoRelease
        """
        return ""

    @app.get("/undescribed")
    def undescribed() -> str:
        return ""

    document = openapi.document(app)
    operation = document["paths"]["/api/v1/things/{namespace}/{name}"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["namespace", "name"]
    assert operation["responses"]["404"] == {"$ref": "#/components/responses/NoRelease"}
    assert "/undescribed" not in document["paths"]  # so tests/test_api.py finds the route undescribed


def test_kgrca_schema_prints_the_documents(capsys):
    assert cli.main(["schema", "diagnosis"]) == 0
    assert json.loads(capsys.readouterr().out) == SCHEMA
    assert cli.main(["schema", "openapi"]) == 0
    assert json.loads(capsys.readouterr().out)["openapi"] == "3.1.0"


# --- every golden scenario's diagnoses against the published schema (a real Neo4j) --------------------------

FOLDERS = suite.discover()


@pytest.fixture(scope="module")
def schema_applied(neo4j_config):
    from kgrca.graphdb import connect

    driver = connect(neo4j_config)
    try:
        suite.prepare(driver, neo4j_config)
    finally:
        driver.close()


@pytest.mark.neo4j
@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_golden_diagnoses_validate_against_the_schema(folder, schema_applied, neo4j_driver, neo4j_config):
    scenario = suite.load(folder)
    suite.replay(neo4j_driver, neo4j_config, scenario)
    run = suite.diagnose(neo4j_driver, neo4j_config, scenario)
    for diagnosis in run.diagnoses:
        data = json.loads(json.dumps(diagnosis.to_json()))  # as a user receives it
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]
        assert problems == [], f"{scenario.name}: {diagnosis.pattern}: {problems}"
        assert Diagnosis.model_validate(data).to_json() == data

"""The OpenAPI 3.1 document of ``kgrca serve``, generated from the app's routes and the response models.

Each route describes itself in its view's docstring, after a ``---`` line, as the OpenAPI operation of each
of its methods (YAML; apispec's FlaskPlugin reads it)::

    @app.get("/api/v1/releases/<namespace>/<name>/revisions")
    def revisions(namespace: str, name: str) -> Any:
        '''The release's revisions.
        ---
        get:
          tags: [releases]
          summary: The release's revisions, newest first
          parameters: [namespace, name]                 # named parameters of PARAMETERS, inlined
          responses:
            200: {description: revisions, content: {application/json: {schema: RevisionList}}}
            400: BadRequest                             # named responses of RESPONSES
        '''

A schema named by a string is one of the models below or of kgrca/diagnosis.py (``Diagnosis``), so the
document and ``kgrca diagnose --json`` come from the same model. A new route needs no edit here; one whose
docstring has no operation is missing from the document, which tests/test_api.py finds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from apispec import APISpec
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from kgrca.diagnosis import Commit, Diagnosis, Incident

_REF = "#/components/schemas/{model}"

HelmStatus = Literal["unknown", "deployed", "uninstalled", "superseded", "failed", "uninstalling",
                     "pending-install", "pending-upgrade", "pending-rollback"]
_Time = Annotated[str | None, Field(description="RFC 3339", json_schema_extra={"format": "date-time"})]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    """Every error the API answers."""

    error: str = Field(description="one line: what is wrong and what to do")
    status: int = Field(description="the HTTP status, again")


class Health(BaseModel):
    status: Literal["alive", "ready"] = Field(description="alive (/healthz) or ready (/readyz)")


class ReleaseSummary(_Open):
    """A release as the graph holds it: its newest revision's state."""

    key: str = Field(description="namespace/name", examples=["prod/api"])
    namespace: str
    name: str
    status: str | None = Field(description="the newest revision's Helm status")
    latest_version: int | None = Field(description="the newest revision")
    description: str | None = Field(description="the newest revision's description, as helm wrote it")
    chart: str | None
    chart_version: str | None
    app_version: str | None
    last_deployed: _Time


class ReleaseList(BaseModel):
    releases: list[ReleaseSummary] = Field(description="sorted by namespace/name")
    total: int = Field(description="releases that match, over all pages")
    limit: int
    offset: int


class ReleaseDetail(ReleaseSummary):
    revisions: int = Field(description="how many revisions the graph holds")
    live_objects: int = Field(description="objects the release manages that are not deleted")
    argo_apps: list[dict[str, Any]] = Field(description="Argo CD Applications that render the release")
    incidents: list[Incident] = Field(description="Jira issues that name the release (with their open flag)")
    github_issues: list[dict[str, Any]] = Field(description="GitHub issues that name the release")


class Revision(_Open):
    key: str
    version: int
    status: str | None
    description: str | None
    chart: str | None
    chart_version: str | None
    app_version: str | None
    first_deployed: _Time
    last_deployed: _Time
    deleted: _Time
    values_keys: list[str] | None = Field(description="the top-level keys of the values it was given")
    values_hash: str | None
    storage: str | None = Field(description="where helm kept it (secret, configmap)")
    removed_at: _Time
    hooks: list[dict[str, Any]] = Field(description="its hooks: name, kind, events, weight, phase, times")
    commits: list[Commit] = Field(description="the commits it came from (Argo CD)")
    operations: list[dict[str, Any]] = Field(description="the helm operations that produced it (eBPF)")


class RevisionList(BaseModel):
    release: str = Field(description="namespace/name")
    revisions: list[Revision] = Field(description="newest first")


class TimelineSubject(_Open):
    kind: str
    namespace: str | None = None
    name: str | None


class TimelineItem(BaseModel):
    at: str = Field(description="RFC 3339", json_schema_extra={"format": "date-time"})
    type: Literal["revision", "hook", "hook_job", "object", "pod_state", "condition", "event", "helm_operation",
                  "argo_sync", "incident"]
    what: str = Field(description="what happened, in words taken from the graph")
    subject: TimelineSubject


class Timeline(BaseModel):
    release: str = Field(description="namespace/name")
    items: list[TimelineItem] = Field(description="oldest first")


class WebhookAccepted(BaseModel):
    status: Literal["accepted", "ok", "spooled"]
    provider: str
    event: str | None = None
    delivery: str | None = None
    reason: str | None = Field(None, description="why a spooled delivery was not stored at once")


MODELS: tuple[type[BaseModel], ...] = (Diagnosis, Error, Health, ReleaseList, ReleaseDetail, RevisionList, Timeline,
                                       WebhookAccepted)


def _json(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# Responses and parameters a docstring names by string.
RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": _json("Error", "a parameter is not valid; the message names it and the form expected"),
    "Unavailable": _json("Error", "Neo4j is not answering; the message says how to start it or where to point"),
    "NoRelease": _json("Error", "no release with this namespace and name in the graph"),
    "Unauthorized": _json("Error", "missing or wrong signature or token; nothing was stored"),
    "TooLarge": _json("Error", "the body is larger than webhook_max_bytes, with a Content-Length or chunked"),
    "WebhookOk": _json("WebhookAccepted", "a delivery that carries nothing to store (GitHub ping)"),
    "WebhookStored": _json("WebhookAccepted", "stored (or published to Kafka); a redelivery is accepted again and "
                                              "stored once. status 'spooled': not stored within "
                                              "webhook_store_timeout, kept in webhook_spool_dir and written when "
                                              "the sink answers"),
    "WebhookInvalid": _json("Error", "not JSON, nested deeper than 64 levels, an event this receiver does not "
                                     "handle, or a field of the wrong type (named)"),
    "WebhookUnavailable": _json("Error", "the sink (Neo4j or Kafka) did not take the delivery within "
                                         "webhook_store_timeout and no spool is configured; retry after "
                                         "Retry-After seconds"),
}
PARAMETERS: dict[str, dict[str, Any]] = {
    "namespace": {"name": "namespace", "in": "path", "required": True, "description": "the release's namespace",
                  "schema": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}},
    "name": {"name": "name", "in": "path", "required": True, "description": "the release's name",
             "schema": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 53}},
    "cluster": {"name": "cluster", "in": "path", "required": True, "description": "as its watcher's --cluster named it",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"}},
    "now": {"name": "now", "in": "query", "description": "judge ages as of this RFC 3339 time (default: now)",
            "schema": {"type": "string", "format": "date-time"}},
}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "githubSignature": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256"},
    "argocdToken": {"type": "http", "scheme": "bearer"},
    "jiraSecret": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature"},
}
DESCRIPTION = ("Knowledge-graph root-cause analysis for Helm releases on Kubernetes: releases, their diagnoses and "
               "timelines, and the webhook receivers that add deployment context (docs/rest-api.md, "
               "docs/webhooks.md). Errors are JSON: "
               '{"error": "<one line: what is wrong and what to do>", "status": <code>}. A diagnosis is '
               "kgrca.diagnosis.Diagnosis (docs/diagnosis.schema.json).")


def schemas() -> dict[str, dict[str, Any]]:
    """Every model's JSON Schema, by name, as OpenAPI components: what the API gives (serialization mode)."""
    _, top = models_json_schema([(model, "serialization") for model in MODELS], ref_template=_REF)
    return top["$defs"]


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app``: every route whose view describes its operations, sorted by path."""
    spec = APISpec(title="kgrca", version="1", openapi_version="3.1.0", plugins=[FlaskPlugin()],
                   info={"description": DESCRIPTION})
    for name, schema in schemas().items():
        spec.components.schema(name, schema)
    for name, response in RESPONSES.items():
        spec.components.response(name, response)
    for name, parameter in PARAMETERS.items():
        spec.components.parameter(name, parameter["in"], parameter)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if rule.endpoint != "static":
            spec.path(view=app.view_functions[rule.endpoint], app=app)
    doc = spec.to_dict()
    doc["paths"] = {path: item for path, item in doc["paths"].items() if item}
    for path, item in doc["paths"].items():
        for operation in item.values():
            # inlined so that each operation reads whole; a string names one of PARAMETERS
            operation["parameters"] = [_parameter(path, p) for p in operation.get("parameters", [])]
            if not operation["parameters"]:
                del operation["parameters"]
    return doc


def _parameter(path: str, parameter: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in parameter:
        return parameter
    name = parameter["$ref"].rsplit("/", 1)[1]
    if name not in PARAMETERS:
        raise ValueError(f"{path}: the docstring names parameter {name!r}, which is none of faces/api/openapi.py's "
                         f"PARAMETERS ({', '.join(PARAMETERS)}); describe it in full instead")
    return PARAMETERS[name]


def cached_document(app: Flask) -> dict[str, Any]:
    """``document(app)``, made once per app (the routes do not change once it serves)."""
    if "kgrca_openapi" not in app.extensions:
        app.extensions["kgrca_openapi"] = document(app)
    return app.extensions["kgrca_openapi"]

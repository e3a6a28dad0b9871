"""The OpenAPI 3 document of ``kgrca serve``, written by hand so it says what a user relies on.

tests/test_api.py checks that every route of the app is described here.
"""

from __future__ import annotations

from typing import Any

from kgrca.contracts import SHAPES

_REF = "#/components/schemas/"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json({"$ref": _REF + "Error"}, description)


_NS = {"name": "namespace", "in": "path", "required": True, "description": "the release's namespace",
       "schema": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}}
_NAME = {"name": "name", "in": "path", "required": True, "description": "the release's name",
         "schema": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 53}}
_COMMON_ERRORS = {"400": _error("a parameter is not valid; the message names it and the form expected"),
                  "503": _error("Neo4j is not answering; the message says how to start it or where to point")}
_RELEASE_ERRORS = {**_COMMON_ERRORS, "404": _error("no release with this namespace and name in the graph")}
_TIME = {"type": "string", "format": "date-time", "nullable": True}


def _webhook(summary: str, description: str, security: str, headers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"post": {
        "tags": ["webhooks"], "summary": summary, "description": description, "security": [{security: []}],
        "parameters": headers,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {
            "200": _json({"$ref": _REF + "WebhookAccepted"}, "a delivery that carries nothing to store (GitHub ping)"),
            "202": _json({"$ref": _REF + "WebhookAccepted"}, "stored (or published to Kafka); a redelivery is "
                                                              "accepted again and stored once. status 'spooled': "
                                                              "not stored within webhook_store_timeout, kept in "
                                                              "webhook_spool_dir and written when the sink answers"),
            "400": _error("not JSON, nested deeper than 64 levels, an event this receiver does not handle, or a "
                          "field of the wrong type (named)"),
            "401": _error("missing or wrong signature or token; nothing was stored"),
            "413": _error("the body is larger than webhook_max_bytes, with a Content-Length or chunked"),
            "503": _error("the sink (Neo4j or Kafka) did not take the delivery within webhook_store_timeout and "
                          "no spool is configured; retry after Retry-After seconds"),
        }}}


def _header(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description,
            "schema": {"type": "string"}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "kgrca", "version": "1",
             "description": "Knowledge-graph root-cause analysis for Helm releases on Kubernetes: releases, "
                            "their diagnoses and timelines, and the webhook receivers that add deployment "
                            "context (docs/rest-api.md, docs/webhooks.md). Errors are JSON: "
                            '{"error": "<one line: what is wrong and what to do>", "status": <code>}.'},
    "paths": {
        "/api/v1/releases": {"get": {
            "tags": ["releases"], "summary": "List releases, filtered by status and namespace",
            "parameters": [
                {"name": "status", "in": "query", "description": "only releases whose newest revision has "
                 "this Helm status", "schema": {"$ref": _REF + "HelmStatus"}},
                {"name": "namespace", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5000,
                                                            "default": 500}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
            ],
            "responses": {"200": _json({"$ref": _REF + "ReleaseList"}, "releases sorted by namespace/name"),
                          **_COMMON_ERRORS}}},
        "/api/v1/releases/{namespace}/{name}": {"get": {
            "tags": ["releases"], "summary": "One release: its newest revision's state and its context",
            "parameters": [_NS, _NAME],
            "responses": {"200": _json({"$ref": _REF + "ReleaseDetail"}, "the release"), **_RELEASE_ERRORS}}},
        "/api/v1/releases/{namespace}/{name}/diagnosis": {"get": {
            "tags": ["releases"], "summary": "What broke the release, why, the evidence and what to run",
            "description": "The diagnoses of every failure pattern that matches this release, best first "
                           "(the same JSON as `kgrca diagnose --release NS/NAME --json`). An empty list "
                           "means nothing is wrong.",
            "parameters": [_NS, _NAME, {"name": "now", "in": "query", "description": "judge ages as of this "
                                        "RFC 3339 time (default: now)", "schema": {"type": "string",
                                                                                   "format": "date-time"}}],
            "responses": {"200": _json({"type": "array", "items": {"$ref": _REF + "Diagnosis"}},
                                       "diagnoses, best first"), **_RELEASE_ERRORS}}},
        "/api/v1/releases/{namespace}/{name}/timeline": {"get": {
            "tags": ["releases"], "summary": "Everything that happened to the release, on one time axis",
            "description": "Revisions, hooks, hook jobs, objects created and deleted, container states, "
                           "conditions, events, helm operations, Argo CD syncs and incidents, oldest first.",
            "parameters": [_NS, _NAME,
                           {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                           {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": 10000, "default": 1000}}],
            "responses": {"200": _json({"$ref": _REF + "Timeline"}, "items sorted by time"), **_RELEASE_ERRORS}}},
        "/api/v1/releases/{namespace}/{name}/revisions": {"get": {
            "tags": ["releases"], "summary": "The release's revisions, newest first",
            "parameters": [_NS, _NAME],
            "responses": {"200": _json({"$ref": _REF + "RevisionList"}, "revisions, newest first"),
                          **_RELEASE_ERRORS}}},
        "/api/v1/openapi.json": {"get": {
            "tags": ["meta"], "summary": "This document",
            "responses": {"200": {"description": "the OpenAPI 3 document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/healthz": {"get": {
            "tags": ["meta"], "summary": "Liveness: the process answers",
            "responses": {"200": _json({"$ref": _REF + "Health"}, "alive")}}},
        "/readyz": {"get": {
            "tags": ["meta"], "summary": "Readiness: Neo4j answers",
            "responses": {"200": _json({"$ref": _REF + "Health"}, "ready"),
                          "503": _error("Neo4j is not answering (within serve_neo4j_acquire_timeout, at most "
                                        "serve_neo4j_transaction_timeout)")}}},
        "/metrics": {"get": {
            "tags": ["meta"], "summary": "Prometheus metrics: the webhook spool's depth, oldest age, rejected files",
            "responses": {"200": {"description": "Prometheus text format",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/webhooks/github": _webhook(
            "GitHub webhook: push, pull_request, issues, deployment, deployment_status, workflow_job, workflow_run "
            "(and ping)",
            "Signed with the webhook's secret (X-Hub-Signature-256, HMAC-SHA256 of the body); deduplicated by "
            "X-GitHub-Delivery.", "githubSignature",
            [_header("X-GitHub-Event", "the event name", True), _header("X-GitHub-Delivery", "the delivery id", True),
             _header("X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the body>", True)]),
        "/webhooks/argocd": _webhook(
            "Argo CD Notifications webhook, rendered from the template in docs/webhooks.md",
            "Authorized with a bearer token; a resent body is the same delivery.", "argocdToken",
            [_header("Authorization", "Bearer <argocd_webhook_token>", True)]),
        "/webhooks/jira": _webhook(
            "Jira webhook: jira:issue_created, jira:issue_updated",
            "Authorized by Jira Cloud's X-Hub-Signature (HMAC-SHA256 of the body with the webhook's secret), "
            "or the secret as ?secret= or 'Authorization: Bearer <secret>'. Deduplicated by "
            "X-Atlassian-Webhook-Identifier, or by the body's SHA-256.", "jiraSecret",
            [_header("X-Hub-Signature", "sha256=<hex HMAC-SHA256 of the body>"),
             _header("X-Atlassian-Webhook-Identifier", "Jira Cloud's delivery id"),
             {"name": "secret", "in": "query", "required": False, "schema": {"type": "string"},
              "description": "the shared secret, where the sender cannot sign"}]),
    },
    "components": {
        "securitySchemes": {
            "githubSignature": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256"},
            "argocdToken": {"type": "http", "scheme": "bearer"},
            "jiraSecret": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature"},
        },
        "schemas": {
            "Error": {"type": "object", "required": ["error", "status"], "properties": {
                "error": {"type": "string", "description": "one line: what is wrong and what to do"},
                "status": {"type": "integer"}}},
            "Health": {"type": "object", "properties": {"status": {"type": "string"}}},
            "HelmStatus": {"type": "string", "enum": ["unknown", "deployed", "uninstalled", "superseded", "failed",
                                                      "uninstalling", "pending-install", "pending-upgrade",
                                                      "pending-rollback"]},
            "Release": {"type": "object", "properties": {
                "key": {"type": "string", "example": "prod/api"}, "namespace": {"type": "string"},
                "name": {"type": "string"}, "status": {"type": "string", "nullable": True},
                "latest_version": {"type": "integer", "nullable": True},
                "description": {"type": "string", "nullable": True}, "chart": {"type": "string", "nullable": True},
                "chart_version": {"type": "string", "nullable": True},
                "app_version": {"type": "string", "nullable": True}, "last_deployed": _TIME}},
            "ReleaseList": {"type": "object", "properties": {
                "releases": {"type": "array", "items": {"$ref": _REF + "Release"}},
                "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
            "ReleaseDetail": {"allOf": [{"$ref": _REF + "Release"}, {"type": "object", "properties": {
                "revisions": {"type": "integer"}, "live_objects": {"type": "integer"},
                "argo_apps": {"type": "array", "items": {"type": "object"}},
                "incidents": {"type": "array", "items": {"$ref": _REF + "Incident"}},
                "github_issues": {"type": "array", "items": {"type": "object"}}}}]},
            "Incident": {"type": "object", "properties": {
                "key": {"type": "string"}, "summary": {"type": "string"}, "status": {"type": "string"},
                "priority": {"type": "string", "nullable": True}, "url": {"type": "string"},
                "open": {"type": "boolean"}}},
            "Commit": {"type": "object", "properties": {
                "sha": {"type": "string"}, "message": {"type": "string", "nullable": True},
                "author": {"type": "string", "nullable": True}, "url": {"type": "string", "nullable": True},
                "at": _TIME, "repo": {"type": "string", "nullable": True}}},
            "Revision": {"type": "object", "properties": {
                "key": {"type": "string"}, "version": {"type": "integer"}, "status": {"type": "string"},
                "description": {"type": "string"}, "chart": {"type": "string"}, "chart_version": {"type": "string"},
                "app_version": {"type": "string"}, "first_deployed": _TIME, "last_deployed": _TIME,
                "deleted": _TIME, "values_keys": {"type": "array", "items": {"type": "string"}},
                "values_hash": {"type": "string"}, "storage": {"type": "string"}, "removed_at": _TIME,
                "hooks": {"type": "array", "items": {"type": "object"}},
                "commits": {"type": "array", "items": {"$ref": _REF + "Commit"}},
                "operations": {"type": "array", "items": {"type": "object"}}}},
            "RevisionList": {"type": "object", "properties": {
                "release": {"type": "string"}, "revisions": {"type": "array", "items": {"$ref": _REF + "Revision"}}}},
            "TimelineItem": {"type": "object", "required": ["at", "type", "what"], "properties": {
                "at": {"type": "string", "format": "date-time"},
                "type": {"type": "string", "enum": ["revision", "hook", "hook_job", "object", "pod_state",
                                                    "condition", "event", "helm_operation", "argo_sync",
                                                    "incident"]},
                "what": {"type": "string"},
                "subject": {"type": "object", "properties": {"kind": {"type": "string"},
                                                             "namespace": {"type": "string"},
                                                             "name": {"type": "string"}}}}},
            "Timeline": {"type": "object", "properties": {
                "release": {"type": "string"}, "items": {"type": "array", "items": {"$ref": _REF + "TimelineItem"}}}},
            "Diagnosis": {"type": "object", "description": "kgrca.contracts.Diagnosis.to_json()", "properties": {
                "type": {"type": "string", "enum": ["operational"]},
                "severity": {"type": "string", "enum": ["critical", "high", "medium", "low"]},
                "source": {"type": "string"},
                "shape": {"type": "string", "nullable": True, "enum": [*SHAPES, None],
                    "description": "the Helm shape this diagnosis explains when a Helm operation is involved; "
                                   "pattern is the specific cause"},
                "pattern": {"type": "string"}, "title": {"type": "string"},
                "confidence": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}},
                "release": {"type": "object", "nullable": True, "properties": {
                    "name": {"type": "string"}, "namespace": {"type": "string"},
                    "operation": {"type": "string", "nullable": True},
                    "from_version": {"type": "integer", "nullable": True},
                    "to_version": {"type": "integer", "nullable": True}, "status": {"type": "string", "nullable": True},
                    "rolled_back_to": {"type": "integer", "nullable": True,
                                       "description": "set when a rollback undid the failed operation"},
                    "current_version": {"type": "integer", "nullable": True,
                                        "description": "the revision the release runs now, after that rollback"},
                    "context": {"$ref": _REF + "ReleaseContext"},
                    "controller": {"$ref": _REF + "ReleaseController"}}},
                "subject": {"type": "object"},
                "root_cause": {"type": "object", "properties": {
                    "summary": {"type": "string"}, "details": {"type": "string"},
                    "evidence": {"type": "array", "items": {"type": "object"}}, "impact": {"type": "string"},
                    "resolution": {"type": "array", "items": {"type": "string"}}}},
                "correlation": {"type": "object", "properties": {
                    "operation_id": {"type": "string", "nullable": True}, "confidence": {"type": "number"},
                    "event_chain": {"type": "array", "items": {"type": "object"}}}},
                "consequences": {"type": "array", "items": {"type": "object"}}}},
            "ReleaseContext": {"type": "object", "description": "present when webhooks brought context",
                               "properties": {
                "commit": {"$ref": _REF + "Commit"},
                "pull_request": {"type": "object", "nullable": True},
                "argo_sync": {"type": "object", "nullable": True},
                "incidents": {"type": "array", "items": {"$ref": _REF + "Incident"}}}},
            "ReleaseController": {
                "type": "object", "description": "present when a GitOps controller deploys the release: the Flux "
                "HelmRelease or Argo CD Application and its retry state, as observed (a field the object does not "
                "set is absent)",
                "properties": {
                    "controller": {"type": "string", "enum": ["flux", "argocd"]},
                    "kind": {"type": "string", "enum": ["HelmRelease", "Application"]},
                    "namespace": {"type": "string"}, "name": {"type": "string"},
                    "suspended": {"type": "boolean"}, "stalled": {"type": "boolean"},
                    "install_failures": {"type": "integer"}, "upgrade_failures": {"type": "integer"},
                    "install_retries": {"type": "integer"}, "upgrade_retries": {"type": "integer"},
                    "auto_sync": {"type": "boolean"}, "retry_limit": {"type": "integer"},
                    "retry_count": {"type": "integer"}}},
            "WebhookAccepted": {"type": "object", "properties": {
                "status": {"type": "string", "enum": ["accepted", "ok", "spooled"]}, "provider": {"type": "string"},
                "event": {"type": "string"}, "delivery": {"type": "string"},
                "reason": {"type": "string", "description": "why a spooled delivery was not stored at once"}}},
        },
    },
}

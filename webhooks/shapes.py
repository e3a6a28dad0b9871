"""The shape of every field ``normalize`` reads from a delivery, checked before it reads any of them.

A signed sender can still send a body that is not what its documentation says (a proxy that rewrites it,
a test tool, a bug): ``commits`` as a number, ``author.username`` as an object, an id of 30 digits. Each
would reach a Python error or a Neo4j type error and a 500; checked here, it is a 400 naming the field,
and the sender's delivery log says what to fix.

A shape is a type (``str``, ``int``: a whole number Neo4j can store, ``bool``), ``ANY`` (read as text
whatever it is), a tuple of alternatives, ``{field: shape}`` for an object (other fields are ignored: they
are never read) or ``[shape]`` for a list of them. ``null`` fits every shape: a missing value is the
normalizer's to report when it needs it.
"""

from __future__ import annotations

from typing import Any

ANY = object()
INT64 = (-(2 ** 63), 2 ** 63 - 1)

# --- GitHub (docs.github.com "Webhook events and payloads") ---------------------------------------
_USER = {"login": str}
_REPOSITORY = {"full_name": str}
_COMMIT = {"id": str, "message": str, "timestamp": str, "url": str, "author": {"username": str, "name": str}}
GITHUB: dict[str, dict[str, Any]] = {
    "push": {"ref": str, "commits": [_COMMIT], "head_commit": _COMMIT},
    "pull_request": {"pull_request": {
        "number": int, "title": str, "state": str, "html_url": str, "merged": bool, "merge_commit_sha": str,
        "head": {"sha": str}, "base": {"ref": str}, "user": _USER, "merged_at": str, "updated_at": str}},
    "issues": {"issue": {"number": int, "title": str, "body": str, "state": str, "html_url": str,
                         "labels": [{"name": str}], "user": _USER, "created_at": str, "updated_at": str}},
    "deployment": {"deployment": {
        "id": int, "environment": str, "ref": str, "sha": str, "url": str, "description": str, "creator": _USER,
        "created_at": str, "task": str}},
    "workflow_job": {"workflow_job": {
        "id": int, "run_id": int, "name": str, "workflow_name": str, "status": str, "conclusion": str,
        "head_sha": str, "head_branch": str, "html_url": str, "started_at": str, "completed_at": str,
        "run_attempt": int, "steps": [{"name": str, "status": str, "conclusion": str}], "runner_name": str,
        "labels": [str]}},
    "workflow_run": {"workflow_run": {
        "id": int, "name": str, "display_title": str, "status": str, "conclusion": str, "head_sha": str,
        "head_branch": str, "html_url": str, "event": str, "run_started_at": str, "created_at": str,
        "updated_at": str, "path": str, "run_attempt": int, "run_number": int},
        "workflow": {"name": str, "path": str}},
}
GITHUB["deployment_status"] = {**GITHUB["deployment"], "deployment_status": {
    "state": str, "description": str, "created_at": str, "updated_at": str}}
GITHUB_COMMON = {"action": str, "repository": _REPOSITORY}

# --- Argo CD (the notification template, webhooks/argocd-body.tmpl) ----------------------------------
_SOURCE = {"repoURL": str, "chart": str, "targetRevision": str, "path": str,
           "helm": {"namespace": str, "releaseName": str}}
ARGOCD = {
    "app": str, "app_namespace": str, "project": str, "source_type": str,
    "destination": {"namespace": str, "server": str, "name": str}, "source": _SOURCE, "sources": [_SOURCE],
    "sync": {"status": str, "revision": str}, "health": {"status": str},
    "operation_state": {"phase": str, "message": str, "startedAt": str, "finishedAt": str,
                        "syncResult": {"revision": str, "revisions": [str], "source": _SOURCE},
                        "operation": {"sync": {"revision": str}}},
}

# --- Jira (developer.atlassian.com "Webhooks": issue events) -------------------------------------------
_NAMED = {"name": str}
JIRA = {"webhookEvent": str, "issue": {
    "key": str, "id": (str, int), "self": str,
    "fields": {"summary": str, "status": {"name": str, "statusCategory": {"key": str}}, "labels": [str],
               "components": [_NAMED], "priority": _NAMED, "issuetype": _NAMED, "created": str, "updated": str,
               # text or an Atlassian Document: read as text at any shape (depth is bounded before parsing)
               "description": ANY, "environment": ANY, "resolution": ANY}}}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_EXPECTED = {str: "a string", int: "a whole number", bool: "true or false"}


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and INT64[0] <= value <= INT64[1]
    return isinstance(value, kind)


def problem(value: Any, shape: Any, where: str = "") -> str | None:
    """None when ``value`` fits ``shape``, else ``field 'a.b[2].c': expected ..., got ...``."""
    if value is None or shape is ANY:
        return None
    name = where or "the payload"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            if not where:
                return f"the payload must be a JSON object, got {_kind(value)}"
            return f"field '{name}': expected an object, got {_kind(value)}"
        for key, inner in shape.items():
            found = problem(value.get(key), inner, f"{where}.{key}" if where else key)
            if found:
                return found
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"field '{name}': expected a list, got {_kind(value)}"
        for index, item in enumerate(value):
            found = problem(item, shape[0], f"{name}[{index}]")
            if found:
                return found
        return None
    kinds = shape if isinstance(shape, tuple) else (shape,)
    if any(_fits(value, kind) for kind in kinds):
        return None
    expected = " or ".join(_EXPECTED[kind] for kind in kinds)
    if int in kinds and isinstance(value, int) and not isinstance(value, bool):
        expected += " of at most 19 digits"  # Neo4j stores 64-bit integers
    return f"field '{name}': expected {expected}, got {_kind(value)}"

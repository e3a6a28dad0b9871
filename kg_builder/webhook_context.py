"""Rows for webhook deliveries: commits, pull requests, issues, Argo CD syncs and Jira incidents.

The receivers in ``webhooks/`` normalize each provider's delivery into the payload shapes below
(``webhooks/normalize.py`` writes them); this module maps them to the graph (docs/webhooks.md):

* ``(:Delivery {id, provider, event, received_at})``: one per delivery; MERGE on ``id`` is what makes a
  redelivery land once.
* ``(:Commit {sha, message, author, url, at, repo})``, ``(:PullRequest {key, ...})-[:MERGED_AS]->(:Commit)``,
  ``(:GitHubIssue {key, ...})``, ``(:GitHubDeployment {key, ...})-[:DEPLOYS]->(:Commit)``.
* ``(:ArgoApp {key: "ns/name"})-[:RENDERS]->(:Release)``, ``(:ArgoApp)-[:SYNCED {started_at, at, phase,
  message}]->(:Commit)`` and ``(:Revision)-[:FROM_COMMIT]->(:Commit)`` when a revision was deployed
  within a sync's time window. The link is made from both sides: here when the sync arrives, and by
  ``REVISION_FROM_SYNC`` when the revision arrives (same row as the Revision's own links).
* ``(:JiraIssue {key, ...})`` and ``(:GitHubIssue)`` ``-[:CONCERNS]->`` the releases and objects their text
  names. Matching happens here, in Cypher, against what the graph holds: sources never read the graph.
* GitHub Actions: ``(:CIJob {key: "owner/repo#<job id>"})`` and ``(:CIRun {key: "owner/repo#<run id>"})``
  ``-[:AT_COMMIT]->(:Commit)``, ``(:CIJob)-[:PART_OF]->(:CIRun)``, and ``-[:CONCERNS]->`` the releases their job,
  workflow and step names name (as issues do); ``(:GitHubDeployment)-[:CONCERNS]->`` likewise from its environment,
  task and descriptions. A job or run never moves back: a late ``in_progress`` does not overwrite ``completed``
  of the same attempt (``status_rank``: run attempt, then queued < waiting < in_progress < completed).

Freshness: issues and pull requests carry their ``updated`` time; an older delivery replayed after a
newer one does not move their properties backwards. A final sync phase is never overwritten by Running.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from kg_builder.statements import HISTORY, LINKS, NODES, Emitted, Statement
from kg_builder.times import parse_time
from kgrca.contracts import Observation, PermanentError

PROVIDERS = ("github", "argocd", "jira")
FINAL_PHASES = ("Succeeded", "Failed", "Error", "Terminating")
# A revision deployed this long before a sync started or after it finished still counts as its product
# (clock skew between Argo CD and the API server; helm writes the Secret while the sync runs).
SYNC_SLACK = "PT30S"
# A sync still running is assumed to cover at most this long after it started.
OPEN_SYNC = "PT1H"
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
# Words of the kind Kubernetes names are made of, optionally "namespace/name" or "Kind/name".
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?")
MAX_TOKENS = 400

DELIVERY = Statement("webhook_delivery", NODES, """
UNWIND $rows AS row
MERGE (d:Delivery {id: row.id})
ON CREATE SET d.provider = row.provider, d.event = row.event, d.received_at = row.received_at
""")

COMMIT = Statement("webhook_commit", NODES, """
UNWIND $rows AS row
MERGE (c:Commit {sha: row.sha})
SET c += row.props, c.placeholder = null
""")

PULL_REQUEST = Statement("webhook_pull_request", NODES, """
UNWIND $rows AS row
MERGE (pr:PullRequest {key: row.key})
WITH pr, row WHERE pr.updated_at IS NULL OR row.updated_at IS NULL OR pr.updated_at <= row.updated_at
SET pr += row.props
""")

MERGED_AS = Statement("webhook_merged_as", HISTORY, """
UNWIND $rows AS row
MATCH (pr:PullRequest {key: row.key})
MERGE (c:Commit {sha: row.sha})
ON CREATE SET c.placeholder = true, c.repo = row.repo
MERGE (pr)-[:MERGED_AS]->(c)
""")

GITHUB_ISSUE = Statement("webhook_github_issue", NODES, """
UNWIND $rows AS row
MERGE (i:GitHubIssue {key: row.key})
WITH i, row WHERE i.updated_at IS NULL OR row.updated_at IS NULL OR i.updated_at <= row.updated_at
SET i += row.props
""")

GITHUB_DEPLOYMENT = Statement("webhook_github_deployment", NODES, """
UNWIND $rows AS row
MERGE (dep:GitHubDeployment {key: row.key})
SET dep += row.props
WITH dep, row WHERE row.state IS NOT NULL
  AND (dep.state_at IS NULL OR row.state_at IS NULL OR dep.state_at <= row.state_at)
SET dep.state = row.state, dep.state_at = row.state_at, dep.state_description = row.state_description
""")

DEPLOYS = Statement("webhook_deploys", HISTORY, """
UNWIND $rows AS row
MATCH (dep:GitHubDeployment {key: row.key})
MERGE (c:Commit {sha: row.sha})
ON CREATE SET c.placeholder = true, c.repo = row.repo
MERGE (dep)-[:DEPLOYS]->(c)
""")

# A status a CI job or run passes through, in order; a delivery of an earlier one never overwrites a later one.
CI_STATUS_ORDER = ("requested", "queued", "pending", "waiting", "in_progress", "completed")


@functools.cache
def ci_node(label: str) -> Statement:
    """A GitHub Actions job or run (``CIJob``, ``CIRun``), kept at its furthest status."""
    return Statement(f"webhook_ci:{label}", NODES, f"""
UNWIND $rows AS row
MERGE (n:{label} {{key: row.key}})
WITH n, row WHERE n.status_rank IS NULL OR n.status_rank <= row.status_rank
SET n += row.props, n.status_rank = row.status_rank, n.placeholder = null
""")


@functools.cache
def at_commit(label: str) -> Statement:
    return Statement(f"webhook_at_commit:{label}", HISTORY, f"""
UNWIND $rows AS row
MATCH (n:{label} {{key: row.key}})
MERGE (c:Commit {{sha: row.sha}})
ON CREATE SET c.placeholder = true, c.repo = row.repo
MERGE (n)-[:AT_COMMIT]->(c)
""")


CI_JOB_PART_OF = Statement("webhook_ci_job_part_of", HISTORY, """
UNWIND $rows AS row
MATCH (j:CIJob {key: row.key})
MERGE (r:CIRun {key: row.run_key})
ON CREATE SET r.placeholder = true, r.repo = row.repo
MERGE (j)-[:PART_OF]->(r)
""")

JIRA_ISSUE = Statement("webhook_jira_issue", NODES, """
UNWIND $rows AS row
MERGE (i:JiraIssue {key: row.key})
WITH i, row WHERE i.updated_at IS NULL OR row.updated_at IS NULL OR i.updated_at <= row.updated_at
SET i += row.props
""")

ARGO_APP = Statement("webhook_argo_app", NODES, """
UNWIND $rows AS row
MERGE (app:ArgoApp {key: row.key})
WITH app, row WHERE app.seen_at IS NULL OR app.seen_at <= row.seen_at
SET app += row.props, app.seen_at = row.seen_at
""")

RENDERS = Statement("webhook_renders", HISTORY, """
UNWIND $rows AS row
MATCH (app:ArgoApp {key: row.key})
MERGE (rel:Release {key: row.release_key})
ON CREATE SET rel.namespace = row.release_namespace, rel.name = row.release_name
MERGE (app)-[:RENDERS]->(rel)
""")

SYNCED = Statement("webhook_synced", HISTORY, """
UNWIND $rows AS row
MATCH (app:ArgoApp {key: row.key})
MERGE (c:Commit {sha: row.sha})
ON CREATE SET c.placeholder = true, c.repo = row.repo
MERGE (app)-[s:SYNCED {started_at: row.started_at}]->(c)
WITH s, row WHERE s.phase IS NULL OR NOT s.phase IN $final OR row.phase IN $final
SET s.at = row.at, s.finished_at = row.finished_at, s.phase = row.phase, s.message = row.message,
    s.sync_status = row.sync_status, s.health = row.health
""".replace("$final", str(list(FINAL_PHASES))))

_SYNC_WINDOW = f"""
rev.last_deployed IS NOT NULL
AND rev.last_deployed >= s.started_at - duration('{SYNC_SLACK}')
AND rev.last_deployed <= coalesce(s.finished_at, s.started_at + duration('{OPEN_SYNC}')) + duration('{SYNC_SLACK}')
"""

SYNC_FROM_COMMIT = Statement("webhook_sync_from_commit", LINKS, f"""
UNWIND $rows AS row
MATCH (app:ArgoApp {{key: row.key}})-[s:SYNCED {{started_at: row.started_at}}]->(c:Commit)
MATCH (rev:Revision {{release_key: row.release_key}})
WHERE {_SYNC_WINDOW}
MERGE (rev)-[:FROM_COMMIT]->(c)
""")

# The other side of FROM_COMMIT: emitted with a Revision (row: key, release_key), so a revision written
# after the Argo CD notification still finds the sync that produced it.
REVISION_FROM_SYNC = Statement("revision_from_sync", LINKS, f"""
UNWIND $rows AS row
MATCH (rev:Revision {{key: row.key}})
USING INDEX rev:Revision(key)
MATCH (app:ArgoApp)-[:RENDERS]->(release:Release {{key: row.release_key}})
USING INDEX release:Release(key)
MATCH (app)-[s:SYNCED]->(c:Commit)
WHERE {_SYNC_WINDOW}
MERGE (rev)-[:FROM_COMMIT]->(c)
""")


@functools.cache
def concerns(label: str) -> Statement:
    """Links an issue to the releases (by ``ns/name`` key or by name) and objects its text names."""
    return Statement(f"webhook_concerns:{label}", LINKS, f"""
UNWIND $rows AS row
MATCH (i:{label} {{key: row.key}})
OPTIONAL MATCH (rel:Release) WHERE rel.key IN row.keys OR rel.name IN row.names
WITH i, row, collect(rel) AS releases
FOREACH (rel IN releases | MERGE (i)-[:CONCERNS]->(rel))
WITH i, row
OPTIONAL MATCH (o:Object) WHERE o.name IN row.object_names AND o.placeholder IS NULL
  AND (o.name IN row.names OR o.namespace + '/' + o.name IN row.keys)
WITH i, collect(o) AS objects
FOREACH (o IN objects | MERGE (i)-[:CONCERNS]->(o))
""")


def rows(observation: Observation) -> Iterable[Emitted]:
    provider = observation.action
    if provider not in PROVIDERS:
        raise PermanentError(f"webhook observation action must be one of {', '.join(PROVIDERS)}, not '{provider}'")
    payload = observation.payload
    delivery = payload.get("delivery_id")
    if not isinstance(delivery, str) or not delivery:
        raise PermanentError(f"{provider} webhook observation has no delivery_id")
    return list(_rows(provider, payload, delivery, observation.observed_at))


def _rows(provider: str, payload: dict[str, Any], delivery: str, observed_at: str) -> Iterator[Emitted]:
    yield DELIVERY, {"id": f"{provider}:{delivery}", "provider": provider, "event": payload.get("event"),
                     "received_at": parse_time(payload.get("received_at") or observed_at)}
    if provider == "github":
        yield from _github(payload)
    elif provider == "argocd":
        yield from _argocd(payload, observed_at)
    else:
        yield from _jira(payload)


def _github(payload: dict[str, Any]) -> Iterator[Emitted]:
    for commit in _items(payload, "commits"):
        sha = _sha(commit.get("sha"))
        if sha:
            yield COMMIT, {"sha": sha, "props": {
                "message": commit.get("message"), "author": commit.get("author"), "url": commit.get("url"),
                "at": parse_time(commit.get("at")), "repo": commit.get("repo"), "ref": commit.get("ref")}}
    for pr in _items(payload, "pull_requests"):
        key = _required(pr, "key", "pull request")
        yield PULL_REQUEST, {"key": key, "updated_at": parse_time(pr.get("updated_at")), "props": {
            "number": pr.get("number"), "title": pr.get("title"), "state": pr.get("state"), "url": pr.get("url"),
            "merged": bool(pr.get("merged")), "merged_sha": _sha(pr.get("merged_sha")),
            "head_sha": _sha(pr.get("head_sha")), "base_ref": pr.get("base_ref"), "author": pr.get("author"),
            "repo": pr.get("repo"), "merged_at": parse_time(pr.get("merged_at")),
            "updated_at": parse_time(pr.get("updated_at"))}}
        if pr.get("merged") and _sha(pr.get("merged_sha")):
            yield MERGED_AS, {"key": key, "sha": _sha(pr["merged_sha"]), "repo": pr.get("repo")}
    for issue in _items(payload, "issues"):
        key = _required(issue, "key", "issue")
        yield GITHUB_ISSUE, {"key": key, "updated_at": parse_time(issue.get("updated_at")), "props": {
            "number": issue.get("number"), "title": issue.get("title"), "state": issue.get("state"),
            "url": issue.get("url"), "labels": [str(x) for x in issue.get("labels") or []],
            "author": issue.get("author"), "repo": issue.get("repo"), "open": issue.get("state") == "open",
            "created_at": parse_time(issue.get("created_at")), "updated_at": parse_time(issue.get("updated_at"))}}
        yield concerns("GitHubIssue"), {"key": key, **mentions(issue.get("text") or "")}
    for deployment in _items(payload, "deployments"):
        key = _required(deployment, "key", "deployment")
        yield GITHUB_DEPLOYMENT, {"key": key, "state": deployment.get("state"),
                                  "state_at": parse_time(deployment.get("state_at")),
                                  "state_description": deployment.get("state_description"), "props": {
            "id": deployment.get("id"), "environment": deployment.get("environment"), "ref": deployment.get("ref"),
            "sha": _sha(deployment.get("sha")), "url": deployment.get("url"), "repo": deployment.get("repo"),
            "description": deployment.get("description"), "creator": deployment.get("creator"),
            "created_at": parse_time(deployment.get("created_at"))}}
        if _sha(deployment.get("sha")):
            yield DEPLOYS, {"key": key, "sha": _sha(deployment["sha"]), "repo": deployment.get("repo")}
        yield concerns("GitHubDeployment"), {"key": key, **mentions("\n".join(
            str(deployment.get(field)) for field in ("environment", "task", "description", "state_description")
            if deployment.get(field)))}
    yield from _github_ci(payload)


def _github_ci(payload: dict[str, Any]) -> Iterator[Emitted]:
    """GitHub Actions jobs and runs: the node, its commit, its run, and the releases its names name."""
    for label, field in (("CIJob", "ci_jobs"), ("CIRun", "ci_runs")):
        for item in _items(payload, field):
            key = _required(item, "key", "GitHub Actions job or run")
            yield ci_node(label), {"key": key, "status_rank": _status_rank(item), "props": _ci_props(item)}
            if _sha(item.get("head_sha")):
                yield at_commit(label), {"key": key, "sha": _sha(item["head_sha"]), "repo": item.get("repo")}
            if label == "CIJob" and item.get("run_id") is not None:
                yield CI_JOB_PART_OF, {"key": key, "run_key": f"{item.get('repo')}#{item['run_id']}",
                                       "repo": item.get("repo")}
            text = "\n".join(str(part) for part in (item.get("name"), item.get("title"), item.get("workflow_name"),
                                                    *(item.get("steps") or [])) if part)
            yield concerns(label), {"key": key, **mentions(text)}


def _status_rank(item: dict[str, Any]) -> int:
    status = item.get("status")
    order = CI_STATUS_ORDER.index(status) if status in CI_STATUS_ORDER else 0
    attempt = item.get("run_attempt") if isinstance(item.get("run_attempt"), int) else 1
    return attempt * 10 + order


def _ci_props(item: dict[str, Any]) -> dict[str, Any]:
    props = {name: item.get(name) for name in (
        "id", "run_id", "name", "title", "workflow_name", "workflow_path", "status", "conclusion", "head_branch",
        "url", "run_attempt", "run_number", "event", "runner_name", "repo")}
    props["head_sha"] = _sha(item.get("head_sha"))
    props["steps"] = [str(step) for step in item.get("steps") or []]
    props["labels"] = [str(label) for label in item.get("labels") or []]
    props["started_at"] = parse_time(item.get("started_at"))
    props["completed_at"] = parse_time(item.get("completed_at"))
    props["failed"] = item.get("conclusion") in ("failure", "timed_out", "startup_failure")
    return props


def _argocd(payload: dict[str, Any], observed_at: str) -> Iterator[Emitted]:
    app = payload.get("app")
    if not isinstance(app, dict):
        raise PermanentError("argocd webhook observation has no app")
    key = _required(app, "key", "Argo CD application")
    seen_at = parse_time(payload.get("received_at") or observed_at)
    yield ARGO_APP, {"key": key, "seen_at": seen_at, "props": {
        name: app.get(name) for name in ("name", "namespace", "project", "sync_status", "health", "repo_url",
                                         "chart", "target_revision", "path", "destination_namespace",
                                         "destination_server", "release_name")}}
    release = payload.get("release") or {}
    release_key = release.get("key")
    if release_key:
        yield RENDERS, {"key": key, "release_key": release_key, "release_namespace": release.get("namespace"),
                        "release_name": release.get("name")}
    sync = payload.get("sync") or {}
    sha = _sha(sync.get("revision"))
    started_at = parse_time(sync.get("started_at"))
    if sha and started_at:
        finished_at = parse_time(sync.get("finished_at"))
        yield SYNCED, {"key": key, "sha": sha, "repo": app.get("repo_url"), "started_at": started_at,
                       "finished_at": finished_at, "at": finished_at or started_at, "phase": sync.get("phase"),
                       "message": sync.get("message"), "sync_status": app.get("sync_status"),
                       "health": app.get("health")}
        if release_key:
            yield SYNC_FROM_COMMIT, {"key": key, "started_at": started_at, "release_key": release_key}


def _jira(payload: dict[str, Any]) -> Iterator[Emitted]:
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise PermanentError("jira webhook observation has no issue")
    key = _required(issue, "key", "Jira issue")
    yield JIRA_ISSUE, {"key": key, "updated_at": parse_time(issue.get("updated_at")), "props": {
        "summary": issue.get("summary"), "status": issue.get("status"),
        "status_category": issue.get("status_category"), "open": bool(issue.get("open")),
        "priority": issue.get("priority"), "url": issue.get("url"), "issue_type": issue.get("issue_type"),
        "labels": [str(x) for x in issue.get("labels") or []],
        "components": [str(x) for x in issue.get("components") or []],
        "created_at": parse_time(issue.get("created_at")), "updated_at": parse_time(issue.get("updated_at"))}}
    yield concerns("JiraIssue"), {"key": key, **mentions(issue.get("text") or "")}


def mentions(text: str) -> dict[str, list[str]]:
    """The names a text may refer to: ``keys`` ("ns/name"), bare ``names``, and the object names to look up.

    Kubernetes names are lower case, so tokens are compared lower-cased. A bare name that the text also
    qualifies ("api" beside "prod/api") means the qualified one, so it does not match other namespaces'
    releases of that name. A bare object name must contain a dash (``api-migrate``, a pod name) to be
    matched against objects, so ordinary words in an incident do not link it to every ConfigMap ``config``.
    """
    keys: dict[str, None] = {}
    bare: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        token = match.group(0).rstrip("._-").lower()
        if not token or len(token) > 253:
            continue
        (keys if "/" in token else bare)[token] = None
        if len(keys) + len(bare) >= MAX_TOKENS:
            break
    qualified = {key.split("/", 1)[1] for key in keys}
    names = [name for name in bare if name not in qualified]
    object_names = [name for name in names if "-" in name] + sorted(qualified)
    return {"keys": list(keys), "names": names, "object_names": object_names}


def _items(payload: dict[str, Any], field: str) -> list[dict[str, Any]]:
    value = payload.get(field) or []
    if not isinstance(value, list):
        raise PermanentError(f"webhook observation field '{field}' must be a list")
    return [item for item in value if isinstance(item, dict)]


def _required(item: dict[str, Any], field: str, what: str) -> str:
    value = item.get(field)
    if not isinstance(value, str) or not value:
        raise PermanentError(f"{what} in a webhook observation has no {field}")
    return value


def _sha(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text if _SHA.match(text) else None

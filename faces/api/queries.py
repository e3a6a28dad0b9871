"""The REST API's reads: releases, their revisions and their timeline, as plain JSON-ready dicts.

Reads run in auto-commit READ sessions (``session.run``): the driver does not retry them, so a Neo4j
outage is answered at once (503) instead of after the managed-transaction retry budget. ``timeout`` is the
server-side transaction timeout of each read (``serve_neo4j_transaction_timeout`` in ``kgrca serve``): a
read that runs away on a big graph is stopped by Neo4j rather than left running after its caller left.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import neo4j

from rca.runner import plain

RELEASE_FIELDS = (".key, .namespace, .name, .status, .latest_version, .description, .chart, .chart_version, "
                  ".app_version, .last_deployed")

RELEASES = f"""
MATCH (r:Release)
WHERE ($status IS NULL OR r.status = $status) AND ($namespace IS NULL OR r.namespace = $namespace)
WITH r ORDER BY r.key
RETURN r {{{RELEASE_FIELDS}}} AS release
SKIP $offset LIMIT $limit
"""

RELEASE_COUNT = """
MATCH (r:Release)
WHERE ($status IS NULL OR r.status = $status) AND ($namespace IS NULL OR r.namespace = $namespace)
RETURN count(r) AS total
"""

RELEASE = f"""
MATCH (r:Release {{key: $key}})
RETURN r {{{RELEASE_FIELDS},
  revisions: COUNT {{ (r)-[:HAS_REVISION]->(:Revision) }},
  live_objects: COUNT {{ (r)-[:MANAGES]->(o:Object) WHERE o.deleted_at IS NULL }},
  argo_apps: [(app:ArgoApp)-[:RENDERS]->(r) | app {{.key, .sync_status, .health, .repo_url, .chart,
                                                   .target_revision}}],
  incidents: [(j:JiraIssue)-[:CONCERNS]->(r) | j {{.key, .summary, .status, .priority, .url, .open}}],
  github_issues: [(g:GitHubIssue)-[:CONCERNS]->(r) | g {{.key, .title, .state, .url}}]
}} AS release
"""

REVISIONS = """
MATCH (:Release {key: $key})-[:HAS_REVISION]->(rev:Revision)
WITH rev ORDER BY rev.version DESC
RETURN rev {.key, .version, .status, .description, .chart, .chart_version, .app_version, .first_deployed,
            .last_deployed, .deleted, .values_keys, .values_hash, .storage, .removed_at,
  hooks: [(rev)-[:HAS_HOOK]->(h:Hook) | h {.name, .kind, .events, .weight, .phase, .started_at, .completed_at}],
  commits: [(rev)-[:FROM_COMMIT]->(c:Commit) | c {.sha, .message, .author, .url, .at, .repo}],
  operations: [(op:HelmOperation)-[:PRODUCED]->(rev) | op {.operation_id, .command, .status, .exit_code,
                                                            .started_at, .ended_at}]
} AS revision
"""

# The release's objects: what it manages, what its hooks ran, and what those own (ReplicaSets, Pods).
_OBJECTS = """
MATCH (rel:Release {key: $key})
OPTIONAL MATCH (rel)-[:MANAGES]->(m:Object)
WITH rel, collect(m) AS managed
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(:Revision)-[:HAS_HOOK]->(:Hook)-[:RAN_AS]->(run:Object)
WITH managed, collect(run) AS runs
WITH managed + runs AS roots
OPTIONAL MATCH (child:Object)-[:OWNED_BY*1..2]->(root:Object) WHERE root IN roots
WITH roots, collect(child) AS children
WITH roots + children AS objects
UNWIND objects AS o
WITH DISTINCT o
"""

TIMELINE: dict[str, str] = {
    "revision": """
MATCH (:Release {key: $key})-[:HAS_REVISION]->(rev:Revision)
RETURN rev.last_deployed AS at, 'revision ' + rev.version + ' ' + coalesce(rev.status, '?') +
       CASE WHEN rev.description IS NULL OR rev.description = '' THEN '' ELSE ': ' + rev.description END AS what,
       {kind: 'Revision', name: rev.key} AS subject
""",
    "hook": """
MATCH (:Release {key: $key})-[:HAS_REVISION]->(rev:Revision)-[:HAS_HOOK]->(h:Hook)
UNWIND [[h.started_at, 'started'], [h.completed_at, coalesce(h.phase, 'finished')]] AS step
WITH h, rev, step WHERE step[0] IS NOT NULL
RETURN step[0] AS at, 'hook ' + h.kind + '/' + h.name + ' (' + reduce(s = '', e IN coalesce(h.events, []) |
       s + CASE s WHEN '' THEN '' ELSE ',' END + e) + ') of revision ' + rev.version + ' ' + step[1] AS what,
       {kind: h.kind, namespace: h.namespace, name: h.name} AS subject
""",
    "hook_job": """
MATCH (:Release {key: $key})-[:HAS_REVISION]->(:Revision)-[:HAS_HOOK]->(h:Hook)-[:RAN_AS]->(j:Object)
RETURN j.created_at AS at, j.kind + ' ' + j.name + ' created for hook ' + h.name AS what,
       {kind: j.kind, namespace: j.namespace, name: j.name} AS subject
""",
    "object": _OBJECTS + """
UNWIND [[o.created_at, 'created'], [o.deleted_at, 'deleted']] AS step
WITH o, step WHERE step[0] IS NOT NULL
RETURN step[0] AS at, o.kind + ' ' + o.name + ' ' + step[1] AS what,
       {kind: o.kind, namespace: o.namespace, name: o.name} AS subject
""",
    "pod_state": _OBJECTS + """
MATCH (o)-[:HAD_STATE]->(s:ContainerState)
RETURN s.at AS at, o.kind + ' ' + o.name + ' container ' + s.container + ' ' + s.state +
       coalesce(' ' + s.reason, '') + coalesce(' exit ' + s.exit_code, '') + coalesce(': ' + s.message, '') AS what,
       {kind: o.kind, namespace: o.namespace, name: o.name} AS subject
""",
    "condition": _OBJECTS + """
MATCH (o)-[:HAD_CONDITION]->(c:Condition)
RETURN c.at AS at, o.kind + ' ' + o.name + ' ' + c.type + '=' + c.status + coalesce(' ' + c.reason, '') +
       coalesce(': ' + c.message, '') AS what,
       {kind: o.kind, namespace: o.namespace, name: o.name} AS subject
""",
    "event": _OBJECTS + """
MATCH (e:Event)-[:ABOUT]->(o)
RETURN coalesce(e.last_seen, e.first_seen) AS at,
       coalesce(e.type, '') + ' ' + coalesce(e.reason, '') + ' on ' + o.kind + ' ' + o.name + ': ' +
       coalesce(e.message, '') + CASE WHEN coalesce(e.count, 1) > 1 THEN ' (x' + e.count + ')' ELSE '' END AS what,
       {kind: o.kind, namespace: o.namespace, name: o.name} AS subject
""",
    "helm_operation": """
MATCH (op:HelmOperation)-[:TARGETS]->(:Release {key: $key})
UNWIND [[op.started_at, 'started'],
        [op.ended_at, coalesce(op.status, 'ended') + coalesce(' (exit ' + op.exit_code + ')', '')]] AS step
WITH op, step WHERE step[0] IS NOT NULL
RETURN step[0] AS at, 'helm ' + coalesce(op.command, '?') + ' ' + step[1] AS what,
       {kind: 'HelmOperation', name: op.operation_id} AS subject
""",
    "argo_sync": """
MATCH (app:ArgoApp)-[:RENDERS]->(:Release {key: $key})
MATCH (app)-[s:SYNCED]->(c:Commit)
UNWIND [[s.started_at, 'started'], [s.finished_at, coalesce(s.phase, 'finished')]] AS step
WITH app, s, c, step WHERE step[0] IS NOT NULL
RETURN step[0] AS at, 'Argo CD sync of ' + app.key + ' at commit ' + left(c.sha, 12) + ' ' + step[1] +
       CASE WHEN step[1] <> 'started' AND s.message IS NOT NULL THEN ': ' + s.message ELSE '' END AS what,
       {kind: 'ArgoApp', name: app.key} AS subject
""",
    "incident": """
MATCH (j:JiraIssue)-[:CONCERNS]->(:Release {key: $key})
RETURN j.created_at AS at, 'incident ' + j.key + ' opened: ' + coalesce(j.summary, '') +
       ' (' + coalesce(j.status, '?') + coalesce(', ' + j.priority, '') + ')' AS what,
       {kind: 'JiraIssue', name: j.key} AS subject
""",
}


def _read(driver: neo4j.Driver, database: str, query: str, timeout: float | None = None,
          **params: Any) -> list[dict[str, Any]]:
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS,
                        notifications_min_severity="OFF") as session:
        return [record.data() for record in session.run(neo4j.Query(query, timeout=timeout), params)]


def releases(driver: neo4j.Driver, database: str, status: str | None, namespace: str | None,
             limit: int, offset: int, *, timeout: float | None = None) -> tuple[list[dict[str, Any]], int]:
    rows = _read(driver, database, RELEASES, timeout, status=status, namespace=namespace, limit=limit,
                 offset=offset)
    total = _read(driver, database, RELEASE_COUNT, timeout, status=status, namespace=namespace)[0]["total"]
    return [plain(row["release"]) for row in rows], total


def release(driver: neo4j.Driver, database: str, key: str, *, timeout: float | None = None) -> dict[str, Any] | None:
    rows = _read(driver, database, RELEASE, timeout, key=key)
    return plain(rows[0]["release"]) if rows else None


def revisions(driver: neo4j.Driver, database: str, key: str, *,
              timeout: float | None = None) -> list[dict[str, Any]]:
    return [plain(row["revision"]) for row in _read(driver, database, REVISIONS, timeout, key=key)]


def _native(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    native = value.to_native() if hasattr(value, "to_native") else value
    if isinstance(native, dt.datetime):
        return native if native.tzinfo else native.replace(tzinfo=dt.UTC)
    return None


def timeline(driver: neo4j.Driver, database: str, key: str, since: dt.datetime | None = None,
             until: dt.datetime | None = None, limit: int = 1000, *,
             timeout: float | None = None) -> list[dict[str, Any]]:
    """Revisions, hooks, hook jobs, objects, pod states, conditions, events, helm operations, Argo CD syncs
    and incidents of one release on one time axis, oldest first."""
    items: list[tuple[dt.datetime, str, dict[str, Any]]] = []
    for kind, query in TIMELINE.items():
        for row in _read(driver, database, query, timeout, key=key):
            at = _native(row["at"])
            if at is None or (since and at < since) or (until and at > until):
                continue
            items.append((at, kind, {"at": at.isoformat().replace("+00:00", "Z"), "type": kind,
                                     "what": row["what"], "subject": plain(row["subject"])}))
    items.sort(key=lambda item: (item[0], item[1], item[2]["what"]))
    return [item for _, _, item in items[:limit]]

"""Runs every pattern against the graph and returns ranked diagnoses.

Detection reads only the graph. One pattern failing is logged as ``[pattern] error`` and the others
still run; a pattern that finds nothing returns no rows. Of the diagnoses of one release, those a
matched pattern ``explains`` become its consequences, so a crash loop that made ``--wait`` time out
is one diagnosis.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import neo4j

from kgrca.config import Config
from kgrca.contracts import SEVERITIES, Diagnosis
from rca import gitops_context
from rca.iso_times import read_datetimes_as_text
from rca.registry import Pattern, load_patterns

log = logging.getLogger(__name__)

QUERY_TIMEOUT = 20.0
PARALLEL_PATTERNS = 4

RELEASE_CONTEXT = """
UNWIND $keys AS key
MATCH (rel:Release {key: key})
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(latest:Revision {version: rel.latest_version})
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(prev:Revision)
  WHERE prev.version < rel.latest_version AND prev.status IN ['deployed', 'superseded']
WITH rel, key, latest, prev ORDER BY prev.version DESC
WITH rel, key, latest, collect(prev.version)[0] AS from_version
OPTIONAL MATCH (op:HelmOperation)-[:PRODUCED]->(latest)
WITH rel, key, latest, from_version, op ORDER BY op.started_at DESC
WITH rel, key, latest, from_version, collect(op)[0] AS op
// a failed operation that only rollbacks followed (kg_builder's Release.failed_version): what was undone
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(failed:Revision {version: rel.failed_version})
  WHERE rel.failed_version < rel.latest_version
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(before:Revision)
  WHERE before.version < failed.version AND before.status IN ['deployed', 'superseded']
WITH rel, key, latest, from_version, op, failed, max(before.version) AS failed_from
OPTIONAL MATCH (fop:HelmOperation)-[:PRODUCED]->(failed)
WITH rel, key, latest, from_version, op, failed, failed_from, fop ORDER BY fop.started_at DESC
WITH rel, key, latest, from_version, op, failed, failed_from, collect(fop)[0] AS fop
RETURN key, rel.name AS name, rel.namespace AS namespace, rel.cluster AS cluster, latest.version AS to_version,
       from_version,
       latest.status AS status, latest.description AS description, op.command AS command,
       op.operation_id AS operation_id,
       CASE WHEN failed IS NULL THEN null ELSE {version: failed.version, from_version: failed_from,
         description: failed.description, command: fop.command, operation_id: fop.operation_id} END AS undone
"""

# What webhooks told about the newest revision (docs/webhooks.md): the commit an Argo CD sync deployed, the
# pull request merged as that commit, and the open incidents that name the release.
WEBHOOK_CONTEXT = """
UNWIND $keys AS key
MATCH (rel:Release {key: key})
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(:Revision {version: rel.latest_version})-[:FROM_COMMIT]->(c:Commit)
OPTIONAL MATCH (pr:PullRequest)-[:MERGED_AS]->(c)
OPTIONAL MATCH (app:ArgoApp)-[s:SYNCED]->(c) WHERE (app)-[:RENDERS]->(rel)
WITH rel, key, c, pr, app, s ORDER BY s.started_at DESC
WITH rel, key, collect(c)[0] AS c, collect(pr)[0] AS pr,
     collect(CASE WHEN s IS NULL THEN null ELSE [app.key, s] END)[0] AS sync
RETURN key, c {.sha, .message, .author, .url, .at, .repo} AS commit,
       pr {.key, .number, .title, .state, .url} AS pull_request,
       CASE WHEN sync IS NULL THEN null
            ELSE {app: sync[0], phase: sync[1].phase, message: sync[1].message, at: sync[1].at} END AS argo_sync,
       [(j:JiraIssue)-[:CONCERNS]->(rel) WHERE j.open | j {.key, .summary, .status, .priority, .url}] AS incidents
"""


@dataclasses.dataclass
class DetectionRun:
    diagnoses: list[Diagnosis]
    errors: list[tuple[str, str]]
    timings: dict[str, float]


class Detector:
    def __init__(self, driver: neo4j.Driver, cfg: Config, patterns: list[Pattern] | None = None):
        self.driver = driver
        self.cfg = cfg
        self.patterns = patterns if patterns is not None else load_patterns()

    def run(self, release_key: str | None = None, now: dt.datetime | None = None,
            only: set[str] | None = None) -> DetectionRun:
        found: list[tuple[Diagnosis, Pattern, dict[str, Any]]] = []
        errors: list[tuple[str, str]] = []
        timings: dict[str, float] = {}
        selected = [pattern for pattern in self.patterns if not only or pattern.id in only]
        # A few patterns at once: Neo4j runs one query while this process decodes another's rows. Results
        # are taken in the patterns' order, so the outcome does not depend on which finished first.
        with ThreadPoolExecutor(max_workers=PARALLEL_PATTERNS) as pool:
            outcomes = list(pool.map(lambda pattern: self._detect(pattern, release_key, now), selected))
        for pattern, (matches, error, seconds) in zip(selected, outcomes, strict=True):
            found.extend(matches)
            if error:
                errors.append((pattern.id, error))
            timings[pattern.id] = seconds
        diagnoses = [diagnosis for diagnosis, _, _ in found]
        undone, controllers = self._add_release_context(diagnoses)
        for diagnosis, pattern, variables in found:
            diagnosis.resolution = pattern.resolve({**_release_vars(diagnosis.release), **variables})
            controller = controllers.get(_release_key(diagnosis.release) or "")
            if controller:  # a GitOps controller deploys the release: what it does next, its commands
                gitops_context.apply(diagnosis, controller)
        fallbacks = {p.id for p in self.patterns if p.fallback}
        ranked = rank(diagnoses, {p.id: p.explains for p in self.patterns}, fallbacks)
        for diagnosis in ranked:
            if diagnosis.shape is not None or diagnosis.pattern in fallbacks:  # about the operation, not a pod
                headline(diagnosis, undone.get(_release_key(diagnosis.release)))
        return DetectionRun(ranked, errors, timings)

    def parameters(self, pattern: Pattern, release_key: str | None, now: dt.datetime | None) -> dict[str, Any]:
        """Defaults from the file, settings of the same name from configuration, then the call's own."""
        params = dict(pattern.params)
        for name in params:
            if name in self.cfg:
                params[name] = self.cfg[name]
        params["release_key"] = release_key
        if "now" in params:
            params["now"] = now
        return params

    def _detect(self, pattern: Pattern, release_key: str | None, now: dt.datetime | None
                ) -> tuple[list[tuple[Diagnosis, Pattern, dict[str, Any]]], str | None, float]:
        """One pattern's findings, or its error, and the seconds it took."""
        started = time.perf_counter()
        try:
            rows = self._query(pattern, release_key, now)
            matches = [(self._diagnosis(pattern, row), pattern, row.get("vars") or {}) for row in rows]
            return matches, None, time.perf_counter() - started
        except Exception as exc:  # one broken pattern must not hide the others' findings
            log.error("[%s] %s", pattern.id, exc)
            return [], f"{exc.__class__.__name__}: {exc}", time.perf_counter() - started

    def _query(self, pattern: Pattern, release_key: str | None, now: dt.datetime | None) -> list[dict[str, Any]]:
        return self._read(neo4j.Query(pattern.query, timeout=QUERY_TIMEOUT),
                          self.parameters(pattern, release_key, now))

    def _read(self, query: neo4j.Query | str, params: dict[str, Any]) -> list[dict[str, Any]]:
        # Notifications off: a pattern that names a label or property absent from this graph (no eBPF data
        # yet, say) is normal, and the driver would log each such warning with the whole query text.
        with self.driver.session(database=self.cfg.neo4j_database, default_access_mode=neo4j.READ_ACCESS,
                                 notifications_min_severity="OFF") as s:
            result = s.run(query, params)
            read_datetimes_as_text(result)  # the text plain() would make, without the driver's slow DateTime
            # dict(), not record.data(): the columns are maps, lists and values (plain() copes with a node),
            # and data()'s recursive copy cost more than the rest of reading the rows
            return [dict(record) for record in result]

    def _diagnosis(self, pattern: Pattern, row: dict[str, Any]) -> Diagnosis:
        release_key = row.get("release_key")
        confidence = row.get("confidence")
        summary, details = pattern.words({"facts": plain(row.get("facts"))} if pattern.summary else row)
        return Diagnosis(
            pattern=pattern.id, title=pattern.title, severity=pattern.severity, tags=list(pattern.tags),
            confidence=float(confidence if confidence is not None else pattern.confidence),
            summary=summary, details=details,
            evidence=[plain(e) for e in row.get("evidence") or [] if e],
            impact=pattern.impact, resolution=[],
            release={"key": release_key} if release_key else None,
            subject=plain(row.get("subject") or {}), operation_id=row.get("operation_id"),
            shape=row["shape"] if "shape" in row else pattern.shape,
            event_chain=sorted((plain(e) for e in row.get("event_chain") or [] if e and e.get("at")),
                               key=lambda e: e["at"]),
        )

    def _add_release_context(self, diagnoses: list[Diagnosis]
                             ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The release of each diagnosis; by release key the failed operation that a rollback undid, and the
        GitOps controller that deploys it (rca/gitops_context.py)."""
        keys = sorted({d.release["key"] for d in diagnoses if d.release})
        if not keys:
            return {}, {}
        with ThreadPoolExecutor(max_workers=3) as pool:  # all at once, as the patterns
            releases, told, controlled = pool.map(lambda query: self._read(query, {"keys": keys}),
                                                  (RELEASE_CONTEXT, WEBHOOK_CONTEXT, gitops_context.QUERY))
        controllers = {row["key"]: plain(row) for row in controlled if row.get("flux") or row.get("argocd")}
        context = {row["key"]: row for row in releases}
        webhooks = {row["key"]: plain(row) for row in told}
        for diagnosis in diagnoses:
            if not diagnosis.release:
                continue
            key = diagnosis.release["key"]
            found = context.get(key, {})
            cluster, _, unqualified = key.rpartition(":")  # a named cluster's key: <cluster>:<ns>/<name>
            namespace, _, name = unqualified.partition("/")
            diagnosis.release = {
                "name": found.get("name") or name, "namespace": found.get("namespace") or namespace,
                "cluster": found.get("cluster") or cluster or None,
                "operation": found.get("command") or _operation(found),
                "from_version": found.get("from_version"), "to_version": found.get("to_version"),
                "status": found.get("status"),
            }
            diagnosis.operation_id = diagnosis.operation_id or found.get("operation_id")
            told = {k: v for k, v in webhooks.get(key, {}).items() if k != "key" and v}
            if told:
                diagnosis.release["context"] = told
        return {key: {**row["undone"], "now": row.get("to_version"), "now_description": row.get("description")}
                for key, row in context.items() if row.get("undone")}, controllers


def _release_vars(release: dict[str, Any] | None) -> dict[str, Any]:
    if not release:
        return {}
    return {"release": release.get("name"), "namespace": release.get("namespace"),
            "from_version": release.get("from_version"), "to_version": release.get("to_version")}


def _operation(release: dict[str, Any]) -> str | None:
    description = (release.get("description") or "").lower()
    if release.get("to_version") is None:
        return None
    if description.startswith("rollback") or "rollback" in description.split(":", 1)[0]:
        return "rollback"
    if release.get("to_version") == 1:
        return "install"
    return "upgrade"


def plain(value: Any) -> Any:
    """Neo4j temporal values to ISO strings, so a diagnosis is plain JSON."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, neo4j.graph.Entity):  # a node or relationship: its properties
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _group(diagnosis: Diagnosis) -> str:
    if diagnosis.release:
        return "release:" + (diagnosis.release.get("key") or _release_key(diagnosis.release) or "")
    subject = diagnosis.subject
    return (f"subject:{subject.get('cluster') or ''}:{subject.get('kind')}/{subject.get('namespace')}/"
            f"{subject.get('name')}")


def rank(diagnoses: list[Diagnosis], explains: dict[str, tuple[str, ...]] | None = None,
         fallbacks: set[str] | None = None) -> list[Diagnosis]:
    """Best first; within a release, what a root cause explains is folded into it as a consequence.

    A root with no Helm shape of its own (a pod or workload cause) takes the shape of the Helm diagnosis it
    explains, and its summary says both. A ``fallback`` diagnosis stays only where no other root of its
    release has a Helm shape."""
    explains = explains or {}
    fallbacks = fallbacks or set()
    by_group: dict[str, list[Diagnosis]] = defaultdict(list)
    for diagnosis in diagnoses:
        by_group[_group(diagnosis)].append(diagnosis)
    severity = {name: index for index, name in enumerate(SEVERITIES)}
    order = lambda d: (-d.confidence, severity.get(d.severity, 9), d.pattern)  # noqa: E731
    kept: list[Diagnosis] = []
    for group in by_group.values():
        group.sort(key=order)
        roots: list[Diagnosis] = []
        for diagnosis in group:
            cause = next((r for r in roots if diagnosis.pattern in explains.get(r.pattern, ())), None)
            if cause is None:
                cause = next((d for d in group if d is not diagnosis and diagnosis.pattern in
                              explains.get(d.pattern, ()) and d.pattern not in explains.get(diagnosis.pattern, ())),
                             None)
            if cause is not None:
                cause.consequences.append({"pattern": diagnosis.pattern, "shape": diagnosis.shape,
                                           "summary": diagnosis.summary,
                                           "confidence": round(diagnosis.confidence, 3)})
            else:
                roots.append(diagnosis)
        for root in roots:
            _take_shape(root)
        # helm's words are already told by a pattern that explains the release's Helm side
        told = any(r.shape is not None and r.pattern not in fallbacks for r in roots)
        kept.extend(r for r in roots if r.pattern not in fallbacks or not told)
    return sorted(kept, key=order)


# How a pod or workload cause reads once it explains a Helm shape: "<this>: <the cause>".
SHAPE_HEADLINES = {
    "wait_timeout": "{operation} of {release} timed out waiting",
    "partial_deployment": "{release} is {status} but not all of it runs",
    "hook_failure": "a hook of the {operation} of {release} failed",
    "stuck_release": "{operation} of {release} is stuck",
    "template_error": "{operation} of {release} could not render its chart",
    "resource_conflict": "the API server refused the {operation} of {release}",
    "crd_mismatch": "{operation} of {release} uses an API the cluster does not serve",
}


def _take_shape(root: Diagnosis) -> None:
    if root.shape is not None:
        return
    explained = next((c for c in root.consequences if c.get("shape")), None)
    if explained is None:
        return
    root.shape = explained["shape"]
    release = root.release or {}
    words = {"operation": release.get("operation") or "the helm operation",
             "release": _release_key(release) or "the release",
             "status": release.get("status") or "in an unknown state"}
    root.summary = f"{SHAPE_HEADLINES[root.shape].format(**words)}: {root.summary}"


def headline(diagnosis: Diagnosis, undone: dict[str, Any] | None) -> None:
    """A Helm diagnosis of an operation that a rollback undid says so first, and its release names that
    operation: "the upgrade to revision 4 failed and was rolled back to 3 (now revision 5): <cause>"."""
    if not undone or not diagnosis.release:
        return
    operation = undone.get("command") or _operation({"description": undone.get("description"),
                                                     "to_version": undone.get("version")}) or "operation"
    target = _ROLLBACK.match(undone.get("now_description") or "")
    back = f" and was rolled back to {target.group(1)}" if target else " and was rolled back"
    diagnosis.summary = (f"the {operation} to revision {undone['version']} failed{back} "
                         f"(now revision {undone['now']}): {diagnosis.summary}")
    diagnosis.release.update({
        "operation": operation, "to_version": undone["version"], "from_version": undone.get("from_version"),
        "status": "failed", "rolled_back_to": int(target.group(1)) if target else None,
        "current_version": undone["now"]})


_ROLLBACK = re.compile(r"^Rollback to (\d+)")


def _release_key(release: dict[str, Any] | None) -> str | None:
    if not release or not release.get("name"):
        return None
    cluster = f"{release['cluster']}:" if release.get("cluster") else ""  # as kgrca/keys.py keys it
    return f"{cluster}{release.get('namespace')}/{release['name']}"

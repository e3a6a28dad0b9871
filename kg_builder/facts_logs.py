"""Graph facts for the last lines of a container's log: ``container_log`` observations (docs/container-logs.md).

Registered twice: ``kg_builder/handlers.py`` maps the observation kind ``container_log`` to ``rows``, and
``kg_builder/k8s_objects.py`` reads ``ROWS[("", "Pod")]`` so a Pod that arrives after its log is linked to it.

One ``(:ContainerLog {key: namespace/pod/container})`` per container, bounded: the newest run's lines replace an
older run's (the restart count the lines come from decides; a log handed in from a file, whose run is unknown,
replaces what was there), at most ``log_lines.MAX_LINES`` lines of ``MAX_LINE_CHARS`` characters each. Its lines
are classified here, once, by kgrca/log_lines.py into ``(:LogFinding)`` nodes, one per class, each with the
line that says it; the patterns read the findings and quote their lines (cypher/patterns/container_log_error.cypher).

``(:Pod)-[:LOGGED]->(:ContainerLog)-[:FOUND]->(:LogFinding)``: the link is made from whichever of the two arrives
second, by the pod's uid where the source knew it (the watcher), else by the pod's namespace and name (a file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from kg_builder import validation
from kg_builder.statements import HISTORY, LINKS, Emitted, Statement
from kg_builder.times import parse_time
from kgrca import log_lines
from kgrca.contracts import Observation, PermanentError
from kgrca.keys import resource_ref

KIND = "container_log"

CONTAINER_LOG = Statement("container_log", HISTORY, """
UNWIND $rows AS row
MERGE (l:ContainerLog {key: row.key})
WITH l, row
// the newest run's lines win; a run that is not known (a file) replaces what was there
WHERE row.props.restart_count IS NULL OR l.restart_count IS NULL OR row.props.restart_count >= l.restart_count
SET l += row.props
WITH l, row
CALL (l) {
  OPTIONAL MATCH (l)-[:FOUND]->(old:LogFinding)
  DETACH DELETE old
}
WITH l, row
UNWIND row.findings AS finding
MERGE (f:LogFinding {key: row.key + '#' + finding.class})
SET f += finding
MERGE (l)-[:FOUND]->(f)
""", partition_by="key")

LOG_TO_POD_BY_UID = Statement("container_log_pod_uid", LINKS, """
UNWIND $rows AS row
MATCH (l:ContainerLog {key: row.key})
MATCH (p:Object {uid: row.pod_uid})
WHERE p:Pod
MERGE (p)-[:LOGGED]->(l)
""", partition_by="pod_uid")

LOG_TO_POD_BY_NAME = Statement("container_log_pod_name", LINKS, """
UNWIND $rows AS row
MATCH (l:ContainerLog {key: row.key})
MATCH (p:Object {ref: row.pod_ref})
WHERE p:Pod AND p.deleted_at IS NULL
MERGE (p)-[:LOGGED]->(l)
""", partition_by="pod_ref")

POD_TO_LOGS = Statement("pod_logs", LINKS, """
UNWIND $rows AS row
MATCH (p:Object {uid: row.uid})
MATCH (l:ContainerLog {pod_ref: p.ref})
WHERE l.pod_uid IS NULL OR l.pod_uid = p.uid
MERGE (p)-[:LOGGED]->(l)
""")


def log_key(namespace: str, pod: str, container: str) -> str:
    return f"{namespace}/{pod}/{container}"


def rows(observation: Observation) -> Iterator[Emitted]:
    """The log node with its findings, and its link to the pod; PermanentError names what does not fit."""
    record = observation.payload
    validation.check_container_log(record)
    namespace, pod, container = record.get("namespace"), record.get("pod"), record.get("container")
    # a container given as "" is a pod's only one (a `kubectl logs POD` saved without -c)
    missing = [name for name, value in (("namespace", namespace), ("pod", pod)) if not value]
    missing += ["container"] if container is None else []
    if missing:
        raise PermanentError(f"container log lacks {', '.join(missing)}")
    lines = log_lines.bounded(record.get("lines") or [])
    key = log_key(namespace, pod, container)
    findings = log_lines.classify(lines)
    fetched = record.get("fetched_at") or observation.observed_at
    props: dict[str, Any] = {
        "namespace": namespace, "pod": pod, "container": container,
        "pod_ref": resource_ref("Pod", namespace, pod), "pod_uid": record.get("pod_uid"),
        "restart_count": record.get("restart_count"), "previous": bool(record.get("previous")),
        "lines": lines, "line_count": len(lines),
        "truncated": bool(record.get("truncated")) or len(lines) < len(record.get("lines") or []),
        "fetched_at": parse_time(fetched), "source": record.get("source") or "file",
        "origin": observation.origin or None, "reason": record.get("reason"),
        "classes": [f.cls for f in findings],
        "lines_sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
    }
    yield CONTAINER_LOG, {"key": key, "props": props, "findings": [_finding(f, props) for f in findings]}
    if record.get("pod_uid"):
        yield LOG_TO_POD_BY_UID, {"key": key, "pod_uid": record["pod_uid"]}
    else:
        yield LOG_TO_POD_BY_NAME, {"key": key, "pod_ref": props["pod_ref"]}


def _finding(found: log_lines.Finding, log: dict[str, Any]) -> dict[str, Any]:
    return {"class": found.cls, "rank": found.rank, "line": found.line, "line_number": found.number,
            "count": found.count, "host": found.host, "port": found.port, "file": found.file,
            "lease": found.lease, "engine": found.engine, "detail": found.detail, "status": found.status,
            "namespace": log["namespace"], "pod": log["pod"], "container": log["container"],
            "restart_count": log["restart_count"], "fetched_at": log["fetched_at"]}


def _pod_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    """A pod links to the logs that came before it (by name; the uid must agree where the log knew it)."""
    if observation.action != "DELETED":
        yield POD_TO_LOGS, {"uid": obj["metadata"]["uid"]}


PROPS: dict[tuple[str, str], Any] = {}
ROWS: dict[tuple[str, str], Any] = {("", "Pod"): _pod_rows}

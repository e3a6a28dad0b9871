"""Rows for helm and kubectl process records (bpf/records.py): one operation node each, and its links.

Model (docs/ebpf.md):

* ``(:HelmOperation|:KubectlOperation {operation_id})`` with the record's fields as properties;
  times (``started_at``, ``ended_at``, ``signaled_at``) as Neo4j DateTime; nested parts
  (``flags``, ``children``) as JSON text in ``flags_json`` and ``children_json``.
* ``-[:TARGETS]->(:Release {key})`` for every release the command names (``helm status`` too).
* ``-[:PRODUCED]->(:Revision)`` for install, upgrade and rollback (not dry runs): revisions of the
  release whose ``last_deployed`` is within [started_at - 5s, ended_at + 5s] (open-ended while it
  runs). Only those operations carry ``release_key``, which the Revision writer uses for the same
  link when the Revision arrives after the operation.
* ``-[:CHILD_OF]->`` the operation that ran it (a helm run by a helm plugin or by kubectl); the
  parent is a placeholder node until its own record arrives.

A RUNNING record never overwrites an EXITED one, so replays in any order end at the final state.

Witnesses. eBPF sees the helm process itself; helm also runs where no tracer is: inside Flux's
helm-controller, behind an Argo CD sync, in a CI job's pod, in a CI runner whose log is all that is
left. Each of those is a *witness* of a helm run, and its mapper (kg_builder/gitops_flux.py,
gitops_argocd.py, ci_pods.py; ingest/ci_logs.py for logs) turns what it saw into the same record and
calls ``witness_rows``, so every pattern that reads a ``HelmOperation`` diagnoses it alike. Such a record
adds:

* ``witness``: ``ebpf`` (absent means ebpf), ``flux``, ``argocd``, ``ci_pod``, ``ci_log``;
* ``witness_kind`` / ``witness_name``: the object or file that said it (``HelmRelease`` /
  ``flux-system/podinfo``, ``Application`` / ``argocd/guestbook``, ``Pod`` / ``ci/deploy-7x9``,
  ``CILog`` / ``deploy.log:57``), cited as a diagnosis' evidence;
* ``said_by``: one line naming the witness and what it reported (``Flux HelmRelease flux-system/podinfo:
  Ready=False (UpgradeFailed)``), written by its mapper from observed fields only; for eBPF records it is
  made here from the pid and argv.

Witnessed records carry no pid, host or files: what a witness did not see stays absent.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from kg_builder import helm_errors, validation
from kg_builder.k8s_statements import RELEASE_FAILED_OPERATION
from kg_builder.statements import LINKS, NODES, Emitted, Statement
from kg_builder.times import with_times
from kgrca.contracts import Observation, PermanentError
from kgrca.keys import release_key
from kgrca.redaction import redact_text

LABELS = {"helm_process": "HelmOperation", "kubectl_process": "KubectlOperation"}
ACTIONS = ("EXITED", "RUNNING")
PRODUCING_COMMANDS = frozenset({"install", "upgrade", "rollback"})
MUTATING_COMMANDS = PRODUCING_COMMANDS | {"uninstall"}
KUBECTL_MUTATING = frozenset({"apply", "create", "delete", "replace", "patch", "edit", "scale", "rollout",
                              "set", "label", "annotate", "drain", "cordon", "uncordon", "taint", "autoscale"})
PRODUCED_SLACK = "PT5S"
_TIME_FIELDS = ("started_at", "ended_at", "signaled_at")
# Record fields stored as they are (scalars and lists of scalars).
_PLAIN_FIELDS = (
    "operation_id", "tool", "host", "pid", "ppid", "parent_operation_id", "binary", "comm", "argv",
    "argv_truncated", "cwd", "command", "subcommand", "release", "releases", "chart", "revision",
    "namespace", "namespace_explicit", "kube_context", "timeout", "timeout_seconds", "wait",
    "wait_for_jobs", "atomic", "install", "dry_run", "values_files", "set_values", "set_files",
    "manifest_files", "resources", "uid", "user", "gid", "cgroup_id", "cgroup", "container_id",
    "started_at", "ended_at", "duration_seconds", "status", "exit_code", "signal", "signal_received",
    "signal_from_pid", "signaled_at", "files_read", "files_written", "files_dropped", "api_endpoints",
    "stderr", "stderr_bytes", "stderr_truncated",
    "witness", "witness_kind", "witness_name", "said_by",
)
WITNESSES = ("ebpf", "flux", "argocd", "ci_pod", "ci_log")


@functools.cache
def operation_upsert(label: str) -> Statement:
    """One statement per label so the label is static and the plan cached."""
    return Statement(f"operation:{label}", NODES, f"""
UNWIND $rows AS row
MERGE (op:{label} {{operation_id: row.operation_id}})
WITH op, row, (row.final OR coalesce(op.status, 'running') = 'running') AS fresh
FOREACH (_ IN CASE WHEN fresh THEN [1] ELSE [] END |
  SET op += row.props, op.placeholder = null)
""")


@functools.cache
def targets(label: str) -> Statement:
    return Statement(f"operation_targets:{label}", LINKS, f"""
UNWIND $rows AS row
MATCH (op:{label} {{operation_id: row.operation_id}})
MERGE (r:Release {{key: row.key}})
ON CREATE SET r.namespace = row.namespace, r.name = row.name
MERGE (op)-[t:TARGETS]->(r)
SET t.command = row.command
""")


@functools.cache
def child_of(label: str, parent_label: str) -> Statement:
    return Statement(f"operation_child_of:{label}:{parent_label}", LINKS, f"""
UNWIND $rows AS row
MATCH (op:{label} {{operation_id: row.operation_id}})
MERGE (parent:{parent_label} {{operation_id: row.parent_operation_id}})
ON CREATE SET parent.placeholder = true
MERGE (op)-[:CHILD_OF]->(parent)
""")


PRODUCED = Statement("operation_produced", LINKS, f"""
UNWIND $rows AS row
MATCH (op:HelmOperation {{operation_id: row.operation_id}})
USING INDEX op:HelmOperation(operation_id)
MATCH (rev:Revision {{release_key: row.release_key}})
USING INDEX rev:Revision(release_key)
WHERE rev.last_deployed IS NOT NULL
  AND rev.last_deployed >= op.started_at - duration('{PRODUCED_SLACK}')
  AND (op.ended_at IS NULL OR rev.last_deployed <= op.ended_at + duration('{PRODUCED_SLACK}'))
MERGE (op)-[:PRODUCED]->(rev)
""")


def rows(observation: Observation) -> Iterable[Emitted]:
    label = LABELS.get(observation.kind)
    if label is None:
        raise PermanentError(f"operations cannot map observations of kind '{observation.kind}'")
    if observation.action not in ACTIONS:
        raise PermanentError(f"{observation.kind} action must be EXITED or RUNNING, not '{observation.action}'")
    record = observation.payload
    validation.check_process(record)  # a field of the wrong type rejects this record, named
    operation_id = record.get("operation_id")
    if not isinstance(operation_id, str) or not operation_id:
        raise PermanentError(f"{observation.kind} record has no operation_id")
    if not isinstance(record.get("started_at"), str):
        raise PermanentError(f"{operation_id}: record has no started_at")
    return _rows(label, observation, record, operation_id)


# The object that witnessed a run (a HelmRelease, an Application, a CI pod) and what it saw.
RAN = Statement("operation_witnessed_by", LINKS, """
UNWIND $rows AS row
MATCH (op:HelmOperation {operation_id: row.operation_id})
USING INDEX op:HelmOperation(operation_id)
MATCH (witness:Object {uid: row.witness_uid})
MERGE (witness)-[:RAN]->(op)
""", partition_by="operation_id")


def witness_rows(record: dict[str, Any], observed_at: str, origin: str = "") -> Iterator[Emitted]:
    """The rows of a helm run seen by a witness other than eBPF (see the module's docstring).

    ``record`` is a helm process record (bpf/records.py's fields, as far as the witness saw them) with
    ``witness``, ``witness_kind``, ``witness_name`` and ``said_by`` set, and ``witness_uid`` when the witness
    is a Kubernetes object (it gets ``-[:RAN]->`` the operation). A record whose ``status`` is
    ``running`` may be overwritten by a later one of the same ``operation_id``; a final one never is."""
    witness = record.get("witness")
    if witness not in WITNESSES or witness == "ebpf":
        raise PermanentError(f"a witnessed helm run needs witness one of {', '.join(WITNESSES[1:])}, not {witness!r}")
    for field in ("operation_id", "started_at", "said_by"):
        if not isinstance(record.get(field), str) or not record[field]:
            raise PermanentError(f"{witness} helm run record has no {field}")
    record = {"tool": "helm", **record}
    action = "RUNNING" if record.get("status") == "running" else "EXITED"
    observation = Observation("helm_process", action, record, observed_at, origin)
    yield from _rows("HelmOperation", observation, record, record["operation_id"])
    if record.get("witness_uid"):  # the object that saw it: (:HelmRelease|Application|Pod)-[:RAN]->(op)
        yield RAN, {"operation_id": record["operation_id"], "witness_uid": record["witness_uid"]}


def _said_by(record: dict[str, Any]) -> str | None:
    """eBPF's own line for evidence: the pid and the command line it ran."""
    if record.get("said_by"):
        return str(record["said_by"])
    if record.get("pid") is None:
        return None
    argv = " ".join(str(a) for a in record.get("argv") or [])
    return f"pid {record['pid']}: {argv}".rstrip(": ")


def _json(value: Any) -> str:
    """JSON text of a record's map or list; a record read from YAML may hold datetimes (unquoted times) or keys that
    are not strings, which JSON text still shows."""
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:  # keys of mixed types do not sort
        return json.dumps(value, default=str)


def _rows(label: str, observation: Observation, record: dict[str, Any], operation_id: str) -> Iterator[Emitted]:
    props = {name: record.get(name) for name in _PLAIN_FIELDS}
    if isinstance(props.get("stderr"), str):  # helm prints repository URLs with their credentials as given
        props["stderr"] = redact_text(props["stderr"])
    props["witness"] = record.get("witness") or "ebpf"
    props["said_by"] = _said_by(record)
    props["files_failed"] = [f"{item.get('path')}: {item.get('error')}" for item in record.get("files_failed") or []
                             if isinstance(item, dict)]
    props["flags_json"] = _json(record.get("flags") or {})
    props["children_json"] = _json(record.get("children") or [])
    props["observed_at"] = observation.observed_at
    command = record.get("command")
    namespace = record.get("namespace") or "default"
    releases = [name for name in record.get("releases") or [] if isinstance(name, str) and name]
    dry = record.get("dry_run") not in (None, "none", "false")
    tool = record.get("tool")
    produces = tool == "helm" and command in PRODUCING_COMMANDS and not dry and bool(record.get("release"))
    props["produces_revision"] = produces
    props["mutates_release"] = not dry and (
        command in MUTATING_COMMANDS if tool == "helm" else command in KUBECTL_MUTATING)
    witnessed = props["witness"] != "ebpf"
    # a witness names the release it ran for even where helm stores no revision (Argo CD renders with helm
    # template and applies itself), so detection can narrow to the release either way
    props["release_key"] = release_key(namespace, record["release"]) \
        if produces or (witnessed and record.get("release")) else None
    props["target_release_keys"] = [release_key(namespace, name) for name in releases]
    with_times(props, *_TIME_FIELDS, "observed_at")
    yield operation_upsert(label), {"operation_id": operation_id, "final": observation.action == "EXITED",
                                    "props": props}
    for name in releases:
        yield targets(label), {"operation_id": operation_id, "key": release_key(namespace, name),
                               "namespace": namespace, "name": name, "command": command}
    if produces:
        yield PRODUCED, {"operation_id": operation_id, "release_key": props["release_key"]}
        yield RELEASE_FAILED_OPERATION, {"release_key": props["release_key"]}
    stderr = props.get("stderr")
    if (props["mutates_release"] or witnessed) and tool == "helm" and record.get("status") == "failed" \
            and isinstance(stderr, str) and helm_errors.is_error_text(stderr) and releases:
        # helm's own words on a run that failed, often before it stored any revision (a template error, a
        # conflict): classified like a revision's description
        found = helm_errors.classify(stderr, releases[0], namespace)
        yield helm_errors.HELM_ERROR_OF_OPERATION, {
            "key": f"{operation_id}#stderr", "operation_id": operation_id,
            "props": with_times(helm_errors.props(found, release_key(namespace, releases[0]),
                                                  "helm_process" if props["witness"] == "ebpf" else props["witness"],
                                                  record.get("ended_at")), "at")}
    parent = record.get("parent_operation_id")
    if isinstance(parent, str) and parent:
        parent_label = "KubectlOperation" if parent.startswith("kubectl-") else "HelmOperation"
        yield child_of(label, parent_label), {"operation_id": operation_id, "parent_operation_id": parent}

"""The contracts between kgrca's layers. Read this file first.

Data flows one way::

    sources (ingest/, bpf/, webhooks/) --Observation--> kg_builder (GraphWriter) --> Neo4j
    Neo4j --read only--> rca/ (Pattern -> Diagnosis) --> faces (kgrca CLI, REST, reports)

* A source never writes the graph and never diagnoses: it turns what it saw into ``Observation``s.
* ``kg_builder`` is the only writer. Writing the same observations twice gives the same graph.
* Detection reads only the graph, so a diagnosis from a file dump and from a live cluster is the
  same code path. "No match" is an empty list, never an error.
* Bad input is a ``PermanentError`` (log it, dead-letter it, answer 4xx, go on); an unavailable
  dependency is a ``TemporaryError`` (retry with backoff; nothing is lost).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any, Literal, Protocol

# --- errors -------------------------------------------------------------------------------------


class KgrcaError(Exception):
    """A problem the user can act on. ``str(error)`` is one line: what is wrong and what to do.

    The CLI prints it as ``kgrca: <message>`` and exits with ``exit_code``; it never shows a traceback.
    """

    exit_code = 1


class ConfigError(KgrcaError):
    """A bad setting: the message names the key, where it came from and the form expected."""

    exit_code = 2


class PermanentError(KgrcaError):
    """Input that will never be accepted (malformed JSON, unknown kind): drop or dead-letter it."""


class TemporaryError(KgrcaError):
    """A dependency is unavailable (Neo4j down, Kafka unreachable): retry after ``delay`` seconds."""

    def __init__(self, message: str, delay: float = 1.0):
        super().__init__(message)
        self.delay = delay


# --- observations -------------------------------------------------------------------------------

ObservationKind = Literal["k8s", "helm_process", "kubectl_process", "webhook"]
K8S_ACTIONS = ("ADDED", "MODIFIED", "DELETED", "SNAPSHOT")


@dataclasses.dataclass(frozen=True, slots=True)
class Observation:
    """One thing a source saw, as a plain record.

    kind:
        ``"k8s"``: ``payload`` is a Kubernetes object as the API server returns it (``kind`` and
        ``apiVersion`` set), ``action`` one of ADDED, MODIFIED, DELETED or SNAPSHOT (from a list or
        a dump).
        ``"helm_process"`` / ``"kubectl_process"``: ``payload`` is a process record from ``bpf/``
        (see ``bpf/records.py``), ``action`` is ``"EXITED"`` or ``"RUNNING"``.
        ``"webhook"``: ``payload`` is a delivery from ``webhooks/``; ``action`` names the provider
        (``"github"``, ``"argocd"``, ``"jira"``).
    observed_at:
        When the source saw it (UTC, ISO 8601). History nodes take their times from the object itself
        where it has them, so replaying old input reproduces the same graph.
    origin:
        Where it came from, for error messages: ``"watch"``, ``"file:dump.json:12"``, ``"bpf"`` ...
    """

    kind: str
    action: str
    payload: dict[str, Any]
    observed_at: str
    origin: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"schema": 1, "kind": self.kind, "action": self.action, "payload": self.payload,
                "observed_at": self.observed_at, "origin": self.origin}

    @classmethod
    def from_json(cls, data: Any) -> Observation:
        if not isinstance(data, dict):
            raise PermanentError("expected a JSON object with kind, action and payload")
        missing = [k for k in ("kind", "action", "payload") if k not in data]
        if missing:
            raise PermanentError(f"observation lacks {', '.join(missing)}")
        if not isinstance(data["payload"], dict):
            raise PermanentError("observation payload must be a JSON object")
        return cls(str(data["kind"]), str(data["action"]), data["payload"],
                   str(data.get("observed_at") or utc_now()), str(data.get("origin", "")))


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclasses.dataclass
class WriteStats:
    """What a GraphWriter did: observations taken, rows written, observations rejected with why."""

    observations: int = 0
    rows: int = 0
    rejected: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (origin, reason)

    def add(self, other: WriteStats) -> None:
        self.observations += other.observations
        self.rows += other.rows
        self.rejected.extend(other.rejected)


class GraphWriter(Protocol):
    """The only way anything reaches the graph.

    ``write`` is idempotent: the same observations, in any number of calls, give the same nodes,
    relationships and properties. It batches internally (``UNWIND $rows``) and retries transient
    Neo4j errors; an observation it cannot map is reported in ``WriteStats.rejected`` and the rest
    are written. It raises ``TemporaryError`` only when Neo4j stays unavailable: then nothing of
    that call is acknowledged and the caller retries the whole call.
    """

    def write(self, observations: Iterable[Observation]) -> WriteStats: ...

    def close(self) -> None: ...


# --- diagnoses ----------------------------------------------------------------------------------

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
# The seven Helm shapes a diagnosis may explain (``Diagnosis.shape``); null when no Helm operation is involved.
SHAPES: tuple[str, ...] = ("hook_failure", "stuck_release", "template_error", "resource_conflict",
                           "partial_deployment", "wait_timeout", "crd_mismatch")


@dataclasses.dataclass
class Diagnosis:
    """What broke, why, the evidence, and what to run. ``to_json()`` gives the public JSON form::

        {"type": "operational", "severity", "source": "kgrca", "shape", "pattern", "confidence",
         "release": {"name", "namespace", "operation", "from_version", "to_version", "status"},
         "root_cause": {"summary", "details", "evidence": [...], "impact", "resolution"},
         "correlation": {"operation_id", "confidence", "event_chain": [...]}}

    ``release.controller`` (added with the GitOps sources) names the Flux HelmRelease or Argo CD Application
    that deploys the release, with its retry state; its impact and resolution then say what that controller
    does next and give its own commands (rca/gitops_context.py).

    Fields are added, never removed or renamed. ``consequences`` lists lower-ranked diagnoses of the
    same release that this one explains (a crash loop that made ``--wait`` time out). ``shape`` is the Helm
    shape the diagnosis explains (one of ``SHAPES``) when a Helm operation is involved, else null;
    ``pattern`` stays the specific cause: a crash loop that made ``--wait`` time out has shape
    ``wait_timeout`` and pattern ``crashloop``, and its summary says both.
    """

    pattern: str
    severity: str
    confidence: float
    summary: str
    details: str
    evidence: list[dict[str, Any]]
    impact: str
    resolution: list[str]
    release: dict[str, Any] | None = None
    subject: dict[str, Any] = dataclasses.field(default_factory=dict)
    operation_id: str | None = None
    correlation_confidence: float | None = None
    event_chain: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    tags: list[str] = dataclasses.field(default_factory=list)
    title: str = ""
    consequences: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    shape: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "operational",
            "severity": self.severity,
            "source": "kgrca",
            "shape": self.shape,
            "pattern": self.pattern,
            "title": self.title,
            "confidence": round(self.confidence, 3),
            "tags": self.tags,
            "release": self.release,
            "subject": self.subject,
            "root_cause": {
                "summary": self.summary,
                "details": self.details,
                "evidence": self.evidence,
                "impact": self.impact,
                "resolution": self.resolution,
            },
            "correlation": {
                "operation_id": self.operation_id,
                "confidence": round(self.correlation_confidence if self.correlation_confidence
                                    is not None else self.confidence, 3),
                "event_chain": self.event_chain,
            },
            "consequences": self.consequences,
        }

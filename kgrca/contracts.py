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
import re
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

ObservationKind = Literal["k8s", "helm_process", "kubectl_process", "webhook", "container_log"]
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
        ``"container_log"``: ``payload`` is the last lines of one container's log, already redacted
        (``namespace``, ``pod``, ``container``, ``lines``; ``pod_uid`` and ``restart_count``, the run the lines
        are from, where the source knows them; ``previous``, ``truncated``, ``reason``, ``source`` ``watch`` or
        ``file``, ``fetched_at``); ``action`` is ``"FETCHED"``. See docs/container-logs.md.
    observed_at:
        When the source saw it (UTC, ISO 8601). History nodes take their times from the object itself
        where it has them, so replaying old input reproduces the same graph.
    origin:
        Where it came from, for error messages: ``"watch"``, ``"file:dump.json:12"``, ``"bpf"`` ...
    cluster:
        The cluster it came from (``--cluster`` / ``KGRCA_CLUSTER``; see ``CLUSTER_NAME``). ``""`` is the
        unnamed cluster: what a graph held before clusters were named, keyed exactly as then. Messages
        without the field (written before it existed) belong to it.
    """

    kind: str
    action: str
    payload: dict[str, Any]
    observed_at: str
    origin: str = ""
    cluster: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {"schema": 1, "kind": self.kind, "action": self.action, "payload": self.payload,
                "observed_at": self.observed_at, "origin": self.origin}
        if self.cluster:  # the unnamed cluster's messages stay byte for byte what they were
            data["cluster"] = self.cluster
        return data

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
                   str(data.get("observed_at") or utc_now()), str(data.get("origin", "")),
                   check_cluster(data.get("cluster") or "", PermanentError))


# A cluster's name: what ``--cluster`` takes and graph keys carry (``<cluster>:<key>``, kgrca/keys.py). Letters,
# digits, ``.``, ``_`` and ``-``, so it never holds the ``:`` that ends it in a key nor the ``/`` of a URL path.
CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def check_cluster(name: Any, error: type[KgrcaError] = KgrcaError) -> str:
    """``name`` if it is a cluster name (``""`` is the unnamed cluster), else ``error`` saying the form expected."""
    if name == "" or (isinstance(name, str) and CLUSTER_NAME.fullmatch(name)):
        return name
    raise error(f"cluster name {name!r} is not valid: use up to 63 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit")


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

# The diagnosis contract is a typed model of its public JSON (kgrca/diagnosis.py): ``Diagnosis.to_json()`` is
# what `kgrca diagnose --json`, the REST API and the reports give, ``Diagnosis.json_schema()`` its JSON Schema
# (docs/diagnosis.schema.json). Fields are added, never removed or renamed.
from kgrca.diagnosis import (  # noqa: E402, F401  (re-exported: every layer imports the contracts from here)
    SEVERITIES,
    SHAPES,
    Correlation,
    Diagnosis,
    Evidence,
    Release,
    RootCause,
    Severity,
)

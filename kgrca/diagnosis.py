"""The diagnosis contract: what ``kgrca diagnose --json``, the REST API and the reports give, as typed models.

One diagnosis says what broke, why, the evidence, and what to run::

    {"type": "operational", "severity", "source": "kgrca", "shape", "pattern", "title", "confidence", "tags",
     "release": {"name", "namespace", "operation", "from_version", "to_version", "status", ...} | null,
     "subject": {"kind", "namespace", "name"},
     "root_cause": {"summary", "details", "evidence": [...], "impact", "resolution": [...]},
     "correlation": {"operation_id", "confidence", "event_chain": [...]},
     "consequences": [...]}

``Diagnosis.to_json()`` is that form; ``Diagnosis.model_validate(json)`` reads it back, and
``Diagnosis.json_schema()`` is its JSON Schema (``kgrca schema diagnosis``, docs/diagnosis.schema.json).

Fields are added, never removed or renamed. A key listed here as *present when* is absent otherwise (never
null in its place), so code that asks ``"context" in release`` keeps working; every other key is always
present, null where nothing was observed. Everything a diagnosis says comes from what was observed: a name,
quote, number or time is copied from an input field, and a missing one is said to be missing.

The records inside a diagnosis (release, subject, evidence, timeline entries, consequences) are typed
dictionaries: their values are plain dicts that carry the keys a pattern observed, in JSON as in Python.
The diagnosis itself also takes the flat keywords detection builds it with (``summary=``, ``evidence=``,
``operation_id=`` ...) and reads and writes them as attributes (``diagnosis.summary``), so the runner, the
text renderer and the reports address it as before.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Required, get_args

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

Severity = Literal["critical", "high", "medium", "low"]
# The seven Helm shapes a diagnosis may explain (``Diagnosis.shape``); null when no Helm operation is involved.
Shape = Literal["hook_failure", "stuck_release", "template_error", "resource_conflict", "partial_deployment",
                "wait_timeout", "crd_mismatch"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
SHAPES: tuple[str, ...] = get_args(Shape)

_OPEN = ConfigDict(extra="allow")
# A confidence from 0 to 1, given rounded to three places.
Confidence = Annotated[float, Field(ge=0, le=1)]  # a record keeps every key a pattern or a newer kgrca adds


def _doc(text: str) -> Any:
    return Field(description=text)


# --- what webhooks told about the release -----------------------------------------------------------------

class Commit(TypedDict, total=False):
    """The commit the release's newest revision was deployed from (an Argo CD sync or a GitHub push)."""

    __pydantic_config__ = _OPEN
    sha: Required[Annotated[str, _doc("the full commit SHA")]]
    message: Annotated[str | None, _doc("the commit message, as the provider sent it")]
    author: Annotated[str | None, _doc("the author's name or login")]
    url: Annotated[str | None, _doc("the commit's web page")]
    at: Annotated[str | None, _doc("when it was committed (RFC 3339)")]
    repo: Annotated[str | None, _doc("the repository, owner/name")]


class PullRequest(TypedDict, total=False):
    """The pull request merged as that commit (GitHub)."""

    __pydantic_config__ = _OPEN
    key: Annotated[str, _doc("owner/repo#number")]
    number: Annotated[int | None, _doc("the pull request's number")]
    title: Annotated[str | None, _doc("its title")]
    state: Annotated[str | None, _doc("open or closed, as GitHub said")]
    url: Annotated[str | None, _doc("its web page")]


class ArgoSync(TypedDict, total=False):
    """The newest Argo CD sync of an Application that renders the release (Argo CD Notifications)."""

    __pydantic_config__ = _OPEN
    app: Annotated[str, _doc("the Application, namespace/name")]
    phase: Annotated[str | None, _doc("the sync operation's phase (Succeeded, Failed, Error, Running)")]
    message: Annotated[str | None, _doc("the sync operation's message, verbatim")]
    at: Annotated[str | None, _doc("when the sync started (RFC 3339)")]


class Incident(TypedDict, total=False):
    """An open Jira issue that names the release."""

    __pydantic_config__ = _OPEN
    key: Annotated[str, _doc("the issue key, e.g. OPS-123")]
    summary: Annotated[str | None, _doc("the issue's summary")]
    status: Annotated[str | None, _doc("its Jira status")]
    priority: Annotated[str | None, _doc("its Jira priority")]
    url: Annotated[str | None, _doc("its web page")]


class ReleaseContext(TypedDict, total=False):
    """What webhooks told about the release's newest revision; each key is present when it was told."""

    __pydantic_config__ = _OPEN
    commit: Annotated[Commit, _doc("the commit deployed (present when told)")]
    pull_request: Annotated[PullRequest, _doc("the pull request merged as that commit (present when told)")]
    argo_sync: Annotated[ArgoSync, _doc("the newest Argo CD sync of the release (present when told)")]
    incidents: Annotated[list[Incident], _doc("open Jira incidents about the release (present when any)")]


class Controller(TypedDict, total=False):
    """The GitOps object that deploys the release and its retry state, as observed (rca/gitops_context.py).

    A field the object does not set is absent, never filled with the controller's default."""

    __pydantic_config__ = _OPEN
    controller: Required[Annotated[Literal["flux", "argocd"], _doc("which controller deploys the release")]]
    kind: Required[Annotated[Literal["HelmRelease", "Application"], _doc("the controller's object kind")]]
    namespace: Required[Annotated[str, _doc("the object's namespace")]]
    name: Required[Annotated[str, _doc("the object's name")]]
    suspended: Annotated[bool, _doc("Flux: spec.suspend")]
    stalled: Annotated[bool, _doc("Flux: the Stalled condition is True")]
    stalled_reason: Annotated[str, _doc("Flux: the Stalled condition's reason")]
    ready_status: Annotated[str, _doc("Flux: the Ready condition's status")]
    ready_reason: Annotated[str, _doc("Flux: the Ready condition's reason")]
    install_failures: Annotated[int, _doc("Flux: status.installFailures")]
    upgrade_failures: Annotated[int, _doc("Flux: status.upgradeFailures")]
    failures: Annotated[int, _doc("Flux: status.failures")]
    install_retries: Annotated[int, _doc("Flux: spec.install.remediation.retries (negative: unlimited)")]
    upgrade_retries: Annotated[int, _doc("Flux: spec.upgrade.remediation.retries (negative: unlimited)")]
    last_attempted_release_action: Annotated[str, _doc("Flux: status.lastAttemptedReleaseAction")]
    interval: Annotated[str, _doc("Flux: spec.interval")]
    source_kind: Annotated[str, _doc("Flux: the chart source's kind (HelmRepository, GitRepository ...)")]
    source_name: Annotated[str, _doc("Flux: the chart source's name")]
    source_namespace: Annotated[str, _doc("Flux: the chart source's namespace")]
    auto_sync: Annotated[bool, _doc("Argo CD: spec.syncPolicy.automated is set")]
    self_heal: Annotated[bool, _doc("Argo CD: spec.syncPolicy.automated.selfHeal")]
    retry_limit: Annotated[int, _doc("Argo CD: spec.syncPolicy.retry.limit (negative: unlimited)")]
    retry_count: Annotated[int, _doc("Argo CD: status.operationState.retryCount")]
    operation_phase: Annotated[str, _doc("Argo CD: status.operationState.phase")]
    sync_status: Annotated[str, _doc("Argo CD: status.sync.status")]
    health_status: Annotated[str, _doc("Argo CD: status.health.status")]


# --- the release and the object a diagnosis is about ------------------------------------------------------

_RELEASE_ALWAYS = ["name", "namespace", "operation", "from_version", "to_version", "status"]


def _release_schema(schema: dict[str, Any]) -> None:
    # Detection builds a release in steps ({"key"} first, then these), so the model takes fewer keys; what
    # kgrca gives always has these six, which the published schema says.
    schema["required"] = [*_RELEASE_ALWAYS, *(k for k in schema.get("required", []) if k not in _RELEASE_ALWAYS)]


class Release(TypedDict, total=False):
    """The Helm release a diagnosis is about: the operation that failed and the revisions it went between."""

    __pydantic_config__ = ConfigDict(extra="allow", json_schema_extra=_release_schema)
    name: Annotated[str, _doc("the release's name")]
    namespace: Annotated[str, _doc("the release's namespace")]
    operation: Annotated[str | None, _doc(
        "the helm operation: the command eBPF saw run (install, upgrade, rollback ...), else install, upgrade or "
        "rollback as read from the revision; null when no revision was seen")]
    from_version: Annotated[int | None, _doc("the last good revision before the operation (deployed or "
                                             "superseded); null when there is none")]
    to_version: Annotated[int | None, _doc("the revision the operation made; null when none was seen")]
    status: Annotated[str | None, _doc("that revision's Helm status (deployed, failed, pending-upgrade ...)")]
    rolled_back_to: Annotated[int | None, _doc(
        "present when a rollback undid the failed operation: the revision it rolled back to (null when the "
        "rollback's description does not name it); operation, to_version and status then describe the "
        "failed operation")]
    current_version: Annotated[int, _doc("present with rolled_back_to: the revision the release runs now")]
    context: Annotated[ReleaseContext, _doc("present when webhooks told about the newest revision")]
    controller: Annotated[Controller, _doc("present when a Flux HelmRelease or Argo CD Application deploys the "
                                           "release; the impact then says what it does next and the "
                                           "resolution ends with its commands")]
    cluster: Annotated[str | None, _doc("the cluster the release runs in, when clusters are named "
                                        "(--cluster); absent or null for the unnamed cluster")]


class Subject(TypedDict, total=False):
    """The object the diagnosis is about: the pod, workload, node or Helm object where the failure shows."""

    __pydantic_config__ = _OPEN
    kind: Annotated[str | None, _doc("its Kubernetes kind (Pod, Deployment, Job, Node ...) or a kgrca kind "
                                     "(Release)")]
    namespace: Annotated[str | None, _doc("its namespace; absent or null for cluster-scoped objects")]
    name: Annotated[str | None, _doc("its name")]
    cluster: Annotated[str | None, _doc("the cluster it is in, when clusters are named (--cluster)")]


# --- why: the root cause and its evidence -----------------------------------------------------------------

class Evidence(TypedDict, total=False):
    """One observed fact that supports the diagnosis: an event, a condition, a container state, helm's words.

    ``text`` is quoted from the input as it was (an event's message, a revision's description); keys the
    pattern did not observe are absent."""

    __pydantic_config__ = _OPEN
    kind: Annotated[str | None, _doc("what the fact is about or comes from: a Kubernetes kind (Pod, Event ...) "
                                     "or a kgrca fact (Revision, HelmError, HelmOperation ...)")]
    name: Annotated[str | None, _doc("the object's name (namespace/name where it is namespaced)")]
    text: Annotated[str | None, _doc("what was observed, verbatim where it is a message")]
    at: Annotated[str | None, _doc("when it was observed (RFC 3339)")]


class RootCause(BaseModel):
    """What broke and why, the facts that show it, what it stops, and what to run."""

    model_config = ConfigDict(extra="allow")
    summary: str = _doc("one sentence: what broke and why, with the names and quotes observed")
    details: str = _doc("more of the story, possibly several lines; empty when the summary says it all")
    evidence: list[Evidence] = _doc("the observed facts behind the summary, as the pattern found them")
    impact: str = _doc("what the failure stops or puts at risk; with a GitOps controller, what it does next")
    resolution: list[str] = _doc("commands to run, in order, with the release's names and revisions filled "
                                 "in; lines starting with '#' say what to do by hand")


# --- when: the operation and the events that led to the failure -------------------------------------------

class ChainEvent(TypedDict, total=False):
    """One step on the way to the failure, on one time axis."""

    __pydantic_config__ = _OPEN
    at: Required[Annotated[str, _doc("when it happened (RFC 3339)")]]
    what: Annotated[str | None, _doc("what happened, in words taken from the input")]


class Correlation(BaseModel):
    """How the failure is tied to a helm operation, and the chain of events that led to it."""

    model_config = ConfigDict(extra="allow")
    operation_id: str | None = _doc("the helm operation (eBPF HelmOperation) that made the release's newest "
                                    "revision; null when eBPF did not see it")
    confidence: float = Field(ge=0, le=1, description="how sure kgrca is that the events belong to this "
                                                      "failure; the diagnosis' confidence unless a pattern "
                                                      "says otherwise")
    event_chain: list[ChainEvent] = _doc("the events, oldest first; each has a time")

    @field_serializer("confidence")
    def _rounded(self, value: float) -> Confidence:
        return round(value, 3)


class Consequence(TypedDict):
    """A lower-ranked diagnosis of the same release that this one explains, folded into it."""

    __pydantic_config__ = _OPEN
    pattern: Annotated[str, _doc("the consequence's pattern")]
    shape: Annotated[Shape | None, _doc("the Helm shape it describes, if any")]
    summary: Annotated[str, _doc("its summary")]
    confidence: Annotated[Confidence, _doc("its confidence, 0 to 1")]


# --- the diagnosis ----------------------------------------------------------------------------------------

class Diagnosis(BaseModel):
    """What broke, why, the evidence, and what to run: one ranked finding of one failure pattern.

    ``shape`` is the Helm shape the diagnosis explains when a Helm operation is involved, else null;
    ``pattern`` stays the specific cause: a crash loop that made ``--wait`` time out has shape
    ``wait_timeout`` and pattern ``crashloop``, and its summary says both. ``consequences`` lists the
    lower-ranked diagnoses of the same release that this one explains.
    """

    model_config = ConfigDict(extra="allow", title="Diagnosis")

    type: Literal["operational"] = Field("operational", description="always \"operational\"")
    severity: Severity = _doc("the pattern's severity")
    source: Literal["kgrca"] = Field("kgrca", description="always \"kgrca\"")
    shape: Shape | None = Field(None, description=(
        "the Helm shape this diagnosis explains when a Helm operation is involved; null otherwise"))
    pattern: str = _doc("the specific cause: the id of the pattern that found it (cypher/patterns/<id>.cypher)")
    title: str = Field("", description="the pattern's title")
    confidence: float = Field(ge=0, le=1, description="how sure the pattern is, 0 to 1; diagnoses are "
                                                      "ranked by it, best first")
    tags: list[str] = Field(default_factory=list, description="the pattern's tags")
    release: Release | None = Field(None, description="the Helm release, when the failure is one of a "
                                                      "release; null for a workload or node cause outside any")
    subject: Subject = Field(default_factory=dict, description="the object the failure shows on")
    root_cause: RootCause = _doc("what broke and why, the evidence, the impact and what to run")
    correlation: Correlation = _doc("the helm operation and the chain of events that led to the failure")
    consequences: list[Consequence] = Field(default_factory=list, description=(
        "lower-ranked diagnoses of the same release that this one explains (a crash loop that made --wait time "
        "out), folded into it so one incident is one diagnosis"))

    @model_validator(mode="before")
    @classmethod
    def _from_detection(cls, data: Any) -> Any:
        """Takes the flat keywords detection builds a diagnosis with as well as the JSON form."""
        if not isinstance(data, dict) or "root_cause" in data:
            return data
        flat = dict(data)
        root_cause = {"summary": flat.pop("summary", ""), "details": flat.pop("details", ""),
                      "evidence": flat.pop("evidence", []), "impact": flat.pop("impact", ""),
                      "resolution": flat.pop("resolution", [])}
        confidence = flat.pop("correlation_confidence", None)
        correlation = {"operation_id": flat.pop("operation_id", None),
                       "confidence": confidence if confidence is not None else flat.get("confidence"),
                       "event_chain": flat.pop("event_chain", [])}
        return {**flat, "root_cause": root_cause, "correlation": correlation}

    @field_serializer("confidence")
    def _rounded(self, value: float) -> Confidence:
        return round(value, 3)

    def to_json(self) -> dict[str, Any]:
        """The public JSON form, as plain values (strings, numbers, lists, dicts, null)."""
        return self.model_dump(mode="json", fallback=str)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema (2020-12) of ``to_json()``: docs/diagnosis.schema.json."""
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                **cls.model_json_schema(mode="serialization")}

    # The flat attributes detection, the text renderer and the reports read and write.
    summary = property(lambda self: self.root_cause.summary,
                       lambda self, value: setattr(self.root_cause, "summary", value))
    details = property(lambda self: self.root_cause.details,
                       lambda self, value: setattr(self.root_cause, "details", value))
    evidence = property(lambda self: self.root_cause.evidence,
                        lambda self, value: setattr(self.root_cause, "evidence", value))
    impact = property(lambda self: self.root_cause.impact,
                      lambda self, value: setattr(self.root_cause, "impact", value))
    resolution = property(lambda self: self.root_cause.resolution,
                          lambda self, value: setattr(self.root_cause, "resolution", value))
    operation_id = property(lambda self: self.correlation.operation_id,
                            lambda self, value: setattr(self.correlation, "operation_id", value))
    event_chain = property(lambda self: self.correlation.event_chain,
                           lambda self, value: setattr(self.correlation, "event_chain", value))
    correlation_confidence = property(lambda self: self.correlation.confidence,
                                      lambda self, value: setattr(self.correlation, "confidence", value))

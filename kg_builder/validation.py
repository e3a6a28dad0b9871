"""The shapes kg_builder reads, checked at the boundary: one record that does not fit is one rejection.

A Kubernetes object (or a Helm release JSON) is checked against a typed model of only the fields the mappers
read, before any row is made, so a wrong-typed field costs its own record, named
(``field metadata.labels: expected an object, got a list``), and never the batch it came in. The models follow
the Kubernetes API types (ObjectMeta, PodSpec, ContainerStatus ..., Flux's and Argo CD's Go types) and Helm's
release struct: every field is optional (a missing field stays missing), but a field that is present must have
the type those APIs give it. A field kg_builder does not read is not looked at.

The models are TypedDicts compiled once into pydantic-core validators (strict: no "3" for 3), which costs a few
microseconds an object (bench/ingest_synthetic.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import PlainValidator, Strict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from kg_builder.times import parse_time
from kgrca.contracts import PermanentError

# --- scalars ------------------------------------------------------------------------------------------------

Str = Annotated[str, Strict()] | None
Bool = Annotated[bool, Strict()] | None
# Neo4j stores 64-bit integers: a bigger number would fail the whole batch's transaction
Int = Annotated[int, Strict(), Ge(-(2**63)), Le(2**63 - 1)] | None
StrList = list[Annotated[str, Strict()]] | None
StrMap = dict[str, Annotated[str, Strict()]] | None
# resource.Quantity: a string on the wire ("512Mi"); a hand-written YAML may give a plain number
Quantity = Annotated[str, Strict()] | Annotated[int, Strict(), Ge(-(2**63)), Le(2**63 - 1)] | None


def _time(value: Any) -> Any:
    """RFC 3339 (a string, or the datetime YAML makes of an unquoted one), '' for Helm's zero time, or null."""
    if value is None or value == "":
        return value
    if isinstance(value, str | dt.datetime) and parse_time(value) is not None:
        return value
    raise PydanticCustomError("time", "expected an RFC 3339 time")


Time = Annotated[Any, PlainValidator(_time)]


# --- Kubernetes: metadata and what every object may carry ---------------------------------------------------


class OwnerReference(TypedDict, total=False):
    uid: Str
    kind: Str
    name: Str
    apiVersion: Str
    controller: Bool


class ObjectMeta(TypedDict, total=False):
    name: Str
    namespace: Str
    uid: Str
    resourceVersion: Str
    generation: Int
    creationTimestamp: Time
    labels: StrMap
    annotations: StrMap
    ownerReferences: list[OwnerReference] | None


class Condition(TypedDict, total=False):
    type: Str
    status: Str
    reason: Str
    message: Str
    lastTransitionTime: Time
    lastUpdateTime: Time
    lastHeartbeatTime: Time
    lastProbeTime: Time


class Status(TypedDict, total=False):
    conditions: list[Condition] | None


class AnyObject(TypedDict, total=False):
    """Any kind: its metadata and, status being read for conditions, an object as status."""
    kind: Annotated[str, Strict()]
    apiVersion: Str
    metadata: ObjectMeta
    status: Status | None


class LabelSelectorRequirement(TypedDict, total=False):
    key: Str
    operator: Str
    values: StrList


class LabelSelector(TypedDict, total=False):
    matchLabels: StrMap
    matchExpressions: list[LabelSelectorRequirement] | None


# --- Pods and workloads -------------------------------------------------------------------------------------


class NamedRef(TypedDict, total=False):
    name: Str
    optional: Bool


class KeyRef(TypedDict, total=False):
    name: Str
    key: Str
    optional: Bool


class EnvSource(TypedDict, total=False):
    configMapKeyRef: KeyRef | None
    secretKeyRef: KeyRef | None


class EnvVar(TypedDict, total=False):
    name: Str
    value: Str
    valueFrom: EnvSource | None


class EnvFrom(TypedDict, total=False):
    configMapRef: NamedRef | None
    secretRef: NamedRef | None


class Resources(TypedDict, total=False):
    limits: dict[str, Quantity] | None


class Container(TypedDict, total=False):
    name: Str
    image: Str
    command: StrList
    args: StrList
    env: list[EnvVar] | None
    envFrom: list[EnvFrom] | None
    resources: Resources | None


class SecretVolume(TypedDict, total=False):
    secretName: Str
    optional: Bool


class ClaimVolume(TypedDict, total=False):
    claimName: Str


class ProjectedSource(TypedDict, total=False):
    configMap: NamedRef | None
    secret: NamedRef | None


class Projected(TypedDict, total=False):
    sources: list[ProjectedSource] | None


class Volume(TypedDict, total=False):
    name: Str
    configMap: NamedRef | None
    secret: SecretVolume | None
    persistentVolumeClaim: ClaimVolume | None
    projected: Projected | None


class PodSpec(TypedDict, total=False):
    nodeName: Str
    restartPolicy: Str
    containers: list[Container] | None
    initContainers: list[Container] | None
    volumes: list[Volume] | None
    imagePullSecrets: list[NamedRef] | None


class ContainerStateDetail(TypedDict, total=False):
    reason: Str
    message: Str
    exitCode: Int
    signal: Int
    startedAt: Time
    finishedAt: Time


class ContainerStatus(TypedDict, total=False):
    name: Str
    image: Str
    restartCount: Int
    state: dict[str, ContainerStateDetail | None] | None
    lastState: dict[str, ContainerStateDetail | None] | None


class PodStatus(TypedDict, total=False):
    phase: Str
    reason: Str
    message: Str
    startTime: Time
    conditions: list[Condition] | None
    containerStatuses: list[ContainerStatus] | None
    initContainerStatuses: list[ContainerStatus] | None


class Pod(AnyObject, total=False):
    spec: PodSpec | None
    status: PodStatus | None


class PodTemplate(TypedDict, total=False):
    spec: PodSpec | None


class WorkloadSpec(TypedDict, total=False):
    replicas: Int
    completions: Int
    parallelism: Int
    backoffLimit: Int
    activeDeadlineSeconds: Int
    selector: LabelSelector | None
    template: PodTemplate | None


class WorkloadStatus(TypedDict, total=False):
    conditions: list[Condition] | None
    replicas: Int
    readyReplicas: Int
    numberReady: Int
    availableReplicas: Int
    numberAvailable: Int
    updatedReplicas: Int
    updatedNumberScheduled: Int
    unavailableReplicas: Int
    numberUnavailable: Int
    desiredNumberScheduled: Int
    observedGeneration: Int
    active: Int
    succeeded: Int
    failed: Int
    startTime: Time
    completionTime: Time


class Workload(AnyObject, total=False):
    """Deployment, ReplicaSet, StatefulSet, DaemonSet and Job (the fields of each are disjoint or alike)."""
    spec: WorkloadSpec | None
    status: WorkloadStatus | None


# --- other built-in kinds -----------------------------------------------------------------------------------


class ServiceSpec(TypedDict, total=False):
    type: Str
    clusterIP: Str
    selector: StrMap


class Service(AnyObject, total=False):
    spec: ServiceSpec | None


class Taint(TypedDict, total=False):
    key: Str
    value: Str
    effect: Str


class NodeSpec(TypedDict, total=False):
    unschedulable: Bool
    taints: list[Taint] | None


class NodeStatus(TypedDict, total=False):
    conditions: list[Condition] | None
    allocatable: dict[str, Quantity] | None


class Node(AnyObject, total=False):
    spec: NodeSpec | None
    status: NodeStatus | None


class PhaseStatus(TypedDict, total=False):
    phase: Str
    conditions: list[Condition] | None


class ClaimSpec(TypedDict, total=False):
    storageClassName: Str
    volumeName: Str


class Claim(AnyObject, total=False):
    spec: ClaimSpec | None
    status: PhaseStatus | None


class Namespace(AnyObject, total=False):
    status: PhaseStatus | None


class CrdVersion(TypedDict, total=False):
    name: Str
    served: Bool


class CrdNames(TypedDict, total=False):
    kind: Str


class CrdSpec(TypedDict, total=False):
    group: Str
    scope: Str
    names: CrdNames | None
    versions: list[CrdVersion] | None


class Crd(AnyObject, total=False):
    spec: CrdSpec | None


class DataObject(AnyObject, total=False):
    """ConfigMap and Secret: their keys are read (never their values), and a release's storage is decoded."""
    type: Str
    data: StrMap
    binaryData: StrMap
    stringData: StrMap


class ServiceReference(TypedDict, total=False):
    namespace: Str
    name: Str
    path: Str
    port: Int


class ClientConfig(TypedDict, total=False):
    url: Str
    service: ServiceReference | None


class AdmissionRule(TypedDict, total=False):
    apiGroups: StrList
    apiVersions: StrList
    operations: StrList
    resources: StrList


class Webhook(TypedDict, total=False):
    name: Str
    failurePolicy: Str
    clientConfig: ClientConfig | None
    namespaceSelector: LabelSelector | None
    rules: list[AdmissionRule] | None


class WebhookConfiguration(AnyObject, total=False):
    webhooks: list[Webhook] | None


# --- Events (core/v1 and events.k8s.io/v1) ------------------------------------------------------------------


class ObjectReference(TypedDict, total=False):
    kind: Str
    namespace: Str
    name: Str
    uid: Str
    fieldPath: Str


class EventSeries(TypedDict, total=False):
    count: Int
    lastObservedTime: Time


class EventSource(TypedDict, total=False):
    component: Str
    host: Str


class Event(AnyObject, total=False):
    involvedObject: ObjectReference | None
    regarding: ObjectReference | None
    series: EventSeries | None
    source: EventSource | None
    reason: Str
    type: Str
    message: Str
    note: Str
    reportingComponent: Str
    reportingController: Str
    reportingInstance: Str
    count: Int
    deprecatedCount: Int
    firstTimestamp: Time
    lastTimestamp: Time
    eventTime: Time
    deprecatedFirstTimestamp: Time
    deprecatedLastTimestamp: Time


# --- Flux (helm-controller api/v2, source-controller api/v1, kustomize-controller api/v1) -------------------


class CrossNamespaceRef(TypedDict, total=False):
    kind: Str
    name: Str
    namespace: Str


class HelmChartTemplateSpec(TypedDict, total=False):
    chart: Str
    version: Str
    sourceRef: CrossNamespaceRef | None


class HelmChartTemplate(TypedDict, total=False):
    spec: HelmChartTemplateSpec | None


class Remediation(TypedDict, total=False):
    retries: Int
    strategy: Str


class HelmAction(TypedDict, total=False):
    remediation: Remediation | None


class HelmReleaseSpec(TypedDict, total=False):
    releaseName: Str
    targetNamespace: Str
    storageNamespace: Str
    suspend: Bool
    interval: Str
    chart: HelmChartTemplate | None
    chartRef: CrossNamespaceRef | None
    install: HelmAction | None
    upgrade: HelmAction | None


class Snapshot(TypedDict, total=False):
    version: Int
    chartName: Str
    chartVersion: Str
    status: Str


class HelmReleaseStatus(TypedDict, total=False):
    conditions: list[Condition] | None
    storageNamespace: Str
    lastAttemptedRevision: Str
    lastAttemptedReleaseAction: Str
    lastAttemptedGeneration: Int
    installFailures: Int
    upgradeFailures: Int
    failures: Int
    history: list[Snapshot] | None


class FluxHelmRelease(AnyObject, total=False):
    spec: HelmReleaseSpec | None
    status: HelmReleaseStatus | None


class SourceSpec(TypedDict, total=False):
    url: Str
    endpoint: Str
    suspend: Bool
    interval: Str
    chart: Str  # a HelmChart's chart is its name; a HelmRelease's is a template (above)
    version: Str
    sourceRef: CrossNamespaceRef | None
    path: Str
    targetNamespace: Str


class Artifact(TypedDict, total=False):
    revision: Str


class SourceStatus(TypedDict, total=False):
    conditions: list[Condition] | None
    artifact: Artifact | None
    lastAppliedRevision: Str
    lastAttemptedRevision: Str


class FluxSource(AnyObject, total=False):
    """Flux's sources (HelmRepository, OCIRepository, GitRepository, HelmChart, Bucket) and Kustomization."""
    spec: SourceSpec | None
    status: SourceStatus | None


# --- Argo CD (application/v1alpha1 types.go) ---------------------------------------------------------------


class ApplicationSourceHelm(TypedDict, total=False):
    releaseName: Str
    namespace: Str
    valueFiles: StrList


class ApplicationSource(TypedDict, total=False):
    repoURL: Str
    chart: Str
    targetRevision: Str
    path: Str
    helm: ApplicationSourceHelm | None


class ApplicationDestination(TypedDict, total=False):
    namespace: Str
    server: Str
    name: Str


class RetryStrategy(TypedDict, total=False):
    limit: Int


class SyncPolicy(TypedDict, total=False):
    retry: RetryStrategy | None


class ApplicationSpec(TypedDict, total=False):
    project: Str
    source: ApplicationSource | None
    sources: list[ApplicationSource] | None
    destination: ApplicationDestination | None
    syncPolicy: SyncPolicy | None


class SyncStatus(TypedDict, total=False):
    status: Str


class HealthStatus(TypedDict, total=False):
    status: Str
    message: Str


class ResourceResult(TypedDict, total=False):
    kind: Str
    namespace: Str
    name: Str
    status: Str
    message: Str


class SyncResult(TypedDict, total=False):
    resources: list[ResourceResult] | None


class OperationState(TypedDict, total=False):
    phase: Str
    message: Str
    startedAt: Time
    finishedAt: Time
    retryCount: Int
    syncResult: SyncResult | None


class ApplicationStatus(TypedDict, total=False):
    conditions: list[Condition] | None
    sync: SyncStatus | None
    health: HealthStatus | None
    operationState: OperationState | None
    reconciledAt: Time
    controllerNamespace: Str
    sourceType: Str
    sourceTypes: StrList


class Application(AnyObject, total=False):
    spec: ApplicationSpec | None
    status: ApplicationStatus | None


# --- the models by kind -------------------------------------------------------------------------------------

_FLUX_HELM = "helm.toolkit.fluxcd.io"
_FLUX_GROUPS = ("source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io")
_ARGO = "argoproj.io"

_ANY = TypeAdapter(AnyObject)
_BY_KIND: dict[str, TypeAdapter[Any]] = {}
for _model, _kinds in (
        (Pod, ("Pod",)), (Workload, ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")),
        (Service, ("Service",)), (Node, ("Node",)), (Claim, ("PersistentVolumeClaim",)),
        (Namespace, ("Namespace",)), (Crd, ("CustomResourceDefinition",)), (DataObject, ("ConfigMap", "Secret")),
        (WebhookConfiguration, ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")),
        (Event, ("Event",))):
    _adapter = TypeAdapter(_model)
    for _kind in _kinds:
        _BY_KIND[_kind] = _adapter
_BY_GROUP_KIND: dict[tuple[str, str], TypeAdapter[Any]] = {(_FLUX_HELM, "HelmRelease"): TypeAdapter(FluxHelmRelease)}
_FLUX_SOURCE = TypeAdapter(FluxSource)
for _group in _FLUX_GROUPS:
    for _kind in ("HelmRepository", "OCIRepository", "GitRepository", "HelmChart", "Bucket", "Kustomization"):
        _BY_GROUP_KIND[(_group, _kind)] = _FLUX_SOURCE
_BY_GROUP_KIND[(_ARGO, "Application")] = TypeAdapter(Application)


def check_object(obj: Any, as_kind: bool = True) -> None:
    """PermanentError naming the first field of ``obj`` that does not have the type kg_builder reads it as;
    ``as_kind`` False checks only what any object is read for (a CRD that calls itself Pod is no Pod)."""
    if not isinstance(obj, dict):
        raise PermanentError(f"expected a Kubernetes object, got {_described(obj)}")
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    # built-in kinds by kind alone, as k8s_objects reads them; the controllers' kinds by group too
    adapter = (_BY_GROUP_KIND.get((group, kind)) or (_BY_KIND.get(kind) if as_kind else None)) \
        if isinstance(kind, str) else None
    try:
        (adapter or _ANY).validate_python(obj)
    except ValidationError as exc:
        raise PermanentError(f"{_identity(obj)}{_first_error(exc)}") from None


# --- Helm's release JSON (helm.sh/helm/v3 pkg/release) -------------------------------------------------------


class ReleaseInfo(TypedDict, total=False):
    status: Str
    description: Str
    first_deployed: Time
    last_deployed: Time
    deleted: Time
    rollback_revision: Int


class ChartMetadata(TypedDict, total=False):
    name: Str
    version: Str
    appVersion: Str


class Chart(TypedDict, total=False):
    metadata: ChartMetadata | None


class HookExecution(TypedDict, total=False):
    phase: Str
    started_at: Time
    completed_at: Time


class Hook(TypedDict, total=False):
    name: Str
    kind: Str
    path: Str
    manifest: Str
    events: StrList
    weight: Int
    delete_policies: StrList
    output_log_policies: StrList
    last_run: HookExecution | None


class Release(TypedDict, total=False):
    name: Str
    namespace: Str
    version: Annotated[int, Strict(), Ge(0), Le(2**31 - 1)] | None  # helm's revision is an int
    info: ReleaseInfo | None
    chart: Chart | None
    config: dict[str, Any] | None
    manifest: Str
    hooks: list[Hook] | None
    apply_method: Str


_RELEASE = TypeAdapter(Release)


def check_release(release: dict[str, Any], where: str) -> None:
    """PermanentError ``<where>: release field info: expected an object, got a string`` for a release JSON
    whose fields do not have the types Helm writes."""
    try:
        _RELEASE.validate_python(release)
    except ValidationError as exc:
        raise PermanentError(f"{where}: release {_first_error(exc)}") from None


# --- helm and kubectl process records (bpf/records.py), as eBPF or a kgrca observation line gives them ---------

def _scalar(value: Any) -> Any:
    """One value a property holds: a string, true or false, a float, or an integer within 64 bits."""
    if value is None or isinstance(value, str | bool | float):
        return value
    if isinstance(value, int) and -(2**63) <= value <= 2**63 - 1:
        return value
    raise PydanticCustomError("scalar", "expected a string, a number within 64 bits, or true or false")


Scalar = Annotated[Any, PlainValidator(_scalar)]


class FileFailure(TypedDict, total=False):
    path: Str
    error: Str


class ProcessRecord(TypedDict, total=False):
    """The fields operations.py stores as they are: each a scalar or a list of strings, as Neo4j keeps them."""
    operation_id: Str
    parent_operation_id: Str
    tool: Str
    host: Str
    binary: Str
    comm: Str
    cwd: Str
    command: Str
    subcommand: Str
    release: Str
    chart: Str
    namespace: Str
    kube_context: Str
    user: Str
    cgroup: Str
    container_id: Str
    status: Str
    stderr: Str
    said_by: Str
    witness: Str
    witness_uid: Str
    pid: Int
    ppid: Int
    uid: Int
    gid: Int
    cgroup_id: Int
    exit_code: Int
    signal_from_pid: Int
    files_dropped: Int
    stderr_bytes: Int
    started_at: Time
    ended_at: Time
    signaled_at: Time
    revision: Scalar
    timeout: Scalar
    timeout_seconds: Scalar
    duration_seconds: Scalar
    dry_run: Scalar
    signal: Scalar
    signal_received: Scalar
    argv_truncated: Scalar
    namespace_explicit: Scalar
    wait: Scalar
    wait_for_jobs: Scalar
    atomic: Scalar
    install: Scalar
    stderr_truncated: Scalar
    argv: StrList
    releases: StrList
    values_files: StrList
    set_values: StrList
    set_files: StrList
    manifest_files: StrList
    resources: StrList
    files_read: StrList
    files_written: StrList
    api_endpoints: StrList
    files_failed: list[FileFailure] | None


_PROCESS = TypeAdapter(ProcessRecord)


def check_process(record: Any) -> None:
    """PermanentError ``field argv[2]: expected a string, got an object`` for a process record that does not fit."""
    if not isinstance(record, dict):
        raise PermanentError(f"expected a process record (an object), got {_described(record)}")
    try:
        _PROCESS.validate_python(record)
    except ValidationError as exc:
        operation = record.get("operation_id")
        raise PermanentError(f"{operation + ': ' if isinstance(operation, str) else ''}{_first_error(exc)}") \
            from None


class ContainerLogRecord(TypedDict, total=False):
    """A ``container_log`` observation's payload (kg_builder/facts_logs.py, docs/container-logs.md)."""
    namespace: Str
    pod: Str
    pod_uid: Str
    container: Str
    restart_count: Int
    previous: Bool
    truncated: Bool
    lines: StrList
    fetched_at: Time
    source: Str
    reason: Str


_CONTAINER_LOG = TypeAdapter(ContainerLogRecord)


def check_container_log(record: Any) -> None:
    """PermanentError ``field lines[3]: expected a string, got a number`` for a container log that does not fit."""
    if not isinstance(record, dict):
        raise PermanentError(f"expected a container log (an object), got {_described(record)}")
    try:
        _CONTAINER_LOG.validate_python(record)
    except ValidationError as exc:
        raise PermanentError(_first_error(exc)) from None


# --- what a property holds ----------------------------------------------------------------------------------

_NEO4J_MAX_OFFSET = dt.timedelta(hours=18)
_SCALARS = (str, bool, int, float, dt.datetime)


def property_problem(value: Any) -> str | None:
    """What makes ``value`` no Neo4j property ("a map", "a list holding null", ...), or None when it is one: a
    scalar (string, boolean, 64-bit integer, float, datetime with an offset within 18 hours), or a list of one
    scalar type without nulls. None itself removes a property, which is fine."""
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is float:
        return None
    if kind is int:
        return None if -(2**63) <= value <= 2**63 - 1 else "an integer beyond 64 bits"
    if kind is list:
        if not value:
            return None
        first = type(value[0])
        for item in value:
            if item is None:
                return "a list holding null"
            if type(item) is not first and not (isinstance(item, int | float) and issubclass(first, int | float)):
                return "a list of mixed types"
            if isinstance(item, list | dict):
                return "a list of lists or maps"
            problem = property_problem(item)
            if problem is not None:
                return f"a list holding {problem}"
        return None
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        return None if offset is None or abs(offset) <= _NEO4J_MAX_OFFSET else "a time with an offset beyond 18 hours"
    if isinstance(value, dict):
        return "a map"
    return None if isinstance(value, _SCALARS) else f"a {kind.__name__}"


# --- messages -----------------------------------------------------------------------------------------------

_EXPECTED = {
    "dict_type": "an object", "list_type": "a list", "string_type": "a string", "int_type": "an integer",
    "bool_type": "true or false", "greater_than_equal": "a 64-bit integer", "less_than_equal": "a 64-bit integer",
    "missing": "a value", "time": "an RFC 3339 time",
    "scalar": "a string, a number within 64 bits, or true or false",
}


def _first_error(exc: ValidationError) -> str:
    """``field metadata.labels: expected an object, got a list`` for the first error (the others are alike)."""
    errors = exc.errors(include_url=False)
    error = errors[0]
    path = _path(error["loc"])
    expected = _EXPECTED.get(error["type"])
    if expected is None:
        return f"field {path}: {error['msg']}"
    if error["type"] in ("greater_than_equal", "less_than_equal") and error["loc"][-1:] == ("version",):
        expected = "a revision number"
    return f"field {path}: expected {expected}, got {_described(error.get('input'))}"


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("str", "int", "function-plain[_time()]") or item.startswith(("constrained-", "function-")):
            continue  # a union member's tag, not a field
        else:
            parts.append(f".{item}" if parts else str(item))
    return "".join(parts) or "(the object)"


def _described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"the string {shown!r}"
    if isinstance(value, int | float):
        return f"the number {value}" if abs(value) < 10**20 else "a number too big"
    return type(value).__name__


def _identity(obj: dict[str, Any]) -> str:
    """``Pod default/web: `` where the object's own kind and name are readable, so a watch names what it skips."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    kind, name, namespace = obj.get("kind"), meta.get("name"), meta.get("namespace")
    if not isinstance(kind, str) or not isinstance(name, str):
        return ""
    return f"{kind} {namespace}/{name}: " if isinstance(namespace, str) and namespace else f"{kind} {name}: "

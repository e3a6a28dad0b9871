"""Argo CD: Applications (``applications.argoproj.io``), the helm runs they witness, and what they manage.

The model is in docs/gitops-argocd.md. In short:

* ``(:Object:Application {uid})`` gets the properties of ``application_props`` (the release it renders, its
  destination, sync, health and operation state, sync policy, conditions, source);
* ``(app)-[:DEPLOYS]->(:Release {key})`` where it renders with helm (``spec.source.helm`` or ``.chart`` set, or
  Argo CD reported the source type Helm), and the webhook receiver's ``(:ArgoApp {key: "appns/name"})`` gets the
  same properties, ``RENDERS`` the same Release and is ``WATCHED_AS`` the Application, so deliveries and the
  watch add to one node;
* the helm runs it witnessed: a sync operation (``command: sync``, Argo CD applies what helm rendered) and a
  ComparisonError / InvalidSpecError condition (``command: template``, where ``helm template`` errors show) become
  ``(:HelmOperation {witness: 'argocd'})`` through ``operations.witness_rows``, linked ``(app)-[:RAN]->(op)``;
* ``(app)-[:MANAGES]->(:Object)`` from Argo CD's tracking annotation on any object (``ANY_ROWS``), or its legacy
  instance label where an Application of that instance name exists (helm charts set the same label).

Go types followed: github.com/argoproj/argo-cd/v3@v3.2.0 pkg/apis/application/v1alpha1/types.go.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kg_builder import operations, webhook_context
from kg_builder.statements import LINKS, Emitted, Statement
from kg_builder.times import parse_time
from kgrca.contracts import Observation
from kgrca.keys import release_key, resource_version

GROUP = "argoproj.io"
KIND = "Application"
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
# The condition types Argo CD sets when it cannot render or read the desired state (helm template's errors).
RENDER_CONDITIONS = ("ComparisonError", "InvalidSpecError")
FAILED_PHASES = ("Failed", "Error")
RUNNING_PHASES = ("Running", "Terminating")

Obj = dict[str, Any]

# Only while this row's resourceVersion is the object's newest: a stale replay leaves links as they are.
DEPLOYS = Statement("argocd_deploys", LINKS, """
UNWIND $rows AS row
MATCH (app:Object {uid: row.uid})
WHERE coalesce(app.rv, -2) <= row.rv
OPTIONAL MATCH (app)-[old:DEPLOYS]->(gone:Release)
WHERE row.key IS NULL OR gone.key <> row.key
DELETE old
WITH DISTINCT app, row
WHERE row.key IS NOT NULL
MERGE (rel:Release {key: row.key})
ON CREATE SET rel.namespace = row.namespace, rel.name = row.name
MERGE (app)-[:DEPLOYS]->(rel)
""")

WATCHED_AS = Statement("argocd_watched_as", LINKS, """
UNWIND $rows AS row
MATCH (argo:ArgoApp {key: row.key})
MATCH (app:Object {uid: row.uid})
MERGE (argo)-[:WATCHED_AS]->(app)
""")

# From a tracked object: remember the instance name it is tracked under (so an Application written later finds
# it), and link it to the Application of that name that exists now. An Application is never created from here.
TRACKED = Statement("argocd_tracked", LINKS, """
UNWIND $rows AS row
MATCH (o:Object {uid: row.uid})
WHERE coalesce(o.rv, -2) <= row.rv
SET o.argocd_instance = row.instance, o.argocd_tracked_by = row.by
WITH o, row
MATCH (app:Application {name: row.app_name})
WHERE app.api_version STARTS WITH 'argoproj.io/' AND row.instance IN coalesce(app.tracking_names, [])
MERGE (app)-[m:MANAGES]->(o)
SET m.by = row.by
""")

# From an Application: the objects already known to be tracked under one of its instance names.
MANAGES = Statement("argocd_manages", LINKS, """
UNWIND $rows AS row
MATCH (app:Object {uid: row.uid})
UNWIND row.tracking_names AS instance
MATCH (o:Object {argocd_instance: instance})
MERGE (app)-[m:MANAGES]->(o)
SET m.by = o.argocd_tracked_by
""")


# --- the Application's own fields ---------------------------------------------------------------------------


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _sources(spec: Obj) -> list[Obj]:
    """spec.source, or spec.sources[] (a multi-source Application)."""
    if spec.get("source"):
        return [_dict(spec["source"])]
    return [_dict(s) for s in spec.get("sources") or []]


def _source_types(status: Obj) -> list[Any]:
    return [status.get("sourceType")] if status.get("sourceType") else list(status.get("sourceTypes") or [])


def helm_source(obj: Obj) -> Obj | None:
    """The source Argo CD renders with helm: the first with ``helm`` or ``chart`` set, or whose type Argo CD
    reported as Helm (a git path holding a Chart.yaml needs neither field); None when none renders with helm."""
    sources = _sources(_dict(obj.get("spec")))
    types = _source_types(_dict(obj.get("status")))
    for index, source in enumerate(sources):
        reported = types[index] if index < len(types) else None
        if source.get("helm") or source.get("chart") or reported == "Helm":
            return source
    return None


def release_of(obj: Obj) -> tuple[str, str] | None:
    """(namespace, name) of the Helm release the Application renders, or None.

    The name is helm.releaseName, else the Application's name (helm template's --name-template); the namespace
    helm.namespace, else the destination namespace (its --namespace). Without either namespace there is no
    release key: Argo CD then passes no namespace and kgrca does not guess one."""
    source = helm_source(obj)
    if source is None:
        return None
    helm = _dict(source.get("helm"))
    namespace = helm.get("namespace") or _dict(_dict(obj.get("spec")).get("destination")).get("namespace")
    name = helm.get("releaseName") or _dict(obj.get("metadata")).get("name")
    return (namespace, name) if namespace and name else None


def tracking_names(obj: Obj) -> list[str]:
    """The instance names Argo CD tracks this Application's objects under (util/argo AppInstanceName): its name in
    the control plane's namespace, ``<namespace>_<name>`` elsewhere; both while status.controllerNamespace is
    unknown."""
    meta = _dict(obj.get("metadata"))
    name, namespace = meta.get("name") or "", meta.get("namespace") or ""
    controller = _dict(obj.get("status")).get("controllerNamespace")
    if not namespace or namespace == controller:
        return [name]
    qualified = f"{namespace}_{name}"
    return [qualified] if controller else [name, qualified]


def application_props(obj: Obj) -> dict[str, Any]:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    destination = _dict(spec.get("destination"))
    policy = _dict(spec.get("syncPolicy"))
    automated = policy.get("automated")
    state = _dict(status.get("operationState"))
    release = release_of(obj)
    source = helm_source(obj) or next(iter(_sources(spec)), {})
    return {
        "release_key": release_key(*release) if release else None,
        "release_name": release[1] if release else None,
        "destination_namespace": destination.get("namespace"),
        "destination_server": destination.get("server") or destination.get("name"),
        "project": spec.get("project"),
        "sync_status": _dict(status.get("sync")).get("status"),
        "health_status": _dict(status.get("health")).get("status"),
        "health_message": _dict(status.get("health")).get("message"),
        "operation_phase": state.get("phase"),
        "operation_message": state.get("message"),
        "operation_started_at": parse_time(state.get("startedAt")),
        "operation_finished_at": parse_time(state.get("finishedAt")),
        "retry_count": int(state.get("retryCount") or 0) if state else None,  # omitempty: absent is 0
        # SyncPolicy.IsAutomatedSyncEnabled: automated present and not switched off with enabled: false
        "auto_sync": isinstance(automated, dict) and automated.get("enabled") is not False,
        "self_heal": bool(_dict(automated).get("selfHeal")),
        "prune": bool(_dict(automated).get("prune")),
        "retry_limit": _dict(policy.get("retry")).get("limit"),
        "conditions_text": [f"{c.get('type')}: {c['message']}" if c.get("message") else str(c.get("type"))
                            for c in status.get("conditions") or [] if isinstance(c, dict)],
        "repo_url": source.get("repoURL"),
        "chart": source.get("chart"),
        "target_revision": source.get("targetRevision"),
        "path": source.get("path"),
        "values_files": list(_dict(source.get("helm")).get("valueFiles") or []) or None,
        "tracking_names": tracking_names(obj),
    }


# --- rows ----------------------------------------------------------------------------------------------------


def application_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    meta = obj["metadata"]
    uid = meta["uid"]
    rv = _resource_version(meta)
    release = release_of(obj)
    key = release_key(*release) if release else None
    yield DEPLOYS, {"uid": uid, "rv": rv, "key": key, "namespace": release[0] if release else None,
                    "name": release[1] if release else None}
    yield from _argo_app_rows(obj, observation, release)
    yield MANAGES, {"uid": uid, "tracking_names": tracking_names(obj)}
    if release is None or observation.action == "DELETED":
        return  # Argo CD's own apply or kustomize runs are no helm runs; a deleted Application reports nothing new
    for record in witnessed_runs(obj, release):
        yield from operations.witness_rows(record, observation.observed_at, observation.origin)


def _argo_app_rows(obj: Obj, observation: Observation, release: tuple[str, str] | None) -> Iterator[Emitted]:
    """The webhook receiver's ArgoApp node, from the watched object (the props webhooks/normalize.py gives it)."""
    meta = obj["metadata"]
    props = application_props(obj)
    key = f"{meta.get('namespace') or ''}/{meta.get('name')}"
    yield webhook_context.ARGO_APP, {"key": key, "seen_at": parse_time(observation.observed_at), "props": {
        "name": meta.get("name"), "namespace": meta.get("namespace"), "project": props["project"],
        "sync_status": props["sync_status"], "health": props["health_status"], "repo_url": props["repo_url"],
        "chart": props["chart"], "target_revision": props["target_revision"], "path": props["path"],
        "destination_namespace": props["destination_namespace"],
        "destination_server": props["destination_server"], "release_name": props["release_name"]}}
    if release:
        yield webhook_context.RENDERS, {"key": key, "release_key": release_key(*release),
                                        "release_namespace": release[0], "release_name": release[1]}
    yield WATCHED_AS, {"key": key, "uid": meta["uid"]}


def _resource_version(meta: Obj) -> int:
    return resource_version(meta)


# --- the helm runs an Application witnessed -------------------------------------------------------------------


def witnessed_runs(obj: Obj, release: tuple[str, str]) -> Iterator[dict[str, Any]]:
    """Helm process records (operations.py's witnessed form) of the sync operation and of each rendering error."""
    sync = sync_record(obj, release)
    if sync:
        yield sync
    yield from render_records(obj, release)


def _base_record(obj: Obj, release: tuple[str, str]) -> dict[str, Any]:
    meta = obj["metadata"]
    source = helm_source(obj) or {}
    values = list(_dict(source.get("helm")).get("valueFiles") or [])
    return {"witness": "argocd", "witness_kind": KIND, "witness_uid": meta["uid"],
            "witness_name": f"{meta.get('namespace') or ''}/{meta.get('name')}",
            "release": release[1], "releases": [release[1]], "namespace": release[0],
            "chart": source.get("chart") or source.get("path"), **({"values_files": values} if values else {})}


def sync_attempt(state: Obj) -> tuple[str, int] | None:
    """(status, attempt) of the sync attempt operationState describes, or None for a phase it does not name.

    Argo CD keeps startedAt across retries: a failed attempt with retries left shows phase Running with finishedAt
    set and retryCount already counting the next attempt (controller/appcontroller.go); the final phase keeps the
    retryCount of the last attempt."""
    phase = state.get("phase")
    retries = int(state.get("retryCount") or 0)
    if phase in RUNNING_PHASES and state.get("finishedAt"):
        return "failed", max(retries - 1, 0)
    if phase in FAILED_PHASES:
        return "failed", retries
    if phase == "Succeeded":
        return "succeeded", retries
    if phase in RUNNING_PHASES:
        return "running", retries
    return None


def sync_record(obj: Obj, release: tuple[str, str]) -> dict[str, Any] | None:
    status = _dict(obj.get("status"))
    state = _dict(status.get("operationState"))
    attempt = sync_attempt(state)
    if attempt is None or not state.get("startedAt"):
        return None
    outcome, number = attempt
    record = _base_record(obj, release)
    record.update({
        "operation_id": f"argocd:{obj['metadata']['uid']}:sync:{state['startedAt']}:{number}",
        "command": "sync", "status": outcome, "started_at": state["startedAt"],
        "said_by": _sync_said_by(record["witness_name"], state, outcome)})
    if outcome != "running":
        record["ended_at"] = state.get("finishedAt")
    if outcome == "failed":
        record["stderr"] = sync_failure_text(state)
    return record


def _sync_said_by(app: str, state: Obj, outcome: str) -> str:
    retries = f", retryCount {state['retryCount']}" if state.get("retryCount") else ""
    if outcome == "failed" and state.get("phase") in RUNNING_PHASES:
        return f"Argo CD Application {app}: sync attempt failed, retry pending (phase {state['phase']}{retries})"
    return f"Argo CD Application {app}: sync {state.get('phase')}{retries}"


def sync_failure_text(state: Obj) -> str:
    """operationState.message, then each resource the sync could not apply as ``Kind/namespace/name: message``."""
    lines = [state["message"]] if state.get("message") else []
    for result in _dict(state.get("syncResult")).get("resources") or []:
        if isinstance(result, dict) and result.get("status") == "SyncFailed":
            lines.append(f"{result.get('kind')}/{result.get('namespace') or ''}/{result.get('name')}: "
                         f"{result.get('message') or '(no message)'}")
    return "\n".join(lines)


def render_records(obj: Obj, release: tuple[str, str]) -> Iterator[dict[str, Any]]:
    """A ComparisonError or InvalidSpecError condition: helm template (or reading the desired state) failed.

    Its time is the condition's lastTransitionTime (Argo CD keeps it while the message stays the same, so one
    failure is one operation however often Argo CD retries it); status.reconciledAt where the condition has none;
    a condition with neither time is left out (no time to say)."""
    status = _dict(obj.get("status"))
    for condition in status.get("conditions") or []:
        if not isinstance(condition, dict) or condition.get("type") not in RENDER_CONDITIONS \
                or not condition.get("message"):
            continue
        at = condition.get("lastTransitionTime") or status.get("reconciledAt")
        if not at:
            continue
        record = _base_record(obj, release)
        record.update({
            "operation_id": f"argocd:{obj['metadata']['uid']}:template:{condition['type']}:{at}",
            "command": "template", "status": "failed", "started_at": at, "ended_at": at,
            "stderr": condition["message"],
            "said_by": f"Argo CD Application {record['witness_name']}: {condition['type']}"
                       + (f" (sync {_dict(status.get('sync')).get('status')})"
                          if _dict(status.get("sync")).get("status") else "")})
        yield record


# --- tracking: which objects an Application manages ------------------------------------------------------------


def tracking_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    """For any object: the Argo CD instance it is tracked under, by annotation or (failing that) by label."""
    meta = obj["metadata"]
    annotation = (meta.get("annotations") or {}).get(TRACKING_ANNOTATION)
    if annotation:
        instance = tracked_instance(obj, annotation)
        by = "annotation"
    else:
        # the label: only on objects Argo CD applies itself (a child's labels are copied from its owner's template)
        instance = None if meta.get("ownerReferences") else (meta.get("labels") or {}).get(INSTANCE_LABEL)
        by = "label"
    if not instance or observation.action == "DELETED":
        return
    app_name = instance.split("_", 1)[1] if "_" in instance else instance
    yield TRACKED, {"uid": meta["uid"], "rv": _resource_version(meta), "instance": instance,
                    "app_name": app_name, "by": by}


def tracked_instance(obj: Obj, tracking_id: str) -> str | None:
    """The instance name in ``<app>:<group>/<kind>:<namespace>/<name>`` when it names this very object.

    Argo CD ignores a tracking id copied onto another object (a Deployment's annotations on its ReplicaSet); the
    namespace is not compared for a cluster-scoped object (Argo CD writes the destination namespace there)."""
    app, _, rest = tracking_id.partition(":")
    group_kind, _, namespace_name = rest.partition(":")
    group, _, kind = group_kind.partition("/")
    namespace, _, name = namespace_name.partition("/")
    meta = obj["metadata"]
    api_version = obj.get("apiVersion") or ""
    own_group = api_version.rpartition("/")[0] if "/" in api_version else ""
    own_namespace = meta.get("namespace") or ""
    if not app or kind != obj.get("kind") or name != meta.get("name") or group != own_group:
        return None
    if own_namespace and namespace != own_namespace:
        return None
    return app


PROPS = {(GROUP, KIND): application_props}
ROWS = {(GROUP, KIND): application_rows}
ANY_ROWS = [tracking_rows]

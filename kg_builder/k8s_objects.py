"""Rows for Kubernetes objects: the object, its name slot, ownership, references, history and Events.

The model is documented in docs/graph-model.md. Times are stored as Neo4j DateTime. History nodes
(ContainerState, Condition) are keyed by what changed, so replaying the same objects adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from kg_builder import (
    ci_pods,
    facts_logs,
    facts_network,
    facts_nodes,
    facts_storage,
    facts_workloads,
    gitops_argocd,
    gitops_flux,
    helm_errors,
    helm_release,
    validation,
    webhook_context,
)
from kg_builder import k8s_statements as st
from kg_builder.statements import Emitted, Statement
from kg_builder.times import parse_time, with_times
from kgrca.contracts import Observation, PermanentError
from kgrca.keys import hook_key, release_key, resource_ref, resource_version, revision_key

_LABEL_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# Labels of nodes kgrca itself owns: no Kubernetes object may take them, whatever its kind is called (a CRD may be
# called Release or Delivery), or it would pass for one of them (GET /api/v1/releases, delivery counts).
OWN_LABELS = frozenset({
    "Release", "Revision", "Hook", "HelmError", "HelmOperation", "KubectlOperation", "Resource", "Condition",
    "ContainerState", "Event", "Delivery", "Commit", "PullRequest", "GitHubIssue", "GitHubDeployment", "JiraIssue",
    "ArgoApp", "CIJob", "CIRun",
})
# The API groups of the kinds kgrca reads by label; the same kind from another group (a CRD) is a plain Object.
KIND_GROUPS: dict[str, frozenset[str]] = {
    **{k: frozenset({""}) for k in ("Pod", "Service", "Node", "ConfigMap", "Secret", "Namespace",
                                    "PersistentVolumeClaim", "PersistentVolume", "ServiceAccount", "Endpoints")},
    **{k: frozenset({"apps", "extensions"}) for k in ("Deployment", "ReplicaSet", "DaemonSet")},
    "StatefulSet": frozenset({"apps"}), "Job": frozenset({"batch"}), "CronJob": frozenset({"batch"}),
    "CustomResourceDefinition": frozenset({"apiextensions.k8s.io"}),
    "ValidatingWebhookConfiguration": frozenset({"admissionregistration.k8s.io"}),
    "MutatingWebhookConfiguration": frozenset({"admissionregistration.k8s.io"}),
    "Ingress": frozenset({"networking.k8s.io", "extensions"}),
    **{k: frozenset({"networking.k8s.io"}) for k in ("IngressClass", "NetworkPolicy")},
    "EndpointSlice": frozenset({"discovery.k8s.io"}), "StorageClass": frozenset({"storage.k8s.io"}),
    "HorizontalPodAutoscaler": frozenset({"autoscaling"}), "PodDisruptionBudget": frozenset({"policy"}),
    "CertificateSigningRequest": frozenset({"certificates.k8s.io"}),
    "HelmRelease": frozenset({"helm.toolkit.fluxcd.io"}), "Kustomization": frozenset({"kustomize.toolkit.fluxcd.io"}),
    **{k: frozenset({"source.toolkit.fluxcd.io"}) for k in ("HelmRepository", "OCIRepository", "GitRepository",
                                                              "HelmChart", "Bucket")},
    "Application": frozenset({"argoproj.io"}),
}


def kind_label(kind: str, api_version: Any) -> str:
    """The node label of a Kubernetes object: its kind, or ``Object`` alone when the kind is not a plain word, is
    one of kgrca's own labels, or is a kind kgrca reads from another API group than its own (an object whose
    apiVersion is not given is taken at its word, as a dump may leave it out)."""
    if not _LABEL_SAFE.match(kind) or kind in OWN_LABELS:
        return "Object"
    groups = KIND_GROUPS.get(kind)
    if groups is not None and isinstance(api_version, str) and api_version.rpartition("/")[0] not in groups:
        return "Object"
    return kind


def rows(observation: Observation) -> Iterable[Emitted]:
    obj = observation.payload
    kind = obj.get("kind") if isinstance(obj, dict) else None
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not kind or not isinstance(kind, str) or not isinstance(meta, dict):
        raise PermanentError("not a Kubernetes object: expected 'kind' (a string) and 'metadata' (an object)")
    event = kind == "Event" and _group(obj) in ("", "events.k8s.io")
    # a wrong-typed field rejects this object, named, before any row is made; a kind's own fields are checked only
    # where they are read as that kind's (a CRD that calls itself Pod is not)
    validation.check_object(obj, as_kind=event or kind_label(kind, obj.get("apiVersion")) == kind)
    if event:
        yield from _event_rows(obj, observation)
        return
    if not meta.get("uid"):
        raise PermanentError(f"{kind} {meta.get('namespace', '')}/{meta.get('name', '')} has no metadata.uid")
    yield from _object_rows(obj, observation)
    if helm_release.is_release_storage(obj):
        yield from _release_rows(obj, observation)


# --- objects ------------------------------------------------------------------------------------


def _object_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    kind = obj["kind"]
    meta = obj["metadata"]
    uid = meta["uid"]
    namespace = meta.get("namespace") or ""
    deleted = observation.action == "DELETED"
    label = kind_label(kind, obj.get("apiVersion"))
    modelled = kind if label == kind else None  # a CRD that calls itself Pod is not read as a Pod
    props = _common_props(obj)
    props.update(_KIND_PROPS.get(modelled, _no_props)(obj))
    group_kind = (_group(obj), kind)
    for extra_props in _GROUP_KIND_PROPS.get(group_kind, ()):
        props.update(extra_props(obj))
    if modelled in _HEALTH_KINDS:
        props["unhealthy"] = _unhealthy_now(kind, props)
    with_times(props, *_TIME_FIELDS)
    # the last gate, for a field no model names (a props module reads it as it is): one object refused, named,
    # rather than its whole batch refused by Neo4j
    for name, value in props.items():
        if (problem := validation.property_problem(value)) is not None:
            raise PermanentError(f"{kind} {namespace}/{meta.get('name')}: property {name} would be {problem} "
                                 "(a field of the wrong type)")
    yield st.object_upsert(label), {
        "uid": uid, "ref": props["ref"], "kind": kind, "namespace": namespace, "name": meta.get("name"),
        "rv": _resource_version(meta), "props": props, "deleted": deleted,
        "at": parse_time(observation.observed_at),
    }
    if props.get("helm_hook"):  # a hook is what carries helm.sh/hook; the pods its Job makes are not hooks
        yield st.OBJECT_RAN_FOR_HOOK, {"uid": uid}
    for owner in meta.get("ownerReferences") or []:
        if owner.get("uid"):
            yield st.OWNED_BY, {
                "uid": uid, "owner_uid": owner["uid"], "owner_kind": owner.get("kind"),
                "owner_name": owner.get("name"), "controller": bool(owner.get("controller")),
                "owner_ref": resource_ref(owner.get("kind", ""), namespace, owner.get("name", "")),
            }
    annotations = meta.get("annotations") or {}
    release = annotations.get("meta.helm.sh/release-name")
    if release:
        release_ns = annotations.get("meta.helm.sh/release-namespace") or namespace
        yield st.MANAGES, {"uid": uid, "key": release_key(release_ns, release), "namespace": release_ns,
                           "name": release}
    yield from _KIND_EXTRA.get(modelled, _no_rows)(obj, observation)
    for extra_rows in _GROUP_KIND_ROWS.get(group_kind, ()):
        yield from extra_rows(obj, observation)
    for any_rows in _ANY_OBJECT_ROWS:  # links any object may carry (Argo CD's tracking annotation, ...)
        yield from any_rows(obj, observation)
    yield from _condition_rows(uid, kind, obj, observation)


def _common_props(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    return {
        "kind": obj["kind"],
        "api_version": obj.get("apiVersion"),
        "name": meta.get("name"),
        "namespace": meta.get("namespace") or "",
        "ref": resource_ref(obj["kind"], meta.get("namespace"), meta.get("name", "")),
        "label_pairs": sorted(f"{k}={v}" for k, v in labels.items()),
        "created_at": meta.get("creationTimestamp"),
        "managed_by": labels.get("app.kubernetes.io/managed-by"),
        "helm_release": annotations.get("meta.helm.sh/release-name"),
        "helm_hook": annotations.get("helm.sh/hook"),
        "generation": meta.get("generation"),
    }


def _resource_version(meta: dict[str, Any]) -> int:
    """resourceVersion as a number where it is one (etcd revisions are), so stale replays don't win."""
    return resource_version(meta)


def _no_props(obj: dict[str, Any]) -> dict[str, Any]:
    return {}


def _no_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    return iter(())


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


def _pod_props(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    ready = next((c.get("status") == "True" for c in status.get("conditions") or [] if c.get("type") == "Ready"),
                 False)
    return {
        "phase": status.get("phase"),
        "reason": status.get("reason"),
        "message": status.get("message"),
        "node_name": spec.get("nodeName"),
        "ready": ready,
        "start_time": status.get("startTime"),
        "restarts": sum(int(c.get("restartCount") or 0) for c in statuses),
        "waiting_reasons": sorted({((c.get("state") or {}).get("waiting") or {}).get("reason") for c in statuses}
                                  - {None}),
        "images": [c.get("image") for c in _containers(spec) if c.get("image")],
        "has_readiness_probe": any(c.get("readinessProbe") for c in spec.get("containers") or []),
        # a quantity is a string on the wire; a hand-written 512 stays one type with the others' strings
        "memory_limits": [str(((c.get("resources") or {}).get("limits") or {}).get("memory") or "")
                          for c in spec.get("containers") or []],
        "restart_policy": spec.get("restartPolicy"),
    }


def _pod_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    uid = obj["metadata"]["uid"]
    namespace = obj["metadata"].get("namespace") or ""
    spec = obj.get("spec") or {}
    if spec.get("nodeName"):
        yield st.SCHEDULED_ON, {"uid": uid, "ref": resource_ref("Node", None, spec["nodeName"]),
                                "name": spec["nodeName"]}
    for kind, name, how, optional, key in _pod_references(spec):
        yield st.USES, {"uid": uid, "ref": resource_ref(kind, namespace, name), "kind": kind,
                        "namespace": namespace, "name": name, "how": how, "optional": optional, "key": key}
    yield st.POD_SELECTED_BY, {"uid": uid, "namespace": namespace}
    yield from _container_state_rows(uid, obj, observation)


def _pod_references(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, bool, str | None]]:
    def ref(source: dict[str, Any], field: str) -> dict[str, Any] | None:
        value = source.get(field)  # a field given as null refers to nothing
        return value if isinstance(value, dict) else None

    for volume in spec.get("volumes") or []:
        if (config_map := ref(volume, "configMap")) is not None:
            yield "ConfigMap", config_map.get("name") or "", "volume", bool(config_map.get("optional")), None
        if (secret := ref(volume, "secret")) is not None:
            yield "Secret", secret.get("secretName") or "", "volume", bool(secret.get("optional")), None
        if (claim := ref(volume, "persistentVolumeClaim")) is not None:
            yield "PersistentVolumeClaim", claim.get("claimName") or "", "volume", False, None
        for source in (volume.get("projected") or {}).get("sources") or []:
            for field, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                if (found := ref(source, field)) is not None:
                    yield kind, found.get("name") or "", "projected", bool(found.get("optional")), None
    for container in _containers(spec):
        for env_from in container.get("envFrom") or []:
            for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if (found := ref(env_from, field)) is not None:
                    yield kind, found.get("name") or "", "envFrom", bool(found.get("optional")), None
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if (found := ref(source, field)) is not None:
                    yield kind, found.get("name") or "", "env", bool(found.get("optional")), found.get("key")
    for secret in spec.get("imagePullSecrets") or []:
        if secret.get("name"):
            yield "Secret", secret["name"], "imagePull", True, None


def _container_state_rows(uid: str, obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    yield from _history_row(st.CONTAINER_STATES, uid, _container_states(uid, obj, observation))


def _history_row(statement: Statement, uid: str, items: Iterator[dict[str, Any]]) -> Iterator[Emitted]:
    """One row per object with all its history items of a kind: the object is looked up once, not per item."""
    listed = list(items)
    if listed:
        yield statement, {"uid": uid, "items": listed}


def _container_states(uid: str, obj: dict[str, Any], observation: Observation) -> Iterator[dict[str, Any]]:
    status = obj.get("status") or {}
    for init, field in ((True, "initContainerStatuses"), (False, "containerStatuses")):
        for container in status.get(field) or []:
            name = container.get("name", "")
            restarts = int(container.get("restartCount") or 0)
            for state_of, restart in (("state", restarts), ("lastState", restarts - 1)):
                for state, detail in (container.get(state_of) or {}).items():
                    if not isinstance(detail, dict) or restart < 0:
                        continue
                    reason = detail.get("reason") or ("Running" if state == "running" else None)
                    at = detail.get("finishedAt") or detail.get("startedAt") or observation.observed_at
                    yield {
                        "key": f"{uid}/{name}/{restart}/{state}/{reason or ''}",
                        "at": parse_time(at),
                        "props": {
                            "container": name, "init": init, "state": state, "reason": reason,
                            "message": (detail.get("message") or "")[:2000] or None,
                            "exit_code": detail.get("exitCode"), "signal": detail.get("signal"),
                            "restart_count": restart, "started_at": parse_time(detail.get("startedAt")),
                            "finished_at": parse_time(detail.get("finishedAt")), "image": container.get("image"),
                        },
                    }


def _job_props(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
    failed = conditions.get("Failed") or {}
    return {
        "completions": spec.get("completions"), "parallelism": spec.get("parallelism"),
        "backoff_limit": spec.get("backoffLimit"), "active_deadline_seconds": spec.get("activeDeadlineSeconds"),
        "active": status.get("active") or 0, "succeeded": status.get("succeeded") or 0,
        "failed": status.get("failed") or 0, "start_time": status.get("startTime"),
        "completion_time": status.get("completionTime"),
        "complete": "Complete" in conditions, "failed_reason": failed.get("reason"),
        "failed_message": failed.get("message"),
        "images": [c.get("image") for c in _containers(((spec.get("template") or {}).get("spec")) or {})
                   if c.get("image")],
    }


def _workload_props(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    progressing = conditions.get("Progressing") or {}
    template_spec = ((spec.get("template") or {}).get("spec")) or {}
    return {
        "replicas": spec.get("replicas"),
        "ready_replicas": status.get("readyReplicas") or status.get("numberReady") or 0,
        "available_replicas": status.get("availableReplicas") or status.get("numberAvailable") or 0,
        "updated_replicas": status.get("updatedReplicas") or status.get("updatedNumberScheduled") or 0,
        "unavailable_replicas": status.get("unavailableReplicas") or status.get("numberUnavailable") or 0,
        "desired_scheduled": status.get("desiredNumberScheduled"),
        "observed_generation": status.get("observedGeneration"),
        "progressing_reason": progressing.get("reason"),
        "selector_pairs": sorted(f"{k}={v}" for k, v in
                                 ((spec.get("selector") or {}).get("matchLabels") or {}).items()),
        "images": [c.get("image") for c in _containers(template_spec) if c.get("image")],
    }


def _service_props(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    return {"service_type": spec.get("type"), "cluster_ip": spec.get("clusterIP"),
            "selector_pairs": sorted(f"{k}={v}" for k, v in (spec.get("selector") or {}).items())}


def _service_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    if (obj.get("spec") or {}).get("selector"):
        yield st.SERVICE_SELECTS, {"uid": obj["metadata"]["uid"], "namespace": obj["metadata"].get("namespace")}


def _node_props(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    ready = conditions.get("Ready") or {}
    allocatable = status.get("allocatable") or {}
    return {
        "ready": ready.get("status") == "True", "ready_reason": ready.get("reason"),
        "unschedulable": bool(spec.get("unschedulable")),
        "taints": [f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in spec.get("taints") or []],
        "pressure": sorted(t for t, c in conditions.items()
                           if t and t.endswith("Pressure") and c.get("status") == "True"),
        "allocatable_cpu": allocatable.get("cpu"), "allocatable_memory": allocatable.get("memory"),
    }


def _pvc_props(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    return {"phase": (obj.get("status") or {}).get("phase"), "storage_class": spec.get("storageClassName"),
            "volume_name": spec.get("volumeName")}


def _crd_props(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    group = spec.get("group")
    versions = [v["name"] for v in spec.get("versions") or [] if v.get("name") and v.get("served", True)]
    return {"group": group, "crd_kind": (spec.get("names") or {}).get("kind"), "scope": spec.get("scope"),
            "served_versions": versions, "served_api_versions": [f"{group}/{v}" for v in versions]}


def _data_keys_props(obj: dict[str, Any]) -> dict[str, Any]:
    """ConfigMaps and Secrets: metadata and the names of their keys, never their values."""
    keys = sorted(set(obj.get("data") or {}) | set(obj.get("binaryData") or {}) | set(obj.get("stringData") or {}))
    return {"data_keys": keys, "secret_type": obj.get("type")}


def _namespace_props(obj: dict[str, Any]) -> dict[str, Any]:
    return {"phase": (obj.get("status") or {}).get("phase")}


def _webhook_config_props(obj: dict[str, Any]) -> dict[str, Any]:
    """Validating/MutatingWebhookConfiguration: one entry per webhook in parallel lists (a property holds no map).

    What is not set in the object is stored as '' (a list holds no null): a missing failurePolicy is kept
    missing here; the v1 API documents Fail as its default (v1beta1: Ignore), and the pattern reads it so.
    """
    hooks = [h for h in obj.get("webhooks") or [] if isinstance(h, dict)]
    services = [(h.get("clientConfig") or {}).get("service") or {} for h in hooks]
    return {
        "webhook_names": [h.get("name") or "" for h in hooks],
        "webhook_failure_policies": [h.get("failurePolicy") or "" for h in hooks],
        "webhook_service_namespaces": [s.get("namespace") or "" for s in services],
        "webhook_service_names": [s.get("name") or "" for s in services],
        "webhook_service_ports": ["" if s.get("port") is None else str(s["port"]) for s in services],
        "webhook_service_paths": [s.get("path") or "" for s in services],
        "webhook_urls": [(h.get("clientConfig") or {}).get("url") or "" for h in hooks],
        "webhook_service_refs": [resource_ref("Service", s["namespace"], s["name"])
                                 if s.get("namespace") and s.get("name") else "" for s in services],
        "webhook_namespace_selectors": [_selector_text(h.get("namespaceSelector")) for h in hooks],
        "webhook_rules": ["; ".join(_rule_text(r) for r in h.get("rules") or [] if isinstance(r, dict))
                          for h in hooks],
    }


def _selector_text(selector: dict[str, Any] | None) -> str:
    """A label selector as kubectl's -l text ("a=b,team in (x,y),!legacy"); '' when it selects everything."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(op, f"{key} {op} ({values})"))
    return ",".join(parts)


def _rule_text(rule: dict[str, Any]) -> str:
    """One admission rule: "CREATE,UPDATE apps/v1 deployments" (the core group as core, lists comma-joined)."""
    groups = ",".join(g or "core" for g in rule.get("apiGroups") or [])
    return (f"{','.join(rule.get('operations') or [])} {groups}/{','.join(rule.get('apiVersions') or [])} "
            f"{','.join(rule.get('resources') or [])}")


def _webhook_config_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    """Each webhook's Service by name, as a USES link to its slot (how 'webhook', key the webhook's name)."""
    uid = obj["metadata"]["uid"]
    for hook in obj.get("webhooks") or []:
        service = ((hook or {}).get("clientConfig") or {}).get("service") or {}
        if service.get("namespace") and service.get("name"):
            yield st.USES, {"uid": uid, "ref": resource_ref("Service", service["namespace"], service["name"]),
                            "kind": "Service", "namespace": service["namespace"], "name": service["name"],
                            "how": "webhook", "optional": False, "key": hook.get("name") or ""}


_KIND_PROPS = {
    "Pod": _pod_props, "Job": _job_props, "Deployment": _workload_props, "ReplicaSet": _workload_props,
    "StatefulSet": _workload_props, "DaemonSet": _workload_props, "Service": _service_props,
    "Node": _node_props, "PersistentVolumeClaim": _pvc_props, "CustomResourceDefinition": _crd_props,
    "ConfigMap": _data_keys_props, "Secret": _data_keys_props, "Namespace": _namespace_props,
    "ValidatingWebhookConfiguration": _webhook_config_props, "MutatingWebhookConfiguration": _webhook_config_props,
}
_KIND_EXTRA = {"Pod": _pod_rows, "Service": _service_rows, "ValidatingWebhookConfiguration": _webhook_config_rows,
               "MutatingWebhookConfiguration": _webhook_config_rows}
# Kinds told apart by their API group too (a CRD may be called anything): the GitOps controllers' objects and
# the helm runs of CI pods, each module's PROPS and ROWS keyed by (group, kind); the core group is "".
_GROUP_KIND_PROPS: dict[tuple[str, str], list[Any]] = {}
_GROUP_KIND_ROWS: dict[tuple[str, str], list[Any]] = {}
_ANY_OBJECT_ROWS: list[Any] = []
for _module in (gitops_flux, gitops_argocd, ci_pods, facts_workloads, facts_network, facts_storage, facts_nodes,
                facts_logs):
    _ANY_OBJECT_ROWS.extend(getattr(_module, "ANY_ROWS", ()))
    for _key, _fn in _module.PROPS.items():
        _GROUP_KIND_PROPS.setdefault(_key, []).append(_fn)
    for _key, _fn in _module.ROWS.items():
        _GROUP_KIND_ROWS.setdefault(_key, []).append(_fn)


def _group(obj: dict[str, Any]) -> str:
    """The API group of an object: "" for the core group (apiVersion "v1"), "apps" for "apps/v1"."""
    api_version = obj.get("apiVersion")
    return api_version.rpartition("/")[0] if isinstance(api_version, str) else ""


_TIME_FIELDS = ("created_at", "start_time", "completion_time")
_HEALTH_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "PersistentVolumeClaim")


def _unhealthy_now(kind: str, props: dict[str, Any]) -> bool | None:
    """True when the workload or claim is not healthy now, else None (so the property is removed).

    Stored so partial_deployment starts from an index seek on the few unhealthy objects instead of reading
    every workload's replicas; the same tests as that pattern's per-object state, from the same props.
    """
    if kind in ("Deployment", "StatefulSet"):
        wanted = props.get("replicas")
        unhealthy = (props.get("ready_replicas") or 0) < (1 if wanted is None else wanted)
    elif kind == "DaemonSet":
        unhealthy = (props.get("ready_replicas") or 0) < (props.get("desired_scheduled") or 0)
    elif kind == "Job":
        unhealthy = props.get("failed_reason") is not None
    else:  # PersistentVolumeClaim
        unhealthy = (props.get("phase") or "Pending") != "Bound"
    return True if unhealthy else None


def _condition_rows(uid: str, kind: str, obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    yield from _history_row(st.CONDITIONS, uid, _conditions(uid, kind, obj, observation))


def _conditions(uid: str, kind: str, obj: dict[str, Any], observation: Observation) -> Iterator[dict[str, Any]]:
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    if kind == "Pod" and status.get("phase"):
        phase = status["phase"]
        yield {
            "key": f"{uid}/Phase/{phase}/{status.get('reason') or ''}",
            "at": parse_time(_phase_time(status, phase) or observation.observed_at),
            "props": {"type": "Phase", "status": phase, "reason": status.get("reason"),
                      "message": status.get("message")}}
    for condition in status.get("conditions") or []:
        if not isinstance(condition, dict) or not condition.get("type"):
            continue
        at = (condition.get("lastTransitionTime") or condition.get("lastUpdateTime")
              or condition.get("lastHeartbeatTime") or observation.observed_at)
        yield {
            "key": f"{uid}/{condition['type']}/{condition.get('status')}/{condition.get('reason') or ''}/"
                   f"{condition.get('lastTransitionTime') or ''}",
            "at": parse_time(at),
            "props": {"type": condition["type"], "status": condition.get("status"),
                      "reason": condition.get("reason"),
                      "message": (condition.get("message") or "")[:2000] or None}}


def _phase_time(status: dict[str, Any], phase: str) -> str | None:
    wanted = {"Running": "Ready", "Succeeded": "Ready", "Failed": "Ready", "Pending": "PodScheduled"}.get(phase)
    for condition in status.get("conditions") or []:
        if condition.get("type") == wanted and condition.get("lastTransitionTime"):
            return condition["lastTransitionTime"]
    return status.get("startTime")


# --- events -------------------------------------------------------------------------------------


def _event_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    """core/v1 Events and events.k8s.io/v1 Events, linked to the object they are about."""
    meta = obj["metadata"]
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    series = obj.get("series") or {}
    source = obj.get("source") or {}
    first_seen = (obj.get("firstTimestamp") or obj.get("deprecatedFirstTimestamp") or obj.get("eventTime")
                  or meta.get("creationTimestamp"))
    last_seen = (series.get("lastObservedTime") or obj.get("lastTimestamp") or obj.get("deprecatedLastTimestamp")
                 or obj.get("eventTime") or first_seen)
    uid = meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    namespace = involved.get("namespace") or meta.get("namespace") or ""
    props = {
        "reason": obj.get("reason"), "type": obj.get("type"),
        "message": (obj.get("message") or obj.get("note") or "")[:4000],
        "count": int(series.get("count") or obj.get("count") or obj.get("deprecatedCount") or 1),
        "first_seen": parse_time(first_seen), "last_seen": parse_time(last_seen or observation.observed_at),
        "source": source.get("component") or obj.get("reportingComponent") or obj.get("reportingController"),
        "host": source.get("host") or obj.get("reportingInstance") or None,
        "namespace": meta.get("namespace") or "",
        # what the ABOUT link does not say: the name as the Event gave it and the container it points at
        "involved_name": involved.get("name"), "involved_field": involved.get("fieldPath"),
    }
    # the rest of the involved object is the ABOUT link's target, not copied onto every Event
    row = {"uid": uid, "rv": _resource_version(meta), "props": props, "kind": involved.get("kind"),
           "name": involved.get("name"), "namespace": namespace,
           "ref": resource_ref(involved.get("kind", ""), namespace, involved.get("name", "")),
           "involved_uid": involved.get("uid")}
    yield (st.EVENT_ON_OBJECT if involved.get("uid") else st.EVENT_ON_NAME), row


# --- Helm releases ------------------------------------------------------------------------------


def _release_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    storage_uid = obj["metadata"]["uid"]
    if observation.action == "DELETED":
        yield st.REVISION_REMOVED, {"storage_uid": storage_uid, "at": parse_time(observation.observed_at)}
        return
    release = helm_release.read_release(obj)  # PermanentError names the Secret; the object rows stand
    key = revision_key(release.namespace, release.name, release.version)
    rel_key = release_key(release.namespace, release.name)
    rv = _resource_version(obj["metadata"])
    yield st.REVISION, {"key": key, "release_key": rel_key, "rv": rv, "props": with_times({
        "namespace": release.namespace, "release": release.name, "version": release.version,
        "status": release.status, "description": release.description, "chart": release.chart,
        "chart_version": release.chart_version, "app_version": release.app_version,
        "first_deployed": release.first_deployed, "last_deployed": release.last_deployed,
        "deleted": release.deleted, "values_keys": release.values_keys, "values_hash": release.values_hash,
        "storage": helm_release.storage_name(obj), "storage_uid": storage_uid,
        "apply_method": release.apply_method,
    }, "first_deployed", "last_deployed", "deleted")}
    yield st.REVISION_LINKS, {"key": key, "release_key": rel_key,
                              "prev_key": revision_key(release.namespace, release.name, release.version - 1),
                              "next_key": revision_key(release.namespace, release.name, release.version + 1)}
    yield webhook_context.REVISION_FROM_SYNC, {"key": key, "release_key": rel_key}
    yield st.RELEASE_FAILED_OPERATION, {"release_key": rel_key}
    yield from _helm_error_rows(release, key, rel_key)
    for item in release.manifest:
        yield st.DECLARES, {"revision_key": key, "release_key": rel_key, "rv": rv,
                            "ref": resource_ref(item.kind, item.namespace, item.name),
                            "kind": item.kind, "namespace": item.namespace or "", "name": item.name,
                            "api_version": item.api_version, "source": item.source}
    for hook in release.hooks:
        kind = hook.get("kind") or ""
        name = hook.get("name") or ""
        last_run = hook.get("last_run") or {}
        namespace = helm_release.hook_namespace(hook, release.namespace)
        key_of_hook = hook_key(release.namespace, release.name, release.version, kind, name)
        yield st.HOOK, {
            "revision_key": key, "release_key": rel_key, "key": key_of_hook, "rv": rv,
            "ref": resource_ref(kind, namespace, name),
            "kind": kind, "namespace": namespace, "name": name,
            "props": {
                "name": name, "kind": kind, "namespace": namespace, "path": hook.get("path"),
                "events": hook.get("events") or [], "weight": int(hook.get("weight") or 0),
                "delete_policies": hook.get("delete_policies") or [],
                "output_log_policies": hook.get("output_log_policies") or [],
                "phase": last_run.get("phase") or None, "started_at": parse_time(last_run.get("started_at")),
                "completed_at": parse_time(last_run.get("completed_at")), "revision_key": key,
                "release_key": rel_key,
            },
        }
        yield st.HOOK_RAN_AS, {"key": key_of_hook}


def _helm_error_rows(release: helm_release.HelmRelease, key: str, rel_key: str) -> Iterator[Emitted]:
    """The revision's description, classified once here, as a (:HelmError) the patterns read."""
    if not helm_errors.is_error_text(release.description):
        return
    found = helm_errors.classify(release.description, release.name, release.namespace)
    if release.status != "failed" and not found.classified:
        return  # a pending revision's own words ("Preparing upgrade" and the like) are no error
    props = helm_errors.props(found, rel_key, "revision", release.last_deployed)
    yield helm_errors.HELM_ERROR, {"key": f"{key}#description", "revision_key": key, "release_key": rel_key,
                                   "props": with_times(props, "at")}

"""Inputs for fuzzing the mappers: realistic seed objects, mutated one field at a time.

Random JSON seldom gets past ``kind`` and ``metadata``; a real object with one field replaced, deleted or
wrapped reaches every branch a mapper has. Shared by tests/test_fuzz_mappers.py (hypothesis, bounded, in CI) and
bench/fuzz_mappers.py (a long campaign with plain ``random``, many times faster per input).

What counts as a crash (``check``): any exception but PermanentError, a PermanentError without a message, or a
row holding a value Neo4j cannot store as a property (a map, a list of mixed types or with nulls, an integer
beyond 64 bits, a UTC offset beyond 18 hours): that one would fail its whole batch in the writer.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

from kg_builder import helm_release, k8s_objects, operations, validation
from kgrca.contracts import Observation, PermanentError
from tests import factories as f

AT = "2026-11-20T10:05:00Z"
T0 = "2026-11-20T10:00:00Z"
Path = tuple[Any, ...]


# --- seeds: one of each shape kgrca maps --------------------------------------------------------------------


def _flux_helm_release() -> dict[str, Any]:
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": f.meta("podinfo", "flux-system", rv=7),
            "spec": {"interval": "5m", "releaseName": "podinfo", "targetNamespace": "prod",
                     "chart": {"spec": {"chart": "podinfo", "version": "6.5.0",
                                        "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}},
                     "install": {"remediation": {"retries": 3}},
                     "upgrade": {"remediation": {"retries": 2, "strategy": "rollback"}}},
            "status": {"conditions": [
                {"type": "Ready", "status": "False", "reason": "UpgradeFailed", "lastTransitionTime": AT,
                 "message": "Helm upgrade failed for release prod/podinfo with chart podinfo@6.5.0: "
                            "context deadline exceeded"},
                {"type": "Released", "status": "False", "reason": "UpgradeFailed", "lastTransitionTime": AT,
                 "message": "Helm upgrade failed: context deadline exceeded"}],
                "lastAttemptedRevision": "6.5.0", "lastAttemptedReleaseAction": "upgrade",
                "lastAttemptedGeneration": 2, "upgradeFailures": 1, "failures": 1, "storageNamespace": "prod",
                "history": [{"version": 2, "chartName": "podinfo", "chartVersion": "6.5.0", "status": "failed"},
                            {"version": 1, "chartName": "podinfo", "chartVersion": "6.4.0",
                             "status": "deployed"}]}}


def _flux_source(kind: str) -> dict[str, Any]:
    group = "kustomize.toolkit.fluxcd.io/v1" if kind == "Kustomization" else "source.toolkit.fluxcd.io/v1"
    return {"apiVersion": group, "kind": kind, "metadata": f.meta(kind.lower(), "flux-system", rv=3),
            "spec": {"url": "https://stefanprodan.github.io/podinfo", "interval": "1m", "chart": "podinfo",
                     "version": "6.5.0", "path": "./deploy", "sourceRef": {"kind": "GitRepository", "name": "repo"}},
            "status": {"artifact": {"revision": "6.5.0"}, "lastAppliedRevision": "main@sha1:abc",
                       "conditions": [{"type": "Ready", "status": "False", "reason": "ArtifactFailed",
                                       "lastTransitionTime": AT, "message": "failed to fetch Helm repository index"}]}}


def _argocd_application() -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": f.meta("guestbook", "argocd", rv=9),
            "spec": {"project": "default",
                     "destination": {"namespace": "prod", "server": "https://kubernetes.default.svc"},
                     "source": {"repoURL": "https://charts.example", "chart": "guestbook", "targetRevision": "1.2.0",
                                "helm": {"releaseName": "guestbook", "valueFiles": ["values-prod.yaml"]}},
                     "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "retry": {"limit": 5}}},
            "status": {"sync": {"status": "OutOfSync"}, "health": {"status": "Degraded", "message": "x"},
                       "sourceType": "Helm", "controllerNamespace": "argocd", "reconciledAt": AT,
                       "conditions": [{"type": "ComparisonError", "lastTransitionTime": AT,
                                       "message": "Failed to load target state: failed to generate manifest"}],
                       "operationState": {"phase": "Failed", "message": "one or more objects failed to apply",
                                          "startedAt": T0, "finishedAt": AT, "retryCount": 2,
                                          "syncResult": {"resources": [{"kind": "Deployment", "namespace": "prod",
                                                                        "name": "guestbook", "status": "SyncFailed",
                                                                        "message": "field is immutable"}]}}}}


def _ci_pod() -> dict[str, Any]:
    pod = f.pod("deploy-api-x7k2p", "ci", labels={"job-name": "deploy-api"})
    pod["spec"]["containers"] = [{"name": "deploy", "image": "alpine/helm:3.14.0",
                                  "command": ["sh", "-c", "helm upgrade --install api ./chart -n $(NS) --wait"],
                                  "env": [{"name": "NS", "value": "prod"},
                                          {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "k"}}}]}]
    pod["status"] = {"phase": "Failed", "startTime": T0, "containerStatuses": [{
        "name": "deploy", "image": "alpine/helm:3.14.0", "restartCount": 1,
        "state": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": T0, "finishedAt": AT,
                                 "message": "Error: UPGRADE FAILED: context deadline exceeded"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": T0, "finishedAt": T0}}}]}
    return pod


def _webhook_configuration() -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": f.meta("policy", None),
            "webhooks": [{"name": "validate.policy.example", "failurePolicy": "Fail",
                          "clientConfig": {"service": {"namespace": "policy", "name": "webhook", "port": 443,
                                                       "path": "/validate"}},
                          "namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "In",
                                                                      "values": ["prod"]}]},
                          "rules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"],
                                     "resources": ["deployments"]}]}]}


def _pod_with_everything() -> dict[str, Any]:
    rs = f.replicaset(f.deployment("api", release="api"))
    pod = f.pod("api-1", owner_obj=rs, labels={"app": "api"})
    spec = pod["spec"]
    spec.update({"nodeName": "node-1", "restartPolicy": "Always", "imagePullSecrets": [{"name": "regcred"}],
                 "volumes": [{"name": "c", "configMap": {"name": "cfg", "optional": True}},
                             {"name": "s", "secret": {"secretName": "sec"}},
                             {"name": "p", "persistentVolumeClaim": {"claimName": "data"}},
                             {"name": "j", "projected": {"sources": [{"configMap": {"name": "p1"}},
                                                                      {"secret": {"name": "p2"}}]}}]})
    spec["containers"][0].update({
        "envFrom": [{"configMapRef": {"name": "env"}}, {"secretRef": {"name": "envs", "optional": False}}],
        "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "a"}}}],
        "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
        "resources": {"limits": {"memory": "512Mi"}}})
    return pod


def seeds() -> list[tuple[str, dict[str, Any]]]:
    """(name, object) of every shape the object mappers read, the same in every run (resourceVersions pinned: the
    factories count them up across a test session)."""
    found = _seeds()
    for index, (_, obj) in enumerate(found):
        obj["metadata"]["resourceVersion"] = str(1000 + index)
    return found


def _seeds() -> list[tuple[str, dict[str, Any]]]:
    deploy = f.deployment("api", release="api")
    rs = f.replicaset(deploy)
    pod = _pod_with_everything()
    release = f.release_json("api", "prod", 3, "failed", description="Upgrade \"api\" failed: timed out",
                             manifest=f.manifest(("apps/v1", "Deployment", "api"), ("v1", "Service", "api")),
                             hooks=[f.hook("api-migrate", ["pre-upgrade"])], last_deployed=AT)
    return [
        ("Pod", pod), ("Deployment", deploy), ("ReplicaSet", rs),
        ("Job", f.job("api-migrate", hook="pre-upgrade", failed=1)),
        ("Event", f.event(pod, "BackOff", "Back-off restarting failed container")),
        ("Service", {"apiVersion": "v1", "kind": "Service", "metadata": f.meta("api"),
                     "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1", "selector": {"app": "api"}}}),
        ("Node", {"apiVersion": "v1", "kind": "Node", "metadata": f.meta("node-1", None),
                  "spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]},
                  "status": {"allocatable": {"cpu": "2", "memory": "4Gi"}, "conditions": [
                      {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastTransitionTime": T0}]}}),
        ("PersistentVolumeClaim", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": f.meta("data"),
                                   "spec": {"storageClassName": "standard"}, "status": {"phase": "Pending"}}),
        ("CustomResourceDefinition", {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                                      "metadata": f.meta("widgets.example.com", None),
                                      "spec": {"group": "example.com", "scope": "Namespaced",
                                               "names": {"kind": "Widget"},
                                               "versions": [{"name": "v1", "served": True}]}}),
        ("Namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": f.meta("prod", None),
                       "status": {"phase": "Active"}}),
        ("ValidatingWebhookConfiguration", _webhook_configuration()),
        ("Secret:helm", f.release_secret(release)), ("ConfigMap:helm", f.release_configmap(release)),
        ("HelmRelease", _flux_helm_release()), ("HelmRepository", _flux_source("HelmRepository")),
        ("HelmChart", _flux_source("HelmChart")), ("Kustomization", _flux_source("Kustomization")),
        ("Application", _argocd_application()), ("Pod:ci", _ci_pod()),
        ("Widget", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": f.meta("w"),
                    "spec": {"size": 3}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
    ]


def release_seed() -> dict[str, Any]:
    """A Helm release JSON with every field read_release reads."""
    release = f.release_json("api", "prod", 3, "failed", description="Upgrade \"api\" failed: timed out",
                             manifest=f.manifest(("apps/v1", "Deployment", "api"), ("v1", "Service", "api"))
                             + "---\napiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: x}\n",
                             hooks=[f.hook("api-migrate", ["pre-upgrade"])], last_deployed=AT)
    release["config"] = {"image": {"tag": "1.2"}, "db": {"password": "x"}}
    release["apply_method"] = "ssa"
    release["info"]["rollback_revision"] = 2
    return release


def process_seed() -> dict[str, Any]:
    """A helm process record as bpf/records.py makes it (tests/test_bpf_operations.py's shape), failed."""
    from kgrca.commandline import parse_command

    argv = ["helm", "upgrade", "api", "./charts/api", "-n", "prod", "-f", "/ci/values-prod.yaml", "--wait"]
    return {"schema": 1, "operation_id": "helm-12345-1763632790000", "tool": "helm", "host": "ci-runner-1",
            "pid": 12345, "ppid": 4000, "parent_operation_id": "kubectl-1-2", "binary": "/usr/local/bin/helm",
            "comm": "helm", "argv": argv, "argv_truncated": False, "cwd": "/ci", **parse_command("helm", argv),
            "uid": 1001, "user": "ci", "gid": 1001, "cgroup_id": 77, "cgroup": "/", "container_id": None,
            "started_at": T0, "ended_at": AT, "status": "failed", "exit_code": 1, "signal": None,
            "files_read": ["/ci/values-prod.yaml"], "files_written": [], "files_dropped": 0,
            "files_failed": [{"path": "/root/.config/helm/repositories.yaml", "error": "ENOENT"}],
            "api_endpoints": ["10.96.0.1:443"], "stderr": "Error: UPGRADE FAILED: context deadline exceeded",
            "stderr_bytes": 48, "stderr_truncated": False, "duration_seconds": 910.0,
            "children": [{"pid": 12346, "argv": ["/bin/sh", "render.sh"], "exit_code": 0}],
            "flags": {"wait": True, "namespace": "prod"}}


# --- mutation -----------------------------------------------------------------------------------------------


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path into ``value`` (keys of maps, indexes of lists), the root's children first."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


ACTIONS = ("replace", "delete", "wrap_list", "wrap_map", "stringify")


def mutate(obj: Any, path: Path, action: str, value: Any) -> Any:
    """``obj`` (changed in place, and returned) with the thing at ``path`` replaced, deleted or wrapped."""
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "wrap_list":
        parent[key] = [parent[key], value]  # a list of mixed types
    elif action == "wrap_map":
        parent[key] = {"x": parent[key]}
    elif action == "stringify":
        parent[key] = str(parent[key])
    else:
        parent[key] = value
    return obj


# Values that have broken real parsers: types in the wrong place, numbers beyond 64 bits, digits that are not
# ASCII, times with offsets Neo4j cannot keep, empty and null everything.
SPECIAL = [None, True, False, 0, -1, 2**63, -(2**63) - 1, 10**30, 1.5, float("inf"), "", " ", "x", "Running",
           "²", "٣", "99999999999999999999", "2026-11-20T10:00:00+20:00", "2026-13-45T99:00:00Z",
           "2026-11-20T10:00:00.123456789Z", "0001-01-01T00:00:00Z", dt.datetime(2026, 1, 1), [], {}, ["x"], [1, "x"],
           [None], {"a": {"b": 1}}, {"": ""}, "a" * 5000, "List", "Secret", "helm.sh/release.v1",
           "-" * 3, "---\nkind: [", "&a [*a, *a]"]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON-ish value for the campaign: mostly the special ones, sometimes a small random tree."""
    roll = rng.random()
    if roll < 0.6 or depth > 2:
        return copy.deepcopy(rng.choice(SPECIAL))
    if roll < 0.75:
        return rng.choice([rng.randint(-(2**70), 2**70), rng.random() * 1e6, "".join(
            chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 12)))])
    if roll < 0.9:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["name", "kind", "uid", "type", "status", "x"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def random_input(rng: random.Random, seed_list: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    name, seed = rng.choice(seed_list)
    obj = copy.deepcopy(seed)
    for _ in range(rng.randint(1, 3)):
        found = list(paths(obj))
        if not found:
            break
        mutate(obj, rng.choice(found), rng.choice(ACTIONS), random_value(rng))
    return name, obj


# --- the targets and what a crash is ------------------------------------------------------------------------


def map_object(obj: Any) -> list[tuple[Any, dict[str, Any]]]:
    """k8s_objects.rows on ``obj``, all rows listed; PermanentError passes through."""
    return list(k8s_objects.rows(Observation("k8s", "ADDED", obj, AT, "fuzz")))


def map_process(record: Any) -> list[tuple[Any, dict[str, Any]]]:
    """operations.rows on a helm process record, all rows listed; PermanentError passes through."""
    return list(operations.rows(Observation("helm_process", "EXITED", record, AT, "fuzz")))


def release_object(release: Any, kind: str = "Secret") -> dict[str, Any]:
    """A release storage object holding ``release`` (any JSON value, valid or not)."""
    import base64
    import gzip
    import json
    encoded = base64.b64encode(gzip.compress(json.dumps(release, default=str).encode())).decode()
    if kind == "Secret":
        return {"apiVersion": "v1", "kind": "Secret", "type": helm_release.SECRET_TYPE,
                "metadata": f.meta("sh.helm.release.v1.api.v3", labels={"owner": "helm", "name": "api",
                                                                        "version": "3"}),
                "data": {"release": base64.b64encode(encoded.encode()).decode()}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": f.meta("api.v3", labels={"owner": "helm"}),
            "data": {"release": encoded}}


def read_release(obj: Any) -> Any:
    return helm_release.read_release(obj)


def check(target: Callable[[Any], Any], value: Any) -> str | None:
    """None when ``target(value)`` maps or rejects cleanly, else what went wrong (a crash)."""
    try:
        result = target(value)
    except PermanentError as exc:
        return None if str(exc) else "PermanentError without a message"
    except Exception as exc:  # noqa: BLE001 - any other exception is the crash being looked for
        return f"{type(exc).__name__}: {exc}"
    if isinstance(result, list):
        for statement, row in result:
            problem = unstorable(row)
            if problem:
                return f"{getattr(statement, 'name', statement)}: {problem}"
    return None


def unstorable(row: dict[str, Any]) -> str | None:
    """What in a row Neo4j would refuse to store: the ``props`` maps' values (a property is a scalar or a list of
    one scalar type), and the row's own scalar fields (items of history rows alike)."""
    for key, value in row.items():
        if key == "props" and isinstance(value, dict):
            for name, prop in value.items():
                problem = validation.property_problem(prop)
                if problem:
                    return f"props.{name}: {problem}"
        elif key == "items" and isinstance(value, list):
            for item in value:
                problem = unstorable(item)
                if problem:
                    return f"items: {problem}"
        elif isinstance(value, dict):
            return f"{key}: a map"
        elif not isinstance(value, list):
            problem = validation.property_problem(value)
            if problem:
                return f"{key}: {problem}"
    return None

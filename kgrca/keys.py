"""Keys of the graph's nodes, built in one place so every writer and query agrees on them.

Clusters. Every key a mapper builds here carries the cluster of the observation being mapped, which the writer
sets once per observation (``in_cluster``, from ``Observation.cluster``): no mapper passes a cluster by hand, and
a mapper added tomorrow is cluster-aware as long as it builds its keys with these functions. A named cluster's
key is ``<cluster>:<key as before>`` (``eu-1:prod/api``, ``eu-1:Pod/prod/web-0``); the unnamed cluster (``""``,
what every graph held before clusters were named) keeps its keys exactly as they were (``prod/api``).

Live objects are keyed by uid. Kubernetes makes uids unique per cluster, not across two watchers of one API
server or a restored copy of it, so ``scoped`` gives a named cluster's Kubernetes observation its uids as
``<cluster>:<uid>`` before any mapper reads it: every key derived from a uid (an object's, its conditions' and
container states', an Event's, an operation a witness saw) is then the cluster's own too.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator
from typing import Any

from kgrca.contracts import Observation

_CLUSTER: contextvars.ContextVar[str] = contextvars.ContextVar("kgrca_cluster", default="")


def current_cluster() -> str:
    """The cluster whose observation is being mapped; ``""`` for the unnamed cluster."""
    return _CLUSTER.get()


@contextlib.contextmanager
def in_cluster(cluster: str) -> Iterator[None]:
    """Keys built inside belong to ``cluster`` (the writer wraps each observation's mapping in it)."""
    token = _CLUSTER.set(cluster)
    try:
        yield
    finally:
        _CLUSTER.reset(token)


def qualify(key: str, cluster: str | None = None) -> str:
    """``key`` as ``cluster`` (default: the current one) keys it: ``<cluster>:<key>``, or ``key`` when unnamed."""
    cluster = current_cluster() if cluster is None else cluster
    return f"{cluster}:{key}" if cluster else key


def unqualify(key: str, cluster: str | None = None) -> str:
    """``key`` without its cluster prefix (the namespace of ``eu-1:prod/api`` is ``prod``)."""
    cluster = current_cluster() if cluster is None else cluster
    prefix = f"{cluster}:"
    return key[len(prefix):] if cluster and key.startswith(prefix) else key


def release_key(namespace: str, name: str) -> str:
    """``(:Release {key})``: ``<namespace>/<name>``, in a named cluster ``<cluster>:<namespace>/<name>``."""
    return qualify(f"{namespace}/{name}")


def revision_key(namespace: str, name: str, version: int) -> str:
    """``(:Revision {key})``: ``<namespace>/<release>/<version>`` (cluster-prefixed as ``release_key``)."""
    return qualify(f"{namespace}/{name}/{int(version)}")


def hook_key(namespace: str, release: str, version: int, kind: str, name: str) -> str:
    """``(:Hook {key})``: the hook of one revision, ``<revision key>/<Kind>/<name>``."""
    return f"{revision_key(namespace, release, version)}/{kind}/{name}"


def resource_ref(kind: str, namespace: str | None, name: str) -> str:
    """``(:Resource {ref})``, the name slot ``<Kind>/<namespace>/<name>`` (empty namespace if cluster-scoped),
    cluster-prefixed as ``release_key``.

    Live objects are keyed by uid; references by name (a Revision's manifest, a Pod's ConfigMap, a
    Pod's Node) point at the slot, so they resolve whichever arrives first.
    """
    return qualify(f"{kind}/{namespace or ''}/{name}")


def resource_version(meta: dict[str, object]) -> int:
    """metadata.resourceVersion as a number where it is one (etcd revisions are), so stale replays don't win; -1
    otherwise. ASCII digits only ("²" is a digit to isdigit, not to int), no more than a 64-bit integer holds."""
    version = str(meta.get("resourceVersion") or "")
    return int(version) if version.isascii() and version.isdigit() and len(version) <= 18 else -1


# Maps whose keys are the user's, not the API's: a label or a data key called "uid" is no object's uid.
_USER_MAPS = frozenset({"labels", "annotations", "data", "stringData", "binaryData", "values"})


def scoped(observation: Observation) -> Observation:
    """The observation as its cluster keys it: a named cluster's Kubernetes object with every ``uid`` field
    (``metadata.uid``, ``ownerReferences``, an Event's ``involvedObject`` / ``regarding``, a volume's
    ``claimRef``, an EndpointSlice's ``targetRef`` ...) prefixed by the cluster. A copy: the caller's payload
    is left as it was, so writing the same observation again gives the same keys. A traced process's
    ``operation_id`` (a host's pid and start time) takes the prefix too. Webhook deliveries, and every
    observation of the unnamed cluster, are returned as they are."""
    if not observation.cluster:
        return observation
    prefix = observation.cluster + ":"
    if observation.kind == "k8s":
        return dataclasses.replace(observation, payload=_prefix_uids(observation.payload, prefix))
    operation_id = observation.payload.get("operation_id")
    if observation.kind in _PROCESSES and isinstance(operation_id, str) and operation_id:
        return dataclasses.replace(observation, payload={**observation.payload, "operation_id": prefix + operation_id})
    return observation


_PROCESSES = ("helm_process", "kubectl_process")


def _prefix_uids(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        return {key: (prefix + item if key == "uid" and isinstance(item, str) and item
                      else item if key in _USER_MAPS else _prefix_uids(item, prefix))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_prefix_uids(item, prefix) for item in value]
    return value

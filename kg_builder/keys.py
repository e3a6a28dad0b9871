"""Keys of the graph's nodes, built in one place so every writer and query agrees on them."""

from __future__ import annotations


def release_key(namespace: str, name: str) -> str:
    """``(:Release {key})``: ``<namespace>/<name>``."""
    return f"{namespace}/{name}"


def revision_key(namespace: str, name: str, version: int) -> str:
    """``(:Revision {key})``: ``<namespace>/<release>/<version>``."""
    return f"{namespace}/{name}/{int(version)}"


def hook_key(namespace: str, release: str, version: int, kind: str, name: str) -> str:
    """``(:Hook {key})``: the hook of one revision, ``<revision key>/<Kind>/<name>``."""
    return f"{revision_key(namespace, release, version)}/{kind}/{name}"


def resource_ref(kind: str, namespace: str | None, name: str) -> str:
    """``(:Resource {ref})``, the name slot ``<Kind>/<namespace>/<name>`` (empty namespace if cluster-scoped).

    Live objects are keyed by uid; references by name (a Revision's manifest, a Pod's ConfigMap, a
    Pod's Node) point at the slot, so they resolve whichever arrives first.
    """
    return f"{kind}/{namespace or ''}/{name}"


def resource_version(meta: dict[str, object]) -> int:
    """metadata.resourceVersion as a number where it is one (etcd revisions are), so stale replays don't win; -1
    otherwise. ASCII digits only ("²" is a digit to isdigit, not to int), no more than a 64-bit integer holds."""
    version = str(meta.get("resourceVersion") or "")
    return int(version) if version.isascii() and version.isdigit() and len(version) <= 18 else -1

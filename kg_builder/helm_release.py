"""Decoding Helm releases (Helm 3 and Helm 4) from their storage objects, and parsing their manifests.

Helm stores each revision as a Secret (type ``helm.sh/release.v1``) or, with ``HELM_DRIVER=configmap``,
a ConfigMap labelled ``owner=helm``; the ``release`` key holds JSON -> gzip -> base64. A Secret's data
is base64 once more on the wire (see ../shared/reference/helm-release-format.md, section 3).
Helm 4 keeps that format (still ``helm.sh/release.v1``) and adds two fields: ``apply_method`` on the
release (``ssa`` for server-side apply, ``csa`` for client-side; Helm 3 writes none) and
``info.rollback_revision`` (the revision a rollback went back to); it also leaves zero times out where
Helm 3 wrote ``""``.

Release values may hold credentials: only their key paths and a hash leave this module.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import hashlib
import json
import re
import zlib
from typing import Any

import yaml

from kg_builder import validation
from kgrca import yamlio
from kgrca.contracts import PermanentError
from kgrca.redaction import redact_text

GZIP_MAGIC = b"\x1f\x8b\x08"
# Helm keeps a release in one Secret (at most 1 MiB, gzipped); its JSON is seldom over a few MiB. The cap keeps
# a decompression bomb (1.9 MB of Secret for 1 GiB of zeros) from taking the builder's memory.
MAX_RELEASE_BYTES = 64 * 1024 * 1024
MAX_VALUES_DEPTH = 64  # value_keys goes no deeper: a key path of 64 levels is already no user's values
# Built-in kinds that live outside any namespace: a manifest may still carry the release's namespace for
# them, but their live objects (and so their name slots) have none.
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver", "CSINode", "VolumeAttachment",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "APIService", "CertificateSigningRequest", "PodSecurityPolicy",
    "FlowSchema", "PriorityLevelConfiguration",
})
SECRET_TYPE = "helm.sh/release.v1"
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class ManifestObject:
    api_version: str
    kind: str
    name: str
    namespace: str | None
    source: str | None


@dataclasses.dataclass
class HelmRelease:
    name: str
    namespace: str
    version: int
    status: str
    description: str
    chart: str | None
    chart_version: str | None
    app_version: str | None
    first_deployed: str | None
    last_deployed: str | None
    deleted: str | None
    values_keys: list[str]
    values_hash: str | None
    manifest: list[ManifestObject]
    hooks: list[dict[str, Any]]
    apply_method: str | None = None  # Helm 4: "ssa" (server-side apply) or "csa"; None from Helm 3
    rollback_revision: int | None = None  # Helm 4: the revision this rollback restored


def is_release_storage(obj: dict[str, Any]) -> bool:
    """True for a Secret or ConfigMap that holds a Helm (3 or 4) release."""
    kind = obj.get("kind")
    labels = _map(_map(obj.get("metadata")).get("labels"))
    if kind == "Secret":
        return obj.get("type") == SECRET_TYPE
    return kind == "ConfigMap" and labels.get("owner") == "helm" and "release" in _map(obj.get("data"))


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def storage_name(obj: dict[str, Any]) -> str:
    meta = _map(obj.get("metadata"))
    return f"{obj.get('kind')} {meta.get('namespace', '')}/{meta.get('name', '')}"


def decode_storage(obj: dict[str, Any]) -> dict[str, Any]:
    """The release JSON held by a release Secret or ConfigMap; PermanentError naming the object if corrupt."""
    data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
    encoded = data.get("release")
    if not encoded:
        raise PermanentError(f"{storage_name(obj)}: no 'release' key in data")
    if not isinstance(encoded, str | bytes):
        raise PermanentError(f"{storage_name(obj)}: field data.release: expected a string, got "
                             f"{type(encoded).__name__}")
    try:
        raw = encoded.encode("ascii") if isinstance(encoded, str) else encoded
        if obj.get("kind") == "Secret":
            raw = base64.b64decode(raw, validate=True)  # the API server's own layer
        return decode_release(raw)
    except (binascii.Error, ValueError, UnicodeError, EOFError, OSError, zlib.error) as exc:
        raise PermanentError(f"{storage_name(obj)}: corrupt or truncated release data ({exc})") from None


def decode_release(helm_encoded: bytes) -> dict[str, Any]:
    """Helm's own encoding: base64 -> (gzip if the magic is there) -> JSON, bounded: a release that gunzips
    to more than MAX_RELEASE_BYTES, or JSON nested deeper than Python reads, is a ValueError naming why."""
    payload = base64.b64decode(helm_encoded, validate=True)
    if payload[:3] == GZIP_MAGIC:
        payload = _gunzip(payload, MAX_RELEASE_BYTES)
    try:
        release = json.loads(payload)
    except RecursionError:
        raise ValueError("release JSON is nested deeper than it can be read") from None
    if not isinstance(release, dict):
        raise ValueError("release JSON is not an object")
    return release


def _gunzip(data: bytes, limit: int) -> bytes:
    """gzip decompressed in a stream that stops past ``limit`` bytes: a small Secret can hold a bomb."""
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = stream.decompress(data, limit + 1)
    if len(out) > limit:
        raise ValueError(f"release data decompresses to more than {limit // (1024 * 1024)} MiB (a release Secret "
                         "is at most 1 MiB; refused as a decompression bomb)")
    if not stream.eof:
        raise EOFError("gzip stream is truncated")
    return out


def encode_release(release: dict[str, Any]) -> str:
    """Helm's encoding of a release (what ``data.release`` of a ConfigMap holds); for fixtures and tests."""
    return base64.b64encode(gzip.compress(json.dumps(release).encode(), compresslevel=9)).decode()


def value_keys(values: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Dotted key paths of a values tree, without the values (they may be credentials); no deeper than
    MAX_VALUES_DEPTH levels (a deeper branch is kept as its path so far)."""
    if not isinstance(values, dict):
        return [prefix] if prefix else []
    keys: list[str] = []
    for key in sorted(values, key=str):
        path = f"{prefix}.{key}" if prefix else str(key)
        child = values[key]
        deeper = isinstance(child, dict) and child and depth + 1 < MAX_VALUES_DEPTH
        keys.extend(value_keys(child, path, depth + 1) if deeper else [path])
    return keys


def parse_manifest(manifest: str, default_namespace: str) -> list[ManifestObject]:
    """Objects of a rendered manifest (``---``-separated, ``# Source:`` comments name the template).

    A document Helm rendered but that does not parse is skipped: the live objects still tell the story,
    and the revision's own status and description carry helm's error.
    """
    objects: list[ManifestObject] = []
    for document in re.split(r"^---\s*$", manifest or "", flags=re.MULTILINE):
        source = _SOURCE.search(document)
        try:
            body = yamlio.safe_load(document)
        except (yaml.YAMLError, RecursionError, ValueError):  # PyYAML's timestamps raise ValueError (month 13)
            continue
        for item in _items(body):
            # a document that is no Kubernetes object (metadata not a map, a kind or name not a string) is skipped
            # like one that does not parse: the API server would have refused it
            meta = item.get("metadata")
            if not isinstance(meta, dict) or not _text(item.get("kind")) or not _text(meta.get("name")):
                continue
            namespace = meta.get("namespace") if _text(meta.get("namespace")) else None
            api_version = item.get("apiVersion")
            objects.append(ManifestObject(
                api_version=api_version if isinstance(api_version, str) else "", kind=item["kind"], name=meta["name"],
                namespace=None if item["kind"] in CLUSTER_SCOPED else namespace or default_namespace,
                source=source.group(1).strip() if source else None))
    return objects


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _items(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    kind = body.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(body.get("items"), list):
        return [item for item in body["items"] if isinstance(item, dict)]
    return [body]


def _time(value: Any) -> str | None:
    return value or None  # Helm writes "" for a zero time


def read_release(obj: dict[str, Any]) -> HelmRelease:
    """The release a storage object holds, with the labels Helm keeps outside the JSON as fallbacks."""
    meta = _map(obj.get("metadata"))
    labels = _map(meta.get("labels"))
    release = decode_storage(obj)
    validation.check_release(release, storage_name(obj))  # a field of the wrong type rejects the revision, named
    info = release.get("info") or {}
    chart_meta = (release.get("chart") or {}).get("metadata") or {}
    namespace = release.get("namespace") or meta.get("namespace") or "default"
    config = release.get("config") or {}
    version = release.get("version") or labels.get("version")
    name = release.get("name") or labels.get("name")
    version = str(version or "")
    # ASCII digits only ("²" is a digit to isdigit, not to int) and within helm's int revision
    if not isinstance(name, str) or not name or not (version.isascii() and version.isdigit()) \
            or len(version) > 9:
        raise PermanentError(f"{storage_name(obj)}: release has no name or revision number")
    return HelmRelease(
        name=name, namespace=namespace, version=int(version),
        status=info.get("status") or labels.get("status") or "unknown",
        description=redact_text(info.get("description") or ""),  # helm quotes URLs and rejected values as given
        chart=chart_meta.get("name"), chart_version=chart_meta.get("version"),
        app_version=chart_meta.get("appVersion"),
        first_deployed=_time(info.get("first_deployed")), last_deployed=_time(info.get("last_deployed")),
        deleted=_time(info.get("deleted")),
        values_keys=value_keys(config),
        values_hash=hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest() if config else None,
        manifest=parse_manifest(release.get("manifest") or "", namespace),
        hooks=[hook for hook in release.get("hooks") or [] if isinstance(hook, dict)],
        apply_method=release.get("apply_method") or None,
        rollback_revision=_revision(info.get("rollback_revision")),
    )


def _revision(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def hook_namespace(hook: dict[str, Any], default_namespace: str) -> str:
    """The namespace a hook's object lives in (its manifest may name one)."""
    manifest = hook.get("manifest")
    try:
        body = yamlio.safe_load(manifest) if isinstance(manifest, str) and manifest else None
    except (yaml.YAMLError, RecursionError, ValueError):  # PyYAML's timestamps raise ValueError (month 13)
        return default_namespace
    meta = body.get("metadata") if isinstance(body, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return namespace if isinstance(namespace, str) and namespace else default_namespace

"""The wire form of kgrca's Kafka messages: observations in, and dead letters out.

A source message (topics ``<prefix>.k8s.events.v1``, ``.processes.v1``, ``.webhooks.v1``) is
``Observation.to_json()`` as UTF-8 JSON (with ``cluster`` where the cluster is named; a message without it
belongs to the unnamed cluster), keyed by cluster and object so one object's events land in one partition and
stay in order, with headers ``kgrca-schema`` and ``kgrca-kind``. A dead letter (``<prefix>.deadletter.v1``) keeps
the original bytes, key and headers, why it was refused and where it came from. docs/kafka-topics.md and
``kgrca/bus/schemas/*.json`` are the published form of this module.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from kgrca.contracts import Observation, PermanentError, utc_now
from kgrca.keys import qualify, release_key, resource_ref

try:  # orjson parses several times faster; the builder's parsing is its main cost after Neo4j
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - json gives the same values, slower
    _loads = json.loads

SCHEMA = 1
Headers = list[tuple[str, bytes]]


def encode(observation: Observation) -> bytes:
    """UTF-8 JSON of the observation; PermanentError if its payload is not JSON-able."""
    try:
        return json.dumps(observation.to_json(), separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise PermanentError(f"observation payload cannot be written as JSON: {exc}") from None


def headers(observation: Observation) -> Headers:
    return [("kgrca-schema", str(SCHEMA).encode()), ("kgrca-kind", observation.kind.encode())]


def key(observation: Observation) -> str:
    """The partition key: everything about one object shares it, so its events keep their order.

    k8s: the object's uid, except Helm release storage, keyed by release (``ns/name``) so a release's
    revisions arrive in order; processes: the release the command changes, else the operation id;
    webhooks: the delivery id; container logs: their pod's name slot. A named cluster's keys start with
    ``<cluster>:`` (as its graph keys do), so two clusters' objects of one name or uid spread over partitions
    independently and each keeps its order.
    """
    return qualify(_object_key(observation), observation.cluster)


def _object_key(observation: Observation) -> str:
    payload = observation.payload
    if observation.kind == "k8s":
        metadata = payload.get("metadata") or {}
        labels = metadata.get("labels") or {}
        # Helm labels the Secret or ConfigMap of each revision owner=helm, name=<release>: all revisions of a
        # release share a partition. (Which of them really hold a release is kg_builder's to judge.)
        if payload.get("kind") in ("Secret", "ConfigMap") and labels.get("owner") == "helm" and labels.get("name"):
            return release_key(metadata.get("namespace") or "default", str(labels["name"]))
        if metadata.get("uid"):
            return str(metadata["uid"])
        return resource_ref(str(payload.get("kind")), metadata.get("namespace"), str(metadata.get("name")))
    if observation.kind in ("helm_process", "kubectl_process"):
        if payload.get("release_key"):
            return str(payload["release_key"])
        if payload.get("release"):
            return release_key(payload.get("namespace") or "default", str(payload["release"]))
        if payload.get("operation_id"):
            return str(payload["operation_id"])
    if observation.kind == "container_log":  # beside its pod's events: a log follows the crash it explains
        return resource_ref("Pod", payload.get("namespace"), str(payload.get("pod")))
    if observation.kind == "webhook":
        for name in ("delivery_id", "delivery", "id"):
            if payload.get(name):
                return f"{observation.action}:{payload[name]}"
    # No natural identity: the content itself, so a redelivery still lands beside its twin.
    return hashlib.sha256(encode(observation)).hexdigest()


def decode(value: bytes | None, where: str | None = None) -> Observation:
    """An observation from a message value; PermanentError says why a message can never be read.

    ``where`` (``topic/partition/offset``) is appended to the origin, which makes it unique in a batch.
    """
    if value is None or value == b"":
        raise PermanentError("empty message value (a tombstone?): expected an observation as JSON")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PermanentError(f"message value is not UTF-8 at byte {exc.start}") from None
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        raise PermanentError(f"message value is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    if isinstance(data, dict) and data.get("schema", SCHEMA) != SCHEMA:
        raise PermanentError(f"observation schema {data.get('schema')!r} is not supported (this builder reads "
                             f"schema {SCHEMA})")
    if where and isinstance(data, dict):
        data["origin"] = f"{data.get('origin') or data.get('kind')}@{where}"
    return Observation.from_json(data)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def dead_letter(*, reason: str, stage: str, topic: str, partition: int, offset: int, timestamp_ms: int | None,
                key: bytes | None, value: bytes | None, original_headers: Headers | None,
                group: str) -> tuple[bytes, Headers]:
    """The value and headers of a dead letter: JSON with the original bytes (base64) and where they came from.

    The headers repeat reason and source so a person can filter with a console consumer without decoding.
    """
    envelope: dict[str, Any] = {
        "schema": SCHEMA,
        "reason": reason,
        "stage": stage,
        "source": {"topic": topic, "partition": partition, "offset": offset, "timestamp_ms": timestamp_ms,
                   "key_base64": _b64(key)},
        "group": group,
        "dead_lettered_at": utc_now(),
        "original": {"value_base64": _b64(value),
                     "headers": [{"name": name, "value_base64": _b64(raw)}
                                 for name, raw in (original_headers or [])]},
    }
    out: Headers = [("kgrca-dlq-reason", reason.encode()[:1024]), ("kgrca-dlq-stage", stage.encode()),
                    ("kgrca-dlq-topic", topic.encode()), ("kgrca-dlq-partition", str(partition).encode()),
                    ("kgrca-dlq-offset", str(offset).encode())]
    return json.dumps(envelope, separators=(",", ":")).encode(), out


def read_dead_letter(value: bytes) -> dict[str, Any]:
    """A dead letter's envelope with ``original.value`` decoded back to bytes (for tools and tests)."""
    envelope = json.loads(value)
    raw = envelope["original"]["value_base64"]
    envelope["original"]["value"] = None if raw is None else base64.b64decode(raw)
    return envelope

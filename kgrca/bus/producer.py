"""``KafkaSink``: a GraphWriter that publishes observations to Kafka instead of writing Neo4j.

Sources (``kgrca watch --sink kafka``, ``kgrca trace``, the webhook receivers) hand it observations like
any GraphWriter; ``kgrca build`` is the one consumer that writes the graph. The producer is idempotent
(``enable.idempotence``, ``acks=all``), so broker-side retries never duplicate or reorder a partition, and
``write`` returns only once the broker has acknowledged every message: a ``TemporaryError`` means "not
published, call again" (the builder's writer is idempotent, so a resend after a half-acknowledged call
changes nothing in the graph).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from kgrca.bus import messages
from kgrca.bus.topics import ensure_topics, kafka_logger, topics_for, unreachable
from kgrca.config import Config
from kgrca.contracts import Observation, PermanentError, TemporaryError, WriteStats

log = logging.getLogger(__name__)

# Bigger than one Kubernetes object can be (etcd keeps objects under 1.5 MiB), smaller than the topics allow.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# Errors a resend can cure; anything else refuses that one message for good.
_TRANSIENT = {KafkaError._MSG_TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN,
              KafkaError._TIMED_OUT, KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT,
              KafkaError.NOT_ENOUGH_REPLICAS, KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
              KafkaError.LEADER_NOT_AVAILABLE, KafkaError.NOT_LEADER_FOR_PARTITION,
              KafkaError.REQUEST_TIMED_OUT, KafkaError.NETWORK_EXCEPTION}


def producer_config(cfg: Config, delivery_timeout: float) -> dict[str, Any]:
    return {
        "bootstrap.servers": cfg.kafka_bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        # A little lingering makes batches of a burst (a re-list sends thousands of objects at once).
        "linger.ms": 5,
        "compression.type": "lz4",
        "message.max.bytes": MAX_MESSAGE_BYTES,
        "message.timeout.ms": int(delivery_timeout * 1000),
        "logger": kafka_logger(),
    }


class KafkaSink:
    """Publishes observations to ``<prefix>.k8s.events.v1``, ``.processes.v1`` and ``.webhooks.v1``."""

    def __init__(self, cfg: Config, delivery_timeout: float = 30.0):
        self._cfg = cfg
        self._topics = topics_for(cfg)
        self._timeout = delivery_timeout
        ensure_topics(cfg)
        self._producer = Producer(producer_config(cfg, delivery_timeout))

    def write(self, observations: Iterable[Observation]) -> WriteStats:
        """Publish and wait for the broker's acknowledgement of every message."""
        stats = WriteStats()
        transient: list[str] = []
        fatal: list[str] = []

        def delivered(error: KafkaError | None, _message: Message, origin: str) -> None:
            if error is None:
                return
            if error.fatal():
                fatal.append(error.str())
            elif error.code() in _TRANSIENT or error.retriable():
                transient.append(error.str())
            else:
                stats.rejected.append((origin, f"Kafka refused the message: {error.str()}"))

        for observation in observations:
            stats.observations += 1
            topic = self._topics.for_kind(observation.kind)
            if topic is None:
                stats.rejected.append((observation.origin, f"unknown observation kind '{observation.kind}'"))
                continue
            try:
                value = messages.encode(observation)
                key = messages.key(observation)
            except PermanentError as exc:
                stats.rejected.append((observation.origin, str(exc)))
                continue
            if self._produce(topic, key, value, messages.headers(observation),
                             lambda e, m, o=observation.origin: delivered(e, m, o), stats, observation.origin):
                stats.rows += 1
        remaining = self._producer.flush(self._timeout + 5)
        if remaining or transient or fatal:
            self._give_up(remaining, transient, fatal)
        return stats

    def _produce(self, topic: str, key: str, value: bytes, headers: messages.Headers, callback: Any,
                 stats: WriteStats, origin: str) -> bool:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers, on_delivery=callback)
                self._producer.poll(0)
                return True
            except BufferError:
                # The local queue is full: let deliveries drain it, then try again.
                self._producer.poll(0.1)
            except KafkaException as exc:
                error = exc.args[0]
                stats.rejected.append((origin, f"Kafka refused the message: {error.str()}"))
                return False

    def _give_up(self, remaining: int, transient: list[str], fatal: list[str]) -> None:
        # Drop what is still queued so a resend by the caller is not followed by stale copies.
        self._producer.purge(in_queue=True, in_flight=False)
        self._producer.poll(0)
        if fatal:
            # An idempotent producer that hit a fatal error cannot send again; a new one can.
            log.warning("Kafka producer failed for good (%s); starting a new one", fatal[0])
            self._producer = Producer(producer_config(self._cfg, self._timeout))
        detail = (transient or fatal or [f"{remaining} messages unacknowledged after {self._timeout:.0f}s"])[0]
        raise TemporaryError(str(unreachable(self._cfg, detail)), delay=1.0)

    def close(self) -> None:
        remaining = self._producer.flush(self._timeout)
        if remaining:
            log.warning("%d messages were not acknowledged by Kafka before closing", remaining)


class Publisher:
    """``send(list) / close()`` for sources that hand over batches and expect delivery (``kgrca trace``):
    a ``KafkaSink`` that retries while the broker is away, up to ``retry_for`` seconds per batch."""

    def __init__(self, cfg: Config, retry_for: float = 300.0):
        self._sink = KafkaSink(cfg)
        self._retry_for = retry_for

    def send(self, observations: list[Observation]) -> None:
        deadline = time.monotonic() + self._retry_for
        delay = 1.0
        while True:
            try:
                stats = self._sink.write(observations)
            except TemporaryError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("%s; retrying in %.0fs", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            for origin, reason in stats.rejected:
                log.warning("not published %s: %s", origin, reason)
            return

    def close(self) -> None:
        self._sink.close()


def producer(cfg: Config) -> Publisher:
    """What ``kgrca trace --sink kafka`` asks ``kgrca.bus`` for."""
    return Publisher(cfg)

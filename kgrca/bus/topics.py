"""kgrca's Kafka topics: their names, which observation kind goes where, and creating them.

Names are ``<prefix>.<stream>.v<N>`` with the prefix from ``cfg.kafka_topic_prefix``. The version is part
of the name so a breaking change of a message schema is a new topic, read side by side with the old one
(see docs/kafka-topics.md and the JSON Schema files in ``kgrca/bus/schemas/``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from kgrca.config import Config
from kgrca.contracts import KgrcaError, TemporaryError

log = logging.getLogger(__name__)


def kafka_logger() -> logging.Logger:
    """Where librdkafka's own log lines go. Its connection chatter ("Connection refused", repeated while
    it retries) is shown only with --verbose: kgrca reports an unreachable broker itself, in one line."""
    logger = logging.getLogger("kgrca.kafka")
    logger.setLevel(logging.DEBUG if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.CRITICAL)
    return logger

SCHEMA_VERSION = 1
# Enough partitions that several builders can share the work; one object's events stay in one of them.
PARTITIONS = 6
# The dead-letter topic is read by people, not by a group that scales out.
DEADLETTER_PARTITIONS = 1
ADMIN_TIMEOUT = 10.0
# Room for a dead letter of the largest source message (base64 and its envelope); see producer.py.
TOPIC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024

# Observation.kind -> stream.
KIND_STREAM = {"k8s": "k8s.events", "helm_process": "processes", "kubectl_process": "processes",
               "webhook": "webhooks", "container_log": "container.logs"}


@dataclasses.dataclass(frozen=True)
class Topics:
    """The topic names of one prefix."""

    prefix: str

    def _name(self, stream: str) -> str:
        return f"{self.prefix}.{stream}.v{SCHEMA_VERSION}"

    @property
    def k8s(self) -> str:
        return self._name("k8s.events")

    @property
    def processes(self) -> str:
        return self._name("processes")

    @property
    def webhooks(self) -> str:
        return self._name("webhooks")

    @property
    def container_logs(self) -> str:
        return self._name("container.logs")

    @property
    def deadletter(self) -> str:
        return self._name("deadletter")

    @property
    def sources(self) -> tuple[str, ...]:
        """The topics the builder reads."""
        return (self.k8s, self.processes, self.webhooks, self.container_logs)

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.sources, self.deadletter)

    def for_kind(self, kind: str) -> str | None:
        """The topic an observation of ``kind`` is published to, None for a kind kgrca does not know."""
        stream = KIND_STREAM.get(kind)
        return None if stream is None else self._name(stream)


SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def json_schema(topic: str) -> dict[str, Any]:
    """The JSON Schema of a topic's message values, from any prefix's topic name."""
    for stream in ("k8s.events", "processes", "webhooks", "container.logs", "deadletter"):
        suffix = f".{stream}.v{SCHEMA_VERSION}"
        if topic.endswith(suffix):
            return json.loads((SCHEMA_DIR / f"{suffix[1:]}.json").read_text())
    raise KeyError(f"{topic} is not one of kgrca's topics")


def topics_for(cfg: Config) -> Topics:
    return Topics(cfg.kafka_topic_prefix)


def unreachable(cfg: Config, detail: object) -> TemporaryError:
    return TemporaryError(
        f"Kafka is not answering at {cfg.kafka_bootstrap}: start the local broker with "
        f"'kgrca servers up kafka', or set KGRCA_KAFKA_BOOTSTRAP ({detail})")


def ensure_topics(cfg: Config, partitions: int = PARTITIONS) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. Safe to call at every start."""
    topics = topics_for(cfg)
    admin = AdminClient({"bootstrap.servers": cfg.kafka_bootstrap, "socket.timeout.ms": 10000,
                         "logger": kafka_logger()})
    try:
        metadata = admin.list_topics(timeout=ADMIN_TIMEOUT)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else exc
        raise unreachable(cfg, error.str() if isinstance(error, KafkaError) else error) from None
    # A single-node development broker cannot hold three replicas; a real cluster gets three.
    replication = min(3, max(1, len(metadata.brokers)))
    wanted = [NewTopic(name, num_partitions=DEADLETTER_PARTITIONS if name == topics.deadletter else partitions,
                       replication_factor=replication,
                       config={"max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES)})
              for name in topics.all if name not in metadata.topics]
    if not wanted:
        return []
    created = []
    for name, future in admin.create_topics(wanted, operation_timeout=ADMIN_TIMEOUT,
                                            request_timeout=ADMIN_TIMEOUT).items():
        try:
            future.result()
            created.append(name)
            log.info("created topic %s", name)
        except KafkaException as exc:
            error = exc.args[0]
            # Another process created it between our look and our request: that is the state we want.
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            if isinstance(error, KafkaError) and error.retriable():
                raise unreachable(cfg, error.str()) from None
            raise KgrcaError(f"Kafka at {cfg.kafka_bootstrap} refused to create topic {name}: "
                             f"{error.str() if isinstance(error, KafkaError) else error}") from None
    _wait_for_leaders(admin, cfg, [t.topic for t in wanted])
    return created


def _wait_for_leaders(admin: AdminClient, cfg: Config, names: list[str]) -> None:
    """Creation returns before every partition has a leader; a producer started then would stall."""
    deadline = time.monotonic() + ADMIN_TIMEOUT
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=ADMIN_TIMEOUT)
        ready = all(name in metadata.topics and metadata.topics[name].error is None
                    and metadata.topics[name].partitions
                    and all(p.leader >= 0 for p in metadata.topics[name].partitions.values())
                    for name in names)
        if ready:
            return
        time.sleep(0.1)
    raise unreachable(cfg, f"topics {', '.join(names)} have no leader after {ADMIN_TIMEOUT:.0f}s")

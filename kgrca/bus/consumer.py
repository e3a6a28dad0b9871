"""The builder: one consumer group that reads the source topics and writes the graph.

At-least-once, and exact in the graph because the writer is idempotent:

* a batch is what has arrived, up to ``cfg.build_batch`` messages, waiting up to 200 ms for the first one;
* a message that cannot be read as an observation, or that the writer refuses (``WriteStats.rejected``),
  goes to the dead-letter topic with the reason, where it came from and its original bytes; the rest of
  the batch goes on;
* offsets are committed (synchronously) only after the writer returned, so after Neo4j committed, and
  after the dead letters were acknowledged; a builder killed at any point rereads from the last commit;
* Neo4j unavailable (``TemporaryError``): the assigned partitions are paused, the batch is retried with
  backoff while the consumer keeps polling (it stays in the group and answers rebalances), then they are
  resumed. Pausing drops librdkafka's prefetched messages and resuming fetches from the position after
  the batch held in memory, so nothing is skipped or read twice.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from kgrca.bus import messages
from kgrca.bus.metrics import BuildMetrics
from kgrca.bus.producer import producer_config
from kgrca.bus.topics import TOPIC_MAX_MESSAGE_BYTES, ensure_topics, kafka_logger, topics_for, unreachable
from kgrca.config import Config
from kgrca.contracts import GraphWriter, KgrcaError, Observation, PermanentError, TemporaryError, WriteStats

log = logging.getLogger(__name__)

BATCH_WAIT = 0.2          # seconds a batch waits to fill up
LAG_EVERY = 2.0           # seconds between consumer-lag updates
ASSIGN_TIMEOUT = 60.0     # --once: how long to wait for partitions before saying why there are none
MAX_BACKOFF = 30.0

Partition = tuple[str, int]


@dataclasses.dataclass
class BuildTotals:
    """What one run did."""

    messages: int = 0
    observations: int = 0
    dead_lettered: int = 0
    batches: int = 0
    retries: int = 0
    commit_failures: int = 0
    first_batch_at: float | None = None   # time.monotonic() when the first batch arrived
    last_commit_at: float | None = None   # time.monotonic() of the last commit


class _Stopped(Exception):
    """Asked to stop while a batch was waiting for Neo4j: leave without committing it."""


def consumer_config(cfg: Config) -> dict[str, Any]:
    return {
        "bootstrap.servers": cfg.kafka_bootstrap,
        "group.id": cfg.kafka_group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        # A builder that died is replaced after 10 s rather than the default 45 s.
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 2000,
        "fetch.wait.max.ms": 100,
        "logger": kafka_logger(),
    }


class Builder:
    """Consumes ``cfg``'s source topics into ``writer``; see the module docstring for the guarantees."""

    def __init__(self, cfg: Config, writer: GraphWriter, metrics: BuildMetrics | None = None,
                 on_committed: Callable[[Sequence[Message]], None] | None = None,
                 max_backoff: float = MAX_BACKOFF):
        self._cfg = cfg
        self._topics = topics_for(cfg)
        self._writer = writer
        self.metrics = metrics or BuildMetrics()
        self._on_committed = on_committed
        self._max_backoff = max_backoff
        ensure_topics(cfg)
        self._consumer = Consumer(consumer_config(cfg))
        dlq_config = producer_config(cfg, delivery_timeout=30.0)
        dlq_config["message.max.bytes"] = TOPIC_MAX_MESSAGE_BYTES
        self._dlq = Producer(dlq_config)
        self._assigned: set[Partition] = set()
        self._committed: dict[Partition, int] = {}
        self._paused = False
        self._last_lag = 0.0
        self._closing = False
        self.totals = BuildTotals()

    # --- the loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, once: bool = False) -> BuildTotals:
        """Consume until ``stop`` is set, or with ``once`` until every assigned partition is drained."""
        stop = stop or threading.Event()
        self._consumer.subscribe(list(self._topics.sources), on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_revoke)
        started = time.monotonic()
        try:
            while not stop.is_set():
                records = self._usable(self._next_batch())
                if records:
                    self._process(records, stop)
                elif once:
                    if self._drained():
                        break
                    if not self._assigned and time.monotonic() - started > ASSIGN_TIMEOUT:
                        raise KgrcaError(
                            f"no partition of {', '.join(self._topics.sources)} was assigned to this builder "
                            f"within {ASSIGN_TIMEOUT:.0f}s: other members of group '{self._cfg.kafka_group}' "
                            f"hold them (stop them, or set KGRCA_KAFKA_GROUP)")
                self._update_lag()
        except _Stopped:
            log.info("stopped while a batch waited; it was not committed and will be read again")
        finally:
            try:
                self._update_lag(force=True)
            except KafkaException as exc:
                log.debug("no last lag reading: %s", exc)
            self._closing = True  # the revocation that close() brings keeps the last lag readings
            self._consumer.close()
            self._dlq.flush(10)
        return self.totals

    def _next_batch(self) -> list[Message]:
        """What is fetched already (up to ``build_batch``) at once; else the first message within BATCH_WAIT and what
        came with it. A batch never waits to fill: while one is written the next queues up, so batches grow with
        the load (throughput) and stay small when it is light (latency: no 200 ms wait per event)."""
        batch = self._consumer.consume(self._cfg.build_batch, timeout=0)
        if not batch:
            batch = self._consumer.consume(1, timeout=BATCH_WAIT)
            if batch and self._cfg.build_batch > 1:
                batch += self._consumer.consume(self._cfg.build_batch - 1, timeout=0)
        return batch

    def _usable(self, batch: list[Message]) -> list[Message]:
        records = []
        for message in batch:
            error = message.error()
            if error is None:
                records.append(message)
            elif error.fatal():
                raise KgrcaError(f"Kafka consumer failed for good: {error.str()}")
            elif error.code() != KafkaError._PARTITION_EOF:
                log.warning("Kafka: %s", error.str())
        return records

    def _process(self, records: list[Message], stop: threading.Event) -> None:
        began = time.monotonic()
        if self.totals.first_batch_at is None:
            self.totals.first_batch_at = began
        observations: list[Observation] = []
        by_origin: dict[str, Message] = {}
        dead: list[tuple[Message, str, str]] = []
        per_topic: collections.Counter[str] = collections.Counter()
        for message in records:
            per_topic[message.topic()] += 1
            try:
                # The coordinates make the origin unique in the batch, so a refusal maps back to its message.
                observation = messages.decode(
                    message.value(), f"{message.topic()}/{message.partition()}/{message.offset()}")
            except PermanentError as exc:
                dead.append((message, str(exc), "parse"))
                continue
            observations.append(observation)
            by_origin[observation.origin] = message
        for topic, count in per_topic.items():
            self.metrics.messages.labels(topic).inc(count)
        stats = self._retrying(lambda: self._writer.write(observations), stop, neo4j=True) \
            if observations else WriteStats()
        for origin, reason in stats.rejected:
            message = by_origin.get(origin)
            if message is not None:
                dead.append((message, reason, "write"))
            else:
                log.warning("writer refused %s: %s", origin, reason)
        if dead:
            self._retrying(lambda: self._publish_dead(dead), stop, neo4j=False)
        self._commit(records)
        elapsed = time.monotonic() - began
        self.metrics.batch_seconds.observe(elapsed)
        self.metrics.observations.inc(stats.observations - len(stats.rejected))
        # One reading per batch, its oldest message: the latency a batch's last-in-line waited.
        stamps = [stamp for kind, stamp in (m.timestamp() for m in records) if kind != 0 and stamp > 0]
        if stamps:
            self.metrics.end_to_end_seconds.observe(max(0.0, time.time() - min(stamps) / 1000))
        self.totals.batches += 1
        self.totals.last_commit_at = time.monotonic()
        self.totals.messages += len(records)
        self.totals.observations += stats.observations - len(stats.rejected)
        if self._on_committed:
            self._on_committed(records)

    # --- retry while a dependency is down ------------------------------------------------------

    def _retrying(self, attempt: Callable[[], Any], stop: threading.Event, neo4j: bool) -> Any:
        delay = 0.5
        while True:
            try:
                result = attempt()
            except TemporaryError as exc:
                self.totals.retries += 1
                if neo4j:
                    self.metrics.neo4j_retries.inc()
                log.warning("%s; batch held, partitions paused, retrying in %.1fs", exc, delay)
                self._pause()
                self._wait(delay, stop)
                if stop.is_set():
                    raise _Stopped() from None
                delay = min(delay * 2, self._max_backoff)
                continue
            self._resume()
            return result

    def _pause(self) -> None:
        if not self._paused:
            self._paused = True
            self._consumer.pause(self._consumer.assignment())

    def _resume(self) -> None:
        if self._paused:
            self._paused = False
            self._consumer.resume(self._consumer.assignment())

    def _wait(self, seconds: float, stop: threading.Event) -> None:
        """Poll while paused: keeps the group membership and serves rebalances, delivers no messages."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            stray = self._usable(self._consumer.consume(100, timeout=min(left, 0.5)))
            # Only a partition assigned before its pause could deliver; put its position back.
            first: dict[Partition, int] = {}
            for message in stray:
                first.setdefault((message.topic(), message.partition()), message.offset())
            for (topic, partition), offset in first.items():
                self._consumer.seek(TopicPartition(topic, partition, offset))
                self._consumer.pause([TopicPartition(topic, partition)])

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned.update((p.topic, p.partition) for p in partitions)
        if self._paused:
            consumer.assign(partitions)
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for p in partitions:
            self._assigned.discard((p.topic, p.partition))
            self._committed.pop((p.topic, p.partition), None)
            if self._closing:
                continue
            try:
                self.metrics.lag.remove(p.topic, str(p.partition))
            except KeyError:
                pass

    # --- dead letters and commits -------------------------------------------------------------

    def _publish_dead(self, dead: list[tuple[Message, str, str]]) -> None:
        failed: list[str] = []

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failed.append(error.str())

        for message, reason, stage in dead:
            value, headers = messages.dead_letter(
                reason=reason, stage=stage, topic=message.topic(), partition=message.partition(),
                offset=message.offset(), timestamp_ms=message.timestamp()[1] or None, key=message.key(),
                value=message.value(), original_headers=message.headers(), group=self._cfg.kafka_group)
            self._dlq.produce(self._topics.deadletter, value=value, key=message.key(), headers=headers,
                              on_delivery=delivered)
        remaining = self._dlq.flush(35)
        if remaining or failed:
            self._dlq.purge(in_queue=True, in_flight=False)
            self._dlq.poll(0)
            raise unreachable(self._cfg, (failed or [f"{remaining} dead letters unacknowledged"])[0])
        for message, reason, stage in dead:
            self.metrics.dead_lettered.labels(stage).inc()
            log.warning("dead-lettered %s/%d/%d (%s): %s", message.topic(), message.partition(),
                        message.offset(), stage, reason)
        self.totals.dead_lettered += len(dead)

    def _commit(self, records: list[Message]) -> None:
        upto: dict[Partition, int] = {}
        for message in records:
            where = (message.topic(), message.partition())
            upto[where] = max(upto.get(where, -1), message.offset() + 1)
        offsets = [TopicPartition(topic, partition, offset) for (topic, partition), offset in upto.items()]
        try:
            results = self._consumer.commit(offsets=offsets, asynchronous=False) or []
        except KafkaException as exc:
            # Typically a rebalance took the partitions while the batch waited: their new owner reads
            # the batch again from the last commit, which the idempotent writer makes harmless.
            self._commit_failed(str(exc.args[0]))
            return
        for tp in results:
            if tp.error is not None:
                self._commit_failed(f"{tp.topic}/{tp.partition}: {tp.error}")
            else:
                self._committed[(tp.topic, tp.partition)] = tp.offset

    def _commit_failed(self, detail: str) -> None:
        self.totals.commit_failures += 1
        self.metrics.commit_failures.inc()
        log.warning("offset commit failed (%s); those messages will be read again", detail)

    # --- lag and draining ---------------------------------------------------------------------

    def _positions(self) -> dict[Partition, tuple[int, int, int]]:
        """(next offset to write, low, high watermark) of each assigned partition, from the broker."""
        wanted = [TopicPartition(t, p) for t, p in sorted(self._assigned)]
        if not wanted:
            return {}
        committed = {(tp.topic, tp.partition): tp.offset for tp in self._consumer.committed(wanted, timeout=10)}
        out = {}
        for tp in wanted:
            where = (tp.topic, tp.partition)
            low, high = self._consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            done = self._committed.get(where, committed.get(where, -1))
            out[where] = (done if done >= 0 else low, low, high)
        return out

    def _drained(self) -> bool:
        if not self._assigned:
            return False
        # The watermarks fetch responses bring are enough to say "not yet" without asking the broker.
        for topic, partition in self._assigned:
            marks = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            done = self._committed.get((topic, partition))
            if marks and done is not None and marks[1] > done:
                return False
        try:
            positions = self._positions()
        except KafkaException as exc:
            log.warning("cannot read offsets: %s", exc.args[0])
            return False
        for (topic, partition), (done, _, high) in positions.items():
            self.metrics.lag.labels(topic, str(partition)).set(max(0, high - done))
        return all(done >= high for done, _, high in positions.values())

    def _update_lag(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_lag < LAG_EVERY:
            return
        self._last_lag = time.monotonic()
        for topic, partition in list(self._assigned):
            where = TopicPartition(topic, partition)
            marks = self._consumer.get_watermark_offsets(where, cached=True)
            if not marks or marks[1] < 0:
                continue
            high = marks[1]
            done = self._committed.get((topic, partition))
            if done is None:
                done = self._consumer.position([where])[0].offset
                if done < 0:
                    continue
            self.metrics.lag.labels(topic, str(partition)).set(max(0, high - done))

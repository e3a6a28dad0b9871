"""Kafka to graph: how many messages per second `kgrca build` writes, and the end-to-end latency at a steady rate.

    python bench/kafka_throughput.py                        # 50,000 messages; 1,000 events/s for 20 s
    python bench/kafka_throughput.py --messages 200000 --rate 1000 --seconds 60

1. Throughput: the messages are published first (KafkaSink), then a builder drains the topics; the
   figure is messages / time from its first batch to its last commit (the group join is not counted,
   and is printed apart). Target (issue 7): >= 10,000 messages/s.
   The same run with a writer that discards gives the ceiling of the Kafka side alone; the floor is
   Neo4j alone on the very transactions the builder sent (captured, the graph wiped, replayed with the
   bare driver, as in bench/ingest_synthetic.py), and topic-to-graph over it is the ratio (target
   >= 0.7, issue 20). Deadlocks (retried by the driver) are counted.
2. Latency: a producer publishes at a steady rate while a builder runs; each message's latency is its
   batch's commit (after Neo4j committed) minus its producer timestamp. p50 and p99 are printed.
   The decisive event to diagnosis, stage by stage, is bench/latency_e2e.py.

Loopback only, bounded in messages and time. Uses the Kafka of KGRCA_KAFKA_BOOTSTRAP under fresh topic
prefixes, and the Neo4j of KGRCA_NEO4J_URI (default: the local server), which it WIPES first: point it at
a scratch server (KGRCA_DATA_DIR=/tmp/bench KGRCA_NEO4J_BOLT_PORT=17687 KGRCA_NEO4J_HTTP_PORT=17474
kgrca servers up neo4j). Exits 1 when the throughput target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka import Message  # noqa: E402

from bench.neo4j_write_floor import CapturingWriter, phases, replay  # noqa: E402
from kg_builder.schema import apply_schema  # noqa: E402
from kg_builder.writer import Neo4jWriter  # noqa: E402
from kgrca.bus import KafkaSink  # noqa: E402
from kgrca.bus.consumer import Builder  # noqa: E402
from kgrca.config import Config, load_config  # noqa: E402
from kgrca.contracts import Observation, WriteStats  # noqa: E402
from kgrca.graphdb import connect  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.fixtures.servers import wipe  # noqa: E402

TARGET = 10_000
REASONS = ("Scheduled", "Pulled", "Created", "Started", "BackOff", "Unhealthy")


def observations(count: int, run: str) -> Iterator[Observation]:
    """What a busy cluster's watch sends: workloads, their pods, pod updates and a stream of events."""
    made = 0
    workload = 0
    while made < count:
        name, namespace = f"w{workload}", f"{run}-ns{workload % 20}"
        deploy = f.deployment(name, namespace, release=name, replicas=10, ready=10)
        rs = f.replicaset(deploy)
        batch = [deploy, rs]
        pods = [f.pod(f"{name}-{p}", namespace, owner_obj=rs, labels={"app": name}) for p in range(10)]
        batch += pods
        batch += [f.event(pods[i % 10], REASONS[i % len(REASONS)], f"event {i} of {name}",
                          type_="Normal" if i % 6 < 4 else "Warning", count=1 + i // 10) for i in range(30)]
        for obj in batch:
            if made == count:
                return
            yield Observation("k8s", "ADDED", obj, "2026-11-20T10:05:00Z", "bench")
            made += 1
        workload += 1


def configured(base: Config, label: str) -> Config:
    prefix = f"kgrca-bench-{uuid.uuid4().hex[:8]}-{label}"
    return base.replace(kafka_topic_prefix=prefix, kafka_group=f"{prefix}-builder")


class Discard:
    """A GraphWriter that writes nothing: the builder's ceiling with Kafka alone (consume, parse, commit)."""

    def write(self, observations: Iterable[Observation]) -> WriteStats:
        return WriteStats(observations=sum(1 for _ in observations))

    def close(self) -> None:
        pass


def throughput(base: Config, driver, count: int, discard: bool = False) -> tuple[float, float]:
    """Messages/s topic to graph (or to the discarding writer), and seconds of the floor replay (0 if discard)."""
    cfg = configured(base, "ceiling" if discard else "throughput")
    data = list(observations(count, "t"))
    sink = KafkaSink(cfg)
    started = time.perf_counter()
    sink.write(data)
    sink.close()
    published = time.perf_counter() - started
    print(f"published {count:,} messages in {published:.1f}s ({count / published:,.0f}/s, idempotent, acks=all)")

    writer = Discard() if discard else CapturingWriter.from_config(driver, cfg)
    builder = Builder(cfg, writer)
    began = time.monotonic()
    totals = builder.run(once=True)
    assert totals.messages == count and totals.dead_lettered == 0, totals
    assert totals.first_batch_at is not None and totals.last_commit_at is not None
    elapsed = totals.last_commit_at - totals.first_batch_at
    rate = count / elapsed
    what = "topic -> discarding writer (Kafka alone)" if discard else "topic -> graph"
    print(f"built {count:,} messages in {elapsed:.1f}s in {totals.batches} batches: {rate:,.0f} messages/s "
          f"{what} (not counted: group join {totals.first_batch_at - began:.1f}s, "
          f"drain check {time.monotonic() - totals.last_commit_at:.1f}s)")
    if discard:
        return rate, 0.0
    slowest = sorted(writer.seconds_by_statement.items(), key=lambda kv: -kv[1])[:5]
    print(f"  deadlocks {sum(writer.deadlocks.values())}; slowest: "
          + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in slowest))
    plan = phases(writer.captured)
    wipe(driver, base.neo4j_database)
    apply_schema(driver, base.neo4j_database)
    floor_s = replay(driver, plan, base.neo4j_database)
    floor = count / floor_s
    print(f"floor: the same {sum(len(t) for p in plan for t in p):,} transactions, bare driver: {floor_s:.1f}s = "
          f"{floor:,.0f} messages/s; topic -> graph / floor {rate / floor:.2f} (target >= 0.7)")
    return rate, floor_s


def latency(base: Config, driver, rate: int, seconds: float) -> tuple[float, float, int]:
    cfg = configured(base, "latency")
    count = int(rate * seconds)
    data = list(observations(count, "l"))
    sink = KafkaSink(cfg)
    latencies: list[float] = []

    def committed(records: Sequence[Message]) -> None:
        now_ms = time.time() * 1000
        latencies.extend(now_ms - m.timestamp()[1] for m in records)

    writer = Neo4jWriter.from_config(driver, cfg)
    builder = Builder(cfg, writer, on_committed=committed)
    stop = threading.Event()
    runner = threading.Thread(target=builder.run, args=(stop,), daemon=True)
    runner.start()
    time.sleep(3)  # the builder joins its group before the clock starts
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    began = time.perf_counter()
    for start in range(0, count, per_tick):
        # Paced publishing: each tick's messages are acknowledged by the broker before the next tick.
        sink.write(data[start:start + per_tick])
        pause = began + (start // per_tick + 1) * tick - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    sent = time.perf_counter() - began
    deadline = time.monotonic() + 120
    while len(latencies) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    runner.join(30)
    sink.close()
    if len(latencies) < count:
        print(f"only {len(latencies):,} of {count:,} messages reached the graph within 120 s")
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) if ordered else float("nan")
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
    print(f"steady {count / sent:,.0f} events/s for {sent:.1f}s: end-to-end latency (publish -> Neo4j committed) "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {ordered[-1] if ordered else float('nan'):.0f} ms; "
          f"deadlocks {sum(writer.deadlocks.values())} {dict(writer.deadlocks) or ''}")
    return p50, p99, len(latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000, help="messages for the throughput run")
    parser.add_argument("--rate", type=int, default=1_000, help="events/s of the latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency run")
    parser.add_argument("--build-batch", type=int, default=None, help="messages per builder batch (default: setting)")
    args = parser.parse_args()
    base = load_config()
    if args.build_batch:
        base = base.replace(build_batch=args.build_batch)
    driver = connect(base)
    try:
        wipe(driver, base.neo4j_database)
        apply_schema(driver, base.neo4j_database)
        throughput(base, driver, args.messages // 5, discard=False)  # plans compiled, as in a running builder
        wipe(driver, base.neo4j_database)
        throughput(base, driver, args.messages, discard=True)
        rate, _ = throughput(base, driver, args.messages)
        wipe(driver, base.neo4j_database)
        latency(base, driver, args.rate, args.seconds)
    finally:
        driver.close()
    print(f"throughput target {TARGET:,}/s: {'met' if rate >= TARGET else 'MISSED'}")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

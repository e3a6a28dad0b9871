"""Decisive event to diagnosis at a steady 1,000 events/s through Kafka: p50/p90/p99, each stage's share, deadlocks.

    python bench/latency_e2e.py                        # 1,000 events/s for 30 s, a decisive event every second
    python bench/latency_e2e.py --runs 10              # ten runs; deadlocks counted over all of them
    python bench/latency_e2e.py --rate 2000 --seconds 60

The source is a producer paced at --rate events/s into Kafka (the KafkaSink `kgrca watch --sink kafka` publishes
with, ticks of 10 ms, each acknowledged before the next), not a live watch: the shared local cluster cannot make
1,000 real events a second. The stream is bench/kafka_throughput.py's (workloads, their pods, their events).
Decisive events: copies of the golden hook_image_pull scenario, one per cluster name (lat-<run>-<i>), have all
their input but the last event written beforehand; once a second that last event goes into the stream. A
builder (kgrca/bus/consumer.py with kgrca's writer) consumes; after each commit the releases whose decisive
event the batch carried are diagnosed by a detection thread (what a builder-side trigger would do; `kgrca
build` itself does not diagnose), which checks the diagnosis is hook_image_pull.

Stages of each decisive event: publish (the producer call to the broker's ack; it stands for the watch),
bus (ack to the builder's write starting: fetch, batching, decoding), write (the batch written, Neo4j
committed, offsets committed), detect (commit to the diagnosis, queueing included). Target (issue 20): p99 < 500
ms. Deadlocks: Neo.TransientError.Transaction.DeadlockDetected raised to kgrca's writer (the driver retries them).
Needs a Kafka and a Neo4j it may WIPE (KGRCA_KAFKA_BOOTSTRAP, KGRCA_NEO4J_URI of your own servers).
"""

from __future__ import annotations

import argparse
import dataclasses
import queue
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka import Message  # noqa: E402

from bench.kafka_throughput import configured, observations  # noqa: E402
from kg_builder.schema import apply_schema  # noqa: E402
from kg_builder.writer import Neo4jWriter  # noqa: E402
from kgrca.bus import KafkaSink  # noqa: E402
from kgrca.bus.consumer import Builder  # noqa: E402
from kgrca.config import Config, load_config  # noqa: E402
from kgrca.contracts import Observation, WriteStats  # noqa: E402
from kgrca.graphdb import connect  # noqa: E402
from rca.runner import Detector  # noqa: E402
from tests.fixtures.servers import wipe  # noqa: E402
from tests.scenarios import suite  # noqa: E402

STAGES = ("publish", "bus", "write", "detect")
TARGET_P99_MS = 500.0


@dataclasses.dataclass
class Decisive:
    cluster: str
    called: float = 0.0      # time.time() at each stage's end
    acked: float = 0.0
    write_started: float = 0.0
    committed: float = 0.0
    diagnosed: float = 0.0
    pattern: str | None = None

    def stages(self) -> dict[str, float]:
        return {"publish": self.acked - self.called, "bus": self.write_started - self.acked,
                "write": self.committed - self.write_started, "detect": self.diagnosed - self.committed}


class TimedWriter:
    """kgrca's writer, noting when the write of a batch carrying a decisive event starts."""

    def __init__(self, writer: Neo4jWriter, decisive: dict[str, Decisive]):
        self.writer = writer
        self._decisive = decisive
        self.in_last_batch: list[Decisive] = []

    def write(self, batch: Iterable[Observation]) -> WriteStats:
        batch = list(batch)
        started = time.time()
        self.in_last_batch = [self._decisive[o.cluster] for o in batch if o.cluster in self._decisive]
        for event in self.in_last_batch:
            event.write_started = started
        return self.writer.write(batch)

    def close(self) -> None:
        self.writer.close()


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def one_run(base: Config, driver, run: int, rate: int, seconds: float) -> tuple[list[Decisive], int]:
    cfg = configured(base, f"e2e{run}")
    wipe(driver, cfg.neo4j_database)
    apply_schema(driver, cfg.neo4j_database)
    scenario = suite.load(suite.SCENARIO_ROOT / "hook_image_pull")
    inputs, _ = suite.observations(scenario)
    release = scenario.release
    count = int(seconds)  # one decisive event a second
    clusters = [f"lat-{run}-{i}" for i in range(count)] + [f"lat-{run}-warm"]
    writer = Neo4jWriter.from_config(driver, cfg)
    # Each cluster's release context is in the graph; the warm-up cluster gets its decisive event too, so that
    # the plans of a one-release detection are compiled, as in a builder that has been running.
    writer.write([dataclasses.replace(o, cluster=c) for c in clusters for o in inputs[:-1]])
    writer.write([dataclasses.replace(inputs[-1], cluster=clusters[-1])])
    detector = Detector(driver, cfg)
    detector.run(f"{clusters[-1]}:{release}", scenario.now)
    decisive = {c: Decisive(c) for c in clusters[:-1]}
    timed = TimedWriter(writer, decisive)
    detections: queue.Queue[Decisive | None] = queue.Queue()

    def committed(_records: Sequence[Message]) -> None:
        now = time.time()
        for event in timed.in_last_batch:
            event.committed = now
            detections.put(event)
        timed.in_last_batch = []

    def detect() -> None:
        while (event := detections.get()) is not None:
            found = detector.run(f"{event.cluster}:{release}", scenario.now)
            event.diagnosed = time.time()
            event.pattern = found.diagnoses[0].pattern if found.diagnoses else None

    detecting = threading.Thread(target=detect, daemon=True)
    detecting.start()
    builder = Builder(cfg, timed, on_committed=committed)
    stop = threading.Event()
    building = threading.Thread(target=builder.run, args=(stop,), daemon=True)
    building.start()
    time.sleep(3)  # the builder joins its group before the clock starts

    total = int(rate * seconds)
    stream = list(observations(total, f"e{run}"))
    sink = KafkaSink(cfg)
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    ticks_per_decisive = max(1, int(1 / tick))
    began = time.perf_counter()
    pending = list(decisive.values())
    for n, start in enumerate(range(0, total, per_tick)):
        batch = stream[start:start + per_tick]
        event = pending.pop(0) if n % ticks_per_decisive == ticks_per_decisive // 2 and pending else None
        if event:
            batch = [*batch[:-1], dataclasses.replace(inputs[-1], cluster=event.cluster)]
            event.called = time.time()
        sink.write(batch)
        if event:
            event.acked = time.time()
        pause = began + (n + 1) * tick - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    sent = time.perf_counter() - began
    deadline = time.monotonic() + 120
    while any(not e.diagnosed for e in decisive.values() if e.called) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    building.join(30)
    detections.put(None)
    detecting.join(30)
    sink.close()
    done = [e for e in decisive.values() if e.diagnosed]
    wrong = [e for e in done if e.pattern != scenario.expected]
    print(f"run {run + 1}: {total / sent:,.0f} events/s for {sent:.1f}s; {len(done)} of {len(decisive)} decisive "
          f"events diagnosed{f', {len(wrong)} NOT as {scenario.expected}' if wrong else ''}; "
          f"builder {builder.totals.batches} batches; deadlocks {sum(writer.deadlocks.values())}"
          f"{' ' + str(dict(writer.deadlocks)) if writer.deadlocks else ''}", flush=True)
    return done, sum(writer.deadlocks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=1_000, help="events/s into Kafka")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of a run (one decisive event a second)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    base = load_config()
    driver = connect(base)
    events: list[Decisive] = []
    deadlocks = 0
    try:
        for run in range(args.runs):
            done, dead = one_run(base, driver, run, args.rate, args.seconds)
            events += done
            deadlocks += dead
    finally:
        driver.close()
    if not events:
        print("no decisive event was diagnosed")
        return 1
    totals = [(e.diagnosed - e.called) * 1000 for e in events]
    p50, p90, p99 = (percentile(totals, q) for q in (0.5, 0.9, 0.99))
    spent = {stage: sum(e.stages()[stage] for e in events) for stage in STAGES}
    whole = sum(spent.values()) or 1.0
    print(f"decisive event -> diagnosis over {len(events)} events ({args.runs} run{'s' if args.runs > 1 else ''} at "
          f"{args.rate:,}/s): p50 {p50:.0f} ms, p90 {p90:.0f} ms, p99 {p99:.0f} ms, max {max(totals):.0f} ms")
    print("share of the time: " + ", ".join(
        f"{stage} {spent[stage] / whole:.0%} (p50 {percentile([e.stages()[stage] * 1000 for e in events], 0.5):.0f} ms)"
        for stage in STAGES))
    print(f"deadlocks over {args.runs} run{'s' if args.runs > 1 else ''}: {deadlocks}; "
          f"p99 target < {TARGET_P99_MS:.0f} ms: {'met' if p99 < TARGET_P99_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

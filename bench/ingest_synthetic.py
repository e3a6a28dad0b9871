"""Offline ingest of a synthetic cluster: kgrca's rate beside Neo4j's floor for the same statements, and RSS.

    python bench/ingest_synthetic.py                       # 10k pods, 50k events, 500 releases x 10 revisions
    python bench/ingest_synthetic.py --rounds 3            # kgrca, floor, kgrca, floor, ...: the best of each
    python bench/ingest_synthetic.py --events 1000000 --rounds 0   # streaming memory check: 1M events
    python bench/ingest_synthetic.py --baseline-sample 2000        # also one row per transaction (issue 4)

In one run on one machine: (1) the Python side alone (mapping, then Bolt encoding, no Neo4j); (2) kgrca's
writer on an empty graph, capturing every transaction it sends; (3) the floor: the graph wiped and exactly
those transactions replayed with the bare driver (same sessions, same phases, rows encoded beforehand), so
the floor is what Neo4j itself needs for kgrca's mix of statements; the ratio kgrca/floor (target >= 0.8,
issue 20). Deadlocks (Neo.TransientError.Transaction.DeadlockDetected, retried by the driver) are counted.
Uses the Neo4j of KGRCA_NEO4J_URI (default: the local server) and WIPES it first.
Targets (issue 4): >= 10,000 objects or events per second; < 500 MB RSS for 1M events.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.neo4j_write_floor import CapturingWriter, phases, replay  # noqa: E402
from kg_builder.bolt_values import bolt_rows  # noqa: E402
from kg_builder.schema import apply_schema  # noqa: E402
from kg_builder.writer import Neo4jWriter, map_observations  # noqa: E402
from kgrca.config import load_config  # noqa: E402
from kgrca.contracts import Observation  # noqa: E402
from kgrca.graphdb import connect  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.fixtures.servers import wipe  # noqa: E402

AT = "2026-11-20T10:05:00Z"


def minute(i: int) -> str:
    return f"2026-11-20T{10 + (i // 60) % 12:02d}:{i % 60:02d}:00Z"


def cluster(pods: int, events: int, releases: int, revisions: int) -> Iterator[Observation]:
    """A cluster as a stream: releases with their revisions and workloads, pods, then events."""
    per_release = max(pods // max(releases, 1), 1)
    pod_objects: list[dict] = []
    for r in range(releases):
        name, ns = f"rel{r}", f"ns{r % 50}"
        deploy = f.deployment(name, ns, release=name, replicas=per_release, ready=per_release)
        rs = f.replicaset(deploy)
        yield Observation("k8s", "ADDED", deploy, AT, "bench")
        yield Observation("k8s", "ADDED", rs, AT, "bench")
        for v in range(1, revisions + 1):
            status = "deployed" if v == revisions else "superseded"
            release = f.release_json(name, ns, v, status, manifest=f.manifest(
                ("apps/v1", "Deployment", name), ("v1", "Service", name), ("v1", "ConfigMap", name)),
                hooks=[f.hook(f"{name}-migrate", ["pre-upgrade"])], last_deployed=minute(v))
            yield Observation("k8s", "ADDED", f.release_secret(release), AT, "bench")
        for p in range(per_release):
            if len(pod_objects) >= pods:
                break
            pod = f.pod(f"{name}-{p}", ns, owner_obj=rs, labels={"app": name})
            pod_objects.append({"apiVersion": "v1", "kind": "Pod", "metadata": pod["metadata"]})
            yield Observation("k8s", "ADDED", pod, AT, "bench")
    reasons = ("Scheduled", "Pulled", "Created", "Started", "BackOff", "Unhealthy")
    for i in range(events):
        about = pod_objects[i % len(pod_objects)] if pod_objects else f.pod("lonely")
        yield Observation("k8s", "ADDED", f.event(about, reasons[i % len(reasons)], f"event {i}", at=minute(i)),
                          AT, "bench")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def python_side(stream: Iterator[Observation]) -> tuple[int, float, float]:
    """Observations, seconds mapping them to rows, seconds encoding the rows for Bolt: kgrca's own work."""
    count, mapping, encoding = 0, 0.0, 0.0
    while chunk := list(itertools.islice(stream, 5000)):
        started = time.perf_counter()
        _, grouped = map_observations(chunk)
        mapping += time.perf_counter() - started
        started = time.perf_counter()
        for rows in grouped.values():
            bolt_rows(rows)
        encoding += time.perf_counter() - started
        count += len(chunk)
    return count, mapping, encoding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--releases", type=int, default=500)
    parser.add_argument("--revisions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2,
                        help="kgrca then floor, this many times (best of each: the first round compiles the plans); "
                             "0: kgrca only, no capture")
    parser.add_argument("--baseline-sample", type=int, default=0,
                        help="observations also written one row per transaction, for issue 4's ratio")
    args = parser.parse_args()
    shape = (args.pods, args.events, args.releases, args.revisions)
    cfg = load_config()
    driver = connect(cfg)

    count, mapping, encoding = python_side(cluster(*shape))
    print(f"python side alone: {count:,} observations mapped in {mapping:.1f} s ({count / mapping:,.0f}/s), "
          f"rows encoded for Bolt in {encoding:.1f} s ({count / encoding:,.0f} observations/s)")
    best_kgrca = best_floor = 0.0
    deadlocks = 0
    for round_ in range(max(args.rounds, 1)):
        wipe(driver)
        apply_schema(driver)
        writer = (CapturingWriter if args.rounds else Neo4jWriter).from_config(driver, cfg)
        started = time.perf_counter()
        stats = writer.write(cluster(*shape))
        batched_s = time.perf_counter() - started
        rate = stats.observations / batched_s
        best_kgrca = max(best_kgrca, rate)
        deadlocks += sum(writer.deadlocks.values())
        print(f"kgrca:    {stats.observations:,} observations ({stats.rows:,} rows) in {batched_s:.1f} s "
              f"= {rate:,.0f} observations/s, {stats.rows / batched_s:,.0f} rows/s; rejected {len(stats.rejected)}; "
              f"deadlocks {sum(writer.deadlocks.values())}; peak RSS {rss_mb():.0f} MB")
        slowest = sorted(writer.seconds_by_statement.items(), key=lambda kv: -kv[1])[:6]
        print("  slowest statements: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in slowest))
        if not args.rounds:
            break
        plan = phases(writer.captured)
        transactions = sum(len(t) for sessions in plan for t in sessions)
        del writer
        wipe(driver)
        apply_schema(driver)
        floor_s = replay(driver, plan, cfg.neo4j_database)
        floor = stats.observations / floor_s
        best_floor = max(best_floor, floor)
        print(f"floor:    the same {transactions:,} transactions in {len(plan):,} phases, bare driver: {floor_s:.1f} s "
              f"= {floor:,.0f} observations/s; kgrca/floor {rate / floor:.2f} (round {round_ + 1})")
        del plan
    if args.rounds:
        ratio = best_kgrca / best_floor
        print(f"kgrca {best_kgrca:,.0f}/s, floor {best_floor:,.0f}/s for the same statements: ratio {ratio:.2f} "
              f"(target >= 0.8: {'met' if ratio >= 0.8 else 'NOT met'}); deadlocks {deadlocks}")

    if args.baseline_sample:
        sample = list(itertools.islice(cluster(*shape), args.baseline_sample))
        wipe(driver)
        single = Neo4jWriter(driver, batch_size=1)
        started = time.perf_counter()
        for observation in sample:
            single.write([observation])
        single_rate = len(sample) / (time.perf_counter() - started)
        print(f"baseline: {len(sample):,} observations one row per transaction = {single_rate:,.0f} observations/s; "
              f"ratio batched/baseline {best_kgrca / single_rate:.1f}x")
    print(f"target >= 10,000/s: {'met' if best_kgrca >= 10_000 else 'NOT met'}; "
          f"peak RSS {rss_mb():.0f} MB (target < 500 MB)")
    driver.close()


if __name__ == "__main__":
    main()

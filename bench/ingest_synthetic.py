"""Offline ingest of a synthetic cluster: objects/s, the ratio against one MERGE per transaction, and RSS.

    python bench/ingest_synthetic.py                       # 10k pods, 50k events, 500 releases x 10 revisions
    python bench/ingest_synthetic.py --events 1000000      # streaming memory check: 1M events
    python bench/ingest_synthetic.py --baseline-sample 2000

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

from kg_builder.schema import apply_schema  # noqa: E402
from kg_builder.writer import Neo4jWriter
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--releases", type=int, default=500)
    parser.add_argument("--revisions", type=int, default=10)
    parser.add_argument("--baseline-sample", type=int, default=2_000,
                        help="observations written one MERGE per transaction, for the ratio")
    args = parser.parse_args()
    cfg = load_config()
    driver = connect(cfg)
    wipe(driver)
    apply_schema(driver)

    writer = Neo4jWriter.from_config(driver, cfg)
    started = time.perf_counter()
    stats = writer.write(cluster(args.pods, args.events, args.releases, args.revisions))
    batched_s = time.perf_counter() - started
    batched_rate = stats.observations / batched_s
    print(f"batched:  {stats.observations:,} observations ({stats.rows:,} rows) in {batched_s:.1f} s "
          f"= {batched_rate:,.0f} observations/s, {stats.rows / batched_s:,.0f} rows/s; "
          f"rejected {len(stats.rejected)}; peak RSS {rss_mb():.0f} MB")

    slowest = sorted(writer.seconds_by_statement.items(), key=lambda kv: -kv[1])[:6]
    print("  slowest statements: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in slowest))
    sample = list(itertools.islice(cluster(args.pods, args.events, args.releases, args.revisions),
                                   args.baseline_sample))
    wipe(driver)
    single = Neo4jWriter(driver, batch_size=1)
    started = time.perf_counter()
    for observation in sample:
        single.write([observation])
    single_s = time.perf_counter() - started
    single_rate = len(sample) / single_s
    print(f"baseline: {len(sample):,} observations one row per transaction in {single_s:.1f} s "
          f"= {single_rate:,.0f} observations/s")
    print(f"ratio batched/baseline: {batched_rate / single_rate:.1f}x; target >= 10,000/s: "
          f"{'met' if batched_rate >= 10_000 else 'NOT met'}; peak RSS {rss_mb():.0f} MB (target < 500 MB)")
    driver.close()


if __name__ == "__main__":
    main()

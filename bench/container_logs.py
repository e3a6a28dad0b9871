"""Container logs: how fast lines are classified, what writing them costs, and how long the log pattern takes.

    python bench/container_logs.py                       classifier only
    python bench/container_logs.py --neo4j --pods 500    and a graph: 500 crash-looping pods with logs among 10x
                                                          as many healthy ones (wipes the database KGRCA_NEO4J_URI
                                                          points at: use your own)

Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kgrca import log_lines  # noqa: E402

SAMPLE = [
    "I1120 10:09:20.137524       1 controller.go:169] Starting controller",
    'time="2026-11-20T10:09:20Z" level=info msg="request served" status=200 path=/api/orders',
    '10.244.1.7 - - [20/Nov/2026:10:09:10 +0000] "GET /api/orders HTTP/1.1" 200 157 "-" "curl/8.5.0"',
    "dial tcp: lookup orders-db.prod.svc.cluster.local on 10.96.0.10:53: no such host",
    "panic: runtime error: invalid memory address or nil pointer dereference",
]


def bench_classifier(logs: int, lines: int) -> None:
    texts = [[SAMPLE[(i + j) % len(SAMPLE)] + f" #{j}" for j in range(lines)] for i in range(logs)]
    began = time.perf_counter()
    found = sum(len(log_lines.classify(text)) for text in texts)
    took = time.perf_counter() - began
    total = logs * lines
    print(f"classifier: {total:,} lines in {took:.2f} s = {total / took:,.0f} lines/s "
          f"({took / logs * 1000:.2f} ms per {lines}-line log; {found / logs:.1f} findings per log)")


def bench_graph(pods: int) -> None:
    from ingest.container_logs import Crash, observation
    from kg_builder.schema import apply_schema
    from kg_builder.writer import Neo4jWriter
    from kgrca.config import load_config
    from kgrca.contracts import Observation
    from kgrca.graphdb import connect
    from rca.registry import load_patterns
    from rca.runner import Detector
    from tests.fixtures.servers import wipe
    from tests.scenarios import builders_pods as b

    cfg = load_config()
    driver = connect(cfg)
    wipe(driver, cfg.neo4j_database)
    apply_schema(driver, cfg.neo4j_database)
    writer = Neo4jWriter.from_config(driver, cfg)
    api = b.container("api")
    objects: list[Observation] = []
    logs: list[Observation] = []
    for i in range(pods * 11):
        name = f"api-{i:06d}"
        if i % 11 == 0:
            pod = b.pod(name, containers=[api], ready=False, statuses=[b.status(
                api, b.waiting("CrashLoopBackOff", "back-off"), last=b.terminated("Error", 1, b.T0, b.T0), restarts=3)])
            logs.append(observation(Crash("prod", name, pod["metadata"]["uid"], "api", 2, True, "CrashLoopBackOff"),
                                    SAMPLE * 10, False, "watch", "bench"))
        else:
            pod = b.pod(name, containers=[api])
        objects.append(Observation("k8s", "SNAPSHOT", pod, b.T0, "bench"))
    began = time.perf_counter()
    writer.write(objects)
    pods_took = time.perf_counter() - began
    began = time.perf_counter()
    writer.write(logs)
    logs_took = time.perf_counter() - began
    ratio = logs_took / len(logs) / (pods_took / len(objects))
    print(f"graph: {len(objects):,} pods in {pods_took:.1f} s; {len(logs):,} logs of 50 lines in {logs_took:.1f} s "
          f"({logs_took / len(logs) * 1000:.1f} ms a log, {ratio:.1f}x a pod)")
    wanted = {"container_log_error", "crashloop"}
    detector = Detector(driver, cfg, [p for p in load_patterns() if p.id in wanted])
    for _ in range(2):  # the first run plans the queries
        run = detector.run()
    for pattern, seconds in sorted(run.timings.items()):
        print(f"  {pattern}: {seconds * 1000:.0f} ms, {sum(d.pattern == pattern for d in run.diagnoses)} root "
              f"diagnoses ({len(logs)} crash-looping pods with logs)")
    writer.close()
    driver.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=int, default=500)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--neo4j", action="store_true")
    parser.add_argument("--pods", type=int, default=500)
    args = parser.parse_args()
    bench_classifier(args.logs, args.lines)
    if args.neo4j:
        bench_graph(args.pods)
    return 0


if __name__ == "__main__":
    sys.exit(main())

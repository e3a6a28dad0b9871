"""What metrics cost `kgrca serve` and `kgrca ingest` (issue 21, items 4 and 6).

    python bench/metrics_overhead.py                 200,000 observations of each kind, 2,000 requests

Prints, per call: a request-latency observation in memory (one process) and in the multiprocess files `kgrca serve`
uses with --metrics-port (each worker's own mmap'd file); a Flask request to /healthz through the app's test client
with its metrics hooks; and the ingest progress bar's update. The ratios say how much of a request the metrics are.
No Neo4j needed (the app's driver is never used by /healthz).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def per_call(work, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        work()
    return (time.perf_counter() - started) / count


def observation_cost(count: int) -> float:
    from faces.api.metrics import ServeMetrics

    child = ServeMetrics().request_seconds.labels("/api/v1/releases", "GET", "200")
    return per_call(lambda: child.observe(0.012), count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--multiprocess", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.multiprocess:  # in a child: the value class is chosen once per process
        from faces.api import metrics

        directory = metrics.multiprocess()
        try:
            print(observation_cost(args.observations))
        finally:
            metrics.remove(directory)
        return 0

    in_memory = observation_cost(args.observations)
    child = subprocess.run([sys.executable, __file__, "--multiprocess", "--observations", str(args.observations)],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    multiprocess = float(child.stdout.strip())

    os.environ.setdefault("KGRCA_NEO4J_URI", "bolt://127.0.0.1:1")  # never connected: /healthz does not ask
    from faces.api.app import close_app, create_app
    from kgrca.config import load_config

    app = create_app(load_config())
    client = app.test_client()
    try:
        request = per_call(lambda: client.get("/healthz"), args.requests)
    finally:
        close_app(app)

    from faces.terminal import IngestProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    bar = IngestProgress(10**9, stream=Terminal())
    with bar:
        position = iter(range(10**9))
        update = per_call(lambda: bar.update(next(position), 0), args.observations // 10)

    print(f"request latency observation, in memory:      {in_memory * 1e6:8.2f} us")
    print(f"request latency observation, multiprocess:   {multiprocess * 1e6:8.2f} us "
          f"({multiprocess / in_memory:.1f}x in memory)")
    print(f"GET /healthz through the test client:        {request * 1e6:8.2f} us "
          f"(one multiprocess observation is {multiprocess / request:.1%} of it)")
    print(f"ingest progress bar update (on a terminal):  {update * 1e6:8.2f} us per batch of 1,000 observations "
          f"({update / 1000 * 1e9:.0f} ns per observation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

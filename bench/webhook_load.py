"""Webhook load test: signed GitHub push deliveries against a real `kgrca serve` on loopback.

Starts `kgrca serve` (gunicorn, --workers/--threads) on a free 127.0.0.1 port against the configured Neo4j
(KGRCA_NEO4J_URI, ...), posts up to --requests deliveries from --concurrency keep-alive clients for at most
--duration seconds, with --replay of them resent under the same X-GitHub-Delivery (as GitHub's
"Redeliver" does). Prints deliveries/s sustained, latency percentiles, and checks that the number of
Delivery nodes in the graph equals the number of distinct deliveries accepted. Traffic goes to 127.0.0.1
only; the loop is bounded in count and time. The nodes it wrote are removed afterwards (--keep keeps them).

    python bench/webhook_load.py --requests 3000 --concurrency 8 --workers 2 --threads 4

Exit code 0 when every delivery was accepted and the graph count matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faces.api.process import serving  # noqa: E402
from kg_builder.schema import apply_schema  # noqa: E402
from kgrca.config import load_config  # noqa: E402
from kgrca.graphdb import driver_for  # noqa: E402
from webhooks.auth import hmac_sha256  # noqa: E402

REPO = "kgrca-bench/load"


def push_body(run: str, index: int) -> bytes:
    sha = f"{int(run, 16):016x}{index:024x}"[:40]
    return json.dumps({
        "ref": "refs/heads/main", "before": "0" * 40, "after": sha,
        "repository": {"id": 1, "name": "load", "full_name": REPO, "owner": {"login": "kgrca-bench"}},
        "pusher": {"name": "bench"}, "sender": {"login": "bench"},
        "commits": [{"id": sha, "message": f"load test commit {index}", "timestamp": "2026-11-20T10:00:00Z",
                     "url": f"https://github.com/{REPO}/commit/{sha}",
                     "author": {"name": "bench", "email": "bench@example.com", "username": "bench"}}],
        "head_commit": None}).encode()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="deliveries to post at most (default 3000)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients posting at once (default 8)")
    parser.add_argument("--duration", type=float, default=120.0, help="stop posting after this many seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--replay", type=float, default=0.1, help="fraction of posts that are redeliveries")
    parser.add_argument("--keep", action="store_true", help="keep the nodes the run wrote")
    args = parser.parse_args()
    if not (0 < args.requests <= 100_000 and 0 < args.concurrency <= 64 and 0 < args.duration <= 900):
        parser.error("keep --requests <= 100000, --concurrency <= 64, --duration <= 900")

    secret = secrets.token_hex(16)
    cfg = load_config().replace(github_webhook_secret=secret)
    run = secrets.token_hex(8)
    with driver_for(cfg) as driver:
        apply_schema(driver, cfg.neo4j_database)
    replay_every = int(1 / args.replay) if args.replay > 0 else 0

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    accepted: set[str] = set()
    lock = threading.Lock()
    counter = iter(range(args.requests))

    def client(base: str, deadline: float) -> None:
        url = urllib.parse.urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            # every replay_every-th post resends an earlier delivery, as GitHub's "Redeliver" does
            original = index - 1 if replay_every and index % replay_every == 0 and index > 0 else index
            delivery = f"bench-{run}-{original}"
            body = push_body(run, original)
            headers = {"Content-Type": "application/json", "X-GitHub-Event": "push",
                       "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": hmac_sha256(secret, body)}
            started = time.perf_counter()
            try:
                connection.request("POST", "/webhooks/github", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 202:
                    accepted.add(delivery)
        connection.close()

    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"kgrca-webhook-load-{run}.log"
    with serving(cfg, workers=args.workers, threads=args.threads, log_path=log) as base:
        print(f"kgrca serve on {base}: {args.workers} workers x {args.threads} threads, Neo4j {cfg.neo4j_uri}")
        started = time.monotonic()
        deadline = started + args.duration
        threads = [threading.Thread(target=client, args=(base, deadline)) for _ in range(args.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started

    with driver_for(cfg) as driver:
        in_graph = driver.execute_query(
            "MATCH (d:Delivery) WHERE d.id STARTS WITH $prefix RETURN count(d) AS n",
            prefix=f"github:bench-{run}-", database_=cfg.neo4j_database).records[0]["n"]
        if not args.keep:
            driver.execute_query("MATCH (d:Delivery) WHERE d.id STARTS WITH $prefix DETACH DELETE d",
                                 prefix=f"github:bench-{run}-", database_=cfg.neo4j_database)
            driver.execute_query("MATCH (c:Commit {repo: $repo}) DETACH DELETE c", repo=REPO,
                                 database_=cfg.neo4j_database)

    posted = len(latencies)
    ordered = sorted(latencies)
    ok = statuses.get(202, 0)
    print(f"posted {posted} deliveries in {wall:.1f}s ({args.concurrency} clients, "
          f"{statuses.get(202, 0)} answered 202, others: "
          f"{ {k: v for k, v in sorted(statuses.items()) if k != 202} or 'none'})")
    print(f"throughput: {ok / wall:.1f} deliveries/s sustained")
    print(f"latency: p50 {percentile(ordered, 0.50) * 1000:.1f} ms, p95 {percentile(ordered, 0.95) * 1000:.1f} ms, "
          f"p99 {percentile(ordered, 0.99) * 1000:.1f} ms, max {ordered[-1] * 1000 if ordered else 0:.1f} ms")
    print(f"distinct deliveries accepted {len(accepted)}, Delivery nodes in the graph {in_graph}: "
          f"{'equal' if in_graph == len(accepted) else 'MISMATCH'}")
    return 0 if in_graph == len(accepted) and ok == posted else 1


if __name__ == "__main__":
    sys.exit(main())

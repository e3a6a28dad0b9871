"""`kgrca trace`: follow helm and kubectl with eBPF; records go to Neo4j, Kafka or stdout.

Each helm or kubectl process becomes one ``helm_process`` / ``kubectl_process`` Observation
(``EXITED`` when it ends; ``RUNNING`` first when it lives longer than ``--running-after``). Where
eBPF cannot run (not Linux, not root, no tracefs, no headers, no BCC) it says why in one line and
exits 3, so a wrapper can go on Kubernetes-only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import bpf
from bpf import tracer as bpf_tracer
from bpf.metrics import TraceMetrics
from bpf.program import generate
from kgrca import clusters
from kgrca.config import Config
from kgrca.contracts import KgrcaError, Observation, TemporaryError

log = logging.getLogger(__name__)

EXIT_UNAVAILABLE = 3
EXAMPLES = """\
examples:
  sudo kgrca trace                       trace into Neo4j (kgrca servers up neo4j first)
  sudo kgrca trace --sink stdout > ops.jsonl && kgrca ingest ops.jsonl
  sudo kgrca trace --sink stdout --duration 60 --names helm
"""


class Sink(Protocol):
    """Where observations go. ``send`` either takes all of them or raises."""

    def send(self, observations: list[Observation]) -> None: ...

    def close(self) -> None: ...


class StdoutSink:
    """One JSON line per ``Observation.to_json()``, the form `kgrca ingest` reads back."""

    def __init__(self, stream: Any = None):
        self._stream = stream or sys.stdout

    def send(self, observations: list[Observation]) -> None:
        for item in observations:
            self._stream.write(json.dumps(item.to_json(), separators=(",", ":")) + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class Neo4jSink:
    """Writes through kg_builder's GraphWriter; retries while Neo4j is away, keeping what it holds."""

    def __init__(self, cfg: Config, retry_for: float = 300.0):
        from kg_builder.schema import apply_schema
        from kg_builder.writer import Neo4jWriter
        from kgrca.graphdb import connect

        driver = connect(cfg)
        apply_schema(driver, cfg.neo4j_database)
        self._writer = Neo4jWriter.from_config(driver, cfg)
        self._retry_for = retry_for

    def send(self, observations: list[Observation]) -> None:
        deadline = time.monotonic() + self._retry_for
        while True:
            try:
                stats = self._writer.write(observations)
            except TemporaryError as exc:
                if time.monotonic() + exc.delay > deadline:
                    raise
                log.warning("%s; retrying in %.0fs", exc, exc.delay)
                time.sleep(exc.delay)
                continue
            for origin, reason in stats.rejected:
                log.warning("rejected %s: %s", origin, reason)
            return

    def close(self) -> None:
        self._writer.close()


def kafka_sink(cfg: Config) -> Sink:
    """Kafka comes from ``kgrca.bus``: ``producer(cfg)`` returns a ``send``/``close`` publisher to the
    processes topic. Imported only when asked, so tracing needs no Kafka client otherwise."""
    try:
        bus = importlib.import_module("kgrca.bus")
    except ModuleNotFoundError:
        raise KgrcaError("--sink kafka is not available yet (kgrca.bus is not built): "
                         "use --sink neo4j or --sink stdout") from None
    factory = getattr(bus, "producer", None)
    if factory is None:
        raise KgrcaError("--sink kafka is not available yet (kgrca.bus has no producer): "
                         "use --sink neo4j or --sink stdout")
    return factory(cfg)


SINKS: dict[str, Callable[[Config], Sink]] = {
    "neo4j": Neo4jSink,
    "kafka": kafka_sink,
    "stdout": lambda cfg: StdoutSink(),
}


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("trace", help=summary, description=summary + ". Needs root.", epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sink", choices=sorted(SINKS), default="neo4j",
                        help="where records go (default: neo4j)")
    parser.add_argument("--check", action="store_true",
                        help="only say whether eBPF tracing can run here (exit 0 if it can, 3 if not)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics on this port (default: setting trace_metrics_port, 0: none)")
    bpf_tracer.add_options(parser)
    clusters.add_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    options = bpf_tracer.options_from(args, cfg)
    if args.ebpf:
        print(generate(options))
        return 0
    ok, why = bpf.availability()
    if args.check:
        print(f"kgrca: {why}", file=sys.stderr if not ok else sys.stdout)
        return 0 if ok else EXIT_UNAVAILABLE
    if not ok:
        print(f"kgrca: {why}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    cluster = clusters.chosen(cfg, args.cluster)
    sink = SINKS[args.sink](cfg)
    tracer = bpf_tracer.Tracer(options, running_after=args.running_after)
    metrics = TraceMetrics()
    metrics_port = cfg.trace_metrics_port if args.metrics_port is None else args.metrics_port
    if metrics_port:
        metrics.serve(metrics_port)
    stopping = False

    def stop_on_term(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, stop_on_term)
    try:
        tracer.start()
        metrics.attach(tracer)  # after start: the buffer may have fallen back from ring to perf
        print(f"kgrca: tracing {', '.join(tracer.options.names)} ({tracer.buffer}) into {args.sink}; "
              "Ctrl-C to stop", file=sys.stderr)
        send = metrics.counting(lambda batch: sink.send(list(clusters.stamped(batch, cluster))))
        emitted = bpf_tracer.run(tracer, send, args.duration, stop=lambda: stopping,
                                 on_status=lambda text: log.warning("%s", text))
    finally:
        signal.signal(signal.SIGTERM, previous)
        tracer.close()
        sink.close()
    print(f"kgrca: {emitted} records from {tracer.events} events, {tracer.lost} events lost",
          file=sys.stderr)
    return 0

"""`kgrca build`: consume the Kafka topics and write the graph (the one writer behind Kafka)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.bus.consumer import Builder
from kgrca.bus.metrics import BuildMetrics
from kgrca.bus.topics import topics_for
from kgrca.config import Config
from kgrca.graphdb import connect

log = logging.getLogger("kgrca.build")

EXAMPLES = """\
examples:
  kgrca build                          run the builder; metrics at http://127.0.0.1:9464/metrics
  kgrca build --once                   write what the topics hold now, then exit
  KGRCA_KAFKA_TOPIC_PREFIX=staging kgrca build --metrics-port 0

Reads <prefix>.k8s.events.v1, <prefix>.processes.v1 and <prefix>.webhooks.v1 as consumer group
'kafka_group'; messages it cannot read go to <prefix>.deadletter.v1 (see docs/kafka-topics.md).
Offsets are committed only after Neo4j committed: a builder stopped at any point loses nothing.
"""


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("build", help=summary, description=summary, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--once", action="store_true",
                        help="stop when every partition is drained (what the topics hold at that moment)")
    parser.add_argument("--metrics-port", type=int, default=9464, metavar="PORT",
                        help="Prometheus endpoint port (default 9464; 0: no endpoint)")
    parser.add_argument("--metrics-host", default="0.0.0.0", metavar="ADDRESS",
                        help="address the metrics endpoint listens on (default all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    metrics = BuildMetrics()
    if args.metrics_port:
        metrics.serve(args.metrics_port, args.metrics_host)
    driver = connect(cfg)
    apply_schema(driver, cfg.neo4j_database)
    writer = Neo4jWriter.from_config(driver, cfg)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        builder = Builder(cfg, writer, metrics)
        log.info("building the graph from %s as group %s", ", ".join(topics_for(cfg).sources), cfg.kafka_group)
        totals = builder.run(stop, once=args.once)
    finally:
        writer.close()
    print(f"build stopped: {totals.messages} messages, {totals.observations} observations written, "
          f"{totals.dead_lettered} dead-lettered, {totals.retries} retries")
    return 0

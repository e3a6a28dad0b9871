"""`kgrca watch`: list+watch the Kubernetes API and write what it sees to the graph (or to Kafka)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time

from faces.terminal import WatchStatus
from ingest.k8s_watch import start_watch
from kg_builder.schema import apply_schema
from kgrca import clusters
from kgrca.bus.metrics import WatchMetrics
from kgrca.config import Config
from kgrca.contracts import GraphWriter, Observation, TemporaryError
from kgrca.graphdb import connect
from webhooks import sinks

log = logging.getLogger("kgrca.watch")

EXAMPLES = """\
examples:
  kgrca watch                                   default kubeconfig (or in-cluster), all namespaces
  kgrca watch --kubeconfig ~/.kube/config --namespace prod --namespace staging
  kgrca watch --sink kafka                       publish to Kafka; `kgrca build` writes the graph
  kgrca watch --sink kafka --cluster eu-1        one watcher per cluster, all into one graph (docs/deploy.md)
  kgrca watch --metrics-port 9465                Prometheus metrics at :9465/metrics (docs/metrics.md)

Watched: Namespaces, Nodes, CRDs, webhook configurations, Helm release Secrets (owner=helm only), ConfigMaps,
Services, EndpointSlices, Ingresses, IngressClasses, NetworkPolicies, PVCs, PVs, StorageClasses, Deployments,
ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, HPAs, PodDisruptionBudgets, Pods, Events and
CertificateSigningRequests; and, while their CRDs exist,
Flux's HelmReleases, Kustomizations, HelmRepositories, OCIRepositories, GitRepositories and HelmCharts and
Argo CD's Applications (started and stopped as the CRDs come and go; see docs/gitops-watch.md). Resumes
from the last resourceVersion after a dropped connection, re-lists on 410 Gone.
"""


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("watch", help=summary, description=summary, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube/config)")
    parser.add_argument("--namespace", "-n", action="append", dest="namespaces",
                        help="namespace to watch (repeatable; default: setting 'namespaces', empty = all)")
    parser.add_argument("--sink", choices=("neo4j", "kafka"), default="neo4j", help="where observations go")
    parser.add_argument("--for", dest="duration", type=float, metavar="SECONDS",
                        help="stop after this many seconds (default: run until interrupted)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics on this port (default: setting watch_metrics_port, 0: none)")
    clusters.add_argument(parser, more=", else the kubeconfig's current context")
    parser.set_defaults(func=run)


def make_sink(name: str, cfg: Config) -> GraphWriter:
    """The sink named by --sink; with neo4j, on a fresh driver with the schema applied (the writer owns it)."""
    driver = None
    if name == "neo4j":
        driver = connect(cfg)
        apply_schema(driver, cfg.neo4j_database)
    return sinks.make_sink(name, cfg, driver)


def run(args: argparse.Namespace, cfg: Config) -> int:
    changes = {}
    if args.kubeconfig:
        changes["kubeconfig"] = args.kubeconfig
    if args.namespaces:
        changes["namespaces"] = args.namespaces
    cfg = cfg.replace(**changes)
    cluster = clusters.for_watch(cfg, args.cluster)
    metrics = WatchMetrics()
    metrics_port = cfg.watch_metrics_port if args.metrics_port is None else args.metrics_port
    if metrics_port:
        metrics.serve(metrics_port)
    sink = make_sink(args.sink, cfg)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.duration:
        timer = threading.Timer(args.duration, stop.set)
        timer.daemon = True  # a watch stopped sooner (SIGTERM) exits now, not when --for would have ended
        timer.start()
    watch = start_watch(cfg, stop)
    metrics.watching(lambda: watch.watchers)
    status = WatchStatus(metrics.snapshot).start()  # a live line on a terminal, nothing otherwise
    log.info("watching %d kinds in %s of cluster %s", len(watch.watchers),
             ", ".join(cfg.namespaces) or "all namespaces", cluster or "(unnamed)")
    pending: list[Observation] = []
    written = 0
    last_log = time.monotonic()
    try:
        for observation in clusters.stamped(watch.observations(), cluster):
            if observation is not None:
                pending.append(observation)
                metrics.seen(observation)
            if pending and (observation is None or len(pending) >= cfg.batch_size):
                written += _write(sink, pending, stop, metrics)
                pending = []
            if time.monotonic() - last_log > 30:
                last_log = time.monotonic()
                log.info("%d observations written", written)
    except KeyboardInterrupt:
        stop.set()
    if pending:
        written += _write(sink, pending, stop, metrics)
    sink.close()
    status.stop()
    print(f"watch stopped: {written} observations written")
    return 0


def _write(sink, batch: list[Observation], stop: threading.Event, metrics: WatchMetrics | None = None) -> int:
    """Write a batch, retrying while the sink is unavailable: nothing is dropped. An object the graph cannot
    take is logged with why, counted, and skipped; the watch goes on."""
    delay = 1.0
    while True:
        try:
            stats = sink.write(batch)
            for origin, reason in stats.rejected:
                log.warning("rejected %s: %s", origin, reason)
            if metrics is not None:
                metrics.rejected.inc(len(stats.rejected))
                metrics.observations.inc(stats.observations - len(stats.rejected))
                metrics.wrote(batch, stats.observations - len(stats.rejected))
            return stats.observations
        except TemporaryError as exc:
            if metrics is not None:
                metrics.retries.inc()
            log.warning("%s; retrying in %.0fs", exc, delay)
            if stop.wait(delay) and delay > 8:
                raise
            delay = min(delay * 2, 30)

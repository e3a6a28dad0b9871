"""`kgrca serve`: the REST API and the webhook receivers behind gunicorn, plus background services.

The schema is applied before the server binds. Each gunicorn worker builds its own app (and Neo4j driver,
and Kafka producer with ``--sink kafka``) after the fork. Background services (``BACKGROUND_SERVICES``)
run once, in the gunicorn master, from when it is ready until it exits. Every wait on Neo4j is bounded
(``faces/api/limits.py``, docs/rest-api.md "Time limits"); one thread of each worker never waits on it, so
``/healthz`` answers while Neo4j does not.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket
from collections.abc import Callable
from typing import Any, Protocol

from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from faces.api import limits, metrics
from faces.reports.schedule import scheduler_for
from kg_builder.schema import apply_schema
from kgrca.config import Config
from kgrca.contracts import KgrcaError
from kgrca.graphdb import driver_for
from webhooks.sinks import SINKS, make_sink
from webhooks.spool import Spool

log = logging.getLogger(__name__)
KNOWN = {setting.name for setting in KNOWN_SETTINGS}

EXAMPLES = """\
examples:
  kgrca serve                                   REST API and webhooks on http_host:http_port (127.0.0.1:8080)
  kgrca serve --port 18080 --workers 4
  kgrca serve --sink kafka                      webhooks go to Kafka; 'kgrca build' writes them to the graph
  curl -s localhost:8080/api/v1/releases?status=failed
  curl -s localhost:8080/api/v1/releases/prod/api/diagnosis

webhook secrets: KGRCA_GITHUB_WEBHOOK_SECRET, KGRCA_ARGOCD_WEBHOOK_TOKEN, KGRCA_JIRA_WEBHOOK_SECRET
(see docs/webhooks.md; a receiver without its secret refuses every delivery)
"""


# The path without its query string: Jira's ?secret= must never reach a log.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms "%(a)s"'


class BackgroundService(Protocol):
    """Something that runs beside the app for as long as the server does (scheduled reports, ...)."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


# Builders of the background services started with the server: each takes the settings and returns a
# service, or None when it is not configured (no report_schedule). They are built before the server binds,
# so a bad setting stops `kgrca serve` with its one line; they start once the server is ready.
BACKGROUND_SERVICES: list[Callable[[Config], BackgroundService | None]] = [scheduler_for]


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("serve", help=summary, description=summary, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", help="address to listen on (default: http_host setting)")
    parser.add_argument("--port", type=int, help="port to listen on (default: http_port setting)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics of every worker on this port (default: setting "
                             "serve_metrics_port, 0: none); GET /metrics on the API's port has the spool's alone")
    parser.add_argument("--sink", choices=SINKS, default="neo4j",
                        help="where webhook deliveries go: write the graph now (neo4j), or Kafka (kafka)")
    parser.set_defaults(func=run)


class Server(BaseApplication):
    """gunicorn with options from code rather than its own command line."""

    def __init__(self, app_factory: Callable[[], Any], options: dict[str, Any]):
        self._factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._factory()


def check_port(host: str, port: int, option: str = "--port / KGRCA_HTTP_PORT") -> None:
    """Fail with one line before gunicorn spends five retries on a port that is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise KgrcaError(f"port {port} on {host} is in use: stop what listens there or choose another "
                                 f"with {option}") from None
            raise KgrcaError(f"cannot listen on {host}:{port}: {exc.strerror}; set --host / KGRCA_HTTP_HOST") from None


def gunicorn_options(cfg: Config, host: str, port: int, workers: int, threads: int,
                     services: list[BackgroundService]) -> dict[str, Any]:
    def when_ready(_server: Any) -> None:
        for service in services:
            service.start()
            log.info("started %s", service.name)

    def on_exit(_server: Any) -> None:
        for service in reversed(services):
            try:
                service.stop()
            except Exception as exc:  # one service failing to stop must not keep the others running
                log.error("stopping %s failed: %s", service.name, exc)

    return {"bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}", "workers": workers,
            "threads": threads, "worker_class": "gthread" if threads > 1 else "sync", "timeout": 120,
            "graceful_timeout": 20, "accesslog": "-", "errorlog": "-",
            "access_log_format": ACCESS_LOG_FORMAT, "loglevel": cfg.log_level.lower(),
            "proc_name": "kgrca-serve", "when_ready": when_ready, "on_exit": on_exit,
            # gunicorn's control socket is one path in $HOME for every server: two servers would fight over it
            **({"control_socket_disable": True} if "control_socket_disable" in KNOWN else {})}


def run(args: argparse.Namespace, cfg: Config) -> int:
    host = args.host or cfg.http_host
    port = args.port or cfg.http_port
    if args.workers < 1 or args.threads < 1:
        raise KgrcaError("--workers and --threads must be at least 1")
    limits.check(cfg)
    if cfg.webhook_spool_dir:
        Spool(cfg.webhook_spool_dir)  # a directory it cannot create stops it here, not each worker at boot
    check_port(host, port)
    metrics_port = cfg.serve_metrics_port if args.metrics_port is None else args.metrics_port
    if metrics_port:
        check_port(host, metrics_port, "--metrics-port / KGRCA_SERVE_METRICS_PORT")
    try:
        with driver_for(cfg, server=True) as driver:  # a frozen Neo4j stops it in seconds, not a minute
            created = apply_schema(driver, cfg.neo4j_database)
            log.info("schema on %s: %s", cfg.neo4j_uri, f"{created} statements run" if created else "already complete")
    except KgrcaError as exc:
        raise KgrcaError(" ".join(str(exc).split())) from None  # the driver's text spans lines
    if args.sink == "kafka":
        make_sink("kafka", cfg).close()  # proves the broker answers before accepting deliveries
    sink = args.sink
    # one thread per worker never waits on Neo4j, so /healthz answers while Neo4j does not
    neo4j_slots = max(1, args.threads - 1)
    if metrics_port:
        metrics_dir = metrics.multiprocess()  # before anything counts, so the workers inherit it
    services = [metrics.CountedService(service) for build in BACKGROUND_SERVICES
                if (service := build(cfg)) is not None]

    def app() -> Any:
        from faces.api.app import create_app  # built in each worker, after the fork

        return create_app(cfg, sink=sink, neo4j_slots=neo4j_slots)

    log.info("serving on http://%s:%d (%d workers x %d threads, sink %s)", host, port, args.workers,
             args.threads, sink)
    if not metrics_port:
        Server(app, gunicorn_options(cfg, host, port, args.workers, args.threads, services)).run()
        return 0
    try:
        metrics.serve_server_metrics(metrics_port, host, Spool(cfg.webhook_spool_dir) if cfg.webhook_spool_dir
                                     else None, metrics_dir)
        log.info("metrics on http://%s:%d/metrics", host, metrics_port)
        Server(app, gunicorn_options(cfg, host, port, args.workers, args.threads, services)).run()
    finally:
        metrics.remove(metrics_dir)
    return 0

"""Prometheus metrics of ``kgrca serve``.

Two pages:

* ``GET /metrics`` on the API's own port (``exposition``): the webhook spool, read from the spool's directory when
  scraped, so every gunicorn worker answers the same (a counter kept in one worker's memory would differ from
  worker to worker). Without ``webhook_spool_dir`` the depth is 0 and ``kgrca_webhook_spool_enabled`` says why.
* ``serve_metrics_port`` (``kgrca serve --metrics-port``): everything the server does, summed over its gunicorn
  workers: webhook deliveries by source and outcome, REST latency by route, Neo4j errors and timeouts, scheduled
  report runs, and the spool's gauges. Each worker writes its counters to files in a directory of the server's
  (prometheus_client's multiprocess mode, switched on by ``multiprocess()`` before the workers fork) and the
  gunicorn master serves their sum, so a scrape sees the whole server whichever worker would have answered.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Flask, Response, g, request
from neo4j import exceptions as neo4j_errors
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from faces.api.limits import Calls, Unanswered
from kgrca.bus.metrics import LATENCY_BUCKETS, serve_registry
from webhooks.spool import Spool

T = TypeVar("T")

# What a webhook delivery came to, by its answer: the outcomes a receiver gives (webhooks/receivers.py).
OUTCOMES = {200: "ignored", 400: "invalid", 401: "refused", 413: "too_large", 503: "unavailable"}


def exposition(spool: Spool | None) -> tuple[bytes, str]:
    """The API port's metrics page and its content type."""
    registry = CollectorRegistry()
    registry.register(SpoolCollector(spool))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class SpoolCollector(Collector):
    """The webhook spool's gauges, read from its directory at each scrape."""

    def __init__(self, spool: Spool | None):
        self.spool = spool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        spool = self.spool
        yield GaugeMetricFamily("kgrca_webhook_spool_enabled", "1 when webhook_spool_dir is set (deliveries not "
                                "stored in time are spooled), 0 when they are answered 503", value=1 if spool else 0)
        yield GaugeMetricFamily("kgrca_webhook_spool_depth", "webhook deliveries spooled and not yet written to the "
                                "graph", value=spool.depth() if spool else 0)
        yield GaugeMetricFamily("kgrca_webhook_spool_oldest_seconds", "age of the oldest spooled delivery (0 when "
                                "none is)", value=spool.oldest_age() if spool else 0)
        yield GaugeMetricFamily("kgrca_webhook_spool_rejected", "spooled deliveries the graph refused, kept in the "
                                "spool's rejected/", value=spool.rejected() if spool else 0)


class ServeMetrics:
    """The counters of one serve process (a worker, or the master for scheduled reports)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.deliveries = Counter("kgrca_serve_webhook_deliveries", "webhook deliveries by source (github, argocd, "
                                  "jira) and outcome (accepted, spooled, ignored, invalid, refused, too_large, "
                                  "unavailable, error)", ["source", "outcome"], registry=r)
        self.request_seconds = Histogram("kgrca_serve_request_seconds", "time to answer a request, by route "
                                         "(the URL rule, e.g. /api/v1/releases/<namespace>/<name>), method and status",
                                         ["route", "method", "status"], buckets=LATENCY_BUCKETS, registry=r)
        self.neo4j_errors = Counter("kgrca_serve_neo4j_errors", "Neo4j work of a request or a spooled delivery that "
                                    "failed, by kind: timeout (no answer within its limit, or every slot held) or "
                                    "error (unreachable, refused, a driver error)", ["kind"], registry=r)
        self.report_runs = Counter("kgrca_serve_report_runs", "scheduled report runs by outcome (written, failed)",
                                   ["outcome"], registry=r)
        self.report_last_written = Gauge("kgrca_serve_report_last_success_timestamp_seconds",
                                         "when the last scheduled report was written (Unix time)", registry=r,
                                         multiprocess_mode="max")
        for kind in ("timeout", "error"):  # present from the start: a dashboard shows 0, not "no data"
            self.neo4j_errors.labels(kind)
        for outcome in ("written", "failed"):
            self.report_runs.labels(outcome)


_metrics: tuple[int, ServeMetrics] | None = None
_metrics_lock = threading.Lock()


def serve_metrics() -> ServeMetrics:
    """This process's ServeMetrics, made on first use in each process (a worker's counters go to its own files)."""
    global _metrics
    with _metrics_lock:
        if _metrics is None or _metrics[0] != os.getpid():
            _metrics = (os.getpid(), ServeMetrics())
        return _metrics[1]


def multiprocess() -> str:
    """Switch this process and the workers it forks to multiprocess counters in a fresh directory; returns it.
    prometheus_client picks its value class when first imported, before ``kgrca serve`` knows it needs files."""
    directory = tempfile.mkdtemp(prefix="kgrca-serve-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    prometheus_values.ValueClass = prometheus_values.MultiProcessValue()
    return directory


def serve_server_metrics(port: int, host: str, spool: Spool | None, directory: str) -> None:
    """The sum of every worker's counters and the spool's gauges on ``host:port`` (a thread of this process)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    registry.register(SpoolCollector(spool))
    serve_registry(registry, port, host, "--metrics-port / KGRCA_SERVE_METRICS_PORT")


def remove(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)


class CountedCalls:
    """``limits.Calls`` that counts Neo4j's timeouts and errors (every Neo4j wait of the app goes through it)."""

    def __init__(self, calls: Calls):
        self.calls = calls

    @property
    def slots(self) -> int:
        return self.calls.slots

    def run(self, work: Callable[[], T], seconds: float, what: str) -> T:
        try:
            return self.calls.run(work, seconds, what)
        except Unanswered:
            serve_metrics().neo4j_errors.labels("timeout").inc()
            raise
        except (neo4j_errors.DriverError, neo4j_errors.Neo4jError, OSError):
            serve_metrics().neo4j_errors.labels("error").inc()
            raise

    def close(self) -> None:
        self.calls.close()


def instrument(app: Flask) -> None:
    """Time every request by route, and count webhook deliveries by source and outcome."""

    @app.before_request
    def started() -> None:
        g.kgrca_started = time.perf_counter()

    @app.after_request
    def answered(response: Response) -> Response:
        began = g.get("kgrca_started")
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics = serve_metrics()
        if began is not None:
            metrics.request_seconds.labels(route, request.method, str(response.status_code)).observe(
                time.perf_counter() - began)
        if request.blueprint == "webhooks" and request.endpoint:
            metrics.deliveries.labels(request.endpoint.rsplit(".", 1)[-1], _outcome(response)).inc()
        return response


def _outcome(response: Response) -> str:
    if response.status_code == 202:
        body: Any = response.get_json(silent=True) or {}
        return "spooled" if body.get("status") == "spooled" else "accepted"
    return OUTCOMES.get(response.status_code, "error")


class CountedService:
    """A background service of ``kgrca serve`` whose ``run_once`` (the scheduled reports') is counted."""

    def __init__(self, service: Any):
        self.service = service
        self.name = service.name
        run_once = getattr(service, "run_once", None)
        if run_once is not None:
            def counted() -> Any:
                try:
                    result = run_once()
                except Exception:
                    serve_metrics().report_runs.labels("failed").inc()
                    raise
                serve_metrics().report_runs.labels("written").inc()
                serve_metrics().report_last_written.set(time.time())
                return result

            service.run_once = counted  # its loop calls self.run_once: the count sees every scheduled run

    def start(self) -> None:
        self.service.start()

    def stop(self) -> None:
        self.service.stop()

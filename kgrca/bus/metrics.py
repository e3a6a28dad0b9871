"""Prometheus metrics of ``kgrca build``, in a registry of their own so several builders can share a process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from kgrca.contracts import KgrcaError

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class BuildMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.lag = Gauge("kgrca_build_consumer_lag", "messages in a partition not yet written and committed",
                         ["topic", "partition"], registry=r)
        self.messages = Counter("kgrca_build_messages", "messages consumed (rate() gives messages/s)",
                                ["topic"], registry=r)
        self.observations = Counter("kgrca_build_observations_written",
                                    "observations written to the graph and committed", registry=r)
        self.dead_lettered = Counter("kgrca_build_dead_lettered",
                                     "messages sent to the dead-letter topic, by stage (parse or write)",
                                     ["stage"], registry=r)
        self.batch_seconds = Histogram("kgrca_build_batch_seconds",
                                       "time from a batch consumed to its offsets committed",
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.end_to_end_seconds = Histogram("kgrca_build_end_to_end_seconds",
                                            "per batch: from its oldest message's producer timestamp to its commit",
                                            buckets=LATENCY_BUCKETS, registry=r)
        self.neo4j_retries = Counter("kgrca_build_neo4j_retries",
                                     "batch writes retried because Neo4j was unavailable", registry=r)
        self.commit_failures = Counter("kgrca_build_commit_failures",
                                       "offset commits that failed (the batch is read again: at-least-once)",
                                       registry=r)

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """Expose ``/metrics`` over HTTP; one line naming the port when it is taken."""
        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise KgrcaError(f"cannot serve metrics on {host}:{port}: {exc.strerror}; choose another port with "
                             f"--metrics-port, or 0 for none") from None


class WatchMetrics:
    """Prometheus metrics of ``kgrca watch``: what it wrote and what it skipped (a record the graph refused)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.observations = Counter("kgrca_watch_observations_written",
                                    "observations the watch wrote (rate() gives observations/s)", registry=r)
        self.rejected = Counter("kgrca_watch_rejected",
                                "objects skipped because they cannot be read or stored (each logged with why)",
                                registry=r)
        self.retries = Counter("kgrca_watch_sink_retries", "writes retried because the sink was unavailable",
                               registry=r)

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise KgrcaError(f"cannot serve metrics on {host}:{port}: {exc.strerror}; choose another port with "
                             f"--metrics-port, or 0 for none") from None

"""Prometheus metrics of ``kgrca build`` and ``kgrca watch``, each in a registry of its own so several can share a
process (tests do)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from kgrca.contracts import KgrcaError, Observation

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
        serve_registry(self.registry, port, host)


def serve_registry(registry: CollectorRegistry, port: int, host: str = "0.0.0.0",
                   option: str = "--metrics-port") -> None:
    """Serve ``registry`` at ``http://host:port/metrics`` from a thread; one line naming the port when it is taken."""
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise KgrcaError(f"cannot serve metrics on {host}:{port}: {exc.strerror}; choose another port with "
                         f"{option}, or 0 for none") from None


class WatchMetrics:
    """Prometheus metrics of ``kgrca watch``: what it listed and saw, what it wrote and skipped (a record the graph
    refused), how far behind its writes are, and its watchers' re-lists, 410s and restarts.

    ``watching(watchers)`` names the function that returns the running watchers (``Watch.watchers``); their counts
    are read at each scrape."""

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
        self.listed = Counter("kgrca_watch_objects_listed", "objects read by a list (the first one, and each "
                              "re-list), by kind", ["kind"], registry=r)
        self.events = Counter("kgrca_watch_events", "watch events (ADDED, MODIFIED, DELETED) by object kind and type",
                              ["kind", "type"], registry=r)
        self.write_lag = Histogram("kgrca_watch_write_lag_seconds", "per batch written: from its oldest observation "
                                   "being seen to the sink taking the batch", buckets=LATENCY_BUCKETS, registry=r)
        self.last_write_lag = Gauge("kgrca_watch_last_write_lag_seconds", "write lag of the last batch written",
                                    registry=r)
        self._watchers: Callable[[], Iterable[Any]] = list
        r.register(_WatcherCounts(lambda: self._watchers()))
        # the same counts in plain numbers, for the terminal's status line
        self.objects_listed = 0
        self.watch_events = 0
        self.written = 0
        self.lag: float | None = None

    def watching(self, watchers: Callable[[], Iterable[Any]]) -> None:
        self._watchers = watchers

    def seen(self, observation: Observation) -> None:
        """Count one observation from the watch: a SNAPSHOT comes from a list, the rest are watch events."""
        kind = str(observation.payload.get("kind") or "")
        if observation.action == "SNAPSHOT":
            self.listed.labels(kind).inc()
            self.objects_listed += 1
        else:
            self.events.labels(kind, observation.action).inc()
            self.watch_events += 1

    def wrote(self, batch: list[Observation], written: int) -> None:
        """A batch the sink took: its lag is from its oldest observation being seen to now."""
        self.written += written
        seen = [t for t in (_when(o.observed_at) for o in batch) if t is not None]
        if seen:
            self.lag = max((dt.datetime.now(dt.UTC) - min(seen)).total_seconds(), 0.0)
            self.write_lag.observe(self.lag)
            self.last_write_lag.set(self.lag)

    def snapshot(self) -> tuple[int, int, int, float | None]:
        """(objects listed, watch events, observations written, last write lag) for the status line."""
        return self.objects_listed, self.watch_events, self.written, self.lag

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        serve_registry(self.registry, port, host, "--metrics-port / KGRCA_WATCH_METRICS_PORT")


def _when(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class _WatcherCounts(Collector):
    """The counts each KindWatcher keeps (``relists``, ``gone``, ``reconnects``), summed by kind at each scrape."""

    def __init__(self, watchers: Callable[[], Iterable[Any]]):
        self.watchers = watchers

    def collect(self) -> Iterator[CounterMetricFamily]:
        families = {
            "relists": CounterMetricFamily("kgrca_watch_relists", "lists after a watcher's first one (each follows "
                                           "a 410 Gone), by kind", labels=["kind"]),
            "gone": CounterMetricFamily("kgrca_watch_gone", "watches answered 410 Gone (their resourceVersion was "
                                        "compacted away), by kind", labels=["kind"]),
            "reconnects": CounterMetricFamily("kgrca_watch_restarts", "watches restarted after a dropped connection "
                                              "(resumed from the last resourceVersion), by kind", labels=["kind"]),
        }
        totals: dict[str, dict[str, int]] = {name: {} for name in families}
        for watcher in list(self.watchers()):
            kind = watcher.kind.kind
            counts = {"relists": max(watcher.relists - 1, 0), "gone": getattr(watcher, "gone", 0),
                      "reconnects": watcher.reconnects}
            for name, value in counts.items():
                totals[name][kind] = totals[name].get(kind, 0) + value
        for name, family in families.items():
            for kind, value in sorted(totals[name].items()):
                family.add_metric([kind], value)
            yield family

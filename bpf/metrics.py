"""Prometheus metrics of ``kgrca trace`` (``--metrics-port`` or ``trace_metrics_port``).

Records sent, by kind and action, are counted as they go to the sink. What the tracer itself counts (events read,
events lost and where, undecodable events, the backlog waiting for assembly) is read from it at each scrape. The
kernel buffer's use is measured at each read of it: the bytes it held then, as a share of its size
(``kgrca_trace_buffer_fill_ratio``); a share near 1 means events are about to be lost (raise ``buffer_size``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from kgrca.bus.metrics import serve_registry
from kgrca.contracts import Observation

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
FILL_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def buffer_bytes(tracer: Any) -> int:
    """The kernel buffer's size: the one ring buffer, or the perf buffer's pages on every CPU."""
    options = tracer.options
    if options.ringbuf:
        return options.ring_pages * PAGE
    return options.buffer_pages * options.cpus * PAGE


class TraceMetrics:
    """The metrics of one tracer; ``counting(send)`` wraps the sink's send so each record is counted."""

    def __init__(self, tracer: Any = None, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.tracer = tracer
        self.records = Counter("kgrca_trace_records", "records sent to the sink, by kind (helm_process, "
                               "kubectl_process) and action (RUNNING, EXITED)", ["kind", "action"],
                               registry=self.registry)
        self.fill = Histogram("kgrca_trace_buffer_fill_ratio", "at each read of the kernel buffer: the bytes it "
                              "held, as a share of its size", buckets=FILL_BUCKETS, registry=self.registry)
        self.registry.register(_TracerCounts(lambda: self.tracer))
        if tracer is not None:
            self.attach(tracer)

    def attach(self, tracer: Any) -> None:
        self.tracer = tracer
        size = buffer_bytes(tracer)
        tracer.on_read = lambda held: self.fill.observe(min(held / size, 1.0)) if held else None

    def counting(self, send: Callable[[list[Observation]], None]) -> Callable[[list[Observation]], None]:
        def counted(observations: list[Observation]) -> None:
            send(observations)
            for item in observations:
                self.records.labels(item.kind, item.action).inc()

        return counted

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        serve_registry(self.registry, port, host, "--metrics-port / KGRCA_TRACE_METRICS_PORT")


class _TracerCounts(Collector):
    def __init__(self, tracer: Callable[[], Any]):
        self.tracer = tracer

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        tracer = self.tracer()
        events = CounterMetricFamily("kgrca_trace_events", "events read from the kernel buffer and assembled")
        lost = CounterMetricFamily("kgrca_trace_lost_events", "events lost, by where: kernel (the kernel buffer "
                                   "was full) or backlog (too many waiting for assembly)", labels=["where"])
        undecodable = CounterMetricFamily("kgrca_trace_undecodable_events", "events that could not be decoded")
        backlog = GaugeMetricFamily("kgrca_trace_backlog_events", "events copied out of the kernel buffer and "
                                    "waiting for assembly")
        capacity = GaugeMetricFamily("kgrca_trace_backlog_capacity", "events the backlog holds before it loses them")
        size = GaugeMetricFamily("kgrca_trace_buffer_bytes", "size of the kernel buffer, by kind (ring or perf)",
                                 labels=["buffer"])
        if tracer is not None:
            events.add_metric([], tracer.events)
            total = tracer.lost
            backlog_lost = tracer._backlog_lost
            lost.add_metric(["kernel"], total - backlog_lost)
            lost.add_metric(["backlog"], backlog_lost)
            undecodable.add_metric([], tracer.decode_errors)
            backlog.add_metric([], len(tracer._raw))
            capacity.add_metric([], tracer._max_backlog)
            size.add_metric(["ring" if tracer.options.ringbuf else "perf"], buffer_bytes(tracer))
        yield from (events, lost, undecodable, backlog, capacity, size)

"""``GET /metrics`` of ``kgrca serve``: the webhook spool, in Prometheus' text format.

Each value is read from the spool's directory when scraped, so every gunicorn worker answers the same
(a counter kept in one worker's memory would differ from worker to worker). Without ``webhook_spool_dir``
the depth is 0 and ``kgrca_webhook_spool_enabled`` says why.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from webhooks.spool import Spool


def exposition(spool: Spool | None) -> tuple[bytes, str]:
    """The metrics page and its content type."""
    registry = CollectorRegistry()
    Gauge("kgrca_webhook_spool_enabled", "1 when webhook_spool_dir is set (deliveries not stored in time are "
          "spooled), 0 when they are answered 503", registry=registry).set(1 if spool else 0)
    Gauge("kgrca_webhook_spool_depth", "webhook deliveries spooled and not yet written to the graph",
          registry=registry).set(spool.depth() if spool else 0)
    Gauge("kgrca_webhook_spool_oldest_seconds", "age of the oldest spooled delivery (0 when none is)",
          registry=registry).set(spool.oldest_age() if spool else 0)
    Gauge("kgrca_webhook_spool_rejected", "spooled deliveries the graph refused, kept in the spool's rejected/",
          registry=registry).set(spool.rejected() if spool else 0)
    return generate_latest(registry), CONTENT_TYPE_LATEST

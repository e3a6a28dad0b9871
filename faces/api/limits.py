"""Time limits of ``kgrca serve``: every wait on Neo4j has a ceiling, and the settings a floor.

The driver's own timeouts (``kgrca.graphdb.server_driver``) bound connecting and acquiring a connection.
What they cannot bound is a query on a connection that was fine when it was taken and whose server then
stopped answering: the driver waits for Neo4j's receive-timeout hint (120 s by default). So each request's
Neo4j work runs on a small pool of its own (``Calls``) and the request waits at most its deadline, then
answers 503 (or spools a webhook delivery). A call still waiting keeps its slot; when every slot is held,
the next request is answered at once instead of queueing behind them, so the server's own threads stay
free and ``/healthz`` keeps answering.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from neo4j import exceptions as neo4j_errors

from kgrca.config import Config
from kgrca.contracts import ConfigError, TemporaryError

T = TypeVar("T")

# (floor, ceiling) in seconds. Below the floor a healthy Neo4j on another host could not answer in time and
# every request would fail; above the ceiling the caller has stopped waiting (a probe, a webhook sender:
# GitHub gives up at 10 s and does not redeliver on its own).
BOUNDS: dict[str, tuple[float, float]] = {
    "serve_neo4j_acquire_timeout": (0.5, 30.0),
    "serve_neo4j_transaction_timeout": (1.0, 300.0),
    "webhook_store_timeout": (0.5, 8.0),
}


def check(cfg: Config) -> None:
    """One line naming the first time limit outside its bounds (and where it was set)."""
    for name, (floor, ceiling) in BOUNDS.items():
        value = cfg[name]
        if not floor <= value <= ceiling:
            raise ConfigError(f"{cfg.origin(name)}: {name}={value:g}s: expected between {floor:g}s and {ceiling:g}s")


class Unanswered(TemporaryError):
    """Neo4j did not answer within the deadline, or earlier calls are still waiting on it."""


class Calls:
    """Neo4j work under a deadline, at most ``slots`` at once per process."""

    def __init__(self, slots: int):
        self.slots = max(1, slots)
        self._free = threading.BoundedSemaphore(self.slots)
        self._pool = ThreadPoolExecutor(self.slots, thread_name_prefix="kgrca-neo4j-call")

    def run(self, work: Callable[[], T], seconds: float, what: str) -> T:
        """``work()``'s result; ``Unanswered`` when it takes longer than ``seconds`` or no slot is free. Its
        own exceptions are raised as they are (the driver's ServiceUnavailable is the app's 503)."""
        if not self._free.acquire(blocking=False):
            raise Unanswered(f"Neo4j is unavailable: it has not answered the last {self.slots} requests of "
                             f"this worker yet, so {what} does not wait for it", delay=seconds)

        def bounded() -> T:
            try:
                return work()
            finally:
                self._free.release()

        try:
            future = self._pool.submit(bounded)
        except RuntimeError:  # the app is closing
            self._free.release()
            raise
        try:
            return future.result(timeout=seconds)
        except neo4j_errors.ClientError as exc:
            if not _acquisition_timed_out(exc):
                raise
            raise Unanswered(f"Neo4j is unavailable: {exc.message} ({what})", delay=seconds) from None
        except FutureTimeout:
            raise Unanswered(f"Neo4j is unavailable: it did not answer {what} within {seconds:g}s",
                             delay=seconds) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _acquisition_timed_out(exc: neo4j_errors.ClientError) -> bool:
    """The driver (5.x) reports "no connection within connection_acquisition_timeout" as a ClientError without
    a server code, as if the query were wrong; it is Neo4j not answering (a DriverError from driver 6 on)."""
    return exc.code is None and "failed to obtain a connection" in str(exc)

"""Connecting to Neo4j, with failures turned into one line the user can act on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import neo4j
from neo4j import exceptions as neo4j_errors

from kgrca.config import Config
from kgrca.contracts import KgrcaError, TemporaryError


def connect(cfg: Config, check: bool = True, server: bool = False) -> neo4j.Driver:
    """A driver for ``cfg.neo4j_uri``; with ``check`` it proves Bolt answers and the password works.
    ``server``: with the time limits of ``kgrca serve`` (``server_driver``)."""
    driver = server_driver(cfg) if server else neo4j.GraphDatabase.driver(
        cfg.neo4j_uri, auth=(cfg.neo4j_user, cfg.neo4j_password),
        connection_timeout=10, max_transaction_retry_time=30,
        # Patterns name labels a graph may not have yet (HelmOperation, ArgoApp): not worth a warning.
        notifications_min_severity="OFF")
    if check:
        try:
            driver.verify_connectivity()
        except Exception as exc:
            driver.close()
            raise explain(exc, cfg) from None
    return driver


def server_driver(cfg: Config) -> neo4j.Driver:
    """The driver of ``kgrca serve``: it connects on first use, and no call waits on Neo4j longer than a
    caller does. The driver's default acquisition timeout is 60 s, and a Neo4j that accepts TCP but never
    answers (frozen, paused, overloaded) holds every call that long: readiness probes fail late, webhook
    senders give up (GitHub at 10 s), and the server's threads are all stuck."""
    acquire = cfg.serve_neo4j_acquire_timeout
    return neo4j.GraphDatabase.driver(
        cfg.neo4j_uri, auth=(cfg.neo4j_user, cfg.neo4j_password),
        connection_timeout=acquire,
        # bounds the connect, Bolt handshake and HELLO of a new connection, and the liveness check below
        connection_acquisition_timeout=acquire,
        # every pooled connection is checked (one RESET round trip) before use, within the acquisition
        # timeout: a Neo4j that froze since the last request is found in `acquire` seconds, not after the
        # receive timeout Neo4j hints (120 s by default)
        liveness_check_timeout=0,
        # managed writes (webhook deliveries) retry a deadlock or a refused connection briefly; the driver's
        # retry clock starts at the first failure, so the delivery's own ceiling (faces/api/limits.py) is
        # what bounds the whole write
        max_transaction_retry_time=cfg.webhook_store_timeout / 2,
        notifications_min_severity="OFF")


def explain(exc: Exception, cfg: Config) -> KgrcaError:
    """One actionable line for a Neo4j failure."""
    if isinstance(exc, neo4j_errors.AuthError):
        return KgrcaError(
            f"Neo4j at {cfg.neo4j_uri} refused user '{cfg.neo4j_user}' with the configured password "
            f"(from {cfg.origin('neo4j_password')}): set KGRCA_NEO4J_PASSWORD to the server's password")
    if isinstance(exc, neo4j_errors.ServiceUnavailable | OSError):
        return TemporaryError(
            f"Neo4j is not answering at {cfg.neo4j_uri}: start the local server with "
            f"'kgrca servers up neo4j', or set KGRCA_NEO4J_URI ({exc.__class__.__name__}: {exc})")
    return KgrcaError(f"Neo4j at {cfg.neo4j_uri} failed: {exc.__class__.__name__}: {exc}")


@contextlib.contextmanager
def driver_for(cfg: Config, server: bool = False) -> Iterator[neo4j.Driver]:
    driver = connect(cfg, server=server)
    try:
        yield driver
    finally:
        driver.close()

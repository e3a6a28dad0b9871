"""Connecting to Neo4j, with failures turned into one line the user can act on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import neo4j
from neo4j import exceptions as neo4j_errors

from kgrca.config import Config
from kgrca.contracts import KgrcaError, TemporaryError


def connect(cfg: Config, check: bool = True) -> neo4j.Driver:
    """A driver for ``cfg.neo4j_uri``; with ``check`` it proves Bolt answers and the password works."""
    driver = neo4j.GraphDatabase.driver(
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
def driver_for(cfg: Config) -> Iterator[neo4j.Driver]:
    driver = connect(cfg)
    try:
        yield driver
    finally:
        driver.close()

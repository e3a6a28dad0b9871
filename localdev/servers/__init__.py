"""kgrca's local servers: a real Neo4j Community 5.26 and a real Kafka broker, fetched once from
Maven Central and run as detached JVMs on 127.0.0.1 (see docs/local-servers.md).

The API the commands and the tests use::

    ensure_up(cfg, "neo4j")      # start unless running; return once it answers a real request
    stop(cfg, "all")             # SIGTERM, wait, then SIGKILL
    status(cfg, "kafka")         # {"running", "pid", "answers", "ports", "version", "log", ...}

``which`` is "neo4j", "kafka", or "all" (both) for ``ensure_up`` and ``stop``.
"""

from __future__ import annotations

from typing import Any

from kgrca.config import Config
from kgrca.contracts import KgrcaError
from localdev.servers import control
from localdev.servers.base import LocalServer
from localdev.servers.kafka import SERVER as KAFKA
from localdev.servers.neo4j import SERVER as NEO4J

SERVERS: dict[str, LocalServer] = {"neo4j": NEO4J, "kafka": KAFKA}

__all__ = ["SERVERS", "ensure_up", "select", "status", "stop"]


def select(which: str) -> list[LocalServer]:
    """The servers named by ``which``: "neo4j", "kafka", or "all"/"" for both."""
    if which in ("", "all", "both"):
        return list(SERVERS.values())
    if which not in SERVERS:
        raise KgrcaError(f"unknown server '{which}': expected neo4j, kafka, or nothing for both")
    return [SERVERS[which]]


def ensure_up(cfg: Config, which: str = "all") -> None:
    """Start the named servers unless they run; return once each answers a real request."""
    for server in select(which):
        control.up(server, cfg)


def stop(cfg: Config, which: str = "all") -> None:
    """Stop the named servers if they run (data is kept)."""
    for server in select(which):
        control.down(server, cfg)


def status(cfg: Config, which: str) -> dict[str, Any]:
    """The state of one server ("neo4j" or "kafka"); starts and fetches nothing."""
    servers = select(which)
    if len(servers) != 1:
        raise KgrcaError("status() takes one server: 'neo4j' or 'kafka'")
    return control.status(servers[0], cfg)

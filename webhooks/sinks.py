"""Where receivers hand their observations: the graph writer, or Kafka for ``kgrca build`` to write."""

from __future__ import annotations

import neo4j

from kg_builder.writer import Neo4jWriter
from kgrca.config import Config
from kgrca.contracts import GraphWriter, KgrcaError

SINKS = ("neo4j", "kafka")


def make_sink(name: str, cfg: Config, driver: neo4j.Driver | None = None) -> GraphWriter:
    """``neo4j``: write the graph now (needs ``driver``); ``kafka``: publish to ``<prefix>.webhooks.v1``."""
    if name == "neo4j":
        if driver is None:
            raise KgrcaError("the neo4j sink needs a Neo4j driver")
        return Neo4jWriter.from_config(driver, cfg)
    if name == "kafka":
        from kgrca.bus import KafkaSink  # imported here: confluent-kafka is only needed with --sink kafka

        return KafkaSink(cfg)
    raise KgrcaError(f"unknown sink '{name}': choose one of {', '.join(SINKS)}")

"""Removing history older than a horizon, in batches so a large graph never needs one huge transaction.

What goes: Events last seen before the horizon, container states and conditions recorded before it,
objects deleted before it (with their history), and helm/kubectl operations that ended before it.
What stays: releases and revisions (the story of a release is short and cited by every diagnosis), live
objects, and name slots still referenced.
"""

from __future__ import annotations

import datetime as dt

import neo4j

PRUNE_STEPS: tuple[tuple[str, str], ...] = (
    ("events", "MATCH (n:Event) WHERE n.last_seen < $horizon"),
    ("container states", "MATCH (n:ContainerState) WHERE n.at < $horizon"),
    ("conditions", "MATCH (n:Condition) WHERE n.at < $horizon"),
    ("deleted objects", "MATCH (n:Object) WHERE n.deleted_at < $horizon"),
    ("helm operations", "MATCH (n:HelmOperation) WHERE n.ended_at < $horizon"),
    ("kubectl operations", "MATCH (n:KubectlOperation) WHERE n.ended_at < $horizon"),
    ("container logs", "MATCH (n:ContainerLog) WHERE n.fetched_at < $horizon"),
    ("log findings", "MATCH (n:LogFinding) WHERE NOT EXISTS { (n)<-[:FOUND]-() }"),
    ("orphan name slots", "MATCH (n:Resource) WHERE NOT EXISTS { (n)--() }"),
)


def prune(driver: neo4j.Driver, horizon: dt.datetime, database: str | None = None,
          batch: int = 10_000) -> dict[str, int]:
    """Delete what is older than ``horizon``; returns how many nodes went, per step."""
    removed: dict[str, int] = {}
    with driver.session(database=database) as session:
        for name, match in PRUNE_STEPS:
            result = session.run(
                f"{match} CALL {{ WITH n DETACH DELETE n }} IN TRANSACTIONS OF {int(batch)} ROWS",
                horizon=horizon)
            removed[name] = result.consume().counters.nodes_deleted
    return removed

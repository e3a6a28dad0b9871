"""The GraphWriter: observations in, batched idempotent UNWIND statements out.

Memory stays flat on any input size: observations are taken in chunks, each chunk is mapped to rows,
grouped by statement and flushed in stage order (nodes, then history, then links). A statement's rows
go in batches of ``batch_size`` per transaction: one round trip and one cached plan each.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import neo4j
from neo4j import exceptions as neo4j_errors

from kg_builder.handlers import MAPPERS
from kg_builder.statements import Row, Statement
from kgrca.contracts import Observation, PermanentError, TemporaryError, WriteStats

log = logging.getLogger(__name__)

SCHEMA_ROOT = Path(__file__).resolve().parents[1] / "cypher"

# How many observations are mapped before their rows are flushed. Big enough that most
# statements fill a batch, small enough that a 1M-event stream stays well under 500 MB.
CHUNK = 5000


class Neo4jWriter:
    """The only writer of the graph (see ``kgrca.contracts.GraphWriter``)."""

    def __init__(self, driver: neo4j.Driver, batch_size: int = 1000, database: str | None = None,
                 on_progress: Callable[[WriteStats], None] | None = None):
        self._driver = driver
        self._batch_size = batch_size
        self._database = database
        self._on_progress = on_progress
        self.seconds_by_statement: dict[str, float] = defaultdict(float)

    def write(self, observations: Iterable[Observation]) -> WriteStats:
        total = WriteStats()
        iterator = iter(observations)
        while chunk := list(itertools.islice(iterator, CHUNK)):
            stats, grouped = map_observations(chunk)
            stats.rows = self._flush(grouped)
            total.add(stats)
            if self._on_progress:
                self._on_progress(total)
        return total

    def close(self) -> None:
        self._driver.close()

    def _flush(self, grouped: dict[Statement, list[Row]]) -> int:
        written = 0
        for statement in sorted(grouped, key=lambda s: (s.stage, s.name)):
            rows = grouped[statement]
            started = time.perf_counter()
            for start in range(0, len(rows), self._batch_size):
                self._run(statement, rows[start:start + self._batch_size])
            self.seconds_by_statement[statement.name] += time.perf_counter() - started
            written += len(rows)
        return written

    def _run(self, statement: Statement, rows: list[Row]) -> None:
        def work(tx: neo4j.ManagedTransaction) -> None:
            tx.run(statement.cypher, rows=rows).consume()

        try:
            with self._driver.session(database=self._database) as session:
                session.execute_write(work)
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, neo4j_errors.TransientError,
                OSError) as exc:
            raise TemporaryError(f"Neo4j is unavailable while writing {statement.name}: {exc}") from exc


def map_observations(observations: Iterable[Observation]) -> tuple[WriteStats, dict[Statement, list[Row]]]:
    """Rows grouped by statement, in input order. Rows a mapper yielded before rejecting an
    observation are kept (a corrupt Helm release still leaves its Secret in the graph)."""
    stats = WriteStats()
    grouped: dict[Statement, list[Row]] = defaultdict(list)
    for observation in observations:
        stats.observations += 1
        mapper = MAPPERS.get(observation.kind)
        if mapper is None:
            stats.rejected.append((observation.origin, f"unknown observation kind '{observation.kind}'"))
            continue
        try:
            for statement, row in mapper(observation):
                grouped[statement].append(row)
        except PermanentError as exc:
            stats.rejected.append((observation.origin, str(exc)))
            log.warning("%s: %s", observation.origin or observation.kind, exc)
    return stats, grouped


def schema_statements(root: Path = SCHEMA_ROOT) -> Iterator[str]:
    """The statements of cypher/schema.cypher, then of cypher/schema/*.cypher, in file order."""
    files = [root / "schema.cypher", *sorted((root / "schema").glob("*.cypher"))]
    for path in files:
        if not path.exists():
            continue
        text = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("//"))
        yield from (part.strip() for part in text.split(";") if part.strip())


def apply_schema(driver: neo4j.Driver, database: str | None = None) -> int:
    """Create every constraint and index that does not exist yet; returns how many statements ran."""
    count = 0
    with driver.session(database=database) as session:
        for statement in schema_statements():
            session.run(statement).consume()
            count += 1
    session_wait_for_indexes(driver, database)
    return count


def session_wait_for_indexes(driver: neo4j.Driver, database: str | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with driver.session(database=database) as session:
        while time.monotonic() < deadline:
            pending = session.run("SHOW INDEXES YIELD state WHERE state <> 'ONLINE' RETURN count(*) AS n").single()
            if not pending or pending["n"] == 0:
                return
            time.sleep(0.2)

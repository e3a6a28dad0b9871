"""The GraphWriter: observations in, batched idempotent UNWIND statements out.

Memory stays flat on any input size: observations are taken in chunks, each chunk is mapped to rows,
grouped by statement and flushed in stage order (nodes, then history, then links) while the next chunk
is mapped. A statement's rows go in batches of ``batch_size`` per transaction (one round trip and one
cached plan each), dealt over ``write_sessions`` concurrent sessions by lock group, disjoint between sessions.

Where the time goes (bench/ingest_synthetic.py) is Neo4j's: a MERGE with its properties and index
entries costs the server far more than the Python side costs us, so rows are kept few (one per object
for all its conditions, the Event and its ABOUT link in one) and slim (no copies of what a link says).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import neo4j
from neo4j import exceptions as neo4j_errors

from kg_builder.bolt_values import bolt_rows
from kg_builder.handlers import MAPPERS
from kg_builder.statements import DERIVED, Row, Statement
from kgrca.config import Config
from kgrca.contracts import Observation, PermanentError, TemporaryError, WriteStats
from kgrca.keys import in_cluster, scoped

log = logging.getLogger(__name__)

# How many observations are mapped before their rows are flushed. Big enough that most
# statements fill a batch, small enough that a 1M-event stream stays well under 500 MB.
CHUNK = 5000


class Neo4jWriter:
    """The only writer of the graph (see ``kgrca.contracts.GraphWriter``).

    A statement's rows run on ``sessions`` concurrent transactions: Neo4j executes each transaction on one
    core, so a second one keeps a second core busy. Rows are dealt to the sessions by lock group
    (``partition``: rows naming a common node, by the statement's ``locks``), so one object's rows still go
    in input order through one session and two sessions never lock the same node: they cannot deadlock
    (docs/performance.md). A statement that locks nodes it finds in the graph runs on one session.
    """

    def __init__(self, driver: neo4j.Driver, batch_size: int = 1000, database: str | None = None,
                 on_progress: Callable[[WriteStats], None] | None = None, sessions: int = 2):
        self._driver = driver
        self._batch_size = batch_size
        self._database = database
        self._on_progress = on_progress
        self._sessions = max(sessions, 1)
        self._pool = ThreadPoolExecutor(self._sessions, thread_name_prefix="kgrca-writer") \
            if self._sessions > 1 else None
        self.seconds_by_statement: dict[str, float] = defaultdict(float)  # summed over sessions
        self.deadlocks: dict[str, int] = defaultdict(int)  # DeadlockDetected by statement, retried by the driver
        self._timing_lock = threading.Lock()

    @classmethod
    def from_config(cls, driver: neo4j.Driver, cfg: Config,
                    on_progress: Callable[[WriteStats], None] | None = None) -> Neo4jWriter:
        return cls(driver, cfg.batch_size, cfg.neo4j_database, on_progress, cfg.write_sessions)

    def write(self, observations: Iterable[Observation]) -> WriteStats:
        """Map and write; the next chunk is mapped while the previous one is written (one chunk is
        written at a time, so chunks still reach the graph in input order)."""
        total = WriteStats()
        iterator = iter(observations)
        pending: Future[int] | None = None
        pending_stats = WriteStats()
        with ThreadPoolExecutor(1, thread_name_prefix="kgrca-flush") as flusher:
            while True:
                chunk = list(itertools.islice(iterator, CHUNK))
                origins: dict[int, str] = {}
                mapped = map_observations(chunk, origins) if chunk else None
                if pending is not None:
                    pending_stats.rows, refused = pending.result()
                    pending_stats.rejected.extend(refused)
                    self._progress(total, pending_stats)
                    pending = None
                if mapped is None:
                    return total
                pending_stats, grouped = mapped
                pending = flusher.submit(self._flush, grouped, origins)

    def _progress(self, total: WriteStats, written: WriteStats) -> None:
        total.add(written)
        if self._on_progress:
            self._on_progress(total)

    def close(self) -> None:
        if self._pool:
            self._pool.shutdown()
        self._driver.close()

    def _flush(self, grouped: dict[Statement, list[Row]], origins: dict[int, str]) -> tuple[int, list[Rejection]]:
        """Rows written and the rows Neo4j refused, each as (origin, reason); a refused row costs only itself."""
        statements = sorted(grouped, key=lambda s: (s.stage, s.name))
        total = sum(len(rows) for rows in grouped.values())
        refused: list[Rejection] = []
        if total <= self._batch_size:
            # A small write (a trickle from a watch or Kafka) is one transaction: one commit instead of
            # one per statement, which is most of its latency.
            refused = self._run_together(statements, grouped, origins)
            return total - len(refused), _distinct(refused)
        # Statements run one after another (stage order); a statement's partitions run side by side. Two
        # statements at once would lock the same nodes from different partitions and deadlock.
        for statement in statements:
            parts = [part for part in partition(statement, grouped[statement], self._sessions) if part]
            if self._pool is None or len(parts) == 1:
                for rows in parts:
                    refused.extend(self._run_all(statement, rows, origins))
            else:
                futures = [self._pool.submit(self._run_all, statement, rows, origins) for rows in parts]
                wait(futures)  # all of them, so none is still writing when a failure is reported
                for future in futures:
                    refused.extend(future.result())
        return total - len(refused), _distinct(refused)

    def _run_all(self, statement: Statement, rows: list[Row], origins: dict[int, str]) -> list[Rejection]:
        refused: list[Rejection] = []
        for start in range(0, len(rows), self._batch_size):
            refused.extend(self._run_together([statement], {statement: rows[start:start + self._batch_size]},
                                              origins))
        return refused

    def _run_together(self, statements: list[Statement], grouped: dict[Statement, list[Row]],
                      origins: dict[int, str]) -> list[Rejection]:
        """The statements, in this order, in one transaction; when Neo4j refuses a row (a value it cannot store),
        each statement's rows again, bisected down to the refused ones: the others land, the refused are returned
        as (origin, Neo4j's message), one per row."""
        try:
            self._transaction(statements, grouped)
            return []
        except Exception as exc:  # noqa: BLE001 - sorted by _refuses_rows; anything else is raised again
            if not _refuses_rows(exc):
                raise
            if len(statements) == 1:  # this very transaction failed: split it at once
                rows = grouped[statements[0]]
                if len(rows) == 1:
                    return [_refusal(statements[0], rows[0], origins, exc)]
                middle = len(rows) // 2
                return (self._bisect(statements[0], rows[:middle], origins)
                        + self._bisect(statements[0], rows[middle:], origins))
        refused: list[Rejection] = []
        for statement in statements:  # in stage order: a link's node is written before the link
            refused.extend(self._bisect(statement, grouped[statement], origins))
        return refused

    def _bisect(self, statement: Statement, rows: list[Row], origins: dict[int, str]) -> list[Rejection]:
        try:
            self._transaction([statement], {statement: rows})
            return []
        except Exception as exc:  # noqa: BLE001 - as in _run_together
            if not _refuses_rows(exc):
                raise
            if len(rows) == 1:
                return [_refusal(statement, rows[0], origins, exc)]
        middle = len(rows) // 2
        return self._bisect(statement, rows[:middle], origins) + self._bisect(statement, rows[middle:], origins)

    def _transaction(self, statements: list[Statement], grouped: dict[Statement, list[Row]]) -> None:
        """The statements, in this order, in one transaction."""
        wire = [(statement, bolt_rows(grouped[statement])) for statement in statements]
        seconds: dict[str, float] = defaultdict(float)

        def work(tx: neo4j.ManagedTransaction) -> None:
            seconds.clear()  # a retried transaction counts once
            for statement, rows in wire:
                started = time.perf_counter()
                try:
                    tx.run(statement.cypher, rows=rows).consume()
                except neo4j_errors.TransientError as exc:
                    if exc.code == DEADLOCK:  # the driver retries it; counted so that benchmarks show it
                        with self._timing_lock:
                            self.deadlocks[statement.name] += 1
                        log.info("deadlock in %s (retried): %s", statement.name, exc.message)
                    raise
                seconds[statement.name] += time.perf_counter() - started

        try:
            with self._driver.session(database=self._database) as session:
                session.execute_write(work)
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, neo4j_errors.TransientError,
                OSError) as exc:
            names = ", ".join(statement.name for statement in statements)
            raise TemporaryError(f"Neo4j is unavailable while writing {names}: {exc}") from exc
        with self._timing_lock:
            for name, spent in seconds.items():
                self.seconds_by_statement[name] += spent


def lock_groups(statement: Statement, rows: list[Row]) -> list[int]:
    """For each row, its lock group: rows that name a common node (any of ``statement.locks``) are joined, so two
    groups never lock the same node (union-find over the locked keys, a few microseconds a row)."""
    parent: list[int] = list(range(len(rows)))
    owner: dict[str, int] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, row in enumerate(rows):
        for field in statement.locks:
            value = row.get(field)
            if value is None or value == "":
                continue
            key = str(value)
            j = owner.setdefault(key, i)
            if j != i:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(len(rows))]


def partition(statement: Statement, rows: list[Row], parts: int) -> list[list[Row]]:
    """``rows`` dealt into at most ``parts`` lists, each in input order, no two of which lock the same node: whole
    lock groups are dealt, the biggest first, each to the list with the fewest rows. A statement that declares no
    ``locks`` (it locks nodes it finds in the graph) is one list."""
    if parts == 1 or not statement.locks or len(rows) < 2:
        return [rows]
    groups = lock_groups(statement, rows)
    sizes: dict[int, int] = defaultdict(int)
    for group in groups:
        sizes[group] += 1
    load = [0] * parts
    assigned: dict[int, int] = {}
    for group, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        target = load.index(min(load))
        assigned[group] = target
        load[target] += size
    dealt: list[list[Row]] = [[] for _ in range(parts)]
    for row, group in zip(rows, groups, strict=True):
        dealt[assigned[group]].append(row)
    return dealt


Rejection = tuple[str, str]  # (origin, reason), as in WriteStats.rejected
DEADLOCK = "Neo.TransientError.Transaction.DeadlockDetected"

# What Neo4j (or the driver, packing a row) says of a row it cannot take: a value of a type or range no property
# holds (a map, a list of mixed types or with nulls, an integer beyond 64 bits, a string that is no UTF-8, an offset
# beyond 18 hours). The rest of the batch is good; a syntax error or a refused login is no row's fault.
_ROW_CODES = ("Neo.ClientError.Statement.TypeError", "Neo.ClientError.Statement.ArgumentError",
              "Neo.ClientError.Statement.ArithmeticError", "Neo.ClientError.Request.Invalid",
              "Neo.ClientError.Schema.ConstraintValidationFailed")


def _refuses_rows(exc: BaseException) -> bool:
    if isinstance(exc, neo4j_errors.Neo4jError):
        return (exc.code or "").startswith(_ROW_CODES)
    return isinstance(exc, ValueError | OverflowError | TypeError) and not isinstance(exc, neo4j_errors.DriverError)


def _refusal(statement: Statement, row: Row, origins: dict[int, str], exc: BaseException) -> Rejection:
    message = exc.message if isinstance(exc, neo4j_errors.Neo4jError) and exc.message else str(exc)
    origin = origins.get(id(row), "")
    log.warning("%s: Neo4j refused its %s row: %s", origin or "?", statement.name, message)
    return origin, f"Neo4j refused its {statement.name} row: {message}"


def _distinct(rejections: list[Rejection]) -> list[Rejection]:
    return list(dict.fromkeys(rejections))


def map_observations(observations: Iterable[Observation], origins: dict[int, str] | None = None,
                     ) -> tuple[WriteStats, dict[Statement, list[Row]]]:
    """Rows grouped by statement, in input order. Rows a mapper yielded before rejecting an
    observation are kept (a corrupt Helm release still leaves its Secret in the graph). ``origins``, when
    given, is filled with each row's observation's origin by ``id(row)``, so a row Neo4j refuses is named.

    One observation never costs another: a mapper that fails on a shape validation let through (a bug) rejects
    its own observation, with the error, and none of its rows are written."""
    stats = WriteStats()
    grouped: dict[Statement, list[Row]] = defaultdict(list)
    for observation in observations:
        stats.observations += 1
        mapper = MAPPERS.get(observation.kind)
        if mapper is None:
            stats.rejected.append((observation.origin, f"unknown observation kind '{observation.kind}'"))
            continue
        emitted: list[tuple[Statement, Row]] = []
        cluster = observation.cluster
        try:
            # Keys (kgrca/keys.py) take the observation's cluster from here: no mapper passes it by hand.
            with in_cluster(cluster):
                for statement, row in mapper(scoped(observation)):
                    if cluster:  # statements that stamp nodes with their cluster read it (docs/graph-model.md)
                        row.setdefault("cluster", cluster)
                    emitted.append((statement, row))
        except PermanentError as exc:
            stats.rejected.append((observation.origin, str(exc)))
            log.warning("%s: %s", observation.origin or observation.kind, exc)
        except Exception as exc:  # noqa: BLE001 - a mapper's bug costs its own observation only
            log.exception("%s: kgrca could not map this %s observation", observation.origin or "?", observation.kind)
            stats.rejected.append((observation.origin, f"kgrca could not map it ({type(exc).__name__}: {exc}); "
                                                       "this is a bug in kgrca, please report it with the input"))
            emitted = []
        for statement, row in emitted:
            grouped[statement].append(row)
            if origins is not None:
                origins[id(row)] = observation.origin
    for statement, rows in grouped.items():
        if statement.stage == DERIVED:  # it recomputes from the graph: one row per key is all a chunk needs
            grouped[statement] = list({repr(sorted(row.items())): row for row in rows}.values())
    return stats, grouped

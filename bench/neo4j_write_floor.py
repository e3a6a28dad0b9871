"""The ceiling of idempotent writes on this machine: how fast Neo4j itself MERGEs, with nothing of kgrca.

    python bench/neo4j_write_floor.py                 # 50,000 rows per shape, 1 and 2 sessions
    python bench/neo4j_write_floor.py --rows 200000

Each shape is the bare minimum of one kg_builder statement: a node MERGEd on a unique key; the same with
the ten properties an Event carries; the same plus the MERGE of its link to an existing node (what one
Event costs). Rows go in UNWIND batches of 1,000, on one or two concurrent sessions, to scratch labels
that are created and dropped here. What kg_builder reaches (bench/ingest_synthetic.py) cannot exceed the
last line's figure per Event, so it tells whether a throughput target is within this machine's reach.
Uses the Neo4j of KGRCA_NEO4J_URI (default: the local server); touches only the FloorNode/FloorTarget labels.

The floor of kgrca's own mix: ``CapturingWriter`` is kgrca's writer that also keeps every transaction it sends
(statement text, rows, which concurrent session ran it, in which phase); ``replay`` sends exactly those
transactions again with the bare driver, with the same sessions and phases, rows encoded before the clock
starts. bench/ingest_synthetic.py and bench/kafka_throughput.py print kgrca's rate over that replay's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import neo4j  # noqa: E402

from kg_builder.bolt_values import bolt_rows  # noqa: E402
from kg_builder.statements import Row, Statement  # noqa: E402
from kg_builder.writer import Neo4jWriter  # noqa: E402
from kgrca.config import load_config  # noqa: E402
from kgrca.graphdb import connect  # noqa: E402

BATCH = 1000
Transaction = list[tuple[str, list[dict]]]  # (cypher, rows), run in this order in one transaction


class CapturingWriter(Neo4jWriter):
    """kgrca's writer, unchanged, that also keeps what it sends: (phase, session, transaction) in send order.
    A phase is a set of transactions the writer runs side by side (a statement's partitions, or a small
    write's one transaction); phases run one after another. Rows are kept as the writer's own dicts and
    encoded for Bolt only by ``replay``, outside both clocks' Python work but inside kgrca's."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.captured: list[tuple[tuple[int, tuple[str, ...]], str, list[tuple[Statement, list[Row]]]]] = []
        self._flushes = 0
        self._capture_lock = threading.Lock()

    def _flush(self, grouped: dict[Statement, list[Row]], origins: dict[int, str]) -> Any:
        self._flushes += 1
        return super()._flush(grouped, origins)

    def _transaction(self, statements: list[Statement], grouped: dict[Statement, list[Row]]) -> None:
        super()._transaction(statements, grouped)
        with self._capture_lock:  # only what committed, once (a retried transaction is sent again, kept once)
            self.captured.append(((self._flushes, tuple(s.name for s in statements)),
                                  threading.current_thread().name,
                                  [(statement, grouped[statement]) for statement in statements]))


def phases(captured: list) -> list[list[list[Transaction]]]:
    """Captured transactions as phases (in order) of sessions (side by side) of transactions (in order),
    each statement's rows already encoded for Bolt."""
    out: list[dict[str, list[Transaction]]] = []
    last = None
    for phase, session, statements in captured:
        if phase != last:
            out.append({})
            last = phase
        out[-1].setdefault(session, []).append([(s.cypher, bolt_rows(rows)) for s, rows in statements])
    return [list(sessions.values()) for sessions in out]


def replay(driver: neo4j.Driver, plan: list[list[list[Transaction]]], database: str | None = None) -> float:
    """Seconds to send ``plan`` (from ``phases``) with the bare driver: same transactions, sessions, phases."""
    width = max((len(sessions) for sessions in plan), default=1)

    def one_session(transactions: list[Transaction]) -> None:
        with driver.session(database=database) as session:
            for transaction in transactions:
                session.execute_write(lambda tx, t=transaction: [tx.run(q, rows=r).consume() for q, r in t])

    started = time.perf_counter()
    with ThreadPoolExecutor(width) as pool:
        for sessions in plan:
            if len(sessions) == 1:
                one_session(sessions[0])
            else:
                list(pool.map(one_session, sessions))
    return time.perf_counter() - started
AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
SHAPES = {
    "MERGE node on a unique key": "UNWIND $rows AS row MERGE (n:FloorNode {uid: row.uid})",
    "+ 10 properties (an Event's)": "UNWIND $rows AS row MERGE (n:FloorNode {uid: row.uid}) SET n += row.props",
    "+ MERGE its link to an existing node (one Event)":
        "UNWIND $rows AS row MERGE (n:FloorNode {uid: row.uid}) SET n += row.props "
        "WITH n, row MATCH (t:FloorTarget {uid: row.target}) MERGE (n)-[:FLOOR_ABOUT]->(t)",
}


def rows(count: int, tag: str, targets: int) -> list[dict]:
    return bolt_rows([{"uid": f"{tag}-{i}", "target": f"t{i % targets}", "props": {
        "reason": "BackOff", "type": "Warning", "message": f"Back-off restarting failed container {i}",
        "count": 1 + i % 7, "first_seen": AT, "last_seen": AT, "source": "kubelet", "namespace": "prod",
        "involved_name": f"api-{i % targets}", "involved_field": "spec.containers{app}"}} for i in range(count)])


def write(driver, cypher: str, data: list[dict], sessions: int) -> float:
    parts = [data[i::sessions] for i in range(sessions)]

    def one_session(part: list[dict]) -> None:
        for start in range(0, len(part), BATCH):
            with driver.session() as session:
                session.execute_write(lambda tx, rows=part[start:start + BATCH]: tx.run(cypher, rows=rows).consume())

    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(one_session, parts))
    return len(data) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    driver = connect(load_config())
    driver.execute_query("CREATE CONSTRAINT floor_uid IF NOT EXISTS FOR (n:FloorNode) REQUIRE n.uid IS UNIQUE")
    driver.execute_query("CREATE CONSTRAINT floor_target IF NOT EXISTS FOR (n:FloorTarget) REQUIRE n.uid IS UNIQUE")
    driver.execute_query("CREATE INDEX floor_reason IF NOT EXISTS FOR (n:FloorNode) ON (n.reason)")
    driver.execute_query("CREATE INDEX floor_last_seen IF NOT EXISTS FOR (n:FloorNode) ON (n.last_seen)")
    targets = max(args.rows // 5, 1)
    driver.execute_query("UNWIND range(0, $n - 1) AS i MERGE (:FloorTarget {uid: 't' + i})", n=targets)
    try:
        for sessions in (1, 2):
            for name, cypher in SHAPES.items():
                rate = write(driver, cypher, rows(args.rows, f"{sessions}-{name[:8]}", targets), sessions)
                print(f"{sessions} session{'s' if sessions > 1 else ' '}  {name:<50} {rate:>9,.0f} rows/s")
    finally:
        while driver.execute_query("MATCH (n:FloorNode|FloorTarget) WITH n LIMIT 20000 DETACH DELETE n "
                                   "RETURN count(*) AS n").records[0]["n"]:
            pass
        for name in ("floor_uid", "floor_target"):
            driver.execute_query(f"DROP CONSTRAINT {name} IF EXISTS")
        for name in ("floor_reason", "floor_last_seen"):
            driver.execute_query(f"DROP INDEX {name} IF EXISTS")
        driver.close()


if __name__ == "__main__":
    main()

"""The graph's schema: the constraints and indexes of cypher/schema.cypher and cypher/schema/*.cypher.

Apart from the writer so that a reader (``kgrca diagnose``) can make sure of the schema without loading
the mapping code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import neo4j

SCHEMA_ROOT = Path(__file__).resolve().parents[1] / "cypher"


def schema_statements(root: Path = SCHEMA_ROOT) -> Iterator[str]:
    """The statements of cypher/schema.cypher, then of cypher/schema/*.cypher, in file order."""
    files = [root / "schema.cypher", *sorted((root / "schema").glob("*.cypher"))]
    for path in files:
        if not path.exists():
            continue
        text = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("//"))
        yield from (part.strip() for part in text.split(";") if part.strip())


_SCHEMA_NAME = re.compile(r"^CREATE\s+(?:\w+\s+)?(?:INDEX|CONSTRAINT)\s+(\w+)\s+IF NOT EXISTS", re.IGNORECASE)


def apply_schema(driver: neo4j.Driver, database: str | None = None) -> int:
    """Create every constraint and index that does not exist yet; returns how many statements ran.

    When every named index and constraint is already there (the usual case: ``diagnose`` and the services
    call this at start), one SHOW query is all it costs."""
    statements = list(schema_statements())
    names = [_SCHEMA_NAME.match(statement) for statement in statements]
    with driver.session(database=database) as session:
        if all(names):
            present = {record["name"] for record in session.run("SHOW INDEXES YIELD name")}
            present |= {record["name"] for record in session.run("SHOW CONSTRAINTS YIELD name")}
            if {match.group(1) for match in names} <= present:
                return 0
        for statement in statements:
            session.run(statement).consume()
    session_wait_for_indexes(driver, database)
    return len(statements)


def session_wait_for_indexes(driver: neo4j.Driver, database: str | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with driver.session(database=database) as session:
        while time.monotonic() < deadline:
            pending = session.run("SHOW INDEXES YIELD state WHERE state <> 'ONLINE' RETURN count(*) AS n").single()
            if not pending or pending["n"] == 0:
                return
            time.sleep(0.2)

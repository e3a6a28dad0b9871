"""Write statements: one ``UNWIND $rows AS row ...`` query each, run in batches.

A mapper turns an Observation into ``(Statement, row)`` pairs; the writer groups rows by statement
and runs the statements in ``stage`` order, so nodes exist before the relationships that join them.
Every statement MERGEs on constrained keys, which is what makes a write idempotent: replaying input
gives the same graph. Statements keep the order of their rows, so the last state of an object wins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, Protocol

from kgrca.contracts import Observation

# Stages: objects first, then their history and relationships, then derived links, then facts derived
# from those links (a release's failed operation reads which process produced which revision).
NODES = 10
HISTORY = 20
LINKS = 30
DERIVED = 40


@dataclasses.dataclass(frozen=True)
class Statement:
    name: str
    stage: int
    cypher: str
    # the row field naming the node a row locks most: rows sharing it go through one write session
    partition_by: str = "uid"

    def __post_init__(self) -> None:
        if "UNWIND $rows AS row" not in self.cypher:
            raise TypeError(f"statement {self.name} must start from 'UNWIND $rows AS row'")


Row = dict[str, Any]
Emitted = tuple[Statement, Row]


class Mapper(Protocol):
    """Turns one observation into rows. Raises ``PermanentError`` for input it can never map."""

    def __call__(self, observation: Observation) -> Iterable[Emitted]: ...

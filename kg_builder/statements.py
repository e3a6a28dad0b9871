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
    # the row field naming the node a row locks most (a hint for readers; the writer deals rows by ``locks``)
    partition_by: str = "uid"
    # Every row field naming a node the statement writes (locks). Rows sharing any value are one lock group and
    # go through one session, so two concurrent sessions never lock the same node and cannot deadlock. Empty: the
    # statement locks nodes it finds in the graph (links, derived facts), and all its rows go through one session.
    locks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if "UNWIND $rows AS row" not in self.cypher:
            raise TypeError(f"statement {self.name} must start from 'UNWIND $rows AS row'")


Row = dict[str, Any]
Emitted = tuple[Statement, Row]


class Mapper(Protocol):
    """Turns one observation into rows. Raises ``PermanentError`` for input it can never map."""

    def __call__(self, observation: Observation) -> Iterable[Emitted]: ...

"""Rows for helm and kubectl process records: not built yet (the eBPF issue)."""

from __future__ import annotations

from collections.abc import Iterable

from kg_builder.statements import Emitted
from kgrca.contracts import Observation, PermanentError


def rows(observation: Observation) -> Iterable[Emitted]:
    raise PermanentError(f"{observation.kind} observations are not mapped yet")

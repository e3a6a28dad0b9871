"""Flux: HelmRelease, Kustomization and the sources charts come from, as graph rows (docs/graph-model.md).

To be written: see the contract in kg_builder/operations.py (witnessed helm runs).
"""

from __future__ import annotations

from typing import Any

PROPS: dict[tuple[str, str], Any] = {}
ROWS: dict[tuple[str, str], Any] = {}

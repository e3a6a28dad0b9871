"""CI deploy jobs: Pods and Jobs whose containers run helm, as graph rows (docs/graph-model.md).

To be written: see the contract in kg_builder/operations.py (witnessed helm runs).
"""

from __future__ import annotations

from typing import Any

PROPS: dict[tuple[str, str], Any] = {}
ROWS: dict[tuple[str, str], Any] = {}

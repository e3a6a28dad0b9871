"""Data flows one way: sources -> kg_builder -> Neo4j -> rca -> faces. Imports must say the same."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = {"kgrca.contracts", "kgrca.config", "kgrca.graphdb", "kgrca.bus"}
# package -> packages it must never import
FORBIDDEN = {
    "ingest": ("kg_builder.writer", "rca", "kgrca.commands", "kgrca.api", "webhooks"),
    "bpf": ("kg_builder.writer", "rca", "kgrca.commands", "kgrca.api", "webhooks", "ingest"),
    "webhooks": ("rca", "kgrca.commands", "ingest", "bpf"),
    "kg_builder": ("rca", "kgrca.commands", "kgrca.api", "kgrca.cli", "webhooks", "ingest", "bpf"),
    "rca": ("kg_builder.writer", "ingest", "bpf", "webhooks", "kgrca.commands", "kgrca.api", "kgrca.cluster"),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_layer_imports_a_layer_downstream_of_it():
    offences = []
    for package, forbidden in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            for name in imports_of(path):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []


def test_detection_never_calls_the_cluster():
    for path in (ROOT / "rca").rglob("*.py"):
        assert not any(n.startswith("kubernetes") for n in imports_of(path)), path

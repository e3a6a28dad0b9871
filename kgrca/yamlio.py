"""YAML reading through libyaml when PyYAML was built with it: the pure-Python parser took 90% of the
time of mapping a Helm release (its manifest), and libyaml parses the same documents into the same values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def safe_load_all(text: str) -> Iterator[Any]:
    return yaml.load_all(text, Loader=_LOADER)  # noqa: S506 - a safe loader

"""YAML reading through libyaml when PyYAML was built with it: the pure-Python parser took 90% of the
time of mapping a Helm release (its manifest), and libyaml parses the same documents into the same values.

Aliases are bounded: a few bytes of nested anchors (`a: &a [x, x]`, `b: &b [*a, *a]`, ...) stand for billions
of nodes once something walks the values. A text with anchors is first read as events and the size it expands
to is counted; over ``MAX_EXPANDED_NODES`` it is refused with ``AliasBomb`` (a ``yaml.YAMLError``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Far above any real manifest or dump (a 100,000-pod `kubectl get -o yaml` is some 10M nodes without aliases,
# and aliases are not counted unless anchors appear), far below what exhausts memory.
MAX_EXPANDED_NODES = 2_000_000


class AliasBomb(yaml.YAMLError):
    """YAML whose aliases expand to more nodes than MAX_EXPANDED_NODES."""


def safe_load(text: str) -> Any:
    _check_aliases(text)
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def safe_load_all(text: str) -> Iterator[Any]:
    _check_aliases(text)
    return yaml.load_all(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def _check_aliases(text: str) -> None:
    if "&" not in text or "*" not in text:
        return  # no anchor or no alias: nothing can expand
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, nodes so far] of each open collection
    total = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            stack[-1][1] += sizes.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            stack[-1][1] += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
            stack[-1][1] += size
        elif isinstance(event, yaml.DocumentEndEvent):
            total += stack[0][1]
            stack = [[None, 0]]
        if total + sum(size for _, size in stack) > MAX_EXPANDED_NODES:
            raise AliasBomb(f"its aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (anchors and aliases "
                            "nested into a bomb); refused")

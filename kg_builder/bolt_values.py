"""Datetimes put on the wire the cheap way.

The driver turns each Python ``datetime`` into Bolt's DateTime through its pure-Python ``neo4j.time``
arithmetic: about 150 µs a value, which made time fields (an Event has two, a Condition one, every object
its creation time) cost more than the rest of a write. The Bolt 5 structure is just ``(epoch seconds,
nanoseconds, UTC offset seconds)``, computed here in about a microsecond, with the same result in the
graph (tests/test_graph.py checks the round trip). Should a driver release move the structure class, the
rows go out unchanged and the driver's own conversion takes over: slower, never wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

try:
    from neo4j._codec.packstream import Structure
except ImportError:  # pragma: no cover - a driver without the class: its own (slow) path is used
    Structure = None

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)


def _datetime(value: dt.datetime) -> Any:
    offset = value.utcoffset()
    if offset is None:  # LocalDateTime: the wall-clock time counted as if it were UTC, as the driver does
        since = value - _NAIVE_EPOCH
        return Structure(b"d", since.days * 86400 + since.seconds, since.microseconds * 1000)
    since = value - _EPOCH
    return Structure(b"I", since.days * 86400 + since.seconds, since.microseconds * 1000,
                     offset.days * 86400 + offset.seconds)


_NESTED = (dict, list)


def _convert(value: Any) -> Any:
    """``value`` with its datetimes converted; the very same object when it holds none (the common case,
    kept cheap: rows are many and most of their values are strings and numbers)."""
    kind = type(value)
    if kind is dt.datetime:
        return _datetime(value)
    if kind is dict:
        changed = None
        for key, item in value.items():
            if type(item) is dt.datetime or type(item) in _NESTED:
                new = _convert(item)
                if new is not item:
                    changed = changed or dict(value)
                    changed[key] = new
        return value if changed is None else changed
    if kind is list:
        if not any(type(item) is dt.datetime or type(item) in _NESTED for item in value):
            return value
        return [_convert(item) for item in value]
    if isinstance(value, dt.datetime):  # a subclass (pendulum, neo4j's own): the general path
        return _datetime(value)
    return value


def bolt_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with every datetime, at any depth, replaced by its Bolt structure (rows are not modified)."""
    if Structure is None:
        return rows
    return [_convert(row) for row in rows]

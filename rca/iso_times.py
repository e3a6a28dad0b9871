"""Datetimes of a detection query's rows read straight as ISO text, the cheap way.

A diagnosis keeps every time as the text ``neo4j.time.DateTime.iso_format()`` gives (``rca.runner.plain``).
The driver first builds each DateTime through its pure-Python ``neo4j.time`` arithmetic, about 100 µs a
value: with thousands of times in the rows of ``diagnose --all`` that was half its run. Bolt sends a
DateTime as ``(seconds, nanoseconds, UTC offset seconds)`` and a LocalDateTime as ``(seconds,
nanoseconds)``; the same text is formatted here from those in a few microseconds (tests/test_patterns.py
compares both on values read from Neo4j). Should a driver release move the internals used, the driver's
own DateTime comes back and ``plain`` formats it: slower, never different.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import neo4j

_EPOCH = dt.datetime(1970, 1, 1)
# Bolt 5 structure tags: DateTime with a UTC offset, LocalDateTime.
_TAGS = (b"I", b"d")


def iso_datetime(seconds: int, nanoseconds: int, offset: int | None = None) -> str:
    """The text ``DateTime.iso_format()`` gives for a Bolt DateTime (or LocalDateTime, without offset)."""
    # The driver keeps whole minutes of the offset (pytz.FixedOffset) and writes them as divmod(minutes, 60).
    minutes = 0 if offset is None else offset // 60
    wall = _EPOCH + dt.timedelta(seconds=seconds + minutes * 60)
    text = (f"{wall.year:04d}-{wall.month:02d}-{wall.day:02d}T"
            f"{wall.hour:02d}:{wall.minute:02d}:{wall.second:02d}.{nanoseconds:09d}")
    if offset is None:
        return text
    hours, rest = divmod(minutes, 60)
    return f"{text}{hours:+03d}:{rest:02d}"


def _with_fallback(driver_hydrator: Callable[..., Any]) -> Callable[..., Any]:
    def hydrate(seconds: int, nanoseconds: int, offset: int | None = None) -> Any:
        try:
            return iso_datetime(seconds, nanoseconds, offset)
        except (OverflowError, ValueError, TypeError):  # outside Python's years 1..9999: the driver's value
            return driver_hydrator(seconds, nanoseconds, offset)
    return hydrate


def read_datetimes_as_text(result: neo4j.Result) -> None:
    """Make ``result``'s records, not yet fetched, carry ISO text where Neo4j sends a (Local)DateTime."""
    functions = getattr(getattr(result, "_hydration_scope", None), "_struct_hydration_functions", None)
    if not isinstance(functions, dict):
        return
    for tag in _TAGS:
        if tag in functions:
            functions[tag] = _with_fallback(functions[tag])

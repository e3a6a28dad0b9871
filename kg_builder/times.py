"""Timestamps from Kubernetes, Helm and our sources, as timezone-aware datetimes Neo4j stores as DateTime."""

from __future__ import annotations

import datetime as dt
import functools
import re

_FRACTION = re.compile(r"(\.\d{1,6})\d*")
# Neo4j's DateTime keeps UTC offsets within +-18:00 (java.time.ZoneOffset); a wider one would fail the batch
MAX_OFFSET = dt.timedelta(hours=18)


def parse_time(value: object) -> dt.datetime | None:
    """RFC 3339 with up to nanoseconds (Helm's), 'Z' or an offset; None for empty or unparseable input (or an
    offset Neo4j cannot store)."""
    if isinstance(value, dt.datetime):
        return _in_range(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    if not isinstance(value, str):
        return None
    return _parse_text(value)


@functools.lru_cache(maxsize=8192)
def _parse_text(value: str) -> dt.datetime | None:
    """Cached: a time is read twice (validation, then the mapper) and many objects share one (datetimes are
    immutable, so sharing one is safe)."""
    if not value.strip():
        return None
    text = _FRACTION.sub(lambda m: m.group(1), value.strip().replace("z", "Z"), count=1)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _in_range(parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC))


def _in_range(value: dt.datetime) -> dt.datetime | None:
    if value.tzinfo is dt.UTC:
        return value
    offset = value.utcoffset()
    return value if offset is None or abs(offset) <= MAX_OFFSET else None


def with_times(props: dict[str, object], *fields: str) -> dict[str, object]:
    """``props`` with the named fields turned into datetimes (in place, returned for chaining)."""
    for field in fields:
        if field in props:
            props[field] = parse_time(props[field])
    return props

"""Timestamps from Kubernetes, Helm and our sources, as timezone-aware datetimes Neo4j stores as DateTime."""

from __future__ import annotations

import datetime as dt
import re

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_time(value: object) -> dt.datetime | None:
    """RFC 3339 with up to nanoseconds (Helm's), 'Z' or an offset; None for empty or unparseable input."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = _FRACTION.sub(lambda m: m.group(1), value.strip().replace("z", "Z"), count=1)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def with_times(props: dict[str, object], *fields: str) -> dict[str, object]:
    """``props`` with the named fields turned into datetimes (in place, returned for chaining)."""
    for field in fields:
        if field in props:
            props[field] = parse_time(props[field])
    return props

"""A release's timeline as an SVG picture: one lane per kind of happening on one time axis.

Lanes, top to bottom: helm operations, revisions, hooks and hook jobs, objects, pod states, conditions,
events, Argo CD syncs and incidents. Each happening is a dot whose tooltip (``<title>``) says what it was;
failures are red, the rest grey or blue. Nothing external: the SVG is inlined into the HTML report.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from kg_builder.times import parse_time

LANES = (
    ("helm_operation", "helm"), ("revision", "revisions"), ("hook", "hooks"), ("hook_job", "hook jobs"),
    ("object", "objects"), ("pod_state", "pod states"), ("condition", "conditions"), ("event", "events"),
    ("argo_sync", "Argo CD"), ("incident", "incidents"),
)
BAD_WORDS = ("fail", "error", "backoff", "oomkilled", "killed", "unhealthy", "pending-", "deadline", "warning",
             "evicted", "notready", "false")
WIDTH, LANE_HEIGHT, LEFT, TOP = 960, 26, 110, 28


def _colour(what: str) -> str:
    lowered = what.lower()
    return "#d64545" if any(word in lowered for word in BAD_WORDS) else "#3d7bd9"


def timeline_svg(items: list[dict[str, Any]], title: str = "") -> str:
    points = [(parse_time(item.get("at")), item) for item in items]
    points = [(at, item) for at, item in points if at is not None]
    lanes = [(kind, label) for kind, label in LANES if any(item.get("type") == kind for _, item in points)]
    height = TOP + LANE_HEIGHT * max(len(lanes), 1) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title or "timeline")}">',
             '<rect width="100%" height="100%" fill="#ffffff"/>']
    if not points:
        parts.append(f'<text x="{LEFT}" y="{TOP + 12}" font-size="12" fill="#666">nothing recorded in the '
                     'window</text></svg>')
        return "".join(parts)
    start, end = _axis(points)
    span = max((end - start).total_seconds(), 1.0)
    earlier = sum(1 for at, _ in points if at < start)

    def x(at: dt.datetime) -> float:
        return LEFT + (WIDTH - LEFT - 20) * max((at - start).total_seconds(), 0) / span

    for index, (kind, label) in enumerate(lanes):
        y = TOP + index * LANE_HEIGHT
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4}" font-size="11" text-anchor="end" fill="#333">'
                     f'{escape(label)}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - 20}" y2="{y}" stroke="#e3e6ea"/>')
        for at, item in points:
            if item.get("type") != kind:
                continue
            what = str(item.get("what", ""))
            parts.append(f'<circle cx="{x(at):.1f}" cy="{y}" r="5" fill="{_colour(what)}" stroke="#fff">'
                         f'<title>{escape(at.strftime("%H:%M:%S"))} {escape(what)}</title></circle>')
    axis_y = TOP + len(lanes) * LANE_HEIGHT
    parts.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - 20}" y2="{axis_y}" stroke="#333"/>')
    for step in range(5):
        at = start + dt.timedelta(seconds=span * step / 4)
        anchor = {0: "start", 4: "end"}.get(step, "middle")
        parts.append(f'<text x="{x(at):.1f}" y="{axis_y + 16}" font-size="10" text-anchor="{anchor}" fill="#333">'
                     f'{at.strftime("%m-%d %H:%M:%S")}</text>')
    if earlier:
        parts.append(f'<text x="{LEFT}" y="{TOP - 12}" font-size="10" fill="#5b6570">&#171; {earlier} earlier '
                     'happening(s) drawn at the left edge</text>')
    parts.append("</svg>")
    return "".join(parts)


def _axis(points: list[tuple[dt.datetime, dict[str, Any]]]) -> tuple[dt.datetime, dt.datetime]:
    """From shortly before the newest revision (the change that failed) to the last happening; older
    history would squeeze the failure into a corner."""
    end = max(at for at, _ in points)
    revisions = [at for at, item in points if item.get("type") == "revision"]
    start = min(at for at, _ in points)
    if revisions:
        start = max(start, max(revisions) - max((end - max(revisions)) * 0.1, dt.timedelta(seconds=30)))
    return start, end

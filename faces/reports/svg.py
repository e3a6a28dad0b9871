"""A release's timeline as an SVG picture: one lane per kind of happening on one time axis.

Lanes, top to bottom: helm operations, revisions, hooks and hook jobs, objects, pod states, conditions,
events, Argo CD syncs and incidents. Each happening is a dot whose tooltip (``<title>``) says what it was;
failures are red, the rest grey or blue. Nothing external: the SVG is inlined into the HTML report.
This module lays the picture out; the template timeline.svg.j2 draws it (overridable like the others).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2

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


def layout(items: list[dict[str, Any]], title: str = "") -> dict[str, Any]:
    """Where everything goes: the context of timeline.svg.j2."""
    points = [(parse_time(item.get("at")), item) for item in items]
    points = [(at, item) for at, item in points if at is not None]
    lanes = [(kind, label) for kind, label in LANES if any(item.get("type") == kind for _, item in points)]
    height = TOP + LANE_HEIGHT * max(len(lanes), 1) + 30
    picture: dict[str, Any] = {"width": WIDTH, "height": height, "title": title, "left": LEFT, "right": WIDTH - 20,
                               "top": TOP, "empty": not points, "lanes": [], "ticks": [], "earlier": 0,
                               "axis_y": TOP + len(lanes) * LANE_HEIGHT}
    if not points:
        return picture
    start, end = _axis(points)
    span = max((end - start).total_seconds(), 1.0)

    def x(at: dt.datetime) -> float:
        return LEFT + (WIDTH - LEFT - 20) * max((at - start).total_seconds(), 0) / span

    for index, (kind, label) in enumerate(lanes):
        dots = [{"x": x(at), "colour": _colour(str(item.get("what", ""))),
                 "tip": f"{at.strftime('%H:%M:%S')} {item.get('what', '')}"}
                for at, item in points if item.get("type") == kind]
        picture["lanes"].append({"label": label, "y": TOP + index * LANE_HEIGHT, "dots": dots})
    for step in range(5):
        at = start + dt.timedelta(seconds=span * step / 4)
        picture["ticks"].append({"x": x(at), "text": at.strftime("%m-%d %H:%M:%S"),
                                 "anchor": {0: "start", 4: "end"}.get(step, "middle")})
    picture["earlier"] = sum(1 for at, _ in points if at < start)
    return picture


def timeline_svg(items: list[dict[str, Any]], title: str = "", env: jinja2.Environment | None = None) -> str:
    """The SVG of ``items`` (timeline entries with ``at``, ``type``, ``what``), drawn by ``env``'s
    timeline.svg.j2 (default: the built-in templates)."""
    from faces.reports.templating import environment, render_template

    return render_template(env or environment(), "timeline.svg.j2", **layout(items, title)).strip()


def _axis(points: list[tuple[dt.datetime, dict[str, Any]]]) -> tuple[dt.datetime, dt.datetime]:
    """From shortly before the newest revision (the change that failed) to the last happening; older
    history would squeeze the failure into a corner."""
    end = max(at for at, _ in points)
    revisions = [at for at, item in points if item.get("type") == "revision"]
    start = min(at for at, _ in points)
    if revisions:
        start = max(start, max(revisions) - max((end - max(revisions)) * 0.1, dt.timedelta(seconds=30)))
    return start, end

"""An RCA report as Markdown, self-contained HTML (inline CSS and SVG), or JSON.

HTML and Markdown come from the Jinja2 templates report.html.j2 and report.md.j2 (faces/reports/templates/,
or a folder named by the ``report_templates`` setting: see faces/reports/templating.py); JSON is the report's
data, each diagnosis in its public JSON form.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faces.reports.collect import Entry, Report
from faces.reports.templating import environment, render_template

FORMATS = ("markdown", "html", "json")
SUFFIX = {"markdown": "md", "html": "html", "json": "json"}
TEMPLATES = {"markdown": "report.md.j2", "html": "report.html.j2"}


def context(report: Report) -> dict[str, Any]:
    """What report.html.j2 and report.md.j2 are given."""
    releases = sum(1 for e in report.entries if e.release_key)
    return {"report": report, "namespaces": report.by_namespace(), "releases": releases,
            "workloads": len(report.entries) - releases,
            "diagnoses": sum(len(e.diagnoses) for e in report.entries)}


def to_json(report: Report) -> str:
    return json.dumps({
        "since": report.since.isoformat(), "until": report.until.isoformat(),
        "generated_at": report.generated_at.isoformat(),
        "namespaces": {ns: [_entry_json(e) for e in entries] for ns, entries in report.by_namespace().items()},
        "errors": [{"pattern": p, "error": e} for p, e in report.errors],
    }, indent=2, default=str)


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {"title": entry.title, "release": entry.release_key, "status": entry.status, "note": entry.note,
            "diagnoses": [d.to_json() for d in entry.diagnoses], "timeline": entry.timeline}


def to_markdown(report: Report, templates: str | Path | None = None) -> str:
    return render_template(environment(_folder(templates)), TEMPLATES["markdown"], **context(report))


def to_html(report: Report, templates: str | Path | None = None) -> str:
    return render_template(environment(_folder(templates)), TEMPLATES["html"], **context(report))


def render(report: Report, fmt: str, templates: str | Path | None = None) -> str:
    """``report`` in ``fmt`` (one of FORMATS); ``templates`` is the ``report_templates`` folder, if any."""
    if fmt == "json":
        return to_json(report)
    return {"markdown": to_markdown, "html": to_html}[fmt](report, templates)


def _folder(templates: str | Path | None) -> str | None:
    return str(templates) if templates else None

"""An RCA report as Markdown, self-contained HTML (inline CSS and SVG), or JSON."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from kgrca.contracts import Diagnosis
from kgrca.reports.collect import Entry, Report
from kgrca.reports.svg import timeline_svg
from rca.render import pattern_label, release_line

FORMATS = ("markdown", "html", "json")
SUFFIX = {"markdown": "md", "html": "html", "json": "json"}


def _window(report: Report) -> str:
    return (f"{report.since.strftime('%Y-%m-%d %H:%M')} to {report.until.strftime('%Y-%m-%d %H:%M')} UTC")


def _summary_counts(report: Report) -> str:
    releases = sum(1 for e in report.entries if e.release_key)
    workloads = len(report.entries) - releases
    diagnoses = sum(len(e.diagnoses) for e in report.entries)
    return f"{releases} release(s) and {workloads} workload(s) with problems; {diagnoses} diagnosis(es)"


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


def to_markdown(report: Report) -> str:
    lines = [f"# RCA report, {_window(report)}", "", _summary_counts(report), ""]
    if not report.entries:
        lines.append("Nothing failed in this window.")
    for namespace, entries in report.by_namespace().items():
        lines += [f"## Namespace `{namespace}`", ""]
        for entry in entries:
            lines += [f"### {entry.title}" + (f" ({entry.status})" if entry.status else ""), ""]
            if entry.note:
                lines += [entry.note, ""]
            for diagnosis in entry.diagnoses:
                lines += _diagnosis_markdown(diagnosis)
            if entry.timeline:
                lines += ["**Timeline**", ""] + [f"- `{i['at'][:19].replace('T', ' ')}` {i['what']}"
                                                  for i in entry.timeline[-40:]] + [""]
    return "\n".join(lines) + "\n"


def _diagnosis_markdown(diagnosis: Diagnosis) -> list[str]:
    lines = [f"**[{diagnosis.severity}, confidence {diagnosis.confidence:.2f}] {pattern_label(diagnosis)}**: "
             f"{diagnosis.summary}", ""]
    if diagnosis.release:
        lines += [f"_{release_line(diagnosis.release)}_", ""]
    if diagnosis.details:
        lines += [diagnosis.details, ""]
    if diagnosis.evidence:
        lines += ["Evidence:", ""] + [f"- {str(e.get('at') or '')[:19]} {e.get('kind', '')} {e.get('name', '')}: "
                                      f"{e.get('text', '')}" for e in diagnosis.evidence] + [""]
    lines += [f"Impact: {diagnosis.impact}", "", "Resolution:", "", "```sh", *diagnosis.resolution, "```", ""]
    if diagnosis.consequences:
        lines += ["Also explains: " + "; ".join(f"{c['pattern']} ({c['summary']})" for c in diagnosis.consequences),
                  ""]
    return lines


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1040px;color:#1d2329}
h1{font-size:1.6rem}h2{border-bottom:2px solid #e3e6ea;padding-bottom:.2rem;margin-top:2rem}
.entry{border:1px solid #e3e6ea;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0;background:#fbfcfd}
.diag{border-left:4px solid #d64545;padding:.3rem .9rem;margin:.8rem 0;background:#fff}
.sev{display:inline-block;border-radius:4px;padding:0 .4rem;color:#fff;background:#d64545;font-size:.8rem}
.sev.medium,.sev.low{background:#d69a2d}.muted{color:#5b6570}
pre{background:#1d2329;color:#e9edf1;padding:.7rem;border-radius:6px;overflow-x:auto}
ul.evidence li{margin:.15rem 0} table.tl{font-size:12px;border-collapse:collapse}
table.tl td{padding:.1rem .5rem;vertical-align:top;border-bottom:1px solid #eef0f2}
svg.timeline{max-width:100%;height:auto;border:1px solid #e3e6ea;border-radius:6px}
"""


def to_html(report: Report) -> str:
    body = [f"<h1>RCA report</h1><p class='muted'>{escape(_window(report))} &middot; "
            f"{escape(_summary_counts(report))}</p>"]
    if not report.entries:
        body.append("<p>Nothing failed in this window.</p>")
    for namespace, entries in report.by_namespace().items():
        body.append(f"<h2>Namespace {escape(namespace)}</h2>")
        for entry in entries:
            body.append(f"<section class='entry'><h3>{escape(entry.title)}"
                        f"{' <span class=muted>(' + escape(entry.status) + ')</span>' if entry.status else ''}</h3>")
            if entry.note:
                body.append(f"<p>{escape(entry.note)}</p>")
            body.extend(_diagnosis_html(d) for d in entry.diagnoses)
            body.append(timeline_svg(entry.timeline, entry.title))
            body.append(_timeline_table(entry.timeline))
            body.append("</section>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>kgrca RCA report</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def _timeline_table(items: list[dict[str, Any]], last: int = 40) -> str:
    if not items:
        return ""
    rows = "".join(f"<tr><td class='muted'>{escape(i['at'][:19].replace('T', ' '))}</td><td>{escape(i['type'])}</td>"
                   f"<td>{escape(i['what'])}</td></tr>" for i in items[-last:])
    return (f"<details><summary>timeline ({min(len(items), last)} of {len(items)} happenings)</summary>"
            f"<table class='tl'>{rows}</table></details>")


def _diagnosis_html(diagnosis: Diagnosis) -> str:
    evidence = "".join(f"<li><span class='muted'>{escape(str(e.get('at') or '')[:19])}</span> "
                       f"{escape(str(e.get('kind', '')))} {escape(str(e.get('name', '')))}: "
                       f"{escape(str(e.get('text', '')))}</li>" for e in diagnosis.evidence)
    consequences = "".join(f"<li>{escape(c['pattern'])}: {escape(c['summary'])}</li>" for c in diagnosis.consequences)
    return (f"<div class='diag'><p><span class='sev {escape(diagnosis.severity)}'>{escape(diagnosis.severity)}</span> "
            f"<b>{escape(pattern_label(diagnosis))}</b> <span class='muted'>confidence {diagnosis.confidence:.2f}"
            f"</span></p>"
            f"<p>{escape(diagnosis.summary)}</p><p class='muted'>{escape(diagnosis.details)}</p>"
            f"<ul class='evidence'>{evidence}</ul><p><b>Impact:</b> {escape(diagnosis.impact)}</p>"
            f"<pre>{escape(chr(10).join(diagnosis.resolution))}</pre>"
            + (f"<p><b>Also explains:</b></p><ul>{consequences}</ul>" if consequences else "") + "</div>")


def render(report: Report, fmt: str) -> str:
    return {"markdown": to_markdown, "html": to_html, "json": to_json}[fmt](report)

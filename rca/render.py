"""Diagnoses as text a person reads at 3 a.m.: what broke, the evidence on a timeline, what to run."""

from __future__ import annotations

from typing import Any

from kgrca.contracts import Diagnosis


def _when(value: Any) -> str:
    text = str(value or "")
    return text.replace("T", " ")[:19] if text else "                   "


def release_line(release: dict[str, Any] | None) -> str:
    if not release:
        return ""
    versions = ""
    if release.get("to_version") is not None:
        versions = f"  revision {release['to_version']}"
        if release.get("from_version") is not None:
            versions += f" ({release.get('operation') or 'change'} from {release['from_version']})"
    status = f"  status {release['status']}" if release.get("status") else ""
    return f"release {release.get('namespace')}/{release.get('name')}{versions}{status}"


def context_line(release: dict[str, Any] | None) -> str:
    """What webhooks told about the release: the commit and PR deployed, the Argo CD sync, open incidents."""
    context = (release or {}).get("context") or {}
    parts = []
    if context.get("commit"):
        commit = context["commit"]
        message = (commit.get("message") or "").splitlines()[0][:72] if commit.get("message") else ""
        parts.append(f"commit {commit['sha'][:12]}" + (f' "{message}"' if message else "")
                     + (f" by {commit['author']}" if commit.get("author") else ""))
    if context.get("pull_request"):
        pr = context["pull_request"]
        parts.append(f"PR #{pr.get('number')} \"{pr.get('title') or ''}\"")
    if context.get("argo_sync"):
        sync = context["argo_sync"]
        parts.append(f"Argo CD sync of {sync.get('app')}: {sync.get('phase') or '?'}")
    for incident in context.get("incidents") or []:
        parts.append(f"open incident {incident.get('key')} \"{incident.get('summary') or ''}\" "
                     f"({', '.join(str(x) for x in (incident.get('status'), incident.get('priority')) if x)})")
    return "  context: " + "; ".join(parts) if parts else ""


def pattern_label(diagnosis: Diagnosis) -> str:
    """``wait_timeout/crashloop``: the Helm shape, then the specific cause; the cause alone without a shape."""
    if diagnosis.shape and diagnosis.shape != diagnosis.pattern:
        return f"{diagnosis.shape}/{diagnosis.pattern}"
    return diagnosis.pattern


def render(diagnosis: Diagnosis) -> str:
    lines = []
    head = release_line(diagnosis.release)
    subject = diagnosis.subject
    if not head and subject:
        head = f"{subject.get('kind', '')} {subject.get('namespace', '')}/{subject.get('name', '')}"
    lines.append(head)
    lines.append(f"  [{diagnosis.severity} {diagnosis.confidence:.2f}] {pattern_label(diagnosis)}: {diagnosis.summary}")
    if context_line(diagnosis.release):
        lines.append(context_line(diagnosis.release))
    if diagnosis.details:
        lines.extend(f"    {line}" for line in diagnosis.details.splitlines())
    if diagnosis.event_chain:
        lines.append("  timeline:")
        lines.extend(f"    {_when(e.get('at'))}  {e.get('what', '')}" for e in diagnosis.event_chain)
    if diagnosis.evidence:
        lines.append("  evidence:")
        for item in diagnosis.evidence:
            name = " ".join(str(item[k]) for k in ("kind", "name") if item.get(k))
            lines.append(f"    {_when(item.get('at'))}  {name}: {item.get('text', '')}")
    lines.append(f"  impact: {diagnosis.impact}")
    if diagnosis.consequences:
        lines.append("  this also explains:")
        lines.extend(f"    - {c['pattern']}: {c['summary']}" for c in diagnosis.consequences)
    lines.append("  run:")
    lines.extend(f"    $ {command}" for command in diagnosis.resolution)
    return "\n".join(lines)

"""The pattern registry: every ``cypher/patterns/*.cypher`` file, its header checked at load.

A pattern file is runnable as-is in Neo4j Browser::

    // id: hook_image_pull
    // title: A Helm hook's pod cannot pull its image
    // severity: critical                      critical | high | medium | low
    // confidence: 0.95                        base confidence, 0..1
    // tags: [helm, hook, image]
    // explains: [wait_timeout]                patterns whose match on the same release this one causes
    // shape: hook_failure                     the Helm shape it explains (one of the seven), or null
    // fallback: false                         true: only when no other diagnosis of the release has its shape
    // impact: The upgrade stopped before any resource changed; the release is marked failed.
    // resolution:
    //   - kubectl -n {namespace} describe pod {pod}
    //   - helm rollback {release} {from_version} -n {namespace}
    // summary: Pod {pod} cannot pull [[image {image}||its image (not recorded)]]     optional, see below
    :param release_key => null;
    :param now => null;
    MATCH ...
    RETURN release_key, subject, summary, details, evidence, event_chain, vars, confidence

Header lines are YAML inside ``//`` comments, up to the first ``:param`` line or query line.
``:param NAME => LITERAL;`` lines give every parameter the query uses and its default; the
registry strips them before sending the query to the driver. Resolution lines are templates
filled from the row's ``vars`` map (``{namespace}``, ``{release}``, ...).

Each query returns one row per finding with these columns:
``release_key`` (``"ns/name"`` or null), ``subject`` (map: kind, namespace, name), ``summary``,
``details``, ``evidence`` (list of maps: kind, name, at, text), ``event_chain`` (list of maps: at,
what), ``vars`` (map for the resolution template), and optionally ``confidence`` (overrides the
base where the query knows better, e.g. a match on message text alone), ``shape`` (overrides the header's
where the query reads it from a fact) and ``operation_id``.

A pattern may keep its words in the header instead (Falco's ``output:``; rca/templates.py): with
``summary:`` (and optionally ``details:``) templates, the query returns a ``facts`` map and no ``summary`` or
``details`` columns; each ``{name}`` is filled from ``facts``, a fact that was not observed renders as
``<name not observed>``, and ``[[ ... || ... ]]`` says what is missing in words. Every fact a template names must
be a key the query writes (``name:``), checked at load.

``shape`` names the Helm shape a pattern explains: hook_failure, stuck_release, template_error,
resource_conflict, partial_deployment, wait_timeout or crd_mismatch; null for the pod, workload and node
causes behind them (those take the shape of the Helm pattern they explain, see rca/runner.py). A
``fallback`` pattern says what no specific pattern said: helm's classified or unclassified words.
"""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path
from typing import Any

import yaml

from kgrca.contracts import SEVERITIES, SHAPES, KgrcaError
from rca import templates

PATTERN_DIR = Path(__file__).resolve().parents[1] / "cypher" / "patterns"
REQUIRED = ("id", "title", "severity", "confidence", "tags", "impact", "resolution")
COLUMNS = ("release_key", "subject", "summary", "details", "evidence", "event_chain", "vars")
_PARAM = re.compile(r"^:param\s+(\w+)\s*=>\s*(.+?);?\s*$")
_USED = re.compile(r"\$(\w+)")
_WHOLE = re.compile(r"^\{(\w+)\}$")


class PatternError(KgrcaError):
    """A pattern file whose header or parameters are wrong: names the file and what is expected."""


@dataclasses.dataclass(frozen=True)
class Pattern:
    id: str
    title: str
    severity: str
    confidence: float
    tags: tuple[str, ...]
    impact: str
    resolution: tuple[str, ...]
    explains: tuple[str, ...]
    shape: str | None
    fallback: bool
    params: dict[str, Any]
    query: str
    path: Path
    summary: templates.Template | None = None
    details: templates.Template | None = None

    def words(self, row: dict[str, Any]) -> tuple[str, str]:
        """Summary and details: rendered from the row's facts by the header's templates, or the query's own."""
        if self.summary is None:
            return row["summary"], row.get("details") or ""
        facts = row.get("facts") or {}
        return self.summary.render(facts), self.details.render(facts) if self.details else ""

    def resolve(self, variables: dict[str, Any]) -> list[str]:
        """Resolution commands with ``{placeholders}`` filled; an unknown one stays visible as <name>.

        A line that is only ``{name}`` whose value is a list stands for each command of the list."""
        commands: list[str] = []
        for line in self.resolution:
            whole = _WHOLE.match(line)
            if whole and isinstance((variables or {}).get(whole.group(1)), list):
                commands.extend(str(command) for command in variables[whole.group(1)])
            else:
                commands.append(string.Formatter().vformat(line, (), _Missing(variables)))
        return commands


class _Missing(dict):
    def __init__(self, values: dict[str, Any]):
        super().__init__({k: v for k, v in (values or {}).items() if v is not None})

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def parse_pattern(path: Path) -> Pattern:
    header_lines: list[str] = []
    params: dict[str, Any] = {}
    query_lines: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not query_lines and not params and stripped.startswith("//"):
            header_lines.append(stripped[2:].removeprefix(" "))
        elif stripped.startswith(":param"):
            match = _PARAM.match(stripped)
            if not match:
                raise PatternError(f"{path}:{number}: expected ':param NAME => VALUE;'")
            try:
                params[match.group(1)] = yaml.safe_load(match.group(2))
            except yaml.YAMLError:
                raise PatternError(f"{path}:{number}: the default of {match.group(1)} is not a literal") from None
        else:
            query_lines.append(line)
    try:
        header = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as exc:
        raise PatternError(f"{path}: header is not valid YAML in // comments: {exc}") from None
    if not isinstance(header, dict):
        raise PatternError(f"{path}: header must be 'key: value' lines in // comments")
    missing = [key for key in REQUIRED if key not in header]
    if missing:
        raise PatternError(f"{path}: header lacks {', '.join(missing)}")
    query = "\n".join(query_lines).strip().rstrip(";")
    words = _templates(path, header, query)
    _check(path, header, params, query, bool(words))
    return Pattern(
        id=str(header["id"]), title=str(header["title"]), severity=str(header["severity"]),
        confidence=float(header["confidence"]), tags=tuple(header["tags"]), impact=str(header["impact"]).strip(),
        resolution=tuple(str(r) for r in header["resolution"]), explains=tuple(header.get("explains") or ()),
        shape=header.get("shape"), fallback=bool(header.get("fallback", False)),
        params=params, query=query, path=path, **words)


def _templates(path: Path, header: dict[str, Any], query: str) -> dict[str, templates.Template]:
    """The header's summary and details templates, parsed, each fact they name written by the query."""
    if "details" in header and "summary" not in header:
        raise PatternError(f"{path}: a details template needs a summary template")
    words = {}
    for key in ("summary", "details"):
        if key not in header:
            continue
        if not isinstance(header[key], str):
            raise PatternError(f"{path}: {key} must be text (a ': ' inside it needs quotes or '>-')")
        try:
            words[key] = templates.parse(str(header[key]).strip())
        except templates.TemplateError as exc:
            raise PatternError(f"{path}: {key}: {exc}") from None
        unwritten = sorted(n for n in words[key].names if not re.search(rf"\b{n}\s*:", query))
        if unwritten:
            raise PatternError(f"{path}: {key} names facts the query never writes ('name: ...'): "
                               f"{', '.join(unwritten)}")
    return words


def _check(path: Path, header: dict[str, Any], params: dict[str, Any], query: str, templated: bool = False) -> None:
    if header["id"] != path.stem:
        raise PatternError(f"{path}: id '{header['id']}' must equal the file name '{path.stem}'")
    if header["severity"] not in SEVERITIES:
        raise PatternError(f"{path}: severity must be one of {', '.join(SEVERITIES)}")
    if not isinstance(header["confidence"], int | float) or not 0 < header["confidence"] <= 1:
        raise PatternError(f"{path}: confidence must be a number in (0, 1]")
    if header.get("shape") is not None and header["shape"] not in SHAPES:
        raise PatternError(f"{path}: shape must be one of {', '.join(SHAPES)} or null")
    if not isinstance(header.get("fallback", False), bool):
        raise PatternError(f"{path}: fallback must be true or false")
    if not isinstance(header["tags"], list) or not header["tags"]:
        raise PatternError(f"{path}: tags must be a non-empty list")
    if not isinstance(header["resolution"], list) or not header["resolution"]:
        raise PatternError(f"{path}: resolution must be a non-empty list of commands")
    if not query:
        raise PatternError(f"{path}: no query after the header")
    undeclared = sorted(set(_USED.findall(query)) - set(params))
    if undeclared:
        raise PatternError(f"{path}: parameters used but not declared with ':param': {', '.join(undeclared)}")
    if "release_key" not in params:
        raise PatternError(f"{path}: every pattern takes ':param release_key => null;' to narrow it to a release")
    returned = query.rsplit("RETURN", 1)[-1]
    columns = [c for c in COLUMNS if c not in ("summary", "details")] + ["facts"] if templated else COLUMNS
    absent = [column for column in columns if column not in returned]
    if absent:
        raise PatternError(f"{path}: the final RETURN lacks {', '.join(absent)}")


def load_patterns(directory: Path = PATTERN_DIR) -> list[Pattern]:
    """Every pattern, checked; a broken file stops the start with its name and what is wrong."""
    patterns = [parse_pattern(path) for path in sorted(directory.glob("*.cypher"))]
    ids = {p.id for p in patterns}
    for pattern in patterns:
        unknown = set(pattern.explains) - ids
        if unknown:
            raise PatternError(f"{pattern.path}: explains unknown patterns: {', '.join(sorted(unknown))}")
    return patterns

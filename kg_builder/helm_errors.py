"""Helm's error text, classified once when it is written: one table (cypher/helm_errors.yaml) of message families.

``classify(text)`` names the family of a message helm printed (or stored as a revision's description), the Helm
shape it belongs to, the facts its words carry (kind, name, field, file:line, the other owner, ...), a summary and
the fix to paste, all rendered only from those facts. A text no family claims is ``unclassified``: the diagnosis
then quotes it verbatim, so the gap shows and can be counted (bench/classify_messages.py).

``rows(...)`` turns a classification into the (:HelmError) node rows of docs/graph-model.md, so patterns query
facts instead of re-parsing English.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

import yaml

from kg_builder.helm_release import CLUSTER_SCOPED
from kg_builder.statements import HISTORY, Statement
from kgrca.contracts import SHAPES
from kgrca.keys import unqualify

TABLE = Path(__file__).resolve().parents[1] / "cypher" / "helm_errors.yaml"
UNCLASSIFIED = "unclassified"
# Words a successful or in-flight revision carries; never an error.
_NOT_ERRORS = re.compile(r"^(Install complete|Upgrade complete|Rollback to \d+|Preparing upgrade|Initial install "
                         r"underway|Uninstallation complete|Deletion in progress|Dry run complete)", re.IGNORECASE)
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_FIELD = re.compile(r"\{(\w+)\}")
MAX_TEXT = 4000  # a HelmError keeps this much of the verbatim text; helm's messages are far shorter


@dataclasses.dataclass(frozen=True)
class Family:
    id: str
    shape: str | None
    cause: str
    match: tuple[re.Pattern[str], ...]
    extract: tuple[re.Pattern[str], ...]
    objects: tuple[re.Pattern[str], ...]
    when: str | None
    summary: str
    fix: tuple[str, ...]
    confidence: float


@dataclasses.dataclass(frozen=True)
class Classification:
    family: str
    shape: str | None
    cause: str
    facts: dict[str, str]
    objects: tuple[str, ...]  # "Kind/name" of every object the message names
    summary: str
    fix: tuple[str, ...]
    confidence: float
    text: str

    @property
    def classified(self) -> bool:
        return self.family != UNCLASSIFIED


class TableError(ValueError):
    """cypher/helm_errors.yaml is wrong: names the row and what is expected."""


def _compile(row_id: str, expressions: Any, what: str) -> tuple[re.Pattern[str], ...]:
    if expressions is None:
        return ()
    if isinstance(expressions, str):
        expressions = [expressions]
    compiled = []
    for expression in expressions:
        try:
            compiled.append(re.compile(expression))
        except re.error as exc:
            raise TableError(f"{TABLE}: family {row_id}: {what} {expression!r} is not a regular expression: {exc}") \
                from None
    return tuple(compiled)


@functools.cache
def table() -> tuple[tuple[Family, ...], dict[str, dict[str, str]]]:
    """The families in order, and the removed built-in APIs by "apiVersion kind"."""
    data = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    families = []
    for row in data["families"]:
        row_id = row.get("id")
        for key in ("id", "shape", "cause", "match", "summary", "fix", "confidence"):
            if key not in row:
                raise TableError(f"{TABLE}: family {row_id or '?'} lacks {key}")
        if row["shape"] is not None and row["shape"] not in SHAPES:
            raise TableError(f"{TABLE}: family {row_id}: shape must be one of {', '.join(SHAPES)} or null")
        if row.get("when") not in (None, "removed_api", "not_removed_api"):
            raise TableError(f"{TABLE}: family {row_id}: when must be removed_api or not_removed_api")
        families.append(Family(
            id=row_id, shape=row["shape"], cause=row["cause"], match=_compile(row_id, row["match"], "match"),
            extract=_compile(row_id, row.get("extract"), "extract"),
            objects=_compile(row_id, row.get("objects"), "objects"),
            when=row.get("when"), summary=row["summary"], fix=tuple(row["fix"]), confidence=float(row["confidence"])))
    removed = {f"{item['api_version']} {kind}": {"removed_in": str(item["removed_in"]),
                                                  "replacement": str(item["replacement"])}
               for item in data.get("removed_apis") or [] for kind in item["kinds"]}
    return tuple(families), removed


def families() -> tuple[Family, ...]:
    return table()[0]


def is_error_text(text: str | None) -> bool:
    """False for the words of a revision that did not fail ("Upgrade complete", "Rollback to 3", ...)."""
    return bool(text and text.strip()) and not _NOT_ERRORS.match(text.strip())


def classify(text: str, release: str | None = None, namespace: str | None = None) -> Classification:
    """The family of one of helm's messages and the facts in it; ``unclassified`` when no family claims it."""
    all_families, removed = table()
    verbatim, text = text, _flat(text)  # Flux and CI logs wrap helm's one line; the words are what count
    for family in all_families:
        found = _first_match(family.match, text)
        if found is None:
            continue
        facts = {k: _cut(v) for k, v in found.groupdict().items() if v}
        for expression in family.extract:
            hit = expression.search(text)
            if hit:
                for key, value in hit.groupdict().items():
                    if value and key not in facts:
                        facts[key] = _cut(value)
        if "api_version" not in facts and facts.get("version"):  # Argo CD names the group and version apart
            facts["api_version"] = f"{facts['group']}/{facts['version']}" if facts.get("group") else facts["version"]
        if family.when:
            api = _removed_api(facts, removed)
            if (family.when == "removed_api") != (api is not None):
                continue
            facts.update(api or {})
        named = sorted((m.start(), f"{m['kind']}/{m['name']}") for expression in family.objects
                       for m in expression.finditer(text))
        objects = tuple(dict.fromkeys(name for _, name in named))
        return _classification(family.id, family.shape, family.cause, facts, objects, family.summary, family.fix,
                               family.confidence, verbatim, release, namespace)
    return Classification(family=UNCLASSIFIED, shape=None, cause="no family of helm's messages matched",
                          facts={}, objects=(), summary=f"helm said: {text}", fix=(), confidence=0.3,
                          text=verbatim)


def _first_match(expressions: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    for expression in expressions:
        found = expression.search(text)
        if found:
            return found
    return None


def _removed_api(facts: dict[str, str], removed: dict[str, dict[str, str]]) -> dict[str, str] | None:
    """For `no matches for kind`: the removal of a built-in API, or None for a custom group (a missing CRD)."""
    api_version, kind = facts.get("api_version"), facts.get("kind")
    if not api_version:
        return None
    known = removed.get(f"{api_version} {kind}")
    if known:
        return known
    group = api_version.rpartition("/")[0]
    builtin = group == "" or "." not in group or group.endswith(".k8s.io")
    return {} if builtin else None


def _classification(family: str, shape: str | None, cause: str, facts: dict[str, str], objects: tuple[str, ...],
                    summary: str, fix: tuple[str, ...], confidence: float, text: str, release: str | None,
                    namespace: str | None) -> Classification:
    values = dict(facts)
    if "kind" in values:
        values["kind_lower"] = values["kind"].lower()
    context = {k: v for k, v in (("release", release), ("namespace", namespace)) if v}
    return Classification(
        family=family, shape=shape, cause=cause, facts=facts, objects=objects, summary=render(summary, values),
        fix=tuple(render(line, {**context, **values}, missing="<{name}>") for line in fix),
        confidence=confidence, text=text)


def render(template: str, values: dict[str, str], missing: str = "<{name} not in helm's message>") -> str:
    """Fill ``{fact}``; ``[[...]]`` is kept only when every fact inside is known; others say they are missing."""
    def optional(found: re.Match[str]) -> str:
        inner = found.group(1)
        return inner if all(name in values for name in _FIELD.findall(inner)) else ""

    text = _OPTIONAL.sub(optional, template)
    return _FIELD.sub(lambda f: values.get(f.group(1)) or missing.format(name=f.group(1)), text)


def _cut(value: str, limit: int = 300) -> str:
    """A fact as helm said it; a reason that runs to the end of a long message is cut, visibly."""
    return value if len(value) <= limit else value[:limit].rstrip() + " [...]"


# helm's hint after a YAML error; Argo CD joins helm's lines, so it would run into the facts before it
_DEBUG_HINT = re.compile(r"\s*Use --debug flag to render out invalid YAML\.?")


def _flat(text: str) -> str:
    return " ".join(_DEBUG_HINT.sub(" ", text).split())


# --- graph rows ------------------------------------------------------------------------------------

def _helm_error_statement(name: str, seen_in: str, partition_by: str) -> Statement:
    """The HelmError node and its FAILED_WITH link from where helm's words were seen."""
    return Statement(name, HISTORY, f"""
UNWIND $rows AS row
MERGE (e:HelmError {{key: row.key}})
SET e += row.props
WITH e, row
MATCH {seen_in}
MERGE (seen)-[:FAILED_WITH]->(e)
""", partition_by=partition_by)


HELM_ERROR = _helm_error_statement("helm_error", "(seen:Revision {key: row.revision_key})", "release_key")
HELM_ERROR_OF_OPERATION = _helm_error_statement(
    "helm_error_of_operation", "(seen:HelmOperation {operation_id: row.operation_id})", "operation_id")


def props(found: Classification, release_key: str, seen_in: str, at: Any) -> dict[str, Any]:
    """A HelmError node's properties: the family, its facts and words, where and when it was seen.

    ``object_namespace`` is the namespace helm's words name for the object, else the release's (helm applies a
    namespaced object there), and empty for a cluster-scoped kind."""
    facts = found.facts
    kind = facts.get("kind")
    object_namespace = facts.get("namespace") or (
        "" if kind in CLUSTER_SCOPED else unqualify(release_key).partition("/")[0])
    return {
        "family": found.family, "shape": found.shape, "cause": found.cause, "classified": found.classified,
        "summary": found.summary, "fix": list(found.fix), "confidence": found.confidence,
        "text": found.text[:MAX_TEXT], "release_key": release_key, "seen_in": seen_in, "at": at,
        "kind": kind, "name": facts.get("name"), "object_namespace": object_namespace if kind else None,
        "field": facts.get("field"), "file": facts.get("file"),
        "line": int(facts["line"]) if facts.get("line", "").isdigit() else None,
        "api_version": facts.get("api_version"), "group": facts.get("group"), "owner": facts.get("owner"),
        "manager": facts.get("manager"),
        "webhook": facts.get("webhook"), "service": facts.get("service"), "reason": facts.get("reason"),
        "objects": list(found.objects),
    }

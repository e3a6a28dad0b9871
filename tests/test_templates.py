"""A pattern's words rendered from its facts (rca/templates.py): what is missing is said, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from rca import registry, templates


def render(source: str, **facts: object) -> str:
    return templates.parse(source).render(facts)


def test_a_fact_is_written_as_observed_and_a_list_is_joined():
    assert render("Node {node}: {pods} ({count})", node="n1", pods=["a/b", "c/d"], count=2) == \
        "Node n1: a/b, c/d (2)"


@pytest.mark.parametrize("missing", [None, [], ""])
def test_a_fact_not_observed_is_said_to_be_missing_not_filled_in(missing: object):
    assert render("The kubelet said: {message}", message=missing) == "The kubelet said: <message not observed>"


def test_an_optional_part_appears_only_with_its_facts():
    source = "cordoned[[ since {since}]]"
    assert render(source, since="2026-11-20T10:01:00Z") == "cordoned since 2026-11-20T10:01:00Z"
    assert render(source) == "cordoned"


def test_the_other_branch_says_what_is_missing():
    source = "cordoned[[ since {since}||, since when is not recorded]]"
    assert render(source) == "cordoned, since when is not recorded"


def test_parts_nest_and_depend_on_their_own_facts_only():
    source = "x[[; taint at {taint}||[[; event at {event}||; no time recorded]]]]."
    assert render(source, taint="T1", event="E1") == "x; taint at T1."
    assert render(source, event="E1") == "x; event at E1."
    assert render(source) == "x; no time recorded."


def test_a_zero_and_false_are_observed_values():
    assert render("[[exit code {code}||no exit code]], ready {ready}", code=0, ready=False) == \
        "exit code 0, ready false"


@pytest.mark.parametrize("source", ["a [[b", "a ]] b", "a || b", "[[a || b || c]] ]]"])
def test_a_broken_template_is_refused_with_where(source: str):
    with pytest.raises(templates.TemplateError, match="in: "):
        templates.parse(source)


def pattern_file(tmp_path: Path, summary: str, returned: str) -> Path:
    path = tmp_path / "some_pattern.cypher"
    path.write_text(
        "// id: some_pattern\n// title: t\n// severity: low\n// confidence: 0.5\n// tags: [x]\n"
        "// impact: i\n// resolution:\n//   - kubectl get pods\n"
        f"// summary: '{summary}'\n"
        ":param release_key => null;\n"
        "MATCH (n:Node)\n"
        f"RETURN null AS release_key, {{}} AS subject, {returned} AS facts, [] AS evidence,\n"
        "  [] AS event_chain, {} AS vars\n")
    return path


def test_the_registry_renders_a_templated_pattern_from_its_facts(tmp_path: Path):
    pattern = registry.parse_pattern(pattern_file(tmp_path, "Node {node} is down[[ since {since}]]",
                                                  "{node: n.name, since: n.since}"))
    assert pattern.words({"facts": {"node": "n1", "since": None}}) == ("Node n1 is down", "")


def test_the_registry_refuses_a_template_naming_a_fact_the_query_never_writes(tmp_path: Path):
    with pytest.raises(registry.PatternError, match="never writes.*reason"):
        registry.parse_pattern(pattern_file(tmp_path, "Node {node}: {reason}", "{node: n.name}"))


def test_a_templated_pattern_must_return_facts(tmp_path: Path):
    path = pattern_file(tmp_path, "Node {node}", "{node: n.name}")
    path.write_text(path.read_text().replace("AS facts", "AS summary"))
    with pytest.raises(registry.PatternError, match="lacks facts"):
        registry.parse_pattern(path)


def test_a_template_yaml_reads_as_a_map_is_refused_with_a_hint(tmp_path: Path):
    path = pattern_file(tmp_path, "x", "{node: n.name}")
    path.write_text(path.read_text().replace("// summary: 'x'", "// summary: {node: down}"))
    with pytest.raises(registry.PatternError, match="must be text"):
        registry.parse_pattern(path)

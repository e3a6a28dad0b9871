"""Fitness of every registered pattern: a valid header, declared parameters, placeholders its query fills,
a clean run on an empty graph, and at least one golden scenario that expects it on top."""

from __future__ import annotations

import re
import textwrap

import pytest

from kg_builder.schema import apply_schema
from kgrca.config import KEYS
from rca.iso_times import read_datetimes_as_text
from rca.registry import PatternError, load_patterns, parse_pattern
from rca.runner import Detector
from tests.scenarios import suite

PATTERNS = load_patterns()  # raises PatternError naming the broken file and what is wrong
IDS = [p.id for p in PATTERNS]
RELEASE_VARS = {"release", "namespace", "from_version", "to_version"}
CONFIG_KEYS = {key.name for key in KEYS}


def test_patterns_are_registered():
    assert len(PATTERNS) >= 8
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("pattern", PATTERNS, ids=IDS)
def test_header_and_parameters(pattern):
    assert pattern.title and pattern.impact
    assert 0 < pattern.confidence <= 1
    assert pattern.id not in pattern.explains, "a pattern cannot explain itself"
    for name in pattern.params:
        # every parameter is the release filter, the time of judgement, or a configuration key
        assert name in {"release_key", "now"} | CONFIG_KEYS, f"{pattern.id}: :param {name} is not a config key"


@pytest.mark.parametrize("pattern", PATTERNS, ids=IDS)
def test_resolution_placeholders_are_filled_by_the_query(pattern):
    for line in pattern.resolution:
        for name in re.findall(r"\{(\w+)\}", line):
            filled = name in RELEASE_VARS or re.search(rf"[{{,\s]{name}\s*:", pattern.query)
            assert filled, f"{pattern.id}: resolution uses {{{name}}} but the query's vars never set it"


CLUSTER_WIDE = [p for p in PATTERNS if p.shape is None and not p.fallback]  # helm's own words: always a release


@pytest.mark.parametrize("pattern", CLUSTER_WIDE, ids=[p.id for p in CLUSTER_WIDE])
def test_a_finding_that_may_have_no_release_says_its_cluster(pattern):
    """`diagnose --cluster` and /api/v1/clusters/<c>/... keep a diagnosis by release.cluster, else by
    subject.cluster (rca/clusters.py): a pattern that may find an object outside any release must return it."""
    subject = pattern.query.rsplit("RETURN", 1)[-1].split("AS subject")[0]
    assert re.search(r"\bcluster\s*:", subject), f"{pattern.id}: its subject map has no cluster"


def test_explains_is_not_circular():
    explains = {p.id: set(p.explains) for p in PATTERNS}
    for pattern, explained in explains.items():
        for other in explained:
            assert pattern not in explains.get(other, set()), f"{pattern} and {other} explain each other"


def test_every_pattern_has_a_golden_scenario():
    expected = {suite.load(folder).expected for folder in suite.discover()}
    missing = sorted(set(IDS) - expected)
    assert not missing, f"patterns with no scenario in tests/scenarios/ expecting them on top: {missing}"


def test_a_broken_header_names_the_file(tmp_path):
    path = tmp_path / "broken.cypher"
    path.write_text(textwrap.dedent("""\
        // id: broken
        // title: x
        // severity: catastrophic
        // confidence: 0.5
        // tags: [x]
        // impact: x
        // resolution: [x]
        :param release_key => null;
        MATCH (n) RETURN n.key AS release_key, {} AS subject, '' AS summary, '' AS details, [] AS evidence,
          [] AS event_chain, {} AS vars
        """))
    with pytest.raises(PatternError, match="broken.cypher: severity must be one of"):
        parse_pattern(path)


def test_an_undeclared_parameter_is_refused(tmp_path):
    path = tmp_path / "loose.cypher"
    path.write_text(textwrap.dedent("""\
        // id: loose
        // title: x
        // severity: low
        // confidence: 0.5
        // tags: [x]
        // impact: x
        // resolution: [x]
        :param release_key => null;
        MATCH (n) WHERE n.age > $max_age
        RETURN n.key AS release_key, {} AS subject, '' AS summary, '' AS details, [] AS evidence,
          [] AS event_chain, {} AS vars
        """))
    with pytest.raises(PatternError, match="not declared with ':param': max_age"):
        parse_pattern(path)


@pytest.mark.neo4j
def test_every_pattern_runs_on_an_empty_graph(neo4j_driver, neo4j_config):
    apply_schema(neo4j_driver, neo4j_config.neo4j_database)  # patterns name the indexes they start from
    run = Detector(neo4j_driver, neo4j_config).run()
    assert run.errors == []
    assert run.diagnoses == []
    assert set(run.timings) == set(IDS)


@pytest.mark.neo4j
def test_every_pattern_runs_narrowed_to_one_release(neo4j_driver, neo4j_config):
    apply_schema(neo4j_driver, neo4j_config.neo4j_database)
    run = Detector(neo4j_driver, neo4j_config).run(release_key="prod/api")
    assert run.errors == []
    assert run.diagnoses == []


TIMES = """
RETURN [datetime('2026-11-20T10:00:00Z'), datetime('2026-11-20T10:00:00.123456789Z'),
        datetime('2026-03-29T01:59:59.5+05:30'), datetime('1999-12-31T23:59:59.000000001-09:30'),
        datetime('0987-06-05T04:03:02-00:01'), localdatetime('2026-11-20T10:00:00.25')] AS times,
       {at: datetime('2024-02-29T23:30:00+01:00'), nested: [{at: datetime('2026-01-01T00:00:00Z')}]} AS evidence
"""


@pytest.mark.neo4j
def test_times_read_as_text_are_the_drivers_own_iso_format(neo4j_driver):
    """The Detector reads (Local)DateTimes as text; it must be exactly what plain() made of the driver's values."""
    from rca.runner import plain

    with neo4j_driver.session() as session:
        by_driver = session.run(TIMES).single().data()
        result = session.run(TIMES)
        read_datetimes_as_text(result)
        as_text = result.single().data()
    assert all(isinstance(t, str) for t in as_text["times"])
    assert as_text == plain(by_driver)

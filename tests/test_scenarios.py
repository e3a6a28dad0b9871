"""Golden scenarios: every folder of tests/scenarios/ replayed into a real Neo4j and diagnosed.

A folder holds the input (objects.jsonl of watch events and observations, or a real recording) and
expected.yaml (the top diagnosis, the evidence it must cite, the commands it must give; or
``expected: none`` for a near-miss that must not fire). The format is in tests/scenarios/README.md.
"""

from __future__ import annotations

import pytest

from tests.scenarios import suite

FOLDERS = suite.discover()


def test_every_scenario_folder_is_well_formed():
    assert FOLDERS, "tests/scenarios/ holds no scenario folder"
    for folder in FOLDERS:
        scenario = suite.load(folder)  # raises ScenarioError naming the folder
        _, problems = suite.observations(scenario)
        assert problems == [], f"{folder.name}: input that does not load: {problems}"


@pytest.fixture(scope="module")
def schema_applied(neo4j_config):
    """Constraints and indexes once for the module; each test's wipe keeps them."""
    from kgrca.graphdb import connect

    driver = connect(neo4j_config)
    try:
        suite.prepare(driver, neo4j_config)
    finally:
        driver.close()


@pytest.mark.neo4j
@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_scenario(folder, schema_applied, neo4j_driver, neo4j_config):
    cfg = neo4j_config
    scenario = suite.load(folder)
    rejected = suite.replay(neo4j_driver, cfg, scenario)
    assert rejected == [], f"{scenario.name}: the graph writer rejected input: {rejected}"
    run = suite.diagnose(neo4j_driver, cfg, scenario)
    wrong = suite.mismatches(scenario, run)
    assert not wrong, f"{scenario.name} ({scenario.description}):\n" + "\n".join(wrong)
    silent = suite.silent_failures(neo4j_driver, cfg, run)
    assert not silent, f"{scenario.name}: failed operations with no diagnosis: {silent}"


def test_generated_helm_scenarios_are_current():
    from tests.scenarios import generate_helm

    assert generate_helm.main(["--check"]) == 0, "run: python tests/scenarios/generate_helm.py"


def test_generated_pod_scenarios_are_current():
    from tests.scenarios import generate_pods

    assert generate_pods.main(["--check"]) == 0, "run: python tests/scenarios/generate_pods.py"


def test_generated_webhook_scenarios_are_current():
    from tests.scenarios import generate_webhooks

    assert generate_webhooks.main(["--check"]) == 0, "run: python tests/scenarios/generate_webhooks.py"

"""Real recordings in, diagnoses out through kgrca's REST API: what a user sees for each scenario.

Each recording in tests/e2e/recordings was made from a real API server and a real helm (see its
.meta.json for versions and commands). Here it is ingested exactly as `kgrca ingest` does, and the
release's diagnosis is read from `GET /api/v1/releases/<ns>/<name>/diagnosis`, as of the time the
recording ended. Scenarios in which helm stored no revision (an install refused before anything was
written) have no release in the graph without helm's own process record, so they are not listed here;
the eBPF tests cover those.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faces.api.app import create_app
from ingest.files import FileSource
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter

pytestmark = pytest.mark.neo4j
RECORDINGS = Path(__file__).resolve().parent / "recordings"

# scenario -> the pattern that must lead the release's diagnoses (None: the release must be healthy), or
# (root cause, consequence): the consequence must be folded into the root cause, not listed beside it.
EXPECTED: dict[str, str | tuple[str, str] | None] = {
    "hook_image_pull": "hook_image_pull",
    "hook_script_fails": "hook_script_failed",
    "conflict_immutable_field": "resource_conflict_immutable",
    # the API server refused the seed Job (helm's words, classified): the half-applied release is its consequence
    "partial_deployment": ("helm_error", "partial_deployment"),
    "wait_timeout": ("probe_failing", "wait_timeout"),  # pods never ready: their readiness probe fails
    "healthy_install": None,
    "healthy_upgrade": None,
    "healthy_rollback": None,
}


def load(name: str, driver) -> dict:
    meta = json.loads((RECORDINGS / f"{name}.meta.json").read_text())
    apply_schema(driver)
    source = FileSource([RECORDINGS / f"{name}.jsonl"])
    stats = Neo4jWriter(driver).write(source.observations())
    assert not source.problems and not stats.rejected, (source.problems, stats.rejected)
    return meta


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_recorded_scenario_diagnosis_through_the_api(scenario, neo4j_config, neo4j_driver):
    meta = load(scenario, neo4j_driver)
    client = create_app(neo4j_config, driver=neo4j_driver).test_client()
    url = f"/api/v1/releases/{meta['namespace']}/{meta['release']}/diagnosis"
    response = client.get(url, query_string={"now": meta["recorded_at"]})
    assert response.status_code == 200, response.get_json()
    diagnoses = response.get_json()
    diagnoses = diagnoses.get("diagnoses", diagnoses) if isinstance(diagnoses, dict) else diagnoses
    expected = EXPECTED[scenario]
    if expected is None:
        assert diagnoses == [], [d["pattern"] for d in diagnoses]
        return
    assert diagnoses, f"no diagnosis for {scenario}"
    top = diagnoses[0]
    root, consequence = expected if isinstance(expected, tuple) else (expected, None)
    assert top["pattern"] == root, [d["pattern"] for d in diagnoses]
    if consequence:
        assert consequence in [c["pattern"] for c in top["consequences"]]
        assert consequence not in [d["pattern"] for d in diagnoses]
    assert top["release"]["name"] == meta["release"] and top["release"]["namespace"] == meta["namespace"]
    assert top["root_cause"]["evidence"] and top["root_cause"]["resolution"]
    assert any(meta["namespace"] in command for command in top["root_cause"]["resolution"])

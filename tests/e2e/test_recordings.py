"""The committed recordings: one per scenario, made from a real run, readable by `kgrca ingest`.

Every scenario is recorded with Helm 4 (`<name>.jsonl`), and scenario_lib.HELM3_SCENARIOS with Helm 3 as
well (`<name>.helm3.jsonl`), so both majors' release Secrets, wording and timings stay covered.

These need no cluster: they check the files that detection tests and the README demo are built on.
"""

from __future__ import annotations

import base64
import gzip
import json

import pytest
import scenario_lib

from ingest.files import FileSource

MAX_BYTES = 1_500_000  # a recording is a test fixture: keep each one commit-sized


RECORDINGS = [pytest.param(name, major, id=f"{name}-helm{major}") for name, major in scenario_lib.recordings()]


@pytest.mark.parametrize("name,major", RECORDINGS)
def test_each_scenario_has_a_recording_with_its_versions_and_commands(name, major):
    recording = scenario_lib.recording(name, major)
    meta = json.loads(recording.with_suffix(".meta.json").read_text())
    assert meta["scenario"] == name
    assert meta["helm_version"].startswith(f"v{major}.")
    assert meta["helm_major"] == major
    assert meta["kubernetes_version"].startswith("v1.")
    assert meta["recorded_at"]
    assert meta["commands"] and all(c["argv"][0] in {"helm", "kubectl"} for c in meta["commands"])
    assert meta["expect"] == json.loads(json.dumps(scenario_lib.load(name).expect))
    assert 0 < recording.stat().st_size <= MAX_BYTES
    assert meta["watch_events"] == len(recording.read_text().splitlines())


@pytest.mark.parametrize("name,major", RECORDINGS)
def test_recording_loads_through_kgrca_ingest_without_problems(name, major):
    source = FileSource([scenario_lib.recording(name, major)])
    observations = list(source.observations())
    assert observations
    assert not source.problems
    assert {o.action for o in observations} <= {"ADDED", "MODIFIED", "DELETED"}


@pytest.mark.parametrize("name,major", RECORDINGS)
def test_release_secrets_are_recorded_intact(name, major):
    """Helm's release Secrets decode (base64, base64, gzip, JSON) exactly as helm wrote them."""
    scenario = scenario_lib.load(name)
    lines = [json.loads(line) for line in scenario_lib.recording(name, major).read_text().splitlines()]
    secrets = [line["object"] for line in lines if line["object"]["kind"] == "Secret"]
    for secret in secrets:
        release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
        assert release["name"] == secret["metadata"]["labels"]["name"]  # a scenario may install other releases
        assert release["namespace"] == scenario.namespace
        assert str(release["version"]) == secret["metadata"]["labels"]["version"]
    wanted = scenario.expect.get("releases")
    if wanted:
        last = {}
        for secret in secrets:
            labels = secret["metadata"]["labels"]
            if labels["name"] == scenario.release:
                last[int(labels["version"])] = labels["status"]
        assert last == {int(k): v for k, v in wanted.items()}



@pytest.mark.parametrize("name,major", [p for p in RECORDINGS if p.values[0] in scenario_lib.HELM3_SCENARIOS])
def test_helm4_writes_its_apply_method_and_helm3_none(name, major):
    """Helm 4 records how it applied the release (server-side apply by default); Helm 3 has no such field."""
    lines = [json.loads(line) for line in scenario_lib.recording(name, major).read_text().splitlines()]
    releases = [json.loads(gzip.decompress(base64.b64decode(base64.b64decode(line["object"]["data"]["release"]))))
                for line in lines if line["object"]["kind"] == "Secret"]
    assert {r.get("apply_method") for r in releases} <= ({"ssa"} if major == 4 else {None})

"""The committed GitOps and CI deploy recordings (record_gitops.py): readable by `kgrca ingest`, small, and saying
where their words come from. No cluster needed.
"""

from __future__ import annotations

import json

import pytest
import record_gitops
import yaml

from ingest.files import FileSource

MAX_BYTES = 300_000
WITNESS_KIND = {"flux": "HelmRelease", "argocd": "Application", "ci_pod": "Pod"}
CASES = sorted(record_gitops.CASES)


def lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (record_gitops.RECORDINGS / f"gitops_{name}.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("name", CASES)
def test_recording_loads_through_kgrca_ingest_without_problems(name):
    source = FileSource([record_gitops.RECORDINGS / f"gitops_{name}.jsonl"])
    observations = list(source.observations())
    assert observations and not source.problems
    assert {o.action for o in observations} <= {"ADDED", "MODIFIED", "DELETED"}


@pytest.mark.parametrize("name", CASES)
def test_recording_is_small_and_its_meta_names_versions_sources_and_commands(name):
    case = record_gitops.CASES[name]
    path = record_gitops.RECORDINGS / f"gitops_{name}.jsonl"
    meta = json.loads(path.with_suffix(".meta.json").read_text())
    assert 0 < path.stat().st_size <= MAX_BYTES
    assert meta["scenario"] == f"gitops_{name}" and meta["release"] == case.release
    assert meta["source"] == case.source and all(url.startswith("https://") for url in meta["source"])
    assert meta["crds"] == {"helm-controller": "v1.4.3", "source-controller": "v1.7.3",
                            "kustomize-controller": "v1.7.2", "argo-cd": "v3.2.0"}
    assert meta["kubernetes_version"].startswith("v1.") and meta["recorded_at"]
    assert meta["commands"] and all(c["argv"][0] == "kubectl" and c["exit"] == 0 for c in meta["commands"])
    assert meta["watch_events"] == len(lines(name))


@pytest.mark.parametrize("name", CASES)
def test_the_witness_object_carries_the_status_its_controller_wrote(name):
    case = record_gitops.CASES[name]
    kind = WITNESS_KIND[case.witness]
    objects = [line["object"] for line in lines(name) if line["object"]["kind"] == kind]
    assert objects, f"no {kind} in the recording"
    last = objects[-1]
    status = last.get("status") or {}
    if kind == "HelmRelease":
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        assert ready["status"] == ("True" if case.expected == "none" else "False")
        assert {"reason", "message", "lastTransitionTime", "observedGeneration"} <= set(ready)
    elif kind == "Application":
        assert status.get("operationState") or status.get("conditions")
    else:
        terminated = status["containerStatuses"][0]["state"]["terminated"]
        assert terminated["exitCode"] == 1 and terminated["message"].startswith("Error: ")
        assert last["spec"]["containers"][0]["command"][:3] == ["helm", "upgrade", "--install"]


@pytest.mark.parametrize("name", CASES)
def test_a_golden_scenario_replays_each_recording(name):
    folder = record_gitops.Path(record_gitops.__file__).resolve().parents[1] / "scenarios" / f"rec_gitops_{name}"
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    assert expected["recording"] == f"../../e2e/recordings/gitops_{name}.jsonl"
    assert expected["expected"] == record_gitops.CASES[name].expected

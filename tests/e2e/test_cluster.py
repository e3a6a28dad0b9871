"""End to end against the real local cluster: etcd, kube-apiserver, controller manager, scheduler, kwok, helm.

Nothing here is mocked. kwok stands in for the kubelets only (no container runtime can run on this
machine): pod status changes and the kubelet's Events come from the Stages in localdev/cluster/stages.py.
Each scenario runs for real through helm and kubectl, recorded by kgrca's own watcher, and the test checks
what the API server and helm produced: release revisions and statuses, Events, container states, and
what the recorder wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import scenario_lib

from kgrca.config import load_config
from localdev import cluster
from localdev.cluster import control_plane
from localdev.cluster.recorder import Recorder

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="session")
def cfg():
    return load_config()


@pytest.fixture(scope="session")
def tools(cfg) -> scenario_lib.Tools:
    kubeconfig = cluster.ensure_up(cfg)
    return scenario_lib.Tools(cluster.helm_binary(cfg), cluster.kubectl_binary(cfg), kubeconfig,
                              helm_major=cfg.helm_major)


@pytest.fixture(scope="session")
def helm3_tools(cfg, tools) -> scenario_lib.Tools:
    """The same cluster and kubectl with Helm 3, for the Helm 3 entries of the matrix."""
    return scenario_lib.Tools(cluster.helm_binary(cfg, 3), tools.kubectl, tools.kubeconfig, helm_major=3)


def test_every_component_reports_healthy(tools, cfg):
    states = {s.name: s for s in cluster.status(cfg)}
    assert set(states) == {c.name for c in control_plane.COMPONENTS}
    unhealthy = {name: s.detail for name, s in states.items() if not s.healthy or not s.pid}
    assert not unhealthy


def test_cli_status_exits_zero_and_names_the_kubeconfig(tools):
    done = subprocess.run([sys.executable, "-m", "faces.cli", "cluster", "status", "--json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert Path(report["kubeconfig"]) == tools.kubeconfig
    assert all(c["healthy"] for c in report["components"])


def test_kwok_nodes_are_ready_and_report_their_capacity(tools):
    nodes = json.loads(subprocess.run([str(tools.kubectl), f"--kubeconfig={tools.kubeconfig}", "get", "nodes",
                                       "-o", "json"], capture_output=True, text=True, check=True).stdout)["items"]
    by_name = {n["metadata"]["name"]: n for n in nodes}
    for name in control_plane.NODES:
        conditions = {c["type"]: c["status"] for c in by_name[name]["status"]["conditions"]}
        assert conditions["Ready"] == "True"
        assert by_name[name]["status"]["allocatable"]["cpu"] == control_plane.NODE_CAPACITY["cpu"]


def test_ensure_up_again_keeps_the_running_processes(tools, cfg):
    before = {s.name: s.pid for s in cluster.status(cfg)}
    assert cluster.ensure_up(cfg, say=lambda _line: None) == tools.kubeconfig
    assert {s.name: s.pid for s in cluster.status(cfg)} == before


@pytest.mark.parametrize("name,major", [pytest.param(name, major, id=f"{name}-helm{major}")
                                        for name, major in scenario_lib.recordings()])
def test_scenario_reproduces_for_real(name, major, request, cfg, tmp_path):
    tools = request.getfixturevalue("helm3_tools" if major == 3 else "tools")
    scenario = scenario_lib.load(name)
    runner = scenario_lib.Runner(scenario, tools)
    runner.prepare()
    recording = tmp_path / f"{name}.jsonl"
    recorder = Recorder(cfg.replace(kubeconfig=str(tools.kubeconfig)), recording, [scenario.namespace]).start()
    try:
        runner.run()
        runner.check_expectations()
        recorder.settle(quiet=2.0, timeout=15.0)
    finally:
        recorder.stop()

    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    assert lines and all(line["type"] in {"ADDED", "MODIFIED", "DELETED"} for line in lines)
    seen = {(line["object"]["kind"], line["object"]["metadata"].get("namespace")) for line in lines}
    assert ("Namespace", None) in seen
    assert all("managedFields" not in line["object"]["metadata"] for line in lines)
    statuses = runner.release_statuses()
    if statuses:
        # Every release revision helm wrote reached kgrca's watcher as a Secret it can decode.
        recorded = {line["object"]["metadata"]["name"] for line in lines
                    if line["object"]["kind"] == "Secret" and "release" in line["object"].get("data", {})}
        assert {f"sh.helm.release.v1.{scenario.release}.v{rev}" for rev in statuses} <= recorded
        latest = max(statuses)
        assert runner.release_record(latest)["info"]["status"] == statuses[latest]
    for reason in scenario.expect.get("events") or []:
        assert any(line["object"]["kind"] == "Event" and line["object"].get("reason") == reason
                   for line in lines), f"the recorder saw no {reason} Event"


def test_template_error_leaves_no_trace_in_the_api(tools):
    """helm fails while rendering: the upgrade never reaches the API server, revision 1 stays deployed."""
    runner = scenario_lib.Runner(scenario_lib.load("template_error"), tools)
    runner.prepare()
    runner.run()
    assert runner.release_statuses() == {1: "deployed"}
    assert "execution error" in runner.results[-1].output


def test_kgrca_record_cli_writes_what_the_watcher_sees(tools, tmp_path):
    out = tmp_path / "smoke.jsonl"
    done = subprocess.run([sys.executable, "-m", "faces.cli", "record", "--out", str(out), "--kubeconfig",
                           str(tools.kubeconfig), "--namespace", control_plane.SMOKE_NAMESPACE, "--duration", "3s"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = {(line["object"]["kind"], line["object"]["metadata"]["name"]) for line in lines}
    assert ("Namespace", control_plane.SMOKE_NAMESPACE) in kinds
    assert {("Node", name) for name in control_plane.NODES} <= kinds
    # Only the asked namespace: the other scenarios' namespaces are not in this recording.
    assert {name for kind, name in kinds if kind == "Namespace"} == {control_plane.SMOKE_NAMESPACE}
    assert f"wrote {len(lines)} watch events" in done.stderr


def test_a_missing_kubeconfig_is_one_clear_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "faces.cli", "record", "--out", str(tmp_path / "x.jsonl"),
                           "--kubeconfig", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"kgrca: --kubeconfig {tmp_path / 'nope'}: no such file"]

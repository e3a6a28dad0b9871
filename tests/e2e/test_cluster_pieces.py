"""The local cluster's pieces that need no running cluster: build cache, pid files, ports, certificates."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import yaml

from kgrca.config import load_config
from kgrca.contracts import KgrcaError
from localdev.cluster import build, control_plane, processes, stages
from localdev.cluster.layout import Layout
from localdev.cluster.pki import ensure_pki


@pytest.fixture
def cfg(tmp_path):
    return load_config(environ={"KGRCA_CACHE_DIR": str(tmp_path / "cache"),
                                "KGRCA_DATA_DIR": str(tmp_path / "data")})


def test_cached_binaries_are_not_rebuilt(cfg, monkeypatch):
    for binary in build.BINARIES:
        path = build.binary_path(cfg, binary.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/true\n")
    # With everything cached, Go is never looked for: a machine without Go can still start the cluster.
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(build, "go_binary", lambda: pytest.fail("go was invoked for a cached build"))
    paths = build.ensure_built(cfg, say=lambda _line: None)
    assert set(paths) == {b.name for b in build.BINARIES}


def test_a_half_written_binary_counts_as_missing(cfg):
    target = build.binary_path(cfg, "kwok")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_name("kwok.part").write_text("interrupted")
    assert [b.name for b in build.missing(cfg, ("kwok",))] == ["kwok"]


def test_cache_folder_changes_with_the_pinned_versions(cfg):
    folder = build.binary_dir(cfg, "kube")
    assert folder.name.startswith(f"kube-{build.KUBERNETES_VERSION}-")
    assert folder.name.endswith(build.module_digest("kube"))


def test_helm_4_is_the_default_helm_and_helm_3_a_setting_away(cfg, tmp_path):
    from localdev import cluster

    for binary in build.BINARIES:
        path = build.binary_path(cfg, binary.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/true\n")
    helm4, helm3 = build.binary_path(cfg, "helm"), build.binary_path(cfg, "helm3")
    assert helm4.parent.name.startswith(f"helm4-{build.HELM_VERSION}-") and build.HELM_VERSION.startswith("v4.")
    assert helm3.parent.name.startswith(f"helm-{build.HELM3_VERSION}-") and build.HELM3_VERSION.startswith("v3.")
    assert helm4.name == helm3.name == "helm"  # both run as `helm`: what a tracer sees as comm
    assert cluster.helm_binary(cfg) == helm4
    assert cluster.helm_binary(cfg, 3) == helm3
    three = load_config(environ={"KGRCA_CACHE_DIR": str(tmp_path / "cache"), "KGRCA_HELM_MAJOR": "3"})
    assert cluster.helm_binary(three) == helm3
    with pytest.raises(KgrcaError, match="helm_major is one of 3, 4"):
        build.helm_name(2)


def test_a_stale_pid_file_never_names_another_program(tmp_path):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        pid_file = tmp_path / "etcd.pid"
        pid_file.write_text(f"{sleeper.pid}\n")
        assert processes.running_pid(pid_file, tmp_path / "etcd") is None
        assert processes.stop(pid_file, tmp_path / "etcd", "etcd") is False
        assert sleeper.poll() is None  # the unrelated process was left alone
        assert not pid_file.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_taken_port_is_one_clear_message(cfg, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        component = control_plane.Component("etcd", "etcd", port, "/health", "http", 5)
        with pytest.raises(KgrcaError, match=f"port {port} on 127.0.0.1 is taken by another program"):
            control_plane._start_component(Layout.of(cfg), component, tmp_path / "etcd", lambda _l: None)


def test_certificates_name_loopback_and_the_admin_group(tmp_path):
    pki = ensure_pki(tmp_path / "pki")
    text = subprocess.run(["openssl", "x509", "-in", str(pki / "apiserver.crt"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "IP Address:127.0.0.1" in text
    subject = subprocess.run(["openssl", "x509", "-in", str(pki / "admin.crt"), "-noout", "-subject"],
                             capture_output=True, text=True, check=True).stdout
    assert "system:masters" in subject
    assert oct((pki / "ca.key").stat().st_mode & 0o777) == "0o600"
    # A second call keeps the same CA: kubeconfigs handed out earlier stay valid.
    before = (pki / "ca.crt").read_bytes()
    assert ensure_pki(pki).joinpath("ca.crt").read_bytes() == before


def test_every_fault_has_stages_and_the_config_is_yaml(tmp_path):
    path = tmp_path / "kwok.yaml"
    assert stages.write_kwok_config(path) is True
    assert stages.write_kwok_config(path) is False  # unchanged: a running kwok is kept
    documents = list(yaml.safe_load_all(path.read_text()))
    names = {d["metadata"]["name"] for d in documents}
    assert len(names) == len(documents)
    for fault in stages.FAULTS:
        assert any(fault in name for name in names), fault
    assert {"node-initialize", "pod-create", "pod-ready", "pod-complete", "pod-delete"} <= names


def test_cli_status_of_a_stopped_cluster_exits_nonzero(tmp_path):
    env = {"KGRCA_CACHE_DIR": str(tmp_path / "cache"), "KGRCA_DATA_DIR": str(tmp_path / "data"),
           "PATH": "/usr/bin:/bin"}
    for binary in build.BINARIES:  # status needs no build; make sure it does not start one either
        cfg = load_config(environ=env)
        build.binary_path(cfg, binary.name).parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "faces.cli", "cluster", "status"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3
    assert "not running" in done.stdout

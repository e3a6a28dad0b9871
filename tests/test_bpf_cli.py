"""`kgrca trace` as a user runs it: real kernel, real processes, stdout and Neo4j sinks, and the
one-line answers where eBPF cannot run (not root, no tracefs, no headers, no BCC, switched off)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bpf.program import ProgramOptions, generate
from kgrca.contracts import Observation

pytestmark = pytest.mark.ebpf

if sys.platform != "linux":
    pytest.skip("eBPF exists only on Linux", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
KGRCA = [sys.executable, "-m", "faces.cli"]


FAKE_HELM_C = r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    const char *msg = "Error: UPGRADE FAILED: timed out waiting for the condition\n";
    if (write(2, msg, strlen(msg)) < 0) return 90;
    return atoi(getenv("FAKE_EXIT") ? getenv("FAKE_EXIT") : "0");
}
"""


def fake_helm(directory: Path) -> Path:
    """A C program named helm that writes helm's timeout message to stderr (fd 2, as Go's helm does;
    a shell's `echo >&2` would write fd 1 after dup2, which is not traced) and exits with FAKE_EXIT."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "fake_helm.c"
    source.write_text(FAKE_HELM_C)
    path = directory / "helm"
    subprocess.run(["cc", "-O1", "-o", str(path), str(source)], check=True)
    return path


def start_trace(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([*KGRCA, "trace", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})
    line = proc.stderr.readline()  # printed once the program is attached
    assert "tracing helm" in line, line + proc.stderr.read()
    return proc


def stop_trace(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out, err


def test_stdout_sink_prints_observation_lines(tmp_path):
    helm = fake_helm(tmp_path / "bin")
    trace = start_trace("--sink", "stdout")
    try:
        run = subprocess.run([str(helm), "upgrade", "api", "./chart", "-n", "prod", "--wait"], capture_output=True,
                             env={**os.environ, "FAKE_EXIT": "1"})
        assert run.returncode == 1
        time.sleep(0.5)
    finally:
        out, err = stop_trace(trace)
    observations = [Observation.from_json(json.loads(line)) for line in out.splitlines()]
    [op] = [o for o in observations if o.payload["argv"][1:3] == ["upgrade", "api"]]
    assert (op.kind, op.action, op.origin) == ("helm_process", "EXITED", "bpf")
    assert op.payload["binary"] == str(helm) and op.payload["namespace"] == "prod"
    assert op.payload["exit_code"] == 1 and op.payload["status"] == "failed"
    assert "timed out waiting for the condition" in op.payload["stderr"]
    assert "events lost" in err.splitlines()[-1] and " 0 events lost" in err


@pytest.mark.neo4j
def test_stdout_lines_load_with_kgrca_ingest(tmp_path, neo4j_config, neo4j_driver):
    helm = fake_helm(tmp_path / "bin")
    trace = start_trace("--sink", "stdout")
    try:
        subprocess.run([str(helm), "install", "shop", "./chart", "-n", "web"], env={**os.environ, "FAKE_EXIT": "1"})
        time.sleep(0.5)
    finally:
        out, _ = stop_trace(trace)
    lines = tmp_path / "trace.jsonl"
    lines.write_text(out)
    env = {**os.environ, "KGRCA_NEO4J_URI": neo4j_config.neo4j_uri, "KGRCA_NEO4J_USER": neo4j_config.neo4j_user,
           "KGRCA_NEO4J_PASSWORD": neo4j_config.neo4j_password}
    loaded = subprocess.run([*KGRCA, "ingest", "--quiet", str(lines)], cwd=ROOT, capture_output=True, text=True,
                            env=env)
    assert loaded.returncode == 0, loaded.stderr
    with neo4j_driver.session() as session:
        row = session.run("""MATCH (op:HelmOperation {binary: $binary})-[:TARGETS]->(r:Release)
                             RETURN op.status AS status, op.stderr AS stderr, r.key AS key""",
                          binary=str(helm)).single()
    assert (row["status"], row["key"]) == ("failed", "web/shop")
    assert "timed out waiting for the condition" in row["stderr"]


@pytest.mark.neo4j
def test_neo4j_sink_writes_the_operation(tmp_path, neo4j_config, neo4j_driver):
    helm = fake_helm(tmp_path / "bin")
    env = {"KGRCA_NEO4J_URI": neo4j_config.neo4j_uri, "KGRCA_NEO4J_USER": neo4j_config.neo4j_user,
           "KGRCA_NEO4J_PASSWORD": neo4j_config.neo4j_password}
    trace = start_trace("--sink", "neo4j", env=env)
    try:
        assert subprocess.run([str(helm), "rollback", "api", "6", "-n", "prod"]).returncode == 0
        time.sleep(0.5)
    finally:
        stop_trace(trace)
    with neo4j_driver.session() as session:
        row = session.run("""MATCH (op:HelmOperation {command: 'rollback'})-[:TARGETS]->(r:Release)
                             RETURN op.binary AS binary, op.status AS status, r.key AS key""").single()
    assert (row["binary"], row["status"], row["key"]) == (str(helm), "succeeded", "prod/api")


def test_hidden_ebpf_flag_prints_the_program_for_the_settings():
    out = subprocess.run([*KGRCA, "trace", "--ebpf"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "KGRCA_TRACK_KUBECTL": "false", "KGRCA_BUFFER_SIZE": "16"})
    assert out.returncode == 0
    pages = 1 << max(0, (16 * (os.cpu_count() or 1) - 1).bit_length())
    assert out.stdout.strip() == generate(ProgramOptions(names=("helm",), buffer_pages=pages)).strip()


@pytest.mark.kafka
def test_kafka_sink_publishes_to_the_processes_topic(tmp_path, kafka_config, kafka_topic_prefix):
    from confluent_kafka import Consumer

    from kgrca.bus import ensure_topics, topics_for
    from kgrca.bus.messages import decode

    cfg = kafka_config.replace(kafka_topic_prefix=kafka_topic_prefix)
    ensure_topics(cfg)
    helm = fake_helm(tmp_path / "bin")
    trace = start_trace("--sink", "kafka", env={"KGRCA_KAFKA_BOOTSTRAP": cfg.kafka_bootstrap,
                                                 "KGRCA_KAFKA_TOPIC_PREFIX": kafka_topic_prefix})
    try:
        assert subprocess.run([str(helm), "uninstall", "api", "-n", "prod"]).returncode == 0
        time.sleep(0.5)
    finally:
        stop_trace(trace)
    consumer = Consumer({"bootstrap.servers": cfg.kafka_bootstrap, "group.id": kafka_topic_prefix,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topics_for(cfg).processes])
    found = []
    deadline = time.monotonic() + 30
    try:
        while not found and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and not message.error():
                observation = decode(message.value())
                if observation.payload.get("binary") == str(helm):
                    found.append(observation)
    finally:
        consumer.close()
    [observation] = found
    assert (observation.kind, observation.action) == ("helm_process", "EXITED")
    assert (observation.payload["command"], observation.payload["release"]) == ("uninstall", "api")


# --- where eBPF cannot run: one line, exit 3 ------------------------------------------------------


def one_line_unavailable(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_not_root():
    code = ("import os, sys; from faces.cli import build_parser, main; build_parser(); "
            "os.setegid(65534); os.seteuid(65534); sys.exit(main(['trace', '--sink', 'stdout']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert one_line_unavailable(result) == "kgrca: eBPF tracing needs root: run 'sudo kgrca trace'"


def test_switched_off_in_settings():
    result = subprocess.run([*KGRCA, "trace", "--check"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "KGRCA_ENABLE_EBPF": "false"})
    # `kgrca trace` itself runs when asked; availability(cfg) tells other commands to stay Kubernetes-only.
    assert result.returncode == 0
    code = "import bpf; from kgrca.config import load_config; print(bpf.availability(load_config()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "KGRCA_ENABLE_EBPF": "false"})
    assert out.stdout.strip() == \
        "(False, 'eBPF tracing is off (enable_ebpf=false from KGRCA_ENABLE_EBPF)')"


def in_private_mounts(shell: str) -> subprocess.CompletedProcess:
    """Run ``shell`` then ``kgrca trace`` in a mount namespace of its own, so the machine is untouched."""
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed to hide tracefs or headers from one process")
    script = f"{shell} && exec {' '.join(KGRCA)} trace --sink stdout"
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], cwd=ROOT,
                          capture_output=True, text=True)


def test_no_tracefs():
    result = in_private_mounts("umount /sys/kernel/tracing")
    assert one_line_unavailable(result) == \
        "kgrca: tracefs is not mounted at /sys/kernel/tracing: run scripts/setup/30-ebpf.sh as root"


def test_no_kernel_headers():
    result = in_private_mounts("mount -t tmpfs none /lib/modules")
    line = one_line_unavailable(result)
    assert line.startswith("kgrca: no kernel headers at /lib/modules/") and "scripts/setup/30-ebpf.sh" in line


def test_no_bcc():
    """Without site-packages (python -S) the .pth that exposes Debian's bcc is not read."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import bpf; print(bpf.availability()[1])"
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == f"BCC is not importable from {sys.executable}: run scripts/setup/30-ebpf.sh as root"

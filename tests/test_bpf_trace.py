"""The real BPF program in the real kernel, following real helm and kubectl processes (root needed).

One tracer is loaded for the session and runs in a thread; each test starts processes and waits for
their records. Where a case needs an exact exit code, a handled SIGTERM or a SIGKILL, a small C
program copied to a file named ``helm`` stands in for helm (helm cannot be told to exit 3 or to
sleep); everything else runs the real helm (built by localdev.cluster) and the real kubectl.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import bpf
from bpf.program import ProgramOptions
from bpf.tracer import Tracer
from kgrca.config import load_config

pytestmark = pytest.mark.ebpf

if sys.platform != "linux":
    pytest.skip("eBPF exists only on Linux", allow_module_level=True)

STANDIN_C = r"""
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(143); }

int main(int argc, char **argv) {
    const char *v;
    (void)argc; (void)argv;
    if ((v = getenv("STANDIN_READ"))) {
        char buf[64];
        int fd = open(v, O_RDONLY);
        if (fd >= 0) { if (read(fd, buf, sizeof buf) < 0) return 90; close(fd); }
    }
    if ((v = getenv("STANDIN_MISSING"))) open(v, O_RDONLY);
    if ((v = getenv("STANDIN_WRITE"))) {
        int fd = open(v, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) { if (write(fd, "x", 1) < 0) return 91; close(fd); }
    }
    if ((v = getenv("STANDIN_CONNECT"))) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)atoi(v));
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        connect(s, (struct sockaddr *)&a, sizeof a);
        close(s);
    }
    if ((v = getenv("STANDIN_STDERR"))) { if (write(2, v, strlen(v)) < 0) return 92; }
    if ((v = getenv("STANDIN_CHILD"))) {
        pid_t p = fork();
        if (p == 0) {
            /* argv on the stack: a fork()ed child has not faulted in the parent's string literals,
             * and the kernel-side copy cannot fault them in (see bpf/program.py). */
            char path[256], a1[16], a2[16];
            snprintf(path, sizeof path, "%s", v);
            snprintf(a1, sizeof a1, "version");
            snprintf(a2, sizeof a2, "--short");
            unsetenv("STANDIN_CHILD");
            execl(path, path, a1, a2, (char *)0);
            _exit(127);
        }
        int status;
        waitpid(p, &status, 0);
    }
    if (getenv("STANDIN_TERM")) signal(SIGTERM, on_term);
    if (getenv("STANDIN_SLEEP")) {
        if (write(1, "ready\n", 6) < 0) return 93;
        sleep((unsigned)atoi(getenv("STANDIN_SLEEP")));
    }
    return (v = getenv("STANDIN_EXIT")) ? atoi(v) : 0;
}
"""

CHART_YAML = "apiVersion: v2\nname: shop\nversion: 1.4.2\nappVersion: \"2.0\"\n"
CM_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  namespace: {{ .Release.Namespace }}
data:
  tag: {{ required "image.tag is required" .Values.image.tag | quote }}
"""


class Collected:
    """Records from the session's tracer, by pid."""

    def __init__(self) -> None:
        self.by_pid: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.lock = threading.Lock()

    def add(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        with self.lock:
            for action, record in items:
                self.by_pid[record["pid"]].append((action, record))

    def wait(self, pid: int, action: str = "EXITED", timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for got_action, record in self.by_pid.get(pid, []):
                    if got_action == action:
                        return record
            time.sleep(0.05)
        raise AssertionError(f"no {action} record for pid {pid} within {timeout}s; have {dict(self.by_pid)}")

    def actions(self, pid: int) -> list[str]:
        with self.lock:
            return [action for action, _ in self.by_pid.get(pid, [])]


@pytest.fixture(scope="session")
def tracer():
    ok, why = bpf.availability()
    assert ok, f"eBPF tracing cannot run here: {why}"
    collected = Collected()
    tracer = Tracer(ProgramOptions(), running_after=1.0)
    tracer.start()
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            collected.add(tracer.poll(50))

    thread = threading.Thread(target=loop, name="tracer", daemon=True)
    thread.start()
    yield tracer, collected
    stop.set()
    thread.join(5)
    tracer.close()


@pytest.fixture
def records(tracer):
    return tracer[1]


@pytest.fixture(scope="session")
def standin_source(tmp_path_factory) -> Path:
    """The stand-in compiled once, statically so it opens no shared library."""
    work = tmp_path_factory.mktemp("standin")
    source = work / "standin.c"
    source.write_text(STANDIN_C)
    binary = work / "standin"
    subprocess.run(["cc", "-static", "-O1", "-o", str(binary), str(source)], check=True)
    return binary


def standin(source: Path, directory: Path, name: str = "helm") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    shutil.copy(source, target)
    return target


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    from localdev import cluster

    return cluster.helm_binary(load_config())


@pytest.fixture(scope="session")
def kubectl_bin() -> Path:
    found = shutil.which("kubectl")
    if found:
        return Path(found)
    from localdev import cluster

    return cluster.kubectl_binary(load_config())


@pytest.fixture
def chart(tmp_path) -> Path:
    root = tmp_path / "shop"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(CHART_YAML)
    (root / "values.yaml").write_text("image:\n  tag: \"\"\n")
    (root / "templates" / "configmap.yaml").write_text(CM_TEMPLATE)
    return root


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kubeconfig(path: Path, port: int) -> Path:
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
users:
- name: u
  user: {{token: not-a-real-token}}
contexts:
- name: ctx
  context: {{cluster: c, user: u}}
current-context: ctx
""")
    return path


def cgroup_id_of_self() -> int:
    """The cgroup v2 id bpf_get_current_cgroup_id() returns: the inode of our cgroup's directory."""
    line = next(line for line in Path("/proc/self/cgroup").read_text().splitlines() if line.startswith("0::"))
    return os.stat("/sys/fs/cgroup" + line.split("::", 1)[1]).st_ino


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
        ) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


def start(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def assert_iso_between(value: str, before: float, after: float) -> None:
    from kg_builder.times import parse_time

    moment = parse_time(value)
    assert moment is not None, value
    assert before - 0.01 <= moment.timestamp() <= after + 0.01, (value, before, after)


# --- the real helm --------------------------------------------------------------------------------


def test_helm_template_success_every_field(records, helm_bin, chart, tmp_path):
    values = tmp_path / "values-prod.yaml"
    values.write_text("image:\n  tag: \"2.0\"\n")
    before = time.time()
    proc = start([str(helm_bin), "template", "shop", "./shop", "-n", "prod", "-f", "values-prod.yaml",
                  "--set", "db.password=hunter2"], cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    after = time.time()
    assert proc.returncode == 0, err
    assert "tag: \"2.0\"" in out
    rec = records.wait(proc.pid)
    assert rec["operation_id"].startswith(f"helm-{proc.pid}-")
    assert int(rec["operation_id"].rsplit("-", 1)[1]) // 1000 in range(int(before) - 1, int(after) + 1)
    assert rec["tool"] == "helm" and rec["comm"] == "helm"
    assert rec["binary"] == str(helm_bin)
    assert rec["argv"] == [str(helm_bin), "template", "shop", "./shop", "-n", "prod", "-f", "values-prod.yaml",
                           "--set", "db.password=<redacted>"]
    assert (rec["argv_truncated"], rec["argv_source"]) == (False, "kernel")
    assert (rec["command"], rec["release"], rec["chart"], rec["namespace"]) == ("template", "shop", "./shop", "prod")
    assert rec["namespace_explicit"] is True
    assert rec["values_files"] == [str(values)]
    assert rec["set_values"] == ["db.password=<redacted>"]
    assert rec["cwd"] == str(tmp_path)
    assert str(values) in rec["files_read"]
    for part in ("Chart.yaml", "values.yaml", "templates/configmap.yaml"):
        assert str(chart / part) in rec["files_read"], part
    assert rec["api_endpoints"] == []
    assert rec["stderr"] == "" and rec["stderr_bytes"] == 0 and rec["stderr_truncated"] is False
    assert rec["status"] == "succeeded" and rec["exit_code"] == 0
    assert rec["signal"] is None and rec["signal_received"] is None
    assert rec["ppid"] == os.getpid() and rec["parent_operation_id"] is None
    assert rec["uid"] == os.getuid() and rec["gid"] == os.getgid() and rec["user"] == "root"
    assert rec["cgroup_id"] == cgroup_id_of_self()
    assert rec["host"] == socket.gethostname()
    assert_iso_between(rec["started_at"], before, after)
    assert_iso_between(rec["ended_at"], before, after)
    assert 0 <= rec["duration_seconds"] <= after - before + 0.01
    assert rec["children"] == []


def test_helm_template_error_quotes_helms_message_and_values_file(records, helm_bin, chart, tmp_path):
    values = tmp_path / "broken.yaml"
    values.write_text("image:\n  repository: shop\n")
    result = run([str(helm_bin), "template", "shop", str(chart), "--values", str(values)], cwd=tmp_path)
    assert result.returncode == 1
    rec = records.wait(_pid_of(records, str(helm_bin), "--values", str(values)))
    assert rec["status"] == "failed" and rec["exit_code"] == 1 and rec["signal"] is None
    assert "image.tag is required" in rec["stderr"]
    assert rec["stderr"].strip() == result.stderr.strip()
    assert rec["stderr_bytes"] == len(result.stderr.encode())
    assert rec["values_files"] == [str(values)] and str(values) in rec["files_read"]
    assert rec["namespace"] == "default" and rec["namespace_explicit"] is False


def test_helm_upgrade_contacting_an_unreachable_api_server(records, helm_bin, chart, tmp_path):
    port = closed_port()
    kc = kubeconfig(tmp_path / "kubeconfig", port)
    result = run([str(helm_bin), "upgrade", "--install", "shop", str(chart), "-n", "prod", "--kubeconfig", str(kc),
                  "--wait", "--atomic", "--timeout", "20s", "--set", "image.tag=2.0"], cwd=tmp_path)
    assert result.returncode == 1
    rec = records.wait(_pid_of(records, str(helm_bin), "--kubeconfig", str(kc)))
    assert (rec["command"], rec["release"], rec["chart"], rec["namespace"]) == ("upgrade", "shop", str(chart), "prod")
    assert (rec["wait"], rec["atomic"], rec["install"]) == (True, True, True)
    assert rec["timeout"] == "20s" and rec["timeout_seconds"] == 20.0
    assert f"127.0.0.1:{port}" in rec["api_endpoints"]
    assert str(kc) in rec["files_read"]
    assert "Kubernetes cluster unreachable" in rec["stderr"] or "connection refused" in rec["stderr"]
    assert rec["status"] == "failed" and rec["exit_code"] == 1


# --- the real kubectl ------------------------------------------------------------------------------


def test_kubectl_apply_every_field(records, kubectl_bin, tmp_path):
    port = closed_port()
    kc = kubeconfig(tmp_path / "kubeconfig", port)
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  a: b\n")
    before = time.time()
    proc = start([str(kubectl_bin), "--kubeconfig", str(kc), "-n", "prod", "apply", "-f", "cm.yaml",
                  "--request-timeout", "5s"], cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    after = time.time()
    assert proc.returncode == 1
    rec = records.wait(proc.pid)
    assert rec["operation_id"].startswith(f"kubectl-{proc.pid}-")
    assert rec["tool"] == "kubectl" and rec["comm"] == "kubectl"
    assert rec["argv"][1:] == ["--kubeconfig", str(kc), "-n", "prod", "apply", "-f", "cm.yaml",
                               "--request-timeout", "5s"]
    assert (rec["command"], rec["namespace"], rec["manifest_files"]) == ("apply", "prod", [str(manifest)])
    assert rec["release"] is None and rec["releases"] == []
    assert str(manifest) in rec["files_read"] and str(kc) in rec["files_read"]
    assert f"127.0.0.1:{port}" in rec["api_endpoints"]
    assert rec["stderr"].strip() and rec["stderr"].strip() in err.strip()
    assert rec["status"] == "failed" and rec["exit_code"] == 1 and rec["signal"] is None
    assert rec["ppid"] == os.getpid()
    assert rec["cgroup_id"] == cgroup_id_of_self()
    assert_iso_between(rec["started_at"], before, after)
    assert_iso_between(rec["ended_at"], before, after)


def test_kubectl_success(records, kubectl_bin, tmp_path):
    proc = start([str(kubectl_bin), "version", "--client"], cwd=tmp_path)
    proc.communicate(timeout=60)
    rec = records.wait(proc.pid)
    assert (rec["command"], rec["status"], rec["exit_code"]) == ("version", "succeeded", 0)


# --- stand-ins for exact endings -----------------------------------------------------------------


def test_exact_exit_code_files_connect_stderr_and_a_child(records, standin_source, tmp_path):
    helm = standin(standin_source, tmp_path / "bin")
    values = tmp_path / "values.yaml"
    values.write_text("a: 1\n")
    port = closed_port()
    proc = start([str(helm), "rollback", "shop", "6", "-n", "prod", "--wait"], cwd=tmp_path, env={
        "STANDIN_READ": str(values), "STANDIN_MISSING": str(tmp_path / "nope.yaml"),
        "STANDIN_WRITE": str(tmp_path / "out.txt"), "STANDIN_CONNECT": str(port),
        "STANDIN_STDERR": "Error: UPGRADE FAILED: another operation is in progress\n",
        "STANDIN_CHILD": "/bin/true", "STANDIN_EXIT": "3"})
    proc.communicate(timeout=30)
    assert proc.returncode == 3
    rec = records.wait(proc.pid)
    assert (rec["command"], rec["release"], rec["revision"], rec["namespace"]) == ("rollback", "shop", 6, "prod")
    assert rec["exit_code"] == 3 and rec["status"] == "failed" and rec["signal"] is None
    assert rec["files_read"] == [str(values)]
    assert rec["files_written"] == [str(tmp_path / "out.txt")]
    assert rec["files_failed"] == [{"path": str(tmp_path / "nope.yaml"), "error": "ENOENT"}]
    assert rec["api_endpoints"] == [f"127.0.0.1:{port}"]
    assert rec["stderr"] == "Error: UPGRADE FAILED: another operation is in progress\n"
    [child] = rec["children"]
    assert (child["binary"], child["argv"], child["exit_code"], child["signal"]) == \
        ("/bin/true", ["/bin/true", "version", "--short"], 0, None)
    assert child["pid"] != proc.pid and child["ended_at"] >= child["started_at"]
    assert records.actions(child["pid"]) == []  # a child that is not helm is no operation of its own


def test_sigkill_is_the_killing_signal(records, standin_source, tmp_path):
    helm = standin(standin_source, tmp_path / "bin")
    proc = start([str(helm), "upgrade", "shop", "./shop", "--wait", "--timeout", "10m"], cwd=tmp_path,
                 env={"STANDIN_SLEEP": "60"})
    assert proc.stdout.readline() == "ready\n"
    before = time.time()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    after = time.time()
    rec = records.wait(proc.pid)
    assert rec["status"] == "killed"
    assert rec["signal"] == "SIGKILL" and rec["signal_received"] == "SIGKILL"
    assert rec["exit_code"] is None
    assert rec["signal_from_pid"] == os.getpid()
    assert_iso_between(rec["signaled_at"], before, after)
    assert rec["ended_at"] >= rec["signaled_at"]


def test_handled_sigterm_is_received_not_killing(records, standin_source, tmp_path):
    helm = standin(standin_source, tmp_path / "bin")
    proc = start([str(helm), "install", "shop", "./shop"], cwd=tmp_path,
                 env={"STANDIN_SLEEP": "60", "STANDIN_TERM": "1"})
    assert proc.stdout.readline() == "ready\n"
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(10) == 143
    rec = records.wait(proc.pid)
    assert (rec["status"], rec["exit_code"], rec["signal"], rec["signal_received"]) == \
        ("failed", 143, None, "SIGTERM")


def test_a_long_operation_is_reported_running_first(records, standin_source, tmp_path):
    helm = standin(standin_source, tmp_path / "bin")
    proc = start([str(helm), "upgrade", "shop", "./shop"], cwd=tmp_path, env={"STANDIN_SLEEP": "2"})
    running = records.wait(proc.pid, "RUNNING", timeout=10)
    assert running["status"] == "running" and running["ended_at"] is None and running["exit_code"] is None
    proc.wait(10)
    done = records.wait(proc.pid)
    assert done["operation_id"] == running["operation_id"] and done["status"] == "succeeded"
    assert records.actions(proc.pid) == ["RUNNING", "EXITED"]


def test_helm_run_by_helm_is_a_child_operation(records, standin_source, tmp_path):
    inner = standin(standin_source, tmp_path / "plugin-bin")
    outer = standin(standin_source, tmp_path / "bin")
    proc = start([str(outer), "diff", "upgrade", "shop", "./shop"], cwd=tmp_path, env={"STANDIN_CHILD": str(inner)})
    proc.communicate(timeout=30)
    parent = records.wait(proc.pid)
    child_pid = next(pid for pid, items in list(records.by_pid.items())
                     if items and items[-1][1]["parent_operation_id"] == parent["operation_id"])
    child = records.wait(child_pid)
    assert child["binary"] == str(inner) and child["command"] == "version"
    assert child["ppid"] == proc.pid
    assert parent["children"] == []  # it is an operation of its own, not an anonymous child


def test_argv_past_the_kernel_limit_is_completed_from_proc(records, standin_source, tmp_path):
    helm = standin(standin_source, tmp_path / "bin")
    args = [f"--set=k{i}=v{i}" for i in range(100)]
    proc = start([str(helm), "upgrade", "shop", "./shop", *args], cwd=tmp_path, env={"STANDIN_SLEEP": "1"})
    proc.communicate(timeout=30)
    rec = records.wait(proc.pid)
    assert (rec["argv_truncated"], rec["argv_source"]) == (False, "proc")
    assert rec["argv"] == [str(helm), "upgrade", "shop", "./shop", *args]
    assert len(rec["set_values"]) == 100


def test_other_processes_are_not_recorded(records, standin_source, tmp_path):
    helmet = standin(standin_source, tmp_path / "bin", name="helmet")
    myhelm = standin(standin_source, tmp_path / "bin", name="myhelm")
    pids = []
    for argv in ([str(helmet), "upgrade", "x", "y"], [str(myhelm), "install", "x", "y"], ["/bin/true"],
                 ["sh", "-c", "exit 4"]):
        proc = start(argv, cwd=tmp_path, env={"STANDIN_EXIT": "2"})
        proc.communicate(timeout=30)
        pids.append(proc.pid)
    # A helm run afterwards shows the tracer was listening the whole time.
    marker = start([str(standin(standin_source, tmp_path / "bin2"))], cwd=tmp_path)
    marker.communicate(timeout=30)
    records.wait(marker.pid)
    for pid in pids:
        assert records.actions(pid) == [], pid


def test_no_event_was_lost(tracer):
    assert tracer[0].lost == 0


def _pid_of(records: Collected, *needles: str, timeout: float = 15.0) -> int:
    """The pid of the record whose argv holds every needle (for processes run to completion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with records.lock:
            for pid, items in records.by_pid.items():
                if any(all(n in record["argv"] for n in needles) for _, record in items):
                    return pid
        time.sleep(0.05)
    raise AssertionError(f"no record with argv holding {needles}")

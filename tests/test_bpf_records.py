"""Folding decoded events into process records, without root: the rules the kernel tests cannot
pin down exactly (timing of RUNNING, stderr excerpts, caps, container ids)."""

from __future__ import annotations

import pytest

from bpf import records as r
from bpf.records import RecordAssembler

SEC = 1_000_000_000
OFFSET = 1_795_000_000 * SEC  # monotonic 0 == 2026-11-18T...Z


def no_proc(pid: int, fields: frozenset[str]) -> dict:
    return {"cwd": "/work", "cgroup": "/kubepods.slice/cri-containerd-" + "ab" * 32 + ".scope"}


def assembler(**kw) -> RecordAssembler:
    return RecordAssembler(clock_offset_ns=OFFSET, proc_reader=no_proc, host="node-1", **kw)


def exec_event(pid, argv, ts=1 * SEC, ppid=1, is_op=True, comm=None, truncated=False):
    return {"type": "exec", "pid": pid, "tid": pid, "ts": ts, "ppid": ppid, "uid": 0, "gid": 0, "is_op": is_op,
            "cgroup_id": 77, "comm": comm or argv[0].rsplit("/", 1)[-1], "filename": argv[0], "argv": argv,
            "argv_truncated": truncated}


def exit_event(pid, ts, code=0, exited=True, sig=None, sig_from=None, sig_ts=None, stderr_bytes=0):
    return {"type": "exit", "pid": pid, "tid": pid, "ts": ts, "exited": exited, "exit_code": code if exited else None,
            "signal": sig, "signal_from": sig_from, "signal_ts": sig_ts, "stderr_bytes": stderr_bytes}


def stderr_event(pid, data, ts=2 * SEC):
    return {"type": "stderr", "pid": pid, "tid": pid, "ts": ts, "data": data, "count": len(data)}


def test_operation_id_times_and_parsed_command():
    a = assembler()
    assert a.feed(exec_event(10, ["/usr/local/bin/helm", "upgrade", "api", "./c", "-f", "v.yaml"])) == []
    [(action, rec)] = a.feed(exit_event(10, 3 * SEC + 500_000_000, code=1))
    assert action == "EXITED"
    assert rec["operation_id"] == f"helm-10-{(OFFSET + SEC) // 1_000_000}"
    assert rec["started_at"] == r.iso_from_ns(OFFSET + SEC)
    assert rec["ended_at"] == r.iso_from_ns(OFFSET + 3 * SEC + 500_000_000)
    assert rec["duration_seconds"] == 2.5
    assert rec["values_files"] == ["/work/v.yaml"]  # resolved against the cwd read at exec
    assert (rec["status"], rec["exit_code"]) == ("failed", 1)
    assert rec["container_id"] == "ab" * 32 and rec["host"] == "node-1"


def test_running_once_after_the_threshold_then_exited():
    a = assembler(running_after=2.0)
    a.feed(exec_event(10, ["helm", "upgrade", "api", "./c", "--wait"]))
    assert a.due_running(now_ns=2 * SEC) == []
    [(action, running)] = a.due_running(now_ns=3 * SEC)
    assert action == "RUNNING" and running["status"] == "running" and running["ended_at"] is None
    assert a.due_running(now_ns=9 * SEC) == []
    [(action, done)] = a.feed(exit_event(10, 10 * SEC))
    assert action == "EXITED" and done["operation_id"] == running["operation_id"]
    assert a.open_operations == 0


def test_killed_without_a_seen_signal_is_still_killed():
    a = assembler()
    a.feed(exec_event(10, ["helm", "upgrade", "api", "./c"]))
    [(_, rec)] = a.feed(exit_event(10, 2 * SEC, exited=False))
    assert (rec["status"], rec["exit_code"], rec["signal"]) == ("killed", None, None)


def test_stderr_keeps_head_and_tail_when_long():
    a = assembler()
    a.feed(exec_event(10, ["helm", "template", "x", "./c"]))
    a.feed(stderr_event(10, b"W" * 2000))
    a.feed(stderr_event(10, b"M" * 5000))
    a.feed(stderr_event(10, b"Error: execution error at (c/templates/cm.yaml:7:8): tag is required\n"))
    [(_, rec)] = a.feed(exit_event(10, 2 * SEC, code=1, stderr_bytes=7069))
    assert rec["stderr"].startswith("W" * r.STDERR_HEAD)
    assert rec["stderr"].endswith("tag is required\n") and "\n...\n" in rec["stderr"]
    assert rec["stderr_truncated"] is True and rec["stderr_bytes"] == 7069


def test_stderr_beyond_the_kernel_budget_counts_as_truncated():
    a = assembler()
    a.feed(exec_event(10, ["helm", "list"]))
    a.feed(stderr_event(10, b"short\n"))
    [(_, rec)] = a.feed(exit_event(10, 2 * SEC, stderr_bytes=100_000))
    assert rec["stderr"] == "short\n" and rec["stderr_truncated"] is True and rec["stderr_bytes"] == 100_000


def test_grandchildren_belong_to_the_operation_and_helm_under_helm_is_its_own():
    a = assembler()
    a.feed(exec_event(10, ["helm", "upgrade", "api", "./c", "--post-renderer", "./render.sh"]))
    a.feed(exec_event(11, ["/bin/sh", "./render.sh"], ppid=10, is_op=False))
    a.feed(exec_event(12, ["/usr/bin/kustomize", "build"], ppid=11, is_op=False))
    a.feed(exec_event(13, ["/usr/bin/helm", "get", "values", "api"], ppid=11))
    [(_, inner)] = a.feed(exit_event(13, 2 * SEC))
    assert a.feed(exit_event(12, 2 * SEC, code=1)) == []
    assert a.feed(exit_event(11, 2 * SEC, code=1)) == []
    [(_, outer)] = a.feed(exit_event(10, 3 * SEC, code=1))
    assert inner["parent_operation_id"] == outer["operation_id"]
    assert [(c["pid"], c["argv"], c["exit_code"]) for c in outer["children"]] == \
        [(11, ["/bin/sh", "./render.sh"], 1), (12, ["/usr/bin/kustomize", "build"], 1)]


def test_files_are_deduplicated_capped_and_pseudo_files_dropped():
    a = assembler()
    a.feed(exec_event(10, ["helm", "template", "x", "./c"]))
    for i in range(r.MAX_FILES + 5):
        path = f"c/templates/t{i}.yaml"
        a.feed({"type": "open", "pid": 10, "tid": 10, "ts": SEC, "ret": 3, "flags": 0, "path": path})
    a.feed({"type": "open", "pid": 10, "tid": 10, "ts": SEC, "ret": 3, "flags": 0, "path": "c/templates/t0.yaml"})
    a.feed({"type": "open", "pid": 10, "tid": 10, "ts": SEC, "ret": 3, "flags": 0, "path": "/proc/self/maps"})
    a.feed({"type": "open", "pid": 10, "tid": 10, "ts": SEC, "ret": -13, "flags": 0, "path": "/etc/secret"})
    a.feed({"type": "open", "pid": 10, "tid": 10, "ts": SEC, "ret": 4, "flags": 0o1101, "path": "/tmp/out"})
    [(_, rec)] = a.feed(exit_event(10, 2 * SEC))
    assert len(rec["files_read"]) == r.MAX_FILES and rec["files_dropped"] == 5
    assert rec["files_read"][0] == "/work/c/templates/t0.yaml"
    assert rec["files_failed"] == [{"path": "/etc/secret", "error": "EACCES"}]
    assert rec["files_written"] == ["/tmp/out"]


def test_endpoints_skip_dns_and_format_ipv6_and_unix():
    a = assembler()
    a.feed(exec_event(10, ["kubectl", "get", "pods"]))
    for family, address, port in ((2, "10.0.0.2", 53), (2, "10.96.0.1", 443), (10, "fd00::1", 6443),
                                  (1, "/run/proxy.sock", 0), (2, "10.96.0.1", 443)):
        a.feed({"type": "connect", "pid": 10, "tid": 10, "ts": SEC, "family": family, "address": address, "port": port})
    [(_, rec)] = a.feed(exit_event(10, 2 * SEC))
    assert rec["api_endpoints"] == ["10.96.0.1:443", "[fd00::1]:6443", "unix:/run/proxy.sock"]
    assert rec["tool"] == "kubectl" and rec["operation_id"].startswith("kubectl-10-")


def test_incomplete_kernel_argv_is_completed_from_proc_when_it_agrees():
    full = ["helm", "upgrade", "api", "./c", *[f"--set=k{i}=v" for i in range(80)]]
    a = RecordAssembler(clock_offset_ns=OFFSET, proc_reader=lambda pid, fields: {"cmdline": full})
    a.feed(exec_event(10, full[:64], truncated=True))
    [(_, rec)] = a.feed(exit_event(10, 2 * SEC))
    assert (rec["argv"], rec["argv_truncated"], rec["argv_source"]) == (full, False, "proc")
    other = RecordAssembler(clock_offset_ns=OFFSET, proc_reader=lambda pid, fields: {"cmdline": ["sleep", "9"]})
    other.feed(exec_event(10, full[:64], truncated=True))
    [(_, rec)] = other.feed(exit_event(10, 2 * SEC))
    assert (rec["argv"], rec["argv_truncated"], rec["argv_source"]) == (full[:64], True, "kernel")


def test_still_running_at_stop():
    a = assembler()
    a.feed(exec_event(10, ["helm", "upgrade", "api", "./c"]))
    assert [action for action, _ in a.still_running()] == ["RUNNING"]


@pytest.mark.parametrize("path, expected", [
    ("/system.slice/docker-" + "1f" * 32 + ".scope", "1f" * 32),
    ("/kubepods/burstable/pod1234/" + "0a" * 32, "0a" * 32),
    ("/user.slice/user-0.slice/session-3.scope", None),
    ("/", None),
    (None, None),
])
def test_container_id(path, expected):
    assert r.container_id(path) == expected


def test_signal_names():
    assert (r.signal_name(9), r.signal_name(15), r.signal_name(None), r.signal_name(0)) == \
        ("SIGKILL", "SIGTERM", None, None)

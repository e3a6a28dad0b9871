"""Process records: the events of one helm or kubectl process folded into one JSON-able dict.

Pure Python, testable without root: ``RecordAssembler.feed`` takes decoded events (bpf/events.py)
and returns ``(action, record)`` pairs, action ``"EXITED"`` when the process ended or ``"RUNNING"``
for one still alive after ``running_after`` seconds (a hung ``helm upgrade --wait`` is in the graph
before it ends). A record (``schema`` 1) holds:

* identity: ``operation_id`` (``helm-<pid>-<start ms since the epoch>``), ``tool``, ``pid``, ``ppid``,
  ``parent_operation_id`` (a helm run by a followed helm or kubectl), ``host``;
* what ran: ``binary``, ``comm``, ``argv`` (secrets redacted), ``argv_truncated``, ``argv_source``
  (``kernel``, or ``proc`` when the kernel's copy was incomplete), ``cwd``, and the
  parsed command line (kgrca/commandline.py): ``command``, ``subcommand``, ``release``, ``releases``,
  ``chart``, ``revision``, ``namespace``, ``namespace_explicit``, ``kube_context``, ``timeout``,
  ``timeout_seconds``, ``wait``, ``wait_for_jobs``, ``atomic``, ``install``, ``dry_run``,
  ``values_files``, ``set_values``, ``set_files``, ``manifest_files``, ``resources``, ``flags``;
* what it did: ``files_read``, ``files_written``, ``files_failed`` (``{path, error}``),
  ``api_endpoints`` (``host:port``), ``stderr`` (excerpt), ``stderr_bytes``, ``stderr_truncated``,
  ``children`` (processes it ran that are not helm or kubectl: ``{pid, binary, argv, started_at,
  ended_at, exit_code, signal}``);
* how it ended: ``status`` (running, succeeded, failed, killed), ``started_at``, ``ended_at``,
  ``duration_seconds``, ``exit_code``, ``signal`` (the signal that killed it, e.g. ``SIGKILL``),
  ``signal_received`` (the last fatal-by-default signal sent to it, handled or not),
  ``signal_from_pid``, ``signaled_at``;
* who: ``uid``, ``user``, ``gid``, ``cgroup_id``, ``cgroup``, ``container_id``.

Times are UTC ISO 8601 with milliseconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import functools
import os
import pwd
import re
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from kgrca.commandline import parse_command, redact_argv

SCHEMA = 1
MAX_FILES = 256            # per list; a chart with thousands of templates keeps the first ones
MAX_CHILDREN = 64
STDERR_HEAD = 1024         # bytes of stderr kept from the start (warnings, the first error) ...
STDERR_TAIL = 3072         # ... and from the end (helm's final "Error: ..." line)
PSEUDO_FS = ("/proc/", "/sys/", "/dev/")
O_ACCMODE, O_RDONLY = 0o3, 0

_CONTAINER_ID = re.compile(r"(?:docker-|cri-containerd-|crio-|libpod-|containerd-)?([0-9a-f]{64})(?:\.scope)?$")


def iso_from_ns(epoch_ns: int) -> str:
    moment = dt.datetime.fromtimestamp(epoch_ns / 1e9, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signal_name(number: int | None) -> str | None:
    if not number:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


def container_id(cgroup_path: str | None) -> str | None:
    """The container id in a cgroup path (docker, containerd, CRI-O, podman, kubepods), else None."""
    if not cgroup_path:
        return None
    for part in reversed(cgroup_path.strip("/").split("/")):
        match = _CONTAINER_ID.search(part)
        if match:
            return match.group(1)
    return None


def read_proc(pid: int, fields: frozenset[str] = frozenset({"cwd", "cmdline", "cgroup"})) -> dict[str, Any]:
    """What /proc still tells of a live process (``cwd``, ``cmdline``, ``cgroup`` path), as asked in
    ``fields``. Whatever cannot be read (the process is gone) is left out."""
    info: dict[str, Any] = {}
    if "cwd" in fields:
        try:
            info["cwd"] = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            pass
    if "cmdline" in fields:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                raw = handle.read()
            if raw:
                info["cmdline"] = [part.decode("utf-8", "replace") for part in raw.rstrip(b"\0").split(b"\0")]
        except OSError:
            pass
    if "cgroup" in fields:
        try:
            with open(f"/proc/{pid}/cgroup", encoding="utf-8") as handle:
                lines = handle.read().splitlines()
            # cgroup v2 is the "0::<path>" line; v1 hierarchies come first otherwise.
            paths = [line.split(":", 2)[2] for line in lines if line.count(":") >= 2]
            unified = [line.split(":", 2)[2] for line in lines if line.startswith("0::")]
            info["cgroup"] = (unified or paths or [None])[0]
        except OSError:
            pass
    return info


@functools.lru_cache(maxsize=256)
def user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


@dataclasses.dataclass
class _Child:
    pid: int
    binary: str
    argv: list[str]
    started_at: str
    ended_at: str | None = None
    exit_code: int | None = None
    signal: str | None = None


@dataclasses.dataclass
class _Operation:
    record: dict[str, Any]
    start_ns: int
    files_read: dict[str, None] = dataclasses.field(default_factory=dict)
    files_written: dict[str, None] = dataclasses.field(default_factory=dict)
    files_failed: dict[str, str] = dataclasses.field(default_factory=dict)
    endpoints: dict[str, None] = dataclasses.field(default_factory=dict)
    stderr_head: bytearray = dataclasses.field(default_factory=bytearray)
    stderr_tail: bytearray = dataclasses.field(default_factory=bytearray)
    stderr_seen: int = 0
    files_dropped: int = 0
    children: dict[int, _Child] = dataclasses.field(default_factory=dict)
    running_sent: bool = False


class RecordAssembler:
    """Folds events into records, one per helm or kubectl process.

    ``clock_offset_ns`` turns the kernel's CLOCK_MONOTONIC into epoch time; ``proc_reader`` reads
    what /proc knows of a pid at its exec (see ``read_proc``).
    """

    def __init__(self, clock_offset_ns: int | None = None, running_after: float = 2.0,
                 proc_reader: Callable[[int, frozenset[str]], dict[str, Any]] = read_proc,
                 host: str | None = None):
        self._offset = time.time_ns() - time.monotonic_ns() if clock_offset_ns is None else clock_offset_ns
        self._running_after_ns = int(running_after * 1e9)
        self._proc_reader = proc_reader
        self._host = host or socket.gethostname()
        self._ops: dict[int, _Operation] = {}
        self._owner: dict[int, int] = {}        # child pid -> pid of the operation it belongs to
        self._cgroups: dict[int, str | None] = {}  # cgroup id -> path: read once per cgroup

    def _iso(self, ts: int) -> str:
        return iso_from_ns(ts + self._offset)

    @property
    def open_operations(self) -> int:
        return len(self._ops)

    def feed(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        kind = event["type"]
        pid = event["pid"]
        if kind == "exec":
            return self._exec(event)
        if kind == "exit":
            return self._exit(event)
        op = self._ops.get(pid)
        if op is None:
            return []
        if kind == "open":
            self._open(op, event)
        elif kind == "connect":
            self._connect(op, event)
        elif kind == "stderr":
            self._stderr(op, event["data"])
        return []

    def due_running(self, now_ns: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        """RUNNING records for processes alive for ``running_after`` and not reported yet."""
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        out = []
        for op in self._ops.values():
            if not op.running_sent and now_ns - op.start_ns >= self._running_after_ns:
                op.running_sent = True
                out.append(("RUNNING", self._snapshot(op)))
        return out

    def still_running(self) -> list[tuple[str, dict[str, Any]]]:
        """RUNNING records of every process not ended yet (when the tracer stops)."""
        return [("RUNNING", self._snapshot(op)) for op in self._ops.values()]

    # --- events ---------------------------------------------------------------------------------

    def _operation_of(self, pid: int) -> int | None:
        seen = 0
        while pid not in self._ops and pid in self._owner and seen < 64:
            pid = self._owner[pid]
            seen += 1
        return pid if pid in self._ops else None

    def _exec(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        pid = event["pid"]
        out: list[tuple[str, dict[str, Any]]] = []
        if pid in self._ops:  # helm exec'd something else in place: the old one ended there
            out.extend(self._finish(pid, event["ts"], None))
        tool = os.path.basename(event["filename"]) or event["comm"]
        if not event["is_op"]:
            owner = self._operation_of(event["ppid"])
            if owner is not None:
                self._owner[pid] = owner
                op = self._ops[owner]
                if len(op.children) < MAX_CHILDREN:
                    proc = self._proc_reader(pid, frozenset({"cmdline"})) if event["argv_truncated"] else {}
                    argv, _, _ = self._argv(event, proc)
                    op.children[pid] = _Child(pid, event["filename"], redact_argv(tool, argv),
                                              self._iso(event["ts"]))
            return out
        tool = "kubectl" if event["comm"].startswith("kubectl") else (
            "helm" if event["comm"].startswith("helm") else event["comm"])
        start_epoch_ns = event["ts"] + self._offset
        fields = {"cwd"}
        if event["argv_truncated"]:
            fields.add("cmdline")
        if event["cgroup_id"] not in self._cgroups:
            fields.add("cgroup")
        proc = self._proc_reader(pid, frozenset(fields))
        if "cgroup" in fields and "cgroup" in proc:
            self._cgroups[event["cgroup_id"]] = proc["cgroup"]
        cgroup = self._cgroups.get(event["cgroup_id"])
        parent_op = self._operation_of(event["ppid"])
        argv, truncated, source = self._argv(event, proc)
        parsed = parse_command(tool, argv)
        cwd = proc.get("cwd")
        record: dict[str, Any] = {
            "schema": SCHEMA,
            "operation_id": f"{tool}-{pid}-{start_epoch_ns // 1_000_000}",
            "tool": tool,
            "host": self._host,
            "pid": pid,
            "ppid": event["ppid"] or None,
            "parent_operation_id": self._ops[parent_op].record["operation_id"] if parent_op else None,
            "binary": event["filename"],
            "comm": event["comm"],
            "argv": redact_argv(tool, argv),
            "argv_truncated": truncated,
            "argv_source": source,
            "cwd": cwd,
            **parsed,
            "values_files": [_absolute(path, cwd) for path in parsed["values_files"]],
            "manifest_files": [_absolute(path, cwd) if path != "-" else path
                               for path in parsed["manifest_files"]],
            "uid": event["uid"],
            "user": user_name(event["uid"]),
            "gid": event["gid"],
            "cgroup_id": event["cgroup_id"],
            "cgroup": cgroup,
            "container_id": container_id(cgroup),
            "started_at": iso_from_ns(start_epoch_ns),
            "status": "running",
        }
        if parent_op is not None:
            self._owner[pid] = parent_op
        self._ops[pid] = _Operation(record, event["ts"])
        return out

    @staticmethod
    def _argv(event: dict[str, Any], proc: dict[str, Any]) -> tuple[list[str], bool, str]:
        """argv, whether it is incomplete, and where it came from. The kernel's copy is cut at its
        limits or where a page was not resident; /proc's cmdline, read while the process still
        runs, is whole, so it is taken when the kernel's copy is incomplete."""
        argv = event["argv"]
        cmdline = proc.get("cmdline")
        if event["argv_truncated"] and cmdline and cmdline[:len(argv)] == argv[:len(cmdline)]:
            return cmdline, False, "proc"
        return argv or [event["filename"]], event["argv_truncated"], "kernel"

    def _open(self, op: _Operation, event: dict[str, Any]) -> None:
        path = _absolute(event["path"], op.record["cwd"])
        if path.startswith(PSEUDO_FS):
            return
        if event["ret"] < 0:
            target, value = op.files_failed, errno.errorcode.get(-event["ret"], str(-event["ret"]))
        elif event["flags"] & O_ACCMODE == O_RDONLY:
            if os.path.isdir(path):  # a chart or PATH directory being listed, not a file read
                return
            target, value = op.files_read, None
        else:
            target, value = op.files_written, None
        if path in target:
            return
        if len(target) >= MAX_FILES:
            op.files_dropped += 1
            return
        target[path] = value  # type: ignore[assignment]

    def _connect(self, op: _Operation, event: dict[str, Any]) -> None:
        if event["family"] == 1:
            endpoint = f"unix:{event['address']}"
        elif event["port"] == 53:  # name lookups, not an API server
            return
        elif ":" in event["address"]:
            endpoint = f"[{event['address']}]:{event['port']}"
        else:
            endpoint = f"{event['address']}:{event['port']}"
        if len(op.endpoints) < MAX_FILES:
            op.endpoints.setdefault(endpoint, None)

    def _stderr(self, op: _Operation, data: bytes) -> None:
        op.stderr_seen += len(data)
        room = STDERR_HEAD - len(op.stderr_head)
        if room > 0:
            op.stderr_head += data[:room]
            data = data[room:]
        if data:
            op.stderr_tail += data
            del op.stderr_tail[:-STDERR_TAIL]

    def _exit(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        pid = event["pid"]
        if pid in self._ops:
            return self._finish(pid, event["ts"], event)
        owner = self._owner.pop(pid, None)
        if owner is not None and owner in self._ops:
            child = self._ops[owner].children.get(pid)
            if child is not None:
                child.ended_at = self._iso(event["ts"])
                child.exit_code = event["exit_code"]
                child.signal = None if event["exited"] else signal_name(event["signal"])
        return []

    def _finish(self, pid: int, ts: int, event: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
        op = self._ops.pop(pid)
        self._owner.pop(pid, None)
        for child_pid in op.children:
            self._owner.pop(child_pid, None)
        record = self._snapshot(op)
        end_ns = ts + self._offset
        record["ended_at"] = iso_from_ns(end_ns)
        record["duration_seconds"] = round((ts - op.start_ns) / 1e9, 3)
        if event is None:
            record["status"] = "replaced"
            return [("EXITED", record)]
        exited = event["exited"]
        record["exit_code"] = event["exit_code"] if exited else None
        record["signal"] = None if exited else signal_name(event["signal"])
        record["signal_received"] = signal_name(event["signal"])
        record["signal_from_pid"] = event["signal_from"]
        record["signaled_at"] = self._iso(event["signal_ts"]) if event["signal_ts"] else None
        record["stderr_bytes"] = max(event["stderr_bytes"], record["stderr_bytes"])
        record["stderr_truncated"] = record["stderr_truncated"] or event["stderr_bytes"] > op.stderr_seen
        if not exited:
            record["status"] = "killed"
        else:
            record["status"] = "succeeded" if event["exit_code"] == 0 else "failed"
        return [("EXITED", record)]

    def _snapshot(self, op: _Operation) -> dict[str, Any]:
        record = dict(op.record)
        dropped = op.stderr_seen > len(op.stderr_head) + len(op.stderr_tail)
        text = op.stderr_head.decode("utf-8", "replace")
        if op.stderr_tail:
            text += ("\n...\n" if dropped else "") + op.stderr_tail.decode("utf-8", "replace")
        record.update(
            files_read=list(op.files_read), files_written=list(op.files_written),
            files_failed=[{"path": path, "error": error} for path, error in op.files_failed.items()],
            files_dropped=op.files_dropped,
            api_endpoints=list(op.endpoints),
            stderr=text, stderr_bytes=op.stderr_seen, stderr_truncated=dropped,
            children=[dataclasses.asdict(child) for child in op.children.values()],
            ended_at=None, duration_seconds=None, exit_code=None, signal=None, signal_received=None,
            signal_from_pid=None, signaled_at=None,
        )
        return record


def _absolute(path: str, cwd: str | None) -> str:
    if not path or os.path.isabs(path) or not cwd:
        return path
    return os.path.normpath(os.path.join(cwd, path))

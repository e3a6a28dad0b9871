"""Start, find and stop the cluster's background processes through pid files.

A pid file alone is not trusted: a pid is taken as ours only while ``/proc/<pid>/exe`` is still the binary
we started, so a stale file left by a crash never makes us signal an unrelated process that reused it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from kgrca.contracts import KgrcaError


def _exe_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def running_pid(pid_file: Path, binary: Path) -> int | None:
    """The pid in ``pid_file`` if that process is alive and is ``binary``; else None."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    exe = _exe_of(pid)
    if exe is None:
        return None
    # A rebuilt binary replaced on disk shows as "<path> (deleted)": still the process we started.
    if exe.removesuffix(" (deleted)") != str(binary.resolve()):
        return None
    return pid


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def start(argv: Sequence[str], pid_file: Path, log_file: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` detached from this process (its own session), output appended to ``log_file``."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=env, close_fds=True)
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def exited_early(pid: int) -> bool:
    """True when a process we started has already exited (reaping it if it is our child)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return True
    except ChildProcessError:
        pass
    return _exe_of(pid) is None or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def stop(pid_file: Path, binary: Path, name: str, grace: float = 15.0) -> bool:
    """SIGTERM the process named by ``pid_file``, SIGKILL it after ``grace`` seconds; remove the file.

    Returns True when a running process was stopped.
    """
    pid = running_pid(pid_file, binary)
    pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if exited_early(pid):
            return True
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    for _ in range(50):
        if exited_early(pid):
            return True
        time.sleep(0.1)
    raise KgrcaError(f"{name} (pid {pid}) did not stop after SIGKILL; check `ps -p {pid}`")

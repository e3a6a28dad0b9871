"""Running a server JVM detached from the terminal: its own session, a pid file, a log file, and a
stop that asks first (SIGTERM) and insists later (SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# Servers started by this Python process: polling them reaps an exited JVM, which would otherwise
# stay a zombie (and look alive to kill(pid, 0)) for as long as we run, e.g. a whole pytest session.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def start(command: Sequence[str], log: Path, cwd: Path, pid_file: Path,
          env: dict[str, str] | None = None) -> int:
    """Start ``command`` in a new session with stdout and stderr appended to ``log``; return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n===== started by kgrca at {time.strftime('%Y-%m-%d %H:%M:%S %z')} =====\n"
                  .encode())
        out.flush()
        child = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True)
    _CHILDREN[child.pid] = child
    pid_file.write_text(f"{child.pid}\n")
    return child.pid


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in ``pid_file`` if that process is alive and its command line contains ``marker``.

    The marker (a path only this server's command line holds) guards against a reused pid.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if is_alive(pid) and marker in _cmdline(pid) else None


def is_alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def exit_code(pid: int) -> int | None:
    child = _CHILDREN.get(pid)
    return child.poll() if child is not None else None


def stop(pid: int, grace: float) -> bool:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL. True when it stopped on SIGTERM."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    while is_alive(pid):
        time.sleep(0.1)
    return False


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def tail(log: Path, lines: int = 200) -> list[str]:
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            return handle.read().decode(errors="replace").splitlines()[-lines:]
    except OSError:
        return []

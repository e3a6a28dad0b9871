"""Is a loopback port free, and if not, which process holds it."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from kgrca.config import Config
from kgrca.contracts import KgrcaError

_LISTEN = "0A"  # TCP state code of a listening socket in /proc/net/tcp


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``host:port`` now (a wildcard listener also blocks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR, as the JVM sets it: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def owner(port: int) -> str | None:
    """'pid 1234 (java ... CommunityEntryPoint)' for the process listening on ``port``, if findable."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return f"pid {proc.name} ({describe(int(proc.name))})"
        except OSError:  # the process ended, or its fds are not ours to read
            continue
    return None


def describe(pid: int, width: int = 80) -> str:
    """A short command line of ``pid``: the program and, for a JVM, its main class."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "unknown process"
    words = [a.decode(errors="replace") for a in args if a]
    if not words:
        return "unknown process"
    program = os.path.basename(words[0])
    main = next((w for w in words[1:] if not w.startswith("-") and "." in w and "/" not in w
                 and not w.endswith((".jar", ".properties"))), "")
    text = f"{program} {main}" if program == "java" else " ".join(words)
    text = " ".join(text.split())  # one line, whatever newlines the command line held
    return text if len(text) <= width else text[: width - 3] + "..."


def require_free(ports: dict[str, tuple[int, str]], server: str, cfg: Config | None = None) -> None:
    """Raise one line naming the first port in use: ``ports`` maps a role to (port, config key)."""
    for role, (port, key) in ports.items():
        if not is_free(port):
            who = owner(port)
            held = f"by {who}" if who else "by another process"
            value = getattr(cfg, key, port) if cfg is not None else port
            after = "" if value == port else f" (the {role} uses {key} + {port - value})"
            raise KgrcaError(f"cannot start {server}: port {port} ({role}) on 127.0.0.1 is already in use "
                             f"{held}; stop it, or set KGRCA_{key.upper()} to a free port{after}")


def _listening_inodes(port: int) -> set[str]:
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found

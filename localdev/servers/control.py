"""Starting, stopping and checking a ``LocalServer``: the same steps for Neo4j and Kafka."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from kgrca.config import Config
from kgrca.contracts import KgrcaError
from localdev.servers import cds, ports, process, tools
from localdev.servers.base import LocalServer, NotReady
from localdev.servers.locks import locked


@dataclasses.dataclass(frozen=True)
class Started:
    pid: int
    seconds: float  # from the call to an answer, including any fetch
    already: bool  # it was running and answering before the call
    fetched: bool  # the jars were fetched by this call


def up(server: LocalServer, cfg: Config) -> Started:
    """Start ``server`` unless it runs, and return once it answers a real request."""
    began = time.monotonic()
    home = server.home(cfg)
    home.mkdir(parents=True, exist_ok=True)
    with locked(home / ".lock"):
        pid = process.running_pid(server.pid_file(cfg), str(home))
        if pid is not None:
            _wait_ready(server, cfg, pid)
            return Started(pid, time.monotonic() - began, already=True, fetched=False)
        ports.require_free(server.ports(cfg), server.title, cfg)
        tools.java()
        fetched = not server.is_installed(cfg)
        install = server.install(cfg)
        server.prepare(cfg, install)
        command = server.command(cfg, install)
        command[1:1] = cds.flags(cds.archive_path(install), home)  # right after the java executable
        pid = process.start(command, server.log_file(cfg), cwd=home, pid_file=server.pid_file(cfg),
                            env=_jvm_env())
        _wait_ready(server, cfg, pid)
        return Started(pid, time.monotonic() - began, already=False, fetched=fetched)


def down(server: LocalServer, cfg: Config) -> int | None:
    """Stop ``server`` if it runs; return the pid it had."""
    home = server.home(cfg)
    if not home.exists():
        return None
    with locked(home / ".lock"):
        pid = process.running_pid(server.pid_file(cfg), str(home))
        if pid is not None:
            clean = process.stop(pid, server.stop_grace)
            cds.settle(cds.archive_path(server.install_path(cfg)), home, clean)
        server.pid_file(cfg).unlink(missing_ok=True)
        return pid


def status(server: LocalServer, cfg: Config) -> dict[str, Any]:
    """What a user wants to know about ``server``; does not start or fetch anything."""
    home = server.home(cfg)
    pid = process.running_pid(server.pid_file(cfg), str(home))
    answers, problem = False, None
    if pid is not None:
        try:
            server.probe(cfg, timeout=3.0)
            answers = True
        except NotReady as exc:
            problem = str(exc) or "not answering yet"
        except KgrcaError as exc:
            problem = str(exc)
    return {
        "name": server.name, "title": server.title, "version": server.version(),
        "running": pid is not None, "pid": pid, "answers": answers, "problem": problem,
        "ports": {role: port for role, (port, _) in server.ports(cfg).items()},
        "endpoints": server.endpoints(cfg), "installed": server.is_installed(cfg),
        "log": str(server.log_file(cfg)), "data": str(home),
        "rss_bytes": process.rss_bytes(pid) if pid is not None else None,
    }


def _wait_ready(server: LocalServer, cfg: Config, pid: int) -> None:
    log = server.log_file(cfg)
    deadline = time.monotonic() + server.start_timeout
    last = ""
    while True:
        if not process.is_alive(pid):
            code = process.exit_code(pid)
            how = f" with exit code {code}" if code is not None else ""
            raise KgrcaError(f"{server.title} stopped while starting{how}: {_last_error(log)} "
                             f"(full log: {log})")
        try:
            server.probe(cfg, timeout=3.0)
            return
        except NotReady as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise KgrcaError(f"{server.title} (pid {pid}) did not answer within {server.start_timeout:.0f}s"
                             f" ({last or 'no answer'}); see {log}, or stop it with "
                             f"'kgrca servers down {server.name}'")
        time.sleep(0.5)


def _last_error(log: Any) -> str:
    lines = process.tail(log)
    for line in reversed(lines):
        if any(word in line for word in ("ERROR", "Exception", "Error:", "error:")):
            return line.strip()[:300]
    meaningful = [line.strip() for line in lines if line.strip() and not line.startswith("=====")]
    return meaningful[-1][:300] if meaningful else "it wrote nothing"


def _jvm_env() -> dict[str, str]:
    env = dict(os.environ)
    # A JAVA_TOOL_OPTIONS or _JAVA_OPTIONS meant for something else would change the servers' heap.
    for name in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH"):
        env.pop(name, None)
    return env

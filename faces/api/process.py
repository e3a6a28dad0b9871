"""``kgrca serve`` as a child process on a loopback port, for tests and benchmarks of the real server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from kgrca.config import Config
from kgrca.contracts import KgrcaError

ROOT = Path(__file__).resolve().parents[2]


def free_port(first: int = 18080, last: int = 18999) -> int:
    """A loopback port in [first, last] nothing listens on now."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise KgrcaError(f"no free port on 127.0.0.1 between {first} and {last}")


@contextlib.contextmanager
def serving(cfg: Config, port: int | None = None, workers: int = 1, threads: int = 4, sink: str = "neo4j",
            log_path: Path | None = None, ready_timeout: float = 60.0) -> Iterator[str]:
    """Runs ``kgrca serve`` with ``cfg`` (as KGRCA_* variables) until the block ends; yields its base URL."""
    port = port or free_port()
    env = {**os.environ, **cfg.environ(), "KGRCA_HTTP_HOST": "127.0.0.1", "KGRCA_HTTP_PORT": str(port)}
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "faces.cli", "serve", "--workers", str(workers), "--threads", str(threads),
         "--sink", sink], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise KgrcaError(f"kgrca serve exited with {process.returncode} before answering"
                                 + (f"; see {log_path}" if log_path else ""))
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise KgrcaError(f"kgrca serve did not answer on {base} within {ready_timeout:.0f}s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log.close()

"""What a local server is to kgrca: the few facts and steps that differ between Neo4j and Kafka.

``control.py`` does the rest (locking, ports, starting, waiting, stopping) the same way for both.
"""

from __future__ import annotations

import abc
from pathlib import Path

from kgrca.config import Config
from localdev.servers import fetch


class NotReady(Exception):
    """The server does not answer yet; keep waiting."""


class LocalServer(abc.ABC):
    name: str  # "neo4j", as typed on the command line
    title: str  # "Neo4j", as shown to people
    stop_grace: float = 60.0  # seconds between SIGTERM and SIGKILL
    # seconds to wait for an answer after starting the JVM: a first start on a busy two-core machine
    # has taken 150 s
    start_timeout: float = 300.0

    @abc.abstractmethod
    def version(self) -> str:
        """The pinned version (read from the server's pom)."""

    def home(self, cfg: Config) -> Path:
        """Where this server keeps its data, configuration, logs and pid file between runs."""
        return cfg.data_path / self.name

    def pid_file(self, cfg: Config) -> Path:
        return self.home(cfg) / f"{self.name}.pid"

    @abc.abstractmethod
    def log_file(self, cfg: Config) -> Path:
        """The file the JVM's output goes to: the one to read when something goes wrong."""

    @abc.abstractmethod
    def ports(self, cfg: Config) -> dict[str, tuple[int, str]]:
        """Role ('bolt') -> (port, config key that sets it)."""

    @abc.abstractmethod
    def endpoints(self, cfg: Config) -> dict[str, str]:
        """Role -> address a user or client connects to."""

    @abc.abstractmethod
    def is_installed(self, cfg: Config) -> bool:
        """True when the jars are in the cache (nothing to fetch)."""

    @abc.abstractmethod
    def install(self, cfg: Config) -> Path:
        """Fetch the jars once; return the folder holding them."""

    @abc.abstractmethod
    def prepare(self, cfg: Config, install: Path) -> None:
        """Write the configuration; first-run steps (initial password, storage format)."""

    @abc.abstractmethod
    def command(self, cfg: Config, install: Path) -> list[str]:
        """The JVM command line. It must contain ``str(self.home(cfg))`` (identifies the process)."""

    def install_path(self, cfg: Config) -> Path:
        """The folder ``install`` fills (whether or not it is filled yet)."""
        return fetch.install_dir(cfg, self.name, self.version())

    @abc.abstractmethod
    def probe(self, cfg: Config, timeout: float) -> None:
        """Return when the server answers a real request; raise ``NotReady`` if not yet, and
        ``KgrcaError`` for an answer that waiting will not change (a refused password)."""

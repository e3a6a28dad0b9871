"""Fetching a server's jars with Maven into the cache, so that a broken fetch never looks finished.

Maven copies the jars into a temporary folder beside the final one; only when Maven succeeded and the
expected jars are there does a marker file get written and the folder renamed into place. A folder
without the marker (a fetch killed half way, an older layout) is thrown away and fetched again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from kgrca.config import Config
from kgrca.contracts import KgrcaError
from localdev.servers import tools
from localdev.servers.locks import locked

MAVEN_DIR = Path(__file__).with_name("maven")
MARKER = ".complete"
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def pom_path(server: str) -> Path:
    return MAVEN_DIR / server / "pom.xml"


def pom_property(server: str, name: str) -> str:
    """A ``<properties>`` value of a server's pom: the pom is the one place versions are pinned."""
    root = ET.parse(pom_path(server)).getroot()
    node = root.find(f"m:properties/m:{name}", _POM_NS)
    if node is None or not (node.text or "").strip():
        raise KgrcaError(f"{pom_path(server)} has no <{name}> property; reinstall kgrca")
    return node.text.strip()


def install_dir(cfg: Config, server: str, version: str) -> Path:
    return cfg.cache_path / f"{server}-{version}"


def is_installed(cfg: Config, server: str, version: str) -> bool:
    marker = install_dir(cfg, server, version) / MARKER
    return marker.is_file() and marker.read_text().strip() == _pom_digest(server)


def ensure_jars(cfg: Config, server: str, version: str, outputs: dict[str, str],
                required: Sequence[str]) -> Path:
    """The folder holding ``server``'s jars, fetching them with Maven the first time.

    ``outputs`` maps a pom property (``kgrca.lib``) to the sub-folder Maven copies into (``lib``);
    ``required`` are glob patterns (``lib/neo4j-server-*.jar``) that must match after the fetch.
    """
    final = install_dir(cfg, server, version)
    if is_installed(cfg, server, version):
        return final
    cfg.cache_path.mkdir(parents=True, exist_ok=True)
    with locked(cfg.cache_path / f".{server}-{version}.lock"):
        if is_installed(cfg, server, version):  # another process fetched it while we waited
            return final
        for stale in cfg.cache_path.glob(f".{server}-{version}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = cfg.cache_path / f".{server}-{version}.partial-{time.time_ns()}"
        partial.mkdir()
        log = cfg.cache_path / f"{server}-{version}.fetch.log"
        _run_maven(cfg, server, version, partial, outputs, log)
        missing = [pattern for pattern in required if not any(partial.glob(pattern))]
        if missing:
            raise KgrcaError(f"Maven finished but {', '.join(missing)} is missing from the {server} "
                             f"{version} jars (see {log}); delete {cfg.cache_path / 'maven'} and run again")
        (partial / MARKER).write_text(_pom_digest(server) + "\n")
        if final.exists():  # an unfinished or outdated folder: replace it whole
            shutil.rmtree(final)
        partial.rename(final)
    return final


def _run_maven(cfg: Config, server: str, version: str, partial: Path, outputs: dict[str, str],
               log: Path) -> None:
    # Maven runs on a copy of the pom inside the temporary folder, so it writes nothing into the
    # installed kgrca package; its own download cache is kept under kgrca's cache too.
    pom = partial / "pom.xml"
    shutil.copyfile(pom_path(server), pom)
    command = [tools.maven(), "-B", "-q", "-f", str(pom), "generate-resources",
               f"-Dmaven.repo.local={cfg.cache_path / 'maven'}"]
    command += [f"-D{prop}={partial / sub}" for prop, sub in outputs.items()]
    print(f"fetching {server} {version} jars from Maven Central (once; log: {log}) ...", flush=True)
    with open(log, "w", encoding="utf-8") as out:
        out.write(" ".join(command) + "\n")
        out.flush()
        try:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=partial,
                                  env=_maven_env(), check=False)
        except OSError as exc:
            raise KgrcaError(f"cannot run Maven ({exc}): {tools.INSTALL_HINT}") from None
    if done.returncode != 0:
        errors = [line.strip() for line in log.read_text(errors="replace").splitlines()
                  if "[ERROR]" in line and line.strip() != "[ERROR]"]
        reason = errors[0].replace("[ERROR] ", "")[:300] if errors else f"exit code {done.returncode}"
        raise KgrcaError(f"fetching {server} {version} with Maven failed: {reason} (full log: {log}); "
                         "check that Maven Central is reachable and run again")


def _maven_env() -> dict[str, str]:
    env = dict(os.environ)
    java_home = Path(tools.java()).resolve().parent.parent
    env.setdefault("JAVA_HOME", str(java_home))
    return env


def _pom_digest(server: str) -> str:
    # The marker records which pom produced the folder: a changed pom (new version or library)
    # makes the folder count as not installed, so it is fetched again.
    return hashlib.sha256(pom_path(server).read_bytes()).hexdigest()

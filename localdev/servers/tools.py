"""Finding Java and Maven, with one actionable line when they are missing or too old."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess

from kgrca.contracts import KgrcaError

INSTALL_HINT = "run scripts/bootstrap.sh, or apt-get install default-jre-headless maven"
MIN_JAVA = 17  # Neo4j 5.26 and the Kafka 4 broker are compiled for Java 17


@functools.cache
def java() -> str:
    """Path of the ``java`` to run the servers with: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    candidate = os.path.join(home, "bin", "java") if home else None
    path = candidate if candidate and os.access(candidate, os.X_OK) else shutil.which("java")
    if not path:
        raise KgrcaError(f"Java is not installed (no 'java' on PATH): {INSTALL_HINT}")
    major = java_major(path)
    if major < MIN_JAVA:
        raise KgrcaError(f"{path} is Java {major}; the local servers need Java {MIN_JAVA} or later: "
                         f"{INSTALL_HINT}")
    return path


@functools.cache
def java_build() -> str:
    """The exact build of ``java()`` ('17.0.15+6-Debian-1deb12u1'), safe in a file name."""
    out = subprocess.run([java(), "-version"], capture_output=True, text=True, timeout=30)
    match = re.search(r"\(build ([^)]+)\)", out.stderr + out.stdout)
    build = match.group(1) if match else f"{java_major(java())}-unknown"
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", build)


def java_major(path: str) -> int:
    try:
        out = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KgrcaError(f"cannot run {path} -version ({exc}): {INSTALL_HINT}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise KgrcaError(f"cannot tell the Java version of {path}: {INSTALL_HINT}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


@functools.cache
def maven() -> str:
    path = shutil.which("mvn")
    if not path:
        raise KgrcaError(f"Maven is not installed (no 'mvn' on PATH), and it fetches the server jars: "
                         f"{INSTALL_HINT}")
    return path

"""Class-data sharing: a JVM archive of the classes a server loads, which nearly halves Neo4j's start
(measured: 38 CPU-seconds to an answering server without it, 23 with it).

The first start of a server without an archive asks the JVM to write one when it exits
(``-XX:ArchiveClassesAtExit``) to a file of its own; a clean stop moves that file into place, and every
later start maps it (``-XX:SharedArchiveFile``). An archive is tied to one Java build and to the jars it
was made from, so it lives in the install folder (fetched again: archive gone) under the Java build's
name. A stop that had to kill the JVM throws the half-written file away. With a stale or unreadable
archive the JVM warns in the log and starts without it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from localdev.servers import tools


def archive_path(install: Path) -> Path:
    return install / "cds" / f"java-{tools.java_build()}.jsa"


def flags(archive: Path, home: Path) -> list[str]:
    """JVM options: use the archive if there is one, else write one at exit."""
    if archive.is_file() and archive.stat().st_size > 0:
        return ["-Xshare:auto", f"-XX:SharedArchiveFile={archive}"]
    archive.parent.mkdir(parents=True, exist_ok=True)
    return ["-Xshare:auto", f"-XX:ArchiveClassesAtExit={pending(archive, home)}"]


def settle(archive: Path, home: Path, clean: bool) -> None:
    """After a stop: keep the archive the JVM wrote on a clean exit, drop a half-written one."""
    written = pending(archive, home)
    if not written.exists():
        return
    if clean and written.stat().st_size > 0:
        os.replace(written, archive)
    else:
        written.unlink(missing_ok=True)


def pending(archive: Path, home: Path) -> Path:
    # one file per data folder: two servers dumping at once never write the same file
    tag = hashlib.sha1(str(home).encode()).hexdigest()[:10]
    return archive.with_name(f"{archive.name}.{tag}.partial")

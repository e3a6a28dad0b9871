"""The spool: a durable journal of deliveries the sink did not take in time, written once it answers again.

A sender that gets no answer in time loses the delivery (GitHub gives up at 10 s and does not redeliver
on its own), so with ``webhook_spool_dir`` set a delivery Neo4j (or Kafka) could not take within
``webhook_store_timeout`` is kept here and answered 202 ``spooled``. One file per delivery, the
``Observation`` as JSON: written under a temporary name, fsynced, then renamed into the directory, so a
crash leaves a whole file or none. Each gunicorn worker runs a ``Replayer``; a lock file lets one of them
at a time write the oldest files first and delete each once the sink took it. Writes are idempotent, so a
delivery written twice (a crash between write and delete, a redelivery while spooled) is stored once.

A file the sink rejects for good moves to ``rejected/`` with the reason beside it: it cannot block the
files behind it. Depth, rejected files and the oldest file's age are in ``/metrics``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kgrca.contracts import KgrcaError, Observation, PermanentError, TemporaryError, WriteStats

log = logging.getLogger(__name__)

SUFFIX = ".json"


class Spool:
    """The journal in ``directory`` (created if missing)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.rejected_dir = self.directory / "rejected"
        self._incoming = self.directory / ".incoming"
        try:
            for path in (self.directory, self.rejected_dir, self._incoming):
                path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KgrcaError(f"webhook_spool_dir {self.directory}: cannot create it: {exc.strerror}") from None

    def put(self, observation: Observation) -> Path:
        """Keep ``observation`` durably; its file's path. ``OSError`` when the disk does not take it."""
        digest = hashlib.sha256(observation.origin.encode()).hexdigest()[:16]
        name = f"{time.time_ns():020d}-{observation.action}-{digest}{SUFFIX}"
        temporary = self._incoming / name
        with open(temporary, "wb") as out:
            out.write(json.dumps(observation.to_json(), ensure_ascii=False).encode())
            out.flush()
            os.fsync(out.fileno())
        final = self.directory / name
        os.replace(temporary, final)
        _fsync_dir(self.directory)
        return final

    def pending(self) -> list[Path]:
        """Spooled files, oldest first."""
        return sorted(path for path in self.directory.iterdir() if path.name.endswith(SUFFIX))

    def depth(self) -> int:
        return len(self.pending())

    def rejected(self) -> int:
        return sum(1 for path in self.rejected_dir.iterdir() if path.name.endswith(SUFFIX))

    def oldest_age(self) -> float:
        """Seconds since the oldest spooled delivery was received (0 when none is)."""
        pending = self.pending()
        if not pending:
            return 0.0
        return max(0.0, time.time() - int(pending[0].name.split("-", 1)[0]) / 1e9)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[bool]:
        """True when this process holds the replay lock (the other workers then leave the spool alone)."""
        with open(self.directory / ".lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def drain(self, write: Callable[[list[Observation]], WriteStats]) -> int:
        """Write every spooled delivery, oldest first, deleting each once ``write`` took it; how many were
        written. Stops at the first ``TemporaryError`` (raised: the sink is still away)."""
        written = 0
        with self._turn() as mine:
            if not mine:
                return 0
            for path in self.pending():
                try:
                    observation = Observation.from_json(json.loads(path.read_bytes()))
                except (OSError, ValueError, PermanentError) as exc:
                    self._reject(path, f"unreadable spool file: {exc}")
                    continue
                stats = write([observation])
                if stats.rejected:
                    self._reject(path, stats.rejected[0][1])
                    continue
                path.unlink(missing_ok=True)
                written += 1
        return written

    def _reject(self, path: Path, reason: str) -> None:
        log.error("spooled delivery %s rejected, moved to %s: %s", path.name, self.rejected_dir, reason)
        (self.rejected_dir / (path.name + ".reason")).write_text(reason + "\n")
        os.replace(path, self.rejected_dir / path.name)


def _fsync_dir(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


class Replayer:
    """A daemon thread that drains ``spool`` through ``write`` every ``interval`` seconds while it holds
    anything, backing off up to ``longest`` seconds while the sink stays away."""

    def __init__(self, spool: Spool, write: Callable[[list[Observation]], WriteStats], interval: float = 1.0,
                 longest: float = 15.0):
        self.spool = spool
        self._write = write
        self._interval = interval
        self._longest = longest
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kgrca-webhook-spool", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        delay = self._interval
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if self.spool.pending():
                    written = self.spool.drain(self._write)
                    if written:
                        log.info("wrote %d spooled deliveries; %d left", written, self.spool.depth())
                delay = self._interval
            except TemporaryError as exc:
                delay = min(self._longest, delay * 2)
                log.warning("spooled deliveries wait for the sink (next try in %.0fs): %s", delay, exc)
            except Exception:  # a bug must not end the thread: the deliveries stay spooled, the log says why
                delay = self._longest
                log.exception("replaying the webhook spool failed")

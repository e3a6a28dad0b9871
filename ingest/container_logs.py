"""The last words of a crashed container: its previous log, fetched once, bounded, redacted (docs/container-logs.md).

Two sources of ``container_log`` observations (kgrca/contracts.py):

* ``LogFetcher``, beside ``kgrca watch``: the Pod watcher hands it every pod it sees (``observe``). A container
  that crashed since the last look (a new terminated state with a non-zero exit code, a restart count that went
  up, a CrashLoopBackOff wait) or a Job's pod that failed gets its log read once per run of the container: the
  *previous* log (``previous=True``) where the container restarted, its current one where it stopped for good.
  Reads go through a bounded queue to one worker thread, so the watch never waits on a kubelet; the worker
  spends at most ``container_log_fetches_per_minute`` reads a minute and asks for ``container_log_lines`` lines
  (``tailLines``). ``limitBytes`` bounds the transfer; since the kubelet applies it from the start of the tail,
  the fetcher asks for four times ``container_log_bytes`` and keeps the last lines that fit in
  ``container_log_bytes``, marking the record ``truncated`` when anything was cut. A read the API server refuses
  (no previous container, the node cannot be reached) is logged and counted: no lines, no observation.
* ``read_file``, for ``kgrca ingest --logs NS/POD[/CONTAINER] FILE``: ``kubectl logs`` output saved to a file.
  Its run is unknown (``restart_count`` null); a leading ``Defaulted container "x" out of: ...`` line (kubectl's,
  when stderr was captured too) names the container when the target does not.

Every line is redacted with kgrca/redaction.py before it leaves the source: credentials in URLs, bearer tokens,
``password=...`` assignments. The lines are classified by the graph writer (kg_builder/facts_logs.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from kgrca import log_lines
from kgrca.config import Config
from kgrca.contracts import Observation, utc_now
from kgrca.redaction import redact_text

log = logging.getLogger(__name__)

KIND = "container_log"
ACTION = "FETCHED"
QUEUE_SIZE = 256
TRANSFER_FACTOR = 4  # limitBytes asked of the kubelet, in multiples of the byte budget kept
_DEFAULTED = re.compile(r'^Defaulted container "(?P<container>[^"]+)" out of: ')


@dataclasses.dataclass(frozen=True)
class Crash:
    """A container run whose log is to be read: ``run`` is the restart count of the run the lines come from."""

    namespace: str
    pod: str
    pod_uid: str
    container: str
    run: int
    previous: bool
    reason: str


def crashes(pod: dict[str, Any]) -> list[Crash]:
    """The container runs of a pod that ended badly, as its status shows them now.

    A container that restarted (restartCount > 0) with a terminated last state or a CrashLoopBackOff wait: its
    previous run, ``restartCount - 1``. A container whose current state is terminated with a non-zero exit code
    (restartPolicy Never or OnFailure, a Job's pod): its current run. Nothing else: a running container that never
    restarted has said nothing worth reading."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    namespace, name, uid = meta.get("namespace") or "", meta.get("name") or "", meta.get("uid") or ""
    if not (namespace and name and uid):
        return []
    found: list[Crash] = []
    for field in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(field) or []:
            if not isinstance(container, dict) or not container.get("name"):
                continue
            restarts = int(container.get("restartCount") or 0)
            state = container.get("state") or {}
            last = container.get("lastState") or {}
            terminated = state.get("terminated") or {}
            waiting = state.get("waiting") or {}
            if terminated and terminated.get("exitCode") not in (None, 0):
                found.append(Crash(namespace, name, uid, container["name"], restarts, False,
                                   f"terminated with exit code {terminated['exitCode']}"))
            elif restarts > 0 and (last.get("terminated") or waiting.get("reason") == "CrashLoopBackOff"):
                exit_code = (last.get("terminated") or {}).get("exitCode")
                reason = waiting.get("reason") if waiting.get("reason") == "CrashLoopBackOff" else "restarted"
                found.append(Crash(namespace, name, uid, container["name"], restarts - 1, True,
                                   reason + (f" after exit code {exit_code}" if exit_code is not None else "")))
    return found


class Budget:
    """At most ``per_minute`` takes in any 60 seconds (a sliding window); ``wait`` blocks until one is free."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.taken: list[float] = []

    def free_in(self) -> float:
        now = self.clock()
        self.taken = [t for t in self.taken if now - t < 60]
        return 0.0 if len(self.taken) < self.per_minute else 60 - (now - self.taken[0])

    def take(self) -> None:
        self.taken.append(self.clock())


def bounded_tail(text: str, max_lines: int, max_bytes: int) -> tuple[list[str], bool]:
    """The last lines of ``text`` within ``max_lines`` lines and ``max_bytes`` bytes (UTF-8); whether it cut any."""
    lines = text.splitlines()
    kept: list[str] = []
    size = 0
    for line in reversed(lines[-max_lines:]):
        size += len(line.encode()) + 1
        if size > max_bytes:
            break
        kept.append(line)
    kept.reverse()
    return log_lines.bounded(kept), len(kept) < len(lines)


def observation(crash: Crash | None, lines: list[str], truncated: bool, source: str, origin: str, *,
                namespace: str = "", pod: str = "", container: str = "", at: str | None = None) -> Observation:
    """A ``container_log`` observation of redacted lines, fetched ``at`` (default: now)."""
    payload: dict[str, Any] = {
        "namespace": crash.namespace if crash else namespace, "pod": crash.pod if crash else pod,
        "container": crash.container if crash else container, "lines": [redact_text(line) for line in lines],
        "truncated": truncated, "source": source, "fetched_at": at or utc_now()}
    if crash:
        payload.update(pod_uid=crash.pod_uid, restart_count=crash.run, previous=crash.previous, reason=crash.reason)
    return Observation(KIND, ACTION, payload, payload["fetched_at"], origin)


class LogFetcher:
    """Reads crashed containers' logs for the watcher and puts their observations on ``out``.

    ``observe(action, pod)`` is the Pod watcher's listener. ``fetched``, ``refused``, ``dropped`` and ``waited``
    count what it did (reads made, reads the API server refused, crashes not read because the queue was full,
    seconds spent waiting for the budget)."""

    def __init__(self, api: client.ApiClient, cfg: Config, out: queue.Queue[Observation], stop: threading.Event):
        self.core = client.CoreV1Api(api)
        self.lines = int(cfg.container_log_lines)
        self.bytes = int(cfg.container_log_bytes)
        self.budget = Budget(int(cfg.container_log_fetches_per_minute))
        self.out = out
        self.stop = stop
        self.pending: queue.Queue[Crash] = queue.Queue(maxsize=QUEUE_SIZE)
        self.seen: dict[str, set[tuple[str, int]]] = {}  # pod uid -> (container, run) already queued
        self.lock = threading.Lock()
        self.fetched = self.refused = self.dropped = 0
        self.waited = 0.0
        self.thread = threading.Thread(target=self.run, name="container-logs", daemon=True)

    def start(self) -> LogFetcher:
        self.thread.start()
        return self

    def observe(self, action: str, pod: dict[str, Any]) -> None:
        uid = (pod.get("metadata") or {}).get("uid")
        if not uid:
            return
        if action == "DELETED":
            with self.lock:
                self.seen.pop(uid, None)
            return
        for crash in crashes(pod):
            with self.lock:
                done = self.seen.setdefault(uid, set())
                if (crash.container, crash.run) in done:
                    continue
                done.add((crash.container, crash.run))
            try:
                self.pending.put_nowait(crash)
            except queue.Full:
                self.dropped += 1
                log.warning("container logs: queue full; not reading %s/%s %s", crash.namespace, crash.pod,
                            crash.container)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                crash = self.pending.get(timeout=0.5)
            except queue.Empty:
                continue
            while (delay := self.budget.free_in()) > 0:
                self.waited += min(delay, 1.0)
                if self.stop.wait(min(delay, 1.0)):
                    return
            self.budget.take()
            found = self.fetch(crash)
            if found is not None:
                self.out.put(found)

    def fetch(self, crash: Crash) -> Observation | None:
        """One read of a container's log through the API server; None when it refused or failed."""
        try:
            response = self.core.read_namespaced_pod_log(
                crash.pod, crash.namespace, container=crash.container, previous=crash.previous,
                tail_lines=self.lines, limit_bytes=self.bytes * TRANSFER_FACTOR, _preload_content=False,
                _request_timeout=(5, 20))
            raw = response.data
        except ApiException as exc:
            self.refused += 1
            log.info("container logs: %s/%s %s: the API server answered %s (%s)", crash.namespace, crash.pod,
                     crash.container, exc.status, _message(exc))
            return None
        except (HTTPError, OSError) as exc:
            self.refused += 1
            log.info("container logs: %s/%s %s: %s", crash.namespace, crash.pod, crash.container, exc)
            return None
        self.fetched += 1
        text = raw.decode("utf-8", errors="replace")
        lines, cut = bounded_tail(text, self.lines, self.bytes)
        cut = cut or len(raw) >= self.bytes * TRANSFER_FACTOR
        return observation(crash, lines, cut, "watch",
                           f"watch:log {crash.namespace}/{crash.pod} {crash.container} run {crash.run}")


def _message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)


# --- kubectl logs output from a file --------------------------------------------------------------------------


def parse_target(text: str) -> tuple[str, str, str | None]:
    """``NAMESPACE/POD`` or ``NAMESPACE/POD/CONTAINER``; ValueError says the form expected."""
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"expected NAMESPACE/POD or NAMESPACE/POD/CONTAINER (e.g. prod/api-7d4b9c-x2x9z/app), "
                         f"got {text!r}")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def read_file(path: Path, text: str, target: tuple[str, str, str | None], max_lines: int = log_lines.MAX_LINES
              ) -> tuple[list[Observation], list[tuple[str, str]]]:
    """The last lines of a saved ``kubectl logs`` output as one observation; (where, reason) for what is wrong."""
    namespace, pod, container = target
    lines = text.splitlines()
    if lines and (defaulted := _DEFAULTED.match(lines[0])):
        if container is None:
            container = defaulted.group("container")
        lines = lines[1:]
    if not any(line.strip() for line in lines):
        return [], [(str(path), "the log holds no line to read (expected `kubectl logs` output)")]
    if container is None:
        container = ""  # the pod's only container: kubectl logs needs -c for a pod with several
    kept = log_lines.bounded(lines, max_lines)
    # the file's modification time: a replay of the same file gives the same graph
    at = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return [observation(None, kept, len(kept) < len(lines), "file", f"{path}:{len(lines) - len(kept) + 1}",
                        namespace=namespace, pod=pod, container=container, at=at)], []

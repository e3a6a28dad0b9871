"""Record what kgrca's Kubernetes watcher sees as watch-event JSON lines.

Each line is ``{"type": "ADDED|MODIFIED|DELETED", "object": {...}, "observed_at": "..."}``, the form
``kgrca ingest`` reads back, so a recording replays through the same code path as a live watch. Objects
that were already there when recording began (the watcher's initial list) are written as ADDED, as a
watch from the beginning would show them. ``managedFields`` are dropped (the watcher does it), and so are
CustomResourceDefinitions' OpenAPI schemas (``spec.versions[].schema``), which kgrca never reads and which
would make every recording carry Flux's and Argo CD's CRDs at 100-330 KB each; nothing else is changed,
so Helm's release Secrets stay intact and decode as helm wrote them.

When namespaces are given, the cluster-wide Namespace list is narrowed to those namespaces, so one
scenario's recording does not carry every other namespace of the cluster.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO, Any

from ingest import k8s_watch
from kgrca.config import Config
from kgrca.contracts import KgrcaError, Observation


def watch_line(observation: Observation, cluster: str = "") -> dict[str, Any]:
    """The line of one observation; ``cluster`` (``kgrca record --cluster``) is written only when named."""
    action = "ADDED" if observation.action == "SNAPSHOT" else observation.action
    obj = observation.payload
    if obj.get("kind") == "CustomResourceDefinition":
        obj = _without_schemas(obj)
    line = {"type": action, "object": obj, "observed_at": observation.observed_at}
    if cluster:
        line["cluster"] = cluster
    return line


def _without_schemas(crd: dict[str, Any]) -> dict[str, Any]:
    spec = crd.get("spec") or {}
    versions = [{k: v for k, v in version.items() if k != "schema"} for version in spec.get("versions") or []]
    return {**crd, "spec": {**spec, "versions": versions}}


class Recorder:
    """Watch in the background and append every observation to ``out``; ``stop()`` to finish.

    ``start()`` returns once every watcher has listed its kind, so whatever happens afterwards is in
    the recording.
    """

    def __init__(self, cfg: Config, out: Path, namespaces: list[str] | None = None, cluster: str = ""):
        self.cfg = cfg.replace(namespaces=",".join(namespaces)) if namespaces else cfg
        self.namespaces = set(namespaces or [])
        self.out = out
        self.cluster = cluster
        self.lines = 0
        self.last_write = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: IO[str] | None = None
        self._watch: k8s_watch.Watch | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, sync_timeout: float = 60.0) -> Recorder:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.out, "w", encoding="utf-8")
        self._watch = k8s_watch.start_watch(self.cfg, self._stop)
        self._thread = threading.Thread(target=self._drain, name="kgrca-recorder", daemon=True)
        self._thread.start()
        watchers = self._watch.watchers
        if not k8s_watch.wait_for(lambda: all(w.relists >= 1 for w in watchers), sync_timeout):
            slow = [w.kind.kind for w in watchers if w.relists < 1]
            self.stop()
            raise KgrcaError(f"the watcher could not list {', '.join(slow)} within {sync_timeout:.0f}s: "
                             "is the API server reachable with this kubeconfig?")
        return self

    def _keep(self, observation: Observation) -> bool:
        payload = observation.payload
        if self.namespaces and payload.get("kind") == "Namespace":
            return (payload.get("metadata") or {}).get("name") in self.namespaces
        return True

    def _drain(self) -> None:
        assert self._watch is not None and self._handle is not None
        try:
            for observation in self._watch.observations(idle=0.2):
                if observation is None or not self._keep(observation):
                    continue
                self._handle.write(json.dumps(watch_line(observation, self.cluster), separators=(",", ":")) + "\n")
                self.lines += 1
                self.last_write = time.monotonic()
        except BaseException as exc:  # surfaced by stop(): a recording must not fail silently
            self._error = exc

    def settle(self, quiet: float = 2.0, timeout: float = 30.0) -> None:
        """Wait until nothing new arrived for ``quiet`` seconds (trailing status updates and events)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and time.monotonic() - self.last_write < quiet:
            time.sleep(0.1)

    def stop(self) -> int:
        """Stop watching, flush the file; the number of lines written."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._error is not None:
            raise KgrcaError(f"recording to {self.out} failed: {self._error}")
        return self.lines

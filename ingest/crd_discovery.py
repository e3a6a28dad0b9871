"""Watch the GitOps controllers' kinds only while their CustomResourceDefinitions exist.

Flux's HelmRelease, Kustomization and sources and Argo CD's Application are custom resources: a cluster
without Flux or Argo CD does not serve them, and one may install or remove them at any time. The watcher
already lists and watches CustomResourceDefinitions; every CRD it sees goes through ``CrdDiscovery.observe``,
which starts a ``KindWatcher`` for a kind below once its CRD is Established (or already is at start) and
stops it when the CRD is deleted. Nothing is logged about kinds whose CRDs are absent.

Which version is watched: the CRD's storage version when it is served, else the newest served one by
Kubernetes' version order (v2 > v2beta2 > v2beta1 > v1). The API server converts every stored object to the
version asked for (these CRDs convert with ``None``: the fields are the same), so one watcher sees all
objects, and each keeps ``apiVersion`` as served. When the CRD's chosen version changes (an upgrade makes a
new version the storage one) the watcher is restarted at it.

When a CRD is deleted the API server deletes its objects first, and the open watch reports each as DELETED.
Whatever the watcher still knew of when the CRD itself goes (a watch that was reconnecting at that moment
missed the DELETED events) is reported DELETED then, so no object of a kind that no longer exists is left
behind in the graph.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from kgrca.contracts import Observation

if TYPE_CHECKING:
    from kubernetes import client

    from ingest.k8s_watch import KindWatcher

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CustomKind:
    """A custom kind kgrca reads when its CRD exists."""

    group: str
    plural: str
    kind: str

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"


# The GitOps controllers' objects: Flux's helm-controller, kustomize-controller and source-controller,
# and Argo CD's Application. The chart grants list/watch on exactly these (charts/kgrca/templates/rbac.yaml).
GITOPS_KINDS: tuple[CustomKind, ...] = (
    CustomKind("helm.toolkit.fluxcd.io", "helmreleases", "HelmRelease"),
    CustomKind("kustomize.toolkit.fluxcd.io", "kustomizations", "Kustomization"),
    CustomKind("source.toolkit.fluxcd.io", "helmrepositories", "HelmRepository"),
    CustomKind("source.toolkit.fluxcd.io", "ocirepositories", "OCIRepository"),
    CustomKind("source.toolkit.fluxcd.io", "gitrepositories", "GitRepository"),
    CustomKind("source.toolkit.fluxcd.io", "helmcharts", "HelmChart"),
    CustomKind("argoproj.io", "applications", "Application"),
)

_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' order of API versions as a sort key (larger is preferred): GA, then beta, then alpha,
    each by major then minor; a name outside that form sorts last."""
    match = _VERSION.match(version)
    if not match:
        return (-1, 0, 0)
    major, stage, minor = int(match.group(1)), match.group(2), int(match.group(3) or 0)
    return ({None: 2, "beta": 1, "alpha": 0}[stage], major, minor)


def chosen_version(crd: dict[str, Any]) -> str | None:
    """The version to watch a CRD's objects at: its storage version if served, else the newest served one."""
    served = [v for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served") and v.get("name")]
    storage = [v["name"] for v in served if v.get("storage")]
    if storage:
        return storage[0]
    return max((v["name"] for v in served), key=version_priority, default=None)


def established(crd: dict[str, Any]) -> bool:
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or [])


class _KindStop:
    """Set when the whole watch stops or when this kind's CRD goes; what a KindWatcher waits on."""

    def __init__(self, parent: threading.Event):
        self.parent = parent
        self.own = threading.Event()

    def is_set(self) -> bool:
        return self.own.is_set() or self.parent.is_set()

    def set(self) -> None:
        self.own.set()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if left <= 0:
                break
            self.own.wait(left)
        return self.is_set()


@dataclasses.dataclass
class _Running:
    version: str
    watchers: list[KindWatcher]
    stops: list[_KindStop]
    threads: list[threading.Thread]


class CrdDiscovery:
    """Starts and stops the watchers of ``kinds`` as their CRDs come and go.

    ``watchers`` is the running watch's list: started watchers are added to it (so a recorder waiting for
    every watcher's first list waits for these too) and stopped ones removed.
    """

    def __init__(self, api: client.ApiClient, namespaces: list[str | None], out: queue.Queue[Observation],
                 stop: threading.Event, watchers: list[KindWatcher],
                 kinds: tuple[CustomKind, ...] = GITOPS_KINDS):
        self.api = api
        self.namespaces = namespaces
        self.out = out
        self.stop = stop
        self.watchers = watchers
        self.kinds = {k.crd_name: k for k in kinds}
        self.running: dict[str, _Running] = {}
        self.lock = threading.Lock()

    def active(self) -> dict[str, str]:
        """CRD name -> the version being watched, for every kind watched now."""
        with self.lock:
            return {name: running.version for name, running in self.running.items()}

    def observe(self, action: str, crd: dict[str, Any]) -> None:
        """A CRD the CRD watcher saw (SNAPSHOT, ADDED, MODIFIED or DELETED)."""
        name = (crd.get("metadata") or {}).get("name")
        custom = self.kinds.get(name or "")
        if custom is None or self.stop.is_set():
            return
        with self.lock:
            running = self.running.get(custom.crd_name)
            if action == "DELETED":
                if running:
                    log.info("%s: its CRD was deleted; no longer watched", custom.kind)
                    self._retire(custom, running, report_deleted=True)
                return
            version = chosen_version(crd)
            if not version or not established(crd):
                return
            if running and running.version == version:
                return
            if running:
                log.info("%s: watching %s instead of %s (the CRD changed)", custom.kind, version, running.version)
                self._retire(custom, running, report_deleted=False)
            self._start(custom, version, (crd.get("spec") or {}).get("scope") != "Cluster")

    def _start(self, custom: CustomKind, version: str, namespaced: bool) -> None:
        from ingest.k8s_watch import Kind, KindWatcher

        kind = Kind(custom.kind, f"{custom.group}/{version}", custom.plural, namespaced=namespaced, optional=True)
        running = _Running(version, [], [], [])
        for namespace in (self.namespaces if namespaced else [None]):
            stop = _KindStop(self.stop)
            watcher = KindWatcher(self.api, kind, namespace, self.out, stop)
            thread = threading.Thread(target=self._run, args=(watcher, stop), daemon=True,
                                      name=f"watch-{custom.kind}-{namespace or 'all'}")
            running.watchers.append(watcher)
            running.stops.append(stop)
            running.threads.append(thread)
        self.running[custom.crd_name] = running
        self.watchers.extend(running.watchers)
        for thread in running.threads:
            thread.start()
        log.info("%s: its CRD exists; watching %s", custom.kind, kind.group_version)

    def _retire(self, custom: CustomKind, running: _Running, report_deleted: bool) -> None:
        for watcher, stop in zip(running.watchers, running.stops, strict=True):
            watcher.report_deleted_on_stop = report_deleted
            stop.set()
            if watcher in self.watchers:
                self.watchers.remove(watcher)
        del self.running[custom.crd_name]

    @staticmethod
    def _run(watcher: KindWatcher, stop: _KindStop) -> None:
        watcher.run()
        if stop.own.is_set() and watcher.report_deleted_on_stop:
            watcher.report_all_deleted()

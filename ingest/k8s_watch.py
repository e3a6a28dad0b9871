"""List+watch of the Kubernetes API for the kinds kgrca models, as Observations.

One thread per (kind, namespace) lists then watches from the list's resourceVersion, with bookmarks.
A dropped connection resumes from the last resourceVersion after a backoff; ``410 Gone`` (the
version was compacted) re-lists, and objects that vanished meanwhile come out as DELETED, so nothing
is lost or left behind. Raw JSON is read from the API server (no model deserialisation), which
keeps each object exactly as ``kubectl get -o json`` shows it.

The GitOps controllers' kinds (Flux's HelmRelease, Kustomization and sources, Argo CD's Application) are
watched only while their CRDs exist: ``crd_discovery.py`` starts and stops their watchers as the CRD
watcher sees them come and go.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError, ProtocolError

from ingest.container_logs import LogFetcher
from ingest.crd_discovery import GITOPS_KINDS, CrdDiscovery, CustomKind
from kgrca.config import Config
from kgrca.contracts import KgrcaError, Observation, utc_now

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Kind:
    kind: str
    group_version: str  # "v1", "apps/v1"
    plural: str
    namespaced: bool = True
    label_selector: str | None = None
    optional: bool = False  # served only while a CRD exists: a 404 means "not (or no longer) there", not an error

    @property
    def api_version(self) -> str:
        return self.group_version

    def path(self, namespace: str | None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        if namespace and self.namespaced:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


KINDS: tuple[Kind, ...] = (
    Kind("Namespace", "v1", "namespaces", namespaced=False),
    Kind("Node", "v1", "nodes", namespaced=False),
    Kind("CustomResourceDefinition", "apiextensions.k8s.io/v1", "customresourcedefinitions", namespaced=False),
    # Admission webhooks: a fail-closed one whose Service is gone blocks every create/update it matches.
    Kind("ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1", "validatingwebhookconfigurations",
         namespaced=False),
    Kind("MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations",
         namespaced=False),
    # Release storage only: Helm's Secrets carry owner=helm; other Secrets are not read.
    Kind("Secret", "v1", "secrets", label_selector="owner=helm"),
    Kind("ConfigMap", "v1", "configmaps"),
    Kind("Service", "v1", "services"),
    Kind("PersistentVolumeClaim", "v1", "persistentvolumeclaims"),
    Kind("Deployment", "apps/v1", "deployments"),
    Kind("ReplicaSet", "apps/v1", "replicasets"),
    Kind("StatefulSet", "apps/v1", "statefulsets"),
    Kind("DaemonSet", "apps/v1", "daemonsets"),
    Kind("Job", "batch/v1", "jobs"),
    Kind("Pod", "v1", "pods"),
    Kind("Event", "v1", "events"),
    # What the cluster's own failures need beyond Helm (workloads of any owner, networking, storage, nodes)
    Kind("CronJob", "batch/v1", "cronjobs"),
    Kind("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers"),
    Kind("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets"),
    Kind("EndpointSlice", "discovery.k8s.io/v1", "endpointslices"),
    Kind("Ingress", "networking.k8s.io/v1", "ingresses"),
    Kind("IngressClass", "networking.k8s.io/v1", "ingressclasses", namespaced=False),
    Kind("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies"),
    Kind("PersistentVolume", "v1", "persistentvolumes", namespaced=False),
    Kind("StorageClass", "storage.k8s.io/v1", "storageclasses", namespaced=False),
    Kind("CertificateSigningRequest", "certificates.k8s.io/v1", "certificatesigningrequests", namespaced=False),
)

WATCH_SECONDS = 240
MAX_BACKOFF = 30.0
PAGE = 500


def api_client(cfg: Config) -> client.ApiClient:
    """In-cluster config inside a pod, else ``cfg.kubeconfig`` or the default kubeconfig."""
    try:
        if cfg.kubeconfig:
            return kube_config.new_client_from_config(config_file=cfg.kubeconfig)
        try:
            kube_config.load_incluster_config()
            return client.ApiClient()
        except kube_config.ConfigException:
            return kube_config.new_client_from_config()
    except (kube_config.ConfigException, OSError) as exc:
        raise KgrcaError(f"no Kubernetes access: {exc}; pass --kubeconfig FILE or set KGRCA_KUBECONFIG") from None


class StopSignal(Protocol):
    """What a watcher waits on: a ``threading.Event``, or one that is also set when its CRD goes."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


Listener = Callable[[str, dict[str, Any]], None]


class KindWatcher:
    """Lists then watches one kind in one namespace (None = all), putting Observations on ``out``.

    ``listener``, when given, is called with (action, object) for every object emitted, after it is queued
    (the CRD watcher's listener is the GitOps kinds' discovery).
    """

    def __init__(self, api: client.ApiClient, kind: Kind, namespace: str | None,
                 out: queue.Queue[Observation], stop: StopSignal, listener: Listener | None = None):
        self.api = api
        self.kind = kind
        self.namespace = namespace
        self.out = out
        self.stop = stop
        self.listener = listener
        self.report_deleted_on_stop = False
        self.resource_version: str | None = None
        self.known: dict[str, dict[str, Any]] = {}  # uid -> minimal object, to report deletions on re-list
        self.relists = 0
        self.reconnects = 0
        self.gone = 0  # watches answered 410 Gone

    def run(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                self._watch()
                backoff = 1.0
            except ApiException as exc:
                if exc.status == 410:
                    self.gone += 1
                    log.info("%s: resourceVersion %s is gone (410); re-listing", self.kind.kind,
                             self.resource_version)
                    self.resource_version = None
                    continue
                if exc.status == 404 and self.kind.optional:
                    # Its CRD is being deleted or not yet served: the discovery stops or (re)starts us.
                    log.info("%s: not served (404); retrying", self.kind.kind)
                elif exc.status in (401, 403):
                    log.error("%s: the API server refused access (%s); check RBAC", self.kind.kind, exc.status)
                else:
                    log.warning("%s: API error %s: %s", self.kind.kind, exc.status, exc.reason)
                backoff = self._sleep(backoff)
            except (HTTPError, ProtocolError, OSError, ValueError) as exc:
                self.reconnects += 1
                log.warning("%s: connection lost (%s); resuming from %s in %.0fs", self.kind.kind,
                            exc.__class__.__name__, self.resource_version, backoff)
                backoff = self._sleep(backoff)

    def _sleep(self, backoff: float) -> float:
        self.stop.wait(backoff)
        return min(backoff * 2, MAX_BACKOFF)

    def _get(self, params: dict[str, Any], stream: bool) -> Any:
        """The raw urllib3 response of a GET; non-2xx raise ApiException with the API server's message."""
        query = [(k, v) for k, v in params.items() if v is not None]
        if self.kind.label_selector:
            query.append(("labelSelector", self.kind.label_selector))
        method, url, headers, _, _ = self.api.param_serialize(
            "GET", self.kind.path(self.namespace), query_params=query,
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
        response = self.api.call_api(method, url, header_params=headers,
                                     _request_timeout=(10, WATCH_SECONDS + 30) if stream else (10, 120))
        if not 200 <= response.status <= 299:
            body = response.read() or b"{}"
            try:
                reason = json.loads(body).get("message") or response.reason
            except ValueError:
                reason = response.reason
            raise ApiException(status=response.status, reason=reason)
        return response.response

    def _list(self) -> None:
        seen: dict[str, dict[str, Any]] = {}
        token = None
        while True:
            body = json.loads(self._get({"limit": PAGE, "continue": token}, stream=False).data)
            for item in body.get("items") or []:
                if not isinstance(item, dict):  # the API server never sends one; a proxy in between might
                    log.warning("%s: skipped a list item that is not an object", self.kind.kind)
                    continue
                item.setdefault("kind", self.kind.kind)
                item.setdefault("apiVersion", self.kind.api_version)
                uid = _meta(item).get("uid")
                if uid:
                    seen[uid] = _minimal(item)
                self._emit("SNAPSHOT", item)
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                self.resource_version = (body.get("metadata") or {}).get("resourceVersion")
                break
        for uid, gone in self.known.items():
            if uid not in seen:
                self._emit("DELETED", gone)
        self.known = seen
        self.relists += 1

    def _watch(self) -> None:
        response = self._get({"watch": "true", "resourceVersion": self.resource_version,
                              "allowWatchBookmarks": "true", "timeoutSeconds": WATCH_SECONDS}, stream=True)
        try:
            for line in _lines(response, self.stop):
                event = json.loads(line)
                if not isinstance(event, dict) or not isinstance(event.get("object") or {}, dict):
                    log.warning("%s: skipped a watch event that is not an object", self.kind.kind)
                    continue
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise ApiException(status=410, reason=obj.get("message"))
                    raise ApiException(status=obj.get("code") or 500, reason=obj.get("message"))
                version = _meta(obj).get("resourceVersion")
                if kind == "BOOKMARK":
                    self.resource_version = version or self.resource_version
                    continue
                obj.setdefault("kind", self.kind.kind)
                obj.setdefault("apiVersion", self.kind.api_version)
                uid = _meta(obj).get("uid")
                if uid:
                    if kind == "DELETED":
                        self.known.pop(uid, None)
                    else:
                        self.known[uid] = _minimal(obj)
                self._emit(kind, obj)
                self.resource_version = version or self.resource_version
        finally:
            response.release_conn()

    def _emit(self, action: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            meta.pop("managedFields", None)
        self.out.put(Observation("k8s", action, obj, utc_now(), _origin(self.kind.kind, meta)))
        if self.listener is not None:
            self.listener(action, obj)

    def report_all_deleted(self) -> None:
        """Every object still known comes out DELETED: the kind itself is gone (its CRD was deleted)."""
        for gone in self.known.values():
            self._emit("DELETED", gone)
        self.known = {}


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    """An object's metadata, or {} when it is missing or not an object (the graph writer then names the record)."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _origin(kind: str, meta: Any) -> str:
    """Where an observation came from, for a rejection message: the watch, the kind and the object's name."""
    if isinstance(meta, dict) and isinstance(meta.get("name"), str):
        namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
        return f"watch:{kind} {namespace + '/' if namespace else ''}{meta['name']}"
    return f"watch:{kind}"


def _minimal(obj: dict[str, Any]) -> dict[str, Any]:
    meta = _meta(obj)
    return {"kind": obj.get("kind"), "apiVersion": obj.get("apiVersion"),
            "metadata": {k: meta.get(k) for k in ("uid", "name", "namespace", "labels", "annotations")
                         if meta.get(k) is not None}}


def _lines(response: Any, stop: threading.Event) -> Iterator[bytes]:
    buffer = b""
    for chunk in response.stream(amt=65536, decode_content=True):
        if stop.is_set():
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer


@dataclasses.dataclass
class Watch:
    """The running watchers; ``observations()`` yields what they see until ``stop`` is set.

    ``watchers`` grows and shrinks as ``discovery`` starts and stops the GitOps kinds' watchers.
    """

    watchers: list[KindWatcher]
    out: queue.Queue[Observation]
    stop: threading.Event
    threads: list[threading.Thread]
    discovery: CrdDiscovery | None = None
    logs: LogFetcher | None = None  # reads crashed containers' last lines (setting container_logs)

    def observations(self, idle: float = 0.5) -> Iterator[Observation | None]:
        """Observations as they come; ``None`` after ``idle`` seconds without one, so callers can flush."""
        while not self.stop.is_set() or not self.out.empty():
            try:
                yield self.out.get(timeout=idle)
            except queue.Empty:
                yield None


def start_watch(cfg: Config, stop: threading.Event, kinds: tuple[Kind, ...] = KINDS,
                api: client.ApiClient | None = None,
                custom_kinds: tuple[CustomKind, ...] = GITOPS_KINDS) -> Watch:
    """Start a watcher per kind and namespace; ``custom_kinds`` are watched while their CRDs exist (only
    when CustomResourceDefinitions are among ``kinds``, since their watcher is what discovers them)."""
    api = api or api_client(cfg)
    out: queue.Queue[Observation] = queue.Queue(maxsize=50000)
    namespaces: list[str | None] = list(cfg.namespaces) or [None]
    watchers: list[KindWatcher] = []
    discovery = None
    if custom_kinds and any(k.kind == "CustomResourceDefinition" for k in kinds):
        discovery = CrdDiscovery(api, namespaces, out, stop, watchers, custom_kinds)
    logs = LogFetcher(api, cfg, out, stop).start() if cfg.container_logs and any(
        k.kind == "Pod" for k in kinds) else None
    for kind in kinds:
        listener = discovery.observe if discovery and kind.kind == "CustomResourceDefinition" else None
        if logs is not None and kind.kind == "Pod":
            listener = logs.observe
        watchers += [KindWatcher(api, kind, ns, out, stop, listener)
                     for ns in (namespaces if kind.namespaced else [None])]
    threads = [threading.Thread(target=w.run, name=f"watch-{w.kind.kind}-{w.namespace or 'all'}", daemon=True)
               for w in watchers]
    for thread in threads:
        thread.start()
    return Watch(watchers, out, stop, threads, discovery, logs)


def watch_events(cfg: Config, stop: threading.Event) -> Iterator[Observation]:
    """Every observation the watchers make, until ``stop`` is set."""
    watch = start_watch(cfg, stop)
    for observation in watch.observations():
        if observation is not None:
            yield observation


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes (used by tests and the recorder)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())

"""`kgrca watch` against the real API server of the local cluster: live objects reach the graph, a
dropped connection loses nothing, and a 410 Gone re-lists.

The dropped connection is made by a TCP proxy on loopback between the watcher and the API server,
which cuts every open connection; the 410 by resuming from a resourceVersion the API server no longer has:
the test compacts etcd to its current revision first, so the answer is the same on a cluster made a minute
ago and on one that has run for days (etcd's own periodic compaction is not waited for).
"""

from __future__ import annotations

import base64
import json
import select
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from ingest.k8s_watch import KINDS, KindWatcher, api_client, start_watch
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter

pytestmark = [pytest.mark.cluster, pytest.mark.neo4j]


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` drops every live connection at once."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.connections += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        raise OSError
                    (b if source is a else a).sendall(data)
        except OSError:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        with self.lock:
            for s in self.connections:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.connections = []
            self.cuts += 1

    def close(self) -> None:
        self.server.close()
        self.cut()


@pytest.fixture(scope="module")
def kubeconfig(neo4j_config):
    from localdev.cluster import ensure_up

    return Path(ensure_up(neo4j_config))


@pytest.fixture
def namespace(kubeconfig):
    from kgrca.config import load_config
    from localdev.cluster import kubectl_binary

    name = f"watch-{uuid.uuid4().hex[:8]}"
    kubectl = [str(kubectl_binary(load_config())), "--kubeconfig", str(kubeconfig)]
    subprocess.run([*kubectl, "create", "namespace", name], check=True, capture_output=True)
    yield name, kubectl
    subprocess.run([*kubectl, "delete", "namespace", name, "--wait=false"], capture_output=True)


def proxied_kubeconfig(kubeconfig: Path, tmp_path: Path) -> tuple[Path, CuttingProxy]:
    config = yaml.safe_load(kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    host, port = server.split("://", 1)[1].rsplit(":", 1)
    proxy = CuttingProxy((host.strip("[]"), int(port)))
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    config["clusters"][0]["cluster"]["tls-server-name"] = host.strip("[]")
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path, proxy


def configmap(name: str, namespace: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
                       "data": {"k": "v"}})


def create(kubectl: list[str], manifest: str) -> None:
    subprocess.run([*kubectl, "apply", "-f", "-"], input=manifest, text=True, check=True, capture_output=True)


def names_in_graph(driver, namespace: str) -> set[str]:
    records = driver.execute_query("MATCH (c:ConfigMap {namespace: $ns}) RETURN c.name AS n", ns=namespace).records
    return {r["n"] for r in records}


def wait_until(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


def etcd_call(method: str, body: dict) -> dict:
    """One call to the local etcd's v3 JSON gateway (plain HTTP on loopback, see localdev/cluster/control_plane.py)."""
    from localdev.cluster.layout import ETCD_CLIENT_PORT, HOST

    request = urllib.request.Request(f"http://{HOST}:{ETCD_CLIENT_PORT}/v3/{method}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def compact_etcd() -> int:
    """Compact etcd to its current revision, as its periodic compaction would later; returns that revision."""
    revision = int(etcd_call("kv/range", {"key": base64.b64encode(b"/").decode()})["header"]["revision"])
    etcd_call("kv/compaction", {"revision": str(revision), "physical": True})
    return revision


def run_watch_into_graph(cfg, driver, stop: threading.Event):
    """What `kgrca watch` does, in a thread, so the test can act while it runs."""
    watch = start_watch(cfg, stop, kinds=tuple(k for k in KINDS if k.kind in {"ConfigMap", "Namespace"}))
    writer = Neo4jWriter(driver, 100)

    def loop() -> None:
        batch = []
        for observation in watch.observations(idle=0.2):
            if observation is not None:
                batch.append(observation)
            elif batch:
                writer.write(batch)
                batch = []

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return watch, thread


def test_watch_survives_a_dropped_connection_and_loses_nothing(neo4j_config, neo4j_driver, kubeconfig,
                                                               namespace, tmp_path):
    ns, kubectl = namespace
    apply_schema(neo4j_driver)
    config_path, proxy = proxied_kubeconfig(kubeconfig, tmp_path)
    cfg = neo4j_config.replace(kubeconfig=str(config_path), namespaces=[ns])
    stop = threading.Event()
    watch, thread = run_watch_into_graph(cfg, neo4j_driver, stop)
    try:
        create(kubectl, configmap("before-cut", ns))
        assert wait_until(lambda: "before-cut" in names_in_graph(neo4j_driver, ns))
        proxy.cut()
        create(kubectl, configmap("during-cut", ns))  # made while the watcher is disconnected
        create(kubectl, configmap("after-cut", ns))
        assert wait_until(lambda: {"before-cut", "during-cut", "after-cut"} <= names_in_graph(neo4j_driver, ns))
        assert sum(w.reconnects for w in watch.watchers) >= 1
    finally:
        stop.set()
        proxy.close()
        thread.join(10)


def test_a_gone_resource_version_relists_and_reports_deletions(neo4j_config, kubeconfig, namespace):
    import queue

    ns, kubectl = namespace
    create(kubectl, configmap("stays", ns))
    create(kubectl, configmap("goes", ns))
    cfg = neo4j_config.replace(kubeconfig=str(kubeconfig))
    kind = next(k for k in KINDS if k.kind == "ConfigMap")
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    watcher = KindWatcher(api_client(cfg), kind, ns, out, stop)
    watcher._list()
    assert watcher.relists == 1 and {o.payload["metadata"]["name"] for o in list(out.queue)} >= {"stays", "goes"}
    subprocess.run([*kubectl, "-n", ns, "delete", "configmap", "goes"], check=True, capture_output=True)
    compact_etcd()  # every revision before now is gone, on a young cluster too
    watcher.resource_version = "1"  # compacted: the API server answers 410 Gone
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: watcher.relists >= 2, timeout=60), "no re-list after 410"
        deleted = [o for o in list(out.queue) if o.action == "DELETED"]
        assert [o.payload["metadata"]["name"] for o in deleted] == ["goes"]
    finally:
        stop.set()
        thread.join(10)


def test_the_watch_skips_and_counts_an_object_it_cannot_store_and_writes_the_others(neo4j_driver):
    """One bad object in a cluster must not make `kgrca watch` crash-loop: it is logged, counted, skipped."""
    from faces.commands.watch import _write
    from kg_builder.writer import Neo4jWriter
    from kgrca.bus.metrics import WatchMetrics
    from kgrca.contracts import Observation

    apply_schema(neo4j_driver)
    good = json.loads(configmap("fine", "prod"))
    good["metadata"]["uid"] = "uid-fine"
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd", "namespace": "prod", "uid": "uid-odd",
                                                                 "labels": ["not", "a", "map"]}}
    metrics = WatchMetrics()
    batch = [Observation("k8s", "ADDED", obj, "2026-11-20T10:00:00Z", "watch:ConfigMap prod/" + name)
             for obj, name in ((bad, "odd"), (good, "fine"))]
    _write(Neo4jWriter(neo4j_driver), batch, threading.Event(), metrics)
    assert metrics.rejected._value.get() == 1
    names = {r["name"] for r in neo4j_driver.execute_query("MATCH (c:ConfigMap) RETURN c.name AS name").records}
    assert names == {"fine"}

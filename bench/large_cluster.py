"""A large cluster's first list: `kgrca watch` on 10,000 pods, the time until the graph holds them and the builder's
peak RSS (issue 20, item 6). The dump of a 100,000-pod cluster through `kgrca ingest` is bench/big_dump.py.

    python bench/large_cluster.py                       10,000 pods in the local cluster (`kgrca cluster up`)
    python bench/large_cluster.py --pods 2000 --prefix me-bench-
    python bench/large_cluster.py --keep                leave the namespaces and nodes (delete with --clean)

Builds, in the shared local cluster (kubeconfig of `kgrca cluster`), namespaces named PREFIX0..PREFIX49 holding the
proportions of bench/big_dump.py (per 50 pods: 2 Helm releases of 3 revisions as release Secrets, 8 Deployments,
10 Jobs, 58 Events), on kwok nodes of its own (PREFIXnode-N, tainted so nobody else's pods land there). Pods are
created bound to those nodes with parallel requests; Deployments have no replicas and Jobs are suspended, so the
controller-manager (20 requests/s) creates no pods beside them and the cluster stays usable for others. The
creation is timed on its own. Then `kgrca watch` starts, writing to KGRCA_NEO4J_URI (WIPED first), and the bench
prints the time until the graph holds every pod, Deployment, Job, Event and revision it created (the initial
list, written; what an earlier run left under PREFIX is deleted from the graph first), and the watcher's peak RSS
(VmHWM). Target: under 500 MB. Namespaces and nodes are deleted at
the end.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import big_dump  # noqa: E402

from kgrca.config import load_config  # noqa: E402
from kgrca.graphdb import connect  # noqa: E402
from localdev import cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NODE_ANNOTATION = "kwok.x-k8s.io/node"
TAINT = {"key": "kgrca.dev/bench", "value": "large-cluster", "effect": "NoSchedule"}
PODS_PER_NODE = 1000
TARGET_MB = 500


def api(kubeconfig: Path):
    from kubernetes import client
    from kubernetes import config as kube_config

    configuration = client.Configuration()
    kube_config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.connection_pool_maxsize = 32
    return client.ApiClient(configuration)


def request(api_client, method: str, path: str, body: Any = None) -> dict:
    """One call to the API server with a plain dict body (the generated models would double the client's work)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    api_client.update_params_for_auth(headers, None, ["BearerToken"], path, method, body)
    response = api_client.call_api(method, api_client.configuration.host + path, header_params=headers, body=body,
                                   _request_timeout=60)
    response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {response.data[:300]!r}")
    return json.loads(response.data or b"{}")


def node_manifest(name: str) -> dict:
    capacity = {"cpu": "1000", "memory": "4000Gi", "pods": str(PODS_PER_NODE), "ephemeral-storage": "50Gi"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                         "labels": {"kubernetes.io/hostname": name, "type": "kwok",
                                    "kgrca.dev/bench": "large-cluster"}},
            "spec": {"taints": [TAINT]}, "status": {"capacity": capacity, "allocatable": capacity}}


PATHS = {"Secret": "/api/v1/namespaces/{ns}/secrets", "Pod": "/api/v1/namespaces/{ns}/pods",
         "Event": "/api/v1/namespaces/{ns}/events", "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
         "Job": "/apis/batch/v1/namespaces/{ns}/jobs"}


def for_create(obj: dict) -> dict:
    """What a client sends: no uid, resourceVersion, creation time or status (the server sets them)."""
    obj = copy.deepcopy(obj)
    meta = obj["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp", "ownerReferences"):
        meta.pop(key, None)
    if obj["kind"] != "Event":
        obj.pop("status", None)
    if obj["kind"] == "Pod":
        obj["spec"]["tolerations"] = [{**TAINT, "operator": "Equal"}]
    return obj


def create_unit(api_client, unit: int, namespace: str, node: str) -> int:
    """One unit's objects in order; an Event names the uid its object really got."""
    uids: dict[str, str] = {}
    made = 0
    for obj in big_dump.unit_objects(unit, namespace, node=node, for_api=True):
        body = for_create(obj)
        if body["kind"] == "Event":
            involved = body["involvedObject"]
            involved["uid"] = uids.get(f"{involved['kind']}/{involved['name']}", "")
        created = request(api_client, "POST", PATHS[body["kind"]].format(ns=namespace), body)
        uids[f"{body['kind']}/{body['metadata']['name']}"] = created.get("metadata", {}).get("uid", "")
        made += 1
    return made


def build(api_client, pods: int, prefix: str, workers: int) -> tuple[int, float]:
    units = max(pods // big_dump.PODS_PER_UNIT, 1)
    nodes = [f"{prefix}node-{i}" for i in range(-(-units * big_dump.PODS_PER_UNIT // PODS_PER_NODE))]
    started = time.perf_counter()
    for name in nodes:
        request(api_client, "POST", "/api/v1/nodes", node_manifest(name))
    for n in range(min(units, big_dump.NAMESPACES)):
        request(api_client, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                            "metadata": {"name": f"{prefix}{n}"}})
    wait_for_service_accounts(api_client, prefix, min(units, big_dump.NAMESPACES))
    made = 0
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(create_unit, api_client, unit, f"{prefix}{unit % big_dump.NAMESPACES}",
                               nodes[unit * big_dump.PODS_PER_UNIT // PODS_PER_NODE]) for unit in range(units)]
        for done, future in enumerate(futures, 1):
            made += future.result()
            if done % 20 == 0:
                rate = made / (time.perf_counter() - started)
                print(f"  {done}/{units} units, {made:,} objects ({rate:,.0f}/s)", flush=True)
    return made, time.perf_counter() - started


def wait_for_service_accounts(api_client, prefix: str, namespaces: int) -> None:
    # pods are refused until their namespace's default ServiceAccount exists
    deadline = time.monotonic() + 120
    for n in range(namespaces):
        while True:
            try:
                request(api_client, "GET", f"/api/v1/namespaces/{prefix}{n}/serviceaccounts/default")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def pending_pods(api_client, prefix: str) -> int:
    listed = request(api_client, "GET", "/api/v1/pods?fieldSelector=status.phase%3DPending"
                                        "&labelSelector=&resourceVersion=0")
    return sum(1 for p in listed.get("items", []) if p["metadata"]["namespace"].startswith(prefix))


def clean(api_client, prefix: str) -> None:
    namespaces = request(api_client, "GET", "/api/v1/namespaces")["items"]
    for ns in namespaces:
        if ns["metadata"]["name"].startswith(prefix):
            request(api_client, "DELETE", f"/api/v1/namespaces/{ns['metadata']['name']}")
    for node in request(api_client, "GET", "/api/v1/nodes")["items"]:
        if node["metadata"]["name"].startswith(f"{prefix}node-"):
            request(api_client, "DELETE", f"/api/v1/nodes/{node['metadata']['name']}")


GRAPH_COUNTS = {
    "pods": "MATCH (o:Pod) WHERE o.namespace STARTS WITH $prefix RETURN count(o) AS n",
    "deployments": "MATCH (o:Deployment) WHERE o.namespace STARTS WITH $prefix RETURN count(o) AS n",
    "jobs": "MATCH (o:Job) WHERE o.namespace STARTS WITH $prefix RETURN count(o) AS n",
    "events": "MATCH (o:Event) WHERE o.namespace STARTS WITH $prefix RETURN count(o) AS n",
    "release secrets": "MATCH (o:Revision) WHERE o.namespace STARTS WITH $prefix RETURN count(o) AS n",
}


def watch_first_list(kubeconfig: Path, prefix: str, expected: dict[str, int], timeout: float) -> None:
    cfg = load_config()
    driver = connect(cfg)
    # only what an earlier run of this bench wrote: the graph may hold others' work
    while driver.execute_query("MATCH (n) WHERE n.namespace STARTS WITH $prefix WITH n LIMIT 5000 DETACH DELETE n "
                               "RETURN count(*) AS n", prefix=prefix, database_=cfg.neo4j_database).records[0]["n"]:
        pass
    started = time.perf_counter()
    watcher = subprocess.Popen([sys.executable, "-m", "faces.cli", "watch", "--kubeconfig", str(kubeconfig)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(watcher.stdout), daemon=True).start()
    peak = 0.0
    got: dict[str, int] = {}
    try:
        while time.perf_counter() - started < timeout:
            peak = max(peak, big_dump.peak_rss_mb(watcher.pid) or 0)
            got = {what: driver.execute_query(query, prefix=prefix, database_=cfg.neo4j_database).records[0]["n"]
                   for what, query in GRAPH_COUNTS.items()}
            if all(got[what] >= expected[what] for what in GRAPH_COUNTS):
                break
            if watcher.poll() is not None:
                break
            time.sleep(1.0)
        listed = time.perf_counter() - started
        peak = max(peak, big_dump.peak_rss_mb(watcher.pid) or 0)
    finally:
        watcher.send_signal(signal.SIGTERM)
        try:
            _, status, usage = os.wait4(watcher.pid, 0)
            peak = max(peak, usage.ru_maxrss / 1024)
        except ChildProcessError:
            pass
        driver.close()
    complete = all(got.get(what, 0) >= expected[what] for what in GRAPH_COUNTS)
    print("graph: " + ", ".join(f"{got.get(what, 0):,}/{expected[what]:,} {what}" for what in GRAPH_COUNTS))
    if not complete:
        print("  (incomplete: the watcher's last lines)\n" + "".join(log[-10:]))
    print(f"\nkgrca watch, first list of {sum(expected[w] for w in GRAPH_COUNTS):,} objects into the graph: "
          f"{listed:.1f}s{'' if complete else ' (NOT complete: timed out)'}; builder peak RSS {peak:,.0f} MB "
          f"(target < {TARGET_MB} MB: {'met' if peak < TARGET_MB else 'NOT met'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--prefix", default="kgrca-bench-", help="of the namespaces and nodes (default %(default)s)")
    parser.add_argument("--kubeconfig", type=Path, help="default: the local cluster's (`kgrca cluster up`)")
    parser.add_argument("--workers", type=int, default=16, help="parallel create requests")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the first list")
    parser.add_argument("--keep", action="store_true", help="leave the namespaces and nodes")
    parser.add_argument("--clean", action="store_true", help="only delete what an earlier --keep left")
    parser.add_argument("--reuse", action="store_true", help="the objects are there (--keep): only measure")
    args = parser.parse_args(argv)
    # the shared cluster's kubeconfig: where `kgrca cluster up` keeps it without a KGRCA_DATA_DIR (which here names
    # the data of one's own Neo4j)
    kubeconfig = args.kubeconfig or cluster.kubeconfig_path(load_config().replace(data_dir=None))
    api_client = api(kubeconfig)
    if args.clean:
        clean(api_client, args.prefix)
        return 0
    expected = big_dump.counts(args.pods)
    print("cluster: " + ", ".join(f"{n:,} {what}" for what, n in expected.items() if what != "replicasets"),
          flush=True)
    try:
        if not args.reuse:
            made, seconds = build(api_client, args.pods, args.prefix, args.workers)
            print(f"created {made:,} objects in {seconds:.0f}s ({made / seconds:,.0f}/s, {args.workers} parallel "
                  f"requests)", flush=True)
            started = time.perf_counter()
            while (pending := pending_pods(api_client, args.prefix)) and time.perf_counter() - started < 300:
                time.sleep(5)
            print(f"kwok started the pods in {time.perf_counter() - started:.0f}s more ({pending} still pending)",
                  flush=True)
        watch_first_list(kubeconfig, args.prefix, expected, args.timeout)
    finally:
        if not args.keep:
            clean(api_client, args.prefix)
            print(f"deleted the {args.prefix}* namespaces and nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

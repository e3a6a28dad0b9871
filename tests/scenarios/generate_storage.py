"""Writes the storage failure scenarios: objects.jsonl and expected.yaml of every folder listed here.

    python tests/scenarios/generate_storage.py            rewrite them
    python tests/scenarios/generate_storage.py --check    exit 1 when one on disk differs (CI)

Each scenario is a function returning its input lines (in delivery order) and what must come out. Messages
are the PV controller's, the provisioners' and the scheduler's own, quoted verbatim from the public threads
cited beside them. Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import builders_pods as b  # noqa: E402
from tests.scenarios import builders_storage as s  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.generate_pods import Story, at, nodes  # noqa: E402

Obj = dict[str, Any]
Expected = dict[str, Any]
Lines = list[Obj]
NOW = "2026-11-20T10:10:00Z"
NS = b.NS
PV_CONTROLLER = "persistentvolume-controller"
SCENARIOS = suite.Registry()
scenario = SCENARIOS

# The scheduler on a pod whose claim is unbound (https://github.com/rancher/k3k/issues/450)
UNBOUND_IMMEDIATE = ("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 "
                     "nodes are available: 1 Preemption is not helpful for scheduling.")


def helm_app(st: Story, name: str, claim_name: str, namespace: str = NS, *, ready: int = 0) -> tuple[Obj, Obj]:
    """Helm release ``name`` (revision 2 deployed) declaring a Deployment and its claim; the Deployment and its
    ReplicaSet."""
    for secret in b.helm_revisions(name, namespace, latest_at="2026-11-20T09:58:00Z",
                                   kinds=(("apps/v1", "Deployment", name),
                                          ("v1", "PersistentVolumeClaim", claim_name))):
        st.add(secret, "2026-11-20T09:58:01Z")
    deploy = b.deployment(name, namespace, release=name, replicas=1, ready=ready, created="2026-11-20T09:58:02Z")
    st.add(deploy, "2026-11-20T09:58:02Z")
    rs = b.replicaset(deploy, "6c9f7d", ready=ready, created="2026-11-20T09:58:02Z")
    st.add(rs, "2026-11-20T09:58:02Z")
    return deploy, rs


def waiting_pod(st: Story, name: str, owner: Obj, claim_name: str, said: str, namespace: str = NS) -> Obj:
    """A pod that mounts ``claim_name`` and is not scheduled, with the scheduler's event."""
    pod = b.pod(name, namespace, owner_obj=owner, labels={"app": owner["metadata"]["name"]}, node=None,
                phase="Pending", ready=False, created=at(0, 5), scheduled_message=said,
                volumes=[b.volume("data", "PersistentVolumeClaim", claim_name)])
    st.add(pod, at(0, 6))
    st.add(b.event(pod, "FailedScheduling", said, count=9, first=at(0, 6), last=at(9, 0),
                   component="default-scheduler"), at(9, 0))
    return pod


# --- pvc_pending ----------------------------------------------------------------------------------


@scenario
def pvc_pending_provisioning_failed() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(s.storage_class("kadalu.replica1", "kadalu"), "2026-11-20T09:00:00Z")
    deploy, rs = helm_app(st, "db", "data-db")
    pvc = st.add(s.claim("data-db", storage_class="kadalu.replica1", release="db", provisioner="kadalu",
                         created="2026-11-20T09:58:02Z"), "2026-11-20T09:58:02Z")
    # https://github.com/kubernetes/kubernetes/issues/44370 (the external provisioner's Normal event)
    st.add(b.event(pvc, "Provisioning", 'External provisioner is provisioning volume for claim "prod/data-db"',
                   type_="Normal", count=12, first=at(0, 1), last=at(9, 10), component="kadalu"), at(9, 10))
    # https://github.com/kadalu/kadalu/issues/167
    st.add(b.event(pvc, "ProvisioningFailed", 'failed to provision volume with StorageClass "kadalu.replica1": rpc '
                   "error: code = ResourceExhausted desc = No Hosting Volumes available, add more storage",
                   count=12, first=at(0, 2), last=at(9, 11), component="kadalu"), at(9, 11))
    waiting_pod(st, "db-6c9f7d-x2k8m", rs, "data-db", UNBOUND_IMMEDIATE)
    return st.lines, {
        "description": "the CSI provisioner cannot create the volume of a Helm release's claim (no space left)",
        "expected": "pvc_pending", "now": NOW, "release": "prod/db",
        "subject": "PersistentVolumeClaim/prod/data-db",
        "evidence": ["data-db", "kadalu", "No Hosting Volumes available, add more storage", "db-6c9f7d-x2k8m"],
        "resolution": ["kubectl -n prod describe pvc data-db"],
        "consequences": ["pod_unschedulable"], "roots": 1}


@scenario
def pvc_pending_no_storage_class() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    pvc = st.add(s.claim("hub-db-dir", "jhub", size="1Gi"), at(0))
    # https://github.com/kubernetes/kubernetes/issues/67907
    st.add(b.event(pvc, "FailedBinding", "no persistent volumes available for this claim and no storage class is set",
                   type_="Normal", count=303, first=at(0, 1), last=at(9, 45), component=PV_CONTROLLER), at(9, 45))
    return st.lines, {
        # no StorageClass objects in the input: that none exist is the PV controller's word, not an absence kgrca
        # could prove (a dump may leave them out), so the diagnosis quotes the controller
        "description": "a claim that names no StorageClass in a cluster with no default class and no volume",
        "expected": "pvc_pending", "now": NOW, "subject": "PersistentVolumeClaim/jhub/hub-db-dir",
        "evidence": ["hub-db-dir", "no persistent volumes available for this claim and no storage class is set"],
        "resolution": ["kubectl -n jhub describe pvc hub-db-dir"], "roots": 1}


@scenario
def pvc_pending_class_missing() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(s.storage_class("standard", "rancher.io/local-path", default=True, binding="WaitForFirstConsumer"),
           "2026-11-20T09:00:00Z")
    sts = st.add(b.statefulset("swarm-bee", "swarm"), at(0))
    pvc = st.add(s.claim("data-swarm-bee-0", "swarm", storage_class="swarm-storage"), at(0))
    # https://github.com/ethersphere/helm/issues/143
    st.add(b.event(pvc, "ProvisioningFailed", 'storageclass.storage.k8s.io "swarm-storage" not found', count=22,
                   first=at(0, 1), last=at(9, 15), component=PV_CONTROLLER), at(9, 15))
    waiting_pod(st, "swarm-bee-0", sts, "data-swarm-bee-0", UNBOUND_IMMEDIATE, "swarm")
    return st.lines, {
        "description": "a StatefulSet's claim asks for a StorageClass that does not exist",
        "expected": "pvc_pending", "now": NOW, "subject": "PersistentVolumeClaim/swarm/data-swarm-bee-0",
        "evidence": ["data-swarm-bee-0", "swarm-storage", "does not exist", "the default class is standard",
                     'storageclass.storage.k8s.io "swarm-storage" not found'],
        "resolution": ["kubectl -n swarm describe pvc data-swarm-bee-0"]}


@scenario
def pvc_pending_wait_for_consumer() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(s.storage_class("local-storage", "kubernetes.io/no-provisioner", binding="WaitForFirstConsumer"),
           "2026-11-20T09:00:00Z")
    deploy, rs = helm_app(st, "search", "search-index")
    pvc = st.add(s.claim("search-index", storage_class="local-storage", release="search",
                         created="2026-11-20T09:58:02Z"), "2026-11-20T09:58:02Z")
    # https://github.com/kubernetes-sigs/nfs-ganesha-server-and-external-provisioner/issues/105
    st.add(b.event(pvc, "WaitForFirstConsumer", "waiting for first consumer to be created before binding",
                   type_="Normal", count=7, first=at(0, 1), last=at(9, 0), component=PV_CONTROLLER), at(9, 0))
    # https://github.com/kubernetes-sigs/sig-storage-local-static-provisioner/issues/424
    waiting_pod(st, "search-6c9f7d-p4w9z", rs, "search-index",
                "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind. preemption: "
                "0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
    return st.lines, {
        "description": "a local-volume claim binds on first consumer, and no node has a free local volume for the pod",
        "expected": "pvc_pending", "now": NOW, "release": "prod/search",
        "subject": "PersistentVolumeClaim/prod/search-index",
        "evidence": ["search-index", "local-storage", "search-6c9f7d-p4w9z",
                     "didn't find available persistent volumes to bind"],
        "resolution": ["kubectl -n prod describe pod search-6c9f7d-p4w9z"],
        "consequences": ["pod_unschedulable"], "roots": 1}


@scenario
def near_miss_storage_wait_for_consumer_no_pod() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(s.storage_class("standard", "rancher.io/local-path", default=True, binding="WaitForFirstConsumer"),
           "2026-11-20T09:00:00Z")
    pvc = st.add(s.claim("scratch", storage_class="standard"), at(0))
    st.add(b.event(pvc, "WaitForFirstConsumer", "waiting for first consumer to be created before binding",
                   type_="Normal", count=7, first=at(0, 1), last=at(9, 0), component=PV_CONTROLLER), at(9, 0))
    return st.lines, {
        "description": "a claim that binds on first consumer and no pod uses yet: Pending by design, no finding",
        "expected": "none", "now": NOW}


@scenario
def near_miss_storage_healthy() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(s.storage_class("standard", "rancher.io/local-path", default=True, binding="WaitForFirstConsumer",
                           expansion=True), "2026-11-20T09:00:00Z")
    st.add(s.storage_class("nfs", "nfs.csi.k8s.io", reclaim="Retain"), "2026-11-20T09:00:00Z")
    deploy = b.deployment("api", replicas=1, ready=1, created=at(0))
    st.add(deploy, at(0))
    rs = b.replicaset(deploy, "5f6d8c", created=at(0))
    st.add(rs, at(0))
    pvc = s.claim("data-api", storage_class="standard", provisioner="rancher.io/local-path", selected_node="node-1",
                  created=at(0))
    st.add(pvc, at(0))
    # the history of a claim that bound fine: the old Normal events must not count
    st.add(b.event(pvc, "WaitForFirstConsumer", "waiting for first consumer to be created before binding",
                   type_="Normal", first=at(0, 1), component=PV_CONTROLLER), at(0, 1))
    st.add(b.event(pvc, "ExternalProvisioning", "Waiting for a volume to be created either by the external "
                   "provisioner 'rancher.io/local-path' or manually by the system administrator. If volume creation "
                   "is delayed, please verify that the provisioner is running and correctly registered.",
                   type_="Normal", first=at(0, 2), component=PV_CONTROLLER), at(0, 2))
    pv_name = "pvc-" + pvc["metadata"]["uid"]
    st.add(s.volume(pv_name, pvc, storage_class="standard",
                    source={"hostPath": {"path": f"/opt/local-path-provisioner/{pv_name}_prod_data-api",
                                         "type": "DirectoryOrCreate"}}), at(0, 8))
    pvc["spec"]["volumeName"] = pv_name
    pvc["status"] = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}}
    st.update(pvc, at(0, 9))
    pod = b.pod("api-5f6d8c-h7k2m", owner_obj=rs, labels={"app": "api"}, created=at(0, 3),
                volumes=[b.volume("data", "PersistentVolumeClaim", "data-api")])
    st.add(pod, at(0, 20))
    # a static NFS volume nobody claimed yet
    st.add(s.volume("nfs-share", None, storage_class="nfs", phase="Available", reclaim="Retain",
                    source={"nfs": {"server": "10.0.0.5", "path": "/exports/share"}}), at(0))
    return st.lines, {"description": "a bound claim on a default class, its volume, its running pod and an "
                                     "available NFS volume: no finding", "expected": "none", "now": NOW}


# --- pvc_resize_stuck -----------------------------------------------------------------------------

LONGHORN_PVC = "tmp-pvc-a3e358c5-844b-441a-87eb-e5229567eea2"
LONGHORN_PV = "pvc-c14fb749-8bb9-497b-a55e-d8f7ab370d2d"


def resizing_claim(st: Story, since: str) -> Obj:
    """A Longhorn claim grown from 26000490496 bytes to 26Gi, Resizing since ``since``
    (https://github.com/longhorn/longhorn/issues/9125)."""
    st.add(s.storage_class("longhorn", "driver.longhorn.io", expansion=True), "2026-11-19T08:00:00Z")
    pvc = s.claim(LONGHORN_PVC, "zfcloud-vm-system", storage_class="longhorn", size="26Gi", phase="Bound",
                  volume=LONGHORN_PV, capacity="26000490496", provisioner="driver.longhorn.io",
                  created="2026-11-19T09:00:00Z")
    pvc["status"]["conditions"] = [{"type": "Resizing", "status": "True", "lastTransitionTime": since,
                                    "lastProbeTime": None}]
    st.add(pvc, since)
    st.add(b.event(pvc, "Resizing", f"External resizer is resizing volume {LONGHORN_PV}", type_="Normal",
                   first=since, component="external-resizer driver.longhorn.io"), since)
    return pvc


@scenario
def pvc_resize_stuck_resizer_failed() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    pvc = resizing_claim(st, at(1))
    said = (f'resize volume "{LONGHORN_PV}" by resizer "driver.longhorn.io" failed: rpc error: code = '
            f"DeadlineExceeded desc = volume {LONGHORN_PV} expansion from existing capacity 26000490496 to "
            "requested capacity 27917287424 failed")
    st.add(b.event(pvc, "VolumeResizeFailed", said, count=4, first=at(2, 30), last=at(8, 30),
                   component="external-resizer driver.longhorn.io"), at(8, 30))
    return st.lines, {
        "description": "the CSI resizer fails to grow a Longhorn volume: the claim asks for 26Gi and keeps its size",
        "expected": "pvc_resize_stuck", "now": NOW,
        "subject": f"PersistentVolumeClaim/zfcloud-vm-system/{LONGHORN_PVC}",
        "evidence": [LONGHORN_PVC, "26Gi", "26000490496", "expansion from existing capacity 26000490496"],
        "resolution": [f"kubectl -n zfcloud-vm-system describe pvc {LONGHORN_PVC}"], "roots": 1}


@scenario
def near_miss_storage_resize_in_progress() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    resizing_claim(st, at(9, 40))
    return st.lines, {"description": "a resize asked for 20 seconds ago and under way: no finding",
                      "expected": "none", "now": NOW}


# --- pv_released_or_failed -------------------------------------------------------------------------


def released_volume(st: Story, namespace: str = "default") -> tuple[Obj, Obj]:
    """Claim pvc-test bound to local volume pv-test (reclaimPolicy Retain), then deleted: the volume is Released
    and keeps the old claim's claimRef (https://github.com/kubernetes/kubernetes/issues/91847)."""
    st.add(s.storage_class("sc-test", "kubernetes.io/no-provisioner"), "2026-11-19T08:00:00Z")
    old = s.claim("pvc-test", namespace, storage_class="sc-test", size="2Gi", phase="Bound", volume="pv-test",
                  created="2026-11-19T09:00:00Z")
    st.add(old, "2026-11-19T09:00:05Z")
    pv = s.volume("pv-test", old, storage_class="sc-test", size="2Gi", phase="Released", reclaim="Retain",
                  source={"local": {"path": "/tmp/pv-test"}})
    pv["status"]["lastPhaseTransitionTime"] = at(1)
    st.add(pv, at(1))
    st.add(old, at(1), "DELETED")
    return old, pv


@scenario
def pv_released_or_failed_retain_blocks_claim() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    released_volume(st)
    st.add(s.claim("pvc-test", "default", storage_class="sc-test", size="2Gi", created=at(2)), at(2))
    return st.lines, {
        "description": "a Retain volume Released by a deleted claim keeps its claimRef; the re-created claim of the "
                       "same name stays Pending",
        "expected": "pv_released_or_failed", "now": NOW, "subject": "PersistentVolume//pv-test",
        "evidence": ["pv-test", "Released", "Retain", "default/pvc-test"],
        "resolution": ["kubectl patch pv pv-test"], "absent": ["pvc_pending"], "roots": 1}


@scenario
def pv_released_or_failed_delete_failed() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    st.add(s.storage_class("local-storage", "kubernetes.io/no-provisioner"), "2026-11-19T08:00:00Z")
    old = s.claim("dse-data-dse-2", "default", storage_class="local-storage", size="375Gi", phase="Bound",
                  volume="local-ssd-pv-jtlx", created="2026-11-19T09:00:00Z")
    st.add(old, "2026-11-19T09:00:05Z")
    st.add(old, at(1), "DELETED")
    # https://github.com/kubernetes-retired/external-storage/issues/779 (the volume and claim names) and
    # https://github.com/yandex-cloud/k8s-csi-s3/issues/129 (the PV controller's words, current wording)
    said = 'error getting deleter volume plugin for volume "local-ssd-pv-jtlx": no deletable volume plugin matched'
    pv = s.volume("local-ssd-pv-jtlx", old, storage_class="local-storage", size="375Gi", phase="Failed",
                  reclaim="Delete", source={"local": {"path": "/mnt/disks/ssd1"}}, message=said)
    pv["status"]["lastPhaseTransitionTime"] = at(1, 2)
    st.add(pv, at(1, 2))
    st.add(b.event(pv, "VolumeFailedDelete", said, first=at(1, 2), component=PV_CONTROLLER), at(1, 2))
    return st.lines, {
        "description": "a local volume with reclaimPolicy Delete that no plugin can delete: Failed",
        "expected": "pv_released_or_failed", "now": NOW, "subject": "PersistentVolume//local-ssd-pv-jtlx",
        "evidence": ["local-ssd-pv-jtlx", "Failed", "no deletable volume plugin matched", "default/dse-data-dse-2"],
        "resolution": ["kubectl describe pv local-ssd-pv-jtlx"], "roots": 1}


@scenario
def near_miss_storage_released_retained() -> tuple[Lines, Expected]:
    st = Story()
    nodes(st, 1)
    released_volume(st)
    return st.lines, {"description": "a Retain volume Released by a deleted claim, no new claim: kept on purpose, "
                                     "no finding", "expected": "none", "now": NOW}


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_storage.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

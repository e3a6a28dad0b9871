"""StorageClasses, PersistentVolumeClaims and PersistentVolumes in the API server's JSON form, for the storage
scenarios (tests/scenarios/generate_storage.py).

Field for field as the API server returns them (storage.k8s.io/v1 StorageClass, core/v1
PersistentVolumeClaim and PersistentVolume); pods, workloads, nodes and Events come from builders_pods.py.
"""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.scenarios.builders_pods import NS, T0

Obj = dict[str, Any]
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def storage_class(name: str, provisioner: str, *, default: bool = False, binding: str = "Immediate",
                  expansion: bool | None = None, reclaim: str = "Delete") -> Obj:
    """A StorageClass as the API server returns it: reclaimPolicy and volumeBindingMode are always filled in."""
    obj: Obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": f.meta(name, None, annotations={DEFAULT_CLASS: "true"} if default else None,
                                   created="2026-11-01T08:00:00Z"),
                "provisioner": provisioner, "reclaimPolicy": reclaim, "volumeBindingMode": binding}
    if expansion is not None:
        obj["allowVolumeExpansion"] = expansion
    return obj


def claim(name: str, namespace: str = NS, *, storage_class: str | None = None, size: str = "10Gi",
          phase: str = "Pending", volume: str | None = None, capacity: str | None = None,
          release: str | None = None, provisioner: str | None = None, selected_node: str | None = None,
          created: str = T0, modes: tuple[str, ...] = ("ReadWriteOnce",)) -> Obj:
    """A claim; ``storage_class=None`` leaves storageClassName out (as when no default class existed at
    creation), ``""`` asks for no class. A Bound claim carries its volume, capacity and access modes."""
    annotations: dict[str, str] = {}
    if release:
        annotations.update(f.helm_managed(release, namespace))
    if provisioner:  # the PV controller's mark of which provisioner should act
        annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
        annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
    if selected_node:
        annotations["volume.kubernetes.io/selected-node"] = selected_node
    spec: Obj = {"accessModes": list(modes), "resources": {"requests": {"storage": size}},
                 "volumeMode": "Filesystem"}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if volume:
        spec["volumeName"] = volume
    status: Obj = {"phase": phase}
    if phase == "Bound":
        status.update({"accessModes": list(modes), "capacity": {"storage": capacity or size}})
    meta = f.meta(name, namespace, annotations=annotations or None, created=created,
                  labels={"app.kubernetes.io/managed-by": "Helm"} if release else None)
    meta["finalizers"] = ["kubernetes.io/pvc-protection"]
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec, "status": status}


def volume(name: str, bound_to: Obj | None, *, storage_class: str, size: str = "10Gi", phase: str = "Bound",
           reclaim: str = "Delete", source: Obj | None = None, message: str | None = None) -> Obj:
    """A PersistentVolume; ``bound_to`` is the claim of its claimRef (None: available, no claimRef)."""
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
                 "persistentVolumeReclaimPolicy": reclaim, "storageClassName": storage_class,
                 "volumeMode": "Filesystem",
                 **(source or {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0a1b2c3d4e5f60718",
                                       "fsType": "ext4"}})}
    if bound_to is not None:
        m = bound_to["metadata"]
        spec["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": m["name"],
                            "namespace": m["namespace"], "uid": m["uid"],
                            "resourceVersion": m["resourceVersion"]}
    status: Obj = {"phase": phase, "lastPhaseTransitionTime": T0}
    if message:
        status["message"] = message
    meta = f.meta(name, None, created="2026-11-19T09:00:00Z")
    meta["finalizers"] = ["kubernetes.io/pv-protection"]
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta, "spec": spec, "status": status}

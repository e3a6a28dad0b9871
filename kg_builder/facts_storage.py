"""Graph facts for storage: PersistentVolumes, StorageClasses, PVC details (docs/graph-model.md).

Registered by kg_builder/k8s_objects.py: ``PROPS[(group, kind)]`` returns properties merged into the object's,
``ROWS[(group, kind)]`` yields extra (Statement, row) pairs; the core group is "".

Every property is a field the object carries; a field the object does not carry is left out (None removes the
property), never given a default: a StorageClass with no volumeBindingMode has no ``volume_binding_mode``
(the API server fills in Immediate, so a real object always has one). Quantities stay the API's strings
("10Gi"), so a diagnosis quotes them as the user wrote them. Links go to name slots (``USES``, as a Pod's
ConfigMap does), so they resolve whichever object arrives first:

    (:PersistentVolumeClaim)-[:USES {how: 'storageClass'}]->(:Resource {ref: 'StorageClass//<class>'})
    (:PersistentVolumeClaim)-[:USES {how: 'boundVolume'}]->(:Resource {ref: 'PersistentVolume//<pv>'})
    (:PersistentVolume)-[:USES {how: 'claimRef', key: <claim uid>}]
        ->(:Resource {ref: 'PersistentVolumeClaim/<ns>/<claim>'})
    (:PersistentVolume)-[:USES {how: 'storageClass'}]->(:Resource {ref: 'StorageClass//<class>'})
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kg_builder import k8s_statements as st
from kg_builder.statements import Emitted
from kg_builder.times import with_times
from kgrca.contracts import Observation
from kgrca.keys import resource_ref

Obj = dict[str, Any]

# The annotations that mark the cluster's default class: the GA one and the beta one older clusters still set.
DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class")
# The volume sources a PV may name, in the order kubectl describe lists them; the first present is its type.
_SOURCES = ("csi", "nfs", "hostPath", "local", "iscsi", "fc", "rbd", "cephfs", "glusterfs", "awsElasticBlockStore",
            "gcePersistentDisk", "azureDisk", "azureFile", "vsphereVolume", "cinder", "portworxVolume", "flexVolume")


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """A quantity or name as a string; None when the field is absent (so the property stays absent)."""
    return None if value is None else str(value)


_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
             "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "": 1}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|)$")


def quantity_bytes(value: Any) -> float | None:
    """A storage quantity ("10Gi", "500M", "26000490496") in bytes; None when it is not one we can read (an
    exponent form such as "1e9" is rare for storage and left unread rather than guessed)."""
    match = _QUANTITY.match(str(value).strip()) if value is not None else None
    return float(match.group(1)) * _SUFFIXES[match.group(2)] if match else None


def _resize_wanted(spec: Obj, status: Obj) -> bool | None:
    """True when a Bound claim asks for more than it has: a resize was asked for and has not finished. Compared
    in bytes, so "1Gi" asked and "1073741824" given is no resize; None (absent) otherwise."""
    if status.get("phase") != "Bound":
        return None
    wanted = quantity_bytes(_dict(_dict(spec.get("resources")).get("requests")).get("storage"))
    has = quantity_bytes(_dict(status.get("capacity")).get("storage"))
    return True if wanted is not None and has is not None and wanted > has else None


def pvc_props(obj: Obj) -> dict[str, Any]:
    """What a claim asks for and has: size, access, the scheduler's node pick and its resize state."""
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    return {
        "requested_storage": _text(_dict(_dict(spec.get("resources")).get("requests")).get("storage")),
        "capacity": _text(_dict(status.get("capacity")).get("storage")),
        "access_modes": list(spec.get("accessModes") or []) or None,
        "volume_mode": spec.get("volumeMode"),
        # set by the scheduler on a WaitForFirstConsumer claim once it picked a node for the pod that uses it
        "selected_node": annotations.get("volume.kubernetes.io/selected-node"),
        # set by the PV controller: the provisioner expected to create the volume
        "storage_provisioner": annotations.get("volume.kubernetes.io/storage-provisioner")
        or annotations.get("volume.beta.kubernetes.io/storage-provisioner"),
        # Resizing, FileSystemResizePending, ControllerResizeError, NodeResizeError: current, not history
        "conditions_true": sorted({c["type"] for c in conditions if c.get("type") and c.get("status") == "True"})
        or None,
        # 1.31+: ControllerResizeInProgress, ControllerResizeInfeasible, NodeResizePending, ...
        "resize_status": _dict(status.get("allocatedResourceStatuses")).get("storage"),
        "allocated_storage": _text(_dict(status.get("allocatedResources")).get("storage")),
        "resize_wanted": _resize_wanted(spec, status),
    }


def pvc_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    spec = _dict(obj.get("spec"))
    if spec.get("storageClassName"):
        yield _uses(obj, "StorageClass", "", spec["storageClassName"], "storageClass")
    if spec.get("volumeName"):
        yield _uses(obj, "PersistentVolume", "", spec["volumeName"], "boundVolume")


def pv_props(obj: Obj) -> dict[str, Any]:
    """A volume's phase, what happens to it when released, the claim it is bound to and where its data lives."""
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    claim = _dict(spec.get("claimRef"))
    source_type = next((s for s in _SOURCES if isinstance(spec.get(s), dict)), None)
    source = _dict(spec.get(source_type)) if source_type else {}
    return with_times({
        "phase": status.get("phase"),
        "reason": status.get("reason"),
        "message": status.get("message"),
        "phase_changed_at": status.get("lastPhaseTransitionTime"),
        "reclaim_policy": spec.get("persistentVolumeReclaimPolicy"),
        "storage_class": spec.get("storageClassName"),
        "capacity": _text(_dict(spec.get("capacity")).get("storage")),
        "access_modes": list(spec.get("accessModes") or []) or None,
        "volume_mode": spec.get("volumeMode"),
        "claim_namespace": claim.get("namespace"),
        "claim_name": claim.get("name"),
        "claim_uid": claim.get("uid"),
        "source_type": source_type,
        "nfs_server": source.get("server") if source_type == "nfs" else None,
        "source_path": source.get("path") if source_type in ("nfs", "hostPath", "local") else None,
        "csi_driver": source.get("driver") if source_type == "csi" else None,
        "volume_handle": source.get("volumeHandle") if source_type == "csi" else None,
    }, "phase_changed_at")


def pv_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    spec = _dict(obj.get("spec"))
    claim = _dict(spec.get("claimRef"))
    if claim.get("name"):
        yield _uses(obj, "PersistentVolumeClaim", claim.get("namespace") or "", claim["name"], "claimRef",
                    key=claim.get("uid"))
    if spec.get("storageClassName"):
        yield _uses(obj, "StorageClass", "", spec["storageClassName"], "storageClass")


def storage_class_props(obj: Obj) -> dict[str, Any]:
    annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
    default = next((annotations[a] for a in DEFAULT_CLASS_ANNOTATIONS if a in annotations), None)
    return {
        "provisioner": obj.get("provisioner"),
        "volume_binding_mode": obj.get("volumeBindingMode"),
        "allow_volume_expansion": obj.get("allowVolumeExpansion"),
        "reclaim_policy": obj.get("reclaimPolicy"),
        # true only where the annotation says "true" (what the admission plugin reads); absent otherwise
        "is_default": True if default == "true" else None,
    }


def _uses(obj: Obj, kind: str, namespace: str, name: str, how: str, key: str | None = None) -> Emitted:
    return st.USES, {"uid": obj["metadata"]["uid"], "ref": resource_ref(kind, namespace, name), "kind": kind,
                     "namespace": namespace, "name": name, "how": how, "optional": False, "key": key}


PROPS: dict[tuple[str, str], Any] = {
    ("", "PersistentVolumeClaim"): pvc_props,
    ("", "PersistentVolume"): pv_props,
    ("storage.k8s.io", "StorageClass"): storage_class_props,
}
ROWS: dict[tuple[str, str], Any] = {
    ("", "PersistentVolumeClaim"): pvc_rows,
    ("", "PersistentVolume"): pv_rows,
}

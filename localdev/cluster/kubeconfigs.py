"""Kubeconfig files for the local cluster: the admin one for users and tests, one per component."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from localdev.cluster.layout import APISERVER_PORT, HOST

CLUSTER_NAME = "kgrca-local"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path: Path, pki: Path, stem: str, user: str) -> Path:
    """A kubeconfig with the CA and the client certificate ``<stem>.crt`` embedded, so it can be copied."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": {
            "server": f"https://{HOST}:{APISERVER_PORT}",
            "certificate-authority-data": _b64(pki / "ca.crt")}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": _b64(pki / f"{stem}.crt"),
            "client-key-data": _b64(pki / f"{stem}.key")}}],
        "contexts": [{"name": CLUSTER_NAME, "context": {"cluster": CLUSTER_NAME, "user": user}}],
        "current-context": CLUSTER_NAME,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(yaml.safe_dump(config, sort_keys=False))
    scratch.chmod(0o600)
    scratch.replace(path)
    return path

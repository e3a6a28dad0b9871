"""A real local Kubernetes control plane and a real helm, for end-to-end tests and recorded scenarios.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler run for real on 127.0.0.1; kwok plays
the kubelets of a few fake nodes (see ``stages.py`` for the pod lifecycles and failures it simulates).
Binaries are built once from the Go module proxy (``build.py``) and cached under ``cfg.cache_path``.

    from localdev import cluster
    kubeconfig = cluster.ensure_up(cfg)          # builds on first use, starts what is not running
    helm = cluster.helm_binary(cfg)              # Helm 4; helm_binary(cfg, 3) or KGRCA_HELM_MAJOR=3: Helm 3
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from kgrca.config import Config
from localdev.cluster import build, control_plane, gitops_crds
from localdev.cluster.control_plane import ComponentStatus
from localdev.cluster.layout import Layout

__all__ = ["ComponentStatus", "ensure_up", "helm_binary", "install_gitops_crds", "kubeconfig_path", "kubectl_binary",
           "status", "stop"]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def ensure_up(cfg: Config, say: Callable[[str], None] | None = None) -> Path:
    """Start the local cluster unless it is already up and healthy; return the admin kubeconfig path."""
    return control_plane.up(cfg, say or _stderr)


def stop(cfg: Config, purge: bool = False, say: Callable[[str], None] | None = None) -> None:
    """Stop every component; ``purge`` also deletes the cluster's data (etcd, certificates, kubeconfig)."""
    control_plane.down(cfg, say or _stderr, purge=purge)


def status(cfg: Config) -> list[ComponentStatus]:
    """Each component's pid, port and health, as its own health endpoint reports it."""
    return control_plane.status(cfg)


def install_gitops_crds(cfg: Config, say: Callable[[str], None] | None = None) -> list[str]:
    """Apply Flux's and Argo CD's pinned CRDs (``gitops_crds.py``; ``ensure_up`` does it too); their names."""
    return gitops_crds.install(cfg, say or _stderr)


def kubeconfig_path(cfg: Config) -> Path:
    return Layout.of(cfg).kubeconfig


def helm_binary(cfg: Config, major: int | None = None) -> Path:
    """helm, built on first use: Helm 4 unless ``major`` (default: the ``helm_major`` setting) says 3."""
    name = build.helm_name(cfg.helm_major if major is None else major)
    return build.ensure_built(cfg, (name,), say=_stderr)[name]


def kubectl_binary(cfg: Config) -> Path:
    """kubectl of the cluster's Kubernetes version, built on first use (a clean machine has none)."""
    return build.ensure_built(cfg, ("kubectl",), say=_stderr)["kubectl"]

"""Where the local cluster keeps its files, and the loopback ports it listens on.

Every port is on 127.0.0.1 and away from the usual ones (etcd 2379, the API server 6443, the kubelet
10250, kube-controller-manager 10257, kube-scheduler 10259), from Neo4j (7474, 7687), Kafka (9092, 9093)
and ``kgrca serve`` (8080), so the cluster can run beside a real one and beside kgrca's own servers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kgrca.config import Config

HOST = "127.0.0.1"
ETCD_CLIENT_PORT = 16379
ETCD_PEER_PORT = 16380
APISERVER_PORT = 16443
CONTROLLER_MANAGER_PORT = 16257
SCHEDULER_PORT = 16259
KWOK_PORT = 16247


@dataclasses.dataclass(frozen=True)
class Layout:
    """Paths under ``cfg.data_path / "cluster"``: kubeconfigs, certificates, etcd data, pid files, logs."""

    root: Path

    @classmethod
    def of(cls, cfg: Config) -> Layout:
        return cls(cfg.data_path / "cluster")

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig that users, tests and helm use."""
        return self.root / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def config(self) -> Path:
        """Per-component kubeconfigs and kwok's configuration."""
        return self.root / "config"

    @property
    def container_logs(self) -> Path:
        """The log files kwok serves as containers' logs in namespace ``stages.LOGS_NAMESPACE``: ``current.log``
        and ``previous.log``, in the CRI log format (``<time> stdout F <line>``)."""
        return self.root / "container-logs"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def component_kubeconfig(self, stem: str) -> Path:
        return self.config / f"{stem}.kubeconfig"

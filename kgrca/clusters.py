"""The cluster a source's observations come from: ``--cluster NAME``, ``KGRCA_CLUSTER``, or for ``kgrca watch``
and ``kgrca record`` the kubeconfig's current context.

Sources stamp it on each ``Observation`` (``stamped``); kgrca/keys.py puts it into every graph key. The
unnamed cluster (``""``) is what graphs held before clusters were named; its keys are unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Iterable, Iterator

from kgrca.config import Config
from kgrca.contracts import ConfigError, Observation, check_cluster

CLUSTER_HELP = ("the cluster these observations come from; graph keys carry it, so clusters with the same "
                "namespaces and release names stay apart (letters, digits, '.', '_', '-'; default: setting "
                "'cluster' / KGRCA_CLUSTER{more})")


def add_argument(parser: argparse.ArgumentParser, more: str = ", else the unnamed cluster") -> None:
    parser.add_argument("--cluster", metavar="NAME", help=CLUSTER_HELP.format(more=more))


def chosen(cfg: Config, given: str | None) -> str | None:
    """``--cluster`` if given, else the ``cluster`` setting; None when neither names one. Checked."""
    if given is not None:
        return check_cluster(given)
    if cfg.cluster is not None:
        return check_cluster(cfg.cluster, ConfigError)
    return None


def from_kubeconfig(kubeconfig: str | None) -> str:
    """The current context of the kubeconfig as a cluster name: characters a name cannot hold become ``-``
    (``arn:aws:eks:eu-west-1:123:cluster/prod`` is ``arn-aws-eks-eu-west-1-123-cluster-prod``); ``""`` (the
    unnamed cluster) in a pod's in-cluster config or when there is no kubeconfig."""
    from kubernetes import config as kube_config  # only the watcher's commands need the client

    try:
        _, active = kube_config.list_kube_config_contexts(config_file=kubeconfig)
    except (kube_config.ConfigException, OSError, TypeError):
        return ""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str((active or {}).get("name") or "")).strip("-._")[:63]
    return check_cluster(name) if name else ""


def for_watch(cfg: Config, given: str | None) -> str:
    """``kgrca watch``'s cluster: ``--cluster``, the setting, else the kubeconfig's current context."""
    named = chosen(cfg, given)
    return named if named is not None else from_kubeconfig(cfg.kubeconfig)


def stamped(observations: Iterable[Observation | None], cluster: str | None) -> Iterator[Observation | None]:
    """The observations, those that name no cluster given ``cluster`` (an observation line that names its own
    keeps it). The watch's idle ticks (None) pass as they are."""
    if not cluster:
        yield from observations
        return
    for observation in observations:
        yield observation if observation is None or observation.cluster else dataclasses.replace(
            observation, cluster=cluster)


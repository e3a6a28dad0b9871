"""`kgrca cluster up|down|status|build`: the local Kubernetes control plane for end-to-end tests.

    kgrca cluster up            # build once (cached), start, wait until a pod really runs
    kgrca cluster status        # each component's pid, port and health
    kgrca cluster down [--purge]
"""

from __future__ import annotations

import argparse
import json
import sys

from kgrca.config import Config
from localdev import cluster
from localdev.cluster import build


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("cluster", help=summary, description=summary)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="build what is missing, start the cluster, print the kubeconfig path")
    up.set_defaults(func=_up)
    down = actions.add_parser("down", help="stop every component")
    down.add_argument("--purge", action="store_true", help="also delete etcd data, certificates and kubeconfig")
    down.set_defaults(func=_down)
    status = actions.add_parser("status", help="each component's pid, port and health")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(func=_status)
    build_parser = actions.add_parser("build", help="only build the binaries (etcd, control plane, kwok, helm 4 and 3)")
    build_parser.set_defaults(func=_build)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _up(args: argparse.Namespace, cfg: Config) -> int:
    kubeconfig = cluster.ensure_up(cfg, say=_say)
    print(kubeconfig)
    return 0


def _down(args: argparse.Namespace, cfg: Config) -> int:
    cluster.stop(cfg, purge=args.purge, say=_say)
    return 0


def _status(args: argparse.Namespace, cfg: Config) -> int:
    states = cluster.status(cfg)
    if args.json:
        print(json.dumps({"kubeconfig": str(cluster.kubeconfig_path(cfg)),
                          "components": [s.to_json() for s in states]}, indent=2))
    else:
        print(f"{'COMPONENT':<25} {'PID':>8} {'PORT':>6}  HEALTH")
        for state in states:
            health = "healthy" if state.healthy else f"unhealthy: {state.detail}"
            print(f"{state.name:<25} {state.pid or '-':>8} {state.port:>6}  {health}")
        print(f"kubeconfig: {cluster.kubeconfig_path(cfg)}")
    # Exit 0 only when every component is healthy, so scripts can poll `kgrca cluster status`.
    return 0 if all(s.healthy for s in states) else 3


def _build(args: argparse.Namespace, cfg: Config) -> int:
    for name, path in build.ensure_built(cfg, say=_say).items():
        print(f"{name}\t{path}")
    return 0

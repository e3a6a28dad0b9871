"""`kgrca record`: save what kgrca's watcher sees as watch-event JSON lines, for replay with `kgrca ingest`.

    kgrca record --out run.jsonl --namespace demo            # until Ctrl-C
    kgrca record --out run.jsonl --duration 2m --kubeconfig ~/.kube/config
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from kgrca import clusters
from kgrca.config import Config, parse_duration
from kgrca.contracts import KgrcaError
from localdev.cluster.recorder import Recorder


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("record", help=summary, description=summary)
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.jsonl", help="where to write the lines")
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig to use (default: settings, then ~/.kube)")
    parser.add_argument("--namespace", "-n", action="append", metavar="NS",
                        help="record only this namespace (repeatable); cluster-wide kinds are always recorded")
    parser.add_argument("--duration", metavar="TIME", help="stop after this long (30s, 5m); default: until Ctrl-C")
    clusters.add_argument(parser, more="; each line then says it, and `kgrca ingest` keeps it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    if args.kubeconfig:
        if not Path(args.kubeconfig).is_file():
            raise KgrcaError(f"--kubeconfig {args.kubeconfig}: no such file")
        cfg = cfg.replace(kubeconfig=args.kubeconfig)
    try:
        duration = parse_duration(args.duration) if args.duration else None
    except ValueError as exc:
        raise KgrcaError(f"--duration {args.duration!r}: expected {exc}") from None
    finished = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: finished.set())
    recorder = Recorder(cfg, args.out, args.namespace, cluster=clusters.chosen(cfg, args.cluster) or "").start()
    print(f"recording to {args.out}; {'Ctrl-C to stop' if duration is None else f'for {args.duration}'}",
          file=sys.stderr, flush=True)
    finished.wait(duration)
    lines = recorder.stop()
    print(f"wrote {lines} watch events to {args.out}", file=sys.stderr)
    return 0

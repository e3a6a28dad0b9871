"""`kgrca prune --older-than 7d`: remove history past a horizon."""

from __future__ import annotations

import argparse
import datetime as dt

from kg_builder.prune import prune
from kgrca.config import Config, parse_duration
from kgrca.contracts import KgrcaError
from kgrca.graphdb import driver_for


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser(
        "prune", help=summary, description=summary + ". Releases, revisions and live objects stay.",
        epilog="examples:\n  kgrca prune --older-than 7d\n  kgrca prune --older-than 36h",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--older-than", required=True, metavar="DURATION",
                        help="events, states and deleted objects older than this go (30m, 36h, 7d, 2w)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    try:
        age = parse_duration(args.older_than)
    except ValueError as exc:
        raise KgrcaError(f"--older-than {args.older_than!r}: expected {exc}") from None
    horizon = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)
    with driver_for(cfg) as driver:
        removed = prune(driver, horizon, cfg.neo4j_database)
    print(f"pruned history before {horizon.isoformat(timespec='seconds')}: "
          + ", ".join(f"{count} {name}" for name, count in removed.items()))
    return 0

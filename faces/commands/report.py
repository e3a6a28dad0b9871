"""`kgrca report`: an RCA report of a time window, as Markdown, self-contained HTML or JSON."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from faces.reports.render import FORMATS
from faces.reports.schedule import write_report
from kg_builder.times import parse_time
from kgrca.config import Config, parse_duration
from kgrca.contracts import KgrcaError, check_cluster

EXAMPLES = """\
examples:
  kgrca report                                   last 24 h, HTML + Markdown + JSON into ./reports
  kgrca report --since 6h --format html --out /tmp/rca
  kgrca report --since 7d --until 2026-11-20T12:00:00Z --format json

Every failed or stuck release and failing workload of the window, grouped by namespace and release, with
its diagnoses, evidence, resolution and a timeline picture. Scheduled reports: set report_schedule (cron)
and run 'kgrca serve'. HTML and Markdown come from Jinja2 templates: name a folder of your own in the
report_templates setting to replace any of them by file name (docs/reports.md).
"""


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("report", help=summary, description=summary, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", default="24h", metavar="DURATION", help="window length back from --until (24h)")
    parser.add_argument("--until", metavar="TIME", help="end of the window, RFC 3339 (default: now)")
    parser.add_argument("--format", action="append", choices=FORMATS, dest="formats",
                        help="repeatable; default: all three")
    parser.add_argument("--out", metavar="DIR", help="folder to write into (default: setting report_dir)")
    parser.add_argument("--cluster", metavar="NAME",
                        help="only this cluster's releases and workloads (default: every cluster in the graph)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    try:
        length = dt.timedelta(seconds=parse_duration(args.since))
    except ValueError as exc:
        raise KgrcaError(f"--since {args.since!r}: expected {exc}") from None
    until = parse_time(args.until) if args.until else dt.datetime.now(dt.UTC)
    if until is None:
        raise KgrcaError(f"--until {args.until!r}: expected an RFC 3339 time like 2026-11-20T10:00:00Z")
    report, paths = write_report(cfg, until - length, until, Path(args.out or cfg.report_dir),
                                 tuple(args.formats or FORMATS),
                                 None if args.cluster is None else check_cluster(args.cluster))
    for path in paths:
        print(path)
    print(f"{len(report.entries)} release(s)/workload(s) with problems between {report.since:%Y-%m-%d %H:%M} "
          f"and {report.until:%Y-%m-%d %H:%M} UTC")
    return 0

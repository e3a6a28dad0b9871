"""`kgrca ingest PATH...`: load dumps and recordings into the graph, with no cluster access."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from faces.terminal import IngestProgress, interactive
from ingest.files import FileSource
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca import clusters
from kgrca.config import Config
from kgrca.contracts import WriteStats
from kgrca.graphdb import connect

EXAMPLES = """\
examples:
  kubectl get pods,jobs,events,secrets -A -o json > dump.json && kgrca ingest dump.json
  kgrca ingest tests/e2e/recordings/hook_image_pull.jsonl
  kgrca ingest dumps/                      every .json, .jsonl, .yaml and .log file below the folder
  kgrca trace --sink stdout > ops.jsonl; kgrca ingest ops.jsonl
  kgrca ingest --release prod/api deploy-job.log   a CI job's log (GitHub Actions, GitLab or terminal output)
  kubectl -n prod logs api-7d4b9c-x2x9z -c app --previous > app.log
  kgrca ingest --logs prod/api-7d4b9c-x2x9z/app app.log   a container's last lines (docs/container-logs.md)

Input: kubectl JSON or YAML (an object or a List), watch-event JSON lines
{"type": "ADDED|MODIFIED|DELETED", "object": {...}}, kgrca observation lines, or a captured CI log or
terminal output holding a helm command or helm's "Error: ..." lines (docs/ci-sources.md). Bad records are
reported as FILE:LINE: reason and skipped; the rest loads; the exit code is 1 if anything was skipped.
"""


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("ingest", help=summary, description=summary, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to load")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    parser.add_argument("--release", metavar="NAMESPACE/NAME", type=_release,
                        help="the Helm release the helm runs in CI logs deployed, when the log does not show it (a "
                             "CI runner's kube context, hence helm's default namespace, is not in its log); it wins "
                             "over the release the log's command names. JSON and YAML input ignore it")
    clusters.add_argument(parser, more="; a line that names its own cluster keeps it")
    parser.add_argument("--logs", metavar="NAMESPACE/POD[/CONTAINER]", type=_log_target,
                        help="read the file as `kubectl logs` output of this pod's container (its last lines are "
                             "kept, redacted and classified); CONTAINER may be left out for a pod with one container")
    parser.set_defaults(func=run)


def _log_target(text: str) -> tuple[str, str, str | None]:
    from ingest.container_logs import parse_target

    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _release(text: str) -> tuple[str, str]:
    namespace, slash, name = text.partition("/")
    if not slash or not namespace or not name or "/" in name:
        raise argparse.ArgumentTypeError(f"expected NAMESPACE/NAME (e.g. prod/api), got {text!r}")
    return namespace, name


def run(args: argparse.Namespace, cfg: Config) -> int:
    if getattr(args, "logs", None) and len(args.paths) != 1:
        print("kgrca: --logs reads one log file (the output of one `kubectl logs`); got "
              f"{len(args.paths)} paths", file=sys.stderr)
        return 2
    source = FileSource(args.paths, release=args.release, logs=getattr(args, "logs", None))
    driver = connect(cfg)
    started = time.monotonic()
    last_report = [started]
    bar = IngestProgress(source.total_bytes()) if not args.quiet and interactive() else None  # a terminal only

    def progress(stats: WriteStats) -> None:
        now = time.monotonic()
        if bar is not None:
            bar.update(source.bytes_read, stats.observations)
        elif not args.quiet and now - last_report[0] >= 2:
            last_report[0] = now
            rate = stats.observations / max(now - started, 1e-9)
            print(f"  {stats.observations:,} observations, {stats.rows:,} rows ({rate:,.0f}/s)", file=sys.stderr)

    try:
        apply_schema(driver, cfg.neo4j_database)
        writer = Neo4jWriter.from_config(driver, cfg, on_progress=progress)
        with bar or contextlib.nullcontext():
            stats = writer.write(clusters.stamped(source.observations(), clusters.chosen(cfg, args.cluster)))
            if bar is not None:
                bar.update(source.bytes_read, stats.observations)
    finally:
        driver.close()
    elapsed = time.monotonic() - started
    problems = [str(p) for p in source.problems] + [f"{origin}: {reason}" for origin, reason in stats.rejected]
    for problem in problems:
        print(f"kgrca: skipped {problem}", file=sys.stderr)
    print(f"ingested {stats.observations - len(stats.rejected):,} observations ({stats.rows:,} rows) "
          f"from {source.files_read} file(s) in {elapsed:.1f} s; {len(problems)} skipped")
    return 1 if problems else 0

"""The ``kgrca`` command: one entry point, subcommands grouped by what the user is doing.

Each subcommand lives in ``faces/commands/<name>.py`` and exposes ``register(subparsers)``, which
adds its parser and sets ``func(args, cfg) -> int``. The table below is the only place that lists
them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from kgrca.config import load_config
from kgrca.contracts import KgrcaError

GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Run the local servers", (
        ("servers", "start, stop or check the local Neo4j and Kafka (real servers, no Docker)"),
        ("cluster", "start, stop or check the local Kubernetes control plane with kwok and helm"),
        ("db", "apply the graph schema, count what the graph holds"),
        ("config", "show the settings in effect and where each came from; write docs/configuration.md"),
    )),
    ("Collect", (
        ("watch", "list+watch the Kubernetes API into the graph (or Kafka)"),
        ("trace", "trace helm and kubectl with eBPF into the graph (or Kafka, or stdout)"),
        ("ingest", "load kubectl JSON dumps, watch-event lines, trace lines or CI logs from files"),
        ("record", "record what a watcher sees into watch-event JSON lines"),
        ("build", "consume Kafka topics and write the graph"),
        ("prune", "remove history older than a horizon"),
    )),
    ("Diagnose", (
        ("diagnose", "say what broke a release, why, and what to run"),
        ("report", "write an RCA report of a time window (markdown, html, json)"),
        ("serve", "REST API, webhooks and scheduled reports"),
        ("schema", "print the JSON Schema of a diagnosis or the REST API's OpenAPI document"),
    )),
)

EXAMPLES = """\
examples:
  kgrca servers up                      start Neo4j and Kafka on 127.0.0.1 (first run downloads them)
  kgrca ingest dump.json events.jsonl   load a cluster dump, no cluster access needed
  kgrca diagnose --release prod/api     what broke release api in namespace prod
  kgrca diagnose --all --json           every diagnosis, best first, as JSON
  kgrca watch --kubeconfig ~/.kube/config

settings come from KGRCA_* environment variables or --config FILE; see docs/configuration.md and
'kgrca config show'
"""


def _description() -> str:
    lines = ["Knowledge-graph root-cause analysis for Helm releases on Kubernetes.", ""]
    width = max(len(name) for _, commands in GROUPS for name, _ in commands)
    for title, commands in GROUPS:
        lines.append(f"{title}:")
        lines.extend(f"  {name:<{width}}  {text}" for name, text in commands)
        lines.append("")
    lines.append("run 'kgrca COMMAND --help' for a command's options and examples")
    return "\n".join(lines)


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names, if any (the first word that is not an option or --config's file)."""
    names = {name for _, commands in GROUPS for name, _ in commands}
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in names else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a subcommand, only that subcommand's module is imported (they pull
    in the Kubernetes client, Flask, BCC... and a one-shot ``kgrca diagnose`` should not wait for them)."""
    chosen = _command_in(argv) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog="kgrca", description=_description(), epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="FILE", help="YAML file of settings (default: $KGRCA_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands",
                                help=argparse.SUPPRESS)
    for _, commands in GROUPS:
        for name, text in commands:
            if chosen in (None, name):
                importlib.import_module(f"faces.commands.{name}").register(sub, text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        cfg = load_config(args.config)
        if not args.verbose:
            logging.getLogger().setLevel(cfg.log_level.upper())
        return int(args.func(args, cfg) or 0)
    except KgrcaError as exc:
        print(f"kgrca: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kgrca: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`kgrca servers up|down|status [neo4j|kafka]`: the local Neo4j and Kafka (real servers, no Docker)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kgrca.config import Config
from localdev.servers import control, select

EPILOG = """\
examples:
  kgrca servers up               start Neo4j and Kafka (the first run fetches their jars with Maven)
  kgrca servers status           pid, ports, version and whether each answers; exit 3 if one is down
  kgrca servers down kafka       stop Kafka (its data is kept)
  kgrca servers status --json

ports, heap sizes and the Neo4j password come from the KGRCA_* settings (neo4j_bolt_port,
neo4j_http_port, neo4j_heap, neo4j_pagecache, neo4j_password, kafka_port, kafka_heap);
see docs/local-servers.md for what is downloaded, where it lives and how to reset it.
"""

NOT_RUNNING = 3  # as `systemctl status` / LSB: the program is not running


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("servers", help=summary, description=summary, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("up", "down", "status"), help="what to do")
    parser.add_argument("server", nargs="?", default="all", choices=("neo4j", "kafka", "all"),
                        help="which server (default: both)")
    parser.add_argument("--json", action="store_true", help="status as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    servers = select(args.server)
    if args.action == "up":
        for server in servers:
            started = control.up(server, cfg)
            ends = ", ".join(f"{role} {address}" for role, address in server.endpoints(cfg).items())
            how = "already up" if started.already else f"up in {started.seconds:.1f}s"
            print(f"{server.name} {server.version()}: {how} (pid {started.pid}); {ends}; "
                  f"log {server.log_file(cfg)}")
        return 0
    if args.action == "down":
        for server in servers:
            pid = control.down(server, cfg)
            print(f"{server.name}: stopped (pid {pid}); data kept in {server.home(cfg)}" if pid
                  else f"{server.name}: not running")
        return 0
    states = [control.status(server, cfg) for server in servers]
    if args.json:
        print(json.dumps(states if args.server == "all" else states[0], indent=2))
    else:
        for state in states:
            print(_status_line(state))
    return 0 if all(state["answers"] for state in states) else NOT_RUNNING


def _status_line(state: dict[str, Any]) -> str:
    head = f"{state['name']} {state['version']}:"
    if not state["running"]:
        fetched = "" if state["installed"] else ", jars not fetched yet"
        return f"{head} down{fetched}; start it with 'kgrca servers up {state['name']}'"
    ends = ", ".join(f"{role} {address}" for role, address in state["endpoints"].items())
    memory = f", {state['rss_bytes'] / 2**20:.0f} MiB resident" if state["rss_bytes"] else ""
    answer = "answers" if state["answers"] else f"running but not answering ({state['problem']})"
    return f"{head} up (pid {state['pid']}{memory}), {answer}; {ends}; log {state['log']}"

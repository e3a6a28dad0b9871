"""`kgrca db init|stats|migrate`: the graph's schema, what the graph holds, and naming its cluster."""

from __future__ import annotations

import argparse

from kg_builder.migrate import migrate
from kg_builder.schema import apply_schema, schema_statements
from kgrca.config import Config
from kgrca.contracts import KgrcaError, check_cluster
from kgrca.graphdb import driver_for

COUNT_LABELS = ("Release", "Revision", "Hook", "Object", "Pod", "Job", "Event", "ContainerState", "Condition",
                "Resource", "HelmOperation", "KubectlOperation")


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("db", help=summary, description=summary,
                            epilog="examples:\n  kgrca db init\n  kgrca db stats\n"
                                   "  kgrca db migrate --cluster eu-1   the graph written before clusters were named "
                                   "becomes cluster eu-1's (docs/deploy.md)",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("init", "stats", "migrate"),
                        help="init: create constraints and indexes (idempotent); stats: count nodes by label; "
                             "migrate: rewrite the unnamed cluster's keys into --cluster's (idempotent)")
    parser.add_argument("--cluster", metavar="NAME", help="migrate: the name the unnamed cluster's data takes")
    parser.set_defaults(func=run)


def graph_counts(driver, database: str | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    with driver.session(database=database) as session:
        for label in COUNT_LABELS:
            counts[label] = session.run(f"MATCH (n:`{label}`) RETURN count(n) AS n").single()["n"]
        counts["relationships"] = session.run("MATCH ()-[r]->() RETURN count(r) AS n").single()["n"]
    return counts


def run(args: argparse.Namespace, cfg: Config) -> int:
    with driver_for(cfg) as driver:
        if args.action == "init":
            created = apply_schema(driver, cfg.neo4j_database)
            total = len(list(schema_statements()))
            print(f"schema applied: {total} constraints and indexes present on {cfg.neo4j_uri}"
                  + ("" if created else " (all were there already)"))
            return 0
        if args.action == "migrate":
            if not args.cluster:
                raise KgrcaError("kgrca db migrate needs --cluster NAME: the cluster the graph's data came from")
            apply_schema(driver, cfg.neo4j_database)  # the cluster indexes the rewrite reads
            done = migrate(driver, check_cluster(args.cluster), cfg.neo4j_database)
            print(f"migrated {done.total:,} nodes into cluster {done.cluster}: "
                  + ", ".join(f"{label} {count:,}" for label, count in done.rewritten.items() if count))
            return 0
        for label, count in graph_counts(driver, cfg.neo4j_database).items():
            print(f"{label:<16} {count:>10,}")
    return 0

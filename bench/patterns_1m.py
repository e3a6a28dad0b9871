"""Every pattern on a synthetic graph of about a million nodes: time each, show its plan's index use,
time `diagnose --all` (the detection in this process, and the command in a new one), and the time from
ingesting a decisive event to its diagnosis.

    python bench/patterns_1m.py                      build the graph (wipes the database!), then measure
    python bench/patterns_1m.py --reuse              measure on the graph a previous run built
    python bench/patterns_1m.py --releases 5000      a smaller graph
    python bench/patterns_1m.py --clusters 10        ten clusters' graphs in one (about 10M nodes; issue 20 item 8)
    python bench/patterns_1m.py --clusters 5 --add-from 3   add clusters 4 and 5 to a 3-cluster graph, measure

Needs a Neo4j it may wipe: KGRCA_NEO4J_URI (your own instance). Targets (issue 5): each pattern under
100 ms, `diagnose --all` under 2 s (under 3 s at ten clusters, issue 20). At ten clusters give Neo4j a page cache
that holds the store (KGRCA_NEO4J_PAGECACHE=4g, KGRCA_NEO4J_HEAP=4g; docs/deploy.md, sizing).

The graph is written directly with UNWIND (fast), in the shapes kg_builder writes: per release five
revisions (each with a hook and the helm process that produced it), a Deployment, its ReplicaSet, three
pods with container states, conditions and an event, a Service, a ConfigMap, and a hook Job with its
pod; one release in a hundred fails in one of the shapes the patterns look for (hook image pull, stuck
pending-upgrade, --wait timeout with crash-looping pods, template error, immutable field), so the
patterns have real work, not an empty index.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import neo4j  # noqa: E402

from kg_builder.schema import apply_schema  # noqa: E402
from kg_builder.writer import Neo4jWriter
from kgrca.config import load_config  # noqa: E402
from kgrca.contracts import KgrcaError  # noqa: E402
from kgrca.graphdb import connect  # noqa: E402
from rca.iso_times import read_datetimes_as_text  # noqa: E402
from rca.runner import Detector  # noqa: E402
from tests.scenarios import suite  # noqa: E402

NOW = "2026-11-20T12:00:00Z"
TARGET_MS = 100.0
TARGET_ALL_S = 2.0
TARGET_ALL_MANY_S = 3.0  # ten clusters, ten times the graph
SCANS = ("AllNodesScan", "NodeByLabelScan")

# One statement per part; $lo/$hi is the slice of release numbers a transaction writes.
BUILD = [
    ("releases and revisions", """
UNWIND range($lo, $hi - 1) AS i
WITH i, 'ns-' + (i % 50) AS ns, 'rel-' + i AS name, i % 100 AS shape
CREATE (rel:Release {key: $c + ns + '/' + name, cluster: $cluster, name: name, namespace: ns, latest_version: 5,
                     status: CASE shape WHEN 2 THEN 'pending-upgrade' WHEN 0 THEN 'deployed'
                                        WHEN 6 THEN 'deployed' ELSE CASE WHEN shape < 6 THEN 'failed'
                                        ELSE 'deployed' END END})
WITH rel, ns, name, shape
UNWIND range(1, 5) AS v
CREATE (rev:Revision {key: rel.key + '/' + v, version: v, release_key: rel.key, namespace: ns, release: name,
  chart: 'app', chart_version: '1.' + v, storage: 'Secret ' + ns + '/sh.helm.release.v1.' + name + '.v' + v,
  last_deployed: datetime($now) - duration({hours: 24 * (5 - v) + 1}),
  status: CASE WHEN v < 4 THEN 'superseded'
               WHEN v = 4 THEN CASE WHEN shape IN [1, 2, 3, 4, 5] THEN 'deployed' ELSE 'superseded' END
               WHEN shape = 1 THEN 'failed' WHEN shape = 2 THEN 'pending-upgrade' WHEN shape IN [3, 4, 5]
               THEN 'failed' ELSE 'deployed' END,
  description: CASE WHEN v < 5 THEN 'Upgrade complete'
    WHEN shape = 1 THEN 'Upgrade "' + name + '" failed: pre-upgrade hooks failed: 1 error occurred:\n\t* ' +
                        'timed out waiting for the condition'
    WHEN shape = 2 THEN 'Preparing upgrade'
    WHEN shape = 3 THEN 'Upgrade "' + name + '" failed: context deadline exceeded'
    WHEN shape = 4 THEN 'Upgrade "' + name + '" failed: template: app/templates/deployment.yaml:12:3: executing ' +
                        '"app/templates/deployment.yaml" at <.Values.image.tag>: ' +
                        'nil pointer evaluating interface {}.tag'
    WHEN shape = 5 THEN 'Upgrade "' + name + '" failed: cannot patch "' + name + '" with kind Deployment: ' +
                        'Deployment.apps "' + name + '" is invalid: spec.selector: Invalid value: x: field is immutable'
    ELSE 'Upgrade complete' END})
CREATE (rel)-[:HAS_REVISION]->(rev)
"""),
    ("superseding links", """
UNWIND range($lo, $hi - 1) AS i
MATCH (rel:Release {key: $c + 'ns-' + (i % 50) + '/rel-' + i})-[:HAS_REVISION]->(rev:Revision)
WHERE rev.version > 1
MATCH (prev:Revision {key: rel.key + '/' + (rev.version - 1)})
CREATE (rev)-[:SUPERSEDES]->(prev)
"""),
    ("workloads, pods and their history", """
UNWIND range($lo, $hi - 1) AS i
WITH i, 'ns-' + (i % 50) AS ns, 'rel-' + i AS name, i % 100 AS shape
MATCH (rel:Release {key: $c + ns + '/' + name})
CREATE (d:Object:Deployment {uid: $c + 'd-' + i, cluster: $cluster, kind: 'Deployment', name: name, namespace: ns,
  ref: $c + 'Deployment/' + ns + '/' + name, replicas: 3, ready_replicas: CASE WHEN shape = 3 THEN 0 ELSE 3 END,
  unhealthy: CASE WHEN shape = 3 THEN true END,
  available_replicas: CASE WHEN shape = 3 THEN 0 ELSE 3 END, helm_release: name,
  progressing_reason: 'NewReplicaSetAvailable', selector_pairs: ['app=' + name],
  created_at: datetime($now) - duration({days: 30})})
CREATE (rs:Object:ReplicaSet {uid: $c + 'rs-' + i, cluster: $cluster, kind: 'ReplicaSet', name: name + '-5f6g7h',
  namespace: ns,
  ref: $c + 'ReplicaSet/' + ns + '/' + name + '-5f6g7h', replicas: 3,
  ready_replicas: CASE WHEN shape = 3 THEN 0 ELSE 3 END, created_at: datetime($now) - duration({days: 1})})
CREATE (svc:Object:Service {uid: $c + 's-' + i, cluster: $cluster, kind: 'Service', name: name, namespace: ns,
  ref: $c + 'Service/' + ns + '/' + name, cluster_ip: '10.96.' + (i % 250) + '.' + (i % 200), helm_release: name,
  selector_pairs: ['app=' + name], created_at: datetime($now) - duration({days: 30})})
CREATE (cm:Object:ConfigMap {uid: $c + 'c-' + i, cluster: $cluster, kind: 'ConfigMap', name: name + '-config',
  namespace: ns,
  ref: $c + 'ConfigMap/' + ns + '/' + name + '-config', data_keys: ['app.yaml'], helm_release: name,
  created_at: datetime($now) - duration({days: 30})})
CREATE (rs)-[:OWNED_BY {controller: true}]->(d)
CREATE (rel)-[:MANAGES]->(d), (rel)-[:MANAGES]->(svc), (rel)-[:MANAGES]->(cm)
WITH i, ns, name, shape, rel, d, rs, svc, cm
UNWIND [d, rs, svc, cm] AS o
CREATE (slot:Resource {ref: o.ref, cluster: $cluster, kind: o.kind, namespace: ns, name: o.name})
CREATE (o)-[:INSTANCE_OF]->(slot)
WITH i, ns, name, shape, rel, rs, collect(slot) AS slots
UNWIND range(0, 2) AS k
CREATE (p:Object:Pod {uid: $c + 'p-' + i + '-' + k, cluster: $cluster, kind: 'Pod', name: name + '-5f6g7h-' + k,
  namespace: ns,
  ref: $c + 'Pod/' + ns + '/' + name + '-5f6g7h-' + k, phase: 'Running', ready: shape <> 3,
  restarts: CASE WHEN shape = 3 THEN 6 ELSE 0 END, node_name: 'node-' + (i % 40),
  waiting_reasons: CASE WHEN shape = 3 THEN ['CrashLoopBackOff'] ELSE [] END, images: ['registry/app:1.5'],
  has_readiness_probe: true, label_pairs: ['app=' + name], created_at: datetime($now) - duration({hours: 20})})
CREATE (p)-[:OWNED_BY {controller: true}]->(rs)
CREATE (pslot:Resource {ref: p.ref, cluster: $cluster, kind: 'Pod', namespace: ns, name: p.name})
CREATE (p)-[:INSTANCE_OF]->(pslot)
CREATE (p)-[:HAD_STATE]->(:ContainerState {key: p.uid + '/main/0/running/Running', container: 'main',
  state: 'running', reason: 'Running', restart_count: 0, at: datetime($now) - duration({hours: 20})})
CREATE (p)-[:HAD_STATE]->(:ContainerState {key: p.uid + '/main/1/terminated/Error', container: 'main',
  state: 'terminated', reason: CASE WHEN shape = 3 THEN 'Error' ELSE 'Completed' END,
  exit_code: CASE WHEN shape = 3 THEN 1 ELSE 0 END, restart_count: 1, at: datetime($now) - duration({hours: 19})})
CREATE (p)-[:HAD_CONDITION]->(:Condition {key: p.uid + '/Phase/Running', type: 'Phase', status: 'Running',
  at: datetime($now) - duration({hours: 20})})
CREATE (p)-[:HAD_CONDITION]->(:Condition {key: p.uid + '/Ready', type: 'Ready',
  status: CASE WHEN shape = 3 THEN 'False' ELSE 'True' END, at: datetime($now) - duration({hours: 20})})
CREATE (p)-[:HAD_CONDITION]->(:Condition {key: p.uid + '/PodScheduled', type: 'PodScheduled', status: 'True',
  at: datetime($now) - duration({hours: 20})})
CREATE (:Event {uid: 'e-' + p.uid, reason: CASE WHEN shape = 3 THEN 'BackOff' ELSE 'Started' END,
  type: CASE WHEN shape = 3 THEN 'Warning' ELSE 'Normal' END,
  message: CASE WHEN shape = 3 THEN 'Back-off restarting failed container main' ELSE 'Started container main' END,
  count: 1, first_seen: datetime($now) - duration({hours: 20}), last_seen: datetime($now) - duration({hours: 1}),
  involved_kind: 'Pod', involved_name: p.name, involved_namespace: ns})-[:ABOUT]->(p)
"""),
    ("declared resources", """
UNWIND range($lo, $hi - 1) AS i
WITH 'ns-' + (i % 50) AS ns, 'rel-' + i AS name
MATCH (rel:Release {key: $c + ns + '/' + name})-[:HAS_REVISION]->(rev:Revision)
UNWIND [['apps/v1', $c + 'Deployment/' + ns + '/' + name], ['v1', $c + 'Service/' + ns + '/' + name],
        ['v1', $c + 'ConfigMap/' + ns + '/' + name + '-config']] AS declared
MATCH (slot:Resource {ref: declared[1]})
SET slot.api_version = declared[0]
CREATE (rev)-[:DECLARES {api_version: declared[0], source: 'app/templates/x.yaml'}]->(slot)
"""),
    ("hooks, hook jobs and helm processes", """
UNWIND range($lo, $hi - 1) AS i
WITH i, 'ns-' + (i % 50) AS ns, 'rel-' + i AS name, i % 100 AS shape
MATCH (rel:Release {key: $c + ns + '/' + name})-[:HAS_REVISION]->(rev:Revision)
CREATE (h:Hook {key: rev.key + '/Job/' + name + '-migrate', name: name + '-migrate', kind: 'Job', namespace: ns,
  events: ['pre-upgrade'], weight: 0, path: 'app/templates/migrate-job.yaml', revision_key: rev.key,
  release_key: rel.key, phase: CASE WHEN rev.version = 5 AND shape IN [1, 2] THEN 'Failed' ELSE 'Succeeded' END,
  started_at: rev.last_deployed + duration({seconds: 1}), completed_at: rev.last_deployed + duration({seconds: 30})})
CREATE (rev)-[:HAS_HOOK]->(h)
CREATE (op:HelmOperation {operation_id: $c + 'helm-' + i + '-' + rev.version, tool: 'helm', command: 'upgrade',
  release: name, namespace: ns, release_key: rel.key, pid: 1000 + rev.version, argv: ['helm', 'upgrade', name],
  values_files: ['/ci/values.yaml'], timeout: '5m', started_at: rev.last_deployed - duration({seconds: 1}),
  ended_at: CASE WHEN rev.version = 5 AND shape = 2 THEN rev.last_deployed + duration({seconds: 40})
                 ELSE rev.last_deployed + duration({seconds: 60}) END,
  status: CASE WHEN rev.version = 5 AND shape = 2 THEN 'killed' WHEN rev.version = 5 AND shape IN [1, 3, 4, 5]
               THEN 'failed' ELSE 'succeeded' END,
  signal: CASE WHEN rev.version = 5 AND shape = 2 THEN 'SIGKILL' END,
  stderr: CASE WHEN rev.version = 5 AND shape IN [1, 3, 4, 5] THEN 'Error: UPGRADE FAILED: ' + rev.description
               ELSE '' END})
CREATE (op)-[:TARGETS]->(rel)
CREATE (op)-[:PRODUCED]->(rev)
WITH i, ns, name, shape, rev, h
WHERE rev.version = 5
CREATE (j:Object:Job {uid: $c + 'j-' + i, cluster: $cluster, kind: 'Job', name: name + '-migrate', namespace: ns,
  ref: $c + 'Job/' + ns + '/' + name + '-migrate', backoff_limit: 1, active: CASE WHEN shape = 1 THEN 1 ELSE 0 END,
  failed: 0, succeeded: CASE WHEN shape = 1 THEN 0 ELSE 1 END, complete: shape <> 1,
  created_at: h.started_at})
CREATE (jp:Object:Pod {uid: $c + 'jp-' + i, cluster: $cluster, kind: 'Pod', name: name + '-migrate-x1',
  namespace: ns,
  ref: $c + 'Pod/' + ns + '/' + name + '-migrate-x1', phase: CASE WHEN shape = 1 THEN 'Pending' ELSE 'Succeeded' END,
  ready: false, restarts: 0, images: ['registry/migrate:1.5'],
  waiting_reasons: CASE WHEN shape = 1 THEN ['ImagePullBackOff'] ELSE [] END, created_at: h.started_at})
CREATE (jp)-[:OWNED_BY {controller: true}]->(j)
CREATE (jslot:Resource {ref: j.ref, cluster: $cluster, kind: 'Job', namespace: ns, name: j.name})
CREATE (j)-[:INSTANCE_OF]->(jslot), (h)-[:RUNS]->(jslot), (h)-[:RAN_AS]->(j)
CREATE (jpslot:Resource {ref: jp.ref, cluster: $cluster, kind: 'Pod', namespace: ns, name: jp.name})
CREATE (jp)-[:INSTANCE_OF]->(jpslot)
CREATE (jp)-[:HAD_STATE]->(:ContainerState {key: jp.uid + '/migrate/0', container: 'migrate',
  state: CASE WHEN shape = 1 THEN 'waiting' ELSE 'terminated' END,
  reason: CASE WHEN shape = 1 THEN 'ImagePullBackOff' ELSE 'Completed' END,
  exit_code: CASE WHEN shape = 1 THEN null ELSE 0 END, image: 'registry/migrate:1.5', restart_count: 0,
  message: CASE WHEN shape = 1 THEN 'Back-off pulling image "registry/migrate:1.5"' END, at: h.started_at})
"""),
    # what kg_builder derives from a failed revision's description (kg_builder/helm_errors.py): its HelmError and
    # the release's failed operation; one failed release in ten has words no family knows
    ("helm errors and failed operations", """
UNWIND range($lo, $hi - 1) AS i
WITH i, $c + 'ns-' + (i % 50) + '/rel-' + i AS key, i % 100 AS shape
WHERE shape IN [1, 3, 4, 5]
MATCH (rel:Release {key: key})-[:HAS_REVISION]->(rev:Revision {version: 5})
WITH rel, rev, shape, (i / 100) % 10 <> 7 AS known
SET rel.failed_version = 5
CREATE (rev)-[:FAILED_WITH]->(:HelmError {key: rev.key + '#description', release_key: rel.key, classified: known,
  family: CASE WHEN NOT known THEN 'unclassified' WHEN shape = 1 THEN 'hook_failed' WHEN shape = 3
               THEN 'wait_timeout' WHEN shape = 4 THEN 'template_nil_pointer' ELSE 'immutable_field' END,
  shape: CASE WHEN NOT known THEN null WHEN shape = 1 THEN 'hook_failure' WHEN shape = 3 THEN 'wait_timeout'
              WHEN shape = 4 THEN 'template_error' ELSE 'resource_conflict' END,
  cause: 'a bench family', summary: 'what the family says', text: rev.description, fix: ['helm history'],
  confidence: 0.8, objects: [], at: rev.last_deployed, seen_in: 'revision'})
"""),
]


def cluster_name(cluster: int) -> str | None:
    """Cluster 0 is the unnamed one (the one-cluster graph, keys as they always were); cluster k is `c<k>`, its keys
    prefixed `c<k>:` and its Release, Object and Resource nodes carrying `cluster` as kg_builder writes a named
    cluster (docs/graph-model.md "Clusters"). The clusters hold the same namespaces and release names, as real
    clusters do; only the cluster tells them apart."""
    return f"c{cluster}" if cluster else None


def build(driver: neo4j.Driver, database: str | None, releases: int, step: int, clusters: int = 1,
          first: int = 0) -> None:
    """Clusters ``first`` to ``clusters - 1``; from the first one on an emptied graph, else added to the graph."""
    if not first:
        with driver.session(database=database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS").consume()
        apply_schema(driver, database)
    for cluster in range(first, clusters):
        started_cluster = time.perf_counter()
        for name, statement in BUILD:
            started = time.perf_counter()
            for lo in range(0, releases, step):
                name_ = cluster_name(cluster)
                driver.execute_query(statement, lo=lo, hi=min(lo + step, releases), now=NOW, cluster=name_,
                                     c=f"{name_}:" if name_ else "", database_=database)
            if clusters == 1:
                print(f"  built {name} in {time.perf_counter() - started:.1f}s", flush=True)
        if clusters > 1:
            print(f"  built cluster {cluster + 1}/{clusters} in {time.perf_counter() - started_cluster:.0f}s",
                  flush=True)


def counts(driver: neo4j.Driver, database: str | None) -> tuple[int, int]:
    nodes = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=database).records[0]["n"]
    rels = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n", database_=database).records[0]["n"]
    return nodes, rels


def plan_operators(plan: dict) -> list[str]:
    names = [plan.get("operatorType", "")]
    for child in plan.get("children", []):
        names.extend(plan_operators(child))
    return names


def timed_query(driver: neo4j.Driver, cfg, detector: Detector, pattern, now) -> tuple[int, float]:
    """Rows and the server's own time for one run of a pattern (median-worthy; no PROFILE overhead)."""
    params = detector.parameters(pattern, None, now)
    with driver.session(database=cfg.neo4j_database, default_access_mode=neo4j.READ_ACCESS,
                        notifications_min_severity="OFF") as session:
        result = session.run(neo4j.Query(pattern.query, timeout=60), params)
        read_datetimes_as_text(result)  # as the Detector reads rows
        rows = len(list(result))
        summary = result.consume()
    return rows, float((summary.result_available_after or 0) + (summary.result_consumed_after or 0))


def profile(driver: neo4j.Driver, cfg, detector: Detector, pattern, now) -> tuple[list[str], int]:
    params = detector.parameters(pattern, None, now)
    with driver.session(database=cfg.neo4j_database, notifications_min_severity="OFF") as session:
        result = session.run(neo4j.Query("PROFILE " + pattern.query, timeout=60), params)
        list(result)  # a plan with a CALL subquery has its profile only once the rows were read
        summary = result.consume()
    operators = plan_operators(summary.profile)
    return operators, db_hits(summary.profile)


def db_hits(plan: dict) -> int:
    return int(plan.get("dbHits", 0)) + sum(db_hits(child) for child in plan.get("children", []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=19000,
                        help="releases to generate (default 19000: about 1M nodes)")
    parser.add_argument("--reuse", action="store_true", help="measure the graph already there")
    parser.add_argument("--clusters", type=int, default=1,
                        help="clusters of --releases each, objects distinct per cluster (10: about 10M nodes)")
    parser.add_argument("--add-from", type=int, default=0, metavar="K",
                        help="keep the graph and add clusters K to --clusters - 1 (measure a graph as it grows)")
    parser.add_argument("--step", type=int, default=500, help="releases per write transaction")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per pattern (median reported)")
    args = parser.parse_args(argv)
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    cfg = load_config()
    from kg_builder.times import parse_time

    now = parse_time(NOW)
    driver = connect(cfg)
    try:
        if not args.reuse:
            print(f"building clusters {args.add_from + 1} to {args.clusters} of {args.releases} releases each "
                  f"({'adds to' if args.add_from else 'wipes'} {cfg.neo4j_uri})", flush=True)
            started = time.perf_counter()
            build(driver, cfg.neo4j_database, args.releases, args.step, args.clusters, args.add_from)
            print(f"built in {time.perf_counter() - started:.0f}s", flush=True)
        nodes, rels = counts(driver, cfg.neo4j_database)
        print(f"graph: {nodes:,} nodes, {rels:,} relationships\n")
        detector = Detector(driver, cfg)
        detector.run(None, now)  # plans compiled and pages warm
        print("server ms: the query's time in Neo4j (result available + consumed); wall ms adds the Python\n"
              "driver receiving and decoding the rows as the Detector does (times read as ISO text).\n")
        print(f"{'pattern':<30} {'server ms':>9} {'wall ms':>9} {'rows':>6} {'db hits':>10}  index use")
        slow = []
        for pattern in detector.patterns:
            times, server, rows = [], [], 0
            try:
                for _ in range(args.runs):
                    started = time.perf_counter()
                    rows, server_ms = timed_query(driver, cfg, detector, pattern, now)
                    times.append((time.perf_counter() - started) * 1000)
                    server.append(server_ms)
                operators, hits = profile(driver, cfg, detector, pattern, now)
            except neo4j.exceptions.Neo4jError as exc:
                slow.append(pattern.id)
                print(f"{pattern.id:<30} failed: {exc.code}", flush=True)
                continue
            seeks = sorted({o for o in operators if "Index" in o or "Seek" in o})
            scans = sorted({o for o in operators if o.startswith(SCANS)})
            median = statistics.median(server)
            if median > TARGET_MS:
                slow.append(pattern.id)
            print(f"{pattern.id:<30} {median:>9.1f} {statistics.median(times):>9.1f} {rows:>6} {hits:>10}  "
                  f"{', '.join(seeks) or '-'}{'; SCANS: ' + ', '.join(scans) if scans else ''}", flush=True)
        target_all = TARGET_ALL_S if args.clusters == 1 else TARGET_ALL_MANY_S
        all_times = []
        for _ in range(3):
            started = time.perf_counter()
            result = detector.run(None, now)
            all_times.append(time.perf_counter() - started)
        print(f"\ndiagnose --all: {statistics.median(all_times):.2f}s median of 3 "
              f"({len(result.diagnoses)} root diagnoses, {len(result.errors)} errors); target {target_all}s")
        command_s = diagnose_command()
        print(f"the command, a new process (imports, schema check, detection, text): {command_s:.2f}s median of 3")
        decisive_ms = ingest_to_diagnosis(driver, cfg)
        print(f"ingest the decisive event -> diagnosis of its release: {decisive_ms:.0f} ms")
        if slow:
            print(f"over {TARGET_MS:.0f} ms: {', '.join(slow)}")
    finally:
        driver.close()
    return 0


def diagnose_command() -> float:
    """Wall seconds of `kgrca diagnose --all` as a user runs it (same environment, so the same Neo4j)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "faces.cli", "diagnose", "--all", "--now", NOW],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 3):  # 3: diagnoses found
            print(f"  (warning: kgrca diagnose --all exited {done.returncode}: {done.stderr.strip()[-300:]})")
    return statistics.median(times)


def ingest_to_diagnosis(driver: neo4j.Driver, cfg) -> float:
    """Write the golden hook_image_pull scenario but its last two events; write the first of them and
    diagnose its release once (plans for a one-release run compiled), then time: write the last event
    and diagnose its release."""
    scenario = suite.load(suite.SCENARIO_ROOT / "hook_image_pull")
    observations, _ = suite.observations(scenario)
    writer = Neo4jWriter.from_config(driver, cfg)
    writer.write(observations[:-2])
    writer.write(observations[-2:-1])
    Detector(driver, cfg).run("prod/api", scenario.now)
    started = time.perf_counter()
    writer.write(observations[-1:])
    run = Detector(driver, cfg).run("prod/api", scenario.now)
    elapsed = (time.perf_counter() - started) * 1000
    if not run.diagnoses or run.diagnoses[0].pattern != scenario.expected:
        print(f"  (warning: the decisive event gave {[d.pattern for d in run.diagnoses]})")
    return elapsed


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KgrcaError as exc:
        print(f"patterns_1m: {exc}", file=sys.stderr)
        sys.exit(1)

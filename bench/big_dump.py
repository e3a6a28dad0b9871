"""A dump of a large cluster through `kgrca ingest`: the time it takes and the builder's peak RSS (issue 20, item 6).

    python bench/big_dump.py                       100,000 pods (about 0.6 GB of kubectl JSON), WIPES the graph
    python bench/big_dump.py --pods 10000          a smaller cluster
    python bench/big_dump.py --keep /tmp/dump.json keep the generated dump (default: a temporary file)

Generates `kubectl get pods,deployments,replicasets,jobs,events,secrets -A -o json` of a cluster with the
proportions below (the same as bench/large_cluster.py builds in a live cluster), writes it as one kubectl List
(written as it is generated, never held whole), then runs `kgrca ingest` on it as a user would, in a new process,
and prints the wall time and that process's peak resident memory (VmHWM). Target: under 500 MB.

Needs a Neo4j it may wipe: KGRCA_NEO4J_URI (your own instance).

Per 50 pods (a "unit"): 2 Helm releases of 3 revisions each (6 release Secrets, helm's real encoding), each
release with 4 Deployments of 5 replicas (8 Deployments, 8 ReplicaSets, 40 pods), 10 Jobs with one pod each, one
event per pod and one per Deployment (58 Events).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import factories as f  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PODS_PER_UNIT = 50
RELEASES_PER_UNIT = 2
DEPLOYMENTS_PER_RELEASE = 4
REPLICAS = 5
JOBS_PER_UNIT = 10
REVISIONS = 3
NAMESPACES = 50
TARGET_MB = 500
AT = "2026-11-20T10:00:00Z"


def unit_objects(unit: int, namespace: str, node: str = "kwok-node-0", for_api: bool = False) -> Iterator[dict]:
    """The objects of one unit, in the order a cluster would have made them. ``for_api``: objects to create
    through the API server (no uid, resourceVersion or owner uids, which the server assigns; Deployments with no
    replicas and Jobs suspended, so no controller makes pods beside the ones created here)."""
    for r in range(RELEASES_PER_UNIT):
        release = f"u{unit}r{r}"
        deployments = [f"{release}-d{d}" for d in range(DEPLOYMENTS_PER_RELEASE)]
        manifest = f.manifest(*[("apps/v1", "Deployment", d) for d in deployments])
        for version in range(1, REVISIONS + 1):
            status = "deployed" if version == REVISIONS else "superseded"
            record = f.release_json(release, namespace, version, status, manifest=manifest,
                                    hooks=[f.hook(f"{release}-migrate", ["pre-upgrade"])],
                                    last_deployed=f"2026-11-20T{8 + version:02d}:00:00Z")
            yield f.release_secret(record)
        for name in deployments:
            deploy = f.deployment(name, namespace, release=release, replicas=REPLICAS, ready=REPLICAS)
            rs = f.replicaset(deploy)
            if for_api:
                deploy["spec"]["replicas"] = 0
                rs = None
            yield deploy
            if rs is not None:
                yield rs
            for k in range(REPLICAS):
                pod = f.pod(f"{name}-7d4b9c-{k}", namespace, owner_obj=rs, labels={"app": name}, node=node)
                yield pod
                yield f.event(pod, "Started", "Started container main", type_="Normal")
            yield f.event(deploy, "ScalingReplicaSet", f"Scaled up replica set {name}-7d4b9c to {REPLICAS}",
                          type_="Normal", component="deployment-controller")
    for j in range(JOBS_PER_UNIT):
        job = f.job(f"u{unit}j{j}", namespace, succeeded=1)
        if for_api:
            job["spec"]["suspend"] = True
        yield job
        pod = f.pod(f"u{unit}j{j}-x{j}", namespace, owner_obj=None if for_api else job,
                    labels={"job-name": f"u{unit}j{j}"}, node=node, phase="Succeeded", ready=False,
                    terminated={"exitCode": 0, "reason": "Completed", "startedAt": AT, "finishedAt": AT})
        yield pod
        yield f.event(pod, "Completed", "Job completed", type_="Normal", component="job-controller")


def cluster_objects(pods: int, prefix: str = "bench-") -> Iterator[dict]:
    """Every object of a cluster of about ``pods`` pods, units spread over NAMESPACES namespaces."""
    for unit in range(max(pods // PODS_PER_UNIT, 1)):
        yield from unit_objects(unit, f"{prefix}{unit % NAMESPACES}", node=f"node-{unit % 100}")


def counts(pods: int) -> dict[str, int]:
    units = max(pods // PODS_PER_UNIT, 1)
    deployments = units * RELEASES_PER_UNIT * DEPLOYMENTS_PER_RELEASE
    return {"pods": units * PODS_PER_UNIT, "deployments": deployments, "replicasets": deployments,
            "jobs": units * JOBS_PER_UNIT, "events": units * PODS_PER_UNIT + deployments,
            "releases": units * RELEASES_PER_UNIT, "release secrets": units * RELEASES_PER_UNIT * REVISIONS}


def write_dump(path: Path, objects: Iterator[dict]) -> int:
    """A kubectl List, written item by item; returns the bytes written."""
    with path.open("w") as out:
        out.write('{\n    "apiVersion": "v1",\n    "items": [\n')
        for index, obj in enumerate(objects):
            if index:
                out.write(",\n")
            out.write(json.dumps(obj, indent=4))
        out.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')
    return path.stat().st_size


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a live process, in MB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float, str]:
    """Run a command; its exit code, wall seconds, peak RSS in MB (from wait4, the kernel's own maximum) and the
    tail of its output."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                               env=env)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    reader.join(5)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, elapsed, usage.ru_maxrss / 1024, "".join(output[-6:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the dump here and keep it")
    args = parser.parse_args(argv)
    from kgrca.config import load_config
    from kgrca.graphdb import connect
    from tests.fixtures.servers import wipe

    cfg = load_config()
    driver = connect(cfg)
    wipe(driver, cfg.neo4j_database)
    driver.close()
    expected = counts(args.pods)
    print("cluster: " + ", ".join(f"{n:,} {what}" for what, n in expected.items()), flush=True)
    with tempfile.TemporaryDirectory(prefix="kgrca-big-dump-") as tmp:
        path = args.keep or Path(tmp) / "dump.json"
        started = time.perf_counter()
        size = write_dump(path, cluster_objects(args.pods))
        print(f"dump: {size / 1e6:,.0f} MB of kubectl JSON, generated in {time.perf_counter() - started:.0f}s",
              flush=True)
        code, seconds, rss, tail = run_measured([sys.executable, "-m", "faces.cli", "ingest", "-q", str(path)])
    objects = sum(expected.values()) - expected["releases"]
    print(tail.rstrip())
    print(f"\nkgrca ingest: {seconds:.1f}s ({objects / seconds:,.0f} objects/s), exit {code}; "
          f"peak RSS {rss:,.0f} MB (target < {TARGET_MB} MB: {'met' if rss < TARGET_MB else 'NOT met'}); "
          f"{rss / (size / 1e6):.2f} MB of memory per MB of dump")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

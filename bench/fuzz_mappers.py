"""A long fuzz campaign on the object mappers and the Helm release decoder: inputs/s and crashes.

    python bench/fuzz_mappers.py                          # 1,000,000 inputs, one process
    python bench/fuzz_mappers.py --inputs 200000 --jobs 2 # two processes, each its own random stream
    python bench/fuzz_mappers.py --seconds 600            # as many as fit in ten minutes

Inputs are tests/fuzzing.py's: a real object of every kind kgrca maps (Pod, workloads, Event, Node, CRD,
webhook configuration, Helm release Secret and ConfigMap, Flux HelmRelease and sources, Argo CD Application, a CI
pod running helm, an unknown CRD) with one to three fields replaced by a value of the wrong type, deleted, wrapped
or turned into a string; one input in four is a Helm release JSON so mutated, decoded by read_release through a
Secret or a ConfigMap, and one in ten a helm process record (operations.rows, as eBPF or an observation line gives
it). tests/test_fuzz_mappers.py runs the same targets under hypothesis for a few seconds in CI.

A crash is any exception but PermanentError, a PermanentError without a message, or a row holding a value Neo4j
cannot store. Each distinct crash is printed once with its input (as JSON) and the run exits 1. Reproducible: the
same --seed and --jobs try the same inputs.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import fuzzing as fz  # noqa: E402

REPORT_EVERY = 50_000


def campaign(args: tuple[int, int, float]) -> tuple[int, int, int, dict[str, tuple[int, str]]]:
    """(inputs tried, of them releases, of them process records, {crash: (count, first input)}) of one stream."""
    seed, inputs, seconds = args
    rng = random.Random(seed)
    seeds = fz.seeds()
    release = fz.release_seed()
    process = fz.process_seed()
    crashes: dict[str, tuple[int, str]] = {}
    deadline = time.monotonic() + seconds if seconds else None
    tried = releases = processes = 0
    while tried < inputs and (deadline is None or time.monotonic() < deadline):
        tried += 1
        roll = rng.random()
        if roll < 0.1:
            processes += 1
            name, record = "process", copy.deepcopy(process)
            for _ in range(rng.randint(1, 3)):
                found = list(fz.paths(record))
                if found:
                    fz.mutate(record, rng.choice(found), rng.choice(fz.ACTIONS), fz.random_value(rng))
            obj, problem = record, fz.check(fz.map_process, record)
        elif roll < 0.35:
            releases += 1
            doc = copy.deepcopy(release)
            for _ in range(rng.randint(1, 3)):
                found = list(fz.paths(doc))
                if found:
                    fz.mutate(doc, rng.choice(found), rng.choice(fz.ACTIONS), fz.random_value(rng))
            obj = fz.release_object(doc, rng.choice(("Secret", "ConfigMap")))
            name = "release"
            problem = fz.check(fz.read_release, obj) or fz.check(fz.map_object, obj)
        else:
            name, obj = fz.random_input(rng, seeds)
            problem = fz.check(fz.map_object, obj)
        if problem:
            key = f"{name}: {problem[:160]}"
            count, example = crashes.get(key, (0, json.dumps(obj, default=str)[:4000]))
            crashes[key] = (count + 1, example)
        if seed == 0 and tried % REPORT_EVERY == 0:
            print(f"  {tried:,} inputs in this process, {len(crashes)} distinct crashes", file=sys.stderr, flush=True)
    return tried, releases, processes, crashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=1_000_000, help="inputs in all (split over the jobs)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long, whatever --inputs says")
    parser.add_argument("--jobs", type=int, default=1, help="processes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jobs = max(args.jobs, 1)
    work = [(args.seed + job, -(-args.inputs // jobs), args.seconds) for job in range(jobs)]
    started = time.perf_counter()
    if jobs == 1:
        results = [campaign(work[0])]
    else:
        with multiprocessing.Pool(jobs) as pool:
            results = pool.map(campaign, work)
    elapsed = time.perf_counter() - started
    tried = sum(r[0] for r in results)
    releases = sum(r[1] for r in results)
    processes = sum(r[2] for r in results)
    crashes: dict[str, tuple[int, str]] = {}
    for *_, found in results:
        for key, (count, example) in found.items():
            crashes[key] = (crashes.get(key, (0, example))[0] + count, example)
    for key, (count, example) in sorted(crashes.items(), key=lambda kv: -kv[1][0]):
        print(f"CRASH x{count}: {key}\n  input: {example}")
    print(f"fuzzed {tried:,} inputs ({tried - releases - processes:,} objects, {releases:,} Helm releases, "
          f"{processes:,} helm process records) in {elapsed:.0f} s "
          f"= {tried / elapsed:,.0f} inputs/s over {jobs} process(es); {len(crashes)} distinct crashes, "
          f"{sum(c for c, _ in crashes.values())} crashing inputs")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())

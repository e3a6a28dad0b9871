"""How often the top diagnosis is right, per pattern, on the golden scenario suite; and is confidence calibrated?

    python bench/detection_accuracy.py                 every folder of tests/scenarios/
    python bench/detection_accuracy.py hook_ stuck_    only folders whose name starts so
    python bench/detection_accuracy.py --verbose       print each scenario's outcome and mismatches

Needs a Neo4j it may wipe: KGRCA_NEO4J_URI (your own instance, see tests/scenarios/README.md).

For every scenario the graph is wiped, the input replayed and every pattern run as of the scenario's
``now``. A scenario is *right* when its top root diagnosis is the expected pattern (about the expected
release), or when a near-miss gets no diagnosis. Per pattern it prints:

* scenarios: how many expect it on top; found: how many of those have it on top (recall);
* reported: how often it came out on top anywhere; right: how many of those were right (precision);
* mean conf: its mean confidence when on top, to compare with precision (calibration);
* passed: scenarios whose expected.yaml fully holds (evidence, commands, consequences too).

Then a calibration table over all top diagnoses: confidence bucket, count, mean confidence, share right.
A pattern whose mean confidence is far above its precision is over-confident: lower its base
confidence (header) or the confidence its query returns.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kgrca.config import load_config  # noqa: E402
from kgrca.contracts import KgrcaError  # noqa: E402
from kgrca.graphdb import connect  # noqa: E402
from tests.scenarios import suite  # noqa: E402

BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*", help="only scenarios whose folder name starts with one of these")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every scenario's outcome")
    args = parser.parse_args(argv)
    cfg = load_config()
    logging.getLogger("neo4j").setLevel(logging.ERROR)  # unknown-label notices of absent sources
    folders = [f for f in suite.discover() if not args.prefixes or f.name.startswith(tuple(args.prefixes))]
    if not folders:
        raise KgrcaError("no scenario folder matches; see tests/scenarios/")
    expected_on_top: dict[str, int] = defaultdict(int)
    found_on_top: dict[str, int] = defaultdict(int)
    reported: dict[str, int] = defaultdict(int)
    right: dict[str, int] = defaultdict(int)
    confidence: dict[str, list[float]] = defaultdict(list)
    passed: dict[str, int] = defaultdict(int)
    tops: list[tuple[float, bool]] = []
    near_total = near_right = 0
    failures: list[str] = []
    started = time.perf_counter()
    driver = connect(cfg)
    try:
        suite.prepare(driver, cfg)
        for folder in folders:
            scenario = suite.load(folder)
            problems = suite.replay(driver, cfg, scenario)
            run = suite.diagnose(driver, cfg, scenario)
            best = suite.top(scenario, run)
            wrong = problems + suite.mismatches(scenario, run)
            is_right = (best is None) if scenario.near_miss else (
                best is not None and best.pattern == scenario.expected
                and (not scenario.release or suite.release_key(best) == scenario.release))
            key = "(near-miss)" if scenario.near_miss else scenario.expected
            if scenario.near_miss:
                near_total += 1
                near_right += is_right
            else:
                expected_on_top[key] += 1
                found_on_top[key] += is_right
            if best is not None:
                reported[best.pattern] += 1
                right[best.pattern] += is_right
                confidence[best.pattern].append(best.confidence)
                tops.append((best.confidence, is_right))
            passed[key] += not wrong
            if wrong:
                failures.append(f"{scenario.name}: " + "; ".join(w.splitlines()[0] for w in wrong))
            if args.verbose:
                got = f"{best.pattern} {best.confidence:.2f}" if best else "nothing"
                print(f"{'ok ' if not wrong else 'BAD'} {scenario.name:<45} expected {scenario.expected:<28} got {got}",
                      flush=True)
                for line in wrong:
                    print(f"      {line[:600]}", flush=True)
    finally:
        driver.close()
    elapsed = time.perf_counter() - started
    patterns = sorted(set(expected_on_top) | set(reported))
    print(f"\n{len(folders)} scenarios in {elapsed:.1f}s\n")
    print(f"{'pattern':<30} {'scenarios':>9} {'found':>6} {'reported':>9} {'right':>6} {'precision':>9} "
          f"{'mean conf':>9} {'passed':>7}")
    for pattern in patterns:
        shown = reported[pattern]
        precision = f"{right[pattern] / shown:.2f}" if shown else "-"
        mean = f"{sum(confidence[pattern]) / len(confidence[pattern]):.2f}" if confidence[pattern] else "-"
        print(f"{pattern:<30} {expected_on_top[pattern]:>9} {found_on_top[pattern]:>6} {shown:>9} "
              f"{right[pattern]:>6} {precision:>9} {mean:>9} {passed[pattern]:>7}")
    print(f"{'(near-miss: no diagnosis)':<30} {near_total:>9} {near_right:>6} {'':>9} {'':>6} {'':>9} {'':>9} "
          f"{passed['(near-miss)']:>7}")
    print("\ncalibration of the top diagnosis")
    print(f"{'confidence':<12} {'count':>6} {'mean':>6} {'right':>6}")
    for low, high in BUCKETS:
        inside = [(c, ok) for c, ok in tops if low <= c < high]
        if inside:
            mean = sum(c for c, _ in inside) / len(inside)
            share = sum(ok for _, ok in inside) / len(inside)
            print(f"[{low:.2f},{min(high, 1):.2f}) {len(inside):>6} {mean:>6.2f} {share:>6.2f}")
    total = len(folders)
    correct = sum(found_on_top.values()) + near_right
    print(f"\ntop diagnosis right in {correct}/{total} scenarios ({correct / total:.0%}); "
          f"fully passing {sum(passed.values())}/{total}")
    if failures:
        print("\nnot passing:")
        for line in failures:
            print(f"  {line[:300]}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KgrcaError as exc:
        print(f"detection_accuracy: {exc}", file=sys.stderr)
        sys.exit(1)

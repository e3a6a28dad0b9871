"""How well helm's error classifier (kg_builder/helm_errors.py, cypher/helm_errors.yaml) names real messages.

Reads the labelled corpus of messages users saw in public issue threads (tests/helm_errors/corpus.jsonl, each
with its source address) and prints, per family, how many messages were named right, which were named wrong
and as what, and every message no family claimed. Nothing is dropped silently: a message is right, wrong or
unclassified.

    python bench/classify_messages.py            # the table and the misses
    python bench/classify_messages.py --quiet    # the table only
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kg_builder.helm_errors import UNCLASSIFIED, classify  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "helm_errors" / "corpus.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--quiet", action="store_true", help="print the table only, not the misses")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    results = [(row, classify(row["message"])) for row in rows]
    seconds = time.perf_counter() - started
    by_family: dict[str, list[tuple[dict, object]]] = collections.defaultdict(list)
    for row, found in results:
        by_family[row["family"]].append((row, found))
    print(f"{'family':24} {'messages':>8} {'right':>6} {'wrong':>6} {'unclassified':>12} {'accuracy':>9}")
    right_total = unclassified_total = 0
    misses = []
    for family in sorted(by_family):
        items = by_family[family]
        right = sum(1 for row, found in items if found.family == family)
        unclassified = sum(1 for row, found in items if found.family == UNCLASSIFIED)
        wrong = len(items) - right - unclassified
        right_total += right
        unclassified_total += unclassified
        misses.extend((row, found) for row, found in items if found.family != family)
        print(f"{family:24} {len(items):8} {right:6} {wrong:6} {unclassified:12} {right / len(items):9.1%}")
    total = len(results)
    print(f"{'all':24} {total:8} {right_total:6} {total - right_total - unclassified_total:6} "
          f"{unclassified_total:12} {right_total / total:9.1%}")
    print(f"classified {total} messages in {seconds * 1000:.0f} ms ({seconds / total * 1e6:.0f} µs each)")
    if not args.quiet and misses:
        print("\nmisses (expected -> got: message, source):")
        for row, found in misses:
            text = " ".join(row["message"].split())
            print(f"  {row['family']} -> {found.family}: {text[:220]}\n    {row['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

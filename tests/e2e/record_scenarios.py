"""Record scenarios from real runs into ``tests/e2e/recordings/<scenario>.jsonl`` (+ ``.meta.json``).

    python tests/e2e/record_scenarios.py                 # every scenario, with Helm 4
    python tests/e2e/record_scenarios.py crashloop oomkilled
    python tests/e2e/record_scenarios.py --helm 3        # the Helm 3 entries (scenario_lib.HELM3_SCENARIOS)
                                                         # into <scenario>.helm3.jsonl; or name some

Starts the local cluster if needed (``kgrca cluster up``), then for each scenario: deletes its namespace,
starts kgrca's watcher (the recorder), runs the steps, checks ``expect``, lets trailing updates settle
and writes the watch events kgrca saw, with the helm and Kubernetes versions and the exact commands.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import scenario_lib  # noqa: E402

from kgrca import cluster  # noqa: E402
from kgrca.cluster.recorder import Recorder  # noqa: E402
from kgrca.config import load_config  # noqa: E402


def record(name: str, tools: scenario_lib.Tools) -> Path:
    cfg = load_config().replace(kubeconfig=str(tools.kubeconfig))
    scenario = scenario_lib.load(name)
    runner = scenario_lib.Runner(scenario, tools)
    runner.prepare()
    out = scenario_lib.recording(name, tools.helm_major)
    partial = out.with_name(out.name + ".part")  # a failed run leaves the committed recording as it was
    began = time.monotonic()
    recorder = Recorder(cfg, partial, [scenario.namespace]).start()
    try:
        results = runner.run()
        runner.check_expectations()
        recorder.settle(quiet=3.0, timeout=20.0)
    except BaseException:
        with contextlib.suppress(Exception):
            recorder.stop()
        partial.unlink(missing_ok=True)
        raise
    lines = recorder.stop()
    partial.replace(out)
    meta = scenario_lib.meta(scenario, results, tools, lines)
    out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{out.name}: {lines} watch events, {out.stat().st_size // 1024} KiB, "
          f"{time.monotonic() - began:.0f}s", flush=True)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--helm", type=int, choices=(3, 4), default=scenario_lib.HELM_MAJOR,
                        help="the helm major to record with (default: %(default)s)")
    parser.add_argument("names", nargs="*", help="scenarios (default: all; with --helm 3 its subset)")
    args = parser.parse_args(argv)
    cfg = load_config()
    kubeconfig = cluster.ensure_up(cfg)
    tools = scenario_lib.Tools(cluster.helm_binary(cfg, args.helm), cluster.kubectl_binary(cfg), kubeconfig,
                               helm_major=args.helm)
    default = scenario_lib.names() if args.helm == scenario_lib.HELM_MAJOR else list(scenario_lib.HELM3_SCENARIOS)
    wanted = args.names or default
    unknown = sorted(set(wanted) - set(scenario_lib.names()))
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)}; known: {', '.join(scenario_lib.names())}",
              file=sys.stderr)
        return 2
    failed = []
    for name in wanted:
        try:
            record(name, tools)
        except scenario_lib.ScenarioFailed as exc:
            failed.append(name)
            print(f"{name}: FAILED: {exc}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

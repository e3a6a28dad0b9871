"""Record scenarios from real runs into ``tests/e2e/recordings/<scenario>.jsonl`` (+ ``.meta.json``).

    python tests/e2e/record_scenarios.py                 # every scenario
    python tests/e2e/record_scenarios.py crashloop oomkilled

Starts the local cluster if needed (``kgrca cluster up``), then for each scenario: deletes its namespace,
starts kgrca's watcher (the recorder), runs the steps, checks ``expect``, lets trailing updates settle
and writes the watch events kgrca saw, with the helm and Kubernetes versions and the exact commands.
"""

from __future__ import annotations

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
    out = scenario_lib.RECORDINGS / f"{name}.jsonl"
    began = time.monotonic()
    recorder = Recorder(cfg, out, [scenario.namespace]).start()
    try:
        results = runner.run()
        runner.check_expectations()
        recorder.settle(quiet=3.0, timeout=20.0)
    finally:
        lines = recorder.stop()
    meta = scenario_lib.meta(scenario, results, tools, lines)
    out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: {lines} watch events, {out.stat().st_size // 1024} KiB, "
          f"{time.monotonic() - began:.0f}s", flush=True)
    return out


def main(argv: list[str]) -> int:
    cfg = load_config()
    kubeconfig = cluster.ensure_up(cfg)
    tools = scenario_lib.Tools(cluster.helm_binary(cfg), cluster.kubectl_binary(cfg), kubeconfig)
    wanted = argv or scenario_lib.names()
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

"""Record scenarios from real runs into ``tests/e2e/recordings/<scenario>.jsonl`` (+ ``.meta.json``).

    python tests/e2e/record_scenarios.py                 # every scenario, with Helm 4
    python tests/e2e/record_scenarios.py crashloop oomkilled
    python tests/e2e/record_scenarios.py --helm 3        # the Helm 3 entries (scenario_lib.HELM3_SCENARIOS)
                                                         # into <scenario>.helm3.jsonl; or name some

Starts the local cluster if needed (``kgrca cluster up``), then for each scenario: deletes its namespace,
starts kgrca's watcher (the recorder), runs the steps, checks ``expect``, lets trailing updates settle
and writes the watch events kgrca saw, with the helm and Kubernetes versions and the exact commands.

Where eBPF can run (root, tracepoints: ``kgrca trace --check``), ``kgrca trace --sink stdout --names helm`` runs
around the scenario too, and the process records of the helm runs the scenario started (children of this process
and theirs; other helm processes on the machine are left out) go beside the recording, as
``<scenario>.processes.jsonl`` (``<scenario>.helm3.processes.jsonl``). ``--no-trace`` records without them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import scenario_lib  # noqa: E402

import bpf  # noqa: E402
from kgrca.config import load_config  # noqa: E402
from localdev import cluster  # noqa: E402
from localdev.cluster.recorder import Recorder  # noqa: E402

TRACER_READY = "Ctrl-C to stop"  # kgrca trace's line once its program is loaded


def processes_path(recording: Path) -> Path:
    """Where the process records of a recording go: ``x.jsonl`` -> ``x.processes.jsonl``."""
    return recording.with_name(recording.name.removesuffix(".jsonl") + ".processes.jsonl")


class ProcessTracer:
    """``kgrca trace --sink stdout --names helm`` around one scenario; keeps the records of the helm processes this
    process started (and of what they started), in the order the tracer wrote them."""

    def __init__(self, ready_timeout: float = 180.0):
        self._out = tempfile.TemporaryFile("w+")
        self._err = tempfile.TemporaryFile("w+")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "faces.cli", "trace", "--sink", "stdout", "--names", "helm"],
            stdout=self._out, stderr=self._err, text=True, cwd=scenario_lib.REPO)
        deadline = time.monotonic() + ready_timeout  # BCC compiles the program first: seconds on a busy machine
        while TRACER_READY not in self._stderr():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._process.kill()
                raise scenario_lib.ScenarioFailed(f"kgrca trace did not start: {self._stderr()[-600:]}")
            time.sleep(0.2)

    def _stderr(self) -> str:
        self._err.seek(0)
        return self._err.read()

    def stop(self) -> list[dict]:
        """Stop the tracer (SIGINT: it reports the processes still running and flushes) and return our records."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._out.seek(0)
        ours, operations = [], set()
        for line in self._out:
            record = json.loads(line)
            payload = record.get("payload") or {}
            if payload.get("ppid") == os.getpid() or payload.get("parent_operation_id") in operations:
                operations.add(payload.get("operation_id"))
                ours.append(record)
        self._out.close()
        self._err.close()
        return ours


def record(name: str, tools: scenario_lib.Tools, trace: bool = True) -> Path:
    cfg = load_config().replace(kubeconfig=str(tools.kubeconfig))
    scenario = scenario_lib.load(name)
    runner = scenario_lib.Runner(scenario, tools)
    runner.prepare()
    out = scenario_lib.recording(name, tools.helm_major)
    partial = out.with_name(out.name + ".part")  # a failed run leaves the committed recording as it was
    began = time.monotonic()
    tracer = ProcessTracer() if trace else None
    recorder = Recorder(cfg, partial, [scenario.namespace]).start()
    try:
        results = runner.run()
        runner.check_expectations()
        recorder.settle(quiet=3.0, timeout=20.0)
    except BaseException:
        with contextlib.suppress(Exception):
            recorder.stop()
        if tracer is not None:
            with contextlib.suppress(Exception):
                tracer.stop()
        partial.unlink(missing_ok=True)
        raise
    lines = recorder.stop()
    processes = tracer.stop() if tracer is not None else None
    partial.replace(out)
    traced = processes_path(out)
    if processes is not None:
        traced.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in processes))
    else:
        traced.unlink(missing_ok=True)  # an older run's records are not this run's
    meta = scenario_lib.meta(scenario, results, tools, lines)
    meta["process_records"] = (f"{traced.name}: {len(processes)} records of kgrca trace (eBPF) of this run"
                               if processes is not None else "none (recorded with --no-trace)")
    out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{out.name}: {lines} watch events, {len(processes or [])} process records, "
          f"{out.stat().st_size // 1024} KiB, {time.monotonic() - began:.0f}s", flush=True)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--helm", type=int, choices=(3, 4), default=scenario_lib.HELM_MAJOR,
                        help="the helm major to record with (default: %(default)s)")
    parser.add_argument("--no-trace", action="store_true",
                        help="no eBPF process records (the default where eBPF cannot run, which is said)")
    parser.add_argument("names", nargs="*", help="scenarios (default: all; with --helm 3 its subset)")
    args = parser.parse_args(argv)
    cfg = load_config()
    trace = not args.no_trace
    if trace:
        ok, why = bpf.availability()
        if not ok:
            print(f"recording without process records: {why}", file=sys.stderr, flush=True)
            trace = False
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
            record(name, tools, trace)
        except scenario_lib.ScenarioFailed as exc:
            failed.append(name)
            print(f"{name}: FAILED: {exc}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

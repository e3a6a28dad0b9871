#!/usr/bin/env python3
"""What the helm/kubectl tracer costs the rest of the machine, and whether it keeps up. Needs root.

1. Overhead: a tight fork+exec+wait loop of /bin/true (a small C driver, so Python's own cost is
   not measured), without and with the tracer loaded. /bin/true is not followed, so this is the
   price every other process on the machine pays: a few map lookups per exec, fork, exit and
   traced syscall. Rounds alternate (off, on, off, on ...) so other load on the machine hits both;
   the medians of each side are compared, in CPU time (what the tracer adds to; the target, under
   5% slower) and wall time (which also carries other load). The kernel's own accounting of time
   spent in the tracer's programs (bpf_stats_enabled) gives the added cost per fork+exec exactly.
2. Throughput: a stand-in named `helm` started at a fixed rate (default 1,000 per second), each
   reading a values file and writing a line to stderr, as helm does; every one must come back as
   a record, with zero events lost.

    sudo python bench/bpf_overhead.py [--loops 3000] [--rounds 7] [--rate 1000] [--seconds 5]

Prints the figures and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpf import availability  # noqa: E402
from bpf.program import ProgramOptions  # noqa: E402
from bpf.tracer import Tracer  # noqa: E402

OPTIONS = ProgramOptions(cpus=os.cpu_count() or 1)  # as `kgrca trace` loads it with default settings

DRIVER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* driver LOOPS RATE PROGRAM ARGS...: run PROGRAM LOOPS times; RATE > 0 paces starts at RATE per
 * second (not waiting for each to end first), RATE == 0 runs them back to back. Prints seconds. */
int main(int argc, char **argv) {
    long loops = atol(argv[1]);
    double rate = atof(argv[2]);
    char **args = argv + 3;
    double start = now();
    long running = 0;
    for (long i = 0; i < loops; i++) {
        if (rate > 0) {
            double due = start + i / rate;
            while (now() < due) {
                if (running && waitpid(-1, NULL, WNOHANG) > 0) running--;
                else usleep(50);
            }
        }
        /* Paced starts use vfork, as posix_spawn and Go's os/exec do, so the driver itself keeps up
         * with the rate on a busy machine; the back-to-back loop forks, as the target says. */
        pid_t pid = rate > 0 ? vfork() : fork();
        if (pid == 0) { execv(args[0], args); _exit(127); }
        if (rate > 0) running++;
        else waitpid(pid, NULL, 0);
    }
    while (running > 0 && waitpid(-1, NULL, 0) > 0) running--;
    printf("%.6f\n", now() - start);
    return 0;
}
"""

FAKE_HELM_C = r"""
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char buf[256];
    for (int i = 1; i + 1 < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] == 'f' && argv[i][2] == 0) {
            int fd = open(argv[i + 1], O_RDONLY);
            if (fd >= 0) { if (read(fd, buf, sizeof buf) < 0) return 2; close(fd); }
        }
    if (write(2, "WARNING: kubeconfig is group-readable\n", 38) < 0) return 3;
    return 0;
}
"""


def build(work: Path) -> tuple[Path, Path]:
    for name, source in (("driver", DRIVER_C), ("helm", FAKE_HELM_C)):
        (work / f"{name}.c").write_text(source)
        subprocess.run(["cc", "-O2", "-static", "-o", str(work / name), str(work / f"{name}.c")], check=True)
    return work / "driver", work / "helm"


def loop_cost(driver: Path, loops: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``loops`` fork+exec+wait of /bin/true. CPU time (user + system
    of the driver and every /bin/true) is what the tracer adds to; wall time also carries whatever
    else the machine is doing."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([str(driver), str(loops), "0", "/bin/true"], check=True, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(out.stdout), cpu


class Running:
    """The tracer loaded and drained by a thread, as `kgrca trace` runs it."""

    def __init__(self, options: ProgramOptions, binary: str | None = None):
        self.tracer = Tracer(options, running_after=3600)
        self.binary = binary  # count only the records of this program (other helms may run here)
        self.records = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.records += self._count(self.tracer.poll(100))

    def _count(self, ready: list[tuple[str, dict]]) -> int:
        return sum(1 for action, record in ready
                   if action == "EXITED" and (self.binary is None or record["binary"] == self.binary))

    def __enter__(self) -> Running:
        self.tracer.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.records += self._count(self.tracer.drain())
        self.tracer.close()


def overhead_interleaved(driver: Path, loops: int, rounds: int
                         ) -> tuple[list[tuple[float, float]], list[tuple[float, float]], float, dict[str, float]]:
    """Alternate rounds without and with the tracer (loaded anew for each "with" round). Also the
    nanoseconds the kernel spent in the tracer's programs per fork+exec (bpf_stats_enabled)."""
    loop_cost(driver, max(1, loops // 10))  # warm caches
    off: list[tuple[float, float]] = []
    on: list[tuple[float, float]] = []
    bpf_ns: list[float] = []
    per_program: dict[str, float] = {}
    options = OPTIONS
    with bpf_stats():
        for _ in range(rounds):
            off.append(loop_cost(driver, loops))
            with Running(options) as running:
                before = running.tracer.program_stats()
                on.append(loop_cost(driver, loops))
                after = running.tracer.program_stats()
                bpf_ns.append(sum(after[n][1] - before[n][1] for n in after) / loops)
                for name in after:
                    per_program[name] = per_program.get(name, 0.0) + (after[name][1] - before[name][1]) / loops / rounds
    return off, on, statistics.median(bpf_ns), per_program


@contextlib.contextmanager
def bpf_stats() -> Iterator[None]:
    """Turn the kernel's per-program run-time accounting on, and back to what it was."""
    path = Path("/proc/sys/kernel/bpf_stats_enabled")
    was = path.read_text().strip()
    path.write_text("1")
    try:
        yield
    finally:
        path.write_text(was)


def throughput(driver: Path, helm: Path, rate: int, seconds: float, work: Path) -> tuple[int, int, int, int, float]:
    values = work / "values-prod.yaml"
    values.write_text("image:\n  tag: \"2.0\"\n")
    count = int(rate * seconds)
    with Running(OPTIONS, binary=str(helm)) as running:
        out = subprocess.run([str(driver), str(count), str(rate), str(helm), "upgrade", "shop", "./charts/shop",
                              "-n", "prod", "-f", str(values), "--wait", "--timeout", "5m0s"],
                             check=True, capture_output=True, text=True)
        elapsed = float(out.stdout)
        deadline = time.monotonic() + 10
        while running.records < count and time.monotonic() < deadline:
            time.sleep(0.1)
        lost = running.tracer.lost
        events = running.tracer.events
    return count, running.records, lost, events, count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loops", type=int, default=3000, help="fork+exec per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds each side (default 7)")
    parser.add_argument("--rate", type=int, default=1000, help="helm starts per second (default 1000)")
    parser.add_argument("--seconds", type=float, default=5, help="how long to start helms (default 5)")
    args = parser.parse_args()
    ok, why = availability()
    if not ok:
        print(f"bpf_overhead: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kgrca-bench-") as tmp:
        work = Path(tmp)
        driver, helm = build(work)
        off, on, bpf_ns, per_program = overhead_interleaved(driver, args.loops, args.rounds)
        wall_off, wall_on = (statistics.median(w for w, _ in side) for side in (off, on))
        cpu_off, cpu_on = (statistics.median(c for _, c in side) for side in (off, on))
        ratio = cpu_on / cpu_off
        per = 1e6 / args.loops
        print(f"fork+exec+wait of /bin/true x{args.loops}, {args.rounds} rounds each side, medians:")
        print(f"  CPU time   without: {cpu_off:.3f} s ({cpu_off * per:.1f} us each)  with: {cpu_on:.3f} s "
              f"({cpu_on * per:.1f} us each)  ratio {ratio:.3f} ({(ratio - 1) * 100:+.1f}%; target < +5%)")
        print(f"  wall time  without: {wall_off:.3f} s  with: {wall_on:.3f} s  ratio {wall_on / wall_off:.3f}")
        print(f"  in the tracer's BPF programs: {bpf_ns / 1000:.2f} us per fork+exec "
              f"({bpf_ns / 1e3 / (cpu_off * per) * 100:.2f}% of an untraced fork+exec's CPU time)")
        top = sorted(per_program.items(), key=lambda item: -item[1])[:5]
        print("  by program (ns per fork+exec): " + ", ".join(f"{n.split('__')[-1]} {ns:.0f}" for n, ns in top))
        print(f"  CPU rounds without: {', '.join(f'{c:.3f}' for _, c in off)}")
        print(f"  CPU rounds with:    {', '.join(f'{c:.3f}' for _, c in on)}")
        count, records, lost, events, achieved = throughput(driver, helm, args.rate, args.seconds, work)
        print(f"helm stand-in at {args.rate}/s for {args.seconds:g} s: {count} started "
              f"(achieved {achieved:.0f}/s), {events} events, {records} records, {lost} events lost")
    missed = []
    if ratio >= 1.05:
        missed.append("overhead")
    if lost or records != count:
        missed.append("throughput")
    if missed:
        print(f"bpf_overhead: missed target: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

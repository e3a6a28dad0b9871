#!/usr/bin/env python3
"""kgrca-trace: follow helm and kubectl processes with eBPF and print one record per operation.

USAGE:
    python -m bpf.tracer [-h] [--names helm,kubectl] [--no-files] [--no-api] [--no-stderr]
                         [--perf] [--buffer-pages N] [--running-after SEC] [--duration SEC]

    Prints one JSON line per record (the Observation form `kgrca ingest` reads). `kgrca trace`
    runs the same tracer with output to Neo4j, Kafka or stdout.

EXAMPLES:
    python -m bpf.tracer                      # helm and kubectl, everything
    python -m bpf.tracer --names helm         # helm only
    python -m bpf.tracer --no-files --no-api  # exec, exit and stderr only (cheapest)
    python -m bpf.tracer --duration 60        # stop after a minute

CAVEATS:
    * Needs root, tracefs at /sys/kernel/tracing, kernel headers and BCC (scripts/setup/30-ebpf.sh).
    * Tracepoints only (kernels built without kprobes work); no task_struct field is read, so
      headers of another kernel version are fine.
    * A process is followed when its comm after exec is a traced name (the basename of the
      executable, cut to 15 bytes), or when its parent is followed. A helm started before the
      tracer is not seen. execveat() is not traced: fexecve'd helm keeps no argv.
    * argv is cut at 64 arguments / 4 KiB, each argument at 256 bytes (argv_truncated says so);
      stderr at 512 bytes per write() and 64 KiB per process; file names at 256 bytes.
    * The killing signal is the last fatal-by-default signal sent to the process itself (kill(2),
      the OOM killer, a fault); one sent to a single thread with tgkill(2) is not seen.
    * Relative paths are resolved against the process's cwd read from /proc at its exec; a
      process gone before that keeps them relative.
    * Events that do not fit the buffer are counted as lost, never blocking the traced process.

Shaped after BCC's execsnoop and opensnoop: the C text is in bpf/program.py with placeholders
filled from these options; --ebpf prints it.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import dataclasses
import json
import logging
import os
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from bpf.events import EventDecoder
from bpf.program import ProgramOptions, generate
from bpf.records import RecordAssembler
from kgrca.contracts import KgrcaError, Observation, utc_now

log = logging.getLogger(__name__)

Emitted = tuple[str, dict[str, Any]]


class Tracer:
    """The loaded program and the records it yields.

    ``start()`` compiles and attaches (ring buffer, or perf buffer where the kernel has none) and
    starts a thread that only copies events out of the kernel buffer, so the buffer empties at once
    even while records are being assembled; ``poll(ms)`` assembles what arrived and returns the
    (action, record) pairs that became ready; ``lost`` counts events dropped; ``close()`` detaches.
    """

    def __init__(self, options: ProgramOptions, running_after: float = 2.0, max_backlog: int = 200_000):
        self.options = options
        self.assembler = RecordAssembler(running_after=running_after)
        self.events = 0
        self.decode_errors = 0
        self.buffer = ""
        self._decoder = EventDecoder(options)
        self._bpf: Any = None
        self._raw: collections.deque[bytes] = collections.deque()
        self._arrived = threading.Event()
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self._max_backlog = max_backlog
        self._backlog_lost = 0
        self._perf_lost = 0
        self.bytes_read = 0  # copied out of the kernel buffer
        # called after each read of the kernel buffer with the bytes it held (bpf/metrics.py: the buffer's use)
        self.on_read: Callable[[int], None] | None = None

    def start(self) -> None:
        from bcc import BPF  # imported here: the rest of kgrca runs without BCC

        first_error: Exception | None = None
        for ringbuf in ((True, False) if self.options.ringbuf else (False,)):
            options = dataclasses.replace(self.options, ringbuf=ringbuf)
            try:
                self._bpf = BPF(text=generate(options).encode())
            except Exception as exc:  # BCC raises bare Exception on compile or load failure
                first_error = first_error or exc
                log.debug("loading with %s failed: %s", "ring buffer" if ringbuf else "perf buffer", exc)
                continue
            self.options = options
            break
        if self._bpf is None:
            raise KgrcaError(f"the eBPF program did not load: {first_error}".splitlines()[0])
        table = self._bpf[b"events"]
        if self.options.ringbuf:
            table.open_ring_buffer(self._on_event)
            self.buffer = "ring buffer"
        else:
            table.open_perf_buffer(self._on_event, page_cnt=self.options.buffer_pages,
                                   lost_cb=self._on_perf_lost)
            self.buffer = "perf buffer"
        self._reader = threading.Thread(target=self._read, name="bpf-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            before = self.bytes_read
            self._consume(100)
            if self.on_read is not None:
                self.on_read(self.bytes_read - before)

    def _consume(self, timeout_ms: int) -> None:
        if self.options.ringbuf:
            self._bpf.ring_buffer_poll(timeout_ms)
        else:
            self._bpf.perf_buffer_poll(timeout_ms)

    def _on_event(self, _ctx: Any, data: Any, size: int) -> None:
        # Runs on the reader thread: copy and go, so the kernel buffer never waits for Python.
        self.bytes_read += size
        if len(self._raw) >= self._max_backlog:
            self._backlog_lost += 1
            return
        self._raw.append(ctypes.string_at(data, size))
        self._arrived.set()

    def _on_perf_lost(self, count: int) -> None:
        self._perf_lost += count

    @property
    def lost(self) -> int:
        """Events dropped: the kernel buffer was full, or the backlog waiting for assembly was."""
        kernel = int(self._bpf[b"lost"].sum(0).value) if self._bpf is not None else 0
        return kernel + self._perf_lost + self._backlog_lost

    def program_stats(self) -> dict[str, tuple[int, int]]:
        """``{program: (runs, nanoseconds)}`` spent in each attached BPF program, from the kernel's
        own accounting (counted only while /proc/sys/kernel/bpf_stats_enabled is 1)."""
        stats: dict[str, tuple[int, int]] = {}
        for name, function in (self._bpf.funcs.items() if self._bpf is not None else ()):
            fields = dict(line.split(":", 1) for line in
                          open(f"/proc/self/fdinfo/{function.fd}", encoding="ascii").read().splitlines()
                          if ":" in line)
            label = name.decode() if isinstance(name, bytes) else str(name)
            stats[label] = (int(fields.get("run_cnt", 0)), int(fields.get("run_time_ns", 0)))
        return stats

    def _assemble(self) -> list[Emitted]:
        ready: list[Emitted] = []
        while self._raw:
            raw = self._raw.popleft()
            self.events += 1
            try:
                event = self._decoder.decode(raw)
            except (ValueError, struct.error) as exc:  # one bad event never stops the tracer
                self.decode_errors += 1
                log.warning("undecodable event of %d bytes: %s", len(raw), exc)
                continue
            ready.extend(self.assembler.feed(event))
        return ready

    def poll(self, timeout_ms: int = 200) -> list[Emitted]:
        """Records ready now, waiting up to ``timeout_ms`` for events when there are none."""
        if not self._raw:
            self._arrived.wait(timeout_ms / 1000)
        self._arrived.clear()
        ready = self._assemble()
        ready.extend(self.assembler.due_running())
        return ready

    def drain(self) -> list[Emitted]:
        """Stop reading and return everything still in the buffers, assembled (at the end)."""
        self._stop.set()
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self._bpf is not None:
            self._consume(0)
        return self._assemble()

    def close(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self._bpf is not None:
            self._bpf.cleanup()
            self._bpf = None


def observation(action: str, record: dict[str, Any]) -> Observation:
    kind = "kubectl_process" if record.get("tool") == "kubectl" else "helm_process"
    return Observation(kind, action, record, utc_now(), "bpf")


def run(tracer: Tracer, emit: Callable[[list[Observation]], None], duration: float | None = None,
        poll_ms: int = 200, on_status: Callable[[str], None] | None = None,
        stop: Callable[[], bool] | None = None) -> int:
    """Poll until ``duration`` passes, ``stop()`` says so, or Ctrl-C; send RUNNING records of the
    processes still alive at the end. Returns the number of records emitted."""
    deadline = time.monotonic() + duration if duration else None
    emitted = 0
    reported_lost = 0
    try:
        while (deadline is None or time.monotonic() < deadline) and not (stop and stop()):
            ready = tracer.poll(poll_ms)
            if ready:
                emit([observation(action, record) for action, record in ready])
                emitted += len(ready)
            if tracer.lost > reported_lost and on_status:
                on_status(f"{tracer.lost - reported_lost} events lost: the buffer was full "
                          f"(raise buffer_size, now {tracer.options.buffer_pages} pages per CPU)")
                reported_lost = tracer.lost
    except KeyboardInterrupt:
        pass
    ready = tracer.drain() + tracer.assembler.still_running()
    if ready:
        emit([observation(action, record) for action, record in ready])
        emitted += len(ready)
    return emitted


def add_options(parser: argparse.ArgumentParser) -> None:
    """The tracer's options, shared by `python -m bpf.tracer` and `kgrca trace`."""
    parser.add_argument("--names", metavar="LIST",
                        help="comma-separated process names to follow (default: helm,kubectl; "
                             "helm only when track_kubectl is false)")
    parser.add_argument("--no-files", action="store_true", help="do not record files opened")
    parser.add_argument("--no-api", action="store_true", help="do not record connections")
    parser.add_argument("--no-stderr", action="store_true", help="do not record stderr")
    parser.add_argument("--perf", action="store_true", help="use the perf buffer, not the ring buffer")
    parser.add_argument("--buffer-pages", type=int, metavar="N",
                        help="buffer pages per CPU, a power of two (default: buffer_size, 64)")
    parser.add_argument("--running-after", type=float, default=2.0, metavar="SEC",
                        help="report a process still running after SEC seconds as RUNNING (default 2)")
    parser.add_argument("--duration", type=float, metavar="SEC", help="stop after SEC seconds")
    parser.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)


def options_from(args: argparse.Namespace, cfg: Any = None) -> ProgramOptions:
    """ProgramOptions from command-line options, with defaults from kgrca settings when given."""
    track_kubectl = True if cfg is None else cfg.track_kubectl
    names = tuple(n.strip() for n in (args.names or "").split(",") if n.strip()) or (
        ("helm", "kubectl") if track_kubectl else ("helm",))
    pages = args.buffer_pages or (64 if cfg is None else cfg.buffer_size)
    pages = 1 << max(0, (pages - 1).bit_length())  # the kernel wants a power of two
    try:
        return ProgramOptions(
            names=names, ringbuf=not args.perf, buffer_pages=pages, cpus=os.cpu_count() or 1,
            track_files=not args.no_files and (cfg is None or cfg.track_files),
            track_api=not args.no_api and (cfg is None or cfg.track_api),
            track_stderr=not args.no_stderr)
    except ValueError as exc:
        raise KgrcaError(f"bad tracer option: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bpf.tracer", description="Follow helm and kubectl with eBPF; print JSON lines.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("EXAMPLES:", 1)[1].split("CAVEATS:", 1)[0].join(("examples:", "")))
    add_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        options = options_from(args)
        if args.ebpf:
            print(generate(options))
            return 0
        from bpf import availability

        ok, why = availability()
        if not ok:
            raise KgrcaError(why)
        tracer = Tracer(options, running_after=args.running_after)
        tracer.start()
    except KgrcaError as exc:
        print(f"kgrca-trace: {exc}", file=sys.stderr)
        return exc.exit_code

    def emit(observations: list[Observation]) -> None:
        for item in observations:
            sys.stdout.write(json.dumps(item.to_json(), separators=(",", ":")) + "\n")
        sys.stdout.flush()

    try:
        run(tracer, emit, args.duration, on_status=lambda text: print(f"kgrca-trace: {text}", file=sys.stderr))
    finally:
        tracer.close()
    print(f"kgrca-trace: {tracer.events} events, {tracer.lost} lost", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

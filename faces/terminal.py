"""What kgrca draws on a terminal (rich): the progress bar of ``kgrca ingest``, the status line of ``kgrca watch``,
and the colours and width of ``kgrca diagnose``.

Everything here is drawn only when standard output is a terminal. When it is a pipe or a file, the bar and the
status line say nothing and a diagnosis is printed as the plain text it always was, byte for byte, so scripts,
logs and tests read the same output as before.
"""

from __future__ import annotations

import logging
import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text


def interactive(stream: IO[str] | None = None) -> bool:
    """True when ``stream`` (standard output by default) is a terminal that can take colours and redraws."""
    stream = stream or sys.stdout
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def console(stream: IO[str] | None = None) -> Console:
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=False)


class _Rate(ProgressColumn):
    """Observations per second over the whole run (steadier than rich's sliding window for bursty batches)."""

    def render(self, task: Task) -> Text:
        observations = task.fields.get("observations", 0)
        elapsed = task.elapsed or 0.0
        rate = observations / elapsed if elapsed > 0 else 0.0
        return Text(f"{observations:,} observations  {rate:,.0f}/s", style="cyan")


class IngestProgress:
    """The bar of ``kgrca ingest``: bytes read of the files' total size, observations and observations/s, ETA.

    ``update(bytes_read, observations)`` moves it; it draws nothing unless standard output is a terminal
    (``shown`` says whether it does)."""

    def __init__(self, total_bytes: int, stream: IO[str] | None = None):
        stream = stream or sys.stdout
        self.shown = interactive(stream)
        self._progress: Progress | None = None
        self._task: Any = None
        if self.shown:
            self._progress = Progress(
                TextColumn("[bold]ingest"), BarColumn(), TaskProgressColumn(), DownloadColumn(), _Rate(),
                TextColumn("ETA"), TimeRemainingColumn(), console=console(stream), transient=False,
                refresh_per_second=4)
            self._task = self._progress.add_task("ingest", total=max(total_bytes, 1), observations=0)

    def __enter__(self) -> IngestProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def update(self, bytes_read: int, observations: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=bytes_read, observations=observations)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()


class WatchStatus:
    """The live line of ``kgrca watch``: objects listed, watch events per second, observations written, write lag.

    ``snapshot()`` returns (objects listed, watch events, observations written, seconds from the oldest observation
    of the last batch being seen to its write, or None before the first write); it is read at each redraw, and the
    events rate is over the last ``window`` seconds. Draws nothing unless standard output is a terminal."""

    def __init__(self, snapshot: Callable[[], tuple[int, int, int, float | None]], stream: IO[str] | None = None,
                 window: float = 10.0):
        stream = stream or sys.stdout
        self.shown = interactive(stream)
        self._snapshot = snapshot
        self._window = window
        self._marks: list[tuple[float, int]] = []
        self._handlers: list[tuple[logging.StreamHandler, Any]] = []
        self._live = Live(console=console(stream), refresh_per_second=2, transient=False,
                          get_renderable=self.line) if self.shown else None

    def start(self) -> WatchStatus:
        if self._live is not None:
            original = sys.stderr
            self._live.start()  # sys.stderr is now rich's proxy, which prints above the live line
            # log handlers hold the stream they were made with: point them at the proxy while the line is drawn
            if sys.stderr is not original:
                self._handlers = [(h, h.setStream(sys.stderr)) for h in logging.getLogger().handlers
                                  if isinstance(h, logging.StreamHandler) and h.stream is original]
        return self

    def stop(self) -> None:
        if self._live is not None:
            for handler, stream in self._handlers:
                handler.setStream(stream)
            self._handlers = []
            self._live.stop()

    def _rate(self, events: int) -> float:
        now = time.monotonic()
        self._marks.append((now, events))
        while len(self._marks) > 2 and now - self._marks[1][0] >= self._window:
            self._marks.pop(0)
        then, count = self._marks[0]
        return (events - count) / (now - then) if now > then else 0.0

    def line(self) -> Text:
        listed, events, written, lag = self._snapshot()
        text = Text()
        text.append("watch ", style="bold")
        text.append(f"{listed:,} objects listed", style="cyan")
        text.append(f"  {self._rate(events):,.1f} events/s", style="green")
        text.append(f"  {written:,} written")
        text.append("  lag " + ("none written yet" if lag is None else f"{lag:.1f} s"),
                    style="yellow" if lag is not None and lag > 10 else "")
        return text


SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "blue"}  # contracts.SEVERITIES
SECTIONS = ("timeline:", "evidence:", "run:", "this also explains:", "impact:", "context:")


def print_diagnoses(rendered: Iterable[str], stream: IO[str] | None = None) -> None:
    """Diagnoses rendered as text (``rca.render.render``), blank-line separated. On a terminal: the release line
    bold, the severity coloured, section names dimmed, long lines wrapped to the width under their own indent,
    commands to run never wrapped (so they copy whole). Elsewhere: exactly the plain text."""
    stream = stream or sys.stdout
    texts = list(rendered)
    if not interactive(stream):
        print("\n\n".join(texts), file=stream)
        return
    out = console(stream)
    for index, text in enumerate(texts):
        if index:
            out.print()
        for number, line in enumerate(text.splitlines()):
            _print_line(out, line, first=number == 0)


def _print_line(out: Console, line: str, first: bool) -> None:
    stripped = line.lstrip(" ")
    indent = " " * (len(line) - len(stripped))
    if first:
        out.print(Text(line, style="bold"))
        return
    if stripped.startswith("$ "):
        out.print(Text(indent) + Text(stripped, style="bold cyan"), soft_wrap=True)
        return
    if stripped.startswith("[") and "] " in stripped:
        label, rest = stripped[1:].split("] ", 1)
        severity = label.split(" ", 1)[0]
        styled = Text(indent) + Text(f"[{label}]", style=SEVERITY_STYLES.get(severity, "bold"))
        styled.append(" ")
        _wrap(out, styled, rest, indent + "  ")
        return
    for section in SECTIONS:
        if stripped.startswith(section):
            styled = Text(indent) + Text(section, style="bold dim")
            _wrap(out, styled, stripped[len(section):], indent + "  ")
            return
    _wrap(out, Text(indent), stripped, indent + "  ")


def _wrap(out: Console, start: Text, rest: str, hanging: str) -> None:
    """``start`` then ``rest`` wrapped to the console's width, continuation lines under ``hanging``."""
    if len(start.plain) + len(rest) <= out.width or out.width - len(hanging) < 20:
        out.print(start + Text(rest), soft_wrap=True)
        return
    wrapper = textwrap.TextWrapper(out.width, initial_indent=start.plain, subsequent_indent=hanging,
                                   break_long_words=False, break_on_hyphens=False)
    lines = wrapper.wrap(rest) or [start.plain]
    out.print(start + Text(lines[0][len(start.plain):]), soft_wrap=True)
    for line in lines[1:]:
        out.print(Text(line), soft_wrap=True)

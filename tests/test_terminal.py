"""What kgrca draws on a terminal (faces/terminal.py), run as a user runs it: under a pseudo-terminal the bar of
`kgrca ingest`, the status line of `kgrca watch` and the colours of `kgrca diagnose`; through a pipe none of it,
and a diagnosis byte for byte the plain text it always was."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path

import pytest
import yaml

from faces.terminal import print_diagnoses

ROOT = Path(__file__).resolve().parents[1]
KGRCA = [sys.executable, "-m", "faces.cli"]
RECORDING = ROOT / "tests" / "e2e" / "recordings" / "atomic_rollback.jsonl"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_a_terminal(argv: list[str], env: dict[str, str], columns: int = 100, timeout: float = 300,
                  stop_after: float | None = None) -> str:
    """Everything ``argv`` writes to a pseudo-terminal of ``columns`` (stdout and stderr both on it)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                               env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns)})
    os.close(slave)
    output = b""
    deadline = time.monotonic() + timeout
    stop_at = time.monotonic() + stop_after if stop_after else None
    try:
        while time.monotonic() < deadline:
            if stop_at and time.monotonic() > stop_at and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                stop_at = None
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
        process.wait(30)
    return output.decode("utf-8", errors="replace")


def through_a_pipe(argv: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def plain(text: str) -> str:
    """What a person reads: the text without escape codes and carriage-return redraws."""
    lines = []
    for line in ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        lines.append(line.rsplit("\r", 1)[-1])
    return "\n".join(lines)


@pytest.fixture
def env(neo4j_config, neo4j_driver) -> dict[str, str]:
    return {**os.environ, **neo4j_config.environ()}


# ---------------------------------------------------------------------------------------------- ingest


@pytest.mark.neo4j
def test_ingest_draws_a_bar_of_bytes_observations_and_eta_on_a_terminal(env):
    size = RECORDING.stat().st_size
    shown = on_a_terminal([*KGRCA, "ingest", str(RECORDING)], env)
    assert "\x1b[" in shown  # drawn, in colour
    text = plain(shown)
    bar = [line for line in text.splitlines() if line.startswith("ingest ")]
    assert bar, shown
    last = bar[-1]
    total = f"{size / 1000:.1f}"
    assert f"100% {total}/{total} kB" in last  # the total is the file's size, all of it read
    [observations] = re.findall(r"([\d,]+) observations\s+[\d,]+/s", last)
    assert "ETA" in last
    summary = re.search(r"ingested ([\d,]+) observations", text)
    assert summary and summary.group(1) == observations  # the bar counted what was ingested


@pytest.mark.neo4j
def test_ingest_through_a_pipe_draws_nothing(env):
    done = through_a_pipe([*KGRCA, "ingest", str(RECORDING)], env)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"ingested [\d,]+ observations \([\d,]+ rows\) from 1 file\(s\) in [\d.]+ s; 0 skipped\n",
                        done.stdout)
    assert "\x1b" not in done.stdout + done.stderr and "ETA" not in done.stderr


# ---------------------------------------------------------------------------------------------- diagnose


@pytest.mark.neo4j
def test_diagnose_is_coloured_on_a_terminal_and_says_the_same_as_the_plain_text(env):
    scenario = ROOT / "tests" / "scenarios" / "admission_denied"
    expected = yaml.safe_load((scenario / "expected.yaml").read_text())
    assert through_a_pipe([*KGRCA, "ingest", str(scenario / "objects.jsonl")], env).returncode == 0
    # the scenario's own pattern only: the output's form is under test here, not every pattern's speed
    argv = [*KGRCA, "diagnose", "--all", "--now", expected["now"], "--pattern", expected["expected"]]
    piped = through_a_pipe(argv, env)
    assert piped.returncode == 3, piped.stderr
    assert "\x1b" not in piped.stdout
    shown = on_a_terminal(argv, env, columns=80)
    assert "\x1b[" in shown
    text = plain(shown)
    assert text.split() == piped.stdout.split()  # the same words in the same order: only colour and width differ
    for line in piped.stdout.splitlines():
        if line.lstrip().startswith("$ "):
            assert line in text.splitlines()  # a command to run is never broken, so it copies whole
    wrapped = [line for line in piped.stdout.splitlines() if len(line) > 80 and not line.lstrip().startswith("$ ")]
    if wrapped:
        assert max(len(line) for line in text.splitlines() if not line.lstrip().startswith("$ ")) <= 80


def test_the_plain_form_is_the_rendered_text_byte_for_byte():
    out = io.StringIO()
    print_diagnoses(["release a/b\n  [high 0.90] x: y", "release c/d\n  run:\n    $ kubectl get pods"], stream=out)
    assert out.getvalue() == "release a/b\n  [high 0.90] x: y\n\nrelease c/d\n  run:\n    $ kubectl get pods\n"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_long_lines_wrap_under_their_own_indent_and_commands_never_wrap(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("TERM", "xterm")
    evidence = "    2026-11-20 10:00:00  Pod prod/api-1: " + "Back-off pulling image registry.example/api:v2 " * 3
    command = "    $ kubectl -n prod describe pod api-1 && kubectl -n prod logs api-1 --previous --tail 200"
    out = FakeTerminal()
    print_diagnoses([f"release prod/api\n  evidence:\n{evidence.rstrip()}\n  run:\n{command}"], stream=out)
    lines = plain(out.getvalue()).splitlines()
    start = lines.index("  evidence:") + 1
    end = lines.index("  run:")
    assert len(lines[start:end]) > 1 and all(len(line) <= 60 for line in lines[start:end])
    assert all(line.startswith("      ") for line in lines[start + 1:end])  # under the evidence's indent
    assert " ".join(" ".join(lines[start:end]).split()) == " ".join(evidence.split())
    assert command in lines


# ---------------------------------------------------------------------------------------------- watch


@pytest.fixture
def watched_namespace(neo4j_config):
    from kgrca.config import load_config
    from localdev.cluster import ensure_up, kubectl_binary

    kubeconfig = Path(ensure_up(neo4j_config))
    name = f"h8-status-{uuid.uuid4().hex[:8]}"
    kubectl = [str(kubectl_binary(load_config())), "--kubeconfig", str(kubeconfig)]
    subprocess.run([*kubectl, "create", "namespace", name], check=True, capture_output=True)
    yield name, kubeconfig
    subprocess.run([*kubectl, "delete", "namespace", name, "--wait=false"], capture_output=True)


@pytest.mark.cluster
@pytest.mark.neo4j
def test_watch_shows_a_live_status_line_on_a_terminal_and_nothing_through_a_pipe(env, watched_namespace):
    namespace, kubeconfig = watched_namespace
    env = {**env, "KGRCA_KUBECONFIG": str(kubeconfig)}
    argv = [*KGRCA, "watch", "--namespace", namespace, "--for", "20"]
    shown = on_a_terminal(argv, env)
    text = plain(shown)
    status = [line for line in text.splitlines() if line.startswith("watch ") and "objects listed" in line]
    assert status, shown
    # every namespace holds kube-root-ca.crt, so the first list finds at least one object and it is written
    listed = int(re.search(r"watch ([\d,]+) objects listed", status[-1]).group(1).replace(",", ""))
    assert listed >= 1
    assert re.search(r"[\d.]+ events/s +[\d,]+ written +lag ([\d.]+ s|none written yet)", status[-1])
    assert "lag none written yet" not in status[-1]
    assert re.search(r"watch stopped: \d+ observations written", text)
    piped = through_a_pipe(argv, env)
    assert piped.returncode == 0, piped.stderr
    assert re.fullmatch(r"watch stopped: \d+ observations written\n", piped.stdout)
    assert "objects listed" not in piped.stderr and "\x1b" not in piped.stdout

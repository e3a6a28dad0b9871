"""The kgrca command: names scripts rely on, a help that teaches, and errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys

from faces.cli import GROUPS, build_parser

COMMANDS = {"servers", "cluster", "watch", "trace", "ingest", "build", "diagnose", "report", "serve"}


def kgrca(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "faces.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_every_promised_command_exists_and_is_grouped():
    listed = {name for _, commands in GROUPS for name, _ in commands}
    assert COMMANDS <= listed
    subcommands = next(a for a in build_parser()._actions if a.dest == "command")
    assert COMMANDS <= set(subcommands.choices)


def test_help_shows_groups_and_examples():
    result = kgrca("--help")
    assert result.returncode == 0
    for title, _ in GROUPS:
        assert f"{title}:" in result.stdout
    assert "examples:" in result.stdout and "kgrca diagnose --release prod/api" in result.stdout


def test_each_command_has_its_own_help():
    for name in sorted(COMMANDS):
        result = kgrca(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert "usage: kgrca " + name in result.stdout


def test_bad_setting_is_one_line_without_traceback():
    result = kgrca("diagnose", "--all", env={"KGRCA_STUCK_RELEASE_TIMEOUT": "soon", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "KGRCA_STUCK_RELEASE_TIMEOUT='soon'" in result.stderr


def test_unreachable_neo4j_says_what_to_do():
    result = kgrca("diagnose", "--all", env={"KGRCA_NEO4J_URI": "bolt://127.0.0.1:1", "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Neo4j is not answering at bolt://127.0.0.1:1" in result.stderr and "kgrca servers up" in result.stderr


def test_release_argument_is_checked():
    result = kgrca("diagnose", "--release", "api")
    assert result.returncode == 1 and "expected NAMESPACE/NAME" in result.stderr


def test_a_one_shot_command_loads_only_what_it_runs():
    """`kgrca diagnose` starts in a fraction of a second: the watcher's Kubernetes client, Flask and BCC
    are not imported for it; an unknown command still lists every command."""
    probe = ("import sys; from faces.cli import build_parser; "
             "build_parser(['--config', 'x.yaml', 'diagnose', '--all']).parse_args(['diagnose', '--all']); "
             "print(sorted(m for m in ('kubernetes', 'flask', 'bcc', 'confluent_kafka') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    unknown = kgrca("diagnosee")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    for name in COMMANDS:
        assert name in unknown.stderr

"""Where helm runs inside a command line or a shell script, and what it said: one reading for CI pods and CI logs.

A container's ``command`` + ``args`` (kg_builder/ci_pods.py) and a CI job's log (ingest/ci_logs.py) show helm the
same ways: ``helm upgrade ...`` directly, or inside ``sh -c`` / ``bash -lc`` scripts whose lines join commands with
``&&``, ``;``, ``||`` and pipes. ``helm_run`` parses a command that changes a release (kgrca/commandline.py) with
its secrets redacted; ``helm_error_text`` takes helm's final ``Error:`` lines out of what was printed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from kgrca.commandline import parse_command, redact_argv

HELM_RUNS = frozenset({"upgrade", "install", "rollback", "uninstall"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"})
# words that may stand before a command in a shell script without being the command
_PREFIX_WORDS = frozenset({"exec", "time", "command", "sudo", "env", "nohup", "then", "do", "else", "if", "while",
                           "until", "!", "{", "(", "elif"})
_OPERATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", ";;", "|&"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# helm plugins that wrap a helm command and run it (helm secrets upgrade ...)
_WRAPPING_PLUGINS = frozenset({"secrets"})


def helm_invocations(argv: list[str]) -> list[list[str]]:
    """Every helm command a container's argv runs, each as helm's own argv: ``helm ...`` directly, or inside
    the script of ``sh -c`` / ``bash -lc`` (the script split on ``&&``, ``;``, ``||``, ``|`` and newlines)."""
    if not argv:
        return []
    binary = argv[0].rsplit("/", 1)[-1]
    if binary == "helm":
        return [["helm", *argv[1:]]]
    if binary in SHELLS:
        script = _shell_script(argv[1:] if binary != "busybox" else argv[2:])
        return script_helm_commands(script) if script is not None else []
    return []


def _shell_script(args: list[str]) -> str | None:
    """The script of ``sh -c SCRIPT`` (``-c`` may be joined with other letters: ``-lc``, ``-ec``, ``-xec``)."""
    for index, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return args[index + 1] if index + 1 < len(args) else None
        if not arg.startswith("-"):
            return None  # sh script.sh: the script is a file the pod does not show
    return None


def script_helm_commands(script: str) -> list[list[str]]:
    """The helm commands of a shell script, each as argv (a line that cannot be split is taken word by word)."""
    found: list[list[str]] = []
    for line in script.replace("\\\r\n", " ").replace("\\\n", " ").splitlines():
        for words in _simple_commands(line):
            helm = _helm_argv(words)
            if helm:
                found.append(helm)
    return found


def _simple_commands(line: str) -> Iterator[list[str]]:
    """The simple commands of one script line: its words between shell operators."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # an unclosed quote: keep the words as they are
        tokens = line.split()
    words: list[str] = []
    for token in tokens:
        if token in _OPERATORS or (token and set(token) <= set(";&|()")):
            if words:
                yield words
            words = []
        else:
            words.append(token)
    if words:
        yield words


def _helm_argv(words: list[str]) -> list[str] | None:
    """helm's argv when this simple command runs helm (after env assignments and words like exec, if, sudo)."""
    index = 0
    while index < len(words) and (words[index] in _PREFIX_WORDS or _ASSIGNMENT.match(words[index])):
        index += 1
    if index >= len(words) or words[index].rsplit("/", 1)[-1] != "helm":
        return None
    return ["helm", *words[index + 1:]]


def helm_run(argv: list[str]) -> dict[str, Any] | None:
    """The parsed command line of a helm run that changes a release (install, upgrade, rollback, uninstall),
    or None for anything else (helm repo add, helm template, helm diff ...)."""
    parsed = parse_command("helm", argv)
    if parsed.get("command") in _WRAPPING_PLUGINS and parsed.get("subcommand") in HELM_RUNS:
        plugin_at = argv.index(parsed["command"], 1)
        parsed = parse_command("helm", argv[:plugin_at] + argv[plugin_at + 1:])
    if parsed.get("command") not in HELM_RUNS:
        return None
    return {**parsed, "argv": redact_argv("helm", argv)}


def helm_error_text(text: str | None) -> str | None:
    """helm's final words in output: from its first ``Error:`` line to the end (helm prints its error last and
    may wrap it over several lines); the whole text when no line starts with ``Error:``; None when empty."""
    if not text or not text.strip():
        return None
    lines = text.strip("\n").splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith("Error:"):
            return "\n".join(lines[index:]).strip()
    return text.strip()

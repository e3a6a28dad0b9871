"""Captured CI logs and terminal output as witnessed helm runs (docs/ci-sources.md).

``kgrca ingest`` hands a file here when it is neither JSON nor YAML and its text holds a helm command or one of
helm's ``Error:`` lines. Three forms are read, told apart line by line:

* GitHub Actions: each line ``2024-05-01T10:00:00.1234567Z text``; a step opens with ``##[group]Run <first line>``,
  its script and ``shell:`` / ``env:`` follow inside the group; ``##[error]Process completed with exit code 1.``
* GitLab: ``section_start:<epoch>:<name>`` / ``section_end:...`` markers, ANSI colours, ``$ <command>`` echoes,
  ``ERROR: Job failed: exit code 1``; runners with ``FF_TIMESTAMPS`` prefix each line with an ISO time and a
  stream marker (``2024-05-14T11:19:20.000000Z 00O ...``).
* Plain text: a terminal capture (``$ helm upgrade ...`` or ``user@host:~$ helm ...``, ``+ helm ...`` from
  ``set -x``) with helm's output.

Each helm command that changes a release (install, upgrade, rollback, uninstall) becomes one record: its command
line (kgrca.commandline's parse), helm's ``Error:`` lines after it (helm's final error, over several lines when it
wraps), the exit code where the log prints one, and its times from the log's own timestamps (or section markers);
a log with neither takes the file's modification time, and says so. Output lines belong to the most recent
command echo before them (in GitHub Actions, to the step's last helm command: a step does not echo its commands).

The records are ``helm_process`` observations in the form of kg_builder/operations.py's witnessed runs (witness
``ci_log``, witness_kind ``CILog``, witness_name ``file:line`` of the command), so the same classifier and patterns
read them. The release is the command's when it names its namespace (``-n``, ``HELM_NAMESPACE``); ``--release
NS/NAME`` gives it (and wins) when the log does not show it: a CI runner's kube context is not in its log. A run
whose release stays unknown is reported (file:line, asking for ``--release``) and not loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kgrca.contracts import Observation
from kgrca.helm_scripts import helm_error_text, helm_run, script_helm_commands

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ?")
_GITLAB_STREAM = re.compile(r"^[0-9a-f]{2}[EO][+ ]?")
_SECTION = re.compile(r"section_(start|end):(\d+):([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?")
# a command echo: GitLab's and a terminal's "$ cmd", set -x's "+ cmd", a prompt "user@host:~/app$ cmd"
_ECHO = re.compile(r"^(?:\$|\++|[\w.@:~/\-\[\]]+[$#]) (?P<command>.*\S)")
_GHA_RUN = re.compile(r"^##\[group\]Run (?P<command>.*)")
_GHA_EXIT = re.compile(r"^##\[error\]Process completed with exit code (?P<code>\d+)")
_EXIT = re.compile(r"^(?:ERROR: Job failed: (?:command terminated with )?exit code (?P<a>\d+)"
                   r"|Error: The process '[^']*' failed with exit code (?P<b>\d+)"
                   r"|Exited with code exit status (?P<c>\d+)|exit status (?P<d>\d+)$)")
_SUCCESS = re.compile(r'^(?:Release "(?P<name>[^"]+)" has been upgraded|STATUS: deployed|release "[^"]+" uninstalled'
                      r"|Rollback was a success)")
_END_OF_ERROR = re.compile(r"^(?:##\[|section_|ERROR: Job failed|Cleaning up |Uploading artifacts|\$ |\+ )")
_FAILED_WORDS = {"UPGRADE FAILED": "upgrade", "INSTALLATION FAILED": "install"}
FORMATS = {"github": "GitHub Actions log", "gitlab": "GitLab job log", "plain": "terminal output"}
LOOKED_AT = 400  # lines of a file's head that decide whether it is a CI log


@dataclasses.dataclass
class Line:
    number: int
    text: str
    at: str | None  # the line's own time (ISO), or the enclosing GitLab section's start
    section_end: str | None = None  # the enclosing GitLab section's end, where its marker is in the log


@dataclasses.dataclass
class Command:
    line: Line
    argv: list[str] | None  # None: helm's words with no command before them (a pasted error)
    env: dict[str, str]
    helm: bool
    outcome: list[tuple[str, Line, Any]] = dataclasses.field(default_factory=list)


class LogProblem(ValueError):
    """A line of a log that cannot be used; ``str()`` says why, the caller adds file:line."""


# --- recognising a log -------------------------------------------------------------------------------


def looks_like_log(text: str) -> bool:
    """True when the text holds a helm command echo or one of helm's ``Error:`` lines (or CI log framing)."""
    for raw in text.splitlines()[:LOOKED_AT]:
        line = _clean(raw)[1]
        if line.startswith(("##[group]Run ", "section_start:", "Error: ")) or _SECTION.search(raw):
            return True
        echo = _ECHO.match(line)
        if echo and script_helm_commands(echo.group("command")):
            return True
    return False


def is_framed_log(head: str) -> bool:
    """GitHub Actions or GitLab framing in the first lines: no need to try YAML first."""
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    return bool(lines) and (all(_TIMESTAMP.match(line) for line in lines[:5]) or any(
        _SECTION.search(line) for line in lines))


# --- reading -----------------------------------------------------------------------------------------


def _clean(raw: str) -> tuple[str | None, str]:
    """(the line's ISO time if it has one, its text without time, stream marker, colours, carriage returns)."""
    text = _ANSI.sub("", raw).rstrip("\n")
    at = None
    stamp = _TIMESTAMP.match(text)
    if stamp:
        at, text = stamp.group(1), text[stamp.end():]
        marker = _GITLAB_STREAM.match(text)
        if marker:
            text = text[marker.end():]
    # a carriage return redraws the line (progress output); beside a GitLab section marker it separates the two
    text = text.replace("\r", " ") if _SECTION.search(text) else text.split("\r")[-1]
    return at, text


def lines_of(text: str) -> tuple[list[Line], str, str]:
    """The log's lines with their times; its format (github, gitlab, plain) and where times come from
    (``timestamps``, ``sections`` or ``none``)."""
    lines: list[Line] = []
    section_at: str | None = None
    section_from = 0
    form, stamped, sectioned = "plain", False, False
    for number, raw in enumerate(text.splitlines(), 1):
        at, line = _clean(raw)
        for kind, epoch, _name in _SECTION.findall(line):
            sectioned, form = True, "gitlab"
            if kind == "start":
                section_at, section_from = _epoch(epoch), len(lines)
            else:
                for earlier in lines[section_from:]:
                    earlier.section_end = _epoch(epoch)
        line = _SECTION.sub("", line).strip("\r")
        stamped = stamped or at is not None
        if line.startswith("##[") and form == "plain":
            form = "github"
        lines.append(Line(number, line, at or section_at))
    if stamped and form == "plain" and any(_GITLAB_STREAM.match(_TIMESTAMP.sub("", raw))
                                           for raw in text.splitlines()[:20]):
        form = "gitlab"
    times = "timestamps" if stamped else "sections" if sectioned else "none"
    return lines, form, times


def _epoch(value: str) -> str:
    return dt.datetime.fromtimestamp(int(value), dt.UTC).isoformat().replace("+00:00", "Z")


def commands(lines: list[Line]) -> Iterator[Command]:
    """Command echoes in order, each with the outcome lines that follow it (Error: blocks, exit codes, success)."""
    current: Command | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        text = line.text
        run = _GHA_RUN.match(text)
        if run:
            if current:
                yield current
            current = None
            steps, index = _github_step(lines, index)
            for step in steps:
                if current:
                    yield current
                current = step
            continue
        echo = _ECHO.match(text)
        if echo:
            found = script_helm_commands(echo.group("command"))
            if current:
                yield current
            current = Command(line, found[-1] if found else None, {}, bool(found))
            index += 1
            continue
        said = text.removeprefix("##[error]").lstrip()
        if said.startswith("Error:") and not _EXIT.match(said):
            lines[index] = dataclasses.replace(line, text=said)
            block, index = _error_block(lines, index)
            if current is None:
                current = Command(line, None, {}, True)
            current.outcome.append(("error", line, block))
            continue
        _outcome(current, line)
        index += 1
    if current:
        yield current


def _outcome(current: Command | None, line: Line) -> None:
    if current is None:
        return
    text = line.text.strip()
    exit_code = _GHA_EXIT.match(text) or _EXIT.match(text)
    if exit_code:
        current.outcome.append(("exit", line, int(next(g for g in exit_code.groups() if g is not None))))
    elif _SUCCESS.match(text):
        current.outcome.append(("success", line, text))


def _error_block(lines: list[Line], index: int) -> tuple[str, int]:
    """helm's error from its ``Error:`` line through the lines that continue it."""
    block = [lines[index].text.strip()]
    index += 1
    while index < len(lines):
        text = lines[index].text
        if not text.strip() or _END_OF_ERROR.match(text) or _EXIT.match(text.strip()) or _ECHO.match(text):
            break
        block.append(text.rstrip())
        index += 1
    return "\n".join(block), index


def _github_step(lines: list[Line], index: int) -> tuple[list[Command], int]:
    """A GitHub Actions step: ``##[group]Run ...``, its script, ``shell:``, ``env:`` and ``##[endgroup]``.
    Its helm commands, in order; the index of the line after the group."""
    first = lines[index]
    body: list[Line] = []
    env: dict[str, str] = {}
    in_env = in_script = False
    index += 1
    while index < len(lines) and not lines[index].text.startswith("##[endgroup]"):
        text = lines[index].text
        if text.startswith("shell: "):
            in_script = True
        elif text.startswith("env:") and in_script:
            in_env = True
        elif in_env and text.startswith("  ") and ":" in text:
            name, _, value = text.strip().partition(":")
            env[name.strip()] = value.strip()
        elif not in_script:
            body.append(lines[index])
        index += 1
    body = body or [Line(first.number, _GHA_RUN.match(first.text).group("command"), first.at)]
    steps = []
    for line in _logical_lines(body):
        for argv in script_helm_commands(line.text):
            steps.append(Command(line, argv, env, True))
    if not steps:  # a step that runs no helm: still a boundary, so its output is not helm's
        steps = [Command(first, None, env, False)]
    return steps, index + 1


def _logical_lines(body: list[Line]) -> Iterator[Line]:
    """A script's lines with backslash continuations joined, each numbered by its first line."""
    start: Line | None = None
    parts: list[str] = []
    for line in body:
        start = start or line
        text = line.text.rstrip()
        parts.append(text.removesuffix("\\"))
        if not text.endswith("\\"):
            yield dataclasses.replace(start, text=" ".join(parts))
            start, parts = None, []
    if start is not None:
        yield dataclasses.replace(start, text=" ".join(parts))


# --- records -----------------------------------------------------------------------------------------


def read(path: Path, text: str, release: tuple[str, str] | None = None
         ) -> tuple[list[Observation], list[tuple[str, str]]]:
    """The helm runs a log shows, as observations; and (file:line, reason) for each that lacks something."""
    lines, form, times = lines_of(text)
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds") \
        .replace("+00:00", "Z")
    observations: list[Observation] = []
    problems: list[tuple[str, str]] = []
    for command in commands(lines):
        if not command.helm:
            continue
        try:
            record = _record(path, command, form, times, mtime, release)
        except LogProblem as exc:
            problems.append((f"{path}:{command.line.number}", str(exc)))
            continue
        if record is None:
            continue
        if not record.get("release"):  # a run no release can be given to would be a diagnosis of nothing
            problems.append((f"{path}:{command.line.number}", _no_release(record)))
            continue
        observations.append(Observation("helm_process", "EXITED", record,
                                        record.get("ended_at") or record["started_at"],
                                        f"{path}:{command.line.number}"))
    if not observations and not problems:
        problems.append((str(path), "a text log with no helm install, upgrade, rollback or uninstall command and "
                                    "no helm Error: line; nothing to load"))
    return observations, problems


def _no_release(record: dict[str, Any]) -> str:
    said = " ".join(record.get("argv") or []) or "helm's error"
    return (f"'{said}' does not say its release's namespace (no -n) and a CI log does not show the kube context's; "
            f"give --release NAMESPACE/NAME")


def _record(path: Path, command: Command, form: str, times: str, mtime: str,
            release: tuple[str, str] | None) -> dict[str, Any] | None:
    errors = [block for kind, _, block in command.outcome if kind == "error"]
    if command.argv is None:
        if not errors:
            return None
        parsed = _from_words(errors[-1])
        if release is None:
            raise LogProblem("helm's Error: line with no helm command before it: give --release NAMESPACE/NAME")
    else:
        parsed = helm_run(_expand(command.argv, command.env))
        if parsed is None:
            return None
    run = _with_release(parsed, command.env, release)
    stderr = helm_error_text(errors[-1]) if errors else None
    exits = [(line, code) for kind, line, code in command.outcome if kind == "exit"]
    succeeded = any(kind == "success" for kind, _, _ in command.outcome)
    exit_code = exits[-1][1] if exits else None
    status = "failed" if stderr or (exit_code not in (None, 0)) else \
        "succeeded" if succeeded or exit_code == 0 else None
    started, ended = _times(command, times, mtime)
    name = path.name
    record = {key: run.get(key) for key in _FIELDS}
    record.update({
        "operation_id": "cilog:" + hashlib.sha256(
            f"{name}\n{command.line.number}\n{' '.join(command.argv or [])}".encode()).hexdigest()[:16],
        "tool": "helm", "witness": "ci_log", "witness_kind": "CILog",
        "witness_name": f"{path}:{command.line.number}", "status": status, "exit_code": exit_code,
        "stderr": stderr, "started_at": started, "ended_at": ended})
    record["said_by"] = _said_by(f"{name}:{command.line.number}", form, times, status, exit_code, stderr,
                                 release is not None, parsed.get("release"), run.get("release"))
    return record


_FIELDS = ("argv", "command", "subcommand", "release", "releases", "chart", "revision", "namespace",
           "namespace_explicit", "kube_context", "timeout", "timeout_seconds", "wait", "wait_for_jobs", "atomic",
           "install", "dry_run", "values_files", "set_values", "set_files", "flags")


def _expand(argv: list[str], env: dict[str, str]) -> list[str]:
    """``$VAR`` / ``${VAR}`` from the step's env the log shows (GitHub Actions prints it); others stay."""
    pattern = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
    return [pattern.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), word) for word in argv]


def _from_words(error: str) -> dict[str, Any]:
    """A run known only from helm's words (``Error: UPGRADE FAILED: ...``): its command if the words name it."""
    command = next((cmd for words, cmd in _FAILED_WORDS.items() if words in error), None)
    return {"command": command, "release": None, "releases": [], "namespace": None, "namespace_explicit": False,
            "argv": None}


def _with_release(parsed: dict[str, Any], env: dict[str, str], release: tuple[str, str] | None) -> dict[str, Any]:
    run = dict(parsed)
    if release is not None:
        run["namespace"], run["release"], run["releases"] = release[0], release[1], [release[1]]
        return run
    namespace = run.get("namespace") if run.get("namespace_explicit") else env.get("HELM_NAMESPACE")
    if not namespace or "$" in namespace or "$" in (run.get("release") or ""):
        run.update(namespace=None, release=None, releases=[])
    else:
        run["namespace"] = namespace
    return run


def _times(command: Command, times: str, mtime: str) -> tuple[str, str | None]:
    """(started, ended): the command line's time and that of helm's error (else of the exit code or success line);
    with section markers only, the section's start and end; with no times at all, the file's mtime."""
    if times == "none":
        return mtime, mtime
    started = command.line.at
    if times == "sections":
        return started or mtime, command.line.section_end
    ranked = sorted(command.outcome, key=lambda item: ("error", "exit", "success").index(item[0]))
    ended = next((line.at for _, line, _ in ranked if line.at), None)
    return started or ended or mtime, ended


def _said_by(where: str, form: str, times: str, status: str | None, exit_code: int | None, stderr: str | None,
             given: bool, logged_release: str | None, release: str | None) -> str:
    if stderr:
        outcome = "helm's Error: lines" + (f", exit code {exit_code}" if exit_code is not None else "")
    elif exit_code is not None:
        outcome = f"exit code {exit_code}" + ("" if exit_code == 0 else ", no Error: line")
    elif status == "succeeded":
        outcome = "helm reported success"
    else:
        outcome = "no outcome in the log"
    notes = []
    if given:
        notes.append("release given with --release" + (
            f" (the log's command names {logged_release})" if logged_release and logged_release != release else ""))
    if times == "none":
        notes.append("time from the log file's modification time; the log has no timestamps")
    elif times == "sections":
        notes.append("times from the log's section markers")
    return f"CI log {where} ({FORMATS[form]}): {outcome}" + "".join(f"; {note}" for note in notes)

"""What a helm or kubectl command line asks for: command, release, chart, namespace and flags.

Pure Python, no root: the parsers follow helm's (v3 and v4) and kubectl's own flag tables closely enough
to find the positional arguments (a flag that takes a value must be known, or its value would be taken
for the release name). Helm 4's renamed flags mean what Helm 3's did: ``--rollback-on-failure`` is
``atomic`` (Helm 3's ``--atomic``), and ``wait`` is true for ``--wait`` (either major), ``--wait=watcher``
and ``--wait=legacy``, false for ``--wait=hookOnly``; the strategy, ``--server-side``,
``--force-replace`` (Helm 3's ``--force``), ``--force-conflicts`` and ``--take-ownership`` stay in
``flags`` as given. Secrets on the command line (``--password``, tokens, ``--set db.password=..``)
are replaced by ``<redacted>`` before anything leaves this module.
"""

from __future__ import annotations

import re
from typing import Any

from kgrca.config import parse_duration
from kgrca.redaction import REDACTED, redact_assignments, redact_json, redact_json_assignment, redact_text

__all__ = ["REDACTED", "parse_command", "parse_helm", "parse_kubectl", "redact_argv"]

HELM_ALIASES = {"un": "uninstall", "del": "uninstall", "delete": "uninstall", "hist": "history",
                "ls": "list", "dep": "dependency", "dependencies": "dependency", "fetch": "pull",
                "inspect": "show", "uninstall": "uninstall"}

# helm's flags that take a value (long names; short forms map to them). Anything else is boolean.
HELM_SHORT = {"n": "namespace", "f": "values", "o": "output", "l": "labels", "g": "generate-name", "p": "password",
              "i": "install", "a": "all", "A": "all-namespaces", "r": "reverse", "m": "max",
              "s": "show-only", "q": "short", "d": "date"}
HELM_VALUE_FLAGS = frozenset({
    "namespace", "kube-context", "kubeconfig", "kube-apiserver", "kube-as-user", "kube-as-group",
    "kube-ca-file", "kube-token", "kube-tls-server-name", "burst-limit", "qps", "registry-config",
    "repository-cache", "repository-config", "values", "set", "set-string", "set-file", "set-json",
    "set-literal", "timeout", "version", "description", "post-renderer", "post-renderer-args", "repo",
    "username", "password", "ca-file", "cert-file", "key-file", "keyring", "name-template", "labels",
    "history-max", "max", "output", "revision", "api-versions", "kube-version", "output-dir",
    "show-only", "cascade", "filter", "selector", "time-format", "offset", "wait-retries",
    "release-name", "destination", "untardir", "key", "app-version", "sign", "passphrase-file",
    "template", "content-cache", "color", "colour", "jsonpath", "merge", "url", "endpoint", "starter",
    "chart-api-version", "dir", "type",
})
# Helm 4: `upgrade` and `rollback` take `--server-side true|false|auto` (a string), `install` and `template`
# a boolean. `--wait` takes a strategy only as `--wait=watcher` (cobra's NoOptDefVal): `--wait watcher`
# leaves "watcher" a positional argument, so it is no value flag here.
HELM_VALUE_FLAGS_BY_COMMAND = {"upgrade": frozenset({"server-side"}), "rollback": frozenset({"server-side"})}
HELM_WAIT_STRATEGIES = {"watcher": True, "legacy": True, "hookonly": False}
# Flags whose short letter means something else for one command.
HELM_SHORT_BY_COMMAND = {"template": {"a": "api-versions"}}
HELM_BOOL_SHORT = frozenset({"generate-name", "install", "all", "all-namespaces", "reverse", "short", "date"})

KUBECTL_SHORT = {"n": "namespace", "f": "filename", "k": "kustomize", "l": "selector", "o": "output",
                 "s": "server", "c": "container", "p": "patch", "R": "recursive", "A": "all-namespaces",
                 "w": "watch", "i": "stdin", "t": "tty", "v": "v"}
KUBECTL_VALUE_FLAGS = frozenset({
    "namespace", "context", "kubeconfig", "server", "cluster", "user", "token", "as", "as-group",
    "as-uid", "request-timeout", "v", "cache-dir", "certificate-authority", "client-certificate",
    "client-key", "tls-server-name", "username", "password", "log-flush-frequency", "profile",
    "profile-output", "filename", "kustomize", "selector", "output", "field-selector", "timeout",
    "grace-period", "field-manager", "type", "patch", "replicas", "to-revision", "container", "for",
    "template", "sort-by", "chunk-size", "prune-allowlist", "since", "since-time", "tail", "overrides",
    "revision", "current-replicas", "resource-version", "subresource", "image", "port", "raw",
    "label-columns", "show-managed-fields", "l", "limit-bytes", "pod-running-timeout", "from-literal",
    "docker-password", "docker-username", "docker-server", "from-file", "from-env-file",
})
KUBECTL_SUBCOMMANDS = {"rollout", "set", "config", "auth", "certificate", "create", "top", "apply",
                       "plugin", "alpha", "cluster-info"}
KUBECTL_SECRET_FLAGS = frozenset({"token", "password", "client-key", "docker-password"})
HELM_SECRET_FLAGS = frozenset({"password", "kube-token"})
# Flags whose value is KEY=VALUE pairs (helm's --set family, kubectl's --from-literal) or JSON.
_ASSIGNMENT_FLAGS = frozenset({"set", "set-string", "set-literal", "from-literal"})
_JSON_ASSIGNMENT_FLAGS = frozenset({"set-json"})
_JSON_FLAGS = frozenset({"patch", "overrides"})


def _split_flags(args: list[str], short: dict[str, str], value_flags: frozenset[str]
                 ) -> tuple[list[str], list[tuple[str, str | bool]], bool]:
    """Positional arguments and (long flag name, value) pairs, in order; True when ``--`` was seen."""
    positional: list[str] = []
    flags: list[tuple[str, str | bool]] = []
    index = 0
    dashdash = False
    while index < len(args):
        arg = args[index]
        index += 1
        if dashdash or arg == "-" or not arg.startswith("-"):
            positional.append(redact_text(arg))  # a chart or repository URL may carry credentials
            continue
        if arg == "--":
            dashdash = True
            continue
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if eq:
                flags.append((name, value))
            elif name in value_flags and index < len(args):
                flags.append((name, args[index]))
                index += 1
            else:
                flags.append((name, True))
            continue
        # Short flags: -n ns, -nns, -n=ns, or a cluster of booleans like -iA.
        letters = arg[1:]
        while letters:
            letter, letters = letters[0], letters[1:]
            name = short.get(letter, letter)
            if name in value_flags:
                if letters:
                    flags.append((name, letters.removeprefix("=")))
                elif index < len(args):
                    flags.append((name, args[index]))
                    index += 1
                else:
                    flags.append((name, ""))
                letters = ""
            else:
                flags.append((name, True))
    return positional, flags, dashdash


def _redact_value(flag: str, value: str | bool, secret_flags: frozenset[str]) -> str | bool:
    """A flag's value with its secrets replaced, by the flag's kind (kgrca/redaction.py has the rules)."""
    if isinstance(value, bool):
        return value
    if flag in secret_flags:
        return REDACTED
    if flag == "from-literal":  # kubectl create secret ... --from-literal=key=value: every value is the secret's
        key, eq, _ = value.partition("=")
        return f"{key}={REDACTED}" if eq else value
    if flag in _ASSIGNMENT_FLAGS:
        return redact_assignments(value)
    if flag in _JSON_ASSIGNMENT_FLAGS:
        return redact_json_assignment(value)
    if flag in _JSON_FLAGS:
        return redact_json(value)
    return redact_text(value)


def redact_argv(tool: str, argv: list[str]) -> list[str]:
    """argv with secret flag values and secret-looking ``--set`` values replaced by ``<redacted>``."""
    if tool == "helm":
        short, values, secrets = HELM_SHORT, HELM_VALUE_FLAGS, HELM_SECRET_FLAGS
    else:
        short, values, secrets = KUBECTL_SHORT, KUBECTL_VALUE_FLAGS, KUBECTL_SECRET_FLAGS
    out: list[str] = argv[:1]
    pending: str | None = None
    for arg in argv[1:]:
        if pending is not None:
            out.append(str(_redact_value(pending, arg, secrets)))
            pending = None
            continue
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if eq:
                out.append(f"--{name}={_redact_value(name, value, secrets)}")
                continue
            if name in values:
                pending = name
        elif arg.startswith("-") and len(arg) > 2 and not arg.startswith("--") \
                and short.get(arg[1], arg[1]) in values:
            # -pSECRET, -p=SECRET: the value is glued to the letter
            name = short.get(arg[1], arg[1])
            out.append(f"-{arg[1]}{_redact_value(name, arg[2:], secrets)}")
            continue
        elif arg.startswith("-") and len(arg) == 2 and short.get(arg[1], arg[1]) in values:
            pending = short.get(arg[1], arg[1])
        else:
            arg = redact_text(arg)  # a positional: a repository URL with credentials, a header
        out.append(arg)
    return out


_COMMA_LISTS = frozenset({"values", "filename", "api-versions", "show-only"})


def _collect(flags: list[tuple[str, str | bool]], secret_flags: frozenset[str]) -> dict[str, Any]:
    """Flags as a dict; repeated flags become lists in order."""
    repeated = {"values", "set", "set-string", "set-file", "set-json", "set-literal", "filename",
                "kustomize", "post-renderer-args", "api-versions", "show-only", "labels"}
    out: dict[str, Any] = {}
    for name, value in flags:
        value = _redact_value(name, value, secret_flags)
        if name in repeated:
            if isinstance(value, str) and name in _COMMA_LISTS:  # cobra's StringSlice: a,b or repeated
                out.setdefault(name, []).extend(v for v in value.split(",") if v)
            else:
                out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _timeout_seconds(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    go = re.fullmatch(r"((?:\d+(?:\.\d+)?(?:h|m|s|ms))+)", value.strip())
    if go:  # Go durations like 5m0s or 1h30m
        return sum(parse_duration(part) for part in re.findall(r"\d+(?:\.\d+)?(?:h|ms|m|s)", value))
    try:
        return parse_duration(value)
    except ValueError:
        return None


def _flag_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"false", "0", "no", ""}


def _helm_wait(value: Any) -> bool:
    """Helm 3's boolean ``--wait[=bool]`` or Helm 4's ``--wait[=watcher|legacy|hookOnly]``: waits for resources?"""
    if isinstance(value, str) and value.strip().lower() in HELM_WAIT_STRATEGIES:
        return HELM_WAIT_STRATEGIES[value.strip().lower()]
    return _flag_bool(value)


def parse_helm(argv: list[str]) -> dict[str, Any]:
    """The parts of ``helm ...`` a diagnosis needs. Unknown shapes keep what they can and never raise."""
    args = argv[1:]
    # The command is the first positional; flags may come before it (helm -n prod upgrade ...).
    first_pass, _, _ = _split_flags(args, HELM_SHORT, HELM_VALUE_FLAGS)
    raw_command = first_pass[0] if first_pass else None
    command = HELM_ALIASES.get(raw_command or "", raw_command)
    short = {**HELM_SHORT, **HELM_SHORT_BY_COMMAND.get(command or "", {})}
    positional, pairs, _ = _split_flags(args, short,
                                        HELM_VALUE_FLAGS | HELM_VALUE_FLAGS_BY_COMMAND.get(command or "", frozenset()))
    flags = _collect(pairs, HELM_SECRET_FLAGS)
    rest = positional[1:]
    release = chart = subcommand = None
    revision: int | None = None
    releases: list[str] = []
    if command == "install":
        if flags.get("generate-name"):
            chart = rest[0] if rest else None
        else:
            release, chart = (rest + [None, None])[:2]
    elif command in {"upgrade", "template"}:
        if command == "template" and len(rest) == 1:
            chart = rest[0]
        else:
            release, chart = (rest + [None, None])[:2]
    elif command == "rollback":
        release = rest[0] if rest else None
        if len(rest) > 1 and rest[1].isdigit():
            revision = int(rest[1])
    elif command in {"uninstall", "status", "history", "test"}:
        releases = list(rest)
        release = rest[0] if rest else None
    elif command == "get":
        subcommand = rest[0] if rest else None
        release = rest[1] if len(rest) > 1 else None
    elif command in {"lint", "package", "pull", "push", "show", "dependency", "repo", "plugin",
                     "registry", "search"}:
        if command in {"show", "dependency", "repo", "plugin", "registry", "search"} and rest:
            subcommand, rest = rest[0], rest[1:]
        chart = rest[0] if rest and command not in {"repo", "plugin", "registry", "search"} else None
    elif command is not None and rest:
        # A plugin (helm diff upgrade NAME CHART ...): keep its words as they are.
        subcommand = rest[0]
        if subcommand in {"upgrade", "install", "rollback", "release", "revision"} and len(rest) > 1:
            release = rest[1]
            chart = rest[2] if len(rest) > 2 and subcommand in {"upgrade", "install"} else None
    if command == "rollback" and flags.get("revision"):
        revision = int(flags["revision"]) if str(flags["revision"]).isdigit() else revision
    if command == "status" and str(flags.get("revision", "")).isdigit():
        revision = int(flags["revision"])
    namespace = flags.get("namespace") if isinstance(flags.get("namespace"), str) else None
    timeout = flags.get("timeout") if isinstance(flags.get("timeout"), str) else None
    dry_run = flags.get("dry-run")
    return {
        "tool": "helm",
        "command": command,
        "subcommand": subcommand,
        "release": release,
        "releases": releases or ([release] if release else []),
        "chart": chart,
        "revision": revision,
        "namespace": namespace or "default",
        "namespace_explicit": namespace is not None,
        "kube_context": flags.get("kube-context"),
        "timeout": timeout,
        "timeout_seconds": _timeout_seconds(timeout),
        "wait": _helm_wait(flags.get("wait", False)),
        "wait_for_jobs": _flag_bool(flags.get("wait-for-jobs", False)),
        "atomic": _flag_bool(flags.get("atomic", False)) or _flag_bool(flags.get("rollback-on-failure", False)),
        "install": _flag_bool(flags.get("install", False)),
        "dry_run": None if dry_run is None else ("client" if dry_run is True else str(dry_run)),
        "values_files": list(flags.get("values", [])),
        "set_values": [*flags.get("set", []), *flags.get("set-string", []), *flags.get("set-json", []),
                       *flags.get("set-literal", [])],
        "set_files": list(flags.get("set-file", [])),
        "manifest_files": [],
        "resources": [],
        "flags": flags,
    }


def parse_kubectl(argv: list[str]) -> dict[str, Any]:
    """The parts of ``kubectl ...`` a diagnosis needs: verb, resources, namespace, files, flags."""
    positional, pairs, _ = _split_flags(argv[1:], KUBECTL_SHORT, KUBECTL_VALUE_FLAGS)
    flags = _collect(pairs, KUBECTL_SECRET_FLAGS)
    command = positional[0] if positional else None
    rest = positional[1:]
    subcommand = None
    if command in KUBECTL_SUBCOMMANDS and rest:
        subcommand, rest = rest[0], rest[1:]
    resources: list[str] = []
    if command not in {"exec", "logs", "port-forward", "config", "run"} or not rest:
        # TYPE/NAME [TYPE/NAME...], or TYPE NAME [NAME...]
        if rest and "/" not in rest[0] and len(rest) > 1 and all("/" not in r for r in rest[1:]):
            resources = [f"{rest[0]}/{name}" for name in rest[1:]]
        else:
            resources = list(rest)
    else:
        resources = rest[:1]
    namespace = flags.get("namespace") if isinstance(flags.get("namespace"), str) else None
    release = None
    selector = flags.get("selector")
    if isinstance(selector, str):
        match = re.search(r"(?:^|,)app\.kubernetes\.io/instance=([^,]+)", selector)
        release = match.group(1) if match else None
    timeout = flags.get("timeout") if isinstance(flags.get("timeout"), str) else None
    dry_run = flags.get("dry-run")
    return {
        "tool": "kubectl",
        "command": command,
        "subcommand": subcommand,
        "release": release,
        "releases": [release] if release else [],
        "chart": None,
        "revision": int(flags["to-revision"]) if str(flags.get("to-revision", "")).isdigit() else None,
        "namespace": namespace or "default",
        "namespace_explicit": namespace is not None,
        "kube_context": flags.get("context"),
        "timeout": timeout,
        "timeout_seconds": _timeout_seconds(timeout),
        "wait": _flag_bool(flags.get("wait", False)),
        "wait_for_jobs": False,
        "atomic": False,
        "install": False,
        "dry_run": None if dry_run is None else ("client" if dry_run is True else str(dry_run)),
        "values_files": [],
        "set_values": [],
        "set_files": [],
        "manifest_files": [*flags.get("filename", []), *flags.get("kustomize", [])],
        "resources": resources,
        "flags": flags,
    }


def parse_command(tool: str, argv: list[str]) -> dict[str, Any]:
    """``parse_helm`` or ``parse_kubectl`` by tool name (the basename of the binary)."""
    return parse_helm(argv) if tool == "helm" else parse_kubectl(argv)

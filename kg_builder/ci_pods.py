"""CI deploy jobs: Pods and Jobs whose containers run helm, as witnessed helm runs (docs/ci-sources.md).

A Pod whose container runs ``helm upgrade|install|rollback|uninstall`` (its command line, directly, or inside an
``sh -c`` / ``bash -lc`` script) witnesses one helm run per container run: the current state and the last
terminated state (an earlier restart) are each an attempt. ``operations.witness_rows`` writes it as a
``(:HelmOperation {witness: 'ci_pod'})`` the Pod ``-[:RAN]->``, so a helm error that reached the API only in the
container's termination message (``terminationMessagePolicy: FallbackToLogsOnError`` puts the last log lines there)
is classified and diagnosed like one from a release Secret.

* ``status``: terminated with exit code 0 is ``succeeded``, another exit code ``failed``; running is ``running``;
  a waiting container ran nothing yet and gives no record. ``exit_code``, ``started_at``, ``ended_at`` are the
  state's own; ``stderr`` is the termination message, from helm's first ``Error:`` line on when it has one.
* The command line is parsed by ``kgrca.commandline.parse_command`` (release, chart, values files, flags...).
  Kubernetes expands ``$(VAR)`` in command and args from the container's ``env`` values before the process starts,
  and a shell expands ``$VAR`` / ``${VAR}``: both are expanded here from the ``env`` values the pod spec shows. A
  release name that still holds a ``$`` after that is unknown.
* Namespace: ``-n`` / ``--namespace`` when given; else the container's ``HELM_NAMESPACE`` env value (helm reads
  it); else, when the pod shows no kubeconfig (no ``--kubeconfig`` / ``--kube-context`` flag, no ``KUBECONFIG``
  env), helm runs with the in-cluster config, whose namespace is the pod's own (client-go's in-cluster loader reads
  ``POD_NAMESPACE`` or the service account's namespace file): the pod's namespace, ``namespace_explicit`` false.
  With a kubeconfig the namespace is its context's, which the pod does not show: the release is unknown, and such
  a run is not recorded (the pod's ``helm_commands`` still show it); nor is one whose release name is a variable
  the pod does not show.
* A script with several helm commands has one exit code and one termination message for all of them: each command
  is recorded with the container's outcome, and ``said_by`` says the outcome is the script's.

A Job adds no run of its own (its pods witness), but records whether its pod template runs helm (``runs_helm``,
``helm_commands``, ``helm_release_keys``), so a Job whose pods are gone still says what it ran. A failed Job whose
pods are gone is not made a failed run: its words are lost, and a failed run with no words would name a release
failed with nothing to explain it (no pattern could say more than the Job's own ``failed_reason``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kg_builder import operations
from kg_builder.statements import Emitted
from kgrca.contracts import Observation
from kgrca.helm_scripts import helm_error_text, helm_invocations, helm_run
from kgrca.keys import release_key

_KUBE_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


# --- pods ------------------------------------------------------------------------------------------


def _env_values(container: dict[str, Any]) -> dict[str, str]:
    """The container's env entries that carry a literal value (valueFrom is not visible in the pod)."""
    return {e["name"]: str(e["value"]) for e in container.get("env") or []
            if isinstance(e, dict) and e.get("name") and isinstance(e.get("value"), str)}


def _expand(words: list[str], env: dict[str, str], pattern: re.Pattern[str]) -> list[str]:
    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        return env.get(name, match.group(0))

    return [pattern.sub(value, word) for word in words]


def container_helm_runs(container: dict[str, Any], pod_namespace: str) -> list[dict[str, Any]]:
    """The helm runs one container spec asks for, each its parsed command line with the namespace resolved."""
    env = _env_values(container)
    argv = _expand([str(w) for w in (container.get("command") or []) + (container.get("args") or [])],
                   env, _KUBE_VAR)
    if not container.get("command") and _image_runs_helm(container):
        argv = ["helm", *argv]  # an image whose entrypoint is helm (alpine/helm): args are helm's
    runs = []
    for helm_argv in helm_invocations(argv):
        parsed = helm_run(_expand(helm_argv, env, _SHELL_VAR))
        if parsed is not None:
            runs.append(_with_namespace(parsed, env, pod_namespace))
    return runs


def _image_runs_helm(container: dict[str, Any]) -> bool:
    image = str(container.get("image") or "")
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    args = container.get("args") or []
    return name == "helm" and bool(args)


def _with_namespace(parsed: dict[str, Any], env: dict[str, str], pod_namespace: str) -> dict[str, Any]:
    """helm's namespace as it resolves it inside the pod (see the module's docstring), or no release when the pod
    does not show it; a release name that still holds an unexpanded variable is unknown too."""
    run = dict(parsed)
    flags = run.get("flags") or {}
    if not run["namespace_explicit"]:
        if env.get("HELM_NAMESPACE"):
            run["namespace"], run["namespace_source"] = env["HELM_NAMESPACE"], "HELM_NAMESPACE"
        elif flags.get("kubeconfig") or flags.get("kube-context") or "KUBECONFIG" in env:
            run["namespace"], run["namespace_source"] = None, "kubeconfig"
        else:
            run["namespace"], run["namespace_source"] = pod_namespace, "in-cluster"
    else:
        run["namespace_source"] = "flag"
    unknown = run["namespace"] is None or "$" in (run["namespace"] or "")
    run["releases"] = [] if unknown else [r for r in run.get("releases") or [] if "$" not in r]
    if unknown or "$" in (run.get("release") or ""):
        run["release"] = None
        run["releases"] = []
    return run


def _pod_runs(obj: dict[str, Any]) -> list[tuple[dict[str, Any], bool, list[dict[str, Any]]]]:
    """(container spec, is init container, its helm runs) for every container that runs helm."""
    spec = obj.get("spec") or {}
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    found = []
    for init, field in ((True, "initContainers"), (False, "containers")):
        for container in spec.get(field) or []:
            if isinstance(container, dict):
                runs = container_helm_runs(container, namespace)
                if runs:
                    found.append((container, init, runs))
    return found


def pod_props(obj: dict[str, Any]) -> dict[str, Any]:
    """``runs_helm`` on a Pod whose containers run helm (absent otherwise)."""
    runs = [run for _, _, runs in _pod_runs(obj) for run in runs]
    return {"runs_helm": True, "helm_commands": [" ".join(run["argv"]) for run in runs]} if runs else {}


def pod_rows(obj: dict[str, Any], observation: Observation) -> Iterator[Emitted]:
    """One witnessed helm run per helm command per container run (current state and last terminated state)."""
    statuses = {}
    status = obj.get("status") or {}
    for field in ("initContainerStatuses", "containerStatuses"):
        for item in status.get(field) or []:
            if isinstance(item, dict) and item.get("name"):
                statuses[item["name"]] = item
    for container, _init, runs in _pod_runs(obj):
        container_status = statuses.get(container.get("name"))
        if not container_status:
            continue
        for attempt in _attempts(container_status):
            for index, run in enumerate(runs):
                # a run of no known release would be a diagnosis of nothing
                record = _record(obj, container, attempt, run, index, len(runs)) if run.get("release") else None
                if record is not None:
                    yield from operations.witness_rows(record, observation.observed_at, observation.origin)


def _attempts(container_status: dict[str, Any]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(restart number, state name, state) of the current state and of the last terminated one."""
    restarts = int(container_status.get("restartCount") or 0)
    for state_name, detail in (container_status.get("state") or {}).items():
        if state_name in ("running", "terminated") and isinstance(detail, dict):
            yield restarts, state_name, detail
    last = (container_status.get("lastState") or {}).get("terminated")
    if isinstance(last, dict) and restarts > 0:
        yield restarts - 1, "terminated", last


def _record(obj: dict[str, Any], container: dict[str, Any], attempt: tuple[int, str, dict[str, Any]],
            run: dict[str, Any], index: int, count: int) -> dict[str, Any] | None:
    restart, state_name, state = attempt
    started = state.get("startedAt") or (obj.get("status") or {}).get("startTime")
    if not isinstance(started, str) or not started:
        return None
    meta = obj["metadata"]
    pod_name = f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
    container_name = str(container.get("name") or "")
    operation_id = f"ci:{meta['uid']}:{container_name}:{restart}" + (f":{index}" if index else "")
    record = {key: run.get(key) for key in _RUN_FIELDS}
    record.update({
        "operation_id": operation_id, "witness": "ci_pod", "witness_kind": "Pod", "witness_name": pod_name,
        "witness_uid": meta["uid"], "started_at": started, "container": container_name, "restart_count": restart,
    })
    if state_name == "running":
        record["status"] = "running"
    else:
        code = state.get("exitCode")
        record.update({"status": "succeeded" if code == 0 else "failed", "exit_code": code,
                       "ended_at": state.get("finishedAt"), "stderr": helm_error_text(state.get("message")),
                       "signal": state.get("signal")})
    record["said_by"] = _said_by(pod_name, container_name, restart, state_name, state, count)
    return record


_RUN_FIELDS = ("argv", "command", "subcommand", "release", "releases", "chart", "revision", "namespace",
               "namespace_explicit", "namespace_source", "kube_context", "timeout", "timeout_seconds", "wait",
               "wait_for_jobs", "atomic", "install", "dry_run", "values_files", "set_values", "set_files", "flags")


def _said_by(pod: str, container: str, restart: int, state_name: str, state: dict[str, Any], count: int) -> str:
    """One line from the pod's fields: which container run, and its outcome as the API server shows it."""
    run = f" (restart {restart})" if restart else ""
    if state_name == "running":
        outcome = "running"
    else:
        outcome = f"exit code {state.get('exitCode')}" + (f" ({state['reason']})" if state.get("reason") else "")
    script = f"; the script runs {count} helm commands, the outcome is the script's" if count > 1 else ""
    return f"CI pod {pod} container {container}{run}: {outcome}{script}"


# --- jobs ------------------------------------------------------------------------------------------


def job_props(obj: dict[str, Any]) -> dict[str, Any]:
    """What the Job's pod template runs with helm, so a Job whose pods are deleted still says it."""
    template = ((obj.get("spec") or {}).get("template")) or {}
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    runs = [run for field in ("initContainers", "containers")
            for container in (template.get("spec") or {}).get(field) or [] if isinstance(container, dict)
            for run in container_helm_runs(container, namespace)]
    if not runs:
        return {}
    return {"runs_helm": True, "helm_commands": [" ".join(run["argv"]) for run in runs],
            "helm_release_keys": sorted({release_key(run["namespace"], run["release"]) for run in runs
                                         if run.get("release") and run.get("namespace")})}


PROPS = {("", "Pod"): pod_props, ("batch", "Job"): job_props}
ROWS = {("", "Pod"): pod_rows}

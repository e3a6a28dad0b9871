"""Run the e2e scenarios of ``scenarios/<name>/scenario.yaml`` against the local cluster, for real.

A scenario is a namespace, a release name and steps a person would type: ``helm ...`` and ``kubectl ...``
commands (with ``{chart}``, ``{dir}``, ``{ns}`` and ``{release}`` filled in), waits for what the cluster
should come to, and SIGKILLing a helm that is still running. ``expect`` says what the API server must
hold afterwards (release revisions and their statuses, Events, container states) and, for detection,
the pattern kgrca should name (``diagnosis``; ``null`` for a healthy run that must yield none).

    run:  [helm, upgrade, "{release}", "{chart}", -n, "{ns}", --timeout, 20s]
    expect_exit: 1                       # default 0; "nonzero" for any failure
    expect_output: "pre-upgrade hooks failed"        # or {helm3: ..., helm4: ...} where they word it apart
    kill_when: {release_status: pending-upgrade}     # run in background, SIGKILL once this holds
    wait: {event: BackOff, timeout: 60}              # or pod_waiting / pod_terminated / job_failed /
                                                     #    release_status / pod_phase / pod_restarts
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import gzip
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
RECORDINGS = HERE / "recordings"
CHART = HERE / "charts" / "app"
REPO = HERE.parent.parent
HELM_MAJOR = 4  # the default helm of the local cluster; every scenario is recorded with it
# Helm 3 (past its end of support) is still recorded for these, into <name>.helm3.jsonl: the matrix's second entry.
# conflict_immutable_field too: resource_conflict_immutable does not yet read Helm 4's wording ("server-side
# apply failed for object <ns>/<name> apps/v1, Kind=Deployment: ..." where Helm 3 says `cannot patch "<name>"
# with kind Deployment: ...`), so tests/scenarios/rec_resource_conflict_immutable replays the Helm 3 recording.
HELM3_SCENARIOS = ("conflict_already_exists", "conflict_immutable_field", "healthy_install", "healthy_upgrade",
                   "hook_image_pull", "template_error")


@dataclasses.dataclass
class Scenario:
    name: str
    folder: Path
    description: str
    release: str
    steps: list[dict[str, Any]]
    expect: dict[str, Any]

    @property
    def namespace(self) -> str:
        return "e2e-" + self.name.replace("_", "-")


def load(name: str) -> Scenario:
    folder = SCENARIOS / name
    data = yaml.safe_load((folder / "scenario.yaml").read_text())
    return Scenario(name, folder, data["description"], data["release"], data["steps"], data.get("expect") or {})


def names() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS.glob("*/scenario.yaml"))


def recording(name: str, helm_major: int = HELM_MAJOR) -> Path:
    """The recording of a scenario made with that helm: ``<name>.jsonl`` (Helm 4), ``<name>.helm3.jsonl``."""
    return RECORDINGS / (f"{name}.jsonl" if helm_major == HELM_MAJOR else f"{name}.helm{helm_major}.jsonl")


def recordings() -> list[tuple[str, int]]:
    """Every (scenario, helm major) that has a committed recording: all with Helm 4, HELM3_SCENARIOS with 3."""
    return [(name, HELM_MAJOR) for name in names()] + [(name, 3) for name in HELM3_SCENARIOS]


@dataclasses.dataclass
class CommandResult:
    argv: list[str]  # as a person would type it (binary names, repository-relative paths)
    exit: int
    output: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"argv": self.argv, "exit": self.exit, "output": self.output[-2000:],
                "seconds": round(self.seconds, 1)}


@dataclasses.dataclass
class Tools:
    helm: Path
    kubectl: Path
    kubeconfig: Path
    helm_major: int = HELM_MAJOR

    def env(self, helm_home: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"KUBECONFIG": str(self.kubeconfig), "HELM_CACHE_HOME": str(helm_home / "cache"),
                    "HELM_CONFIG_HOME": str(helm_home / "config"), "HELM_DATA_HOME": str(helm_home / "data")})
        return env


class ScenarioFailed(AssertionError):
    pass


class Runner:
    """Runs one scenario's steps; ``results`` keeps every command with its exit code and output."""

    def __init__(self, scenario: Scenario, tools: Tools):
        self.scenario = scenario
        self.tools = tools
        self.results: list[CommandResult] = []
        self._helm_home = Path(tempfile.mkdtemp(prefix="kgrca-helm-"))
        self.env = tools.env(self._helm_home)

    # --- helpers ---------------------------------------------------------------------------------

    def _fill(self, word: str) -> str:
        return (word.replace("{chart}", str(CHART)).replace("{dir}", str(self.scenario.folder))
                .replace("{ns}", self.scenario.namespace).replace("{release}", self.scenario.release))

    def _shown(self, argv: list[str]) -> list[str]:
        shown = [self._fill(w).replace(str(REPO) + "/", "") for w in argv]
        return shown

    def _argv(self, argv: list[str]) -> list[str]:
        binaries = {"helm": str(self.tools.helm), "kubectl": str(self.tools.kubectl)}
        if argv[0] not in binaries:
            raise ScenarioFailed(f"{self.scenario.name}: a step may run helm or kubectl, not {argv[0]}")
        return [binaries[argv[0]], *(self._fill(w) for w in argv[1:])]

    def kubectl_json(self, *args: str) -> dict[str, Any]:
        out = subprocess.run([str(self.tools.kubectl), *args, "-o", "json"], env=self.env, capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return json.loads(out)

    # --- what the cluster holds ------------------------------------------------------------------

    def release_statuses(self) -> dict[int, str]:
        """Revision -> status, from Helm's release Secrets (their labels, as helm writes them)."""
        secrets = self.kubectl_json("get", "secrets", "-n", self.scenario.namespace, "-l",
                                    f"owner=helm,name={self.scenario.release}")["items"]
        return {int(s["metadata"]["labels"]["version"]): s["metadata"]["labels"]["status"] for s in secrets}

    def release_record(self, revision: int) -> dict[str, Any]:
        """A release Secret decoded as helm stores it: base64 of gzip of JSON."""
        secret = self.kubectl_json("get", "secret", "-n", self.scenario.namespace,
                                   f"sh.helm.release.v1.{self.scenario.release}.v{revision}")
        raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
        return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)

    def event_reasons(self) -> set[str]:
        return {e.get("reason", "") for e in self.kubectl_json("get", "events", "-n",
                                                                 self.scenario.namespace)["items"]}

    def container_reasons(self) -> set[str]:
        """Every waiting reason and (last) terminated reason of the namespace's containers."""
        reasons: set[str] = set()
        for pod in self.kubectl_json("get", "pods", "-n", self.scenario.namespace)["items"]:
            for status in pod.get("status", {}).get("containerStatuses") or []:
                for state in (status.get("state") or {}, status.get("lastState") or {}):
                    for detail in state.values():
                        if isinstance(detail, dict) and detail.get("reason"):
                            reasons.add(detail["reason"])
        return reasons

    def job_failure_reasons(self) -> set[str]:
        reasons = set()
        for job in self.kubectl_json("get", "jobs", "-n", self.scenario.namespace)["items"]:
            for condition in job.get("status", {}).get("conditions") or []:
                if condition.get("type") == "Failed" and condition.get("status") == "True":
                    reasons.add(condition.get("reason", ""))
        return reasons

    def max_restarts(self) -> int:
        return max((status.get("restartCount", 0)
                    for pod in self.kubectl_json("get", "pods", "-n", self.scenario.namespace)["items"]
                    for status in pod.get("status", {}).get("containerStatuses") or []), default=0)

    def pod_phases(self) -> set[str]:
        return {p.get("status", {}).get("phase", "") for p in
                self.kubectl_json("get", "pods", "-n", self.scenario.namespace)["items"]}

    def _condition(self, spec: dict[str, Any]) -> tuple[str, Callable[[], bool]]:
        if "event" in spec:
            return f"an Event {spec['event']}", lambda: spec["event"] in self.event_reasons()
        if "pod_waiting" in spec or "pod_terminated" in spec:
            reason = spec.get("pod_waiting") or spec.get("pod_terminated")
            return f"a container {reason}", lambda: reason in self.container_reasons()
        if "job_failed" in spec:
            return f"a Job failed {spec['job_failed']}", lambda: spec["job_failed"] in self.job_failure_reasons()
        if "release_status" in spec:
            return (f"a release revision {spec['release_status']}",
                    lambda: spec["release_status"] in self.release_statuses().values())
        if "pod_restarts" in spec:
            wanted = int(spec["pod_restarts"])
            return f"a container restarted {wanted} times", lambda: self.max_restarts() >= wanted
        if "pod_phase" in spec:
            return f"a pod {spec['pod_phase']}", lambda: spec["pod_phase"] in self.pod_phases()
        raise ScenarioFailed(f"{self.scenario.name}: unknown wait {spec}")

    def _wait(self, spec: dict[str, Any]) -> None:
        what, check = self._condition(spec)
        deadline = time.monotonic() + float(spec.get("timeout", 90))
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except subprocess.SubprocessError:
                pass
            time.sleep(0.5)
        raise ScenarioFailed(f"{self.scenario.name}: waited {spec.get('timeout', 90)}s for {what}")

    # --- steps -----------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Delete what an earlier run left (its namespace) so every run starts from nothing."""
        ns = self.scenario.namespace
        subprocess.run([str(self.tools.kubectl), "delete", "namespace", ns, "--ignore-not-found",
                        "--wait=true", "--timeout=120s"], env=self.env, capture_output=True, timeout=150,
                       check=False)

    def run(self) -> list[CommandResult]:
        self.command(["kubectl", "create", "namespace", "{ns}"], expect_exit=0)
        self._wait_for_service_account()
        for step in self.scenario.steps:
            if "run" in step and "kill_when" in step:
                self.killed(step["run"], step["kill_when"], step.get("timeout", 90))
            elif "run" in step:
                self.command(step["run"], step.get("expect_exit", 0), self._by_helm(step.get("expect_output")),
                             step.get("timeout", 180))
            elif "wait" in step:
                self._wait(step["wait"])
            elif "sleep" in step:
                time.sleep(float(step["sleep"]))
            else:
                raise ScenarioFailed(f"{self.scenario.name}: unknown step {step}")
        return self.results

    def _by_helm(self, value: Any) -> Any:
        """A step's value, or of ``{helm3: ..., helm4: ...}`` the one for the helm that runs (they word it apart)."""
        if isinstance(value, dict):
            return value.get(f"helm{self.tools.helm_major}")
        return value

    def _wait_for_service_account(self) -> None:
        # Pods are refused until the namespace's default ServiceAccount exists; a person would not notice.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = subprocess.run([str(self.tools.kubectl), "get", "serviceaccount", "default", "-n",
                                   self.scenario.namespace], env=self.env, capture_output=True, check=False)
            if done.returncode == 0:
                return
            time.sleep(0.3)
        raise ScenarioFailed(f"{self.scenario.namespace}: no default ServiceAccount after 60s")

    def command(self, argv: list[str], expect_exit: int | str = 0, expect_output: str | None = None,
                timeout: float = 180) -> CommandResult:
        began = time.monotonic()
        done = subprocess.run(self._argv(argv), env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False, cwd=REPO)
        result = CommandResult(self._shown(argv), done.returncode, (done.stdout + done.stderr).strip(),
                               time.monotonic() - began)
        self.results.append(result)
        self._check(result, expect_exit, expect_output)
        return result

    def killed(self, argv: list[str], when: dict[str, Any], timeout: float) -> CommandResult:
        """Start ``argv``, SIGKILL it once ``when`` holds (like a CI runner cancelled mid-upgrade)."""
        began = time.monotonic()
        with tempfile.TemporaryFile("w+") as out:
            process = subprocess.Popen(self._argv(argv), env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                       text=True, cwd=REPO)
            try:
                self._wait({**when, "timeout": timeout})
                time.sleep(1.0)  # let it get well into its work, as a real kill would land
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
            out.seek(0)
            result = CommandResult(self._shown(argv), process.returncode, out.read().strip(),
                                   time.monotonic() - began)
        self.results.append(result)
        self._check(result, -signal.SIGKILL, None)
        return result

    def _check(self, result: CommandResult, expect_exit: int | str, expect_output: str | None) -> None:
        ok = result.exit != 0 if expect_exit == "nonzero" else result.exit == int(expect_exit)
        if not ok:
            raise ScenarioFailed(f"{self.scenario.name}: `{' '.join(result.argv)}` exited {result.exit}, "
                                 f"expected {expect_exit}: {result.output[-600:]}")
        if expect_output and expect_output not in result.output:
            raise ScenarioFailed(f"{self.scenario.name}: `{' '.join(result.argv)}` output lacks "
                                 f"{expect_output!r}: {result.output[-600:]}")

    def check_expectations(self) -> None:
        """What the API server must hold now: release statuses, Events, container reasons."""
        expect = self.scenario.expect
        if "releases" in expect:
            wanted = {int(k): v for k, v in (expect["releases"] or {}).items()}
            got = self.release_statuses()
            if got != wanted:
                raise ScenarioFailed(f"{self.scenario.name}: release revisions {got}, expected {wanted}")
        missing = set(expect.get("events") or []) - self.event_reasons()
        if missing:
            raise ScenarioFailed(f"{self.scenario.name}: no Event with reason {sorted(missing)}")
        missing = set(expect.get("container_reasons") or []) - self.container_reasons()
        if missing:
            raise ScenarioFailed(f"{self.scenario.name}: no container in state {sorted(missing)}")
        missing = set(expect.get("job_failed") or []) - self.job_failure_reasons()
        if missing:
            raise ScenarioFailed(f"{self.scenario.name}: no Job failed with {sorted(missing)}")


def versions(tools: Tools) -> dict[str, str]:
    helm = subprocess.run([str(tools.helm), "version", "--template", "{{.Version}}"], capture_output=True,
                          text=True, check=True).stdout.strip()
    server = json.loads(subprocess.run([str(tools.kubectl), f"--kubeconfig={tools.kubeconfig}", "version",
                                        "-o", "json"], capture_output=True, text=True, check=True).stdout)
    return {"helm_version": helm, "helm_major": int(helm.lstrip("v").split(".")[0]),
            "kubernetes_version": server["serverVersion"]["gitVersion"]}


def meta(scenario: Scenario, results: list[CommandResult], tools: Tools, lines: int) -> dict[str, Any]:
    from localdev.cluster import build

    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "namespace": scenario.namespace,
        "release": scenario.release,
        **versions(tools),
        "kwok_version": build.KWOK_VERSION,
        "etcd_version": build.ETCD_VERSION,
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "recorded_with": "python tests/e2e/record_scenarios.py "
                         + ("" if tools.helm_major == HELM_MAJOR else f"--helm {tools.helm_major} ") + scenario.name,
        "chart": str(CHART.relative_to(REPO)),
        "commands": [r.to_json() for r in results],
        "expect": scenario.expect,
        "watch_events": lines,
    }

"""Writes the CI deploy job scenarios: objects.jsonl and expected.yaml of every folder listed here.

    python tests/scenarios/generate_ci.py            rewrite them
    python tests/scenarios/generate_ci.py --check    exit 1 when one on disk differs (CI)

A CI deploy job is a Job whose pod runs helm (kg_builder/ci_pods.py): helm's words reach the API only in the
container's termination message, so these scenarios hold no helm process record and no revision for the failed
run: the pod is the only witness. The messages are helm's own, as users pasted them; each scenario names its
thread. Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scenarios import suite  # noqa: E402
from tests.scenarios.builders_ci import deploy_job, deploy_pod, failed_run, succeeded_run  # noqa: E402
from tests.scenarios.builders_helm import T0, at, healthy_app, revision  # noqa: E402

Obj = dict[str, Any]
Expected = dict[str, Any]
SCENARIOS = suite.Registry()
scenario = SCENARIOS
NOW = at(T0, 600)

# https://github.com/argoproj/argo-rollouts/issues/1585 (helm upgrade of the argo-rollouts chart)
ROLLOUTS_TEMPLATE = ('Error: UPGRADE FAILED: template: argo-rollouts/templates/notifications-install.yaml:5:31: '
                     'executing "argo-rollouts/templates/notifications-install.yaml" at <.rollout.metadata.name>: '
                     'nil pointer evaluating interface {}.metadata')
# https://github.com/sentry-kubernetes/charts/issues/1048 (Deployment extensions/v1beta1, removed in Kubernetes 1.16)
SENTRY_REMOVED_API = ('Error: UPGRADE FAILED: resource mapping not found for name: "sentry-sentry-postgresql" '
                      'namespace: "" from "": no matches for kind "Deployment" in version "extensions/v1beta1"\n'
                      'ensure CRDs are installed first')
# https://github.com/kubeshop/botkube/issues/598
BOTKUBE_OWNERSHIP = ('Error: INSTALLATION FAILED: rendered manifests contain a resource that already exists. Unable '
                     'to continue with install: ServiceAccount "custom-sa" in namespace "default" exists and cannot '
                     'be imported into the current release: invalid ownership metadata; label validation error: '
                     'missing key "app.kubernetes.io/managed-by": must be set to "Helm"; annotation validation '
                     'error: missing key "meta.helm.sh/release-name": must be set to "botkube"; annotation '
                     'validation error: missing key "meta.helm.sh/release-namespace": must be set to "default"')


class Story:
    """Input lines in the order a watcher delivers them; each object is copied when it is added."""

    def __init__(self) -> None:
        self.lines: list[Obj] = []

    def add(self, obj: Obj, when: str, action: str = "ADDED") -> Obj:
        self.lines.append(suite.watch_event(copy.deepcopy(obj), when, action))
        return obj

    def update(self, obj: Obj, when: str) -> Obj:
        """A later state of an object added before (same uid, newer resourceVersion)."""
        obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1_000_000)
        return self.add(obj, when, "MODIFIED")


def deployed_history(st: Story, name: str, ns: str, upto: int) -> None:
    """Revisions upto-1 (superseded) and upto (deployed) of a healthy release, a day and two before T0."""
    revision(st, upto - 1, "superseded", name=name, ns=ns, when=at(T0, -86400 * 2), objects=_app(name))
    revision(st, upto, "deployed", name=name, ns=ns, when=at(T0, -86400), objects=_app(name))


def _app(name: str) -> tuple[tuple[str, str, str], ...]:
    return (("apps/v1", "Deployment", name), ("v1", "Service", name))


def failed_deploy(st: Story, job_name: str, script: list[str], log_tail: str, *, start: float = 0) -> Obj:
    """A deploy Job whose one pod ran ``script`` and exited 1 with ``log_tail`` as its termination message."""
    job = deploy_job(job_name, script, created=at(T0, start), active=1)
    st.add(job, at(T0, start))
    pod = deploy_pod(job, "7x9kq", created=at(T0, start + 1), phase="Running",
                     state={"running": {"startedAt": at(T0, start + 2)}})
    st.add(pod, at(T0, start + 2))
    pod["status"]["phase"] = "Failed"
    pod["status"]["containerStatuses"][0].update(
        ready=False, started=False, state=failed_run(at(T0, start + 2), at(T0, start + 9), log_tail))
    st.update(pod, at(T0, start + 9))
    job["status"].update(active=0, failed=1, conditions=deploy_job(job_name, script, created=at(T0, start + 10),
                                                                   failed=1)["status"]["conditions"])
    st.update(job, at(T0, start + 10))
    return pod


# --- failures ------------------------------------------------------------------------------------------


@scenario
def ci_pod_template_error() -> tuple[Story, Expected]:
    st = Story()
    deployed_history(st, "argo-rollouts", "argo-rollouts", 4)
    script = ["sh", "-c", "helm repo add argo https://argoproj.github.io/argo-helm && helm upgrade --install "
                          "argo-rollouts argo/argo-rollouts -n argo-rollouts -f /config/values-prod.yaml --wait "
                          "--timeout 5m"]
    failed_deploy(st, "deploy-argo-rollouts", script,
                  '"argo" has been added to your repositories\n' + ROLLOUTS_TEMPLATE + "\n")
    return st, {"description": "a CI deploy pod's helm upgrade fails to render; its termination message is the only "
                               "trace (no revision stored)",
                "expected": "template_error", "now": NOW, "release": "argo-rollouts/argo-rollouts",
                "shape": "template_error",
                "evidence": ["ci/deploy-argo-rollouts-7x9kq", "notifications-install.yaml", "nil pointer"],
                "resolution": ["helm template argo-rollouts argo/argo-rollouts -n argo-rollouts "
                               "-f /config/values-prod.yaml"],
                "tags": ["ci_pod"]}


@scenario
def ci_pod_removed_api() -> tuple[Story, Expected]:
    st = Story()
    deployed_history(st, "sentry", "sentry", 2)
    # no -n: helm in the pod uses the in-cluster config, whose namespace is the pod's own (sentry)
    job = deploy_job("sentry-upgrade", ["helm", "upgrade", "sentry", "sentry/sentry", "--version", "23.8.0",
                                        "-f", "/config/values.yaml", "--wait"], ns="sentry", created=T0, active=1)
    st.add(job, T0)
    pod = deploy_pod(job, "q2w8r", created=at(T0, 1), state=failed_run(at(T0, 2), at(T0, 6), SENTRY_REMOVED_API))
    st.add(pod, at(T0, 6))
    return st, {"description": "a removed API version (Deployment extensions/v1beta1) seen only in a CI deploy pod's "
                               "termination message",
                "expected": "crd_mismatch", "now": NOW, "release": "sentry/sentry", "shape": "crd_mismatch",
                "evidence": ["sentry/sentry-upgrade-q2w8r", "extensions/v1beta1"],
                "tags": ["ci_pod"]}


@scenario
def ci_pod_ownership_conflict() -> tuple[Story, Expected]:
    st = Story()
    job = deploy_job("install-botkube", ["helm", "install", "botkube", "botkube/botkube", "--namespace", "default",
                                         "-f", "/config/values.yaml"], created=T0, active=1,
                     restart_policy="OnFailure")
    job["spec"]["backoffLimit"] = 1
    st.add(job, T0)
    first = failed_run(at(T0, 2), at(T0, 5), BOTKUBE_OWNERSHIP)["terminated"]
    pod = deploy_pod(job, "m4n5b", created=at(T0, 1), restarts=1, last_state={"terminated": first},
                     state=failed_run(at(T0, 16), at(T0, 19), BOTKUBE_OWNERSHIP))
    st.add(pod, at(T0, 19))
    return st, {"description": "a CI pod's helm install (restarted once) meets a ServiceAccount it does not own",
                "expected": "resource_conflict", "now": NOW, "release": "default/botkube",
                "shape": "resource_conflict", "evidence": ["ci/install-botkube-m4n5b", "custom-sa"],
                "tags": ["ci_pod"]}


# --- near misses ---------------------------------------------------------------------------------------


@scenario
def near_miss_ci_pod_succeeded() -> tuple[Story, Expected]:
    st = Story()
    deployed_history(st, "api", "prod", 6)
    healthy_app(st, when=at(T0, -86400))
    job = deploy_job("deploy-api", ["bash", "-lc", "set -e\nhelm upgrade --install api ./chart -n prod "
                                                   "-f values/prod.yaml --wait --timeout 5m\necho deployed"],
                     created=T0, succeeded=1)
    st.add(job, at(T0, 40))
    revision(st, 7, "deployed", when=at(T0, 4), pending_first=True, ended=at(T0, 30), objects=_app("api"))
    pod = deploy_pod(job, "h7j2k", created=at(T0, 1), phase="Succeeded", state=succeeded_run(at(T0, 2), at(T0, 31)))
    st.add(pod, at(T0, 31))
    return st, {"description": "a CI pod's helm upgrade that succeeded (exit code 0, revision 7 deployed)",
                "expected": "none", "now": NOW, "release": "prod/api", "tags": ["ci_pod"]}


@scenario
def near_miss_ci_pod_retried_ok() -> tuple[Story, Expected]:
    st = Story()
    deployed_history(st, "argo-rollouts", "argo-rollouts", 4)
    script = ["helm", "upgrade", "--install", "argo-rollouts", "argo/argo-rollouts", "-n", "argo-rollouts",
              "-f", "/config/values-prod.yaml"]
    failed_deploy(st, "deploy-argo-rollouts", script, ROLLOUTS_TEMPLATE)
    job = deploy_job("deploy-argo-rollouts-fix", script, created=at(T0, 300), succeeded=1)
    st.add(job, at(T0, 300))
    revision(st, 5, "deployed", name="argo-rollouts", ns="argo-rollouts", when=at(T0, 304), pending_first=True,
             ended=at(T0, 310), objects=_app("argo-rollouts"))
    pod = deploy_pod(job, "b8c3d", created=at(T0, 301), phase="Succeeded",
                     state=succeeded_run(at(T0, 302), at(T0, 311)))
    st.add(pod, at(T0, 311))
    return st, {"description": "a CI pod's template error fixed by the next deploy job, which succeeded",
                "expected": "none", "now": NOW, "release": "argo-rollouts/argo-rollouts", "tags": ["ci_pod"]}


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_ci.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

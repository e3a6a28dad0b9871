"""Writes the Argo CD scenarios (argocd_*, near_miss_argocd_*): objects.jsonl and expected.yaml of every folder here.

    python tests/scenarios/generate_argocd.py            rewrite them
    python tests/scenarios/generate_argocd.py --check    exit 1 when one on disk differs (CI)

Argo CD renders a chart with `helm template` and applies the result itself: no release Secret is ever written, so
an Application's status is the only place helm's words (and the API server's answer to the apply) show. Each
scenario replays the Application's watch events as Argo CD v3.2's controller writes them (builders_argocd.py) and
names the public thread its words come from. Where Argo CD v3 frames or rewrites a message, the frame is quoted from
v3.2.0's source (file named beside it) and the words inside it from the thread. Times are fixed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import factories as f  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.builders_argocd import (  # noqa: E402
    application,
    condition,
    git_chart_source,
    helm_repo_source,
    operation_state,
    resource_result,
    resource_status,
    tracked,
    with_status,
)
from tests.scenarios.builders_helm import T0, Story, at  # noqa: E402

Expected = dict[str, Any]
SCENARIOS = suite.Registry()
scenario = SCENARIOS
DAY = 86400
AUTO = {"prune": True, "selfHeal": True}
COMMIT_OLD = "8f2e1c9b7a6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
COMMIT_NEW = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"


def succeeded_before(app: dict[str, Any], source: dict[str, Any], when: str, results: list[dict[str, Any]],
                     resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The Application a day earlier: its last sync succeeded, Synced and Healthy."""
    op = operation_state("Succeeded", started=when, finished=at(when, 6), revision=COMMIT_OLD, source=source,
                         message="successfully synced (all tasks run)", results=results)
    return with_status(app, sync="Synced", health="Healthy", revision=COMMIT_OLD, reconciled=at(when, 7),
                       operation=op, resources=resources, rv_step=1)


def workload(st: Story, name: str, ns: str, app: str, when: str, *, ready: int = 2) -> dict[str, Any]:
    """A Deployment Argo CD applied (tracking annotation, no helm annotations: helm template writes none), its
    ReplicaSet and pods."""
    deploy = tracked(f.deployment(name, ns, replicas=2, ready=ready, created=at(when, -3 * DAY)), app)
    deploy["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm"  # the chart's own label
    rs = f.replicaset(deploy)
    st.add(deploy, when)
    st.add(rs, when)
    for index in range(2):
        st.add(f.pod(f"{name}-7d4b9c-{'xy'[index]}{index}", ns, owner_obj=rs, labels={"app": name},
                     created=at(when, -3 * DAY)), when)
    return deploy


# --- helm template fails: a ComparisonError ---------------------------------------------------------------------


# Helm's words: https://github.com/argoproj-labs/argocd-notifications/issues/307 (an app-of-apps chart that ships
# Argo CD Notifications' templates, whose {{.app.metadata.name}} helm tries to evaluate: "failed exit status 1:
# Error: template: dev-app-of-apps/templates/argocd_notifications/notifications-cm.yaml:5:33: ... nil pointer
# evaluating interface {}.metadata Use --debug flag to render out invalid YAML"). Argo CD v3's frame around them:
# controller/state.go ("Failed to load target state: " and "failed to generate manifest for source %d of %d"),
# util/helm/helm.go, util/helm/cmd.go ("<api versions removed> "), as in https://github.com/mabusaa/argocd-course-
# issues-tracker/issues/56.
NOTIFICATIONS_NIL = (
    "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
    "failed to execute helm template command: failed to get command args to log: `helm template . --name-template "
    "dev-app-of-apps --namespace argocd --kube-version 1.30 <api versions removed> --include-crds` failed exit status "
    "1: Error: template: dev-app-of-apps/templates/argocd_notifications/notifications-cm.yaml:5:33: executing "
    "\"dev-app-of-apps/templates/argocd_notifications/notifications-cm.yaml\" at <.app.metadata.name>: nil pointer "
    "evaluating interface {}.metadata Use --debug flag to render out invalid YAML")
APP_OF_APPS = git_chart_source("https://github.com/example/platform.git", "dev-app-of-apps", "main")


def app_of_apps(st: Story) -> dict[str, Any]:
    app = application("dev-app-of-apps", source=APP_OF_APPS, destination_ns="argocd", automated=AUTO,
                      created=at(T0, -30 * DAY))
    st.add(succeeded_before(app, APP_OF_APPS, at(T0, -DAY), [], []), at(T0, -DAY + 8))
    return app


@scenario
def argocd_template_error() -> tuple[Story, Expected]:
    st = Story()
    app = app_of_apps(st)
    st.add(with_status(app, sync="Unknown", health="Healthy", revision=COMMIT_NEW, reconciled=at(T0, 3), rv_step=2,
                       conditions=[condition("ComparisonError", NOTIFICATIONS_NIL, at(T0, 3))]), at(T0, 4), "MODIFIED")
    return st, {"description": "Argo CD cannot render the app-of-apps chart: helm template stops at a nil pointer "
                               "(argocd-notifications#307); no revision, no sync, only a ComparisonError",
                "expected": "template_error", "now": at(T0, 600), "release": "argocd/dev-app-of-apps",
                "evidence": ["dev-app-of-apps/templates/argocd_notifications/notifications-cm.yaml",
                             "nil pointer evaluating interface {}.metadata",
                             "Argo CD Application argocd/dev-app-of-apps: ComparisonError"],
                "tags": ["argocd"]}


@scenario
def near_miss_argocd_template_fixed() -> tuple[Story, Expected]:
    st = Story()
    app = app_of_apps(st)
    st.add(with_status(app, sync="Unknown", health="Healthy", revision=COMMIT_NEW, reconciled=at(T0, 3), rv_step=2,
                       conditions=[condition("ComparisonError", NOTIFICATIONS_NIL, at(T0, 3))]), at(T0, 4), "MODIFIED")
    # the template escaped ({{`{{.app.metadata.name}}`}}) in the next commit: auto-sync applies it
    fixed = "9c8b7a6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
    op = operation_state("Succeeded", started=at(T0, 300), finished=at(T0, 306), revision=fixed, source=APP_OF_APPS,
                         message="successfully synced (all tasks run)",
                         results=[resource_result("ConfigMap", "argocd", "argocd-notifications-cm",
                                                  message="configmap/argocd-notifications-cm configured")])
    st.add(with_status(app, sync="Synced", health="Healthy", revision=fixed, reconciled=at(T0, 307), rv_step=3,
                       operation=op), at(T0, 308), "MODIFIED")
    return st, {"description": "the rendering error is fixed in the next commit and Argo CD's auto-sync succeeds",
                "expected": "none", "now": at(T0, 900), "tags": ["argocd"]}


# --- the apply fails: an immutable field --------------------------------------------------------------------


# Real: https://github.com/thoth-station/thoth-application/issues/274 (Deployment.apps "workflow-controller" is
# invalid: spec.selector: ... field is immutable), in gitops-engine's operation message ("one or more objects failed
# to apply, reason: %s", pkg/sync/sync_context.go) as in https://github.com/argoproj/argo-cd/issues/20899, with its
# retry suffixes (controller/appcontroller.go).
SELECTOR_IMMUTABLE = ('Deployment.apps "workflow-controller" is invalid: spec.selector: Invalid value: '
                      'v1.LabelSelector{MatchLabels:map[string]string{"app":"workflow-controller"}, '
                      'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable')
WORKFLOWS = helm_repo_source("https://argoproj.github.io/argo-helm", "argo-workflows", "0.45.2")


def workflows_failed(st: Story) -> dict[str, Any]:
    """Release argo/argo-workflows: auto-sync with one retry; both attempts fail on the Deployment's selector."""
    app = application("argo-workflows", source=WORKFLOWS, destination_ns="argo", automated=AUTO, retry_limit=1,
                      created=at(T0, -60 * DAY))
    ok = [resource_result("Deployment", "argo", "workflow-controller", group="apps",
                          message="deployment.apps/workflow-controller configured")]
    st.add(succeeded_before(app, WORKFLOWS, at(T0, -DAY), ok, []), at(T0, -DAY + 8))
    workload(st, "workflow-controller", "argo", "argo-workflows", at(T0, -DAY + 8))
    failed = [resource_result("ConfigMap", "argo", "workflow-controller-configmap",
                              message="configmap/workflow-controller-configmap configured"),
              resource_result("Deployment", "argo", "workflow-controller", group="apps", status="SyncFailed",
                              message=SELECTOR_IMMUTABLE, hook_phase="Failed")]
    reason = f"one or more objects failed to apply, reason: {SELECTOR_IMMUTABLE}"
    steps = [
        (2, operation_state("Running", started=T0, revision=COMMIT_NEW, source=WORKFLOWS, retry_limit=1,
                            message="one or more tasks are running"), at(T0, 1)),
        (3, operation_state("Running", started=T0, finished=at(T0, 4), revision=COMMIT_NEW, source=WORKFLOWS,
                            retry_limit=1, retry_count=1, results=failed,
                            message=f"{reason}. Retrying attempt #1 at 10:00AM."), at(T0, 5)),
        (4, operation_state("Running", started=T0, revision=COMMIT_NEW, source=WORKFLOWS, retry_limit=1,
                            retry_count=1, message="Retrying operation. Attempt #1"), at(T0, 10)),
        (5, operation_state("Failed", started=T0, finished=at(T0, 13), revision=COMMIT_NEW, source=WORKFLOWS,
                            retry_limit=1, retry_count=1, results=failed,
                            message=f"{reason} (retried 1 times)."), at(T0, 14)),
    ]
    for step, op, when in steps:
        st.add(with_status(app, sync="OutOfSync", health="Healthy", revision=COMMIT_NEW, reconciled=when,
                           operation=op, rv_step=step), when, "MODIFIED")
    return app


@scenario
def argocd_immutable_field() -> tuple[Story, Expected]:
    st = Story()
    workflows_failed(st)
    return st, {"description": "Argo CD's sync (and its one retry) cannot apply the chart's new Deployment selector: "
                               "field is immutable (thoth-application#274)",
                "expected": "resource_conflict_immutable", "now": at(T0, 600), "release": "argo/argo-workflows",
                "evidence": ["workflow-controller", "spec.selector", "field is immutable",
                             "Argo CD Application argocd/argo-workflows"],
                "tags": ["argocd"]}


@scenario
def near_miss_argocd_recovered() -> tuple[Story, Expected]:
    st = Story()
    app = workflows_failed(st)
    # the user deleted the Deployment and synced again (argocd app sync argo-workflows): the new sync succeeds
    op = operation_state("Succeeded", started=at(T0, 600), finished=at(T0, 612), revision=COMMIT_NEW,
                         source=WORKFLOWS, automated=False, message="successfully synced (all tasks run)",
                         results=[resource_result("Deployment", "argo", "workflow-controller", group="apps",
                                                  message="deployment.apps/workflow-controller created")])
    st.add(with_status(app, sync="Synced", health="Healthy", revision=COMMIT_NEW, reconciled=at(T0, 613),
                       operation=op, rv_step=6), at(T0, 614), "MODIFIED")
    return st, {"description": "the failed sync was followed by one that succeeded (the Deployment recreated)",
                "expected": "none", "now": at(T0, 900), "tags": ["argocd"]}


# --- the cluster does not serve a kind ------------------------------------------------------------------------


# Real: https://github.com/argoproj/argo-cd/issues/6489 (a private chart installing the Keycloak operator's custom
# resources fails to sync with "the server could not find the requested resource"). Argo CD v3 rewrites that
# message (util/argo/argo.go AugmentSyncMsg: "The Kubernetes API could not find %s/%s for requested resource %s/%s.
# Make sure the %q CRD is installed on the destination cluster.") and fails the operation before applying anything
# ("one or more synchronization tasks are not valid", gitops-engine pkg/sync/sync_context.go).
KEYCLOAK_CRD_MISSING = ('The Kubernetes API could not find keycloak.org/Keycloak for requested resource '
                        'keycloak/keycloak. Make sure the "Keycloak" CRD is installed on the destination cluster.')


@scenario
def argocd_missing_crd() -> tuple[Story, Expected]:
    st = Story()
    source = git_chart_source("https://github.com/example/platform.git", "charts/keycloak", "main",
                              values_files=("values-prod.yaml",))
    app = application("keycloak", source=source, destination_ns="keycloak", automated=AUTO,
                      created=at(T0, -DAY))
    results = [resource_result("Keycloak", "keycloak", "keycloak", group="keycloak.org", version="v1alpha1",
                               status="SyncFailed", message=KEYCLOAK_CRD_MISSING, hook_phase="Failed")]
    op = operation_state("Failed", started=T0, finished=at(T0, 2), revision=COMMIT_NEW, source=source,
                         message="one or more synchronization tasks are not valid", results=results)
    st.add(with_status(app, sync="OutOfSync", health="Missing", revision=COMMIT_NEW, reconciled=at(T0, 3),
                       operation=op, rv_step=1,
                       resources=[resource_status("Keycloak", "keycloak", "keycloak", group="keycloak.org",
                                                  version="v1alpha1", status="OutOfSync", health="Missing")]),
           at(T0, 4))
    return st, {"description": "the chart's Keycloak custom resource cannot be applied: its CRD is not installed "
                               "(argo-cd#6489, in Argo CD v3's words)",
                "expected": "crd_mismatch", "now": at(T0, 600), "release": "keycloak/keycloak",
                "evidence": ["keycloak.org", "Keycloak"], "tags": ["argocd"]}


# Real: https://github.com/argoproj/argo-cd/issues/12729 (the cockroachdb chart's CronJob
# cockroachdb-rotate-self-signer in batch/v1beta1 on a cluster that no longer serves it: "Adding resource result,
# status: 'SyncFailed', ... message: 'the server could not find the requested resource'"), in Argo CD v3's rewrite
# of that message for a kind the cluster serves in another version (util/argo/argo.go AugmentSyncMsg).
CRONJOB_REMOVED = ('The Kubernetes API could not find version "v1beta1" of batch/CronJob for requested resource '
                   'cockroachdb/cockroachdb-rotate-self-signer. Version "v1" of batch/CronJob is installed on the '
                   'destination cluster.')


@scenario
def argocd_removed_api() -> tuple[Story, Expected]:
    st = Story()
    source = helm_repo_source("https://charts.cockroachdb.com/", "cockroachdb", "10.0.3")
    app = application("cockroachdb", source=source, destination_ns="cockroachdb", automated=AUTO,
                      created=at(T0, -DAY))
    results = [resource_result("CronJob", "cockroachdb", "cockroachdb-rotate-self-signer", group="batch",
                               version="v1beta1", status="SyncFailed", message=CRONJOB_REMOVED, hook_phase="Failed")]
    op = operation_state("Failed", started=T0, finished=at(T0, 2), revision="10.0.3", source=source,
                         message="one or more synchronization tasks are not valid", results=results)
    st.add(with_status(app, sync="OutOfSync", health="Missing", revision="10.0.3", reconciled=at(T0, 3),
                       operation=op, rv_step=1), at(T0, 4))
    return st, {"description": "the chart still ships a batch/v1beta1 CronJob, which the cluster no longer serves "
                               "(argo-cd#12729, in Argo CD v3's words)",
                "expected": "crd_mismatch", "now": at(T0, 600), "release": "cockroachdb/cockroachdb",
                "evidence": ["CronJob", "v1beta1", "cockroachdb-rotate-self-signer"], "tags": ["argocd"]}


# --- healthy ----------------------------------------------------------------------------------------------------


@scenario
def near_miss_argocd_healthy() -> tuple[Story, Expected]:
    st = Story()
    source = helm_repo_source("https://stefanprodan.github.io/podinfo", "podinfo", "6.5.4",
                              release_name="podinfo", values_files=("values-prod.yaml",))
    app = application("podinfo", source=source, destination_ns="prod", automated=AUTO, retry_limit=5,
                      created=at(T0, -10 * DAY))
    workload(st, "podinfo", "prod", "podinfo", at(T0, -5))
    results = [resource_result("Deployment", "prod", "podinfo", group="apps",
                               message="deployment.apps/podinfo configured")]
    op = operation_state("Succeeded", started=T0, finished=at(T0, 5), revision="6.5.4", source=source,
                         message="successfully synced (all tasks run)", results=results)
    st.add(with_status(app, sync="Synced", health="Healthy", revision="6.5.4", reconciled=at(T0, 6), operation=op,
                       rv_step=1, resources=[resource_status("Deployment", "prod", "podinfo", group="apps")]),
           at(T0, 7))
    return st, {"description": "an auto-synced chart: the sync succeeded, Synced and Healthy",
                "expected": "none", "now": at(T0, 600), "tags": ["argocd"]}


# --- writing --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_argocd.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

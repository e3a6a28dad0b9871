"""What the controller that runs a release will do next, and its own commands, added to a diagnosis.

A release that Flux's helm-controller or Argo CD deploys is not fixed by a person typing helm: the
controller retries (or stops retrying) on its own terms, and its own CLI is how a person steps in. For
each diagnosed release this reads, from the graph only, the controller object that ``DEPLOYS`` it
(``(:HelmRelease)`` or ``(:Application)``, kg_builder/gitops_flux.py and gitops_argocd.py) and

* extends ``release`` with ``controller``: which object manages the release and its retry state;
* appends to ``impact`` what the controller will do, said from the object's own fields (a retry limit
  that is not set is said to be not set, never replaced by the controller's default);
* appends the controller's commands to ``resolution`` (``flux reconcile helmrelease ... --with-source``,
  ``flux suspend/resume``, ``argocd app get ... --hard-refresh``, ``argocd app sync ...``).
"""

from __future__ import annotations

from typing import Any

from kgrca.contracts import Diagnosis

QUERY = """
UNWIND $keys AS key
MATCH (rel:Release {key: key})
OPTIONAL MATCH (hr:HelmRelease)-[:DEPLOYS]->(rel) WHERE hr.deleted_at IS NULL
OPTIONAL MATCH (app:Application)-[:DEPLOYS]->(rel) WHERE app.deleted_at IS NULL
WITH key, collect(DISTINCT hr)[0] AS hr, collect(DISTINCT app)[0] AS app
RETURN key,
       hr {.namespace, .name, .suspended, .stalled, .stalled_reason, .ready_status, .ready_reason,
           .install_failures, .upgrade_failures, .failures, .install_retries, .upgrade_retries,
           .last_attempted_release_action, .interval, .source_kind, .source_name, .source_namespace} AS flux,
       app {.namespace, .name, .auto_sync, .self_heal, .retry_limit, .retry_count, .operation_phase,
            .sync_status, .health_status} AS argocd
"""

# `flux reconcile source <what>` by the source's kind (flux CLI's own words)
_FLUX_SOURCE = {"HelmRepository": "helm", "GitRepository": "git", "OCIRepository": "oci", "HelmChart": "chart",
                "Bucket": "bucket"}


def apply(diagnosis: Diagnosis, context: dict[str, Any]) -> None:
    """Adds what the managing controller does next and its commands to one diagnosis of its release."""
    flux, argocd = context.get("flux"), context.get("argocd")
    if flux and flux.get("name"):
        _flux(diagnosis, flux)
    if argocd and argocd.get("name"):
        _argocd(diagnosis, argocd)


def _flux(diagnosis: Diagnosis, hr: dict[str, Any]) -> None:
    ns, name = hr.get("namespace") or "", hr["name"]
    shown = f"{ns}/{name}"
    _controller(diagnosis, {"kind": "HelmRelease", "controller": "flux", "namespace": ns, "name": name,
                            **{k: v for k, v in hr.items() if k not in ("namespace", "name") and v is not None}})
    diagnosis.impact = _join(diagnosis.impact, f"Flux's HelmRelease {shown} deploys this release: "
                                               + _flux_retries(hr))
    commands = ["# Flux deploys this release: fix the chart or values in the HelmRelease's source (Git), then"]
    if hr.get("suspended"):
        commands.append(f"flux resume helmrelease {name} -n {ns}")
    elif hr.get("stalled"):
        commands += [f"flux suspend helmrelease {name} -n {ns}", f"flux resume helmrelease {name} -n {ns}"]
    source = _FLUX_SOURCE.get(hr.get("source_kind") or "")
    if source and hr.get("source_name"):
        commands.append(f"flux reconcile source {source} {hr['source_name']} -n {hr.get('source_namespace') or ns}")
    commands.append(f"flux reconcile helmrelease {name} -n {ns} --with-source")
    diagnosis.resolution = [*diagnosis.resolution, *commands]


def _flux_retries(hr: dict[str, Any]) -> str:
    if hr.get("suspended"):
        return "it is suspended (spec.suspend), so Flux does not retry until it is resumed."
    if hr.get("stalled"):
        reason = f" ({hr['stalled_reason']})" if hr.get("stalled_reason") else ""
        return (f"it is Stalled{reason}, so Flux does not retry on its own until the HelmRelease changes or is "
                f"reconciled by hand.")
    action = hr.get("last_attempted_release_action")
    if action not in ("install", "upgrade"):
        return ("Flux reconciles it again at its interval "
                f"({hr['interval'] if hr.get('interval') else 'spec.interval not set'}); "
                "status.lastAttemptedReleaseAction is not recorded, so which retry budget applies is not known.")
    retries, failures = hr.get(f"{action}_retries"), hr.get(f"{action}_failures")
    done = f"{failures} {action} failure(s) counted so far" if failures is not None else \
        f"status.{action}Failures is not recorded"
    if retries is None:
        return (f"spec.{action}.remediation.retries is not set on it; {done}. Flux reconciles it again at its "
                f"interval ({hr['interval'] if hr.get('interval') else 'spec.interval not set'}).")
    allowed = "unlimited retries" if retries < 0 else f"{retries} retries allowed"
    return f"Flux retries the {action} ({allowed} by spec.{action}.remediation.retries; {done})."


def _argocd(diagnosis: Diagnosis, app: dict[str, Any]) -> None:
    ns, name = app.get("namespace") or "", app["name"]
    shown = f"{ns}/{name}"
    # `argocd app ...` names an Application outside Argo CD's own namespace as ns/name
    target = name if ns in ("", "argocd") else shown
    _controller(diagnosis, {"kind": "Application", "controller": "argocd", "namespace": ns, "name": name,
                            **{k: v for k, v in app.items() if k not in ("namespace", "name") and v is not None}})
    diagnosis.impact = _join(diagnosis.impact, f"Argo CD's Application {shown} deploys this release: "
                                               + _argocd_retries(app))
    diagnosis.resolution = [*diagnosis.resolution,
                            "# Argo CD deploys this release: fix the chart or values in the Application's source, then",
                            f"argocd app get {target} --hard-refresh", f"argocd app sync {target}"]


def _argocd_retries(app: dict[str, Any]) -> str:
    if not app.get("auto_sync"):
        return "automated sync is off, so nothing changes until someone syncs it."
    limit, count = app.get("retry_limit"), app.get("retry_count")
    so_far = f"; {count} retries so far (status.operationState.retryCount)" if count is not None else ""
    if limit is None:
        return ("automated sync is on, but spec.syncPolicy.retry is not set, so a failed sync is not retried; Argo "
                f"CD syncs again when the source or the live state changes{so_far}.")
    if limit < 0:
        return f"automated sync is on and retries a failed sync without limit (spec.syncPolicy.retry.limit){so_far}."
    return f"automated sync is on and retries a failed sync up to {limit} times (spec.syncPolicy.retry.limit){so_far}."


def _controller(diagnosis: Diagnosis, controller: dict[str, Any]) -> None:
    if diagnosis.release is not None:
        diagnosis.release["controller"] = controller


def _join(impact: str, more: str) -> str:
    return f"{impact.rstrip()} {more}" if impact else more

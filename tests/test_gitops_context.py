"""A release a GitOps controller deploys: its diagnosis says what the controller does next and gives its commands.

The golden Flux and Argo CD scenarios are replayed into a real Neo4j and diagnosed as `kgrca diagnose --all` does;
the retry sentences are checked against the object's own fields (a field the object does not set is said to be
not set, never replaced by the controller's default), and the Browser query of releases failing in GitOps is run
on the same graphs.
"""

from __future__ import annotations

import pytest

from kgrca.contracts import Diagnosis
from rca import gitops_context
from tests.scenarios import suite
from tests.test_browser_queries import run as run_browser_query

FOLDERS = {folder.name: folder for folder in suite.discover()}
FLUX = sorted(n for n in FOLDERS if n.startswith(("flux_", "rec_gitops_flux_")) and not n.endswith("healthy"))
ARGOCD = sorted(n for n in FOLDERS if n.startswith(("argocd_", "rec_gitops_argocd_")) and not n.endswith("healthy"))


def _diagnose(driver, cfg, name: str):
    scenario = suite.load(FOLDERS[name])
    assert suite.replay(driver, cfg, scenario) == []
    return scenario, suite.diagnose(driver, cfg, scenario)


@pytest.fixture(scope="module")
def schema_applied(neo4j_config):
    from kgrca.graphdb import connect

    driver = connect(neo4j_config)
    try:
        suite.prepare(driver, neo4j_config)
    finally:
        driver.close()


@pytest.mark.neo4j
@pytest.mark.parametrize("name", FLUX)
def test_a_flux_release_is_told_with_what_flux_does_next_and_its_commands(name, schema_applied, neo4j_driver,
                                                                           neo4j_config):
    scenario, run = _diagnose(neo4j_driver, neo4j_config, name)
    top = next(d for d in run.diagnoses if suite.release_key(d) == scenario.release)
    controller = top.release["controller"]
    assert controller["kind"] == "HelmRelease" and controller["controller"] == "flux"
    shown = f"{controller['namespace']}/{controller['name']}"
    assert f"Flux's HelmRelease {shown} deploys this release" in top.impact
    assert f"flux reconcile helmrelease {controller['name']} -n {controller['namespace']} --with-source" \
        in top.resolution
    rows = run_browser_query(neo4j_driver, "gitops_failing")
    assert any(r["release"] == scenario.release and r["controller"] == "flux" and r["said"] for r in rows), rows


@pytest.mark.neo4j
@pytest.mark.parametrize("name", ARGOCD)
def test_an_argocd_release_is_told_with_what_argocd_does_next_and_its_commands(name, schema_applied, neo4j_driver,
                                                                               neo4j_config):
    scenario, run = _diagnose(neo4j_driver, neo4j_config, name)
    top = next(d for d in run.diagnoses if suite.release_key(d) == scenario.release)
    controller = top.release["controller"]
    assert controller["kind"] == "Application" and controller["controller"] == "argocd"
    assert f"Argo CD's Application {controller['namespace']}/{controller['name']} deploys this release" in top.impact
    assert any(c.startswith("argocd app sync ") for c in top.resolution)
    assert any(c.endswith("--hard-refresh") for c in top.resolution)
    if not controller.get("auto_sync"):
        assert "automated sync is off" in top.impact
    rows = run_browser_query(neo4j_driver, "gitops_failing")
    assert any(r["release"] == scenario.release and r["controller"] == "argocd" for r in rows), rows


@pytest.mark.neo4j
@pytest.mark.parametrize("name", sorted(n for n in FOLDERS if "healthy" in n and ("flux" in n or "argocd" in n)))
def test_a_healthy_reconcile_is_not_listed_as_failing(name, schema_applied, neo4j_driver, neo4j_config):
    scenario, run = _diagnose(neo4j_driver, neo4j_config, name)
    assert run.diagnoses == []
    assert run_browser_query(neo4j_driver, "gitops_failing") == []


def _diagnosis() -> Diagnosis:
    return Diagnosis(pattern="template_error", severity="high", confidence=0.9, summary="s", details="d",
                     evidence=[], impact="Helm stopped.", resolution=["helm template api ./chart"],
                     release={"name": "api", "namespace": "prod"})


def test_flux_retries_are_said_from_the_helmreleases_own_fields():
    unset = _diagnosis()
    gitops_context.apply(unset, {"flux": {"namespace": "flux-system", "name": "api",
                                          "last_attempted_release_action": "upgrade", "upgrade_failures": 2}})
    assert "spec.upgrade.remediation.retries is not set" in unset.impact
    assert "2 upgrade failure(s) counted so far" in unset.impact
    assert unset.resolution[0] == "helm template api ./chart"  # the pattern's own commands come first
    assert unset.resolution[-1] == "flux reconcile helmrelease api -n flux-system --with-source"

    limited = _diagnosis()
    gitops_context.apply(limited, {"flux": {"namespace": "flux-system", "name": "api", "upgrade_retries": 3,
                                            "last_attempted_release_action": "upgrade"}})
    assert "3 retries allowed by spec.upgrade.remediation.retries" in limited.impact
    assert "status.upgradeFailures is not recorded" in limited.impact

    stalled = _diagnosis()
    gitops_context.apply(stalled, {"flux": {"namespace": "flux-system", "name": "api", "stalled": True,
                                            "stalled_reason": "RetriesExceeded"}})
    assert "Stalled (RetriesExceeded)" in stalled.impact
    assert "flux suspend helmrelease api -n flux-system" in stalled.resolution
    assert "flux resume helmrelease api -n flux-system" in stalled.resolution

    suspended = _diagnosis()
    gitops_context.apply(suspended, {"flux": {"namespace": "flux-system", "name": "api", "suspended": True}})
    assert "suspended" in suspended.impact and "flux resume helmrelease api -n flux-system" in suspended.resolution


def test_argocd_retries_are_said_from_the_applications_own_fields():
    manual = _diagnosis()
    gitops_context.apply(manual, {"argocd": {"namespace": "argocd", "name": "api", "auto_sync": False}})
    assert "automated sync is off" in manual.impact
    assert manual.resolution[-2:] == ["argocd app get api --hard-refresh", "argocd app sync api"]

    no_retry = _diagnosis()
    gitops_context.apply(no_retry, {"argocd": {"namespace": "team-a", "name": "api", "auto_sync": True}})
    assert "spec.syncPolicy.retry is not set" in no_retry.impact
    assert "argocd app sync team-a/api" in no_retry.resolution  # apps in any namespace are named ns/name

    retrying = _diagnosis()
    gitops_context.apply(retrying, {"argocd": {"namespace": "argocd", "name": "api", "auto_sync": True,
                                               "retry_limit": 5, "retry_count": 2}})
    assert "up to 5 times" in retrying.impact and "2 retries so far" in retrying.impact

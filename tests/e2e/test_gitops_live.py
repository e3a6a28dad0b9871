"""From a live watch: a HelmRelease and an Application whose status carries helm's error are diagnosed through
`kgrca diagnose --release`, with nothing but the real API server, the real Flux and Argo CD CRDs, the real
watcher and a real Neo4j in between; once the controller reports a good reconcile the diagnosis is gone.

The controllers themselves are not run here (they would need the charts' registries, which this machine cannot
reach): their status is written the way helm-controller and Argo CD's application controller write it
(tests/e2e/gitops_lib.py follows their Go types), with messages users saw (the threads are cited below).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from ingest.k8s_watch import start_watch
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gitops_lib  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.neo4j]

# enix/x509-certificate-exporter#580, in helm-controller's "Helm upgrade failed for release ..." frame
FLUX_TEMPLATE_ERROR = (
    'template: x509-certificate-exporter/templates/migrations/pre-upgrade-3-20-0.yaml:17:13: executing '
    '"x509-certificate-exporter/templates/migrations/pre-upgrade-3-20-0.yaml" at <semverCompare "<3.20.0" '
    '$prevVersion>: error calling semverCompare: invalid semantic version')
# argoproj/argo-cd#1057: the repo server's helm template failed
ARGOCD_TEMPLATE_ERROR = (
    'rpc error: code = Unknown desc = Error: render error in "helloworld/templates/deployment.yaml": template: '
    'helloworld/templates/deployment.yaml:24:27: executing "helloworld/templates/deployment.yaml" at '
    '<.Values.image.reposi...>: can\'t evaluate field repository in type interface {}')


@pytest.fixture(scope="module")
def kube():
    from kgrca.config import load_config
    from localdev import cluster

    cfg = load_config()
    kubeconfig = cluster.ensure_up(cfg)  # installs the GitOps CRDs
    return gitops_lib.Kube(cluster.kubectl_binary(cfg), kubeconfig)


@pytest.fixture
def namespace(kube):
    name = f"gitops-live-{uuid.uuid4().hex[:6]}"
    kube.run("create", "namespace", name)
    yield name
    kube.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def watched(kube, namespace, neo4j_config, neo4j_driver):
    """`kgrca watch` into the graph for the test's namespace, as the command runs it."""
    apply_schema(neo4j_driver)
    cfg = neo4j_config.replace(kubeconfig=str(kube.kubeconfig), namespaces=[namespace])
    stop = threading.Event()
    watch = start_watch(cfg, stop)
    writer = Neo4jWriter(neo4j_driver, 200)

    def loop() -> None:
        batch = []
        for observation in watch.observations(idle=0.2):
            if observation is not None:
                batch.append(observation)
            elif batch:
                writer.write(batch)
                batch = []

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield cfg
    stop.set()
    thread.join(10)


def diagnose(cfg, release: str) -> list[dict]:
    """`kgrca diagnose --release NS/NAME --json`, as a user runs it."""
    env = {**os.environ, "KGRCA_NEO4J_URI": cfg.neo4j_uri, "KGRCA_NEO4J_PASSWORD": cfg.neo4j_password}
    done = subprocess.run([sys.executable, "-m", "faces.cli", "diagnose", "--release", release, "--json"],
                          capture_output=True, text=True, timeout=120, env=env)
    if done.returncode == 1 and "no release" in done.stderr:
        return []  # the watch has not written it yet
    assert done.returncode in (0, 3), done.stderr
    return json.loads(done.stdout or "[]")


def wait_for(predicate, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(1)
    return predicate()


def test_a_flux_helmrelease_failing_to_render_is_diagnosed_from_the_live_watch(kube, namespace, watched):
    hr = kube.apply(gitops_lib.helm_release(namespace, "x509", chart="x509-certificate-exporter", version="3.20.0",
                                            repository="enix"))
    release = f"{namespace}/x509"
    message = f"Helm upgrade failed for release {release} with chart x509-certificate-exporter@3.20.0: " \
              + FLUX_TEMPLATE_ERROR
    kube.write_status(hr, gitops_lib.release_failed(hr, "upgrade", message, "3.20.0", gitops_lib.now()))

    found = wait_for(lambda: [d for d in diagnose(watched, release) if d["pattern"] == "template_error"])
    assert found, f"no template_error for {release}: {diagnose(watched, release)}"
    top = found[0]
    assert top["shape"] == "template_error"
    assert "pre-upgrade-3-20-0.yaml" in top["root_cause"]["summary"]
    assert any(e["kind"] == "HelmRelease" and e["name"] == release for e in top["root_cause"]["evidence"])
    assert top["release"]["controller"]["kind"] == "HelmRelease"
    assert f"flux reconcile helmrelease x509 -n {namespace} --with-source" in top["root_cause"]["resolution"]

    hr = json.loads(kube.run("get", "helmreleases.helm.toolkit.fluxcd.io", "x509", "-n", namespace, "-o", "json"))
    time.sleep(1.1)  # the good reconcile's transition time is later than the failure's (whole seconds)
    kube.write_status(hr, gitops_lib.release_succeeded(
        hr, f"Helm upgrade succeeded for release {release}.v2 with chart x509-certificate-exporter@3.20.1",
        "3.20.1", gitops_lib.now(), history=[]))
    assert wait_for(lambda: not [d for d in diagnose(watched, release) if d["pattern"] == "template_error"]), \
        "the diagnosis outlived the good reconcile"


def test_an_argocd_application_failing_to_render_is_diagnosed_from_the_live_watch(kube, namespace, watched):
    app = kube.apply(gitops_lib.application(namespace, "helloworld", repo="https://charts.example.com",
                                            chart="helloworld", revision="0.1.0", dest_namespace=namespace))
    kube.write_status(app, gitops_lib.app_comparison_error(app, ARGOCD_TEMPLATE_ERROR, gitops_lib.now()))
    release = f"{namespace}/helloworld"

    found = wait_for(lambda: [d for d in diagnose(watched, release) if d["pattern"] == "template_error"])
    assert found, f"no template_error for {release}: {diagnose(watched, release)}"
    top = found[0]
    assert "helloworld/templates/deployment.yaml" in top["root_cause"]["summary"]
    assert top["release"]["controller"]["kind"] == "Application"
    assert any(c.startswith("argocd app sync ") for c in top["root_cause"]["resolution"])

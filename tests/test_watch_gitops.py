"""`kgrca watch` and the GitOps controllers' kinds, against the real API server with Flux's and Argo CD's real CRDs
(pinned in localdev/cluster/gitops_crds.py, installed by `kgrca cluster up`).

The watcher watches HelmRelease, Kustomization, the Flux sources and Application only while their CRDs exist: a
watch started before a CRD is applied picks it up, and deleting the CRD stops its watcher (its objects come out
as DELETED). Status written the way the controllers write it (tests/e2e/gitops_lib.py) arrives as observations
with every field the controllers set.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from ingest.crd_discovery import GITOPS_KINDS, chosen_version, version_priority
from ingest.k8s_watch import start_watch
from kgrca.config import load_config

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))
import gitops_lib  # noqa: E402

HELMRELEASES = "helmreleases.helm.toolkit.fluxcd.io"
APPLICATIONS = "applications.argoproj.io"


# ------------------------------------------------------------------------------ version choice (no cluster)


def test_the_storage_version_is_watched_when_served_else_the_newest_served():
    def crd(*versions: tuple[str, bool, bool]) -> dict:
        return {"spec": {"versions": [{"name": n, "served": s, "storage": st} for n, s, st in versions]}}

    assert chosen_version(crd(("v2", True, True), ("v2beta2", True, False))) == "v2"
    # Flux 2.2: v2beta2 stored, v2beta1 still served
    assert chosen_version(crd(("v2beta1", True, False), ("v2beta2", True, True))) == "v2beta2"
    # a storage version no longer served (being retired): the newest served one
    assert chosen_version(crd(("v2beta1", False, True), ("v2beta2", True, False), ("v2", True, False))) == "v2"
    assert chosen_version(crd(("v1", False, True))) is None
    assert sorted(["v1", "v2beta1", "v1alpha1", "v2", "v2beta2"], key=version_priority, reverse=True) == \
        ["v2", "v1", "v2beta2", "v2beta1", "v1alpha1"]


def test_every_gitops_kind_is_namespaced_in_its_real_crd():
    """The chart grants them in Roles too (namespaced mode): that is right only if the CRDs say Namespaced."""
    import yaml

    from localdev.cluster import gitops_crds

    scopes = {}
    for path in gitops_crds.fetch(load_config()):
        document = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        scopes[document["metadata"]["name"]] = document["spec"]["scope"]
    assert {k.crd_name for k in GITOPS_KINDS} <= set(scopes)
    assert all(scopes[k.crd_name] == "Namespaced" for k in GITOPS_KINDS)


def test_crds_come_from_the_pinned_modules_and_a_different_hash_is_refused(tmp_path, monkeypatch):
    """Fetched once into the cache (Go's module cache holds the zips; no network once there); a module whose
    hash is not the pinned one is refused rather than installed."""
    import dataclasses

    from kgrca.contracts import KgrcaError
    from localdev.cluster import gitops_crds

    cfg = load_config(environ={"KGRCA_CACHE_DIR": str(tmp_path / "cache"), "KGRCA_DATA_DIR": str(tmp_path / "data")})
    paths = gitops_crds.fetch(cfg)
    assert [p.parent.name for p in paths][0] == "helm-controller-v1.4.3"
    assert {gitops_crds.crd_name(p) for p in paths} >= {k.crd_name for k in GITOPS_KINDS}
    monkeypatch.setattr(gitops_crds, "_download", lambda module: pytest.fail("downloaded again"))
    assert gitops_crds.fetch(cfg) == paths

    monkeypatch.undo()
    tampered = dataclasses.replace(gitops_crds.MODULES[0], sum="h1:" + "A" * 43 + "=")
    monkeypatch.setattr(gitops_crds, "MODULES", (tampered,))
    fresh = load_config(environ={"KGRCA_CACHE_DIR": str(tmp_path / "other")})
    with pytest.raises(KgrcaError, match="pinned"):
        gitops_crds.fetch(fresh)


# ---------------------------------------------------------------------------- against the real API server


@pytest.fixture(scope="module")
def kube():
    from localdev import cluster

    cfg = load_config()
    kubeconfig = cluster.ensure_up(cfg)  # installs the GitOps CRDs
    kube = gitops_lib.Kube(cluster.kubectl_binary(cfg), kubeconfig)
    yield kube
    cluster.install_gitops_crds(cfg)  # whatever a test deleted is back for the next one


@pytest.fixture
def namespace(kube):
    name = f"gitops-{uuid.uuid4().hex[:8]}"
    kube.run("create", "namespace", name)
    yield name
    kube.run("delete", "namespace", name, "--wait=false", check=False)


def delete_crds(kube: gitops_lib.Kube, *names: str) -> None:
    kube.run("delete", "crd", *names, "--ignore-not-found", "--wait=true", "--timeout=120s")


def wait_until(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


class Seen:
    """Drains a watch's queue in the background; what it saw, by (kind, name)."""

    def __init__(self, watch):
        self.items: list = []
        self.lock = threading.Lock()
        threading.Thread(target=self._drain, args=(watch,), daemon=True).start()

    def _drain(self, watch) -> None:
        for observation in watch.observations(idle=0.2):
            if observation is not None:
                with self.lock:
                    self.items.append(observation)

    def of(self, kind: str, name: str, action: str | None = None) -> list:
        with self.lock:
            return [o for o in self.items if o.payload.get("kind") == kind
                    and o.payload["metadata"].get("name") == name and (action is None or o.action == action)]


def start(kube: gitops_lib.Kube, namespaces: list[str] | None = None):
    cfg = load_config().replace(kubeconfig=str(kube.kubeconfig), namespaces=namespaces or [])
    stop = threading.Event()
    from ingest.k8s_watch import KINDS

    kinds = tuple(k for k in KINDS if k.kind in ("CustomResourceDefinition", "Namespace"))
    watch = start_watch(cfg, stop, kinds=kinds)
    assert wait_until(lambda: all(w.relists >= 1 for w in list(watch.watchers))), "the first list did not finish"
    return watch, stop, Seen(watch)


@pytest.mark.cluster
def test_a_watch_started_before_the_crds_picks_them_up_and_sees_their_objects(kube, namespace, caplog):
    delete_crds(kube, HELMRELEASES, APPLICATIONS)
    caplog.set_level(logging.INFO, logger="ingest")
    watch, stop, seen = start(kube, [namespace])
    try:
        active = watch.discovery.active()
        assert HELMRELEASES not in active and APPLICATIONS not in active
        assert active["helmrepositories.source.toolkit.fluxcd.io"] == "v1"  # still installed: watched from the start
        from localdev import cluster

        cluster.install_gitops_crds(load_config())
        assert wait_until(lambda: {HELMRELEASES, APPLICATIONS} <= set(watch.discovery.active()))
        assert watch.discovery.active()[HELMRELEASES] == "v2"
        assert watch.discovery.active()[APPLICATIONS] == "v1alpha1"

        kube.apply(gitops_lib.helm_release(namespace, "podinfo", chart="podinfo", version="6.9.2",
                                           repository="podinfo"))
        kube.apply(gitops_lib.application(namespace, "guestbook", repo="https://charts.example.org", chart="guestbook",
                                          revision="1.2.0", dest_namespace=namespace))
        assert wait_until(lambda: seen.of("HelmRelease", "podinfo") and seen.of("Application", "guestbook"))
        release = seen.of("HelmRelease", "podinfo")[0].payload
        assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
        assert release["spec"]["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "podinfo"}
        assert seen.of("Application", "guestbook")[0].payload["apiVersion"] == "argoproj.io/v1alpha1"
        # Absent CRDs are not an error: nothing above WARNING, and no 404 retry noise.
        noisy = [r for r in caplog.records if r.name.startswith("ingest") and r.levelno >= logging.WARNING]
        assert not noisy, [r.getMessage() for r in noisy]
    finally:
        stop.set()


@pytest.mark.cluster
def test_deleting_a_crd_stops_its_watcher_and_its_objects_come_out_deleted(kube, namespace):
    kube.apply(gitops_lib.helm_release(namespace, "goes-away", chart="podinfo", version="6.9.2",
                                       repository="podinfo"))
    watch, stop, seen = start(kube)
    try:
        assert HELMRELEASES in watch.discovery.active()
        watchers = [w for w in list(watch.watchers) if w.kind.kind == "HelmRelease"]
        assert len(watchers) == 1
        threads = list(watch.discovery.running[HELMRELEASES].threads)
        assert wait_until(lambda: seen.of("HelmRelease", "goes-away", "SNAPSHOT"))
        delete_crds(kube, HELMRELEASES)
        assert wait_until(lambda: HELMRELEASES not in watch.discovery.active())
        assert wait_until(lambda: seen.of("HelmRelease", "goes-away", "DELETED"))
        assert watchers[0] not in watch.watchers
        assert wait_until(lambda: watchers[0].stop.is_set())
        assert wait_until(lambda: not any(t.is_alive() for t in threads), timeout=30)  # the API server ends the watch
        assert APPLICATIONS in watch.discovery.active()  # the others carry on
    finally:
        stop.set()
        from localdev import cluster

        cluster.install_gitops_crds(load_config())


@pytest.mark.cluster
def test_status_written_as_the_controllers_write_it_arrives_whole(kube, namespace):
    watch, stop, seen = start(kube, [namespace])
    try:
        at = gitops_lib.now()
        # Flux: an upgrade that failed rendering (message: fluxcd/flux2#5264), through the status subresource.
        message = ("Helm upgrade failed for release kafka/kafka with chart kafka@32.0.1+2b71ecd47ab5: execution "
                   "error at (kafka/templates/controller-eligible/statefulset.yaml:42:38): \nPASSWORDS ERROR: The "
                   "secret \"kafka-kraft\" does not contain the key \"controller-{{ $i }}-id\"")
        release = kube.apply(gitops_lib.helm_release(namespace, "kafka", chart="kafka", version="32.0.1",
                                                     repository="bitnami"))
        history = [gitops_lib.snapshot("kafka", namespace, 1, "deployed", "kafka", "32.0.0", "4.0.0", at,
                                       "sha256:" + "a" * 64, "sha256:" + "b" * 64)]
        kube.write_status(release, gitops_lib.release_failed(release, "upgrade", message, "32.0.1+2b71ecd47ab5",
                                                             at, history=history, failures=2))
        # Argo CD: a sync whose Deployment patch was refused (message: zitadel/zitadel-charts#348).
        refused = ('error when patching "/dev/shm/2013686522": Deployment.apps "zitadel" is invalid: spec.selector: '
                   'Invalid value: v1.LabelSelector{MatchLabels:v1.LabelSelectorRequirement(nil)}: field is immutable')
        app = kube.apply(gitops_lib.application(namespace, "zitadel", repo="https://charts.zitadel.com",
                                                chart="zitadel", revision="8.13.4", dest_namespace=namespace))
        kube.write_status(app, gitops_lib.app_sync_result(
            app, phase="Failed",
            message=f"one or more synchronization tasks completed unsuccessfully, reason: {refused}",
            resources=[gitops_lib.resource_result("apps", "v1", "Deployment", namespace, "zitadel", "SyncFailed",
                                                  refused)],
            started=at, finished=at, sync="OutOfSync", health="Healthy", revision="8.13.4", retry_count=2))

        def flux_status():
            return [o for o in seen.of("HelmRelease", "kafka", "MODIFIED")
                    if (o.payload.get("status") or {}).get("history")]

        assert wait_until(lambda: flux_status() and seen.of("Application", "zitadel", "MODIFIED"))
        status = flux_status()[-1].payload["status"]
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == ("False", "UpgradeFailed", message)
        assert ready["observedGeneration"] == 1 and ready["lastTransitionTime"] == at
        assert status["history"][0]["chartVersion"] == "32.0.0" and status["failures"] == 2
        assert "upgradeFailures" not in status  # nothing stored: the remediation counter does not move
        assert status["lastAttemptedRevision"] == "32.0.1+2b71ecd47ab5"

        state = seen.of("Application", "zitadel", "MODIFIED")[-1].payload["status"]["operationState"]
        assert state["phase"] == "Failed" and state["retryCount"] == 2
        (result,) = state["syncResult"]["resources"]
        assert (result["kind"], result["name"], result["status"], result["message"]) == \
            ("Deployment", "zitadel", "SyncFailed", refused)
    finally:
        stop.set()


@pytest.mark.cluster
def test_the_recorder_waits_for_the_gitops_watchers_first_list(kube, namespace, tmp_path):
    """A recording holds the GitOps objects that existed before it began, like any other kind."""
    import json

    from localdev.cluster.recorder import Recorder

    kube.apply(gitops_lib.helm_repository(namespace, "podinfo", "https://stefanprodan.github.io/podinfo"))
    cfg = load_config().replace(kubeconfig=str(kube.kubeconfig))
    out = tmp_path / "rec.jsonl"
    recorder = Recorder(cfg, out, [namespace]).start()
    recorder.settle(quiet=1.0, timeout=10)
    recorder.stop()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = {(line["object"]["kind"], line["object"]["metadata"]["name"]) for line in lines}
    assert ("HelmRepository", "podinfo") in kinds
    crds = [line["object"] for line in lines if line["object"]["kind"] == "CustomResourceDefinition"]
    assert crds and all("schema" not in v for crd in crds for v in crd["spec"]["versions"])
    assert out.stat().st_size < 200_000


def test_queue_is_untouched_by_unrelated_crds():
    """A CRD that is not a GitOps kind starts nothing."""
    from ingest.crd_discovery import CrdDiscovery

    out: queue.Queue = queue.Queue()
    watchers: list = []
    discovery = CrdDiscovery(api=None, namespaces=[None], out=out, stop=threading.Event(), watchers=watchers)
    discovery.observe("ADDED", {"metadata": {"name": "servicemonitors.monitoring.coreos.com"},
                                "spec": {"versions": [{"name": "v1", "served": True, "storage": True}]},
                                "status": {"conditions": [{"type": "Established", "status": "True"}]}})
    assert discovery.active() == {} and watchers == [] and out.empty()

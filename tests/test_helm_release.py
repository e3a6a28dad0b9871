"""Decoding Helm 3 release storage exactly as Helm writes it; no server needed."""

from __future__ import annotations

import base64
import copy

import pytest

from kg_builder import helm_release
from kgrca.contracts import PermanentError
from tests import factories as f


def _release(**kw):
    return f.release_json("api", "prod", 7, "failed", description='Upgrade "api" failed: timed out', **kw)


def test_secret_storage_decodes_through_both_base64_layers_and_gzip():
    secret = f.release_secret(_release(config={"db": {"password": "hunter2", "host": "db"}, "replicas": 3}))
    release = helm_release.read_release(secret)
    assert (release.name, release.namespace, release.version, release.status) == ("api", "prod", 7, "failed")
    assert release.description == 'Upgrade "api" failed: timed out'
    assert (release.chart, release.chart_version, release.app_version) == ("app", "1.2.3", "4.5.6")
    assert release.deleted is None  # Helm writes "" for a zero time


def test_values_keep_key_paths_and_a_hash_but_never_the_values():
    secret = f.release_secret(_release(config={"db": {"password": "hunter2", "host": "db"}, "replicas": 3}))
    release = helm_release.read_release(secret)
    assert release.values_keys == ["db.host", "db.password", "replicas"]
    assert len(release.values_hash) == 64
    assert "hunter2" not in repr(release)


def test_configmap_storage_has_one_base64_layer():
    release = helm_release.read_release(f.release_configmap(_release()))
    assert (release.name, release.version) == ("api", 7)


def test_uncompressed_release_from_before_gzip_is_still_read():
    secret = f.release_secret(_release())
    plain = base64.b64encode(base64.b64encode(b'{"name":"old","version":1,"namespace":"x","info":'
                                              b'{"status":"deployed"}}')).decode()
    secret["data"]["release"] = plain
    assert helm_release.read_release(secret).name == "old"


@pytest.mark.parametrize("breakage", ["truncate", "not-base64", "missing"])
def test_corrupt_release_names_the_secret(breakage):
    secret = f.release_secret(_release())
    data = secret["data"]["release"]
    if breakage == "truncate":
        inner = base64.b64decode(data)
        secret["data"]["release"] = base64.b64encode(inner[: len(inner) // 2]).decode()
    elif breakage == "not-base64":
        secret["data"]["release"] = "!!!not base64!!!"
    else:
        del secret["data"]["release"]
    with pytest.raises(PermanentError, match=r"Secret prod/sh\.helm\.release\.v1\.api\.v7"):
        helm_release.read_release(secret)


def test_manifest_objects_keep_their_template_and_namespace():
    text = f.manifest(("apps/v1", "Deployment", "api"), ("v1", "Service", "api")) + (
        "---\n# Source: app/templates/crd-user.yaml\napiVersion: example.com/v1\nkind: Widget\n"
        "metadata:\n  name: w\n  namespace: other\n---\n# Source: app/templates/empty.yaml\n\n")
    objects = helm_release.parse_manifest(text, "prod")
    assert [(o.kind, o.name, o.namespace, o.source) for o in objects] == [
        ("Deployment", "api", "prod", "app/templates/deployment.yaml"),
        ("Service", "api", "prod", "app/templates/service.yaml"),
        ("Widget", "w", "other", "app/templates/crd-user.yaml"),
    ]


def test_hooks_come_with_their_last_run():
    release = helm_release.read_release(f.release_secret(_release(hooks=[
        f.hook("api-migrate", ["pre-upgrade"], phase="Failed")])))
    assert release.hooks[0]["last_run"]["phase"] == "Failed"
    assert release.hooks[0]["events"] == ["pre-upgrade"]


def test_only_helm_storage_is_recognised():
    secret = f.release_secret(_release())
    other = copy.deepcopy(secret)
    other["type"] = "Opaque"
    assert helm_release.is_release_storage(secret)
    assert not helm_release.is_release_storage(other)
    assert helm_release.is_release_storage(f.release_configmap(_release()))


def test_cluster_scoped_kinds_get_no_namespace():
    text = f.manifest(("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
                      ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"))
    assert [(o.kind, o.namespace) for o in helm_release.parse_manifest(text, "prod")] == [
        ("ClusterRole", None), ("CustomResourceDefinition", None)]


# Helm 4 (helm.sh/helm/v4 v4.3.2) keeps the storage format helm.sh/release.v1; this is revision 3 of the
# healthy_rollback recording (tests/e2e/recordings/healthy_rollback.jsonl) as Helm 4 wrote it, chart
# templates and manifest shortened. New: `apply_method` ("ssa": server-side apply, Helm 4's default) and
# `info.rollback_revision`; zero times are left out instead of written as "".
HELM4_RELEASE = {
    "name": "cart",
    "info": {"first_deployed": "2026-12-04T03:01:56.208344347Z", "last_deployed": "2026-12-04T03:02:01.680916374Z",
             "description": "Rollback to 1", "status": "deployed", "rollback_revision": 1},
    "chart": {"metadata": {"name": "app", "version": "1.0.0", "apiVersion": "v2", "appVersion": "1.0",
                           "type": "application"},
              "lock": None, "templates": [], "values": {"replicaCount": 1}, "schema": None, "files": []},
    "manifest": "---\n# Source: app/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                "  name: cart-config\n",
    "version": 3,
    "namespace": "e2e-healthy-rollback",
    "apply_method": "ssa",
}


def test_helm4_release_gives_its_apply_method_and_rollback_revision():
    release = helm_release.read_release(f.release_secret(copy.deepcopy(HELM4_RELEASE)))
    assert (release.name, release.namespace, release.version, release.status) == (
        "cart", "e2e-healthy-rollback", 3, "deployed")
    assert release.apply_method == "ssa"
    assert release.rollback_revision == 1
    assert release.deleted is None  # Helm 4 leaves the zero time out
    assert release.first_deployed == "2026-12-04T03:01:56.208344347Z"
    assert (release.chart, release.chart_version, release.app_version) == ("app", "1.0.0", "1.0")
    assert [(o.kind, o.name, o.namespace) for o in release.manifest] == [
        ("ConfigMap", "cart-config", "e2e-healthy-rollback")]
    assert release.values_keys == [] and release.values_hash is None  # Helm 4 omits an empty config


def test_helm4_client_side_apply_and_helm3_releases():
    csa = dict(copy.deepcopy(HELM4_RELEASE), apply_method="csa")
    csa["info"].pop("rollback_revision")
    release = helm_release.read_release(f.release_secret(csa))
    assert (release.apply_method, release.rollback_revision) == ("csa", None)
    helm3 = helm_release.read_release(f.release_secret(_release()))  # Helm 3 writes neither
    assert (helm3.apply_method, helm3.rollback_revision) == (None, None)

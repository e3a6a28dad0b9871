"""Parsing real helm and kubectl command lines into what a diagnosis needs (no root needed)."""

from __future__ import annotations

import pytest

from kgrca.commandline import REDACTED, parse_helm, parse_kubectl, redact_argv


def helm(line: str) -> dict:
    return parse_helm(line.split())


def kubectl(line: str) -> dict:
    return parse_kubectl(line.split())


def test_upgrade_with_every_flag_a_diagnosis_reads():
    cmd = helm("helm upgrade api ./charts/api -n prod -f values.yaml -f values-prod.yaml "
               "--set image.tag=2.0 --timeout 10m0s --wait --atomic --install --kube-context prod-eu")
    assert cmd["command"] == "upgrade"
    assert cmd["release"] == "api" and cmd["releases"] == ["api"]
    assert cmd["chart"] == "./charts/api"
    assert cmd["namespace"] == "prod" and cmd["namespace_explicit"] is True
    assert cmd["values_files"] == ["values.yaml", "values-prod.yaml"]
    assert cmd["set_values"] == ["image.tag=2.0"]
    assert cmd["timeout"] == "10m0s" and cmd["timeout_seconds"] == 600.0
    assert (cmd["wait"], cmd["atomic"], cmd["install"]) == (True, True, True)
    assert cmd["kube_context"] == "prod-eu"
    assert cmd["dry_run"] is None


def test_flags_before_the_command_and_in_equals_form():
    cmd = helm("helm --namespace=staging --kubeconfig /tmp/kc upgrade --values=a.yaml,b.yaml web "
               "oci://registry.example/charts/web --version 1.2.3 --timeout=90s")
    assert (cmd["command"], cmd["release"], cmd["chart"]) == ("upgrade", "web", "oci://registry.example/charts/web")
    assert cmd["namespace"] == "staging"
    assert cmd["values_files"] == ["a.yaml", "b.yaml"]
    assert cmd["timeout_seconds"] == 90.0
    assert cmd["flags"]["version"] == "1.2.3"


def test_install_with_generate_name_has_no_release():
    cmd = helm("helm install bitnami/nginx --generate-name -n web")
    assert (cmd["command"], cmd["release"], cmd["chart"]) == ("install", None, "bitnami/nginx")
    short = helm("helm install -g ./chart")
    assert (short["release"], short["chart"]) == (None, "./chart")


def test_install_without_namespace_uses_default():
    cmd = helm("helm install db ./db")
    assert cmd["namespace"] == "default" and cmd["namespace_explicit"] is False


@pytest.mark.parametrize("alias", ["uninstall", "delete", "del", "un"])
def test_uninstall_and_its_aliases_name_every_release(alias):
    cmd = helm(f"helm {alias} api worker -n prod --keep-history --wait")
    assert cmd["command"] == "uninstall"
    assert cmd["releases"] == ["api", "worker"] and cmd["release"] == "api"


def test_rollback_with_and_without_revision():
    assert helm("helm rollback api 6 -n prod --wait")["revision"] == 6
    cmd = helm("helm rollback api -n prod")
    assert (cmd["command"], cmd["release"], cmd["revision"]) == ("rollback", "api", None)


def test_template_with_and_without_release_name():
    cmd = helm("helm template api ./chart -f v.yaml -a batch/v1 --show-only templates/job.yaml")
    assert (cmd["command"], cmd["release"], cmd["chart"]) == ("template", "api", "./chart")
    assert cmd["flags"]["api-versions"] == ["batch/v1"]  # -a is --api-versions for template
    only_chart = helm("helm template ./chart")
    assert (only_chart["release"], only_chart["chart"]) == (None, "./chart")


def test_dry_run_forms():
    assert helm("helm upgrade a ./c --dry-run")["dry_run"] == "client"
    assert helm("helm upgrade a ./c --dry-run=server")["dry_run"] == "server"


def test_read_only_commands():
    assert helm("helm status api -n prod --revision 4")["revision"] == 4
    get = helm("helm get values api -n prod -o json")
    assert (get["command"], get["subcommand"], get["release"]) == ("get", "values", "api")
    assert helm("helm list -A")["flags"]["all-namespaces"] is True
    assert helm("helm history api")["release"] == "api"


def test_plugin_command_keeps_its_words():
    cmd = helm("helm diff upgrade api ./chart -n prod")
    assert (cmd["command"], cmd["subcommand"], cmd["release"], cmd["chart"]) == ("diff", "upgrade", "api", "./chart")


def test_secrets_are_redacted_in_flags_and_argv():
    argv = ("helm upgrade api ./c --set db.password=hunter2,image.tag=2.0 --set-string apiToken=abc "
            "--password s3cret --kube-token=tok --username bob").split()
    cmd = parse_helm(argv)
    assert cmd["set_values"] == [f"db.password={REDACTED},image.tag=2.0", f"apiToken={REDACTED}"]
    assert cmd["flags"]["password"] == REDACTED and cmd["flags"]["kube-token"] == REDACTED
    assert cmd["flags"]["username"] == "bob"
    shown = redact_argv("helm", argv)
    assert "hunter2" not in " ".join(shown) and "s3cret" not in shown and "--kube-token=tok" not in shown
    assert shown[:4] == ["helm", "upgrade", "api", "./c"]
    assert redact_argv("kubectl", ["kubectl", "--token", "abc", "get", "pods"]) == \
        ["kubectl", "--token", REDACTED, "get", "pods"]


def test_kubectl_apply_with_files_and_server_side():
    cmd = kubectl("kubectl apply -n prod -f deploy.yaml -f svc.yaml --server-side --force-conflicts --wait")
    assert (cmd["tool"], cmd["command"]) == ("kubectl", "apply")
    assert cmd["manifest_files"] == ["deploy.yaml", "svc.yaml"]
    assert cmd["namespace"] == "prod" and cmd["wait"] is True
    assert cmd["flags"]["server-side"] is True


def test_kubectl_delete_type_and_names():
    cmd = kubectl("kubectl delete pod api-1 api-2 -n prod --grace-period 0 --force")
    assert cmd["resources"] == ["pod/api-1", "pod/api-2"]
    assert cmd["flags"]["grace-period"] == "0"


def test_kubectl_rollout_subcommands():
    undo = kubectl("kubectl rollout undo deployment/api --to-revision=3 -n prod")
    assert (undo["command"], undo["subcommand"], undo["resources"], undo["revision"]) == \
        ("rollout", "undo", ["deployment/api"], 3)
    restart = kubectl("kubectl -n prod rollout restart deploy api")
    assert (restart["subcommand"], restart["resources"]) == ("restart", ["deploy/api"])
    status = kubectl("kubectl rollout status deployment/api --timeout=2m")
    assert status["timeout_seconds"] == 120.0


def test_kubectl_selector_names_a_helm_release():
    cmd = kubectl("kubectl delete pods -l app.kubernetes.io/instance=api,tier=web -n prod")
    assert cmd["release"] == "api" and cmd["releases"] == ["api"]


def test_kubectl_kustomize_and_stdin():
    cmd = kubectl("kubectl apply -k overlays/prod")
    assert cmd["manifest_files"] == ["overlays/prod"]
    assert kubectl("kubectl apply -f -")["manifest_files"] == ["-"]


def test_garbage_never_raises():
    for argv in (["helm"], ["helm", "--"], ["helm", "-n"], ["kubectl", "-"], ["helm", "upgrade", "--timeout", "x"]):
        parse_helm(argv)
        parse_kubectl(argv)
    assert helm("helm upgrade a ./c --timeout never")["timeout_seconds"] is None


# --- Helm 4 (helm.sh/helm/v4): renamed and new flags, a strategy-taking --wait ------------------------

@pytest.mark.parametrize("line,expected", [
    # --rollback-on-failure is Helm 4's --atomic (which it still accepts, deprecated)
    ("helm upgrade api ./charts/api -n prod --rollback-on-failure --timeout 5m",
     {"release": "api", "chart": "./charts/api", "atomic": True, "wait": False, "timeout_seconds": 300.0}),
    ("helm install api ./charts/api -n prod --atomic --wait", {"release": "api", "atomic": True, "wait": True}),
    # --wait takes a strategy only in the = form; bare --wait is the watcher
    ("helm upgrade api ./charts/api -n prod --wait=watcher --timeout 10m0s",
     {"release": "api", "chart": "./charts/api", "wait": True, "timeout_seconds": 600.0}),
    ("helm upgrade --install api ./charts/api --wait=legacy -n prod",
     {"release": "api", "wait": True, "install": True}),
    ("helm install api ./charts/api --wait=hookOnly", {"release": "api", "chart": "./charts/api", "wait": False}),
    ("helm upgrade api ./charts/api --wait", {"release": "api", "wait": True}),
    ("helm upgrade api ./charts/api --wait=false", {"release": "api", "wait": False}),
    # upgrade and rollback take --server-side true|false|auto as a string, install a boolean
    ("helm upgrade --server-side false api ./charts/api -n prod",
     {"release": "api", "chart": "./charts/api", "namespace": "prod"}),
    ("helm upgrade api ./charts/api --server-side=auto --force-conflicts",
     {"release": "api", "chart": "./charts/api"}),
    ("helm rollback api --server-side true 3 -n prod", {"release": "api", "revision": 3}),
    ("helm install --server-side api ./charts/api -n prod", {"release": "api", "chart": "./charts/api"}),
    ("helm install api ./charts/api --server-side=false --take-ownership",
     {"release": "api", "chart": "./charts/api"}),
    # --force-replace is Helm 4's --force
    ("helm upgrade --force-replace api oci://registry.example/charts/api --version 1.4.0",
     {"release": "api", "chart": "oci://registry.example/charts/api"}),
    ("helm rollback api 6 --force-replace --wait=watcher -n prod", {"release": "api", "revision": 6, "wait": True}),
    # a dry run is --dry-run=client|server; bare --dry-run still means client
    ("helm upgrade api ./charts/api --dry-run=server", {"release": "api", "dry_run": "server"}),
    # global flags new in Helm 4 take values
    ("helm --color never --content-cache /tmp/hc upgrade api ./charts/api",
     {"command": "upgrade", "release": "api", "chart": "./charts/api"}),
])
def test_helm4_command_lines(line, expected):
    cmd = helm(line)
    assert {key: cmd[key] for key in expected} == expected


def test_helm4_flags_are_kept_as_given():
    # (each line here was checked against helm v4.3.2: it passes helm's own flag and argument checks)
    cmd = helm("helm upgrade api ./charts/api -n prod --server-side true --force-conflicts --take-ownership "
               "--wait=watcher --rollback-on-failure")
    assert (cmd["release"], cmd["chart"]) == ("api", "./charts/api")
    assert cmd["flags"]["server-side"] == "true"
    assert cmd["flags"]["wait"] == "watcher"
    assert {cmd["flags"][f] for f in ("force-conflicts", "take-ownership", "rollback-on-failure")} == {True}
    assert cmd["atomic"] is True and cmd["wait"] is True
    replaced = helm("helm upgrade api ./charts/api --force-replace --server-side=false")
    assert replaced["flags"]["force-replace"] is True and replaced["flags"]["server-side"] == "false"


def test_helm4_wait_strategy_in_the_space_form_is_a_positional_like_helm_takes_it():
    # `--wait watcher` is not `--wait=watcher`: helm reads "watcher" as an argument
    # (`Error: "helm upgrade" requires 2 arguments`)
    cmd = helm("helm upgrade api ./charts/api --wait watcher")
    assert cmd["wait"] is True and cmd["flags"]["wait"] is True

"""The Helm chart charts/kgrca, checked with the real helm and installed into the real local API server.

`helm lint` and `helm template` run the project's own helm builds (localdev.cluster.helm_binary: every test
taking `helm` runs with Helm 4 and with Helm 3) over the value sets in charts/kgrca/ci/ (all on, tracer
off, external Neo4j, namespaced-only, minimal); the rendered objects
are checked against what kgrca itself defines: the watched kinds (ingest/k8s_watch.py KINDS), its settings
(kgrca/config.py) and its command line (faces/cli.py). Then the chart is installed into the local cluster,
where the API server must accept every object and the real controllers create the pods (kwok plays the
kubelets: no container runtime exists on this machine, so the kgrca images are never pulled or run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from faces.cli import build_parser
from ingest.crd_discovery import GITOPS_KINDS
from ingest.k8s_watch import KINDS
from kgrca.config import KEYS, env_name, load_config
from localdev import cluster

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "kgrca"
STACK = ROOT / "charts" / "kgrca-stack"
CI = CHART / "ci"
RELEASE = "kgrca"
NAMESPACE = "kgrca"
READ_ONLY = {"get", "list", "watch"}
SECRET_VARIABLES = {"KGRCA_NEO4J_PASSWORD", "KGRCA_GITHUB_WEBHOOK_SECRET", "KGRCA_ARGOCD_WEBHOOK_TOKEN",
                    "KGRCA_JIRA_WEBHOOK_SECRET"}
VALUE_SETS = sorted(path.name for path in CI.glob("*-values.yaml"))


def _group(group_version: str) -> str:
    return group_version.rpartition("/")[0]


# The GitOps controllers' kinds are all namespaced; the watcher reads them while their CRDs exist.
GITOPS = {(k.group, k.plural) for k in GITOPS_KINDS}
WATCHED = {(_group(k.group_version), k.plural) for k in KINDS} | GITOPS
WATCHED_NAMESPACED = {(_group(k.group_version), k.plural) for k in KINDS if k.namespaced} | GITOPS
WATCHED_CLUSTER = WATCHED - WATCHED_NAMESPACED
POD_LOGS = ("", "pods/log")  # get only: the last lines of a crashing container (rbac.podLogs)


def read_only(role: dict[str, Any]) -> bool:
    """Every rule lists, watches and gets, except the log rule, which only gets."""
    return all(set(rule["verbs"]) == ({"get"} if rule["resources"] == ["pods/log"] else READ_ONLY)
               for rule in role["rules"])


# ---------------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module", params=[4, 3], ids=["helm4", "helm3"])
def helm(cfg, request) -> Path:
    return cluster.helm_binary(cfg, request.param)


def run_helm(helm: Path, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
    # HELM_* homes in a throwaway place: no repositories, no plugins, nothing from the user's own helm.
    done = subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=timeout, check=False,
                          env=_helm_env())
    if check:
        assert done.returncode == 0, f"helm {' '.join(args)} exited {done.returncode}:\n{done.stderr}{done.stdout}"
    return done


def _helm_env() -> dict[str, str]:
    home = Path(os.environ.get("TMPDIR", "/tmp")) / "kgrca-test-helm-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_") and k != "KUBECONFIG"}
    env.update(HELM_CACHE_HOME=str(home / "cache"), HELM_CONFIG_HOME=str(home / "config"),
               HELM_DATA_HOME=str(home / "data"))
    return env


def template(helm: Path, *values: str, sets: tuple[str, ...] = (), chart: Path = CHART) -> list[dict[str, Any]]:
    args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE]
    for name in values:
        args += ["-f", str(CI / name)]
    for item in sets:
        args += ["--set", item]
    text = run_helm(helm, *args).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {[d['metadata']['name'] for d in of_kind(docs, kind)]}"
    return found[0]


def workloads(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "DaemonSet")}


def containers(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, workload in workloads(docs).items():
        spec = workload["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield name, container


def rules_of(role: dict[str, Any]) -> set[tuple[str, str]]:
    return {(group, resource)
            for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]}


def config_map(docs: list[dict[str, Any]]) -> dict[str, str]:
    return one(docs, "ConfigMap", f"{RELEASE}-config")["data"]


# ------------------------------------------------------------------------------------------ lint, render


def test_every_value_set_is_exercised():
    assert {"all-on-values.yaml", "tracer-off-values.yaml", "external-neo4j-values.yaml",
            "namespaced-values.yaml", "minimal-values.yaml"} <= set(VALUE_SETS)


@pytest.mark.cluster
@pytest.mark.parametrize("values", [None, *VALUE_SETS])
def test_helm_lint_is_clean_in_strict_mode(helm, values):
    args = ["lint", str(CHART), "--strict", "--namespace", NAMESPACE]
    if values:
        args += ["-f", str(CI / values)]
    done = run_helm(helm, *args)
    assert "0 chart(s) failed" in done.stdout


@pytest.mark.cluster
@pytest.mark.parametrize("values", [None, *VALUE_SETS])
def test_rendered_settings_are_settings_kgrca_accepts(helm, values):
    docs = template(helm, *([values] if values else []))
    data = config_map(docs)
    known = {env_name(key.name) for key in KEYS}
    assert set(data) <= known, f"unknown settings: {set(data) - known}"
    assert not set(data) & SECRET_VARIABLES
    cfg = load_config(environ=data)  # raises ConfigError naming the setting if the chart wrote a bad value
    assert cfg.http_host == "0.0.0.0"


@pytest.mark.cluster
@pytest.mark.parametrize("values", [None, *VALUE_SETS])
def test_every_container_command_parses_with_kgrca_cli(helm, values):
    parser = build_parser()
    for workload, container in containers(template(helm, *([values] if values else []))):
        assert container["command"] == ["kgrca"], workload
        try:
            args = parser.parse_args(container["args"])
        except SystemExit:
            pytest.fail(f"{workload}: 'kgrca {' '.join(container['args'])}' is not a valid kgrca command line")
        assert args.command == container["args"][0]


@pytest.mark.cluster
def test_all_on_renders_every_component_wired_to_kafka(helm):
    docs = template(helm, "all-on-values.yaml")
    names = set(workloads(docs))
    assert names == {"kgrca-watcher", "kgrca-builder", "kgrca-server", "kgrca-tracer"}
    sinks = {name: c["args"][c["args"].index("--sink") + 1] for name, c in containers(docs) if "--sink" in c["args"]}
    assert sinks == {"kgrca-watcher": "kafka", "kgrca-tracer": "kafka", "kgrca-server": "kafka"}
    data = config_map(docs)
    assert data["KGRCA_KAFKA_BOOTSTRAP"] == "kafka-0.kafka.svc:9092,kafka-1.kafka.svc:9092"
    assert data["KGRCA_REPORT_SCHEDULE"] == "0 7 * * 1-5"
    assert data["KGRCA_STUCK_RELEASE_TIMEOUT"] == "15m"
    assert data["KGRCA_WEBHOOK_MAX_BYTES"] == "2097152"  # a whole number, not 2.097152e+06
    assert data["KGRCA_TRACK_KUBECTL"] == "false"
    ingress = one(docs, "Ingress", "kgrca-server")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "kgrca-server", "port": {"name": "http"}}


@pytest.mark.cluster
def test_without_kafka_sources_write_neo4j_and_there_is_no_builder(helm):
    docs = template(helm)
    assert "kgrca-builder" not in workloads(docs)
    assert {c["args"][c["args"].index("--sink") + 1] for _, c in containers(docs) if "--sink" in c["args"]} == {"neo4j"}
    assert "KGRCA_KAFKA_BOOTSTRAP" not in config_map(docs)


@pytest.mark.cluster
def test_probes_hit_the_real_health_endpoints(helm):
    docs = template(helm, "all-on-values.yaml")
    serve = workloads(docs)["kgrca-server"]["spec"]["template"]["spec"]["containers"][0]
    assert serve["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert serve["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert {"name": "http", "containerPort": 8080} in serve["ports"]
    build = workloads(docs)["kgrca-builder"]["spec"]["template"]["spec"]["containers"][0]
    assert build["args"][:3] == ["build", "--metrics-port", "9464"]
    assert build["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    assert {"name": "metrics", "containerPort": 9464} in build["ports"]
    watch = workloads(docs)["kgrca-watcher"]["spec"]["template"]["spec"]["containers"][0]
    assert watch["readinessProbe"]["exec"]["command"][-1] == "kafka-0.kafka.svc:9092"


@pytest.mark.cluster
def test_cluster_role_reads_exactly_the_watched_kinds(helm):
    docs = template(helm)
    role = one(docs, "ClusterRole", "kgrca-watcher")
    assert rules_of(role) == WATCHED | {POD_LOGS}
    assert read_only(role)
    assert not of_kind(docs, "Role")
    binding = one(docs, "ClusterRoleBinding", "kgrca-watcher")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kgrca-watcher", "namespace": NAMESPACE}]
    assert binding["roleRef"]["name"] == "kgrca-watcher"


@pytest.mark.cluster
def test_helm_release_secrets_can_be_withheld(helm):
    docs = template(helm, sets=("rbac.helmReleaseSecrets=false",))
    assert rules_of(one(docs, "ClusterRole", "kgrca-watcher")) == WATCHED - {("", "secrets")} | {POD_LOGS}


@pytest.mark.cluster
def test_container_logs_can_be_withheld_and_the_watcher_then_reads_none(helm):
    docs = template(helm, sets=("rbac.podLogs=false",))
    assert rules_of(one(docs, "ClusterRole", "kgrca-watcher")) == WATCHED
    assert config_map(docs)["KGRCA_CONTAINER_LOGS"] == "false"
    assert "KGRCA_CONTAINER_LOGS" not in config_map(template(helm))


@pytest.mark.cluster
def test_namespaced_grants_roles_per_namespace_and_only_cluster_scoped_kinds_cluster_wide(helm):
    docs = template(helm, "namespaced-values.yaml")
    roles = of_kind(docs, "Role")
    assert {r["metadata"]["namespace"] for r in roles} == {"kgrca-team-a", "kgrca-team-b"}
    for role in roles:
        assert rules_of(role) == WATCHED_NAMESPACED | {POD_LOGS}
        assert read_only(role)
    bindings = of_kind(docs, "RoleBinding")
    assert {b["metadata"]["namespace"] for b in bindings} == {"kgrca-team-a", "kgrca-team-b"}
    assert all(b["subjects"][0]["namespace"] == NAMESPACE for b in bindings)
    (cluster_role,) = of_kind(docs, "ClusterRole")
    assert rules_of(cluster_role) == WATCHED_CLUSTER
    assert config_map(docs)["KGRCA_NAMESPACES"] == "kgrca-team-a,kgrca-team-b"

    strict = template(helm, "namespaced-values.yaml", sets=("rbac.clusterScopedKinds=false",))
    assert not of_kind(strict, "ClusterRole") and not of_kind(strict, "ClusterRoleBinding")


@pytest.mark.cluster
def test_namespaced_without_namespaces_is_refused_with_what_to_set(helm):
    done = run_helm(helm, "template", RELEASE, str(CHART), "--set", "namespaced=true", check=False)
    assert done.returncode != 0
    assert "namespaced: true needs watchNamespaces" in done.stderr


@pytest.mark.cluster
def test_tracer_is_a_privileged_host_pid_daemonset_on_every_node(helm):
    docs = template(helm, "all-on-values.yaml")
    tracer = one(docs, "DaemonSet", "kgrca-tracer")["spec"]["template"]["spec"]
    assert tracer["hostPID"] is True
    assert tracer["automountServiceAccountToken"] is False
    assert {"operator": "Exists"} in tracer["tolerations"]
    assert tracer["priorityClassName"] == "system-node-critical"
    (trace,) = tracer["containers"]
    assert trace["image"] == "kgrca-tracer:0.1.0"
    assert trace["securityContext"]["privileged"] is True
    assert trace["securityContext"]["runAsUser"] == 0
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in trace["volumeMounts"]}
    assert mounts == {"/sys/kernel/tracing": True, "/sys/kernel/debug": True, "/lib/modules": True,
                      "/usr/src": True}
    host = {v["name"]: v["hostPath"]["path"] for v in tracer["volumes"]}
    assert set(host.values()) == {"/sys/kernel/tracing", "/sys/kernel/debug", "/lib/modules", "/usr/src"}


@pytest.mark.cluster
def test_tracer_off_renders_no_tracer(helm):
    docs = template(helm, "tracer-off-values.yaml")
    assert not of_kind(docs, "DaemonSet")
    assert "kgrca-tracer" not in workloads(docs)
    assert {"kgrca-watcher", "kgrca-server"} == set(workloads(docs))


@pytest.mark.cluster
def test_other_components_run_non_root_without_api_tokens_except_the_watcher(helm):
    for name, workload in workloads(template(helm, "all-on-values.yaml")).items():
        if name == "kgrca-tracer":
            continue
        spec = workload["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        container = spec["containers"][0]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert spec["automountServiceAccountToken"] is (name == "kgrca-watcher"), name


@pytest.mark.cluster
def test_secret_values_reach_containers_only_through_secret_key_refs(helm):
    given = yaml.safe_load((CI / "all-on-values.yaml").read_text())["secrets"]
    docs = template(helm, "all-on-values.yaml")
    for doc in docs:
        if doc["kind"] == "Secret":
            continue
        text = json.dumps(doc)
        for value in given.values():
            assert value not in text, f"{doc['kind']} {doc['metadata']['name']} carries a secret value in the clear"
    for name, container in containers(docs):
        for variable in container.get("env", []):
            if variable["name"] in SECRET_VARIABLES:
                assert "value" not in variable, f"{name}: {variable['name']} as a plain value"
                assert variable["valueFrom"]["secretKeyRef"]["name"] == "kgrca-secrets"
    secret = one(docs, "Secret", "kgrca-secrets")
    assert set(secret["data"]) == {"neo4j-password", "github-webhook-secret", "argocd-webhook-token",
                                   "jira-webhook-secret"}
    server = workloads(docs)["kgrca-server"]["spec"]["template"]["spec"]["containers"][0]
    assert {v["name"] for v in server["env"]} == SECRET_VARIABLES


@pytest.mark.cluster
@pytest.mark.parametrize("setting,field", [("tracer.enabled=maybe", "/tracer/enabled"),
                                           ("neo4j.uri=http://graph:7474", "/neo4j/uri"),
                                           ("server.port=70000", "/server/port")])
def test_values_schema_refuses_wrong_values_naming_the_field(helm, setting, field):
    done = run_helm(helm, "template", RELEASE, str(CHART), "--set", setting, check=False)
    assert done.returncode != 0
    assert f"at '{field}'" in done.stderr


@pytest.mark.cluster
def test_secrets_in_config_are_refused(helm):
    done = run_helm(helm, "template", RELEASE, str(CHART), "--set", "config.neo4j_password=hunter2", check=False)
    assert done.returncode != 0
    assert "config.neo4j_password is a secret" in done.stderr


@pytest.mark.cluster
def test_external_neo4j_uses_its_uri_and_the_existing_secret(helm):
    docs = template(helm, "external-neo4j-values.yaml")
    assert not of_kind(docs, "Secret")
    data = config_map(docs)
    assert (data["KGRCA_NEO4J_URI"], data["KGRCA_NEO4J_USER"], data["KGRCA_NEO4J_DATABASE"]) == (
        "neo4j+s://graph.example.net:7687", "kgrca", "kgrca")
    for name, container in containers(docs):
        (password,) = [v for v in container["env"] if v["name"] == "KGRCA_NEO4J_PASSWORD"]
        assert password["valueFrom"]["secretKeyRef"] == {"name": "graph-credentials", "key": "password",
                                                         "optional": True}, name
    watch = workloads(docs)["kgrca-watcher"]["spec"]["template"]["spec"]["containers"][0]
    assert watch["readinessProbe"]["exec"]["command"][-1] == "graph.example.net:7687"


@pytest.mark.cluster
def test_default_neo4j_port_is_added_when_the_uri_has_none(helm):
    docs = template(helm, sets=("neo4j.uri=bolt://graph.internal",))
    watch = workloads(docs)["kgrca-watcher"]["spec"]["template"]["spec"]["containers"][0]
    assert watch["readinessProbe"]["exec"]["command"][-1] == "graph.internal:7687"


@pytest.mark.cluster
def test_every_workload_has_requests_and_limits(helm):
    for name, container in containers(template(helm, "all-on-values.yaml")):
        resources = container["resources"]
        assert set(resources["requests"]) == {"cpu", "memory"}, name
        assert set(resources["limits"]) == {"cpu", "memory"}, name


@pytest.mark.cluster
def test_config_change_rolls_the_pods(helm):
    before = workloads(template(helm))["kgrca-server"]["spec"]["template"]["metadata"]["annotations"]
    after = workloads(template(helm, sets=("config.log_level=DEBUG",)))["kgrca-server"]["spec"]["template"][
        "metadata"]["annotations"]
    assert before["checksum/config"] != after["checksum/config"]


# ------------------------------------------------------------------------------------------- umbrella


@pytest.mark.cluster
def test_stack_chart_declares_neo4j_and_kafka_as_conditional_dependencies(helm):
    meta = yaml.safe_load((STACK / "Chart.yaml").read_text())
    conditions = {d["name"]: d.get("condition") for d in meta["dependencies"]}
    assert conditions == {"kgrca": None, "neo4j": "neo4j.enabled", "kafka": "kgrca.kafka.enabled"}
    values = yaml.safe_load((STACK / "values.yaml").read_text())
    assert values["neo4j"]["enabled"] is True and values["kgrca"]["kafka"]["enabled"] is False
    # The dependencies cannot be fetched here (no network to chart repositories): lint only warns of them.
    done = run_helm(helm, "lint", str(STACK))
    assert "0 chart(s) failed" in done.stdout
    if not (STACK / "charts").exists():
        assert "chart directory is missing these dependencies: kgrca,neo4j,kafka" in done.stdout


@pytest.mark.cluster
def test_stack_values_point_kgrca_at_the_subcharts_services(helm, tmp_path):
    # The umbrella as a user gets it after `helm dependency build`, less the two charts that need a network:
    # kgrca packaged into charts/, neo4j and kafka left out of this copy's Chart.yaml.
    stack = tmp_path / "kgrca-stack"
    shutil.copytree(STACK, stack)
    meta = yaml.safe_load((stack / "Chart.yaml").read_text())
    meta["dependencies"] = [d for d in meta["dependencies"] if d["name"] == "kgrca"]
    (stack / "Chart.yaml").write_text(yaml.safe_dump(meta))
    run_helm(helm, "package", str(CHART), "--destination", str(stack / "charts"))
    docs = template(helm, chart=stack, sets=("kgrca.kafka.enabled=true",))
    data = config_map(docs)
    assert data["KGRCA_NEO4J_URI"] == f"bolt://{RELEASE}-neo4j:7687"
    assert data["KGRCA_KAFKA_BOOTSTRAP"] == f"{RELEASE}-kafka:9092"
    assert not of_kind(docs, "Secret")
    assert "kgrca-builder" in workloads(docs)


# ------------------------------------------------------------------------------------ install, uninstall


@pytest.fixture(scope="module")
def kube(cfg) -> tuple[Path, Path]:
    """kubectl and the admin kubeconfig of the local cluster (started if it is not up)."""
    return cluster.kubectl_binary(cfg), cluster.ensure_up(cfg)


def kubectl(kube: tuple[Path, Path], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    binary, kubeconfig = kube
    done = subprocess.run([str(binary), f"--kubeconfig={kubeconfig}", *args], capture_output=True, text=True,
                          timeout=120, check=False)
    if check:
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done


def _uninstall_quietly(helm: Path, kube: tuple[Path, Path], release: str, namespace: str) -> None:
    run_helm(helm, "uninstall", release, "-n", namespace, f"--kubeconfig={kube[1]}", "--wait", check=False)


def _wait_for(what: str, check, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(1)


@pytest.mark.cluster
@pytest.mark.parametrize("values,namespaces", [
    ("all-on-values.yaml", ()),
    ("namespaced-values.yaml", ("kgrca-team-a", "kgrca-team-b")),
])
def test_install_is_accepted_by_the_api_server_and_uninstall_removes_it(helm, kube, values, namespaces):
    release, namespace = "kgrca-chart-test", "kgrca-chart-test"
    _uninstall_quietly(helm, kube, release, namespace)  # a run that was interrupted leaves one behind
    for extra in namespaces:
        if kubectl(kube, "get", "namespace", extra, check=False).returncode != 0:
            kubectl(kube, "create", "namespace", extra)
    run_helm(helm, "install", release, str(CHART), "-n", namespace, "--create-namespace", "-f", str(CI / values),
             f"--kubeconfig={kube[1]}", timeout=300)
    try:
        manifest = run_helm(helm, "get", "manifest", release, "-n", namespace, f"--kubeconfig={kube[1]}").stdout
        rendered = [doc for doc in yaml.safe_load_all(manifest) if doc]
        live = _get_all(kube, rendered)
        assert sorted(_identity(o) for o in live) == sorted(_identity(o) for o in rendered)

        # The real controllers act on what the chart made: Deployments get their pods, the tracer one per node.
        def pods_created() -> bool:
            pods = json.loads(kubectl(kube, "get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
            components = [p["metadata"]["labels"].get("app.kubernetes.io/component") for p in pods]
            expected = {w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                        for w in rendered if w["kind"] in ("Deployment", "DaemonSet")}
            return expected <= set(components)

        _wait_for("a pod of every component", pods_created)
        for daemonset in (d for d in rendered if d["kind"] == "DaemonSet"):
            nodes = json.loads(kubectl(kube, "get", "nodes", "-o", "json").stdout)["items"]

            def on_every_node(name: str = daemonset["metadata"]["name"], count: int = len(nodes)) -> bool:
                status = json.loads(kubectl(kube, "get", "daemonset", name, "-n", namespace, "-o",
                                            "json").stdout).get("status", {})
                return status.get("desiredNumberScheduled") == count and status.get("currentNumberScheduled") == count

            _wait_for("the tracer scheduled on every node", on_every_node)
    finally:
        run_helm(helm, "uninstall", release, "-n", namespace, f"--kubeconfig={kube[1]}", "--wait", timeout=300)
    assert run_helm(helm, "status", release, "-n", namespace, f"--kubeconfig={kube[1]}", check=False).returncode != 0
    left = _get_all(kube, rendered, ignore_not_found=True)
    assert not left, f"left behind after uninstall: {sorted(_identity(o) for o in left)}"


@pytest.mark.cluster
def test_watcher_may_read_but_not_change_the_gitops_objects_on_the_api_server(helm, kube):
    """The chart's grants, judged by the API server's own authorizer with Flux's and Argo CD's real CRDs
    installed (`kgrca cluster up` does it): list and watch allowed, every write refused, in both modes."""
    namespace = "kgrca-rbac-test"
    as_watcher = f"--as=system:serviceaccount:{namespace}:kgrca-watcher"
    kubectl(kube, "delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=120s")
    kubectl(kube, "create", "namespace", namespace)

    def apply(docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            if doc["kind"] in ("ServiceAccount", "Role", "RoleBinding"):
                doc["metadata"]["namespace"] = namespace
            if doc["kind"].startswith("Cluster"):
                doc["metadata"]["name"] = "kgrca-rbac-test"
            if doc["kind"] == "ClusterRoleBinding":
                doc["roleRef"]["name"] = "kgrca-rbac-test"
            for subject in doc.get("subjects", []):
                subject["namespace"] = namespace
        done = subprocess.run([str(kube[0]), f"--kubeconfig={kube[1]}", "apply", "-f", "-"],
                              input=yaml.safe_dump_all(docs), capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr

    def can(verb: str, resource: str, *where: str) -> bool:
        answer = kubectl(kube, "auth", "can-i", verb, resource, *where, as_watcher, check=False).stdout.strip()
        return answer == "yes"

    try:
        namespaced = template(helm, sets=("namespaced=true", f"watchNamespaces={{{namespace}}}",
                                          "rbac.clusterScopedKinds=false"))
        apply([d for d in namespaced if d["kind"] in ("ServiceAccount", "Role", "RoleBinding")])
        for resource in sorted(f"{plural}.{group}" for group, plural in GITOPS):
            assert can("list", resource, "-n", namespace) and can("watch", resource, "-n", namespace), resource
            assert not can("list", resource, "-A"), f"{resource}: namespaced mode grants only its namespaces"
            for verb in ("create", "patch", "update", "delete"):
                assert not can(verb, resource, "-n", namespace), f"{verb} {resource}"

        apply([d for d in template(helm) if d["kind"] in ("ClusterRole", "ClusterRoleBinding")])
        for resource in sorted(f"{plural}.{group}" for group, plural in GITOPS):
            assert can("watch", resource, "-A"), resource
            assert not can("update", resource, "-A"), resource
            assert not can("patch", resource, "-A", "--subresource=status"), resource
    finally:
        kubectl(kube, "delete", "clusterrolebinding,clusterrole", "kgrca-rbac-test", "--ignore-not-found",
                check=False)
        kubectl(kube, "delete", "namespace", namespace, "--wait=false", check=False)


def _identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _get_all(kube: tuple[Path, Path], rendered: list[dict[str, Any]],
             ignore_not_found: bool = False) -> list[dict[str, Any]]:
    """Every rendered object as the API server now holds it, in one `kubectl get -f` (each names its namespace)."""
    binary, kubeconfig = kube
    text = yaml.safe_dump_all(rendered)
    extra = ["--ignore-not-found"] if ignore_not_found else []
    done = subprocess.run([str(binary), f"--kubeconfig={kubeconfig}", "get", "-f", "-", "-o", "json", *extra],
                          input=text, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"the API server does not hold every object of the release: {done.stderr}"
    if not done.stdout.strip():
        return []  # --ignore-not-found and none of them found
    body = json.loads(done.stdout)
    return body.get("items", [body])


# ---------------------------------------------------------------------------------------------- README


def test_chart_readmes_are_generated_from_the_values_comments():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import chart_readme
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    for chart in (CHART, STACK):
        assert (chart / "README.md").read_text() == chart_readme.render(chart), (
            f"{chart}/README.md is out of date: run 'python scripts/chart_readme.py'")


def test_every_value_of_the_chart_is_documented():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import chart_readme
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    text = (CHART / "values.yaml").read_text()
    documented = {item.path for item in chart_readme.documented_values(text)}

    def leaves(data: Any, prefix: str = "") -> Iterator[str]:
        for key, value in data.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict) and value and path not in documented:
                yield from leaves(value, path + ".")
            else:
                yield path

    undocumented = [p for p in leaves(yaml.safe_load(text)) if p not in documented]
    assert not undocumented, f"values without a '# --' comment: {undocumented}"


def test_readme_shows_the_install_command_minimal_values_and_node_needs():
    readme = (CHART / "README.md").read_text()
    assert "helm install kgrca ./charts/kgrca -n kgrca --create-namespace" in readme
    assert (CI / "minimal-values.yaml").read_text().strip() in readme
    for need in ("privileged", "host PID", "/sys/kernel/tracing", "/lib/modules", "kernel headers"):
        assert need in readme


# ------------------------------------------------------------------------------------------ metrics


DASHBOARD = CHART / "dashboards" / "kgrca.json"


def registered_series() -> dict[str, set[str]]:
    """Every family the long-running processes register -> the series names Prometheus stores for it."""
    from prometheus_client import CollectorRegistry

    from bpf.metrics import TraceMetrics
    from faces.api.metrics import ServeMetrics, SpoolCollector
    from kgrca.bus.metrics import BuildMetrics, WatchMetrics

    spool = CollectorRegistry()
    spool.register(SpoolCollector(None))
    registries = [BuildMetrics().registry, WatchMetrics().registry, ServeMetrics().registry, TraceMetrics().registry,
                  spool]
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {family.name: {family.name + suffix for suffix in suffixes[family.type]}
            for registry in registries for family in registry.collect()}


def plotted_series() -> dict[str, set[str]]:
    """Each panel's title -> the metric names its PromQL expressions read (every kgrca series starts kgrca_)."""
    import re

    dashboard = json.loads(DASHBOARD.read_text())
    plotted = {}
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        names = set()
        for target in panel["targets"]:
            found = set(re.findall(r"\b(kgrca_[a-z0-9_]+)\b", target["expr"]))
            assert found, f"{panel['title']}: {target['expr']} reads no kgrca series"
            names |= found
        plotted[panel["title"]] = names
    return plotted


def test_every_series_the_dashboard_plots_is_registered_and_every_family_is_plotted():
    registered = registered_series()
    known = set().union(*registered.values())
    plotted = plotted_series()
    unknown = {title: sorted(names - known) for title, names in plotted.items() if names - known}
    assert not unknown, f"the dashboard plots series no process registers: {unknown}"
    everything = set().union(*plotted.values())
    missing = sorted(family for family, series in registered.items() if not series & everything)
    assert not missing, f"families no panel plots: {missing}"


def test_every_process_is_scraped_on_its_metrics_port_by_default(helm):
    docs = template(helm, "all-on-values.yaml")
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for component, command in (("watcher", "watch"), ("server", "serve"), ("tracer", "trace"), ("builder", "build")):
        workload = workloads(docs)[f"{RELEASE}-{component}"]
        pod = workload["spec"]["template"]
        [container] = pod["spec"]["containers"]
        port = values[component]["metricsPort"]
        assert container["args"][0] == command
        assert container["args"][container["args"].index("--metrics-port") + 1] == str(port)
        assert {"name": "metrics", "containerPort": port} in container["ports"]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    assert not of_kind(docs, "ServiceMonitor")
    docs = template(helm, "all-on-values.yaml", sets=("watcher.metricsPort=0", "server.metricsPort=0"))
    for component in ("watcher", "server"):
        [container] = workloads(docs)[f"{RELEASE}-{component}"]["spec"]["template"]["spec"]["containers"]
        assert "--metrics-port" not in container["args"]
        assert all(p["name"] != "metrics" for p in container.get("ports", []))


def test_service_monitor_and_dashboard_are_off_by_default_and_scrape_every_component_when_on(helm):
    docs = template(helm)
    assert not of_kind(docs, "ServiceMonitor")
    assert not [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-dashboard")]
    docs = template(helm, "all-on-values.yaml", sets=("metrics.serviceMonitor.enabled=true",
                                                      "metrics.serviceMonitor.labels.release=prometheus"))
    [monitor] = of_kind(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    [endpoint] = monitor["spec"]["endpoints"]
    service = one(docs, "Service", f"{RELEASE}-metrics")
    assert service["spec"]["clusterIP"] == "None"
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    [port] = service["spec"]["ports"]
    assert endpoint["port"] == port["name"] and port["targetPort"] == "metrics"
    # the Service selects every component's pods, and each declares the container port it targets by name
    scraped = set()
    for name, workload in workloads(docs).items():
        pod = workload["spec"]["template"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items(), name
        if any(p["name"] == "metrics" for c in pod["spec"]["containers"] for p in c.get("ports", [])):
            scraped.add(pod["metadata"]["labels"]["app.kubernetes.io/component"])
    assert scraped == {"watcher", "server", "builder", "tracer"}
    dashboard = one(docs, "ConfigMap", f"{RELEASE}-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["kgrca.json"]) == json.loads(DASHBOARD.read_text())

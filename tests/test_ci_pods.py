"""CI deploy pods: the helm commands a container runs; each container run a witnessed helm run in a real Neo4j."""

from __future__ import annotations

import copy

import pytest

from kg_builder import ci_pods
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests.scenarios.builders_ci import deploy_job, deploy_pod, failed_run, succeeded_run
from tests.scenarios.generate_ci import BOTKUBE_OWNERSHIP, ROLLOUTS_TEMPLATE

T0 = "2026-11-20T10:00:00Z"


def runs(command: list[str], args: list[str] = (), env: dict[str, str] | None = None,
         namespace: str = "ci", image: str = "alpine/helm:3.14.4") -> list[tuple]:
    container = {"name": "helm", "image": image, "command": list(command), "args": list(args),
                 "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}
    return [(r["command"], r["release"], r["namespace"], r["chart"], r["values_files"])
            for r in ci_pods.container_helm_runs(container, namespace)]


# --- command lines ------------------------------------------------------------------------------------


def test_helm_run_directly():
    assert runs(["helm", "upgrade", "--install", "api", "./chart", "-n", "prod", "-f", "values.yaml"]) == \
        [("upgrade", "api", "prod", "./chart", ["values.yaml"])]


def test_helm_in_sh_c_among_other_commands():
    script = "helm repo add argo https://argoproj.github.io/argo-helm && helm dependency build ./c; " \
             "helm upgrade --install argo-rollouts argo/argo-rollouts -n argo-rollouts || exit 1"
    assert runs(["/bin/sh", "-c"], [script]) == \
        [("upgrade", "argo-rollouts", "argo-rollouts", "argo/argo-rollouts", [])]


def test_bash_script_with_continuations_pipes_and_flags_before_the_subcommand():
    script = "set -euo pipefail\nexport X=1\nhelm --namespace prod upgrade api ./chart \\\n  -f prod.yaml " \
             "--wait | tee /tmp/helm.log\nif helm rollback api 6 -n prod; then echo rolled back; fi"
    assert runs(["bash", "-lc", script]) == [("upgrade", "api", "prod", "./chart", ["prod.yaml"]),
                                            ("rollback", "api", "prod", None, [])]


def test_upgrade_install_and_uninstall_are_runs_template_and_diff_are_not():
    assert [r[0] for r in runs(["sh", "-ec", "helm template api ./c | kubectl apply -f -; helm diff upgrade api ./c;"
                                             " helm uninstall old -n prod; helm upgrade -i api ./c -n prod"])] == \
        ["uninstall", "upgrade"]


def test_variables_expand_from_the_pods_env_and_kubernetes_dollar_parens():
    env = {"RELEASE": "api", "NS": "prod"}
    assert runs(["sh", "-c", "helm upgrade --install $RELEASE ./chart -n ${NS}"], env=env) == \
        [("upgrade", "api", "prod", "./chart", [])]
    assert runs(["helm", "upgrade", "$(RELEASE)", "./chart", "-n", "prod"], env={"RELEASE": "web"})[0][1] == "web"
    # a variable the pod does not show: the release is unknown, never "$RELEASE"
    assert runs(["sh", "-c", "helm upgrade $RELEASE ./chart -n prod"])[0][1] is None


def test_namespace_without_n_is_helm_namespace_env_else_the_pods_own_unless_a_kubeconfig_is_used():
    assert runs(["helm", "upgrade", "api", "./c"], namespace="prod")[0][2] == "prod"
    assert runs(["helm", "upgrade", "api", "./c"], env={"HELM_NAMESPACE": "web"})[0][2] == "web"
    assert runs(["helm", "upgrade", "api", "./c"], env={"KUBECONFIG": "/kube/config"})[0][1:3] == (None, None)
    assert runs(["helm", "upgrade", "api", "./c", "--kube-context", "prod-eu"])[0][1:3] == (None, None)


def test_an_image_whose_entrypoint_is_helm_runs_its_args():
    assert runs([], ["upgrade", "api", "./c", "-n", "prod"]) == [("upgrade", "api", "prod", "./c", [])]
    assert runs([], ["upgrade", "api", "./c"], image="registry.example/deployer:1") == []


def test_helm_error_text_starts_at_helms_error_line():
    tail = 'Release "api" does not exist. Installing it now.\nError: INSTALLATION FAILED: x\nmore words\n'
    assert ci_pods.helm_error_text(tail) == "Error: INSTALLATION FAILED: x\nmore words"
    assert ci_pods.helm_error_text("killed") == "killed"
    assert ci_pods.helm_error_text("  \n") is None


def test_a_job_says_what_its_template_runs():
    job = deploy_job("deploy-api", ["sh", "-c", "helm upgrade --install api ./chart -n prod"], created=T0)
    props = ci_pods.job_props(job)
    assert props["runs_helm"] is True and props["helm_release_keys"] == ["prod/api"]
    assert props["helm_commands"] == ["helm upgrade --install api ./chart -n prod"]
    assert ci_pods.job_props(deploy_job("other", ["sh", "-c", "echo hi"], created=T0)) == {}


# --- the graph ----------------------------------------------------------------------------------------


@pytest.fixture
def writer(neo4j_driver):
    apply_schema(neo4j_driver)
    return Neo4jWriter(neo4j_driver)


def observe(*objects: dict, action: str = "ADDED") -> list[Observation]:
    return [Observation("k8s", action, copy.deepcopy(obj), T0, "test") for obj in objects]


def one(driver, query: str, **params):
    records = driver.execute_query(query, params).records
    assert len(records) == 1, records
    return records[0]


@pytest.mark.neo4j
def test_a_failed_ci_pod_is_a_witnessed_run_with_its_words_classified(writer, neo4j_driver):
    script = ["sh", "-c", "helm upgrade --install argo-rollouts argo/argo-rollouts -n argo-rollouts --wait"]
    job = deploy_job("deploy-argo-rollouts", script, created=T0, failed=1)
    pod = deploy_pod(job, "7x9kq", created=T0, state=failed_run(
        "2026-11-20T10:00:02Z", "2026-11-20T10:00:09Z", '"argo" has been added to your repositories\n'
        + ROLLOUTS_TEMPLATE))
    stats = writer.write(observe(job, pod))
    assert stats.rejected == []
    row = one(neo4j_driver, """
        MATCH (p:Pod {name: 'deploy-argo-rollouts-7x9kq'})-[:RAN]->(op:HelmOperation)-[:TARGETS]->
              (r:Release {key: 'argo-rollouts/argo-rollouts'})
        MATCH (op)-[:FAILED_WITH]->(e:HelmError)
        RETURN op, e, p.runs_helm AS runs_helm""")
    op, error = row["op"], row["e"]
    assert op["witness"] == "ci_pod" and op["witness_kind"] == "Pod"
    assert op["witness_name"] == "ci/deploy-argo-rollouts-7x9kq"
    assert op["operation_id"] == f"ci:{pod['metadata']['uid']}:helm:0"
    assert op["status"] == "failed" and op["exit_code"] == 1 and op["command"] == "upgrade"
    assert op["said_by"] == "CI pod ci/deploy-argo-rollouts-7x9kq container helm: exit code 1 (Error)"
    assert op["stderr"] == ROLLOUTS_TEMPLATE  # from helm's Error: line on, not the log lines before it
    assert op["started_at"].iso_format().startswith("2026-11-20T10:00:02")
    assert op["ended_at"].iso_format().startswith("2026-11-20T10:00:09")
    assert op["namespace_explicit"] is True and op["release_key"] == "argo-rollouts/argo-rollouts"
    assert error["seen_in"] == "ci_pod" and error["family"] == "template_nil_pointer"
    assert row["runs_helm"] is True
    job_node = one(neo4j_driver, "MATCH (j:Job {name: 'deploy-argo-rollouts'}) RETURN j")["j"]
    assert job_node["helm_release_keys"] == ["argo-rollouts/argo-rollouts"]


@pytest.mark.neo4j
def test_each_restart_is_its_own_attempt_and_a_replay_adds_nothing(writer, neo4j_driver):
    job = deploy_job("install-botkube", ["helm", "install", "botkube", "botkube/botkube", "-n", "default"],
                     created=T0, restart_policy="OnFailure")
    first = failed_run("2026-11-20T10:00:02Z", "2026-11-20T10:00:05Z", BOTKUBE_OWNERSHIP)["terminated"]
    pod = deploy_pod(job, "m4n5b", created=T0, restarts=1, last_state={"terminated": first},
                     state={"running": {"startedAt": "2026-11-20T10:00:16Z"}}, phase="Running")
    writer.write(observe(job, pod))
    writer.write(observe(job, pod))
    attempts = neo4j_driver.execute_query("""
        MATCH (:Pod {name: 'install-botkube-m4n5b'})-[:RAN]->(op:HelmOperation)
        OPTIONAL MATCH (op)-[:FAILED_WITH]->(e:HelmError)
        RETURN op.operation_id AS id, op.status AS status, e.family AS family ORDER BY id""").records
    uid = pod["metadata"]["uid"]
    assert [(r["id"], r["status"], r["family"]) for r in attempts] == [
        (f"ci:{uid}:helm:0", "failed", "ownership_conflict"), (f"ci:{uid}:helm:1", "running", None)]


@pytest.mark.neo4j
def test_a_waiting_container_ran_nothing_and_a_succeeded_one_fails_nothing(writer, neo4j_driver):
    job = deploy_job("deploy-api", ["helm", "upgrade", "api", "./chart", "-n", "prod"], created=T0)
    waiting = deploy_pod(job, "a1", created=T0, phase="Pending",
                         state={"waiting": {"reason": "ContainerCreating"}})
    done = deploy_pod(job, "b2", created=T0, phase="Succeeded",
                      state=succeeded_run("2026-11-20T10:00:02Z", "2026-11-20T10:00:20Z"))
    writer.write(observe(job, waiting, done))
    ops = neo4j_driver.execute_query("""
        MATCH (p:Pod)-[:RAN]->(op:HelmOperation) OPTIONAL MATCH (op)-[:FAILED_WITH]->(e)
        RETURN p.name AS pod, op.status AS status, op.exit_code AS code, count(e) AS errors""").records
    assert [(r["pod"], r["status"], r["code"], r["errors"]) for r in ops] == [("deploy-api-b2", "succeeded", 0, 0)]


@pytest.mark.neo4j
def test_a_run_whose_release_the_pod_does_not_show_is_not_recorded(writer, neo4j_driver):
    job = deploy_job("deploy-eu", ["helm", "upgrade", "api", "./chart", "--kubeconfig", "/kube/eu.yaml"], created=T0)
    pod = deploy_pod(job, "c3", created=T0, state=failed_run("2026-11-20T10:00:02Z", "2026-11-20T10:00:05Z",
                                                             "Error: UPGRADE FAILED: x"))
    writer.write(observe(job, pod))
    assert neo4j_driver.execute_query("MATCH (op:HelmOperation) RETURN count(op) AS n").records[0]["n"] == 0
    shown = one(neo4j_driver, "MATCH (p:Pod {name: 'deploy-eu-c3'}) RETURN p.helm_commands AS c")["c"]
    assert shown == ["helm upgrade api ./chart --kubeconfig /kube/eu.yaml"]

"""Captured CI logs (GitHub Actions, GitLab, terminal output) as witnessed helm runs, read the way `kgrca ingest`
reads files; and through the CLI into a real Neo4j and a diagnosis. The fixtures in tests/ci_logs/ carry helm's
words verbatim as users pasted them (tests/ci_logs/README.md names each thread)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.files import FileSource
from kg_builder import operations
from kg_builder.helm_errors import HELM_ERROR_OF_OPERATION

LOGS = Path(__file__).parent / "ci_logs"


def read(name: str, release: tuple[str, str] | None = None, folder: Path = LOGS) -> tuple[list[dict], list[str]]:
    source = FileSource([folder / name], release=release)
    records = [o.payload for o in source.observations()]
    return records, [str(p) for p in source.problems]


def test_github_actions_log_gives_the_steps_helm_run_with_its_error_exit_code_and_times():
    (record,), problems = read("github_actions_template_error.log")
    assert problems == []
    assert (record["command"], record["release"], record["namespace"]) == ("upgrade", "argo-rollouts", "argo-rollouts")
    assert record["chart"] == "./charts/argo-rollouts" and record["values_files"] == ["values/prod.yaml"]
    assert record["witness"] == "ci_log" and record["witness_kind"] == "CILog"
    assert record["witness_name"] == f"{LOGS / 'github_actions_template_error.log'}:18"  # the script's helm line
    assert record["status"] == "failed" and record["exit_code"] == 1
    assert record["stderr"].startswith("Error: UPGRADE FAILED: template: argo-rollouts/templates/notifications")
    assert record["stderr"].endswith("nil pointer evaluating interface {}.metadata")
    assert record["started_at"] == "2024-05-01T10:00:07.1000000Z"
    assert record["ended_at"] == "2024-05-01T10:00:09.4567890Z"  # helm's error line, not the step's end
    assert record["said_by"] == ("CI log github_actions_template_error.log:18 (GitHub Actions log): helm's Error: "
                                 "lines, exit code 1")


def test_gitlab_log_with_runner_timestamps_keeps_helms_error_over_its_lines():
    (record,), _ = read("gitlab_removed_api.log")
    assert (record["release"], record["namespace"], record["exit_code"]) == ("cluster-autoscaler", "kube-system", 1)
    assert record["stderr"].splitlines()[1] == "ensure CRDs are installed first"
    assert "policy/v1beta1" in record["stderr"] and "\x1b" not in record["stderr"]
    assert (record["started_at"], record["ended_at"]) == ("2024-05-01T10:00:13.000000Z",
                                                          "2024-05-01T10:00:14.500000Z")


def test_gitlab_log_without_timestamps_takes_the_script_sections_times():
    (record,), _ = read("gitlab_missing_crd.log")
    assert (record["release"], record["namespace"], record["atomic"]) == ("ingress-nginx", "ingress-nginx", True)
    assert (record["started_at"], record["ended_at"]) == ("2024-05-01T10:00:10Z", "2024-05-01T10:00:31Z")
    assert record["said_by"].endswith("; times from the log's section markers")


def test_terminal_output_has_no_times_the_files_mtime_says_so(tmp_path):
    log = tmp_path / "deploy.txt"
    shutil.copy(LOGS / "terminal_ownership_conflict.txt", log)
    os.utime(log, (1_779_264_000, 1_779_264_000))  # 2026-05-20T08:00:00Z
    (record,), problems = read("deploy.txt", ("default", "botkube"), folder=tmp_path)
    assert problems == []
    assert (record["command"], record["release"], record["namespace"]) == ("install", "botkube", "default")
    assert record["started_at"] == record["ended_at"] == "2026-05-20T08:00:00Z"
    assert record["said_by"] == ("CI log deploy.txt:3 (terminal output): helm's Error: lines; release given with "
                                 "--release; time from the log file's modification time; the log has no timestamps")


def test_a_command_that_does_not_show_its_namespace_asks_for_release():
    records, problems = read("terminal_ownership_conflict.txt")
    assert records == []
    assert problems == [f"{LOGS / 'terminal_ownership_conflict.txt'}:3: 'helm install botkube botkube/botkube -f "
                        "/tmp/values.yaml' does not say its release's namespace (no -n) and a CI log does not show "
                        "the kube context's; give --release NAMESPACE/NAME"]


def test_helms_words_alone_need_release_and_name_their_command():
    records, problems = read("pasted_error.txt")
    assert records == [] and problems == [f"{LOGS / 'pasted_error.txt'}:1: helm's Error: line with no helm command "
                                          "before it: give --release NAMESPACE/NAME"]
    (record,), _ = read("pasted_error.txt", ("prod", "api"))
    assert (record["command"], record["release"], record["status"]) == ("upgrade", "api", "failed")


def test_an_error_line_that_parses_as_yaml_is_still_helms_error(tmp_path):
    pasted = tmp_path / "pasted.txt"
    pasted.write_text("Error: timed out waiting for the condition\n")  # YAML reads it as {"Error": "..."}
    (record,), problems = read("pasted.txt", ("prod", "api"), folder=tmp_path)
    assert problems == [] and record["stderr"] == "Error: timed out waiting for the condition"
    assert record["command"] is None  # the words do not say which helm command failed


def test_a_successful_run_is_succeeded():
    (record,), _ = read("github_actions_succeeded.log")
    assert (record["status"], record["stderr"], record["exit_code"]) == ("succeeded", None, None)


def test_the_same_log_anywhere_is_the_same_operation(tmp_path):
    shutil.copy(LOGS / "gitlab_removed_api.log", tmp_path)
    (here,), _ = read("gitlab_removed_api.log")
    (there,), _ = read("gitlab_removed_api.log", folder=tmp_path)
    assert here["operation_id"] == there["operation_id"] and here["operation_id"].startswith("cilog:")


def test_operations_take_the_log_record_unchanged():
    source = FileSource([LOGS / "github_actions_template_error.log"])
    (observation,) = source.observations()
    assert (observation.kind, observation.action) == ("helm_process", "EXITED")
    rows = list(operations.rows(observation))
    (error,) = [row for statement, row in rows if statement is HELM_ERROR_OF_OPERATION]
    assert error["props"]["seen_in"] == "ci_log" and error["props"]["family"] == "template_nil_pointer"
    (op,) = [row for statement, row in rows if statement.name == "operation:HelmOperation"]
    assert op["props"]["said_by"] == observation.payload["said_by"] and op["props"]["witness"] == "ci_log"


def test_yaml_that_mentions_helm_stays_yaml_and_other_text_is_still_refused(tmp_path):
    manifest = tmp_path / "job.yaml"
    manifest.write_text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: deploy, namespace: ci, uid: u1}\n"
                        "spec:\n  template:\n    spec:\n      containers:\n      - name: helm\n        command: "
                        "[sh, -c, 'helm upgrade api ./c -n prod']\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("nothing to see here\njust words\n")
    source = FileSource([manifest, notes])
    observations = list(source.observations())
    assert [o.kind for o in observations] == ["k8s"]
    assert [str(p) for p in source.problems] == [f"{notes}#doc1: expected a JSON object, got str"]


@pytest.fixture
def cli_env(neo4j_config) -> dict[str, str]:
    return {**os.environ, "KGRCA_NEO4J_URI": neo4j_config.neo4j_uri}


def kgrca(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "faces.cli", *args], capture_output=True, text=True, timeout=600,
                          env=env)


@pytest.mark.neo4j
def test_ingest_a_log_with_release_then_diagnose_it_as_a_user_would(neo4j_driver, cli_env):
    ingested = kgrca(cli_env, "ingest", "--quiet", "--release", "default/botkube",
                     str(LOGS / "terminal_ownership_conflict.txt"))
    assert ingested.returncode == 0, ingested.stderr
    assert "ingested 1 observations" in ingested.stdout
    diagnosed = kgrca(cli_env, "diagnose", "--release", "default/botkube", "--json")
    assert diagnosed.returncode == 3, diagnosed.stderr  # 3: a diagnosis was found
    top = json.loads(diagnosed.stdout)[0]
    assert (top["pattern"], top["shape"]) == ("resource_conflict", "resource_conflict")
    assert "custom-sa" in top["root_cause"]["summary"]
    assert "terminal_ownership_conflict.txt:3" in json.dumps(top["root_cause"]["evidence"])


def test_release_must_be_namespace_slash_name():
    result = subprocess.run([sys.executable, "-m", "faces.cli", "ingest", "--release", "botkube", "x.log"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "expected NAMESPACE/NAME (e.g. prod/api), got 'botkube'" in result.stderr


def test_generated_ci_scenarios_are_current():
    from tests.scenarios import generate_ci

    assert generate_ci.main(["--check"]) == 0, "run: python tests/scenarios/generate_ci.py"

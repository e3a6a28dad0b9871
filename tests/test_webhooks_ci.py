"""GitHub Actions deliveries (workflow_job, workflow_run) and deployment_status on a real Neo4j: stored once, linked
to their commit, their run and the release their names name. The payloads in tests/webhook_payloads/ are trimmed
from GitHub's documented examples (octokit/webhooks payload-examples/api.github.com/workflow_job and workflow_run),
fields kept as GitHub sends them."""

from __future__ import annotations

import json

import pytest

from faces.api.app import create_app
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from tests import factories as f
from tests.test_api import obs
from tests.test_webhooks import GITHUB_SECRET, SHA, all_nodes, count, github, payload
from webhooks.normalize import GITHUB_EVENTS

pytestmark = pytest.mark.neo4j
JOB = "Codertocat/Hello-World#12877621891"
RUN = "Codertocat/Hello-World#4747967848"


@pytest.fixture
def driver(neo4j_driver):
    apply_schema(neo4j_driver)
    return neo4j_driver


@pytest.fixture
def client(neo4j_config, driver):
    return create_app(neo4j_config.replace(github_webhook_secret=GITHUB_SECRET), driver=driver).test_client()


def release(driver, namespace: str, name: str) -> None:
    rel = f.release_json(name, namespace, 7, "failed", description=f'Upgrade "{name}" failed')
    Neo4jWriter(driver).write([obs(f.release_secret(rel))])


def test_github_events_include_the_actions_ones():
    assert {"workflow_job", "workflow_run", "deployment_status"} <= set(GITHUB_EVENTS)


def test_a_failed_deploy_job_links_its_commit_run_and_the_release_its_step_names(client, driver):
    release(driver, "prod", "api")
    assert github(client, "workflow_job", payload("github_workflow_job.json"), "d-job-1").status_code == 202
    row = driver.execute_query("""
        MATCH (j:CIJob {key: $job})-[:AT_COMMIT]->(c:Commit {sha: $sha})
        MATCH (j)-[:PART_OF]->(run:CIRun {key: $run})
        MATCH (j)-[:CONCERNS]->(rel:Release {key: 'prod/api'})
        RETURN j, c.placeholder AS placeholder, run.placeholder AS run_placeholder""",
                               job=JOB, sha=SHA, run=RUN).records[0]
    job = row["j"]
    assert (job["name"], job["workflow_name"], job["status"], job["conclusion"]) == \
        ("deploy prod/api", "Deploy", "completed", "failure")
    assert job["failed"] is True and job["run_attempt"] == 1 and job["head_branch"] == "main"
    assert job["url"] == "https://github.com/Codertocat/Hello-World/actions/runs/4747967848/job/12877621891"
    assert job["steps"][2] == "Run helm upgrade --install api ./chart -n prod -f values/prod.yaml: failure"
    assert job["started_at"].iso_format().startswith("2026-11-20T10:00:00")
    assert job["completed_at"].iso_format().startswith("2026-11-20T10:00:42")
    assert row["placeholder"] is True and row["run_placeholder"] is True


def test_a_workflow_run_fills_its_node_and_links_its_commit(client, driver):
    assert github(client, "workflow_job", payload("github_workflow_job.json"), "d-job-1").status_code == 202
    assert github(client, "workflow_run", payload("github_workflow_run.json"), "d-run-1").status_code == 202
    run = driver.execute_query("MATCH (r:CIRun {key: $run})-[:AT_COMMIT]->(:Commit {sha: $sha}) RETURN r",
                               run=RUN, sha=SHA).records[0]["r"]
    assert (run["name"], run["workflow_path"], run["conclusion"], run["placeholder"]) == \
        ("Deploy", ".github/workflows/deploy.yml", "failure", None)
    assert run["title"] == "Merge pull request #42 from Codertocat/migration"
    assert run["completed_at"].iso_format().startswith("2026-11-20T10:00:45")
    assert count(driver, "MATCH (:CIJob)-[:PART_OF]->(r:CIRun) RETURN count(r)") == 1


def test_a_redelivery_is_stored_once_and_a_late_in_progress_does_not_undo_completed(client, driver):
    body = payload("github_workflow_job.json")
    assert github(client, "workflow_job", body, "d-job-1").status_code == 202
    nodes = all_nodes(driver)
    assert github(client, "workflow_job", body, "d-job-1").status_code == 202
    assert all_nodes(driver) == nodes
    late = json.loads(body)
    late["action"] = "in_progress"
    late["workflow_job"].update(status="in_progress", conclusion=None, completed_at=None)
    assert github(client, "workflow_job", json.dumps(late).encode(), "d-job-0").status_code == 202
    job = driver.execute_query("MATCH (j:CIJob {key: $job}) RETURN j", job=JOB).records[0]["j"]
    assert (job["status"], job["conclusion"]) == ("completed", "failure")
    assert count(driver, "MATCH (d:Delivery) RETURN count(d)") == 2


def test_a_deployment_status_concerns_the_release_its_environment_names(client, driver):
    release(driver, "prod", "api")
    status = {"action": "created", "repository": {"full_name": "Codertocat/Hello-World"},
              "deployment_status": {"id": 2, "state": "failure", "description": "helm upgrade of prod/api failed",
                                    "created_at": "2026-11-20T10:00:44Z", "updated_at": "2026-11-20T10:00:44Z"},
              "deployment": {"id": 145988746, "sha": SHA, "ref": "main", "environment": "production",
                             "task": "deploy", "created_at": "2026-11-20T09:59:50Z"}}
    assert github(client, "deployment_status", json.dumps(status).encode(), "d-ds-1").status_code == 202
    assert count(driver, """MATCH (:GitHubDeployment {key: 'Codertocat/Hello-World/deployments/145988746'})
                            -[:CONCERNS]->(:Release {key: 'prod/api'}) RETURN count(*)""") == 1


def test_a_workflow_job_without_id_is_400_and_stores_nothing(client, driver):
    body = json.loads(payload("github_workflow_job.json"))
    del body["workflow_job"]["id"]
    response = github(client, "workflow_job", json.dumps(body).encode(), "d-bad")
    assert response.status_code == 400 and "'workflow_job.id' must be a number" in response.get_json()["error"]
    assert all_nodes(driver) == 0

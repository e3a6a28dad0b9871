"""Webhook receivers on a real Neo4j: real-format deliveries in, context nodes and an enriched diagnosis out;
signatures, tokens, size limits and redeliveries."""

from __future__ import annotations

import copy
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from faces.api.app import close_app, create_app
from faces.api.process import free_port, serving
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from rca.render import render
from rca.runner import Detector
from tests import factories as f
from tests.test_api import failed_upgrade, healthy_and_pending, obs
from webhooks import auth

pytestmark = pytest.mark.neo4j

PAYLOADS = Path(__file__).parent / "webhook_payloads"
TEMPLATE = Path(__file__).resolve().parents[1] / "webhooks" / "argocd-body.tmpl"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"
GITHUB_SECRET = "It's a Secret to Everybody"
ARGO_TOKEN = "argo-token-0123456789"
JIRA_SECRET = "jira-secret-0123456789"
MAX_BYTES = 64 * 1024
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def argocd_body(application: dict[str, Any] | None = None) -> bytes:
    """The notification Argo CD sends for an Application, rendered from webhooks/argocd-body.tmpl.

    Argo CD's Go template engine cannot run here, so this renders the template's one construct,
    ``{{toJson .app.<path>}}``, as sprig's toJson does: the JSON of the field, ``null`` when absent.
    """
    app = application or json.loads(payload("argocd_application.json"))

    def field(match: re.Match[str]) -> str:
        value: Any = {"app": app}
        for part in match.group(1).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return json.dumps(value)

    text = TEMPLATE.read_text()
    assert set(re.findall(r"\{\{(.*?)\}\}", text)) == set(re.findall(r"\{\{(toJson \.app\.[\w.]+)\}\}", text))
    return re.sub(r"\{\{toJson \.(app(?:\.\w+)+)\}\}", field, text).encode()


def count(driver, query: str, **params: Any) -> int:
    return driver.execute_query(query, params).records[0][0]


def all_nodes(driver) -> int:
    return count(driver, "MATCH (n) RETURN count(n)")


@pytest.fixture
def cfg(neo4j_config):
    return neo4j_config.replace(github_webhook_secret=GITHUB_SECRET, argocd_webhook_token=ARGO_TOKEN,
                                jira_webhook_secret=JIRA_SECRET, webhook_max_bytes=MAX_BYTES)


@pytest.fixture
def driver(neo4j_driver):
    apply_schema(neo4j_driver)
    return neo4j_driver


@pytest.fixture
def client(cfg, driver):
    return create_app(cfg, driver=driver).test_client()


def github(client, event: str, body: bytes, delivery: str, secret: str = GITHUB_SECRET, **headers: str):
    signed = {"X-Hub-Signature-256": auth.hmac_sha256(secret, body)} if secret else {}
    return client.post("/webhooks/github", data=body, content_type="application/json",
                       headers={"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, **signed, **headers})


def argocd(client, body: bytes, token: str | None = ARGO_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/webhooks/argocd", data=body, content_type="application/json", headers=headers)


def jira(client, body: bytes, query: str = f"?secret={JIRA_SECRET}", **headers: str):
    return client.post(f"/webhooks/jira{query}", data=body, content_type="application/json", headers=headers)


def test_signature_matches_githubs_documented_example():
    # docs.github.com, "Validating webhook deliveries": this secret and body give this signature.
    assert auth.hmac_sha256(GITHUB_SECRET, b"Hello, World!") == \
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_documented_argocd_template_is_the_one_tested():
    # docs/webhooks.md shows the template indented inside the ConfigMap; the words must be the same
    assert " ".join(TEMPLATE.read_text().split()) in " ".join(DOCS.read_text().split())


def test_push_and_merged_pull_request_give_commit_and_pull_request(client, driver):
    assert github(client, "push", payload("github_push.json"), "delivery-push-1").status_code == 202
    assert github(client, "pull_request", payload("github_pull_request.json"), "delivery-pr-1").status_code == 202
    commit = driver.execute_query("MATCH (c:Commit {sha: $sha}) RETURN c", sha=SHA).records[0]["c"]
    assert commit["author"] == "Codertocat" and commit["repo"] == "Codertocat/Hello-World"
    assert commit["message"].startswith("Merge pull request #42") and commit["url"].endswith(SHA)
    assert commit["at"].iso_format().startswith("2026-11-20T09:55:12")
    pr = driver.execute_query("""
        MATCH (pr:PullRequest {key: 'Codertocat/Hello-World#42'})-[:MERGED_AS]->(c:Commit {sha: $sha})
        RETURN pr""", sha=SHA).records[0]["pr"]
    assert (pr["number"], pr["title"], pr["state"], pr["merged_sha"]) == (42, "Add migration job", "closed", SHA)
    assert count(driver, "MATCH (d:Delivery {provider: 'github'}) RETURN count(d)") == 2


def test_github_issue_and_deployment_status(client, driver):
    Neo4jWriter(driver).write(failed_upgrade())
    assert github(client, "issues", payload("github_issues.json"), "delivery-issue-1").status_code == 202
    assert count(driver, """MATCH (i:GitHubIssue {key: 'Codertocat/Hello-World#43', open: true})
                            -[:CONCERNS]->(:Release {key: 'prod/api'}) RETURN count(i)""") == 1
    # deployment_status as documented: the status and the deployment it belongs to
    status = {"action": "created",
              "deployment_status": {"id": 2, "state": "failure", "description": "helm upgrade failed",
                                    "environment": "production", "created_at": "2026-11-20T10:05:30Z",
                                    "updated_at": "2026-11-20T10:05:30Z"},
              "deployment": {"id": 145988746, "sha": SHA, "ref": "main", "environment": "production",
                             "description": "deploy api", "creator": {"login": "Codertocat"},
                             "created_at": "2026-11-20T09:59:00Z",
                             "url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/145988746"},
              "repository": {"full_name": "Codertocat/Hello-World"}, "sender": {"login": "Codertocat"}}
    assert github(client, "deployment_status", json.dumps(status).encode(), "delivery-ds-1").status_code == 202
    row = driver.execute_query("""MATCH (d:GitHubDeployment)-[:DEPLOYS]->(c:Commit {sha: $sha})
                                  RETURN d.state AS state, d.environment AS env""", sha=SHA).records[0]
    assert (row["state"], row["env"]) == ("failure", "production")


def test_argocd_sync_links_app_release_commit_and_the_revision_it_deployed(client, driver):
    Neo4jWriter(driver).write(failed_upgrade())
    response = argocd(client, argocd_body())
    assert response.status_code == 202, response.get_json()
    row = driver.execute_query("""
        MATCH (app:ArgoApp {key: 'argocd/api'})-[:RENDERS]->(rel:Release {key: 'prod/api'})
        MATCH (app)-[s:SYNCED]->(c:Commit {sha: $sha})
        RETURN app.health AS health, app.sync_status AS sync, s.phase AS phase, s.message AS message,
               s.at AS at, [(rev:Revision)-[:FROM_COMMIT]->(c) | rev.version] AS versions""", sha=SHA).records[0]
    assert (row["health"], row["sync"], row["phase"]) == ("Degraded", "OutOfSync", "Failed")
    assert row["message"].startswith("one or more synchronization tasks completed unsuccessfully")
    assert row["at"].iso_format().startswith("2026-11-20T10:05:10")
    assert row["versions"] == [7]  # revision 6 was deployed the day before, outside the sync's window


def test_a_revision_written_after_its_sync_still_links_to_the_commit(client, driver):
    assert argocd(client, argocd_body()).status_code == 202
    Neo4jWriter(driver).write(failed_upgrade())
    versions = driver.execute_query("MATCH (rev:Revision)-[:FROM_COMMIT]->(:Commit {sha: $sha}) "
                                    "RETURN collect(rev.version) AS v", sha=SHA).records[0]["v"]
    assert versions == [7]


def test_a_running_notification_never_overwrites_the_final_phase(client, driver):
    application = json.loads(payload("argocd_application.json"))
    running = copy.deepcopy(application)
    running["status"]["operationState"].update(phase="Running", message="waiting for completion of hook")
    del running["status"]["operationState"]["finishedAt"]
    assert argocd(client, argocd_body(application)).status_code == 202
    assert argocd(client, argocd_body(running)).status_code == 202  # arrives late, out of order
    phases = driver.execute_query("MATCH (:ArgoApp)-[s:SYNCED]->(:Commit) RETURN collect(s.phase) AS p").records
    assert phases[0]["p"] == ["Failed"]


def test_jira_incident_links_the_release_and_pod_its_text_names(client, driver):
    Neo4jWriter(driver).write(failed_upgrade() + healthy_and_pending())
    response = jira(client, payload("jira_issue_created.json"))
    assert response.status_code == 202, response.get_json()
    row = driver.execute_query("""
        MATCH (j:JiraIssue {key: 'PROD-123'})
        RETURN j.summary AS summary, j.status AS status, j.priority AS priority, j.url AS url, j.open AS open,
               j.labels AS labels, [(j)-[:CONCERNS]->(r:Release) | r.key] AS releases,
               [(j)-[:CONCERNS]->(o:Object) | o.kind + '/' + o.name] AS objects""").records[0]
    assert (row["status"], row["priority"], row["open"]) == ("Open", "High", True)
    assert row["url"] == "https://example.atlassian.net/browse/PROD-123"
    assert row["labels"] == ["incident", "sev2"]
    assert row["releases"] == ["prod/api"]  # not prod/web, which the incident does not name
    assert "Pod/api-migrate-abcde" in row["objects"]
    assert "staging/api" not in row["releases"]


def test_diagnosis_cites_commit_pull_request_sync_and_open_incident(client, driver, cfg):
    Neo4jWriter(driver).write(failed_upgrade())
    assert github(client, "push", payload("github_push.json"), "d-push").status_code == 202
    assert github(client, "pull_request", payload("github_pull_request.json"), "d-pr").status_code == 202
    assert argocd(client, argocd_body()).status_code == 202
    assert jira(client, payload("jira_issue_created.json")).status_code == 202
    diagnoses = client.get("/api/v1/releases/prod/api/diagnosis").get_json()
    assert diagnoses
    context = diagnoses[0]["release"]["context"]
    assert context["commit"]["sha"] == SHA and context["commit"]["author"] == "Codertocat"
    assert (context["pull_request"]["number"], context["pull_request"]["title"]) == (42, "Add migration job")
    assert (context["argo_sync"]["app"], context["argo_sync"]["phase"]) == ("argocd/api", "Failed")
    assert [i["key"] for i in context["incidents"]] == ["PROD-123"]
    text = render(Detector(driver, cfg).run("prod/api").diagnoses[0])
    assert 'commit 6dcb09b5b578 "Merge pull request #42' in text and 'PR #42 "Add migration job"' in text
    assert 'open incident PROD-123 "api upgrade failed in prod: migrations did not run" (Open, High)' in text
    resolved = json.loads(payload("jira_issue_created.json"))
    resolved["webhookEvent"] = "jira:issue_updated"
    resolved["issue"]["fields"].update(status={"name": "Done", "statusCategory": {"key": "done"}},
                                       updated="2026-11-20T11:00:00.000+0000")
    assert jira(client, json.dumps(resolved).encode()).status_code == 202
    context = client.get("/api/v1/releases/prod/api/diagnosis").get_json()[0]["release"]["context"]
    assert "incidents" not in context  # a resolved incident is no longer cited


def test_argocd_app_from_a_helm_repository_renders_its_release_without_a_commit(client, driver):
    application = json.loads(payload("argocd_application.json"))
    chart_source = {"repoURL": "https://charts.example.com", "chart": "api", "targetRevision": "1.2.3",
                    "helm": {"releaseName": "api-prod"}}
    application["spec"]["source"] = chart_source
    application["status"]["operationState"]["syncResult"].update(revision="1.2.3", source=chart_source)
    assert argocd(client, argocd_body(application)).status_code == 202
    row = driver.execute_query("""MATCH (app:ArgoApp {key: 'argocd/api'})-[:RENDERS]->(rel:Release)
                                  RETURN rel.key AS release, app.chart AS chart,
                                         COUNT { (app)-[:SYNCED]->() } AS syncs""").records[0]
    assert (row["release"], row["chart"], row["syncs"]) == ("prod/api-prod", "api", 0)  # 1.2.3 is no commit


def test_jira_names_come_from_description_documents_labels_and_custom_fields(client, driver):
    Neo4jWriter(driver).write(failed_upgrade() + healthy_and_pending())
    issue = json.loads(payload("jira_issue_created.json"))
    fields = issue["issue"]["fields"]
    fields.update(summary="checkout is down", labels=["web"], customfield_10050=[{"value": "staging/api"}],
                  description={"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                      {"type": "text", "text": "pod "}, {"type": "text", "text": "api-migrate-abcde"}]}]})
    assert jira(client, json.dumps(issue).encode()).status_code == 202
    row = driver.execute_query("""MATCH (j:JiraIssue {key: 'PROD-123'})
                                  RETURN [(j)-[:CONCERNS]->(r:Release) | r.key] AS releases,
                                         [(j)-[:CONCERNS]->(o:Object) | o.name] AS objects""").records[0]
    assert sorted(row["releases"]) == ["prod/web", "staging/api"]  # the label and the custom field
    assert row["objects"] == ["api-migrate-abcde"]  # from the Atlassian Document description


def test_jira_accepts_its_signature_the_query_secret_and_a_bearer_header(client, driver):
    body = payload("jira_issue_created.json")
    assert jira(client, body, "", **{"X-Hub-Signature": auth.hmac_sha256(JIRA_SECRET, body)}).status_code == 202
    assert jira(client, body, f"?secret={JIRA_SECRET}").status_code == 202
    assert jira(client, body, "", Authorization=f"Bearer {JIRA_SECRET}").status_code == 202
    assert count(driver, "MATCH (d:Delivery {provider: 'jira'}) RETURN count(d)") == 1  # one body, one delivery


@pytest.mark.parametrize("send", [
    lambda c: github(c, "push", payload("github_push.json"), "d1", secret="not the secret"),
    lambda c: github(c, "push", payload("github_push.json"), "d2", secret=""),
    lambda c: argocd(c, argocd_body(), token="wrong-token"),
    lambda c: argocd(c, argocd_body(), token=None),
    lambda c: jira(c, payload("jira_issue_created.json"), "?secret=guess"),
    lambda c: jira(c, payload("jira_issue_created.json"), "", **{"X-Hub-Signature": "sha256=" + "0" * 64}),
    lambda c: jira(c, payload("jira_issue_created.json"), ""),
], ids=["github-wrong", "github-missing", "argocd-wrong", "argocd-missing", "jira-wrong-secret",
        "jira-wrong-signature", "jira-missing"])
def test_wrong_or_missing_signature_or_token_is_401_and_stores_nothing(client, driver, send):
    response = send(client)
    assert response.status_code == 401
    assert "refused" in response.get_json()["error"]
    assert all_nodes(driver) == 0


def test_a_receiver_without_its_secret_refuses_everything(neo4j_config, driver):
    client = create_app(neo4j_config.replace(github_webhook_secret=None), driver=driver).test_client()
    response = github(client, "push", payload("github_push.json"), "d1", secret="anything")
    assert response.status_code == 401 and "KGRCA_GITHUB_WEBHOOK_SECRET" in response.get_json()["error"]
    assert all_nodes(driver) == 0


@pytest.mark.parametrize("send, says", [
    (lambda c: github(c, "push", b'{"ref": "refs/heads/main", ', "d1"), "not valid JSON"),
    (lambda c: github(c, "star", payload("github_push.json"), "d2"), "GitHub event 'star' is not handled"),
    (lambda c: github(c, "push", b'["not", "an", "object"]', "d3"), "must be a JSON object"),
    (lambda c: argocd(c, b'{"health": {"status": "Healthy"}}'), "no 'app'"),
    (lambda c: argocd(c, b""), "empty body"),
    (lambda c: jira(c, json.dumps({"webhookEvent": "comment_created", "issue": {"key": "PROD-1"}}).encode()),
     "Jira event 'comment_created' is not handled"),
    (lambda c: jira(c, b"<xml/>"), "not valid JSON"),
], ids=["github-malformed", "github-unknown-event", "github-not-object", "argocd-no-app", "argocd-empty",
        "jira-unknown-event", "jira-malformed"])
def test_malformed_json_or_unknown_event_is_400_with_a_clear_message(client, driver, send, says):
    response = send(client)
    assert response.status_code == 400
    assert says in response.get_json()["error"]
    assert all_nodes(driver) == 0


def test_github_ping_is_answered_and_stores_nothing(client, driver):
    response = github(client, "ping", json.dumps({"zen": "Encourage flow.", "hook_id": 1}).encode(), "d-ping")
    assert response.status_code == 200 and response.get_json()["event"] == "ping"
    assert all_nodes(driver) == 0


def test_a_body_over_the_limit_is_413_and_stores_nothing(client, driver):
    push = json.loads(payload("github_push.json"))
    push["commits"][0]["message"] = "x" * MAX_BYTES
    big = json.dumps(push).encode()
    response = github(client, "push", big, "d-big")
    assert response.status_code == 413 and str(MAX_BYTES) in response.get_json()["error"]
    assert argocd(client, b" " * (MAX_BYTES + 1)).status_code == 413
    assert all_nodes(driver) == 0


def test_a_redelivery_is_stored_once(client, driver):
    body = payload("github_push.json")
    assert github(client, "push", body, "same-delivery").status_code == 202
    before = (all_nodes(driver), count(driver, "MATCH ()-[r]->() RETURN count(r)"))
    assert github(client, "push", body, "same-delivery").status_code == 202
    assert argocd(client, argocd_body()).status_code == 202
    assert argocd(client, argocd_body()).status_code == 202  # Argo CD resends the same body on a 5xx
    assert count(driver, "MATCH (d:Delivery) RETURN count(d)") == 2
    assert count(driver, "MATCH (:ArgoApp)-[s:SYNCED]->() RETURN count(s)") == 1
    assert github(client, "push", body, "same-delivery").status_code == 202
    assert count(driver, "MATCH (d:Delivery {provider: 'github'}) RETURN count(d)") == 1
    assert before[0] <= all_nodes(driver)


def test_neo4j_down_is_503_with_retry_after(cfg):
    down = cfg.replace(neo4j_uri=f"bolt://127.0.0.1:{free_port(19000, 19999)}")
    app = create_app(down)
    response = github(app.test_client(), "push", payload("github_push.json"), "d-down")
    close_app(app)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "Neo4j is unavailable" in response.get_json()["error"]


def test_the_real_server_takes_deliveries(cfg, driver, tmp_path):
    Neo4jWriter(driver).write([obs(f.release_secret(f.release_json("api", "prod", 1, "deployed")))])
    body = payload("github_push.json")

    def post(base: str, path: str, data: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(base + path, data=data, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with serving(cfg, workers=2, log_path=tmp_path / "serve.log") as base:
        signed = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "real-1",
                  "X-Hub-Signature-256": auth.hmac_sha256(GITHUB_SECRET, body)}
        assert post(base, "/webhooks/github", body, signed) == 202
        assert post(base, "/webhooks/github", body, {**signed, "X-Hub-Signature-256": "sha256=00"}) == 401
        assert post(base, f"/webhooks/jira?secret={JIRA_SECRET}", payload("jira_issue_created.json"), {}) == 202
    log = (tmp_path / "serve.log").read_text()
    assert '"POST /webhooks/jira" 202' in log and JIRA_SECRET not in log  # the access log drops query strings
    assert count(driver, "MATCH (c:Commit {sha: $sha}) RETURN count(c)", sha=SHA) == 1
    assert count(driver, "MATCH (:JiraIssue {key: 'PROD-123'})-[:CONCERNS]->(r:Release {key: 'prod/api'}) "
                         "RETURN count(r)") == 1


@pytest.mark.kafka
def test_kafka_sink_publishes_and_the_builder_writes_the_same_graph(cfg, driver, kafka_config, kafka_topic_prefix):
    from kgrca.bus.consumer import Builder

    bus = cfg.replace(kafka_bootstrap=kafka_config.kafka_bootstrap, kafka_topic_prefix=kafka_topic_prefix,
                      kafka_group=kafka_topic_prefix)
    app = create_app(bus, driver=driver, sink="kafka")
    try:
        client = app.test_client()
        assert github(client, "push", payload("github_push.json"), "via-kafka").status_code == 202
        assert github(client, "push", payload("github_push.json"), "via-kafka").status_code == 202  # redelivery
        assert jira(client, payload("jira_issue_created.json")).status_code == 202
    finally:
        close_app(app)
    assert all_nodes(driver) == 0  # the receiver only published
    Builder(bus, Neo4jWriter(driver)).run(once=True)
    assert count(driver, "MATCH (c:Commit {sha: $sha}) RETURN count(c)", sha=SHA) == 1
    assert count(driver, "MATCH (d:Delivery) RETURN count(d)") == 2
    assert count(driver, "MATCH (j:JiraIssue {key: 'PROD-123'}) RETURN count(j)") == 1

"""Signed webhook bodies that are malformed, too deep or too big: a 400 or 413 naming why, never a 500,
and nothing stored. On a real Neo4j, through the Flask app as tests/test_webhooks.py uses it and through
the real gunicorn server for chunked bodies (the test client cannot send one)."""

from __future__ import annotations

import copy
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from faces.api.app import create_app
from faces.api.process import serving
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from tests.test_api import failed_upgrade
from tests.test_webhooks import (
    ARGO_TOKEN,
    GITHUB_SECRET,
    JIRA_SECRET,
    all_nodes,
    argocd,
    argocd_body,
    count,
    github,
    jira,
    payload,
)
from webhooks import auth
from webhooks.body import MAX_DEPTH, depth

pytestmark = pytest.mark.neo4j

MAX_BYTES = 1024 * 1024  # the default: a body 100,000 deep is 200 KB


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


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


def push(**changes: Any) -> dict[str, Any]:
    body = json.loads(payload("github_push.json"))
    body.update(changes)
    return body


def adf(levels: int) -> dict[str, Any]:
    """A Jira description in Atlassian Document Format, ``levels`` blocks deep (a quote in a quote ...)."""
    node: dict[str, Any] = {"type": "text", "text": "prod/api is failed"}
    for _ in range(levels):
        node = {"type": "blockquote", "content": [node]}
    return {"type": "doc", "version": 1, "content": [node]}


def jira_with_description(description: Any) -> bytes:
    body = json.loads(payload("jira_issue_created.json"))
    body["issue"]["fields"]["description"] = description
    return json.dumps(body).encode()


def deep_text(levels: int) -> bytes:
    # json.dumps itself recurses: build the text of a deeply nested body by hand
    return (b'{"ref": "refs/heads/main", "repository": {"full_name": "o/r"}, "x": ' + b"[" * levels + b"1"
            + b"]" * levels + b"}")


def with_author(username: Any) -> bytes:
    body = push()
    body["commits"][0]["author"]["username"] = username
    return json.dumps(body).encode()


def pull_request_numbered(number: Any) -> bytes:
    body = json.loads(payload("github_pull_request.json"))
    body["pull_request"]["number"] = number
    return json.dumps(body).encode()


def argocd_with(**fields: Any) -> bytes:
    body = json.loads(argocd_body())
    body.update(fields)
    return json.dumps(body).encode()


# Each was answered 500 (a traceback) before: issue #19, "500s for signed senders", and its neighbours.
@pytest.mark.parametrize("send, says", [
    (lambda c: github(c, "push", deep_text(100_000), "deep"), "the JSON nests 100001 levels deep"),
    (lambda c: github(c, "push", json.dumps(push(commits=7)).encode(), "commits-number"),
     "field 'commits': expected a list, got a number"),
    (lambda c: github(c, "push", with_author({"login": "x"}), "author-object"),
     "field 'commits[0].author.username': expected a string, got an object"),
    (lambda c: github(c, "push", json.dumps(push(ref=["refs/heads/main"])).encode(), "ref-list"),
     "field 'ref': expected a string, got a list"),
    (lambda c: github(c, "pull_request", pull_request_numbered(2 ** 70), "pr-huge"),
     "field 'pull_request.number': expected a whole number of at most 19 digits"),
    (lambda c: github(c, "pull_request", pull_request_numbered(True), "pr-bool"),
     "field 'pull_request.number': expected a whole number, got true/false"),
    (lambda c: github(c, "push", b'{"ref": ' + b"9" * 5000 + b"}", "digits"), "not valid JSON"),
    (lambda c: github(c, "push", b'{"ref": "\\ud800", "repository": {"full_name": "o/r"}}', "surrogate"),
     "lone UTF-16 surrogate"),
    (lambda c: github(c, "push", b'{"ref": "\xff\xfe"}', "latin1"), "body is not UTF-8"),
    (lambda c: jira(c, jira_with_description(adf(400))), "the JSON nests 806 levels deep"),
    (lambda c: jira(c, jira_with_description(nested(70))), f"no Jira payload nests more than {MAX_DEPTH}"),
    (lambda c: jira(c, json.dumps({"webhookEvent": "jira:issue_created", "issue": {
        "key": "PROD-1", "fields": {"labels": "incident"}}}).encode()), "field 'issue.fields.labels': expected a list"),
    (lambda c: argocd(c, argocd_with(destination="prod")), "field 'destination': expected an object, got a string"),
    (lambda c: argocd(c, argocd_with(operation_state={"syncResult": {"revisions": [1]}})),
     "field 'operation_state.syncResult.revisions[0]': expected a string, got a number"),
], ids=["github-100000-deep", "push-commits-number", "push-author-username-object", "push-ref-list",
        "pr-number-70-bits", "pr-number-bool", "number-of-5000-digits", "lone-surrogate", "not-utf8",
        "jira-adf-400-levels", "jira-description-70-deep", "jira-labels-string", "argocd-destination-string",
        "argocd-revision-number"])
def test_a_signed_malformed_or_too_deep_body_is_400_naming_why(client, driver, send, says):
    response = send(client)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert says in response.get_json()["error"]
    assert all_nodes(driver) == 0


def test_a_jira_description_as_deep_as_a_real_document_is_read(client, driver):
    """The depth bound leaves room for real documents: an ADF description 20 blocks deep is stored, and the
    release its innermost text names is linked."""
    Neo4jWriter(driver).write(failed_upgrade())
    assert jira(client, jira_with_description(adf(20))).status_code == 202
    assert count(driver, "MATCH (:JiraIssue {key: 'PROD-123'})-[:CONCERNS]->(:Release {key: 'prod/api'}) "
                         "RETURN count(*)") == 1


def test_depth_counts_brackets_outside_strings_only():
    assert depth(b'{"a": "[[[[{{{{", "b": [[1]]}') == 3
    assert depth(b'["\\"[[[", [[]]]') == 3
    assert depth(b"1") == 0


# --- every field of every real delivery, given the wrong type --------------------------------------------


def fields(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Paths to every value inside ``value`` (objects' fields and lists' items), outermost first."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path + (key,)
            yield from fields(inner, path + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield path + (index,)
            yield from fields(inner, path + (index,))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    copied = copy.deepcopy(value)
    holder = copied
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return copied


# One of each JSON type, a number Neo4j cannot store, and a structure 70 deep: whatever a field held,
# at least three of these are the wrong type for it.
WRONG = [7, "text", True, {"x": 1}, ["x"], 2 ** 64, nested(70)]

DELIVERIES = {
    "github-push": ("push", lambda: payload("github_push.json")),
    "github-pull_request": ("pull_request", lambda: payload("github_pull_request.json")),
    "github-issues": ("issues", lambda: payload("github_issues.json")),
    "github-workflow_job": ("workflow_job", lambda: payload("github_workflow_job.json")),
    "github-workflow_run": ("workflow_run", lambda: payload("github_workflow_run.json")),
    "argocd": ("argocd", argocd_body),
    "jira": ("jira", lambda: payload("jira_issue_created.json")),
}


@pytest.mark.parametrize("name", list(DELIVERIES))
def test_every_field_of_a_real_delivery_given_any_type_is_202_or_400_never_500(client, driver, name):
    event, body = DELIVERIES[name]
    original = json.loads(body())
    answers: dict[int, int] = {}
    crashed = []
    for n, path in enumerate(fields(original)):
        for wrong in WRONG:
            data = json.dumps(replaced(original, path, wrong)).encode()
            if event == "argocd":
                response = argocd(client, data)
            elif event == "jira":
                response = jira(client, data, **{"X-Atlassian-Webhook-Identifier": f"mutant-{n}"})
            else:
                response = github(client, event, data, f"mutant-{n}")
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
            if response.status_code not in (200, 202, 400):
                crashed.append((path, wrong if not isinstance(wrong, list) or len(wrong) == 1 else "deep",
                                response.status_code, response.get_data(as_text=True)[:200]))
            elif response.status_code == 400:
                assert response.get_json()["error"], path
    assert not crashed, crashed[:10]
    assert answers.get(400) and (answers.get(202) or answers.get(200)), answers


# --- size, through the real server ------------------------------------------------------------------


def post_chunked(base: str, path: str, body: bytes, headers: dict[str, str], chunk: int = 16384) -> tuple[int, str]:
    """POST with ``Transfer-Encoding: chunked`` (no Content-Length), as a streaming sender does."""
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request("POST", path, body=(body[i:i + chunk] for i in range(0, len(body), chunk)),
                           headers={"Content-Type": "application/json", **headers}, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def post(base: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def signed(body: bytes, delivery: str) -> dict[str, str]:
    return {"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": auth.hmac_sha256(GITHUB_SECRET, body)}


def test_a_body_over_the_limit_is_413_chunked_or_not_and_one_within_is_stored(cfg, driver, tmp_path):
    big = push()
    big["commits"][0]["message"] = "x" * (2 * 1024 * 1024)  # 2 MiB, over the 1 MiB default as in issue #19
    big_body = json.dumps(big).encode()
    small_body = payload("github_push.json")
    real = cfg.replace(webhook_max_bytes=1024 * 1024)
    with serving(real, workers=1, log_path=tmp_path / "serve.log") as base:
        status, text = post_chunked(base, "/webhooks/github", big_body, signed(big_body, "chunked-big"))
        assert status == 413, text
        assert "larger than 1048576 bytes" in json.loads(text)["error"]
        status, text = post(base, "/webhooks/github", big_body, signed(big_body, "length-big"))
        assert status == 413, text
        assert all_nodes(driver) == 0
        started = time.monotonic()
        status, text = post_chunked(base, "/webhooks/github", small_body, signed(small_body, "chunked-small"), 100)
        assert status == 202, text
        assert time.monotonic() - started < 10
        # a chunked body of exactly the limit is not over it
        exact = small_body + b" " * (1024 * 1024 - len(small_body))
        status, text = post_chunked(base, "/webhooks/github", exact, signed(exact, "chunked-exact"))
        assert status == 202, text
    assert count(driver, "MATCH (d:Delivery {provider: 'github'}) RETURN count(d)") == 2

"""Provider deliveries turned into the normalized payloads ``kg_builder/webhook_context.py`` maps.

Each function takes the parsed JSON body and returns the payload of one
``Observation(kind="webhook", action=<provider>)``, or ``None`` for a delivery that carries nothing to
store (GitHub's ``ping``). Input that can never be accepted raises ``PermanentError`` naming the field.
Only what a diagnosis cites is kept: no file lists, no user e-mails, no full bodies.
"""

from __future__ import annotations

from typing import Any

from kgrca.contracts import PermanentError

GITHUB_EVENTS = ("push", "pull_request", "issues", "deployment", "deployment_status", "workflow_job", "workflow_run",
                 "ping")
JIRA_EVENTS = ("jira:issue_created", "jira:issue_updated")
MESSAGE_LIMIT = 2000  # commit messages and incident text are cited, not archived
TEXT_LIMIT = 20000


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PermanentError(f"{where} must be a JSON object")
    return value


def _opt(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _cut(text: Any, limit: int = MESSAGE_LIMIT) -> str | None:
    return None if text is None else str(text)[:limit]


# --- GitHub ----------------------------------------------------------------------------------------


def github(event: str, delivery: str, body: Any, received_at: str) -> dict[str, Any] | None:
    """A GitHub webhook delivery (``X-GitHub-Event``), per docs.github.com "Webhook events and payloads"."""
    if event not in GITHUB_EVENTS:
        raise PermanentError(f"GitHub event '{event}' is not handled; send one of {', '.join(GITHUB_EVENTS)}")
    data = _dict(body, "GitHub payload")
    if event == "ping":
        return None
    repo = _dict(data.get("repository"), "GitHub payload field 'repository'").get("full_name")
    if not isinstance(repo, str) or not repo:
        raise PermanentError("GitHub payload field 'repository.full_name' is missing")
    payload: dict[str, Any] = {"delivery_id": delivery, "event": event, "received_at": received_at, "repo": repo,
                               "action": data.get("action"), "commits": [], "pull_requests": [], "issues": [],
                               "deployments": [], "ci_jobs": [], "ci_runs": []}
    if event == "push":
        payload["ref"] = data.get("ref")
        commits = [c for c in data.get("commits") or [] if isinstance(c, dict)]
        head = data.get("head_commit")
        if isinstance(head, dict) and all(c.get("id") != head.get("id") for c in commits):
            commits.append(head)
        payload["commits"] = [_github_commit(c, repo, data.get("ref")) for c in commits]
    elif event == "pull_request":
        pr = _dict(data.get("pull_request"), "GitHub payload field 'pull_request'")
        payload["pull_requests"] = [_github_pull_request(pr, repo, data)]
    elif event == "issues":
        issue = _dict(data.get("issue"), "GitHub payload field 'issue'")
        payload["issues"] = [_github_issue(issue, repo)]
    elif event == "workflow_job":
        payload["ci_jobs"] = [_github_workflow_job(_dict(data.get("workflow_job"),
                                                         "GitHub payload field 'workflow_job'"), repo)]
    elif event == "workflow_run":
        payload["ci_runs"] = [_github_workflow_run(_dict(data.get("workflow_run"),
                                                         "GitHub payload field 'workflow_run'"),
                                                   _opt(data.get("workflow")), repo)]
    else:
        deployment = _dict(data.get("deployment"), "GitHub payload field 'deployment'")
        status = _dict(data.get("deployment_status"), "GitHub payload field 'deployment_status'") \
            if event == "deployment_status" else None
        payload["deployments"] = [_github_deployment(deployment, status, repo)]
    return payload


def _github_commit(commit: dict[str, Any], repo: str, ref: Any) -> dict[str, Any]:
    author = _opt(commit.get("author"))
    if not commit.get("id"):
        raise PermanentError("GitHub push payload has a commit without 'id'")
    return {"sha": commit["id"], "message": _cut(commit.get("message")),
            "author": author.get("username") or author.get("name"), "url": commit.get("url"),
            "at": commit.get("timestamp"), "repo": repo, "ref": ref}


def _number(item: dict[str, Any], what: str) -> int:
    number = item.get("number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise PermanentError(f"GitHub payload field '{what}.number' must be a number")
    return number


def _github_pull_request(pr: dict[str, Any], repo: str, data: dict[str, Any]) -> dict[str, Any]:
    number = _number(pr, "pull_request")
    return {"key": f"{repo}#{number}", "number": number, "title": _cut(pr.get("title")), "state": pr.get("state"),
            "url": pr.get("html_url"), "merged": bool(pr.get("merged")),
            "merged_sha": pr.get("merge_commit_sha") if pr.get("merged") else None,
            "head_sha": _opt(pr.get("head")).get("sha"), "base_ref": _opt(pr.get("base")).get("ref"),
            "author": _opt(pr.get("user")).get("login"), "repo": repo, "merged_at": pr.get("merged_at"),
            "updated_at": pr.get("updated_at"), "action": data.get("action")}


def _github_issue(issue: dict[str, Any], repo: str) -> dict[str, Any]:
    number = _number(issue, "issue")
    labels = [label.get("name") for label in issue.get("labels") or [] if isinstance(label, dict)]
    labels = [str(name) for name in labels if name]
    text = "\n".join(str(part) for part in (issue.get("title"), issue.get("body"), " ".join(labels)) if part)
    return {"key": f"{repo}#{number}", "number": number, "title": _cut(issue.get("title")),
            "state": issue.get("state"), "url": issue.get("html_url"), "labels": labels,
            "author": _opt(issue.get("user")).get("login"), "repo": repo, "created_at": issue.get("created_at"),
            "updated_at": issue.get("updated_at"), "text": text[:TEXT_LIMIT]}


def _github_deployment(deployment: dict[str, Any], status: dict[str, Any] | None, repo: str) -> dict[str, Any]:
    if deployment.get("id") is None:
        raise PermanentError("GitHub payload field 'deployment.id' is missing")
    return {"key": f"{repo}/deployments/{deployment['id']}", "id": deployment["id"], "repo": repo,
            "environment": deployment.get("environment"), "ref": deployment.get("ref"), "sha": deployment.get("sha"),
            "url": deployment.get("url"), "description": _cut(deployment.get("description")),
            "creator": _opt(deployment.get("creator")).get("login"), "created_at": deployment.get("created_at"),
            "task": deployment.get("task"), "state": status.get("state") if status else None,
            "state_at": (status.get("updated_at") or status.get("created_at")) if status else None,
            "state_description": _cut(status.get("description")) if status else None}


def _id(item: dict[str, Any], what: str) -> int:
    value = item.get("id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise PermanentError(f"GitHub payload field '{what}.id' must be a number")
    return value


def _github_workflow_job(job: dict[str, Any], repo: str) -> dict[str, Any]:
    """A job of a GitHub Actions run (``workflow_job``: queued, waiting, in_progress, completed), with its steps."""
    job_id = _id(job, "workflow_job")
    steps = [s for s in job.get("steps") or [] if isinstance(s, dict)]
    return {"key": f"{repo}#{job_id}", "id": job_id, "run_id": job.get("run_id"), "name": _cut(job.get("name")),
            "workflow_name": _cut(job.get("workflow_name")), "status": job.get("status"),
            "conclusion": job.get("conclusion"), "head_sha": job.get("head_sha"),
            "head_branch": job.get("head_branch"), "url": job.get("html_url"), "started_at": job.get("started_at"),
            "completed_at": job.get("completed_at"), "run_attempt": job.get("run_attempt"),
            "steps": [f"{s.get('name')}: {s.get('conclusion') or s.get('status')}" for s in steps],
            "runner_name": job.get("runner_name"), "labels": [str(x) for x in job.get("labels") or []],
            "repo": repo}


def _github_workflow_run(run: dict[str, Any], workflow: dict[str, Any], repo: str) -> dict[str, Any]:
    """A GitHub Actions workflow run (``workflow_run``: requested, in_progress, completed). A run carries no
    completion time: ``updated_at`` of a completed run is when it completed."""
    run_id = _id(run, "workflow_run")
    completed = run.get("status") == "completed"
    return {"key": f"{repo}#{run_id}", "id": run_id, "name": _cut(run.get("name")),
            "title": _cut(run.get("display_title")), "workflow_name": _cut(workflow.get("name") or run.get("name")),
            "workflow_path": workflow.get("path") or run.get("path"),
            "status": run.get("status"), "conclusion": run.get("conclusion"), "head_sha": run.get("head_sha"),
            "head_branch": run.get("head_branch"), "url": run.get("html_url"), "event": run.get("event"),
            "started_at": run.get("run_started_at") or run.get("created_at"),
            "completed_at": run.get("updated_at") if completed else None, "run_attempt": run.get("run_attempt"),
            "run_number": run.get("run_number"), "repo": repo}


# --- Argo CD ---------------------------------------------------------------------------------------


def argocd(delivery: str, body: Any, received_at: str) -> dict[str, Any]:
    """An Argo CD Notifications webhook rendered from the template in docs/webhooks.md."""
    data = _dict(body, "Argo CD notification")
    name = data.get("app")
    if not isinstance(name, str) or not name:
        raise PermanentError("Argo CD notification has no 'app' (the Application's name); "
                             "use the template in docs/webhooks.md")
    app_namespace = data.get("app_namespace") or "argocd"
    destination = _opt(data.get("destination"))
    operation = _opt(data.get("operation_state"))
    result = _opt(operation.get("syncResult"))
    sources = [s for s in data.get("sources") or [] if isinstance(s, dict)]
    source = _opt(result.get("source")) or _opt(data.get("source")) or (sources[0] if sources else {})
    helm = _opt(source.get("helm"))
    revision = result.get("revision") or (result.get("revisions") or [None])[0] \
        or _opt(_opt(operation.get("operation")).get("sync")).get("revision") or _opt(data.get("sync")).get("revision")
    renders_helm = data.get("source_type") == "Helm" or bool(source.get("chart")) or bool(helm)
    # where Argo CD installs a helm source: spec.source.helm.namespace, else the destination's namespace (as
    # kg_builder/gitops_argocd.py reads a watched Application, so both meet on one Release)
    release_namespace = helm.get("namespace") or destination.get("namespace")
    release_name = helm.get("releaseName") or name
    renders_helm = renders_helm and bool(release_namespace)
    app = {"key": f"{app_namespace}/{name}", "name": name, "namespace": app_namespace,
           "project": data.get("project"), "sync_status": _opt(data.get("sync")).get("status"),
           "health": _opt(data.get("health")).get("status"), "repo_url": source.get("repoURL"),
           "chart": source.get("chart"), "target_revision": source.get("targetRevision"),
           "path": source.get("path"), "destination_namespace": destination.get("namespace"),
           "destination_server": destination.get("server") or destination.get("name"),
           "release_name": release_name if renders_helm else None}
    return {"delivery_id": delivery, "event": "sync", "received_at": received_at, "app": app,
            "release": {"key": f"{release_namespace}/{release_name}", "namespace": release_namespace,
                        "name": release_name} if renders_helm else None,
            "sync": {"revision": revision, "phase": operation.get("phase"), "message": _cut(operation.get("message")),
                     "started_at": operation.get("startedAt"), "finished_at": operation.get("finishedAt")}}


# --- Jira ------------------------------------------------------------------------------------------


def jira(delivery: str, body: Any, received_at: str) -> dict[str, Any]:
    """A Jira ``jira:issue_created`` / ``jira:issue_updated`` webhook (Jira Cloud and Data Center)."""
    data = _dict(body, "Jira payload")
    event = data.get("webhookEvent")
    if event not in JIRA_EVENTS:
        raise PermanentError(f"Jira event '{event}' is not handled; subscribe to {' and '.join(JIRA_EVENTS)}")
    issue = _dict(data.get("issue"), "Jira payload field 'issue'")
    key = issue.get("key")
    if not isinstance(key, str) or not key:
        raise PermanentError("Jira payload field 'issue.key' is missing")
    fields = _opt(issue.get("fields"))
    status = _opt(fields.get("status"))
    category = _opt(status.get("statusCategory")).get("key")
    labels = [str(label) for label in fields.get("labels") or []]
    components = [str(c.get("name")) for c in fields.get("components") or [] if isinstance(c, dict) and c.get("name")]
    self_url = str(issue.get("self") or "")
    url = f"{self_url.split('/rest/api/')[0]}/browse/{key}" if "/rest/api/" in self_url else self_url or None
    return {"delivery_id": delivery, "event": event, "received_at": received_at, "issue": {
        "key": key, "id": issue.get("id"), "summary": _cut(fields.get("summary")), "status": status.get("name"),
        "status_category": category, "open": category != "done" and not fields.get("resolution"),
        "priority": _opt(fields.get("priority")).get("name"), "url": url,
        "issue_type": _opt(fields.get("issuetype")).get("name"), "labels": labels, "components": components,
        "created_at": fields.get("created"), "updated_at": fields.get("updated"),
        "text": _jira_text(fields, labels, components)[:TEXT_LIMIT]}}


def _jira_text(fields: dict[str, Any], labels: list[str], components: list[str]) -> str:
    """Every place an incident can name a release: summary, description, environment, labels, components
    and custom fields (text, select options, lists of them)."""
    parts = [fields.get("summary"), _plain_text(fields.get("description")), _plain_text(fields.get("environment")),
             " ".join(labels), " ".join(components)]
    for name, value in sorted(fields.items()):
        if name.startswith("customfield_"):
            parts.append(_plain_text(value))
    return "\n".join(str(part) for part in parts if part)


def _plain_text(value: Any) -> str:
    """Text of a string, a select option ({"value": ...}), a list, or an Atlassian Document (REST v3)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_plain_text(v) for v in value)
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return value["text"]
        if "content" in value:
            return " ".join(_plain_text(v) for v in value.get("content") or [])
        return str(value.get("value") or value.get("name") or "")
    return ""

// Context from webhooks (webhooks/, kg_builder/webhook_context.py; docs/webhooks.md).
// A delivery is stored once: MERGE on its id.
CREATE CONSTRAINT delivery_id IF NOT EXISTS FOR (n:Delivery) REQUIRE n.id IS UNIQUE;
CREATE INDEX delivery_provider IF NOT EXISTS FOR (n:Delivery) ON (n.provider);
CREATE CONSTRAINT commit_sha IF NOT EXISTS FOR (n:Commit) REQUIRE n.sha IS UNIQUE;
CREATE CONSTRAINT pull_request_key IF NOT EXISTS FOR (n:PullRequest) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT github_issue_key IF NOT EXISTS FOR (n:GitHubIssue) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT github_deployment_key IF NOT EXISTS FOR (n:GitHubDeployment) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT jira_issue_key IF NOT EXISTS FOR (n:JiraIssue) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT argo_app_key IF NOT EXISTS FOR (n:ArgoApp) REQUIRE n.key IS UNIQUE;
CREATE INDEX jira_issue_open IF NOT EXISTS FOR (n:JiraIssue) ON (n.open);
// Incidents name releases and objects by name: these make that lookup an index seek.
CREATE INDEX release_name IF NOT EXISTS FOR (n:Release) ON (n.name);
CREATE INDEX object_name IF NOT EXISTS FOR (n:Object) ON (n.name);

// CI deploy jobs (kg_builder/ci_pods.py, ingest/ci_logs.py, kg_builder/webhook_context.py; docs/ci-sources.md).
// GitHub Actions jobs and runs from the GitHub webhook, MERGEd on "owner/repo#<id>".
CREATE CONSTRAINT ci_job_key IF NOT EXISTS FOR (n:CIJob) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT ci_run_key IF NOT EXISTS FOR (n:CIRun) REQUIRE n.key IS UNIQUE;
// "failed deploy jobs": a seek on the few failed ones
CREATE INDEX ci_job_failed IF NOT EXISTS FOR (n:CIJob) ON (n.failed);

// The last lines of containers' logs and what they say (kg_builder/facts_logs.py, docs/container-logs.md).
CREATE CONSTRAINT container_log_key IF NOT EXISTS FOR (n:ContainerLog) REQUIRE n.key IS UNIQUE;
CREATE INDEX container_log_pod_ref IF NOT EXISTS FOR (n:ContainerLog) ON (n.pod_ref);
CREATE CONSTRAINT log_finding_key IF NOT EXISTS FOR (n:LogFinding) REQUIRE n.key IS UNIQUE;

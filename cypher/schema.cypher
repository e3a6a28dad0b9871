// kgrca graph schema: constraints and indexes, applied idempotently by `kgrca db init` and at service start.
// Every statement is `... IF NOT EXISTS`; statements are separated by `;`.
// More schema files live in cypher/schema/*.cypher and are applied after this one.
// The model is described in docs/graph-model.md.

// Helm
CREATE CONSTRAINT release_key IF NOT EXISTS FOR (n:Release) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT revision_key IF NOT EXISTS FOR (n:Revision) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT hook_key IF NOT EXISTS FOR (n:Hook) REQUIRE n.key IS UNIQUE;
CREATE INDEX release_status IF NOT EXISTS FOR (n:Release) ON (n.status);
CREATE INDEX revision_status IF NOT EXISTS FOR (n:Revision) ON (n.status);
CREATE INDEX revision_release IF NOT EXISTS FOR (n:Revision) ON (n.release_key);

// Kubernetes objects: every live object is (:Object:<Kind> {uid}); a name slot is (:Resource {ref})
CREATE CONSTRAINT object_uid IF NOT EXISTS FOR (n:Object) REQUIRE n.uid IS UNIQUE;
CREATE CONSTRAINT resource_ref IF NOT EXISTS FOR (n:Resource) REQUIRE n.ref IS UNIQUE;
CREATE INDEX object_ref IF NOT EXISTS FOR (n:Object) ON (n.ref);
CREATE INDEX object_kind IF NOT EXISTS FOR (n:Object) ON (n.kind);
CREATE INDEX object_namespace IF NOT EXISTS FOR (n:Object) ON (n.namespace);
CREATE INDEX pod_namespace IF NOT EXISTS FOR (n:Pod) ON (n.namespace);
CREATE INDEX pod_phase IF NOT EXISTS FOR (n:Pod) ON (n.phase);
CREATE INDEX service_namespace IF NOT EXISTS FOR (n:Service) ON (n.namespace);
CREATE INDEX resource_kind IF NOT EXISTS FOR (n:Resource) ON (n.kind);

// History
CREATE CONSTRAINT event_uid IF NOT EXISTS FOR (n:Event) REQUIRE n.uid IS UNIQUE;
CREATE INDEX event_reason IF NOT EXISTS FOR (n:Event) ON (n.reason);
CREATE INDEX event_last_seen IF NOT EXISTS FOR (n:Event) ON (n.last_seen);
CREATE CONSTRAINT container_state_key IF NOT EXISTS FOR (n:ContainerState) REQUIRE n.key IS UNIQUE;
CREATE INDEX container_state_reason IF NOT EXISTS FOR (n:ContainerState) ON (n.reason);
CREATE INDEX container_state_at IF NOT EXISTS FOR (n:ContainerState) ON (n.at);
CREATE CONSTRAINT condition_key IF NOT EXISTS FOR (n:Condition) REQUIRE n.key IS UNIQUE;
CREATE INDEX condition_reason IF NOT EXISTS FOR (n:Condition) ON (n.reason);
CREATE INDEX condition_at IF NOT EXISTS FOR (n:Condition) ON (n.at);
CREATE INDEX revision_storage IF NOT EXISTS FOR (n:Revision) ON (n.storage_uid);

// Indexes the pod and workload failure patterns (cypher/patterns/crashloop.cypher ... node_not_ready.cypher)
// start from, beyond cypher/schema.cypher. Applied with the rest of the schema by `kgrca db init`; every
// statement is idempotent.
//
// Already in cypher/schema.cypher and used here: container_state_reason (crashloop, oom_killed,
// image_pull_backoff, create_container_config_error), pod_phase (pod_unschedulable), event_reason
// (probe_failing, failed_mount, quota_exceeded, admission_denied), condition_reason (rollout_stuck).

// evicted: Failed pods with reason Evicted, without reading every Failed Job pod
CREATE INDEX pod_phase_reason IF NOT EXISTS FOR (n:Pod) ON (n.phase, n.reason);

// node_not_ready: the few nodes that are not Ready, without reading every node
CREATE INDEX node_ready IF NOT EXISTS FOR (n:Node) ON (n.ready);

// Indexes the workload patterns (cypher/patterns/job_failed.cypher, pod_exited_nonzero.cypher, ...) start from,
// beyond cypher/schema.cypher. Applied with the rest of the schema by `kgrca db init`; every statement is
// idempotent. Already there and used: object_unhealthy (job_failed: a Job with a Failed condition),
// event_reason (failed_create).

// pod_exited_nonzero: pods whose container terminated non-zero and will not be restarted (kg_builder sets
// exited_nonzero = true, else removes it: kg_builder/facts_workloads.py)
CREATE INDEX pod_exited_nonzero IF NOT EXISTS FOR (n:Pod) ON (n.exited_nonzero);

// workload_unavailable: Deployments, ReplicaSets, StatefulSets and DaemonSets short of ready pods now
// (short_of_pods = true, else removed: kg_builder/facts_workloads.py)
CREATE INDEX object_short_of_pods IF NOT EXISTS FOR (n:Object) ON (n.short_of_pods);

// pod_scheduling_gated: pods held by spec.schedulingGates (scheduling_gated = true, else removed)
CREATE INDEX pod_scheduling_gated IF NOT EXISTS FOR (n:Pod) ON (n.scheduling_gated);

// Indexes the node and control-plane patterns (cypher/patterns/node_pressure.cypher, node_cordoned.cypher,
// rbac_forbidden.cypher, csr_pending.cypher) start from. Applied with the rest of the schema by `kgrca db init`;
// every statement is idempotent. The properties are written by kg_builder/facts_nodes.py.
//
// Already there and used here: event_reason (node_cordoned's FailedScheduling), node_ready (node_not_ready).

// node_pressure: the few nodes with MemoryPressure/DiskPressure/PIDPressure/NetworkUnavailable True now
// (has_problem_condition = true, else the property is removed)
CREATE INDEX node_problem_condition IF NOT EXISTS FOR (n:Node) ON (n.has_problem_condition);
// node_cordoned: the cordoned nodes (spec.unschedulable)
CREATE INDEX node_unschedulable IF NOT EXISTS FOR (n:Node) ON (n.unschedulable);
// rbac_forbidden: Events whose message carries an RBAC denial (`... is forbidden: User "..." cannot ...`)
CREATE TEXT INDEX event_message_text IF NOT EXISTS FOR (n:Event) ON (n.message);
// csr_pending: CertificateSigningRequests by approval state (Pending, Approved, Issued, Denied, Failed)
CREATE INDEX csr_state IF NOT EXISTS FOR (n:CertificateSigningRequest) ON (n.csr_state);

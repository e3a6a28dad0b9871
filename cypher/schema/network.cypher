// Indexes the networking patterns (cypher/patterns/service_no_endpoints.cypher, ingress_*.cypher, ...) start
// from, beyond cypher/schema.cypher. Applied with the rest of the schema by `kgrca db init`; idempotent.
// The properties are written by kg_builder/facts_network.py (docs/patterns-network.md).

// service_no_endpoints: the few EndpointSlices holding no ready endpoint (true, else the property is removed)
CREATE INDEX endpointslice_no_ready IF NOT EXISTS FOR (n:EndpointSlice) ON (n.no_ready_endpoints);
// ingress_backend_missing, ingress_class_missing, ingress_tls_secret_missing: Ingresses that route somewhere
CREATE INDEX ingress_backend_count IF NOT EXISTS FOR (n:Ingress) ON (n.backend_count);
// ingress_tls_secret_missing: whether Secrets of a namespace were seen beyond Helm's release Secrets
CREATE INDEX secret_namespace IF NOT EXISTS FOR (n:Secret) ON (n.namespace);
// service_target_port_mismatch: Services whose targetPort no selected pod declares (true, else removed)
CREATE INDEX service_target_port_mismatch IF NOT EXISTS FOR (n:Service) ON (n.target_port_mismatch);
// network_policy_isolates: policies with no ingress rule
CREATE INDEX networkpolicy_ingress_rules IF NOT EXISTS FOR (n:NetworkPolicy) ON (n.ingress_rule_count);
// network_policy_isolates: the other policies of the pod's namespace
CREATE INDEX networkpolicy_namespace IF NOT EXISTS FOR (n:NetworkPolicy) ON (n.namespace);

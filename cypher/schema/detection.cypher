// Indexes the Helm failure patterns (cypher/patterns/) start from, beyond cypher/schema.cypher.
// Applied with the rest of the schema by `kgrca db init`; every statement is idempotent.
// bench/patterns_1m.py shows each pattern's plan uses them (PROFILE) on a 1M-node graph.

// crd_mismatch: the CRDs of an API group
CREATE INDEX crd_group IF NOT EXISTS FOR (n:CustomResourceDefinition) ON (n.group);
// crd_mismatch: declared slots by apiVersion ("contains a dot" = a CRD group candidate)
CREATE TEXT INDEX resource_api_version IF NOT EXISTS FOR (n:Resource) ON (n.api_version);
// partial_deployment: objects deleted since their release declared them
CREATE INDEX object_deleted_at IF NOT EXISTS FOR (n:Object) ON (n.deleted_at);
// partial_deployment: workloads and claims unhealthy now (kg_builder sets unhealthy = true, else removes it)
CREATE INDEX object_unhealthy IF NOT EXISTS FOR (n:Object) ON (n.unhealthy);
// hook_network_policy: the Service that owns the address a hook could not reach ("dial tcp 10.96.0.15:5432")
CREATE INDEX service_cluster_ip IF NOT EXISTS FOR (n:Service) ON (n.cluster_ip);
// helm_error, helm_unclassified: helm's words classified when written (kg_builder/helm_errors.py)
CREATE CONSTRAINT helm_error_key IF NOT EXISTS FOR (n:HelmError) REQUIRE n.key IS UNIQUE;
CREATE INDEX helm_error_classified IF NOT EXISTS FOR (n:HelmError) ON (n.classified);
CREATE INDEX helm_error_release IF NOT EXISTS FOR (n:HelmError) ON (n.release_key);
// webhook_unavailable: the helm errors that name a webhook (`failed calling webhook "W"`)
CREATE INDEX helm_error_webhook IF NOT EXISTS FOR (n:HelmError) ON (n.webhook);

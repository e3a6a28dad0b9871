// Clusters (docs/graph-model.md "Clusters"): a named cluster's keys start with '<cluster>:'; Release, Object and
// Resource nodes carry the name, which `kgrca diagnose --cluster`, the REST API and `kgrca db migrate` filter on.
CREATE INDEX release_cluster IF NOT EXISTS FOR (n:Release) ON (n.cluster);
CREATE INDEX object_cluster IF NOT EXISTS FOR (n:Object) ON (n.cluster);

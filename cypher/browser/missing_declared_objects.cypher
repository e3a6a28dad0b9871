// Declared but missing: objects the newest revision of each release renders that do not exist (live).
:param release_key => null;
// only this cluster's (as its watcher's --cluster named it); null: every cluster
:param cluster => null;

MATCH (rel:Release)-[:HAS_REVISION]->(rev:Revision)-[d:DECLARES]->(r:Resource)
WHERE ($release_key IS NULL OR rel.key = $release_key) AND ($cluster IS NULL OR rel.cluster = $cluster) AND rev.version = rel.latest_version
  AND NOT EXISTS { (r)<-[:INSTANCE_OF]-(o:Object) WHERE o.deleted_at IS NULL }
RETURN rel.key AS release, rev.version AS revision, r.ref AS missing, d.source AS template
ORDER BY release, missing

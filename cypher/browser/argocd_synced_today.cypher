// What did Argo CD sync today: each sync, its commit, and the release revision it produced.
:param since_hours => 24;
// only syncs that rendered a release of this cluster (as its watcher's --cluster named it); null: every sync
:param cluster => null;

MATCH (app:ArgoApp)-[s:SYNCED]->(c:Commit)
WHERE s.at >= datetime() - duration({hours: $since_hours})
OPTIONAL MATCH (app)-[:RENDERS]->(rel:Release)
WITH app, s, c, rel WHERE $cluster IS NULL OR rel.cluster = $cluster
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(rev:Revision)-[:FROM_COMMIT]->(c)
RETURN s.at AS at, app.key AS application, s.phase AS phase, c.sha AS commit, c.message AS message,
       rel.key AS release, rev.version AS revision, rev.status AS revision_status
ORDER BY at DESC

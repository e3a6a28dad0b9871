// The timeline of release X: revisions, hook runs, pod states and warning events, oldest first (table view).
:param release_key => 'prod/api';
// the release's cluster, as its watcher's --cluster named it; null: the unnamed cluster (one-cluster graphs)
:param cluster => null;

MATCH (rel:Release {key: coalesce($cluster + ':', '') + $release_key})-[:HAS_REVISION]->(rev:Revision)
CALL {
  WITH rev
  RETURN rev.last_deployed AS at, 'revision ' + rev.version + ' ' + rev.status + ': ' +
         coalesce(rev.description, '') AS what
  UNION
  WITH rev
  MATCH (rev)-[:HAS_HOOK]->(h:Hook)
  RETURN h.started_at AS at, 'hook ' + h.name + ' (' + coalesce(h.events[0], '') + ') ' +
         coalesce(h.phase, '') AS what
  UNION
  WITH rev
  MATCH (rev)-[:HAS_HOOK]->(:Hook)-[:RAN_AS]->(run)<-[:OWNED_BY*0..1]-(p:Pod)-[:HAD_STATE]->(s:ContainerState)
  RETURN s.at AS at, 'pod ' + p.name + ' ' + s.state + ' ' + coalesce(s.reason, '') AS what
}
WITH DISTINCT at, what WHERE at IS NOT NULL
RETURN at, what ORDER BY at

// What broke release X: its newest revision, the hooks it ran, their jobs and pods, and the warnings on them.
// Set the release, then run. Switch to the graph view to see the chain.
:param release_key => 'prod/api';
// the release's cluster, as its watcher's --cluster named it; null: the unnamed cluster (one-cluster graphs)
:param cluster => null;

MATCH (rel:Release {key: coalesce($cluster + ':', '') + $release_key})-[:HAS_REVISION]->(rev:Revision)
WHERE rev.version = rel.latest_version
OPTIONAL MATCH hooks = (rev)-[:HAS_HOOK]->(:Hook)-[:RAN_AS]->(run:Object)
OPTIONAL MATCH pods = (run)<-[:OWNED_BY]-(:Pod)<-[:ABOUT]-(e:Event {type: 'Warning'})
OPTIONAL MATCH declared = (rev)-[:DECLARES]->(:Resource)<-[:INSTANCE_OF]-(o:Object)
  WHERE o.deleted_at IS NULL
OPTIONAL MATCH ops = (:HelmOperation)-[:PRODUCED]->(rev)
RETURN rel, rev, hooks, pods, declared, ops

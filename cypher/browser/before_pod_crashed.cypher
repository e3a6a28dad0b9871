// What changed before this pod started crashing: the release revisions, config changes and events in the
// window before its first CrashLoopBackOff / OOMKilled / Error state.
:param namespace => 'prod';
:param pod => 'api-7d4b9c-x1';
:param window_minutes => 60;
// the pod's cluster, as its watcher's --cluster named it; null: the unnamed cluster (one-cluster graphs)
:param cluster => null;

MATCH (p:Pod {namespace: $namespace, name: $pod})-[:HAD_STATE]->(s:ContainerState)
WHERE coalesce(p.cluster, '') = coalesce($cluster, '') AND s.reason IN ['CrashLoopBackOff', 'OOMKilled', 'Error']
WITH p, min(s.at) AS crashed
CALL {
  WITH p, crashed
  MATCH (p)-[:OWNED_BY*1..3]->(owner)<-[:MANAGES]-(rel:Release)-[:HAS_REVISION]->(rev:Revision)
  WHERE rev.last_deployed >= crashed - duration({minutes: $window_minutes}) AND rev.last_deployed <= crashed
  RETURN rev.last_deployed AS at, 'release ' + rel.key + ' revision ' + rev.version + ' (' + rev.status + ')' AS what
  UNION
  WITH p, crashed
  MATCH (p)-[:USES]->(:Resource)<-[:INSTANCE_OF]-(cfg:Object)
  WHERE cfg.created_at >= crashed - duration({minutes: $window_minutes}) AND cfg.created_at <= crashed
  RETURN cfg.created_at AS at, cfg.kind + ' ' + cfg.name + ' created' AS what
  UNION
  WITH p, crashed
  MATCH (e:Event)-[:ABOUT]->(p)
  WHERE e.last_seen <= crashed + duration({minutes: 5})
  RETURN e.last_seen AS at, e.reason + ': ' + e.message AS what
  UNION
  WITH crashed
  RETURN crashed AS at, 'first crash' AS what
}
RETURN at, what ORDER BY at

// Which releases are stuck: the newest revision is pending-* for longer than the threshold, with the helm
// process that left it (when eBPF saw one) and how it ended.
:param older_than_minutes => 10;
// only this cluster's (as its watcher's --cluster named it); null: every cluster
:param cluster => null;

MATCH (rel:Release)-[:HAS_REVISION]->(rev:Revision)
WHERE rev.version = rel.latest_version AND rev.status STARTS WITH 'pending-'
  AND ($cluster IS NULL OR rel.cluster = $cluster)
  AND rev.last_deployed < datetime() - duration({minutes: $older_than_minutes})
OPTIONAL MATCH (op:HelmOperation)-[:TARGETS]->(rel)
WITH rel, rev, op ORDER BY op.started_at DESC
WITH rel, rev, collect(op)[0] AS last_op
RETURN rel.key AS release, rev.version AS revision, rev.status AS status, rev.last_deployed AS since,
       last_op.command AS last_command, last_op.pid AS pid, last_op.status AS process_status,
       last_op.signal AS signal, last_op.ended_at AS ended
ORDER BY since

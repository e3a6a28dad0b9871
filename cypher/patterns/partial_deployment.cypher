// id: partial_deployment
// title: A release is only partly deployed
// severity: high
// confidence: 0.7
// tags: [helm, release, drift]
// shape: partial_deployment
// explains: [workload_unavailable]
// impact: >-
//   Part of the release runs and part does not: the objects listed as failed or missing are not serving,
//   while helm may even report the release as deployed.
// resolution:
//   - helm status {release} -n {namespace} --show-resources
//   - kubectl -n {namespace} describe {bad_kind_lower} {bad_name}
//   - "# once the cause is fixed, re-apply the release (helm recreates missing objects):"
//   - helm upgrade {release} <chart> -n {namespace} --reuse-values
//   - "{undo}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// The latest revision (failed, or deployed for longer than correlation_window seconds so a rollout in
// progress is not judged) declares resources of which at least one is healthy and at least one is failed
// or missing. Health by kind: Deployment/StatefulSet/ReplicaSet ready replicas, DaemonSet ready vs desired,
// Job not failed, PersistentVolumeClaim Bound, Pod Running and ready or Succeeded; any other kind is
// healthy when a live object exists. Missing = no live object in the name slot (kg_builder files a
// cluster-scoped manifest object under the release namespace, so the cluster-scoped slot is tried too).
// Candidates, so a healthy cluster costs little: every failed latest revision, and the deployed
// revisions that declare a workload unhealthy now or an object deleted since.
CALL {
  MATCH (rev:Revision {status: 'failed'})
  USING INDEX rev:Revision(status)
  WHERE $release_key IS NULL OR rev.release_key = $release_key
  RETURN rev
  UNION
  // one release asked for: its latest deployed revision, without looking at the others
  MATCH (rel:Release {key: $release_key})-[:HAS_REVISION]->(rev:Revision {status: 'deployed'})
  WHERE rev.version = rel.latest_version
  RETURN rev
  UNION
  WITH $release_key AS asked
  WHERE asked IS NULL
  // unhealthy = true: kg_builder's mark on a Deployment/StatefulSet/DaemonSet/Job/PVC failing the health
  // test below (kg_builder/k8s_objects.py _unhealthy_now), indexed so this is a seek, not a read of every one
  MATCH (o:Object {unhealthy: true})
  USING INDEX o:Object(unhealthy)
  WHERE o.deleted_at IS NULL
  MATCH (o)-[:INSTANCE_OF]->(:Resource)<-[:DECLARES]-(rev:Revision {status: 'deployed'})
  WHERE $release_key IS NULL OR rev.release_key = $release_key
  RETURN rev
  UNION
  WITH $release_key AS asked
  WHERE asked IS NULL
  MATCH (o:Object)
  USING INDEX o:Object(deleted_at)
  WHERE o.deleted_at IS NOT NULL
  MATCH (o)-[:INSTANCE_OF]->(:Resource)<-[:DECLARES]-(rev:Revision {status: 'deployed'})
  WHERE $release_key IS NULL OR rev.release_key = $release_key
  RETURN rev
}
WITH DISTINCT rev
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE rev.version = rel.latest_version
WITH rel, rev, coalesce($now, datetime()) AS now
WHERE rev.status = 'failed' OR rev.last_deployed + duration({seconds: toInteger($correlation_window)}) <= now
MATCH (rev)-[:DECLARES]->(r:Resource)
OPTIONAL MATCH (r)<-[:INSTANCE_OF]-(live:Object)
WHERE live.deleted_at IS NULL AND coalesce(live.placeholder, false) = false
// the cluster-scoped slot is looked up only when the namespaced one has no live object
OPTIONAL MATCH (cluster:Object {ref: CASE WHEN live IS NULL THEN
  CASE WHEN rel.key CONTAINS ':' THEN split(rel.key, ':')[0] + ':' ELSE '' END + r.kind + '//' + r.name END})
WHERE cluster.deleted_at IS NULL
WITH rel, rev, now, r, coalesce(live, cluster) AS o
WITH rel, rev, now, r, o,
     CASE
       WHEN o IS NULL THEN 'missing'
       WHEN o.kind IN ['Deployment', 'StatefulSet', 'ReplicaSet'] AND coalesce(o.replicas, 1) > 0
            AND coalesce(o.ready_replicas, 0) < coalesce(o.replicas, 1)
         THEN 'failed: ' + coalesce(o.ready_replicas, 0) + coalesce('/' + o.replicas, ' (spec.replicas not recorded)') +
              ' ready' +
              coalesce(' (' + o.progressing_reason + ')', '')
       WHEN o.kind = 'DaemonSet' AND coalesce(o.ready_replicas, 0) < coalesce(o.desired_scheduled, 0)
         THEN 'failed: ' + coalesce(o.ready_replicas, 0) + '/' + o.desired_scheduled + ' ready'
       WHEN o.kind = 'Job' AND o.failed_reason IS NOT NULL
         THEN 'failed: ' + o.failed_reason + coalesce(' (' + o.failed_message + ')', '')
       WHEN o.kind = 'PersistentVolumeClaim' AND coalesce(o.phase, 'Pending') <> 'Bound'
         THEN 'failed: ' + coalesce(o.phase, 'no phase reported') + ', not bound'
       WHEN o.kind = 'Pod' AND NOT (o.phase = 'Succeeded' OR (o.phase = 'Running' AND o.ready))
         THEN 'failed: pod ' + coalesce(o.phase, 'with no phase reported') + CASE WHEN o.ready THEN '' ELSE ', not ready' END
       ELSE 'healthy'
     END AS state
WITH rel, rev, now, collect({ref: r.ref, kind: r.kind, name: r.name, state: state,
                            at: coalesce(o.deleted_at, o.created_at)}) AS declared
WITH rel, rev, now, declared,
     [d IN declared WHERE d.state = 'healthy'] AS healthy,
     [d IN declared WHERE d.state <> 'healthy'] AS bad
WHERE size(healthy) > 0 AND size(bad) > 0
// a declared object that once existed and was deleted: when it went
OPTIONAL MATCH (gone:Object)-[:INSTANCE_OF]->(slot:Resource {ref: bad[0].ref})
USING INDEX slot:Resource(ref)
WHERE gone.deleted_at IS NOT NULL
WITH rel, rev, now, declared, healthy, bad, collect(gone) AS gone
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, now, declared, healthy, bad, gone, max(good.version) AS last_good
RETURN
  rel.key AS release_key,
  {kind: bad[0].kind, namespace: rel.namespace, name: bad[0].name} AS subject,
  'Revision ' + rev.version + ' of ' + rel.key + ' (' + rev.status + ') is partly deployed: ' + size(healthy) +
    ' of ' + size(declared) + ' resources healthy; ' +
    reduce(t = '', d IN bad | t + CASE WHEN t = '' THEN '' ELSE ', ' END + d.ref + ' ' + d.state) AS summary,
  'Healthy: ' + reduce(t = '', d IN healthy | t + CASE WHEN t = '' THEN '' ELSE ', ' END + d.ref) + '.\n' +
    'Failed or missing: ' + reduce(t = '', d IN bad | t + CASE WHEN t = '' THEN '' ELSE '; ' END + d.ref + ' ' +
    d.state) + '.\n' +
    CASE WHEN size(gone) > 0 THEN bad[0].ref + ' was deleted at ' + toString(gone[0].deleted_at) +
         ' (not by helm: the revision still declares it). ' ELSE '' END +
    CASE WHEN coalesce(rev.description, '') = '' THEN 'Helm recorded no description.'
         ELSE 'Helm said: ' + rev.description END AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
    text: rev.status + CASE WHEN coalesce(rev.description, '') = '' THEN ', no description'
                            ELSE ': ' + rev.description END}] +
  [d IN bad | {kind: d.kind, name: d.ref, at: d.at, text: d.state}] +
  [d IN healthy | {kind: d.kind, name: d.ref, at: d.at, text: 'healthy'}] AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' ' + rev.status}] +
  [g IN gone | {at: g.deleted_at, what: g.kind + ' ' + g.name + ' deleted'}] AS event_chain,
  {release: rel.name, namespace: rel.namespace, bad_kind_lower: toLower(bad[0].kind), bad_name: bad[0].name,
   undo: CASE WHEN last_good IS NULL THEN '# no earlier deployed revision to go back to'
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END} AS vars

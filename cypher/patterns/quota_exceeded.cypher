// id: quota_exceeded
// title: A controller cannot create pods because the namespace's ResourceQuota is exceeded
// severity: high
// confidence: 0.92
// tags: [quota, workload, admission]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The API server refuses the controller's new pods, so the workload runs fewer replicas than it asks
//   for (or none of its new version): a rollout or `helm --wait` on it does not finish.
// resolution:
//   - kubectl -n {namespace} describe resourcequota {quota}
//   - kubectl -n {namespace} describe {owner_kind_lower} {owner}
//   - "{fix}"
:param release_key => null;

// FailedCreate events of controllers (ReplicaSet, StatefulSet, Job, DaemonSet) refused by a quota,
// while the controller is still short of the pods it wants (once the quota fits, the finding goes).
MATCH (e:Event {reason: 'FailedCreate'})-[:ABOUT]->(c:Object)
WHERE (e.message CONTAINS 'exceeded quota' OR e.message CONTAINS 'failed quota') AND c.deleted_at IS NULL
  AND (c.replicas IS NULL OR coalesce(c.available_replicas, 0) < c.replicas)
  AND (c.kind <> 'DaemonSet' OR coalesce(c.available_replicas, 0) < coalesce(c.desired_scheduled, 1))
  AND coalesce(c.complete, false) = false
WITH c, e ORDER BY e.last_seen DESC
WITH c, collect(e) AS events, collect(e)[0] AS last
// 'pods "x" is forbidden: exceeded quota: compute, requested: limits.cpu=3, used: limits.cpu=21500m, limited: limits.cpu=24'
// 'pods "x" is forbidden: failed quota: fpl-quota: must specify requests.cpu,requests.memory'
WITH c, events, last, last.message AS said,
     CASE WHEN last.message CONTAINS 'exceeded quota: '
          THEN trim(split(split(last.message, 'exceeded quota: ')[1], ',')[0])
          ELSE trim(split(split(last.message, 'failed quota: ')[1], ':')[0]) END AS quota
WITH c, events, last, said, quota,
     CASE WHEN said CONTAINS 'requested: ' THEN split(split(said, 'requested: ')[1], ', used: ')[0] END AS requested,
     CASE WHEN said CONTAINS ', used: ' THEN split(split(said, ', used: ')[1], ', limited: ')[0] END AS used,
     CASE WHEN said CONTAINS ', limited: ' THEN split(said, ', limited: ')[1] END AS limited,
     CASE WHEN said CONTAINS 'must specify ' THEN split(said, 'must specify ')[1] END AS must_specify
OPTIONAL MATCH (c)-[:OWNED_BY]->(top:Object)
OPTIONAL MATCH (c)-[:OWNED_BY*0..2]->(:Object)<-[:MANAGES]-(rel:Release)
WITH c, events, last, said, quota, requested, used, limited, must_specify, coalesce(top, c) AS w,
     collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  c.kind + ' ' + c.name + ' cannot create pods: ' +
    CASE WHEN must_specify IS NOT NULL THEN 'ResourceQuota ' + quota + ' requires every pod to set ' + must_specify
         ELSE 'ResourceQuota ' + quota + ' is exceeded' +
           CASE WHEN requested IS NULL AND used IS NULL AND limited IS NULL THEN ' (the message gives no amounts)'
                ELSE ' (' + substring(coalesce(', requested ' + requested, '') + coalesce(', used ' + used, '') +
                                      coalesce(', limited ' + limited, ''), 2) + ')' END END AS summary,
  c.kind + ' ' + c.namespace + '/' + c.name + ' has ' + coalesce(toString(c.available_replicas), 'no count of') +
    coalesce(' of ' + toString(c.replicas), '') + ' pods available; the API server refused its pods ' +
    reduce(n = 0, e IN events | n + e.count) + ' times since ' + toString(last.first_seen) + ': ' + said AS details,
  [{kind: c.kind, name: c.name, at: last.last_seen,
    text: coalesce(toString(c.available_replicas), 'no count of') + coalesce('/' + toString(c.replicas), '') + ' available'}] +
  [e IN events[..5] | {kind: 'Event', name: c.name, at: e.last_seen, text: e.reason + ' (x' + e.count + '): ' + e.message}]
    AS evidence,
  [{at: last.first_seen, what: 'first FailedCreate: ' + said}] +
  [e IN events[..5] | {at: e.last_seen, what: e.reason + ' x' + e.count + ': ' + e.message}] AS event_chain,
  {namespace: c.namespace, quota: quota, owner: c.name, owner_kind_lower: toLower(c.kind),
   fix: CASE
     WHEN must_specify IS NOT NULL AND rel IS NOT NULL
       THEN 'helm upgrade ' + rel.name + ' <chart> -n ' + rel.namespace +
         ' --reuse-values --set resources.requests.cpu=<cpu> --set resources.requests.memory=<memory>'
     WHEN must_specify IS NOT NULL AND w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet']
       THEN 'kubectl -n ' + w.namespace + ' set resources ' + toLower(w.kind) + '/' + w.name +
         ' --requests=cpu=<cpu>,memory=<memory> --limits=cpu=<cpu>,memory=<memory>'
     ELSE 'kubectl -n ' + c.namespace + ' patch resourcequota ' + quota + ' --type merge -p ' + "'" +
       '{"spec":{"hard":{"' + coalesce(split(coalesce(limited, '<resource>=<value>'), '=')[0], '<resource>') +
       '":"<more>"}}}' + "'" + '   # or lower the requests of ' + w.name END} AS vars

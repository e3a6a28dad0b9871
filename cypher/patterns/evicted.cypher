// id: evicted
// title: Pods were evicted from a node under resource pressure
// severity: medium
// confidence: 0.9
// tags: [pod, eviction, node]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The kubelet killed the pods to save its node (memory, disk or PID pressure): their work was lost,
//   replicas were recreated elsewhere if a controller owns them, and the Failed pods stay listed until
//   deleted. It comes back as long as the pods use more than they request.
// resolution:
//   - kubectl describe node {node}
//   - kubectl -n {namespace} describe pod {pod}
//   - "{fix}"
//   - kubectl -n {namespace} delete pod --field-selector=status.phase=Failed
:param release_key => null;

// Pods the kubelet evicted: phase Failed with reason Evicted, and the node they ran on.
MATCH (p:Pod {phase: 'Failed', reason: 'Evicted'})
WHERE p.deleted_at IS NULL
OPTIONAL MATCH (p)-[:SCHEDULED_ON]->(:Resource)<-[:INSTANCE_OF]-(n:Node)
WITH p, collect(n)[0] AS n
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.reason = 'Evicted'
WITH p, n, e ORDER BY e.last_seen
WITH p, n, collect(e) AS events
// "The node was low on resource: memory. Threshold quantity: 100Mi, available: 20948Ki. Container x was
// using 25378008Ki, request is 15234375Ki, ..." or "The node had condition: [MemoryPressure]."
WITH p, n, events, coalesce(p.message, [e IN events WHERE e.reason = 'Evicted'][0].message, '') AS said
WITH p, n, events, said,
     CASE WHEN said CONTAINS 'low on resource: ' THEN split(split(said, 'low on resource: ')[1], '.')[0]
          WHEN said CONTAINS 'had condition: [' THEN
            toLower(replace(split(split(said, 'had condition: [')[1], ']')[0], 'Pressure', ''))
          WHEN size(coalesce(n.pressure, [])) > 0 THEN toLower(replace(n.pressure[0], 'Pressure', ''))
          ELSE null END AS resource,
     CASE WHEN said CONTAINS 'Container ' AND said CONTAINS ' was using '
          THEN split(split(said, 'Container ')[1], ' was using ')[0] ELSE null END AS hog,
     CASE WHEN said CONTAINS ' was using ' THEN split(split(said, ' was using ')[1], ',')[0] ELSE null END AS used,
     CASE WHEN said CONTAINS 'request is ' THEN split(split(said, 'request is ')[1], ',')[0] ELSE null END AS request
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, n, events, said, resource, hog, used, request, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, n, events, said, resource, hog, used, request ORDER BY p.created_at DESC, p.name
WITH w, rel, collect({p: p, n: n, events: events, said: said, resource: resource, hog: hog, used: used,
                     request: request}) AS evicted
WITH w, rel, evicted, evicted[0] AS first, evicted[0].p AS p, evicted[0].n AS n
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  CASE WHEN size(evicted) = 1 THEN 'Pod ' + p.name + ' was evicted'
       ELSE size(evicted) + ' pods of ' + w.kind + ' ' + w.name + ' were evicted' END +
    coalesce(' from node ' + p.node_name, ' (its node is not recorded)') +
    coalesce(' under ' + first.resource + ' pressure', ' (the kubelet named no resource)') +
    CASE WHEN first.hog IS NULL THEN '' ELSE ': container ' + first.hog + coalesce(' used ' + first.used, '') +
      coalesce(', requested ' + first.request, ', no request given') END AS summary,
  'Pod ' + p.namespace + '/' + p.name + ' is Failed with reason Evicted. ' +
    CASE WHEN first.said = '' THEN 'The kubelet gave no message.' ELSE 'The kubelet: ' + first.said END +
    CASE WHEN n IS NULL THEN '' ELSE ' Node ' + n.name + ': ' +
      CASE WHEN size(coalesce(n.pressure, [])) = 0 THEN 'no pressure now'
           ELSE reduce(t = '', x IN n.pressure | t + x + ' ') + 'now' END +
      coalesce(', allocatable memory ' + n.allocatable_memory, '') + '.' END AS details,
  [x IN evicted | {kind: 'Pod', name: x.p.name, at: x.p.created_at,
    text: 'Evicted' + coalesce(' from ' + x.p.node_name, '') +
      CASE WHEN x.said = '' THEN ', no message' ELSE ': ' + x.said END}] +
  [e IN first.events | {kind: 'Event', name: p.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + '): ' + e.message}] +
  CASE WHEN n IS NULL THEN [] ELSE [{kind: 'Node', name: n.name, at: null,
    text: 'pressure: ' + CASE WHEN size(coalesce(n.pressure, [])) = 0 THEN 'none now'
                              ELSE reduce(t = '', x IN n.pressure | t + x + ' ') END}] END AS evidence,
  [x IN evicted | {at: x.p.created_at, what: 'pod ' + x.p.name + ' created'}] +
  [e IN first.events | {at: e.last_seen, what: e.reason + ': ' + e.message}] AS event_chain,
  {namespace: p.namespace, pod: p.name, node: coalesce(p.node_name, '<node>'), container: first.hog,
   fix: CASE
     WHEN first.resource = 'memory' AND first.used IS NOT NULL AND rel IS NOT NULL
       THEN 'helm upgrade ' + rel.name + ' <chart> -n ' + rel.namespace +
         ' --reuse-values --set resources.requests.memory=<at least ' + first.used + '>'
     WHEN first.resource = 'memory' AND first.used IS NOT NULL AND w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet']
       THEN 'kubectl -n ' + w.namespace + ' set resources ' + toLower(w.kind) + '/' + w.name + ' -c ' + first.hog +
         ' --requests=memory=<at least ' + first.used + '>'
     WHEN first.resource STARTS WITH 'ephemeral-storage' OR first.resource STARTS WITH 'nodefs'
       OR first.resource = 'disk'
       THEN 'kubectl get --raw /api/v1/nodes/' + coalesce(p.node_name, '<node>') +
         '/proxy/stats/summary | grep -A3 ephemeral   # then set resources.requests.ephemeral-storage or free disk'
     ELSE 'kubectl top pods -A --sort-by=' + coalesce(CASE WHEN first.resource = 'cpu' THEN 'cpu' END, 'memory') +
       '   # find what uses the node' END} AS vars

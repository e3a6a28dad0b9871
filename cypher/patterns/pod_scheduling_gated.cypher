// id: pod_scheduling_gated
// title: A pod is held by scheduling gates (SchedulingGated)
// severity: medium
// confidence: 0.8
// tags: [pod, scheduling, pending, gates]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The scheduler does not consider a pod while its spec.schedulingGates is not empty: it stays Pending with no
//   node until whatever added the gates (a queueing or quota controller, an admission webhook) removes them.
// resolution:
//   - kubectl -n {namespace} get pod {pod} -o jsonpath='{{.spec.schedulingGates}}'
//   - kubectl -n {namespace} describe pod {pod}
//   - "{fix}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// Pods with scheduling gates now (kg_builder sets scheduling_gated: facts_workloads.py), not scheduled, gated for
// longer than the correlation window (a queueing controller may lift a gate within seconds). Since when is the
// PodScheduled=False (SchedulingGated) condition's time, else the pod's creation.
MATCH (p:Pod {scheduling_gated: true})
WHERE p.deleted_at IS NULL AND p.node_name IS NULL AND coalesce(p.phase, 'Pending') = 'Pending'
OPTIONAL MATCH (p)-[:HAD_CONDITION]->(c:Condition {type: 'PodScheduled', status: 'False'})
WITH p, c ORDER BY c.at DESC
WITH p, collect(c)[0] AS gated
WITH p, gated, coalesce(gated.at, p.created_at) AS since
WHERE since IS NULL OR since <= coalesce($now, datetime()) - duration({seconds: $correlation_window})
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, gated, since, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, gated, since ORDER BY since, p.name
WITH w, rel, collect({p: p, gated: gated, since: since}) AS held
WITH w, rel, held, held[0] AS first,
     reduce(t = '', g IN held[0].p.scheduling_gates | t + CASE WHEN t = '' THEN '' ELSE ', ' END + g) AS gates
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'Pod ' + first.p.namespace + '/' + first.p.name + ' is held by scheduling gate' +
    CASE WHEN size(first.p.scheduling_gates) > 1 THEN 's ' ELSE ' ' END + gates +
    coalesce(' since ' + toString(first.since), '') + ': the scheduler does not place it until ' +
    CASE WHEN size(first.p.scheduling_gates) > 1 THEN 'they are' ELSE 'it is' END + ' removed' +
    CASE WHEN size(held) > 1 THEN ' (' + (size(held) - 1) + ' more pod(s) of ' + w.kind + ' ' + w.name + ' are held too)'
         ELSE '' END AS summary,
  coalesce('PodScheduled False (' + first.gated.reason + ')' + coalesce(': ' + first.gated.message, '') + '. ',
           'No PodScheduled condition was observed. ') +
    'Held pods: ' + reduce(t = '', h IN held | t + CASE WHEN t = '' THEN '' ELSE '; ' END + h.p.name + ' (' +
      reduce(s = '', g IN h.p.scheduling_gates | s + CASE WHEN s = '' THEN '' ELSE ', ' END + g) + ')') + '.' AS details,
  [h IN held[0..5] | {kind: 'Pod', name: h.p.name, at: h.since,
    text: 'schedulingGates: ' + reduce(s = '', g IN h.p.scheduling_gates | s + CASE WHEN s = '' THEN '' ELSE ', ' END + g) +
          coalesce('; PodScheduled False ' + h.gated.reason + coalesce(': ' + h.gated.message, ''), '')}] AS evidence,
  [h IN held[0..5] | {at: h.since, what: h.p.name + ' gated'}] AS event_chain,
  {namespace: first.p.namespace, pod: first.p.name, gates: first.p.scheduling_gates,
   fix: '# find what should lift ' + gates + ' (its controller or webhook); by hand: kubectl -n ' +
        first.p.namespace + ' patch pod ' + first.p.name + ' --type=json -p \'[{"op":"remove","path":' +
        '"/spec/schedulingGates"}]\''} AS vars

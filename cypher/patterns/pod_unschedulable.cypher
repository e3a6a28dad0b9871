// id: pod_unschedulable
// title: A pod cannot be scheduled (Pending, FailedScheduling)
// severity: high
// confidence: 0.9
// tags: [pod, scheduling, pending]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   No node accepts the pod, so it stays Pending and never runs: the workload has fewer replicas than
//   asked for and a rollout or `helm --wait` on it does not finish.
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl describe nodes | grep -A 8 -E 'Taints|Allocated resources'
//   - "{fix}"
:param release_key => null;

// Pods still Pending with no node (a pod that was Pending for two seconds and then scheduled has a node
// and another phase now), with the scheduler's own words from its event or the PodScheduled condition.
// A Helm hook's pod is left to hook_unschedulable, which says what it did to the release.
MATCH (p:Pod {phase: 'Pending'})
WHERE p.node_name IS NULL AND p.deleted_at IS NULL
  // a pod held by spec.schedulingGates is not tried by the scheduler at all: pod_scheduling_gated's
  AND p.scheduling_gated IS NULL
  AND NOT EXISTS { (p)<-[:RAN_AS]-(:Hook) } AND NOT EXISTS { (p)-[:OWNED_BY]->(:Object)<-[:RAN_AS]-(:Hook) }
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.reason IN ['FailedScheduling', 'NotTriggerScaleUp']
WITH p, e ORDER BY e.last_seen DESC
WITH p, collect(e) AS events
OPTIONAL MATCH (p)-[:HAD_CONDITION]->(c:Condition {type: 'PodScheduled', status: 'False'})
WITH p, events, c ORDER BY c.at DESC
WITH p, events, collect(c)[0] AS cond
WHERE size(events) > 0 OR cond IS NOT NULL
WITH p, events, cond,
     coalesce([e IN events WHERE e.reason = 'FailedScheduling'][0].message, cond.message, '') AS said
// "0/3 nodes are available: 1 node(s) had untolerated taint {...}, 2 Insufficient memory. preemption: ..."
// (1.34+: "0/2 nodes are available: 2 Insufficient cpu. no new claims to deallocate, preemption: ...")
WITH p, events, cond, said,
     trim(replace(split(coalesce(split(said, ' are available: ')[1], said), 'preemption:')[0],
                  'no new claims to deallocate,', '')) AS why_nodes,
     CASE WHEN said CONTAINS ' nodes are available' THEN split(split(said, ' nodes are available')[0], '/')[-1]
          ELSE null END AS nodes
WITH p, events, cond, said, why_nodes, nodes,
     [x IN [
        CASE WHEN said CONTAINS 'Insufficient cpu' THEN 'insufficient_cpu' END,
        CASE WHEN said CONTAINS 'Insufficient memory' THEN 'insufficient_memory' END,
        CASE WHEN said CONTAINS 'Insufficient ' AND NOT said CONTAINS 'Insufficient cpu'
               AND NOT said CONTAINS 'Insufficient memory' THEN 'insufficient_other' END,
        CASE WHEN said CONTAINS 'taint' THEN 'taint' END,
        CASE WHEN said CONTAINS 'unbound immediate PersistentVolumeClaims' OR said CONTAINS 'unbound PersistentVolumeClaim'
               OR said CONTAINS 'persistentvolumeclaim' THEN 'unbound_pvc' END,
        CASE WHEN said CONTAINS 'volume node affinity conflict' THEN 'volume_affinity' END,
        CASE WHEN said CONTAINS "didn't match node selector" OR said CONTAINS "didn't match Pod's node affinity"
               THEN 'node_selector' END,
        CASE WHEN said CONTAINS 'Too many pods' THEN 'too_many_pods' END,
        CASE WHEN said CONTAINS 'unschedulable' AND said CONTAINS 'node(s) were unschedulable' THEN 'cordoned' END,
        CASE WHEN said CONTAINS "didn't have free ports" THEN 'ports' END,
        CASE WHEN said CONTAINS "didn't match pod anti-affinity" OR said CONTAINS "didn't match pod affinity"
               THEN 'pod_affinity' END
      ] WHERE x IS NOT NULL] AS causes
// PVCs the pod needs that are not Bound
OPTIONAL MATCH (p)-[:USES]->(slot:Resource {kind: 'PersistentVolumeClaim'})
OPTIONAL MATCH (slot)<-[:INSTANCE_OF]-(claim:PersistentVolumeClaim)
WHERE claim.deleted_at IS NULL
WITH p, events, cond, said, why_nodes, nodes, causes,
     [x IN collect(DISTINCT {name: slot.name, phase: coalesce(claim.phase, 'missing'),
                            storage_class: claim.storage_class}) WHERE x.name IS NOT NULL
                                                                  AND x.phase <> 'Bound'] AS claims
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, events, cond, said, why_nodes, nodes, causes, claims, coalesce(o2, o1, p) AS w,
     collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, events, cond, said, why_nodes, nodes, causes, claims ORDER BY p.created_at, p.name
WITH w, rel, collect({p: p, events: events, cond: cond, said: said, why_nodes: why_nodes, nodes: nodes,
                     causes: causes, claims: claims}) AS pending
WITH w, rel, pending, pending[0] AS first, pending[0].p AS p
WITH w, rel, pending, first, p,
     CASE
       WHEN 'unbound_pvc' IN first.causes OR size(first.claims) > 0 THEN 'its PersistentVolumeClaim is not bound' +
         CASE WHEN size(first.claims) > 0 THEN ' (' + first.claims[0].name + ': ' + first.claims[0].phase +
           CASE WHEN first.claims[0].storage_class IS NULL THEN '' ELSE ', storage class ' +
             first.claims[0].storage_class END + ')' ELSE '' END
       WHEN 'insufficient_cpu' IN first.causes AND 'insufficient_memory' IN first.causes
         THEN 'no node has enough free cpu and memory for its requests'
       WHEN 'insufficient_cpu' IN first.causes THEN 'no node has enough free cpu for its requests'
       WHEN 'insufficient_memory' IN first.causes THEN 'no node has enough free memory for its requests'
       WHEN 'taint' IN first.causes THEN 'the nodes carry taints the pod does not tolerate'
       WHEN 'node_selector' IN first.causes THEN 'no node matches its node selector or affinity'
       WHEN 'too_many_pods' IN first.causes THEN 'the nodes are full (too many pods)'
       WHEN 'cordoned' IN first.causes THEN 'the nodes are cordoned (unschedulable)'
       ELSE 'the scheduler finds no fitting node'
     END AS why
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'Pod ' + p.name + ' cannot be scheduled: ' + why +
    CASE WHEN size(pending) > 1 THEN ' (' + size(pending) + ' pods of ' + w.kind + ' ' + w.name + ' Pending)'
         ELSE '' END AS summary,
  'Pod ' + p.namespace + '/' + p.name + ' has been Pending since ' + toString(p.created_at) + '. ' +
    CASE WHEN first.nodes IS NULL THEN '' ELSE 'None of the ' + first.nodes + ' nodes fit: ' +
      CASE WHEN first.why_nodes ENDS WITH '.' OR first.why_nodes ENDS WITH ','
           THEN left(first.why_nodes, size(first.why_nodes) - 1) ELSE first.why_nodes END + '. ' END +
    CASE WHEN first.said = '' THEN 'The scheduler gave no message.' ELSE 'The scheduler: ' + first.said END AS details,
  [x IN pending | {kind: 'Pod', name: x.p.name, at: x.p.created_at,
    text: 'Pending, not scheduled' + CASE WHEN coalesce(x.cond.message, '') <> '' THEN ': ' + x.cond.message
                                          WHEN x.said <> '' THEN ': ' + x.said ELSE ', no message' END}] +
  [e IN first.events[..5] | {kind: 'Event', name: p.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + '): ' + e.message}] +
  [c IN first.claims | {kind: 'PersistentVolumeClaim', name: c.name, at: null,
    text: 'phase ' + c.phase + CASE WHEN c.storage_class IS NULL THEN '' ELSE ', storage class ' + c.storage_class END}]
    AS evidence,
  [{at: p.created_at, what: 'pod ' + p.name + ' created'}] +
  [e IN first.events[..5] | {at: e.first_seen, what: e.reason + ' first: ' + e.message}] +
  [e IN first.events[..5] WHERE e.count > 1 | {at: e.last_seen, what: e.reason + ' x' + e.count + ' (last)'}]
    AS event_chain,
  {namespace: p.namespace, pod: p.name,
   fix: CASE
     WHEN 'unbound_pvc' IN first.causes OR size(first.claims) > 0
       THEN 'kubectl -n ' + p.namespace + ' describe pvc ' + coalesce(first.claims[0].name, '<claim>') +
         ' && kubectl get storageclass'
     WHEN any(c IN first.causes WHERE c IN ['insufficient_cpu', 'insufficient_memory'])
       AND w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet']
       THEN 'kubectl -n ' + w.namespace + ' set resources ' + toLower(w.kind) + '/' + w.name + ' --requests=' +
         CASE WHEN 'insufficient_cpu' IN first.causes THEN 'cpu=<less>' ELSE '' END +
         CASE WHEN 'insufficient_cpu' IN first.causes AND 'insufficient_memory' IN first.causes THEN ',' ELSE '' END +
         CASE WHEN 'insufficient_memory' IN first.causes THEN 'memory=<less>' ELSE '' END +
         '   # or add nodes: kubectl top nodes'
     WHEN 'taint' IN first.causes
       THEN 'kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints   # then remove one: ' +
         'kubectl taint nodes <node> <key>:<effect>-   or add a toleration to ' + w.name
     WHEN 'cordoned' IN first.causes THEN 'kubectl uncordon <node>'
     ELSE 'kubectl get nodes --show-labels' END} AS vars

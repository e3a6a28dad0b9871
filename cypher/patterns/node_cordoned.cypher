// id: node_cordoned
// title: A cordoned node keeps pods from being scheduled
// severity: high
// confidence: 0.9
// tags: [node, infrastructure, scheduling]
// shape: null
// explains: [workload_unavailable, pod_unschedulable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The node is marked unschedulable (kubectl cordon or drain, or an autoscaler or upgrade that cordoned it
//   and did not finish): the scheduler places no new pod on it, so pods that fit only there stay Pending, and
//   the pods still bound to it keep running until they are evicted or the node is uncordoned.
// resolution:
//   - kubectl describe node {node}
//   - kubectl get pods -A -o wide --field-selector spec.nodeName={node}
//   - kubectl uncordon {node}   # when the maintenance is over
//   - "{add_capacity}"
// summary: >-
//   Node {node} is cordoned (unschedulable)[[ since {since}||, since when is not recorded]]; {blocked_count} Pending
//   pod(s) were refused because node(s) were unschedulable
// details: >-
//   Node {node} has spec.unschedulable=true[[; its taint node.kubernetes.io/unschedulable was added at
//   {cordoned_at}||[[; the kubelet reported NodeNotSchedulable at {cordon_event_at}||; when it was cordoned is not
//   recorded (no taint time, no NodeNotSchedulable event)]]]].[[ {others} other node(s) are cordoned too; the
//   scheduler does not say which it counted.]] Pending: {pending}. [[{holding_count} live pod(s) still bound to it:
//   {holding}.||No live pod is still bound to it.]]
:param release_key => null;

// Cordoned nodes (spec.unschedulable) and the Pending pods whose newest FailedScheduling counts unschedulable
// nodes. The scheduler's message does not name the node: where several nodes are cordoned each finding says so.
// A cordon with no pod kept waiting is an operator's deliberate act and is no finding.
MATCH (n:Node {unschedulable: true})
WHERE n.deleted_at IS NULL
OPTIONAL MATCH (e:Event {reason: 'FailedScheduling'})-[:ABOUT]->(p:Pod {phase: 'Pending'})
WHERE p.deleted_at IS NULL
WITH n, p, e ORDER BY e.last_seen DESC
WITH n, p, collect(e)[0] AS said
WITH n, collect(CASE WHEN said.message CONTAINS 'node(s) were unschedulable' THEN {p: p, e: said} END) AS blocked
WHERE size(blocked) > 0
// When it was cordoned: the unschedulable taint's timeAdded (facts_nodes.py), else the kubelet's
// NodeNotSchedulable Event (matched by the node's name: the kubelet gives the name as the uid), else unknown
OPTIONAL MATCH (ne:Event {reason: 'NodeNotSchedulable'}) WHERE ne.involved_name = n.name
WITH n, blocked, ne ORDER BY ne.last_seen DESC
WITH n, blocked, collect(ne)[0] AS cordon_event
OPTIONAL MATCH (n)-[:INSTANCE_OF]->(:Resource)<-[:SCHEDULED_ON]-(held:Pod)
WHERE held.deleted_at IS NULL AND NOT held.phase IN ['Succeeded', 'Failed']
WITH n, blocked, cordon_event, held ORDER BY held.namespace, held.name
WITH n, blocked, cordon_event, collect(held) AS holding
UNWIND [b IN blocked | b.p] AS bp
OPTIONAL MATCH (bp)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH n, blocked, cordon_event, holding, collect(DISTINCT rel.key) AS releases
WHERE $release_key IS NULL OR $release_key IN releases
OPTIONAL MATCH (other:Node {unschedulable: true}) WHERE other <> n AND other.deleted_at IS NULL
WITH n, blocked, cordon_event, holding, releases, count(other) AS others,
     coalesce(n.cordoned_at, cordon_event.first_seen) AS since
RETURN
  CASE WHEN size(releases) = 1 THEN releases[0] END AS release_key,
  {kind: 'Node', namespace: '', name: n.name, cluster: n.cluster} AS subject,
  {node: n.name, since: toString(since), blocked_count: size(blocked), cordoned_at: toString(n.cordoned_at),
   cordon_event_at: toString(cordon_event.first_seen), others: CASE WHEN others > 0 THEN others END,
   pending: [b IN blocked | b.p.namespace + '/' + b.p.name],
   holding_count: CASE WHEN size(holding) > 0 THEN size(holding) END,
   holding: [p IN holding[..10] | p.namespace + '/' + p.name]} AS facts,
  [{kind: 'Node', name: n.name, at: since,
    text: 'unschedulable' + CASE WHEN since IS NULL THEN ', since when is not recorded'
                                 ELSE ' since ' + toString(since) END}] +
  CASE WHEN cordon_event IS NULL THEN [] ELSE [{kind: 'Event', name: n.name, at: cordon_event.last_seen,
    text: cordon_event.reason + coalesce(': ' + cordon_event.message, ', no message')}] END +
  [b IN blocked | {kind: 'Pod', name: b.p.namespace + '/' + b.p.name, at: b.e.last_seen,
    text: 'FailedScheduling (x' + b.e.count + '): ' + b.e.message}] AS evidence,
  [{at: since, what: 'node ' + n.name + ' cordoned'}] +
  [b IN blocked | {at: b.e.first_seen, what: 'pod ' + b.p.name + ' FailedScheduling: node(s) were unschedulable'}]
    AS event_chain,
  {node: n.name,
   add_capacity: 'kubectl get nodes   # if ' + n.name + ' stays cordoned, the Pending pods need another node that fits'}
    AS vars

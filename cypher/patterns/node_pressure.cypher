// id: node_pressure
// title: A node reports memory, disk or PID pressure, or an unavailable network
// severity: high
// confidence: 0.85
// tags: [node, infrastructure, pressure]
// shape: null
// explains: [workload_unavailable, evicted, pod_unschedulable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The kubelet reported a condition that makes the node refuse work: under memory, disk or PID pressure it
//   evicts pods (lowest priority and largest overuse first) and the node is tainted so the scheduler places no
//   new pod there; with its network unavailable no pod network is set up on it. Pods bound to it are lost or
//   wait until the pressure ends.
// resolution:
//   - kubectl describe node {node}
//   - kubectl get pods -A -o wide --field-selector spec.nodeName={node}
//   - "{fixes}"
:param release_key => null;

// Nodes with a problem condition True now (kg_builder/facts_nodes.py sets has_problem_condition), each
// condition with the kubelet's own reason, message and times. A node that is also NotReady is node_not_ready's
// finding (it names the pressure there), so it is left out here.
MATCH (n:Node {has_problem_condition: true})
WHERE n.deleted_at IS NULL AND NOT coalesce(n.ready_status IN ['False', 'Unknown'], false)
WITH n, [c IN n.problem_conditions | {type: c,
  prefix: CASE c WHEN 'MemoryPressure' THEN 'memory_pressure' WHEN 'DiskPressure' THEN 'disk_pressure'
                 WHEN 'PIDPressure' THEN 'pid_pressure' ELSE 'network_unavailable' END,
  taint: CASE c WHEN 'MemoryPressure' THEN 'node.kubernetes.io/memory-pressure'
                WHEN 'DiskPressure' THEN 'node.kubernetes.io/disk-pressure'
                WHEN 'PIDPressure' THEN 'node.kubernetes.io/pid-pressure'
                ELSE 'node.kubernetes.io/network-unavailable' END}] AS kinds
WITH n, [k IN kinds | {type: k.type, taint: k.taint, reason: n[k.prefix + '_reason'],
  message: n[k.prefix + '_message'], since: n[k.prefix + '_since'], heartbeat: n[k.prefix + '_heartbeat_at'],
  tainted: any(t IN coalesce(n.taints, []) WHERE t STARTS WITH k.taint + '=')}] AS problems
// Pods the kubelet evicted from this node (still listed as Failed/Evicted)
OPTIONAL MATCH (n)-[:INSTANCE_OF]->(:Resource)<-[:SCHEDULED_ON]-(ev:Pod {phase: 'Failed', reason: 'Evicted'})
WHERE ev.deleted_at IS NULL
WITH n, problems, ev ORDER BY ev.namespace, ev.name
WITH n, problems, collect(ev) AS evicted
// Pending pods the scheduler kept off a node tainted for one of these conditions: its message names the taint
// (not the node), so this counts only where this node carries that taint now
WITH n, problems, evicted, [p IN problems WHERE p.tainted | p.taint] AS taints
OPTIONAL MATCH (e:Event {reason: 'FailedScheduling'})-[:ABOUT]->(pending:Pod {phase: 'Pending'})
WHERE size(taints) > 0 AND pending.deleted_at IS NULL AND any(t IN taints WHERE e.message CONTAINS '{' + t + ':')
WITH n, problems, evicted, pending, e ORDER BY e.last_seen DESC
WITH n, problems, evicted, pending, collect(e)[0] AS said
WITH n, problems, evicted, collect(CASE WHEN pending IS NULL THEN null ELSE {p: pending, e: said} END) AS blocked
WITH n, problems, evicted, blocked, evicted + [b IN blocked | b.p] AS pods
UNWIND CASE WHEN size(pods) = 0 THEN [null] ELSE pods END AS x
OPTIONAL MATCH (x)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH n, problems, evicted, blocked, collect(DISTINCT rel.key) AS releases
WHERE $release_key IS NULL OR $release_key IN releases
WITH n, problems, evicted, blocked, releases, problems[0] AS first
RETURN
  CASE WHEN size(releases) = 1 THEN releases[0] END AS release_key,
  {kind: 'Node', namespace: '', name: n.name, cluster: n.cluster} AS subject,
  'Node ' + n.name + ' has ' + reduce(t = '', p IN problems | t + CASE WHEN t = '' THEN '' ELSE ', ' END +
    p.type + '=True') +
    coalesce(' since ' + toString(first.since), ' (since when is not recorded)') +
    CASE WHEN first.message IS NULL THEN ', the kubelet gave no message' ELSE ': ' + first.message END +
    CASE WHEN size(evicted) > 0 THEN '; ' + size(evicted) + ' pod(s) evicted from it' ELSE '' END +
    CASE WHEN size(blocked) > 0 THEN '; ' + size(blocked) + ' pod(s) kept off it by its taint' ELSE '' END
    AS summary,
  reduce(t = '', p IN problems | t + 'Condition ' + p.type + ' is True' +
    coalesce(' with reason ' + p.reason, ', no reason given') +
    CASE WHEN p.message IS NULL THEN ', no message' ELSE ' (' + p.message + ')' END +
    coalesce(', since ' + toString(p.since), ', transition time not recorded') +
    coalesce(', last heartbeat ' + toString(p.heartbeat), ', no heartbeat recorded') +
    CASE WHEN p.tainted THEN '; the node carries taint ' + p.taint ELSE '' END + '. ') +
    CASE WHEN size(evicted) = 0 THEN 'No evicted pod of this node is listed. '
         ELSE 'Evicted from it: ' + reduce(t = '', p IN evicted | t + CASE WHEN t = '' THEN '' ELSE ', ' END +
           p.namespace + '/' + p.name) + '. ' END +
    CASE WHEN size(blocked) = 0 THEN ''
         ELSE 'Pending because of its taint: ' + reduce(t = '', b IN blocked | t + CASE WHEN t = '' THEN '' ELSE ', '
           END + b.p.namespace + '/' + b.p.name) + '.' END AS details,
  [p IN problems | {kind: 'Node', name: n.name, at: p.since,
    text: p.type + '=True' + coalesce(' (' + p.reason + ')', ', no reason given') +
      coalesce(': ' + p.message, ', no message') + coalesce('; last heartbeat ' + toString(p.heartbeat), '')}] +
  [p IN evicted | {kind: 'Pod', name: p.namespace + '/' + p.name, at: p.created_at,
    text: 'Evicted from ' + n.name + coalesce(': ' + p.message, ', no message')}] +
  [b IN blocked | {kind: 'Pod', name: b.p.namespace + '/' + b.p.name, at: b.e.last_seen,
    text: 'FailedScheduling (x' + b.e.count + '): ' + b.e.message}] AS evidence,
  [p IN problems | {at: p.since, what: 'node ' + n.name + ' ' + p.type + '=True' +
     coalesce(' (' + p.reason + ')', '')}] +
  [b IN blocked | {at: b.e.last_seen, what: 'pod ' + b.p.name + ' FailedScheduling'}] AS event_chain,
  {node: n.name,
   fixes: [p IN problems | CASE p.type
     WHEN 'MemoryPressure' THEN 'kubectl get --raw /api/v1/nodes/' + n.name +
       '/proxy/stats/summary   # which pods use the memory; lower them or set memory limits'
     WHEN 'DiskPressure' THEN 'kubectl get --raw /api/v1/nodes/' + n.name +
       '/proxy/stats/summary   # nodefs/imagefs use; on the node: crictl rmi --prune, clear logs'
     WHEN 'PIDPressure' THEN '# on the node ' + n.name +
       ': ps -eLf | wc -l; find the pod forking processes and set its pids limit'
     ELSE 'kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=' + n.name +
       '   # the network plugin (CNI) or route controller must mark the network available' END]} AS vars

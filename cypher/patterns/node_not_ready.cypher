// id: node_not_ready
// title: A node is NotReady and the pods on it are cut off
// severity: critical
// confidence: 0.9
// tags: [node, infrastructure]
// shape: null
// explains: [workload_unavailable, rollout_stuck, evicted, pod_unschedulable, probe_failing, crashloop, wait_timeout, partial_deployment]
// impact: >-
//   The node's kubelet is not reporting healthy: its pods are not ready (or unknown), their traffic
//   stops, and after the eviction timeout (5 minutes by default) the control plane deletes them and
//   reschedules them elsewhere if it can.
// resolution:
//   - kubectl describe node {node}
//   - kubectl get pods -A -o wide --field-selector spec.nodeName={node}
//   - "{fix}"
//   - kubectl drain {node} --ignore-daemonsets --delete-emptydir-data
:param release_key => null;

// Nodes whose Ready condition is False or Unknown now, with their newest Ready condition and the live
// pods bound to them; one finding per node and Helm release of those pods (or none).
MATCH (n:Node {ready: false})
WHERE n.deleted_at IS NULL AND coalesce(n.placeholder, false) = false
OPTIONAL MATCH (n)-[:HAD_CONDITION]->(c:Condition {type: 'Ready'})
WITH n, c ORDER BY c.at DESC
WITH n, collect(c)[0] AS c
// A node that never reported a Ready condition (still registering) is not a finding
WHERE c IS NOT NULL AND c.status IN ['False', 'Unknown']
OPTIONAL MATCH (n)-[:INSTANCE_OF]->(:Resource)<-[:SCHEDULED_ON]-(p:Pod)
WHERE p.deleted_at IS NULL AND NOT p.phase IN ['Succeeded', 'Failed']
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH n, c, p, collect(DISTINCT rel)[0] AS rel
WITH n, c, rel, p ORDER BY p.namespace, p.name
WITH n, c, rel, collect(p) AS pods
WHERE ($release_key IS NULL OR rel.key = $release_key)
WITH n, c, rel, pods,
     CASE WHEN c.status = 'Unknown' OR n.ready_reason = 'NodeStatusUnknown'
            THEN 'its kubelet stopped reporting (Ready Unknown' + coalesce(': ' + c.message, ', no message') + ')'
          ELSE 'Ready is False' + coalesce(': ' + coalesce(c.reason, n.ready_reason), ' with no reason given') +
            CASE WHEN c.message IS NULL THEN '' ELSE ' (' + c.message + ')' END END AS why
RETURN
  rel.key AS release_key,
  {kind: 'Node', namespace: '', name: n.name, cluster: n.cluster} AS subject,
  'Node ' + n.name + ' is NotReady: ' + why +
    CASE WHEN size(pods) = 0 THEN ''
         WHEN rel IS NULL THEN '; ' + size(pods) + ' pod(s) on it are cut off'
         ELSE '; ' + size(pods) + ' pod(s) of release ' + rel.key + ' run on it' END AS summary,
  'Node ' + n.name + coalesce(' has not been Ready since ' + toString(c.at), ' is not Ready (since when is not recorded)') +
    '. ' +
    CASE WHEN size(coalesce(n.taints, [])) > 0 THEN 'Taints: ' +
      reduce(t = '', x IN n.taints | t + x + ' ') + '. ' ELSE '' END +
    CASE WHEN size(coalesce(n.pressure, [])) > 0 THEN 'Pressure: ' +
      reduce(t = '', x IN n.pressure | t + x + ' ') + '. ' ELSE '' END +
    CASE WHEN size(pods) = 0 THEN 'No live pods are bound to it.'
         ELSE 'Pods on it: ' + reduce(t = '', p IN pods | t + CASE WHEN t = '' THEN '' ELSE ', ' END +
           p.namespace + '/' + p.name + CASE WHEN p.ready THEN '' ELSE ' (not ready)' END) + '.' END AS details,
  [{kind: 'Node', name: n.name, at: c.at,
    text: 'Ready ' + c.status + coalesce(' ' + coalesce(c.reason, n.ready_reason), '') +
      coalesce(': ' + c.message, ', no message')}] +
  [p IN pods | {kind: 'Pod', name: p.namespace + '/' + p.name, at: p.created_at,
    text: 'on ' + n.name + coalesce(', phase ' + p.phase, ', no phase reported') + CASE WHEN p.ready THEN ', ready' ELSE ', not ready' END}]
    AS evidence,
  [{at: c.at, what: 'node ' + n.name + ' Ready ' + c.status +
     coalesce(' (' + coalesce(c.reason, n.ready_reason) + ')', '')}] AS event_chain,
  {node: n.name, namespace: coalesce(pods[0].namespace, 'default'),
   fix: CASE
     WHEN why CONTAINS 'NetworkPluginNotReady' OR why CONTAINS 'cni'
       THEN 'kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=' + n.name +
         '   # the CNI plugin pods on the node must run'
     WHEN why CONTAINS 'PLEG' OR why CONTAINS 'container runtime'
       THEN '# on the node: systemctl status containerd kubelet; journalctl -u containerd -u kubelet -n 200'
     ELSE '# on the node: systemctl status kubelet; journalctl -u kubelet -n 200   (is the machine up and reachable?)'
   END} AS vars

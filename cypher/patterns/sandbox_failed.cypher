// id: sandbox_failed
// title: The kubelet cannot create a pod's sandbox (FailedCreatePodSandBox, CNI)
// severity: high
// confidence: 0.9
// tags: [pod, network, cni, sandbox]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment, service_no_endpoints]
// impact: >-
//   Without a sandbox (the pod's network namespace, set up by the node's CNI plugin) none of the pod's
//   containers is created: it stays in ContainerCreating and the kubelet retries, failing the same way until the
//   plugin on that node works again. Other new pods on the same node usually fail alike.
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl get pods -A -o wide --field-selector spec.nodeName={node}
//   - kubectl get events -A --field-selector reason=FailedCreatePodSandBox
:param release_key => null;

// FailedCreatePodSandBox events about pods that have not started (a pod whose sandbox failed once and then
// ran is not a finding). The kubelet's message is quoted as it is; the CNI plugin and the cause are read from
// the runtime's wordings (containerd: `failed to setup network for sandbox "<id>": plugin type="calico"
// failed (add): <error>`; dockershim: `NetworkPlugin cni failed to set up pod "<pod>" network: <error>`).
MATCH (e:Event {reason: 'FailedCreatePodSandBox'})-[:ABOUT]->(p:Pod)
WHERE p.deleted_at IS NULL AND p.phase = 'Pending' AND NOT coalesce(p.ready, false)
  AND (size(coalesce(p.waiting_reasons, [])) = 0 OR 'ContainerCreating' IN p.waiting_reasons
       OR 'PodInitializing' IN p.waiting_reasons)
WITH p, e ORDER BY e.last_seen DESC
WITH p, collect(e) AS events
WITH p, events, events[0] AS last, events[0].message AS said,
     reduce(n = 0, e IN events | n + e.count) AS times,
     reduce(m = null, e IN events | CASE WHEN m IS NULL OR e.first_seen < m THEN e.first_seen ELSE m END) AS first
WITH p, events, last, said, times, first,
     CASE WHEN said CONTAINS 'plugin type="' THEN split(split(said, 'plugin type="')[1], '"')[0] END AS plugin,
     CASE WHEN said CONTAINS 'Unauthorized' THEN 'unauthorized'
          WHEN said CONTAINS '/var/lib/calico/nodename' THEN 'calico_node'
          WHEN said CONTAINS 'dial tcp ' AND (said CONTAINS 'i/o timeout' OR said CONTAINS 'connection refused')
            THEN 'unreachable'
          WHEN said CONTAINS 'failed to find plugin' OR said CONTAINS 'no networks found' THEN 'not_installed'
          ELSE null END AS cause
WITH p, events, last, said, times, first, plugin, cause,
     CASE WHEN cause = 'unreachable' THEN split(split(said, 'dial tcp ')[1], ':')[0] + ':' +
            split(split(split(said, 'dial tcp ')[1], ':')[1], ' ')[0] END AS address
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, events, last, said, times, first, plugin, cause, address, coalesce(o2, o1, p) AS w,
     collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, events, last, said, times, first, plugin, cause, address ORDER BY times DESC, p.name
WITH w, rel, collect({p: p, last: last, said: said, times: times, first: first, plugin: plugin, cause: cause,
                      address: address, events: events}) AS failing
WITH w, rel, failing, failing[0] AS worst
WITH w, rel, failing, worst, coalesce(worst.p.node_name, worst.last.host) AS node
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'Pod ' + worst.p.namespace + '/' + worst.p.name + ' cannot start: the kubelet' +
    coalesce(' on ' + node, '') + ' cannot create its sandbox' +
    CASE worst.cause
      WHEN 'unauthorized' THEN ': the ' + coalesce(worst.plugin + ' ', '') + 'CNI plugin\'s credentials were refused (Unauthorized)'
      WHEN 'calico_node' THEN ': calico-node is not running on the node (/var/lib/calico/nodename is missing)'
      WHEN 'unreachable' THEN ': the ' + coalesce(worst.plugin + ' ', '') + 'CNI plugin cannot reach ' + worst.address
      WHEN 'not_installed' THEN ': no CNI plugin is installed or configured on the node'
      ELSE coalesce(' (CNI plugin ' + worst.plugin + ')', '') END +
    ' (FailedCreatePodSandBox x' + worst.times + '). The kubelet said: ' + worst.said AS summary,
  'Pods whose sandbox cannot be created: ' + reduce(t = '', f IN failing | t + CASE WHEN t = '' THEN '' ELSE '; ' END +
    f.p.name + coalesce(' on ' + f.p.node_name, '') + ' (x' + f.times + coalesce(' since ' + toString(f.first), '') + ')') +
    '.' + CASE WHEN size(failing) > 1 THEN ' The same failure on several pods points at the node\'s network plugin, ' +
      'not at the pods.' ELSE '' END +
    CASE WHEN worst.plugin IS NULL AND worst.cause IS NULL
         THEN '\nThe message names no CNI plugin kgrca reads; it is the kubelet\'s own.' ELSE '' END AS details,
  [f IN failing[0..5] | {kind: 'Event', name: f.p.name, at: f.last.last_seen,
    text: 'FailedCreatePodSandBox (x' + f.times + ')' + coalesce(' from ' + f.last.source, '') +
          coalesce(' on ' + f.last.host, '') + ': ' + f.said}] AS evidence,
  [f IN failing[0..5] | {at: f.first, what: 'FailedCreatePodSandBox first seen for ' + f.p.name}] +
  [{at: worst.last.last_seen, what: 'FailedCreatePodSandBox last seen (x' + worst.times + ')'}] AS event_chain,
  {namespace: worst.p.namespace, pod: worst.p.name, node: node, plugin: worst.plugin,
   cause: worst.cause} AS vars

// id: pdb_blocks_disruption
// title: A PodDisruptionBudget allows no disruption (a drain or eviction is refused)
// severity: medium
// confidence: 0.75
// tags: [pdb, disruption, drain, eviction]
// shape: null
// explains: []
// impact: >-
//   Every eviction of the pods it covers is refused ("Cannot evict pod as it would violate the pod's disruption
//   budget"): `kubectl drain`, node upgrades and the cluster autoscaler wait on them, and a node already cordoned
//   for a drain keeps running them.
// resolution:
//   - kubectl -n {namespace} describe pdb {name}
//   - kubectl -n {namespace} get pods -l {selector} -o wide
//   - "{fix}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// PDBs whose status allows no disruption while the pods they cover are no healthier than they must stay
// (disruptionsAllowed 0, currentHealthy <= desiredHealthy), for longer than the correlation window (a new PDB
// counts its pods first). A PDB that covers no pod (expectedPods 0) blocks nothing and is not reported.
MATCH (b:PodDisruptionBudget)
WHERE b.deleted_at IS NULL AND b.disruptions_allowed = 0 AND coalesce(b.expected_pods, 0) > 0
  AND coalesce(b.current_healthy, 0) <= coalesce(b.desired_healthy, 0)
  AND (b.disruption_allowed_since IS NULL OR b.disruption_allowed_since <=
       coalesce($now, datetime()) - duration({seconds: $correlation_window}))
// the pods it covers, by its matchLabels (policy/v1: an empty selector covers every pod of the namespace)
OPTIONAL MATCH (p:Pod {namespace: b.namespace})
WHERE p.deleted_at IS NULL AND all(x IN coalesce(b.selector_pairs, []) WHERE x IN p.label_pairs)
  AND NOT p.phase IN ['Succeeded', 'Failed']
OPTIONAL MATCH (p)-[:SCHEDULED_ON]->(:Resource)<-[:INSTANCE_OF]-(n:Node)
WITH b, p, n ORDER BY p.name
WITH b, collect(CASE WHEN p IS NOT NULL THEN {p: p, n: n} END) AS covered
WITH b, covered, [c IN covered WHERE c.n IS NOT NULL AND c.n.unschedulable] AS on_cordoned
// refusals that reached an event (the eviction API answers the caller; autoscalers and drain tools may post them)
CALL (b, covered) {
  UNWIND [b] + [c IN covered | c.p] AS x
  MATCH (e:Event)-[:ABOUT]->(x)
  WHERE e.message CONTAINS 'disruption budget'
  WITH e ORDER BY e.last_seen DESC
  RETURN collect(e) AS refusals
}
// the controllers of the covered pods (a ReplicaSet's Deployment), and the release around the PDB or them
CALL (covered) {
  UNWIND [c IN covered | c.p] AS cp
  MATCH (cp)-[:OWNED_BY]->(c:Object)
  OPTIONAL MATCH (c)-[:OWNED_BY]->(top:Deployment)
  RETURN collect(DISTINCT coalesce(top, c)) AS owners
}
CALL (b, owners) {
  OPTIONAL MATCH (b)<-[:MANAGES]-(own:Release)
  WITH own LIMIT 1
  UNWIND CASE WHEN own IS NULL AND size(owners) > 0 THEN owners ELSE [null] END AS o
  OPTIONAL MATCH (o)<-[:MANAGES]-(of_owner:Release)
  WITH own, collect(of_owner)[0] AS theirs
  RETURN coalesce(own, theirs) AS rel
}
WITH b, covered, on_cordoned, refusals, rel, [o IN owners | o.kind + ' ' + o.name] AS owner_names
WHERE $release_key IS NULL OR rel.key = $release_key
WITH b, covered, on_cordoned, refusals, owner_names, rel,
     CASE WHEN b.min_available IS NOT NULL THEN 'minAvailable ' + b.min_available
          WHEN b.max_unavailable IS NOT NULL THEN 'maxUnavailable ' + b.max_unavailable
          ELSE 'neither minAvailable nor maxUnavailable recorded' END AS budget
RETURN
  rel.key AS release_key,
  {kind: 'PodDisruptionBudget', namespace: b.namespace, name: b.name, cluster: b.cluster} AS subject,
  'PodDisruptionBudget ' + b.namespace + '/' + b.name + ' (' + budget + ') allows no disruption: ' +
    coalesce(toString(b.current_healthy), 'an unreported number of') + ' of ' + b.expected_pods +
    ' pods healthy, ' + coalesce(toString(b.desired_healthy), 'an unreported number') + ' must stay' +
    CASE WHEN size(owner_names) > 0 THEN ' (pods of ' + reduce(t = '', o IN owner_names | t +
      CASE WHEN t = '' THEN '' ELSE ', ' END + o) + ')' ELSE '' END +
    CASE WHEN size(on_cordoned) > 0 THEN '; node ' + on_cordoned[0].n.name + ' is cordoned and still runs ' +
      reduce(t = '', c IN on_cordoned | t + CASE WHEN t = '' THEN '' ELSE ', ' END + c.p.name) +
      ', so draining it is blocked' ELSE '' END +
    CASE WHEN size(refusals) > 0 THEN '. ' + coalesce(refusals[0].source, 'An event') + ' said: ' + refusals[0].message
         ELSE '' END AS summary,
  'Status: disruptionsAllowed 0, currentHealthy ' + coalesce(toString(b.current_healthy), 'not reported') +
    ', desiredHealthy ' + coalesce(toString(b.desired_healthy), 'not reported') + ', expectedPods ' + b.expected_pods +
    coalesce('; DisruptionAllowed ' + b.disruption_allowed_status + coalesce(' (' + b.disruption_allowed_reason + ')', '') +
             coalesce(': ' + b.disruption_allowed_message, '') + coalesce(' since ' + toString(b.disruption_allowed_since), ''), '') +
    '.\nPods it covers' + CASE WHEN b.selector_has_expressions THEN ' (by its matchLabels only; its matchExpressions ' +
      'are not read)' ELSE '' END + ': ' +
    CASE WHEN size(covered) = 0 THEN 'none observed'
         ELSE reduce(t = '', c IN covered | t + CASE WHEN t = '' THEN '' ELSE '; ' END + c.p.name +
           CASE WHEN coalesce(c.p.ready, false) THEN ' ready' ELSE ' not ready' END +
           coalesce(' on ' + c.p.node_name, ', not scheduled') +
           CASE WHEN c.n IS NOT NULL AND c.n.unschedulable THEN ' (cordoned)' ELSE '' END) END + '.' +
    CASE WHEN b.current_healthy IS NOT NULL AND b.current_healthy = b.expected_pods
         THEN '\nAll its pods are healthy and none may go: the budget leaves no room at this replica count.'
         ELSE '' END AS details,
  [{kind: 'PodDisruptionBudget', name: b.name, at: b.disruption_allowed_since,
    text: 'disruptionsAllowed 0, currentHealthy ' + coalesce(toString(b.current_healthy), '?') + ', desiredHealthy ' +
          coalesce(toString(b.desired_healthy), '?') + ', expectedPods ' + b.expected_pods}] +
  [c IN on_cordoned[0..5] | {kind: 'Pod', name: c.p.name, at: c.n.cordoned_at,
    text: 'on cordoned node ' + c.n.name}] +
  [e IN refusals[0..3] | {kind: 'Event', name: b.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + coalesce(' from ' + e.source, '') + ': ' + e.message}] AS evidence,
  [{at: b.disruption_allowed_since, what: 'PodDisruptionBudget ' + b.name + ' allows no disruption'}] +
  [c IN on_cordoned[0..1] | {at: c.n.cordoned_at, what: 'node ' + c.n.name + ' cordoned'}] AS event_chain,
  {namespace: b.namespace, name: b.name,
   selector: CASE WHEN size(coalesce(b.selector_pairs, [])) = 0 THEN '<selector>'
                  ELSE reduce(t = '', s IN b.selector_pairs | t + CASE WHEN t = '' THEN '' ELSE ',' END + s) END,
   node: CASE WHEN size(on_cordoned) > 0 THEN on_cordoned[0].n.name END,
   fix: CASE WHEN b.current_healthy IS NOT NULL AND b.current_healthy = b.expected_pods
             THEN '# scale the workload above the budget, or lower ' + budget + ' (kubectl -n ' + b.namespace +
                  ' edit pdb ' + b.name + ')'
             ELSE '# bring the unhealthy pods back to Ready; evictions resume when currentHealthy exceeds desiredHealthy'
        END} AS vars,
  CASE WHEN size(on_cordoned) > 0 OR size(refusals) > 0 THEN 0.9 END AS confidence

// id: create_container_config_error
// title: A container cannot be created because a ConfigMap, Secret or key it needs is missing
// severity: high
// confidence: 0.93
// tags: [pod, config, configmap, secret]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The kubelet cannot build the container's environment, so the container never starts: the pod waits
//   in CreateContainerConfigError until the ConfigMap, Secret or key exists.
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl -n {namespace} get {missing_kind_lower} {missing_name} -o yaml
//   - "{fix}"
:param release_key => null;

// Pods waiting in CreateContainerConfigError now.
MATCH (s:ContainerState {reason: 'CreateContainerConfigError'})<-[:HAD_STATE]-(p:Pod)
WHERE p.deleted_at IS NULL AND 'CreateContainerConfigError' IN p.waiting_reasons
WITH p, s ORDER BY s.restart_count DESC, s.at DESC
WITH p, collect(s)[0] AS s
// What it refers to that is not there: a USES slot with no live instance, or a key the object lacks
OPTIONAL MATCH (p)-[u:USES]->(slot:Resource)
WHERE slot.kind IN ['ConfigMap', 'Secret'] AND NOT coalesce(u.optional, false) AND u.how IN ['env', 'envFrom']
OPTIONAL MATCH (slot)<-[:INSTANCE_OF]-(o:Object)
WHERE o.deleted_at IS NULL AND coalesce(o.placeholder, false) = false
WITH p, s, u, slot, collect(o)[0] AS o
WITH p, s, collect(CASE
       WHEN slot IS NULL THEN null
       WHEN o IS NULL THEN {kind: slot.kind, name: slot.name, key: null, how: u.how, problem: 'missing'}
       WHEN u.key <> '' AND NOT u.key IN coalesce(o.data_keys, [])
         THEN {kind: slot.kind, name: slot.name, key: u.key, how: u.how, problem: 'missing_key'}
       END) AS gaps
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.reason = 'Failed' AND e.message STARTS WITH 'Error: '
WITH p, s, gaps, e ORDER BY e.last_seen DESC
WITH p, s, gaps, collect(e) AS events
WITH p, s, gaps, events, coalesce(s.message, events[0].message, '') AS said
// Without a graph gap the kubelet's words tell: 'configmap "x" not found', "couldn't find key k in Secret ns/x"
WITH p, s, events, said, CASE WHEN size(gaps) > 0 THEN gaps
  WHEN said =~ '.*(configmap|secret) "[^"]+" not found.*' THEN
    [{kind: CASE WHEN said CONTAINS 'configmap "' THEN 'ConfigMap' ELSE 'Secret' END,
      name: split(split(said, ' "')[1], '"')[0], key: null, how: 'env', problem: 'missing'}]
  WHEN said CONTAINS "couldn't find key " THEN
    [{kind: CASE WHEN said CONTAINS ' in ConfigMap ' THEN 'ConfigMap' ELSE 'Secret' END,
      name: split(split(said, ' in ' + CASE WHEN said CONTAINS ' in ConfigMap ' THEN 'ConfigMap' ELSE 'Secret' END + ' ')[1], '/')[-1],
      key: split(split(said, "couldn't find key ")[1], ' in ')[0], how: 'env', problem: 'missing_key'}]
  ELSE [] END AS gaps
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, s, events, said, gaps, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, s, events, said, gaps ORDER BY p.name
WITH w, rel, collect({p: p, s: s, events: events, said: said, gaps: gaps}) AS blocked
WITH w, rel, blocked, blocked[0] AS first, blocked[0].p AS p, blocked[0].gaps[0] AS gap
WITH w, rel, blocked, first, p, gap,
     CASE WHEN gap IS NULL THEN 'the kubelet cannot build its configuration'
          WHEN gap.problem = 'missing' THEN toLower(gap.kind) + ' ' + gap.name + ' does not exist'
          ELSE toLower(gap.kind) + ' ' + gap.name + ' has no key ' + gap.key END AS why
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'Pod ' + p.name + ' is stuck in CreateContainerConfigError: ' + why +
    CASE WHEN size(blocked) > 1 THEN ' (' + size(blocked) + ' pods of ' + w.kind + ' ' + w.name + ')' ELSE '' END
    AS summary,
  'Pod ' + p.namespace + '/' + p.name + coalesce(', container ' + first.s.container, '') + ', has waited' +
    coalesce(' since ' + toString(first.s.at), '') + '. ' +
    CASE WHEN first.said = '' THEN 'The kubelet gave no message. ' ELSE 'The kubelet: ' + first.said + '. ' END +
    CASE WHEN size(first.gaps) = 0 THEN ''
         ELSE 'Missing: ' + reduce(t = '', g IN first.gaps | t + CASE WHEN t = '' THEN '' ELSE '; ' END + g.kind + ' ' +
           p.namespace + '/' + g.name + CASE WHEN g.key IS NULL THEN '' ELSE ' key ' + g.key END +
           ' (used by ' + g.how + ')') + '.' END AS details,
  [x IN blocked | {kind: 'Pod', name: x.p.name, at: x.s.at,
    text: 'CreateContainerConfigError' + CASE WHEN x.said = '' THEN '' ELSE ': ' + x.said END}] +
  [g IN first.gaps | {kind: g.kind, name: g.name, at: null,
    text: CASE WHEN g.problem = 'missing' THEN 'not found in namespace ' + p.namespace
               ELSE 'exists without key ' + g.key END}] +
  [e IN first.events[..5] | {kind: 'Event', name: p.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + coalesce(': ' + e.message, ', no message')}] AS evidence,
  [{at: p.created_at, what: 'pod ' + p.name + ' created'},
   {at: first.s.at, what: coalesce('container ' + first.s.container + ' ', '') + 'waiting: CreateContainerConfigError'}] +
  [e IN first.events[..5] | {at: e.last_seen, what: e.reason + coalesce(': ' + e.message, ', no message')}]
    AS event_chain,
  {namespace: p.namespace, pod: p.name, missing_kind_lower: toLower(coalesce(gap.kind, 'configmap')),
   missing_name: coalesce(gap.name, '<name>'),
   fix: CASE
     WHEN gap IS NULL THEN 'kubectl -n ' + p.namespace + ' get events --field-selector involvedObject.name=' + p.name
     WHEN gap.problem = 'missing' AND gap.kind = 'ConfigMap'
       THEN 'kubectl -n ' + p.namespace + ' create configmap ' + gap.name + ' --from-literal=<key>=<value>'
     WHEN gap.problem = 'missing'
       THEN 'kubectl -n ' + p.namespace + ' create secret generic ' + gap.name + ' --from-literal=<key>=<value>'
     WHEN gap.kind = 'ConfigMap'
       THEN 'kubectl -n ' + p.namespace + ' patch configmap ' + gap.name + ' --type merge -p ' + "'" +
         '{"data":{"' + gap.key + '":"<value>"}}' + "'"
     ELSE 'kubectl -n ' + p.namespace + ' patch secret ' + gap.name + ' --type merge -p ' + "'" +
       '{"stringData":{"' + gap.key + '":"<value>"}}' + "'" END} AS vars

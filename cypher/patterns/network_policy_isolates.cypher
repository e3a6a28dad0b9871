// id: network_policy_isolates
// title: A NetworkPolicy admits no traffic to the pods a Service routes to
// severity: high
// confidence: 0.7
// tags: [network, networkpolicy, service]
// shape: null
// explains: []
// impact: >-
//   Where the network plugin enforces NetworkPolicy, every connection to these pods is dropped: clients of the
//   Service time out, and so do probes and ingress controllers that reach them from other pods.
// resolution:
//   - kubectl -n {namespace} get networkpolicy {policy} -o yaml
//   - kubectl -n {namespace} get networkpolicy
//   - "{fix}"
:param release_key => null;

// NetworkPolicies with no ingress rule (ingress_rule_count 0, indexed) that govern ingress (policyTypes holds
// Ingress, or is not given: the API then treats every policy as an ingress policy) and select, by matchLabels
// alone ('' selects every pod of the namespace; a selector with expressions is not judged), live pods a Service
// selects. Policies add up: a pod also selected by a policy with an ingress rule may be admitted, so it is left
// out, as is a pod selected by a policy with expressions (kgrca does not evaluate them).
MATCH (np:NetworkPolicy)
USING INDEX np:NetworkPolicy(ingress_rule_count)
WHERE np.ingress_rule_count = 0 AND np.deleted_at IS NULL AND NOT coalesce(np.pod_selector_has_expressions, false)
  AND (np.policy_types IS NULL OR 'Ingress' IN np.policy_types)
MATCH (p:Pod {namespace: np.namespace})
USING INDEX p:Pod(namespace)
WHERE p.deleted_at IS NULL AND all(x IN np.pod_selector_pairs WHERE x IN coalesce(p.label_pairs, []))
MATCH (s:Service)-[:SELECTS]->(p)
WHERE s.deleted_at IS NULL AND all(x IN s.selector_pairs WHERE x IN p.label_pairs)
// another policy of the namespace that may admit something to this pod
AND NOT EXISTS {
  MATCH (other:NetworkPolicy {namespace: np.namespace})
  USING INDEX other:NetworkPolicy(namespace)
  WHERE other.deleted_at IS NULL AND other <> np
    AND (other.policy_types IS NULL OR 'Ingress' IN other.policy_types)
    AND (coalesce(other.pod_selector_has_expressions, false) OR
         (other.ingress_rule_count > 0 AND all(x IN other.pod_selector_pairs WHERE x IN p.label_pairs)))
}
WITH np, s, p ORDER BY p.name
WITH np, s, collect(p) AS pods
OPTIONAL MATCH (rel:Release)-[:MANAGES]->(s)
WITH np, s, pods, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
RETURN
  rel.key AS release_key,
  {kind: 'Service', namespace: s.namespace, name: s.name, cluster: s.cluster} AS subject,
  'NetworkPolicy ' + np.namespace + '/' + np.name + ' admits no ingress traffic to the ' + size(pods) +
    CASE WHEN size(pods) = 1 THEN ' pod' ELSE ' pods' END + ' Service ' + s.name + ' routes to (' + pods[0].name +
    '): its podSelector ' + CASE WHEN np.pod_selector = '' THEN '(every pod of the namespace)' ELSE np.pod_selector END +
    ' selects them and it has no ingress rule' AS summary,
  'NetworkPolicy ' + np.namespace + '/' + np.name + ': podSelector ' +
    CASE WHEN np.pod_selector = '' THEN '{} (every pod of the namespace)' ELSE np.pod_selector END + ', policyTypes ' +
    CASE WHEN np.policy_types IS NULL THEN 'not given (ingress is implied)'
         ELSE reduce(t = '', x IN np.policy_types | t + CASE WHEN t = '' THEN '' ELSE ',' END + x) END +
    ', no ingress rule. No other NetworkPolicy of ' + np.namespace + ' with an ingress rule selects ' +
    reduce(t = '', x IN pods | t + CASE WHEN t = '' THEN '' ELSE ', ' END + x.name) + ', which Service ' + s.name +
    ' (' + s.selector_text + ') routes to. Whether traffic is dropped depends on the network plugin enforcing '
    + 'NetworkPolicy.' AS details,
  [{kind: 'NetworkPolicy', name: np.namespace + '/' + np.name, at: np.created_at,
    text: 'podSelector ' + CASE WHEN np.pod_selector = '' THEN '{}' ELSE np.pod_selector END + ', no ingress rule'}] +
  [x IN pods[0..5] | {kind: 'Pod', name: x.name, at: x.created_at, text: 'selected by Service ' + s.name}] AS evidence,
  [{at: np.created_at, what: 'NetworkPolicy ' + np.name + ' created'}] AS event_chain,
  {namespace: np.namespace, policy: np.name, service: s.name,
   fix: '# add an ingress rule admitting the Service clients to ' + np.name +
     ', or a NetworkPolicy that selects ' + s.selector_text + ' and admits them'} AS vars

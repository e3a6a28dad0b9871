// id: service_no_endpoints
// title: A Service has no ready endpoint
// severity: high
// confidence: 0.85
// tags: [network, service, endpoints]
// shape: null
// explains: []
// impact: >-
//   Connections to the Service fail (refused or timed out) and an Ingress in front of it answers 503:
//   none of the addresses behind it is ready to receive traffic.
// resolution:
//   - kubectl -n {namespace} get endpointslices -l kubernetes.io/service-name={service}
//   - kubectl -n {namespace} get pods -l {selector} -o wide
//   - "{next}"
:param release_key => null;

// EndpointSlices holding no ready endpoint (kg_builder/facts_network.py marks them no_ready_endpoints, indexed;
// an endpoint whose ready condition is not reported counts as ready, as the API defines it), whose Service has
// a selector: its slices are the EndpointSlice controller's, so an empty one means no pod is ready behind it.
// A Service none of whose slices was seen is not judged (a dump without EndpointSlices says nothing).
MATCH (es:EndpointSlice {no_ready_endpoints: true})
USING INDEX es:EndpointSlice(no_ready_endpoints)
WHERE es.deleted_at IS NULL
MATCH (es)-[:SLICE_OF]->(slot:Resource)<-[:INSTANCE_OF]-(svc:Service)
WHERE svc.deleted_at IS NULL AND coalesce(svc.placeholder, false) = false
  AND size(coalesce(svc.selector_pairs, [])) > 0 AND coalesce(svc.service_type, '') <> 'ExternalName'
WITH DISTINCT svc, slot
// another live slice of the same Service with a ready endpoint means traffic flows
WHERE NOT EXISTS {
  MATCH (slot)<-[:SLICE_OF]-(other:EndpointSlice)
  WHERE other.deleted_at IS NULL AND other.no_ready_endpoints IS NULL
}
OPTIONAL MATCH (rel:Release)-[:MANAGES]->(svc)
WITH svc, slot, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
MATCH (slot)<-[:SLICE_OF]-(es:EndpointSlice)
WHERE es.deleted_at IS NULL
WITH svc, rel, collect(es) AS slices
WITH svc, rel, slices,
     reduce(acc = [], s IN slices | acc + [i IN range(0, coalesce(s.endpoint_count, 0) - 1) |
       {kind: s.endpoint_target_kinds[i], name: s.endpoint_target_names[i], ready: s.endpoint_ready[i],
        serving: s.endpoint_serving[i], terminating: s.endpoint_terminating[i], slice: s.name}]) AS endpoints
// the live pods its selector matches now (SELECTS is written when either end arrives; labels are checked again)
OPTIONAL MATCH (svc)-[:SELECTS]->(p:Pod)
WHERE p.deleted_at IS NULL AND all(x IN svc.selector_pairs WHERE x IN p.label_pairs)
WITH svc, rel, slices, endpoints, p ORDER BY p.name
// each selected pod's latest Ready condition and its latest readiness-probe failure, as the kubelet said them
OPTIONAL MATCH (p)-[:HAD_CONDITION]->(c:Condition {type: 'Ready'})
WITH svc, rel, slices, endpoints, p, c ORDER BY c.at DESC
WITH svc, rel, slices, endpoints, p, collect(c)[0] AS readiness
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.reason = 'Unhealthy' AND e.message STARTS WITH 'Readiness probe'
WITH svc, rel, slices, endpoints, p, readiness, e ORDER BY e.last_seen DESC
WITH svc, rel, slices, endpoints, p, readiness, collect(e)[0] AS probe
WITH svc, rel, slices, endpoints,
     collect(CASE WHEN p IS NULL THEN null ELSE {
       name: p.name, phase: p.phase, ready: p.ready, waiting: p.waiting_reasons, at: p.created_at,
       in_slice: any(x IN endpoints WHERE x.kind = 'Pod' AND x.name = p.name),
       condition: readiness.reason, condition_message: readiness.message, condition_at: readiness.at,
       probe: probe.message, probe_count: probe.count, probe_at: probe.last_seen} END) AS selected
// no pod selected: the pods of the namespace that match part of the selector, or carry one of its keys with
// another value (a typo, a renamed label); read from the namespace only, after the seek found the few Services
CALL (svc, selected) {
  WITH svc, selected WHERE size(selected) = 0
  MATCH (q:Pod {namespace: svc.namespace})
  USING INDEX q:Pod(namespace)
  WHERE q.deleted_at IS NULL
  WITH svc, q, [x IN svc.selector_pairs WHERE NOT x IN coalesce(q.label_pairs, [])] AS missing
  WITH svc, q, missing,
       [x IN missing | split(x, '=')[0]] AS missing_keys
  WITH q, missing, [l IN coalesce(q.label_pairs, []) WHERE split(l, '=')[0] IN missing_keys] AS other_values,
       size(missing) < size(svc.selector_pairs) AS partial
  WHERE partial OR size(other_values) > 0
  WITH q, missing, other_values ORDER BY size(missing), q.name
  RETURN collect({name: q.name, missing: missing, has: other_values, phase: q.phase, at: q.created_at})[0..5] AS near
}
WITH svc, rel, slices, endpoints, selected, near,
     [x IN endpoints WHERE x.ready = 'false'] AS not_ready,
     CASE WHEN size(selected) = 0 THEN 'no_pod' ELSE 'not_ready' END AS why
WITH svc, rel, slices, endpoints, selected, near, not_ready, why,
     reduce(t = '', x IN near | t + CASE WHEN t = '' THEN '' ELSE '; ' END + 'pod ' + x.name +
       CASE WHEN size(x.has) > 0 THEN ' has ' + reduce(u = '', l IN x.has | u + CASE WHEN u = '' THEN '' ELSE ', ' END + l)
            ELSE '' END +
       ' but lacks ' + reduce(u = '', l IN x.missing | u + CASE WHEN u = '' THEN '' ELSE ', ' END + l)) AS near_text,
     reduce(t = '', x IN selected | t + CASE WHEN t = '' THEN '' ELSE '; ' END + 'pod ' + x.name + ' ' +
       coalesce(x.phase, '(no phase reported)') + CASE WHEN x.ready THEN ', ready' ELSE ', not ready' END +
       CASE WHEN size(coalesce(x.waiting, [])) > 0
            THEN ' (waiting: ' + reduce(u = '', w IN x.waiting | u + CASE WHEN u = '' THEN '' ELSE ', ' END + w) + ')'
            ELSE '' END +
       CASE WHEN x.condition IS NULL AND x.condition_message IS NULL THEN ''
            ELSE '; Ready condition ' + coalesce(x.condition, 'with no reason') +
                 coalesce(': ' + x.condition_message, ', no message') END +
       CASE WHEN x.probe IS NULL THEN '' ELSE '; the kubelet: ' + x.probe + ' (x' + x.probe_count + ')' END +
       CASE WHEN x.in_slice THEN '' ELSE '; not listed in the EndpointSlice' END) AS pods_text
RETURN
  rel.key AS release_key,
  {kind: 'Service', namespace: svc.namespace, name: svc.name, cluster: svc.cluster} AS subject,
  'Service ' + svc.namespace + '/' + svc.name + ' has no ready endpoint: ' +
    CASE why
      WHEN 'no_pod' THEN 'its selector ' + svc.selector_text + ' matches no pod' +
        CASE WHEN size(near) > 0 THEN ' (near: ' + near[0].name + ')' ELSE '' END
      ELSE 'the ' + size(selected) + CASE WHEN size(selected) = 1 THEN ' pod' ELSE ' pods' END +
        ' its selector ' + svc.selector_text + ' matches ' +
        CASE WHEN any(x IN selected WHERE x.ready) THEN 'are not all listed ready' ELSE 'are not ready' END +
        ' (' + selected[0].name + ': ' + coalesce(selected[0].phase, 'no phase reported') +
        coalesce(', ' + selected[0].condition, '') + ')'
    END AS summary,
  'The EndpointSlice' + CASE WHEN size(slices) = 1 THEN ' ' ELSE 's ' END +
    reduce(t = '', s IN slices | t + CASE WHEN t = '' THEN '' ELSE ', ' END + s.name) + ' of Service ' +
    svc.namespace + '/' + svc.name + CASE WHEN size(slices) = 1 THEN ' holds ' ELSE ' hold ' END + size(endpoints) + ' endpoint' +
    CASE WHEN size(endpoints) = 1 THEN '' ELSE 's' END + ', ' + size(not_ready) + ' of them not ready. ' +
    CASE why
      WHEN 'no_pod' THEN 'No pod in namespace ' + svc.namespace + ' carries every label of the selector ' +
        svc.selector_text + '. ' +
        CASE WHEN size(near) > 0 THEN 'Pods that almost match: ' + near_text + '.'
             ELSE 'No pod of the namespace carries any of its labels.' END
      ELSE 'Selected: ' + pods_text + '.'
    END AS details,
  [s IN slices | {kind: 'EndpointSlice', name: s.namespace + '/' + s.name, at: s.created_at,
    text: coalesce(s.endpoint_count, 0) + ' endpoints, ' + coalesce(s.ready_count, 0) + ' ready'}] +
  [x IN selected | {kind: 'Pod', name: x.name, at: coalesce(x.condition_at, x.at),
    text: coalesce(x.phase, 'no phase reported') + CASE WHEN x.ready THEN ', ready' ELSE ', not ready' END +
      coalesce(' (' + x.condition + coalesce(': ' + x.condition_message, '') + ')', '')}] +
  [x IN selected WHERE x.probe IS NOT NULL | {kind: 'Event', name: x.name, at: x.probe_at,
    text: 'Unhealthy (x' + x.probe_count + '): ' + x.probe}] +
  [x IN near | {kind: 'Pod', name: x.name, at: x.at,
    text: 'lacks ' + reduce(u = '', l IN x.missing | u + CASE WHEN u = '' THEN '' ELSE ', ' END + l)}] AS evidence,
  [{at: svc.created_at, what: 'Service ' + svc.name + ' created'}] +
  [x IN selected WHERE x.condition_at IS NOT NULL | {at: x.condition_at,
    what: 'pod ' + x.name + ' Ready condition ' + coalesce(x.condition, 'with no reason')}] +
  [x IN selected WHERE x.probe_at IS NOT NULL | {at: x.probe_at, what: 'pod ' + x.name + ': ' + x.probe}]
    AS event_chain,
  {namespace: svc.namespace, service: svc.name, selector: svc.selector_text,
   next: CASE why
     WHEN 'no_pod' THEN 'kubectl -n ' + svc.namespace + ' get pods --show-labels   # compare with the selector ' +
       svc.selector_text
     ELSE 'kubectl -n ' + svc.namespace + ' describe pod ' + selected[0].name END} AS vars

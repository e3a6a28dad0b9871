// id: service_target_port_mismatch
// title: A Service sends traffic to a port its pods do not expose
// severity: high
// confidence: 0.75
// tags: [network, service, ports]
// shape: null
// explains: []
// impact: >-
//   Connections through the Service reach the pods on a port nothing listens on (refused), or, for a named
//   targetPort no container declares, the EndpointSlice controller gives the pods no address for that port.
// resolution:
//   - kubectl -n {namespace} get service {service} -o jsonpath='{{.spec.ports}}'
//   - kubectl -n {namespace} get pod {pod} -o jsonpath='{{.spec.containers[*].ports}}'
//   - "{fix}"
:param release_key => null;

// Services marked target_port_mismatch (indexed) by kg_builder/facts_network.py when written: a targetPort
// that no container of the pods it selects declares (a name must be declared to resolve; a number is judged
// only against pods that declare ports). Re-checked here against the live selected pods.
MATCH (s:Service {target_port_mismatch: true})
USING INDEX s:Service(target_port_mismatch)
WHERE s.deleted_at IS NULL
OPTIONAL MATCH (rel:Release)-[:MANAGES]->(s)
WITH s, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
MATCH (s)-[:SELECTS]->(p:Pod)
WHERE p.deleted_at IS NULL AND all(x IN s.selector_pairs WHERE x IN p.label_pairs)
WITH s, rel, p ORDER BY p.name
WITH s, rel, collect(p)[0..20] AS pods
WITH s, rel, pods,
     [k IN range(0, size(s.target_ports) - 1) WHERE s.target_ports[k] IN s.unexposed_target_ports |
       {port: s.port_numbers[k], name: s.port_names[k], target: s.target_ports[k],
        named: NOT s.target_ports[k] =~ '[0-9]+'}] AS bad
WHERE size(bad) > 0 AND size(pods) > 0
WITH s, rel, pods, bad, pods[0] AS p,
     reduce(t = '', k IN range(0, size(coalesce(pods[0].container_port_numbers, [])) - 1) |
       t + CASE WHEN t = '' THEN '' ELSE ', ' END + pods[0].container_port_containers[k] + ' ' +
       CASE WHEN pods[0].container_port_names[k] = '' THEN '' ELSE pods[0].container_port_names[k] + '=' END +
       pods[0].container_port_numbers[k]) AS declared
RETURN
  rel.key AS release_key,
  {kind: 'Service', namespace: s.namespace, name: s.name, cluster: s.cluster} AS subject,
  'Service ' + s.namespace + '/' + s.name + ' port ' + coalesce(nullif(bad[0].name, '') + ' ', '') + bad[0].port +
    ' targets ' + CASE WHEN bad[0].named THEN 'port name ' ELSE 'port ' END + bad[0].target +
    ', which none of the containers of its ' + size(pods) + CASE WHEN size(pods) = 1 THEN ' pod' ELSE ' pods' END +
    ' declares (' + p.name + ': ' + CASE WHEN declared = '' THEN 'no ports declared' ELSE declared END + ')'
    AS summary,
  'Ports of Service ' + s.namespace + '/' + s.name + ' whose target no selected pod declares: ' +
    reduce(t = '', b IN bad | t + CASE WHEN t = '' THEN '' ELSE '; ' END + coalesce(nullif(b.name, '') + ' ', '') +
      b.port + ' -> ' + b.target) + '. ' +
    'Pod ' + p.name + ' declares ' + CASE WHEN declared = '' THEN 'no port' ELSE declared END + '. ' +
    CASE WHEN any(b IN bad WHERE b.named)
         THEN 'A named targetPort resolves only through a port of that name that one of the containers declares.'
         ELSE 'Declaring a port is optional for a numeric targetPort: check which port the process listens on.'
    END AS details,
  [{kind: 'Service', name: s.namespace + '/' + s.name, at: s.created_at,
    text: reduce(t = '', b IN bad | t + CASE WHEN t = '' THEN '' ELSE ', ' END + b.port + ' -> ' + b.target)}] +
  [x IN pods[0..5] | {kind: 'Pod', name: x.name, at: x.created_at,
    text: CASE WHEN x.container_port_numbers IS NULL THEN 'declares no port'
               ELSE 'declares ' + reduce(t = '', k IN range(0, size(x.container_port_numbers) - 1) |
                 t + CASE WHEN t = '' THEN '' ELSE ', ' END +
                 CASE WHEN x.container_port_names[k] = '' THEN '' ELSE x.container_port_names[k] + '=' END +
                 x.container_port_numbers[k]) END}] AS evidence,
  [{at: s.created_at, what: 'Service ' + s.name + ' created'}, {at: p.created_at, what: 'pod ' + p.name + ' created'}]
    AS event_chain,
  {namespace: s.namespace, service: s.name, pod: p.name,
   fix: '# set targetPort of Service ' + s.name + ' to a port its containers declare' +
     CASE WHEN declared = '' THEN '' ELSE ' (' + declared + ')' END} AS vars

// id: ingress_backend_missing
// title: An Ingress routes to a Service or port that does not exist
// severity: high
// confidence: 0.9
// tags: [network, ingress, service]
// shape: null
// explains: []
// impact: >-
//   Requests for the listed hosts and paths get no backend: the ingress controller answers 503 (or 404 from
//   its default backend) and logs that the Service or its port is missing.
// resolution:
//   - kubectl -n {namespace} get ingress {ingress} -o yaml
//   - kubectl -n {namespace} get service {service} -o wide
//   - "{fix}"
:param release_key => null;

// Ingresses that route somewhere (backend_count, indexed) and one of whose ROUTES_TO name slots (the backend
// Service by name, kg_builder/facts_network.py) has no live Service, or a live Service without the port the
// Ingress names: a number must be one of its spec.ports[].port, a name one of its spec.ports[].name. A Service
// whose ports were not recorded is not judged on its port.
MATCH (i:Ingress)
USING INDEX i:Ingress(backend_count)
WHERE i.backend_count > 0 AND i.deleted_at IS NULL
MATCH (i)-[route:ROUTES_TO]->(slot:Resource)
OPTIONAL MATCH (slot)<-[:INSTANCE_OF]-(svc:Service)
WHERE svc.deleted_at IS NULL AND coalesce(svc.placeholder, false) = false
WITH i, route, slot, svc
WITH i, route, slot, svc,
     CASE
       WHEN svc IS NULL THEN 'missing'
       WHEN svc.port_numbers IS NULL OR route.port = '' THEN 'ok'
       WHEN route.port =~ '[0-9]+' AND NOT route.port IN svc.port_numbers THEN 'no_port'
       WHEN NOT route.port =~ '[0-9]+' AND NOT route.port IN svc.port_names THEN 'no_port'
       ELSE 'ok'
     END AS state
WHERE state <> 'ok'
// a Service of that name that existed and was deleted: when
OPTIONAL MATCH (slot)<-[:INSTANCE_OF]-(gone:Object)
WHERE gone.deleted_at IS NOT NULL
WITH i, route, slot, svc, state, max(gone.deleted_at) AS deleted_at
WITH i, route, slot, svc, state, deleted_at,
     CASE WHEN svc IS NULL THEN ''
          ELSE reduce(t = '', k IN range(0, size(svc.port_numbers) - 1) | t + CASE WHEN t = '' THEN '' ELSE ', ' END +
            CASE WHEN svc.port_names[k] = '' THEN '' ELSE svc.port_names[k] + ' ' END + svc.port_numbers[k]) END
       AS ports
WITH i, route, slot, svc, state, deleted_at, ports ORDER BY route.host, route.path
WITH i, collect({host: route.host, path: route.path, port: route.port, service: slot.name, state: state,
                 deleted_at: deleted_at, ports: ports,
                 where: CASE WHEN route.host = '' AND route.path = '' THEN 'the default backend'
                             ELSE coalesce(nullif(route.host, ''), '(any host)') + route.path END}) AS bad
OPTIONAL MATCH (rel:Release)-[:MANAGES]->(i)
WITH i, bad, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH i, bad, rel, bad[0] AS first
RETURN
  rel.key AS release_key,
  {kind: 'Ingress', namespace: i.namespace, name: i.name, cluster: i.cluster} AS subject,
  'Ingress ' + i.namespace + '/' + i.name + ' routes ' + first.where + ' to ' +
    CASE first.state
      WHEN 'missing' THEN 'Service ' + first.service + ', which does not exist in namespace ' + i.namespace
      ELSE 'port ' + first.port + ' of Service ' + first.service + ', which has no such port (its ports: ' +
        first.ports + ')'
    END +
    CASE WHEN size(bad) > 1 THEN '; ' + (size(bad) - 1) + ' more broken route' +
      CASE WHEN size(bad) = 2 THEN '' ELSE 's' END ELSE '' END AS summary,
  'Broken routes: ' +
    reduce(t = '', b IN bad | t + CASE WHEN t = '' THEN '' ELSE '; ' END + b.where + ' -> Service ' + b.service +
      ' port ' + coalesce(nullif(b.port, ''), '(none given)') + ': ' +
      CASE b.state WHEN 'missing' THEN 'no such Service' +
             coalesce(' (one of that name was deleted at ' + toString(b.deleted_at) + ')', '')
           ELSE 'the Service has no port ' + CASE WHEN b.port =~ '[0-9]+' THEN b.port ELSE 'named ' + b.port END +
             ' (its ports: ' + b.ports + ')' END) + '.' +
    CASE WHEN i.ingress_class IS NULL THEN '' ELSE ' Class: ' + i.ingress_class + '.' END AS details,
  [b IN bad | {kind: 'Ingress', name: i.namespace + '/' + i.name, at: i.created_at,
    text: b.where + ' -> Service ' + b.service + ' port ' + coalesce(nullif(b.port, ''), '(none given)')}] +
  [b IN bad | {kind: 'Service', name: i.namespace + '/' + b.service, at: b.deleted_at,
    text: CASE b.state WHEN 'missing' THEN CASE WHEN b.deleted_at IS NULL THEN 'not found' ELSE 'deleted' END
               ELSE 'ports: ' + b.ports END}] AS evidence,
  [{at: i.created_at, what: 'Ingress ' + i.name + ' created'}] +
  [b IN bad WHERE b.deleted_at IS NOT NULL | {at: b.deleted_at, what: 'Service ' + b.service + ' deleted'}]
    AS event_chain,
  {namespace: i.namespace, ingress: i.name, service: first.service,
   fix: CASE first.state
     WHEN 'missing' THEN '# create Service ' + first.service + ' in ' + i.namespace +
       ', or point the Ingress at an existing one: kubectl -n ' + i.namespace + ' get services'
     ELSE '# use one of the Service ports (' + first.ports + ') in the Ingress backend, or add port ' + first.port +
       ' to Service ' + first.service END} AS vars

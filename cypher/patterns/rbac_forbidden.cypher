// id: rbac_forbidden
// title: RBAC denied an API request (forbidden)
// severity: high
// confidence: 0.85
// tags: [rbac, security, control-plane]
// shape: null
// explains: [rollout_stuck, partial_deployment]
// impact: >-
//   The API server refused the request because no Role or ClusterRole bound to the user (or service account)
//   allows that verb on that resource: whatever the controller or job was doing (apply, list, create) stops
//   there and is retried, failing the same way, until a binding grants it.
// resolution:
//   - "{can_i}"
//   - "{grant}"
//   - kubectl get rolebindings,clusterrolebindings -A -o wide | grep {subject_name}
:param release_key => null;

// Events whose message carries the API server's RBAC denial, found through the text index on Event.message:
// `<resource> "<name>" is forbidden: User "<user>" cannot <verb> resource "<resource>" in API group "<group>"
// in the namespace "<ns>"` (or `at the cluster scope`). What the message does not say stays null. A HelmRelease's
// or Application's Event carries helm's words, which helm_error tells, so those are left out.
MATCH (e:Event)
WHERE e.message CONTAINS ' is forbidden: User "'
MATCH (e)-[:ABOUT]->(o)
WHERE NOT o.kind IN ['HelmRelease', 'Application'] AND o.deleted_at IS NULL
WITH e, o, split(e.message, ' is forbidden: User "')[1] AS rest
WITH e, o, split(rest, '"')[0] AS user,
     CASE WHEN rest CONTAINS '" cannot ' THEN split(split(rest, '" cannot ')[1], ' ')[0] END AS verb,
     CASE WHEN rest CONTAINS ' resource "' THEN split(split(rest, ' resource "')[1], '"')[0] END AS resource,
     CASE WHEN rest CONTAINS ' in API group "' THEN split(split(rest, ' in API group "')[1], '"')[0] END AS api_group,
     CASE WHEN rest CONTAINS ' in the namespace "' THEN split(split(rest, ' in the namespace "')[1], '"')[0] END
       AS namespace,
     rest CONTAINS ' at the cluster scope' AS cluster_scope
WITH e, o, user, verb, resource, api_group, namespace, cluster_scope,
     CASE WHEN user STARTS WITH 'system:serviceaccount:' AND size(split(user, ':')) = 4 THEN split(user, ':')[2] END
       AS sa_namespace,
     CASE WHEN user STARTS WITH 'system:serviceaccount:' AND size(split(user, ':')) = 4 THEN split(user, ':')[3] END
       AS sa_name
WITH o, user, verb, resource, api_group, namespace, cluster_scope, sa_namespace, sa_name, e ORDER BY e.last_seen DESC
WITH o, user, verb, resource, api_group, namespace, cluster_scope, sa_namespace, sa_name, collect(e) AS events
OPTIONAL MATCH (o)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH o, user, verb, resource, api_group, namespace, cluster_scope, sa_namespace, sa_name, events,
     collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH o, user, verb, resource, api_group, namespace, cluster_scope, sa_namespace, sa_name, events, rel,
     events[0] AS last,
     CASE WHEN resource CONTAINS '/' THEN split(resource, '/')[0] ELSE resource END AS base,
     CASE WHEN resource CONTAINS '/' THEN split(resource, '/')[1] END AS subresource
WITH o, user, verb, resource, api_group, namespace, cluster_scope, sa_namespace, sa_name, events, rel, last,
     subresource,
     CASE WHEN base IS NULL THEN null WHEN coalesce(api_group, '') = '' THEN base ELSE base + '.' + api_group END
       AS qualified
RETURN
  rel.key AS release_key,
  {kind: o.kind, namespace: o.namespace, name: o.name, cluster: o.cluster} AS subject,
  o.kind + ' ' + coalesce(CASE WHEN o.namespace = '' THEN null ELSE o.namespace + '/' END, '') + o.name +
    ': RBAC denied ' + user + ' to ' + coalesce(verb, '(verb not given)') + ' ' +
    coalesce(qualified, '(resource not given)') +
    CASE WHEN namespace IS NOT NULL THEN ' in namespace ' + namespace
         WHEN cluster_scope THEN ' at the cluster scope' ELSE '' END AS summary,
  'The API server refused a request of ' + user +
    coalesce(' (service account ' + sa_namespace + '/' + sa_name + ')', '') + ': verb ' +
    coalesce(verb, 'not given') + ', resource ' + coalesce(resource, 'not given') +
    ', API group ' + CASE WHEN api_group IS NULL THEN 'not given' WHEN api_group = '' THEN 'core'
                          ELSE api_group END +
    ', ' + CASE WHEN namespace IS NOT NULL THEN 'namespace ' + namespace
                WHEN cluster_scope THEN 'at the cluster scope' ELSE 'scope not given' END +
    '. ' + last.reason + coalesce(' from ' + last.source, '') + ' (x' + last.count + ', last ' +
    toString(last.last_seen) + '): ' + last.message AS details,
  [x IN events[..5] | {kind: 'Event', name: o.name, at: x.last_seen,
    text: coalesce(x.reason, 'no reason') + ' (x' + x.count + '): ' + x.message}] AS evidence,
  [x IN reverse(events[..5]) | {at: x.first_seen, what: coalesce(x.reason, 'Event') + ': forbidden for ' + user}]
    AS event_chain,
  {subject_name: coalesce(sa_name, user),
   can_i: CASE WHEN verb IS NULL OR qualified IS NULL
            THEN 'kubectl auth can-i --list --as=' + user +
              coalesce(' -n ' + namespace, '') + '   # the message does not say which verb or resource'
            ELSE 'kubectl auth can-i ' + verb + ' ' + qualified + coalesce(' --subresource=' + subresource, '') +
              ' --as=' + user + CASE WHEN namespace IS NOT NULL THEN ' -n ' + namespace ELSE '' END END,
   grant: CASE WHEN verb IS NULL OR resource IS NULL THEN '# bind a Role or ClusterRole that grants the request to ' + user
     WHEN namespace IS NOT NULL THEN
       'kubectl -n ' + namespace + ' create role <role> --verb=' + verb + ' --resource=' + coalesce(qualified, resource) +
       ' && kubectl -n ' + namespace + ' create rolebinding <binding> --role=<role> ' +
       CASE WHEN sa_name IS NOT NULL THEN '--serviceaccount=' + sa_namespace + ':' + sa_name ELSE '--user=' + user END
     ELSE 'kubectl create clusterrole <role> --verb=' + verb + ' --resource=' + coalesce(qualified, resource) +
       ' && kubectl create clusterrolebinding <binding> --clusterrole=<role> ' +
       CASE WHEN sa_name IS NOT NULL THEN '--serviceaccount=' + sa_namespace + ':' + sa_name ELSE '--user=' + user END
     END} AS vars

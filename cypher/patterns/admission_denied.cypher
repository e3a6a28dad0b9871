// id: admission_denied
// title: An admission webhook refuses (or cannot judge) the controller's pods
// severity: high
// confidence: 0.9
// tags: [admission, webhook, workload]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The API server refuses every pod the controller creates, so the workload runs fewer replicas than
//   it asks for (or none of its new version): a rollout or `helm --wait` on it does not finish.
// resolution:
//   - kubectl -n {namespace} describe {owner_kind_lower} {owner}
//   - kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o custom-columns=NAME:.metadata.name,WEBHOOKS:.webhooks[*].name
//   - "{fix}"
:param release_key => null;

// FailedCreate events of controllers whose pods an admission webhook denied, or whose webhook could
// not be called, while the controller is still short of pods.
MATCH (e:Event {reason: 'FailedCreate'})-[:ABOUT]->(c:Object)
WHERE ((e.message CONTAINS 'admission webhook' AND e.message CONTAINS 'denied the request')
       OR e.message CONTAINS 'failed calling webhook')
  AND c.deleted_at IS NULL
  AND (c.replicas IS NULL OR coalesce(c.available_replicas, 0) < c.replicas)
  AND (c.kind <> 'DaemonSet' OR coalesce(c.available_replicas, 0) < coalesce(c.desired_scheduled, 1))
  AND coalesce(c.complete, false) = false
WITH c, e ORDER BY e.last_seen DESC
WITH c, collect(e) AS events, collect(e)[0] AS last
WITH c, events, last, last.message AS said,
     last.message CONTAINS 'failed calling webhook' AS unreachable
// 'admission webhook "validate.kyverno.svc" denied the request: ...'
// 'Internal error occurred: failed calling webhook "x.gatekeeper.sh": Post "https://...": service "..." not found'
WITH c, events, last, said, unreachable,
     CASE WHEN unreachable THEN split(split(said, 'failed calling webhook "')[1], '"')[0]
          ELSE split(split(said, 'admission webhook "')[1], '"')[0] END AS webhook,
     CASE WHEN unreachable THEN trim(substring(split(said, 'failed calling webhook "')[1],
                                               size(split(split(said, 'failed calling webhook "')[1], '"')[0]) + 2))
          ELSE trim(coalesce(split(said, 'denied the request')[1], '')) END AS told
WITH c, events, last, said, unreachable, webhook,
     CASE WHEN told STARTS WITH ':' THEN trim(substring(told, 1)) ELSE told END AS told
OPTIONAL MATCH (c)-[:OWNED_BY]->(top:Object)
OPTIONAL MATCH (c)-[:OWNED_BY*0..2]->(:Object)<-[:MANAGES]-(rel:Release)
WITH c, events, last, said, unreachable, webhook, told, coalesce(top, c) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  c.kind + ' ' + c.name + ' cannot create pods: ' +
    CASE WHEN unreachable THEN 'admission webhook ' + webhook + ' cannot be called (' + told + ')'
         ELSE 'admission webhook ' + webhook + ' denied the request' +
           CASE WHEN told = '' THEN '' ELSE ': ' + told END END AS summary,
  c.kind + ' ' + c.namespace + '/' + c.name + ' has ' + coalesce(toString(c.available_replicas), 'no count of') +
    coalesce(' of ' + toString(c.replicas), '') + ' pods available; the API server refused its pods ' +
    reduce(n = 0, e IN events | n + e.count) + ' times since ' + toString(last.first_seen) + ': ' + said AS details,
  [{kind: c.kind, name: c.name, at: last.last_seen,
    text: coalesce(toString(c.available_replicas), 'no count of') + coalesce('/' + toString(c.replicas), '') + ' available'}] +
  [e IN events[..5] | {kind: 'Event', name: c.name, at: e.last_seen, text: e.reason + ' (x' + e.count + '): ' + e.message}]
    AS evidence,
  [{at: last.first_seen, what: 'first FailedCreate: ' + said}] +
  [e IN events[..5] | {at: e.last_seen, what: e.reason + ' x' + e.count + ': ' + e.message}] AS event_chain,
  {namespace: c.namespace, owner: c.name, owner_kind_lower: toLower(c.kind), webhook: webhook,
   fix: CASE WHEN unreachable
     THEN 'kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o json | grep -B2 -A12 ' +
       "'" + '"name": "' + webhook + '"' + "'" + '   # its service and failurePolicy; bring the webhook' + "'" +
       's pods back or set failurePolicy: Ignore'
     ELSE '# change ' + w.name + ' to satisfy the policy of ' + webhook + ' (see its message above), or ask ' +
       'for an exception; then: kubectl -n ' + c.namespace + ' rollout restart ' +
       CASE WHEN w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet'] THEN toLower(w.kind) + '/' + w.name
            ELSE toLower(c.kind) + '/' + c.name END END} AS vars

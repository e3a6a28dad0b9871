// id: failed_create
// title: A controller cannot create its pods (PodSecurity, ServiceAccount, LimitRange, ...)
// severity: high
// confidence: 0.9
// tags: [workload, admission, failed-create]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The API server refuses every pod the controller tries to create, so the workload runs fewer pods than
//   it asks for (none, for a new one) and retries with growing back-off until the cause is fixed.
// resolution:
//   - kubectl -n {namespace} describe {kind_lower} {name}
//   - "{inspect}"
//   - "{fix}"
:param release_key => null;

// FailedCreate events of ReplicaSets, StatefulSets, DaemonSets and Jobs (any owner), while the controller is
// still short of pods. Quota refusals are quota_exceeded's and admission webhooks' are admission_denied's;
// every other refusal is here, the controller's message quoted as it is.
MATCH (e:Event {reason: 'FailedCreate'})-[:ABOUT]->(c:Object)
WHERE c.kind IN ['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'] AND c.deleted_at IS NULL
  AND NOT (e.message CONTAINS 'exceeded quota' OR e.message CONTAINS 'failed quota')
  AND NOT (e.message CONTAINS 'admission webhook' AND e.message CONTAINS 'denied the request')
  AND NOT e.message CONTAINS 'failed calling webhook'
  AND (c.replicas IS NULL OR coalesce(c.available_replicas, 0) < c.replicas)
  AND (c.kind <> 'DaemonSet' OR coalesce(c.available_replicas, 0) < coalesce(c.desired_scheduled, 1))
  AND coalesce(c.complete, false) = false
WITH c, e ORDER BY e.last_seen DESC
WITH c, collect(e) AS events
WITH c, events, events[0] AS last, events[0].message AS said
// what refused, read from the controller's words (kubernetes' own wordings: PodSecurity admission,
// the ServiceAccount admission plugin, the LimitRanger plugin)
WITH c, events, last, said,
     CASE
       WHEN said CONTAINS 'violates PodSecurity "' THEN 'PodSecurity'
       WHEN said CONTAINS 'error looking up service account' OR said CONTAINS 'service account ' AND
            said CONTAINS 'was not found' THEN 'ServiceAccount'
       WHEN said =~ '(?s).*(maximum|minimum) (cpu|memory|ephemeral-storage|storage) usage per (Container|Pod) is.*'
         OR said =~ '(?s).*(cpu|memory) max limit to request ratio per (Container|Pod) is.*' THEN 'LimitRange'
       ELSE null
     END AS refused_by
WITH c, events, last, said, refused_by,
     CASE refused_by WHEN 'PodSecurity' THEN split(split(said, 'violates PodSecurity "')[1], '"')[0] END AS level,
     CASE WHEN refused_by = 'ServiceAccount' AND said CONTAINS 'serviceaccount "'
          THEN split(split(said, 'serviceaccount "')[1], '"')[0] END AS service_account
OPTIONAL MATCH (c)-[:OWNED_BY]->(top:Object)
WHERE top.kind IN ['Deployment', 'CronJob']
OPTIONAL MATCH (c)-[:OWNED_BY*0..2]->(:Object)<-[:MANAGES]-(rel:Release)
WITH c, events, last, said, refused_by, level, service_account, collect(top)[0] AS top,
     collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH c, events, last, said, refused_by, level, service_account, top, coalesce(top, c) AS w, rel,
     CASE WHEN c.kind = 'Job' THEN null
          WHEN c.kind = 'DaemonSet' THEN toString(coalesce(c.available_replicas, 0)) + ' of ' +
            coalesce(toString(c.desired_scheduled), 'an unreported number of') + ' pods available'
          ELSE toString(coalesce(c.available_replicas, 0)) + ' of ' + toString(c.replicas) + ' pods available'
     END AS short
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  c.kind + ' ' + c.namespace + '/' + c.name + ' cannot create its pods' +
    CASE refused_by
      WHEN 'PodSecurity' THEN ': they violate PodSecurity "' + level + '"'
      WHEN 'ServiceAccount' THEN ': ' + coalesce('service account ' + service_account + ' does not exist',
                                                'the service account lookup failed')
      WHEN 'LimitRange' THEN ': a LimitRange of the namespace refuses their resources'
      ELSE '' END +
    coalesce(' (' + short + ')', '') +
    CASE WHEN refused_by IS NOT NULL THEN ''
         WHEN last.source IS NULL THEN '. The event (no source recorded) says: ' + said
         ELSE '. ' + last.source + ' said: ' + said END AS summary,
  c.kind + ' ' + c.namespace + '/' + c.name + coalesce(' (owned by ' + top.kind + ' ' + top.name + ')', '') +
    ' reported FailedCreate' + coalesce(' (from ' + last.source + ')', '') + ' ' + reduce(n = 0, e IN events | n + e.count) + ' times' +
    coalesce(' from ' + toString(events[-1].first_seen), '') + coalesce(' to ' + toString(last.last_seen), '') +
    '; the latest: ' + said +
    CASE WHEN refused_by IS NULL THEN '\nThe refusal is not one kgrca classifies (PodSecurity, ServiceAccount, ' +
      'LimitRange); the message above is the controller\'s.' ELSE '' END AS details,
  [e IN events[0..5] | {kind: 'Event', name: c.name, at: e.last_seen,
    text: 'FailedCreate (x' + e.count + ')' + coalesce(' from ' + e.source, '') + ': ' + e.message}] AS evidence,
  [e IN reverse(events[0..5]) | {at: e.first_seen, what: 'FailedCreate first seen: ' + e.message}] +
  [{at: last.last_seen, what: 'FailedCreate last seen (x' + last.count + ')'}] AS event_chain,
  {namespace: c.namespace, kind_lower: toLower(c.kind), name: c.name, refused_by: refused_by,
   service_account: service_account, level: level,
   inspect: CASE refused_by
     WHEN 'PodSecurity' THEN 'kubectl get namespace ' + c.namespace + ' --show-labels'
     WHEN 'LimitRange' THEN 'kubectl -n ' + c.namespace + ' describe limitrange'
     WHEN 'ServiceAccount' THEN 'kubectl -n ' + c.namespace + ' get serviceaccounts'
     ELSE 'kubectl -n ' + c.namespace + ' get events --field-selector involvedObject.name=' + c.name END,
   fix: CASE
     WHEN refused_by = 'ServiceAccount' AND service_account IS NOT NULL
       THEN 'kubectl -n ' + c.namespace + ' create serviceaccount ' + service_account
     WHEN refused_by = 'PodSecurity'
       THEN '# set the securityContext fields the message names in the pod template of ' + toLower(w.kind) + '/' +
            w.name + ' (or change the namespace\'s pod-security.kubernetes.io/enforce label if that is intended)'
     WHEN refused_by = 'LimitRange'
       THEN 'kubectl -n ' + c.namespace + ' set resources ' + toLower(w.kind) + '/' + w.name +
            ' --requests=... --limits=...   # within the LimitRange'
     ELSE '# fix what the message names, then the controller creates the pods on its next retry' END} AS vars

// id: probe_failing
// title: A readiness or liveness probe keeps failing
// severity: medium
// confidence: 0.88
// tags: [pod, probe]
// shape: null
// explains: [workload_unavailable, crashloop, rollout_stuck, wait_timeout, partial_deployment, service_no_endpoints]
// impact: >-
//   A failing readiness probe keeps the pod out of its Services' endpoints (it gets no traffic and a
//   rollout or `helm --wait` does not finish); a failing liveness probe makes the kubelet kill and
//   restart the container over and over.
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl -n {namespace} get pod {pod} -o jsonpath='{{.spec.containers[*].{probe_field}}}'
//   - kubectl -n {namespace} logs {pod} -c {container}{previous}
//   - "{check}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// Unhealthy events of pods that are hurt by them now: readiness failures on a pod that is running but
// not ready (a pod that failed its probe twice at start and became ready is fine), liveness failures
// that make the kubelet kill the container (the pod is not ready, in back-off, or was killed lately).
MATCH (e:Event {reason: 'Unhealthy'})-[:ABOUT]->(p:Pod)
WHERE p.deleted_at IS NULL AND p.phase IN ['Running', 'Pending']
WITH p, e,
     CASE WHEN e.message STARTS WITH 'Liveness' THEN 'liveness'
          WHEN e.message STARTS WITH 'Startup' THEN 'startup'
          ELSE 'readiness' END AS probe
WITH p, probe, e ORDER BY e.last_seen DESC
WITH p, probe, collect(e) AS unhealthy, sum(e.count) AS failures, max(e.last_seen) AS last_failed
OPTIONAL MATCH (k:Event {reason: 'Killing'})-[:ABOUT]->(p)
WHERE k.message CONTAINS 'failed ' + probe + ' probe'
WITH p, probe, unhealthy, failures, last_failed, collect(k) AS kills
WITH p, probe, unhealthy, failures, last_failed, kills,
     last_failed >= coalesce($now, datetime()) - duration({seconds: $correlation_window}) AS lately
WHERE (probe = 'readiness' AND NOT p.ready AND NOT 'CrashLoopBackOff' IN p.waiting_reasons
       AND size(p.waiting_reasons) = 0)
   OR (probe IN ['liveness', 'startup'] AND (size(kills) > 0 OR failures >= 3)
       AND (NOT p.ready OR size(p.waiting_reasons) > 0 OR lately))
// The container the events name (fieldPath spec.containers{web}); an event without a fieldPath names none,
// and then only a pod with a single (non-init) container tells which it is
WITH p, probe, unhealthy, failures, last_failed, kills,
     split(split(unhealthy[0].involved_field, '{')[-1], '}')[0] AS named,
     COLLECT { MATCH (p)-[:HAD_STATE]->(s:ContainerState) WHERE NOT coalesce(s.init, false)
               RETURN DISTINCT s.container } AS seen
WITH p, probe, unhealthy, failures, last_failed, kills,
     coalesce(named, CASE WHEN size(seen) = 1 THEN seen[0] END) AS container
// Readiness is only about this pod's traffic when a liveness problem is not there as well
WITH p, collect({probe: probe, unhealthy: unhealthy, failures: failures, last_failed: last_failed, kills: kills,
                 container: container}) AS probes
WITH p, [x IN probes WHERE x.probe <> 'readiness'] + [x IN probes WHERE x.probe = 'readiness'] AS probes
WITH p, probes[0] AS worst
WITH p, worst, worst.unhealthy[0].message AS said
WITH p, worst, said,
     CASE
       WHEN said CONTAINS 'statuscode: ' THEN 'the endpoint answers HTTP ' + split(split(said, 'statuscode: ')[1], ' ')[0]
       WHEN said CONTAINS 'connection refused' THEN 'nothing listens on the probed port (connection refused)'
       WHEN said CONTAINS 'context deadline exceeded' OR said CONTAINS 'Client.Timeout' OR said CONTAINS 'timeout'
         THEN 'the endpoint does not answer within the probe timeout'
       WHEN said CONTAINS 'no such file' OR said CONTAINS 'not found' THEN 'the probe command is missing in the image'
       ELSE 'the probe fails' END AS why
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, worst, said, why, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, worst, said, why ORDER BY worst.failures DESC, p.name
WITH w, rel, collect({p: p, worst: worst, said: said, why: why}) AS failing
WITH w, rel, failing, failing[0] AS first, failing[0].p AS p, failing[0].worst AS worst
WITH w, rel, failing, first, p, worst, toUpper(left(worst.probe, 1)) + substring(worst.probe, 1) AS Probe
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  Probe + ' probe of ' + p.name + coalesce(' (container ' + worst.container + ')', ' (the kubelet named no container)') +
    ' keeps failing: ' + first.why +
    CASE WHEN worst.probe = 'readiness' THEN '; the pod is not ready'
         ELSE '; the kubelet restarts the container (' + p.restarts + ' restarts)' END +
    CASE WHEN size(failing) > 1 THEN ' (' + size(failing) + ' pods of ' + w.kind + ' ' + w.name + ')' ELSE '' END
    AS summary,
  'Pod ' + p.namespace + '/' + p.name + ' (phase ' + p.phase + ', ' + CASE WHEN p.ready THEN 'ready' ELSE 'not ready' END +
    ', ' + p.restarts + ' restarts): the ' + worst.probe + ' probe failed ' + worst.failures + ' times, last at ' +
    toString(worst.last_failed) +
    CASE WHEN first.said IS NULL THEN '. The kubelet gave no message' ELSE '. The kubelet: ' + first.said END +
    CASE WHEN size(worst.kills) > 0 THEN '. ' + worst.kills[0].message ELSE '' END AS details,
  [x IN failing | {kind: 'Pod', name: x.p.name, at: x.worst.last_failed,
    text: x.worst.probe + ' probe failed ' + x.worst.failures + ' times; ' +
      CASE WHEN x.p.ready THEN 'ready' ELSE 'not ready' END + ', ' + x.p.restarts + ' restarts'}] +
  [e IN worst.unhealthy[..5] + worst.kills[..5] | {kind: 'Event', name: p.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + '): ' + e.message}] AS evidence,
  [{at: p.created_at, what: 'pod ' + p.name + ' created'}] +
  [e IN worst.unhealthy[..5] | {at: e.first_seen, what: 'first ' + e.reason + ': ' + e.message}] +
  [e IN worst.unhealthy[..5] + worst.kills[..5] | {at: e.last_seen, what: e.reason + ' x' + e.count + ': ' + e.message}]
    AS event_chain,
  {namespace: p.namespace, pod: p.name, container: worst.container, probe: worst.probe,
   probe_field: worst.probe + 'Probe', previous: CASE WHEN worst.probe = 'readiness' THEN '' ELSE ' --previous' END,
   check: 'kubectl -n ' + p.namespace + ' port-forward pod/' + p.name + ' <port> & curl -v localhost:<port><path>' +
     '   # the probe' + "'" + 's port and path from the command above; then fix the app or the probe (initialDelaySeconds, ' +
     'timeoutSeconds, failureThreshold)'} AS vars

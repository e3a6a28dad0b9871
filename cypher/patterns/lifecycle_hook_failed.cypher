// id: lifecycle_hook_failed
// title: A container's postStart or preStop hook failed (FailedPostStartHook, FailedPreStopHook)
// severity: high
// confidence: 0.9
// tags: [pod, container, lifecycle, hook]
// shape: null
// explains: [crashloop, workload_unavailable, rollout_stuck, wait_timeout, partial_deployment, service_no_endpoints]
// impact: >-
//   A failed postStart hook makes the kubelet kill the container it just started: the container never becomes
//   ready and restarts with growing back-off. A failed preStop hook means the container was stopped without the
//   shutdown its hook was to do (connections cut, work not handed over).
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl -n {namespace} logs {pod} -c {container} --previous
//   - "{fix}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// The kubelet's FailedPostStartHook / FailedPreStopHook events about a pod. A postStart failure counts while the
// pod is not ready now (a container whose hook failed once and then ran is not a finding); a preStop failure
// while it is recent (the pod it stopped may be gone). The container is the one the message names ("for
// Container "X""), else the event's fieldPath; the hook itself is read from the pod spec where the graph has it.
MATCH (e:Event)-[:ABOUT]->(p:Pod)
WHERE e.reason IN ['FailedPostStartHook', 'FailedPreStopHook']
  AND ((e.reason = 'FailedPostStartHook' AND p.deleted_at IS NULL AND NOT coalesce(p.ready, false))
       OR (e.reason = 'FailedPreStopHook' AND e.last_seen >= coalesce($now, datetime())
             - duration({seconds: $correlation_window})))
WITH p, e ORDER BY e.last_seen DESC
WITH p, e.reason AS reason, collect(e) AS events
WITH p, reason, events, events[0] AS last, events[0].message AS said,
     reduce(n = 0, e IN events | n + e.count) AS times
WITH p, reason, events, last, said, times,
     CASE reason WHEN 'FailedPostStartHook' THEN 'postStart' ELSE 'preStop' END AS which,
     coalesce(CASE WHEN said CONTAINS 'for Container "' THEN split(split(said, 'for Container "')[1], '"')[0] END,
              CASE WHEN last.involved_field STARTS WITH 'spec.containers{'
                   THEN split(split(last.involved_field, '{')[1], '}')[0] END) AS container,
     CASE WHEN said =~ '(?s).* exited with [0-9]+.*' THEN toInteger(split(split(said, ' exited with ')[1], ':')[0])
          END AS exit_code,
     CASE WHEN said CONTAINS 'failed - error: ' THEN split(said, 'failed - error: ')[1] END AS error
// the container's state: the kubelet's PostStartHookError waiting reason, its restarts
OPTIONAL MATCH (p)-[:HAD_STATE]->(s:ContainerState)
WHERE s.container = container AND s.reason IN ['PostStartHookError', 'CrashLoopBackOff']
WITH p, reason, events, last, said, times, which, container, exit_code, error, s ORDER BY s.restart_count DESC
WITH p, reason, events, last, said, times, which, container, exit_code, error, collect(s) AS states
WITH p, reason, events, last, said, times, which, container, exit_code, error,
     [x IN states WHERE x.reason = 'PostStartHookError'][0] AS hook_state,
     reduce(m = 0, x IN states | CASE WHEN x.restart_count > m THEN x.restart_count ELSE m END) AS restarts,
     [h IN coalesce(p.lifecycle_hooks, []) WHERE h STARTS WITH container + ' ' + which + ' ' |
       substring(h, size(container + ' ' + which + ' '))][0] AS hook
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, reason, events, last, said, times, which, container, exit_code, error, hook_state, restarts, hook,
     coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, reason, events, last, said, times, which, container, exit_code, error, hook_state, restarts, hook
  ORDER BY reason DESC, times DESC, p.name
WITH w, rel, collect({p: p, reason: reason, events: events, last: last, said: said, times: times, which: which,
                      container: container, exit_code: exit_code, error: error, hook_state: hook_state,
                      restarts: restarts, hook: hook}) AS found
WITH w, rel, found, found[0] AS f
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'The ' + f.which + ' hook of container ' + coalesce(f.container, '(not named in the event)') + ' in pod ' +
    f.p.namespace + '/' + f.p.name + ' failed' +
    // a hook whose command has quotes is quoted in the evidence only: its quotes would pair with the kubelet's
    CASE WHEN f.hook IS NOT NULL AND NOT f.hook CONTAINS '"' THEN ' (' + f.hook + ')' ELSE '' END +
    coalesce(': it exited with code ' + f.exit_code, '') +
    CASE WHEN f.which = 'postStart' THEN ', so the kubelet killed it' +
           CASE WHEN f.restarts > 0 THEN ' (' + f.restarts + ' restarts' + CASE WHEN 'CrashLoopBackOff' IN
             coalesce(f.p.waiting_reasons, []) THEN ', now in CrashLoopBackOff' ELSE '' END + ')' ELSE '' END
         ELSE ', so it was stopped without the hook\'s work' END +
    '. The kubelet said: ' + coalesce(f.said, '(no message)') AS summary,
  CASE WHEN f.hook IS NULL THEN 'The pod\'s spec as the graph holds it names no ' + f.which + ' hook for ' +
         coalesce(f.container, 'this container') + '.'
       ELSE 'The ' + f.which + ' hook from the pod spec is in the evidence.' END +
    ' ' + f.reason + ' x' + f.times + coalesce(', last ' + toString(f.last.last_seen), '') + '.' +
    CASE WHEN f.hook_state IS NOT NULL THEN '\n' + coalesce(f.container, 'It') + ' waits in PostStartHookError' +
      CASE WHEN f.hook_state.message IS NULL THEN ', with no message' ELSE ' (its message is in the evidence)' END + '.'
      ELSE '' END +
    CASE WHEN size(found) > 1 THEN '\nAlso: ' + reduce(t = '', x IN found[1..] | t + CASE WHEN t = '' THEN '' ELSE '; ' END +
      x.p.name + ' (' + x.which + ', x' + x.times + ')') + '.' ELSE '' END AS details,
  [x IN found[0..5] | {kind: 'Event', name: x.p.name, at: x.last.last_seen,
    text: x.reason + ' (x' + x.times + ')' + coalesce(' from ' + x.last.source, '') + ': ' + coalesce(x.said, '(no message)')}] +
  CASE WHEN f.hook IS NULL THEN [] ELSE [{kind: 'Pod', name: f.p.name, at: null,
    text: f.which + ' hook of container ' + f.container + ': ' + f.hook}] END +
  CASE WHEN f.hook_state IS NULL THEN [] ELSE [{kind: 'Pod', name: f.p.name, at: f.hook_state.at,
    text: 'container ' + f.container + ' waiting: PostStartHookError' + coalesce(': ' + f.hook_state.message, '')}] END
    AS evidence,
  [x IN found[0..5] | {at: x.last.first_seen, what: x.reason + ' first seen on ' + x.p.name}] AS event_chain,
  {namespace: f.p.namespace, pod: f.p.name, container: coalesce(f.container, '<container>'), which: f.which,
   fix: CASE WHEN f.which = 'postStart'
             THEN '# make the postStart hook succeed (or remove it): it runs beside the container\'s entrypoint, ' +
                  'not before it, and must not depend on the process being ready'
             ELSE '# make the preStop hook finish within terminationGracePeriodSeconds and not depend on what ' +
                  'stops first' END} AS vars

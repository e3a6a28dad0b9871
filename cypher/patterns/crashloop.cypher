// id: crashloop
// title: A container keeps crashing (CrashLoopBackOff)
// severity: high
// confidence: 0.9
// tags: [pod, crashloop]
// shape: null
// explains: [rollout_stuck, wait_timeout, partial_deployment, service_no_endpoints]
// impact: >-
//   The container exits soon after every start and the kubelet waits ever longer (up to 5 minutes)
//   before the next try: the pod is never ready, so it serves no traffic and a rollout waiting on it
//   does not finish.
// resolution:
//   - kubectl -n {namespace} logs {pod} -c {container} --previous
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl -n {namespace} get events --field-selector involvedObject.name={pod}
//   - "{undo}"
:param release_key => null;

// Containers waiting in CrashLoopBackOff now: the pod's current waiting reasons say so (a pod that
// crashed once and runs again has none); the history nodes give the container and its restarts.
MATCH (s:ContainerState {reason: 'CrashLoopBackOff'})<-[:HAD_STATE]-(p:Pod)
WHERE p.deleted_at IS NULL AND 'CrashLoopBackOff' IN p.waiting_reasons
WITH p, s.container AS container, max(s.restart_count) AS restarts, collect(s.message)[0] AS backoff,
     collect(s.image)[0] AS image
// Its last termination: why it died, with which exit code, and what it said
OPTIONAL MATCH (p)-[:HAD_STATE]->(t:ContainerState {state: 'terminated'})
WHERE t.container = container
WITH p, container, restarts, backoff, image, t ORDER BY t.restart_count DESC, t.finished_at DESC
WITH p, container, restarts, backoff, image, collect(t)[0] AS last
WITH p, container, restarts, backoff, coalesce(last.image, image) AS image, last,
     CASE
       WHEN last IS NULL THEN 'no termination was recorded'
       WHEN last.reason = 'OOMKilled' THEN 'it was killed for using more memory than its limit (OOMKilled' +
         coalesce(', exit ' + toString(last.exit_code), '') + ')'
       WHEN last.exit_code = 0 THEN 'its process exited successfully (exit 0), but a long-running container must not exit'
       WHEN last.exit_code = 127 THEN 'its command was not found in the image (exit 127)'
       WHEN last.exit_code = 126 THEN 'its command is not executable (exit 126)'
       WHEN last.exit_code = 137 THEN 'it was killed by SIGKILL (exit 137): a failing liveness probe or the memory limit'
       WHEN last.exit_code = 139 THEN 'it crashed with a segmentation fault (exit 139)'
       WHEN last.exit_code = 143 THEN 'it was stopped by SIGTERM (exit 143)'
       WHEN last.exit_code IN [128, 255] AND last.reason = 'ContainerCannotRun'
         THEN 'the runtime could not start it (' + coalesce(last.message, 'ContainerCannotRun') + ')'
       WHEN last.exit_code IS NULL THEN 'it terminated with no exit code recorded' + coalesce(' (' + last.reason + ')', '')
       ELSE 'its process exited with code ' + last.exit_code + coalesce(' (' + last.reason + ')', '')
     END AS why
// The workload it belongs to (Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob) and its release
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, container, restarts, backoff, image, last, why, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.reason IN ['BackOff', 'Failed', 'Killing', 'Unhealthy'] AND (e.type = 'Warning' OR e.reason = 'Killing')
  AND NOT e.message STARTS WITH 'Back-off pulling'
WITH p, container, restarts, backoff, image, last, why, w, rel, e ORDER BY e.last_seen
WITH p, container, restarts, backoff, image, last, why, w, rel, collect(e) AS events
WITH w, rel, p, container, restarts, backoff, image, last, why, events ORDER BY restarts DESC, p.name
WITH w, rel, collect({p: p, container: container, restarts: restarts, backoff: backoff, image: image, last: last,
                     why: why, events: events}) AS crashing
WITH w, rel, crashing, crashing[0] AS worst
WITH w, rel, crashing, worst, worst.p AS p, worst.last AS last
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(prev:Revision)
WHERE prev.version < rel.latest_version AND prev.status IN ['deployed', 'superseded']
WITH w, rel, crashing, worst, p, last, max(prev.version) AS good_version
WITH w, rel, crashing, worst, p, last,
     CASE
       WHEN rel IS NOT NULL AND good_version IS NOT NULL
         THEN 'helm rollback ' + rel.name + ' ' + good_version + ' -n ' + rel.namespace
       WHEN w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet']
         THEN 'kubectl -n ' + w.namespace + ' rollout undo ' + toLower(w.kind) + '/' + w.name
       ELSE 'kubectl -n ' + p.namespace + ' delete pod ' + p.name + '   # after fixing the cause, to restart now'
     END AS undo
// the last lines of the container's log, where kgrca read them (kg_builder/facts_logs.py): evidence; what they
// say is container_log_error's to tell
OPTIONAL MATCH (p)-[:LOGGED]->(log:ContainerLog)
WHERE (log.container = worst.container OR (log.container = '' AND size(coalesce(p.images, [])) = 1))
  AND (log.pod_uid IS NULL OR log.pod_uid = p.uid)
WITH w, rel, crashing, worst, p, last, undo, collect(log)[0] AS log
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  CASE WHEN w = p THEN 'Pod ' + p.name ELSE w.kind + ' ' + w.name + ': ' + size(crashing) +
    CASE WHEN size(crashing) = 1 THEN ' pod' ELSE ' pods' END END +
    ' in CrashLoopBackOff; container ' + worst.container + ' of ' + p.name + ' restarted ' + worst.restarts +
    ' times: ' + worst.why AS summary,
  'Container ' + worst.container + coalesce(' (' + worst.image + ')', '') + ' of pod ' + p.namespace + '/' + p.name +
    CASE WHEN last IS NULL THEN ' has no recorded termination'
         ELSE ' last terminated' + coalesce(' at ' + toString(last.finished_at), '') +
           coalesce(' with reason ' + last.reason, ', no reason given') +
           coalesce(' and exit code ' + toString(last.exit_code), ', no exit code recorded') END +
    CASE WHEN last.message IS NULL THEN '' ELSE '; it said: ' + last.message END +
    CASE WHEN worst.backoff IS NULL THEN '. The kubelet gave no message.' ELSE '. The kubelet: ' + worst.backoff + '.' END +
    CASE WHEN size(crashing) > 1 THEN ' Also crashing: ' +
      reduce(t = '', c IN crashing[1..] | t + c.p.name + ' (' + c.restarts + ' restarts) ') ELSE '' END AS details,
  [c IN crashing | {kind: 'Pod', name: c.p.name, at: c.last.finished_at,
    text: 'container ' + c.container + ' CrashLoopBackOff after ' + c.restarts + ' restarts; ' +
      CASE WHEN c.last IS NULL THEN 'no termination recorded'
           ELSE 'last exit code ' + coalesce(toString(c.last.exit_code), 'not recorded') +
             coalesce(' (' + c.last.reason + ')', '') END}] +
  [e IN worst.events[-5..] | {kind: 'Event', name: p.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + coalesce(': ' + e.message, ', no message')}] +
  CASE WHEN log IS NULL THEN [] ELSE [x IN [y IN log.lines WHERE trim(y) <> ''][-3..] |
    {kind: 'Log', name: p.name, at: log.fetched_at,
     text: 'last log lines of container ' + worst.container + ': ' + x}] END AS evidence,
  [{at: p.created_at, what: 'pod ' + p.name + ' created'},
   {at: last.started_at, what: 'container ' + worst.container + ' started' +
     coalesce(' (restart ' + toString(last.restart_count) + ')', '')},
   {at: last.finished_at, what: 'container ' + worst.container + ' terminated' +
     coalesce(' with exit code ' + toString(last.exit_code), ', no exit code recorded') +
     coalesce(' (' + last.reason + ')', '')}] +
  [e IN worst.events[-5..] | {at: e.last_seen, what: e.reason + coalesce(': ' + e.message, ', no message')}]
    AS event_chain,
  {namespace: p.namespace, pod: p.name, container: worst.container, workload: w.name, undo: undo,
   exit_code: last.exit_code, reason: last.reason} AS vars

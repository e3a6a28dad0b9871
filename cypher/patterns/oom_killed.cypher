// id: oom_killed
// title: A container is killed for exceeding its memory limit (OOMKilled)
// severity: high
// confidence: 0.93
// tags: [pod, memory, oom]
// shape: null
// explains: [workload_unavailable, crashloop, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The kernel kills the container each time it grows past its memory limit (exit 137); requests in
//   flight are lost, the pod restarts and, when it happens again and again, falls into CrashLoopBackOff.
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl -n {namespace} top pod {pod} --containers
//   - kubectl -n {namespace} logs {pod} -c {container} --previous
//   - "{raise_limit}"
:param release_key => null;

// Containers whose last termination was OOMKilled and which are not back to health: waiting to
// restart now, or killed again and again (a single OOM kill long ago on a pod running fine is not a
// finding: see the near-miss scenario oom_killed_once_running).
MATCH (t:ContainerState {reason: 'OOMKilled'})<-[:HAD_STATE]-(p:Pod)
WHERE p.deleted_at IS NULL AND t.state = 'terminated'
WITH p, t.container AS container, count(DISTINCT t.restart_count) AS kills, max(t.restart_count) AS last_killed
MATCH (p)-[:HAD_STATE]->(t:ContainerState {reason: 'OOMKilled', restart_count: last_killed})
WHERE t.container = container
WITH p, container, kills, last_killed, collect(t)[0] AS last
// The newest state of that container: a restart after the kill that is still running and ready is health
OPTIONAL MATCH (p)-[:HAD_STATE]->(now_state:ContainerState)
WHERE now_state.container = container AND now_state.restart_count > last_killed
WITH p, container, kills, last, collect(now_state.state) AS later
WHERE size(p.waiting_reasons) > 0 OR NOT p.ready OR kills >= 3 OR p.restarts >= 3 OR size(later) = 0
// The memory limit: per container in spec order; with one container, or all alike, it is that container's;
// otherwise the list, since the graph does not record which limit is the killed container's
WITH p, container, kills, last,
     CASE WHEN size(coalesce(p.memory_limits, [])) = 1 THEN p.memory_limits[0]
          WHEN size(p.memory_limits) > 1 AND all(l IN p.memory_limits WHERE l = p.memory_limits[0])
            THEN p.memory_limits[0]
          WHEN any(l IN coalesce(p.memory_limits, []) WHERE l <> '')
            THEN reduce(s = '', l IN p.memory_limits | s + CASE WHEN s = '' THEN '' ELSE ', ' END +
                        CASE WHEN l = '' THEN 'none' ELSE l END)
          ELSE '' END AS limit
WITH p, container, kills, last, limit,
     [u IN ['Ki', 'Mi', 'Gi', 'Ti', 'k', 'M', 'G', 'T'] WHERE limit ENDS WITH u][0] AS unit
WITH p, container, kills, last, limit,
     CASE WHEN limit =~ '[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?'
          THEN toString(2 * toInteger(left(limit, size(limit) - size(coalesce(unit, ''))))) + coalesce(unit, '')
          ELSE '<a larger size, e.g. 1Gi>' END AS doubled
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, container, kills, last, limit, doubled, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, container, kills, last, limit, doubled ORDER BY kills DESC, p.restarts DESC, p.name
WITH w, rel, collect({p: p, container: container, kills: kills, last: last}) AS killed,
     collect(limit)[0] AS limit, collect(doubled)[0] AS doubled
WITH w, rel, killed, limit, doubled, killed[0].p AS p, killed[0].container AS container, killed[0].last AS last
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'Container ' + container + ' of ' + p.name + ' was OOMKilled' + coalesce(' (exit ' + toString(last.exit_code) + ')', '') +
    CASE WHEN limit = '' THEN ' with no memory limit set: the node ran out of memory'
               WHEN limit CONTAINS ', ' THEN ': its pod' + "'" + 's containers have memory limits ' + limit +
                 ' (in spec order; which is ' + container + "'" + 's is not recorded)'
               ELSE ': it needs more than its memory limit of ' + limit END +
    CASE WHEN size(killed) > 1 THEN ' (' + size(killed) + ' pods of ' + w.kind + ' ' + w.name + ')' ELSE '' END
    AS summary,
  'Pod ' + p.namespace + '/' + p.name + ', container ' + container + coalesce(' (' + last.image + ')', '') +
    ': terminated with reason OOMKilled' + coalesce(', exit code ' + toString(last.exit_code), ', no exit code recorded') +
    coalesce(' at ' + toString(last.finished_at), '') + coalesce(' after running since ' + toString(last.started_at), '') +
    '; ' + killed[0].kills +
    ' OOM kill(s) seen, ' + p.restarts + ' restarts in all; now ' +
    CASE WHEN size(p.waiting_reasons) > 0
           THEN 'waiting: ' + reduce(s = '', r IN p.waiting_reasons | s + CASE WHEN s = '' THEN '' ELSE ', ' END + r)
         WHEN p.ready THEN 'running' ELSE 'not ready' END +
    CASE WHEN limit CONTAINS ', ' THEN '. Memory limits of its containers in spec order: ' ELSE '. Memory limit: ' END +
    CASE WHEN limit = '' THEN 'none' ELSE limit END + '.' AS details,
  [k IN killed | {kind: 'Pod', name: k.p.name, at: k.last.finished_at,
    text: 'container ' + k.container + ' terminated: OOMKilled' +
      coalesce(', exit code ' + toString(k.last.exit_code), ', no exit code recorded') +
      CASE WHEN limit CONTAINS ', ' THEN ', pod memory limits ' ELSE ', memory limit ' END + CASE WHEN limit = '' THEN 'none' ELSE limit END +
      ', restarts ' + k.p.restarts}] AS evidence,
  [{at: last.started_at, what: 'container ' + container + ' of ' + p.name + ' started'},
   {at: last.finished_at, what: 'container ' + container + ' OOMKilled' +
     coalesce(' (exit ' + toString(last.exit_code) + ')', '')}] AS event_chain,
  {namespace: p.namespace, pod: p.name, container: container, memory_limit: limit, new_limit: doubled,
   raise_limit: CASE
     WHEN rel IS NOT NULL THEN 'helm upgrade ' + rel.name + ' <chart> -n ' + rel.namespace +
       ' --reuse-values --set resources.limits.memory=' + doubled
     WHEN w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']
       THEN 'kubectl -n ' + w.namespace + ' set resources ' + toLower(w.kind) + '/' + w.name + ' -c ' + container +
         ' --limits=memory=' + doubled
     ELSE '# pods cannot be resized in place: raise resources.limits.memory of ' + container + ' to ' + doubled +
       ' in the manifest of ' + p.name + ' and recreate it' END} AS vars

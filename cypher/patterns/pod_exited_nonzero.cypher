// id: pod_exited_nonzero
// title: A pod's container exited non-zero and will not be restarted
// severity: medium
// confidence: 0.85
// tags: [pod, exit]
// shape: null
// explains: [partial_deployment, wait_timeout]
// impact: >-
//   With restartPolicy Never (or OnFailure once the pod failed) the kubelet does not start the container
//   again: the pod stays terminated and whatever it was to do is not done until someone runs it again.
// resolution:
//   - kubectl -n {namespace} logs {pod} -c {container}
//   - kubectl -n {namespace} describe pod {pod}
//   - "# after fixing the cause, delete the pod and create it again: a terminated pod is not restarted"
:param release_key => null;

// Pods kg_builder marks exited_nonzero (a container's current state is terminated with a non-zero exit code and
// the restart policy will not restart it), indexed. Not here: a Job's pods (job_failed tells the Job), Helm hook
// and test pods (the hook patterns), CI pods that ran helm (the helm patterns), evicted pods (evicted) and OOM
// kills (oom_killed).
MATCH (p:Pod {exited_nonzero: true})
USING INDEX p:Pod(exited_nonzero)
WHERE p.deleted_at IS NULL AND p.helm_hook IS NULL AND coalesce(p.reason, '') <> 'Evicted'
  AND NOT EXISTS { (p)-[:OWNED_BY]->(:Job) }
  // a CI pod whose helm run failed: the helm patterns tell that run (kg_builder/ci_pods.py links it)
  AND NOT EXISTS { (p)-[:RAN]->(:HelmOperation) }
// the containers' current terminated states: the newest restart of each container the pod lists as stopped
MATCH (p)-[:HAD_STATE]->(t:ContainerState {state: 'terminated'})
WHERE t.container IN p.exited_containers AND t.exit_code IS NOT NULL AND t.exit_code <> 0
WITH p, t ORDER BY t.restart_count DESC
WITH p, t.container AS container, collect(t)[0] AS t
WHERE coalesce(t.reason, '') <> 'OOMKilled'
WITH p, t ORDER BY t.finished_at
WITH p, collect(t) AS stopped
OPTIONAL MATCH (p)-[:OWNED_BY*0..1]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, stopped, stopped[0] AS first, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
OPTIONAL MATCH (p)-[:OWNED_BY]->(owner:Object)
WITH p, stopped, first, rel, collect(owner)[0] AS owner
OPTIONAL MATCH (p)-[:LOGGED]->(log:ContainerLog)
WHERE (log.container = first.container OR (log.container = '' AND size(coalesce(p.images, [])) = 1))
  AND (log.pod_uid IS NULL OR log.pod_uid = p.uid)
WITH p, stopped, first, rel, owner, collect(log)[0] AS log
RETURN
  rel.key AS release_key,
  {kind: 'Pod', namespace: p.namespace, name: p.name, cluster: p.cluster} AS subject,
  'Pod ' + p.namespace + '/' + p.name + ' (restartPolicy ' + p.restart_policy + '): container ' + first.container +
    ' exited with code ' + first.exit_code + coalesce(' (' + first.reason + ')', ', no reason given') +
    ' and was not restarted' AS summary,
  'Container ' + first.container + coalesce(' (' + first.image + ')', '') + ' of pod ' + p.namespace + '/' +
    p.name + coalesce(' (owned by ' + owner.kind + ' ' + owner.name + ')', '') +
    ' terminated' + coalesce(' at ' + toString(first.finished_at), '') + ' with exit code ' + first.exit_code +
    coalesce(', reason ' + first.reason, ', no reason given') +
    CASE WHEN first.message IS NULL THEN '; it left no termination message.'
         ELSE '; its termination message: ' + first.message END +
    '\nThe pod is ' + coalesce(p.phase, 'in no reported phase') + '; its restartPolicy ' + p.restart_policy +
    ' does not restart it.' +
    CASE WHEN size(stopped) > 1 THEN '\nAlso stopped: ' +
      reduce(s = '', t IN stopped[1..] | s + CASE WHEN s = '' THEN '' ELSE ', ' END + t.container + ' exit ' +
        t.exit_code) + '.' ELSE '' END AS details,
  [t IN stopped | {kind: 'Pod', name: p.name, at: t.finished_at,
    text: 'container ' + t.container + ' terminated with exit code ' + t.exit_code +
      coalesce(' (' + t.reason + ')', '') + coalesce(': ' + t.message, ', no termination message')}] +
  CASE WHEN log IS NULL THEN [] ELSE [x IN [y IN log.lines WHERE trim(y) <> ''][-3..] |
    {kind: 'Log', name: p.name, at: log.fetched_at,
     text: 'last log lines of container ' + first.container + ': ' + x}] END AS evidence,
  [{at: p.created_at, what: 'pod ' + p.name + ' created'}] +
  [t IN stopped | {at: t.finished_at, what: 'container ' + t.container + ' exited with code ' + t.exit_code}]
    AS event_chain,
  {namespace: p.namespace, pod: p.name, container: first.container, exit_code: first.exit_code} AS vars

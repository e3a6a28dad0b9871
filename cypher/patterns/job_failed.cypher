// id: job_failed
// title: A Job failed (backoff limit or active deadline reached)
// severity: high
// confidence: 0.9
// tags: [workload, job]
// shape: null
// explains: [pod_exited_nonzero, partial_deployment, wait_timeout]
// impact: >-
//   The Job controller gave up: it starts no new pod, and whatever the Job was to do (a migration, a
//   backup, a report) is not done. A failed Job is not retried; only a new Job runs it again.
// resolution:
//   - kubectl -n {namespace} logs {pod} -c {container}
//   - kubectl -n {namespace} describe job {job}
//   - "{rerun}"
:param release_key => null;

// Jobs with a Failed=True condition now (kg_builder marks them unhealthy, indexed), that are not Helm hooks:
// a hook's Job is told by hook_script_failed / hook_deadline with its release's operation.
MATCH (j:Object {unhealthy: true})
USING INDEX j:Object(unhealthy)
WHERE j:Job AND j.deleted_at IS NULL AND j.failed_reason IS NOT NULL AND j.helm_hook IS NULL
  AND NOT EXISTS { (:Hook)-[:RAN_AS]->(j) }
  // a CI Job whose pod ran helm: the helm patterns tell that run with helm's own words
  AND NOT EXISTS { (j)<-[:OWNED_BY]-(:Pod)-[:RAN]->(:HelmOperation) }
OPTIONAL MATCH (j)-[:OWNED_BY]->(cj:CronJob)
OPTIONAL MATCH (j)-[:OWNED_BY*0..1]->(:Object)<-[:MANAGES]-(rel:Release)
WITH j, cj, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
// Its pods' terminations with a non-zero exit code, the newest first: the container that failed, not the first
OPTIONAL MATCH (p:Pod)-[:OWNED_BY]->(j)
OPTIONAL MATCH (p)-[:HAD_STATE]->(t:ContainerState {state: 'terminated'})
WHERE t.exit_code IS NOT NULL AND t.exit_code <> 0
WITH j, cj, rel, p, t ORDER BY t.finished_at DESC, p.name
WITH j, cj, rel, collect(DISTINCT p) AS pods, [x IN collect({p: p, t: t}) WHERE x.t IS NOT NULL] AS failures
WITH j, cj, rel, pods, failures, failures[0].p AS fp, failures[0].t AS ft
OPTIONAL MATCH (e:Event)-[:ABOUT]->(j)
WHERE e.type = 'Warning'
WITH j, cj, rel, pods, failures, fp, ft, e ORDER BY e.last_seen
WITH j, cj, rel, pods, failures, fp, ft, collect(e)[-5..] AS events
OPTIONAL MATCH (fp)-[:LOGGED]->(log:ContainerLog)
WHERE (log.container = ft.container OR (log.container = '' AND size(coalesce(fp.images, [])) = 1))
  AND (log.pod_uid IS NULL OR log.pod_uid = fp.uid)
WITH j, cj, rel, pods, failures, fp, ft, events, collect(log)[0] AS log
WITH j, cj, rel, pods, failures, fp, ft, events, log,
     CASE WHEN ft IS NULL THEN 'no pod of it was seen terminating with a non-zero exit code' +
            CASE WHEN size(pods) = 0 THEN ' (no pod of it was observed)' ELSE '' END
          ELSE 'container ' + ft.container + ' of pod ' + fp.name + ' exited with code ' + ft.exit_code +
            coalesce(' (' + ft.reason + ')', ', no reason given') +
            CASE WHEN ft.message IS NULL THEN ' and left no termination message'
                 ELSE '; its termination message: ' + ft.message END END AS why
RETURN
  rel.key AS release_key,
  {kind: 'Job', namespace: j.namespace, name: j.name, cluster: j.cluster} AS subject,
  'Job ' + j.namespace + '/' + j.name + ' failed (' + j.failed_reason + '): ' + why AS summary,
  'Job ' + j.namespace + '/' + j.name + coalesce(' (created by CronJob ' + cj.name + ')', '') +
    ' has condition Failed=True with reason ' + j.failed_reason +
    CASE WHEN j.failed_message IS NULL THEN ' and no message' ELSE ': ' + j.failed_message END +
    coalesce(' at ' + toString(j.failed_at), '') + '. ' +
    'Pods failed: ' + j.failed + ', succeeded: ' + j.succeeded +
    coalesce(', backoffLimit ' + toString(j.backoff_limit), ', no backoffLimit recorded') +
    coalesce(', activeDeadlineSeconds ' + toString(j.active_deadline_seconds), '') + '. ' +
    toUpper(substring(why, 0, 1)) + substring(why, 1) +
    CASE WHEN size(failures) > 1 THEN '\nEarlier failures: ' +
      reduce(s = '', x IN failures[1..4] | s + CASE WHEN s = '' THEN '' ELSE '; ' END + x.p.name + ' ' +
        x.t.container + ' exit ' + x.t.exit_code + coalesce(' (' + x.t.reason + ')', '')) + '.' ELSE '' END AS details,
  [{kind: 'Job', name: j.namespace + '/' + j.name, at: j.failed_at,
    text: 'Failed=True ' + j.failed_reason + coalesce(': ' + j.failed_message, ', no message')}] +
  [x IN failures[0..3] | {kind: 'Pod', name: x.p.name, at: x.t.finished_at,
    text: 'container ' + x.t.container + ' terminated with exit code ' + x.t.exit_code +
      coalesce(' (' + x.t.reason + ')', '') + coalesce(': ' + x.t.message, ', no termination message')}] +
  [e IN events | {kind: 'Event', name: j.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + coalesce(': ' + e.message, ', no message')}] +
  CASE WHEN log IS NULL THEN [] ELSE [x IN [y IN log.lines WHERE trim(y) <> ''][-3..] |
    {kind: 'Log', name: fp.name, at: log.fetched_at,
     text: 'last log lines of container ' + ft.container + ': ' + x}] END AS evidence,
  [{at: j.start_time, what: 'Job ' + j.name + ' started'}] +
  [x IN reverse(failures[0..3]) | {at: x.t.finished_at, what: 'pod ' + x.p.name + ' container ' + x.t.container +
    ' exited with code ' + x.t.exit_code}] +
  [{at: j.failed_at, what: 'Job ' + j.name + ' failed: ' + j.failed_reason}] AS event_chain,
  {namespace: j.namespace, job: j.name, pod: fp.name, container: ft.container, exit_code: ft.exit_code,
   cronjob: cj.name,
   rerun: CASE WHEN cj IS NOT NULL
               THEN 'kubectl -n ' + j.namespace + ' create job ' + cj.name + '-manual --from=cronjob/' + cj.name
               ELSE '# after fixing the cause, delete the Job and create it again: a failed Job is not retried' END}
    AS vars

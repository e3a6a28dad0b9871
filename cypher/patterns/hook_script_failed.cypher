// id: hook_script_failed
// title: A Helm hook's script failed (BackoffLimitExceeded)
// severity: high
// confidence: 0.9
// tags: [helm, hook, job]
// shape: hook_failure
// explains: [wait_timeout, partial_deployment, stuck_release]
// impact: >-
//   The hook Job's container kept exiting with an error until the Job gave up, so helm marked the revision
//   failed. For a pre-* hook nothing was applied; for a post-* hook the workloads already run the new
//   revision while the release says failed.
// resolution:
//   - kubectl -n {hook_namespace} logs {pod} --all-containers --timestamps
//   - kubectl -n {hook_namespace} describe job {job}
//   - "# fix what the hook reports ({cause}), then upgrade again, or go back:"
//   - "{undo}"
:param release_key => null;

// The hook's Job failed with reason BackoffLimitExceeded (helm: "job <name> failed: BackoffLimitExceeded",
// "job failed: BackoffLimitExceeded", helm 4: "resource Job/ns/x not ready. status: Failed, message: Job
// Failed. failed: n/m"). The exit code and the last log line (the termination message, which is the log
// tail with terminationMessagePolicy FallbackToLogsOnError) come from the pods' terminated states.
// When the Job itself was never seen (deleted by a hook-failed policy), helm's description alone is used,
// at a lower confidence.
MATCH (rev:Revision)
USING INDEX rev:Revision(status)
WHERE rev.status IN ['failed', 'pending-install', 'pending-upgrade', 'pending-rollback']
  AND ($release_key IS NULL OR rev.release_key = $release_key)
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
MATCH (rev)-[:HAS_HOOK]->(h:Hook)
WHERE coalesce(h.phase, 'Unknown') <> 'Succeeded'
OPTIONAL MATCH (h)-[:RAN_AS]->(j:Job)
WITH rel, rev, h, j, coalesce(rev.description, '') AS said
WHERE j.failed_reason = 'BackoffLimitExceeded'
   OR (j IS NULL AND h.phase = 'Failed' AND rev.status = 'failed'
       AND (said CONTAINS 'BackoffLimitExceeded' OR said CONTAINS 'Job Failed. failed:')
       AND (said CONTAINS h.name OR NOT said =~ '(?s).*job [a-z0-9][-a-z0-9.]* failed.*'))
OPTIONAL MATCH (p:Pod)-[:OWNED_BY]->(j)
OPTIONAL MATCH (p)-[:HAD_STATE]->(s:ContainerState {state: 'terminated'})
WHERE s.exit_code IS NOT NULL AND s.exit_code <> 0
WITH rel, rev, h, j, p, s ORDER BY s.at DESC
WITH rel, rev, h, j, collect(DISTINCT p) AS pods, collect(s) AS failures
WITH rel, rev, h, j, pods, failures, failures[0] AS last
WITH rel, rev, h, j, pods, failures, last,
     [x IN pods WHERE (x)-[:HAD_STATE]->(last)][0] AS last_pod,
     CASE WHEN last IS NULL OR last.message IS NULL THEN null
          ELSE trim(reverse(split(reverse(trim(last.message)), '\n')[0])) END AS last_line
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, h, j, pods, failures, last, last_pod, last_line, max(good.version) AS last_good,
     CASE
       WHEN last IS NULL THEN 'no exit code recorded'
       WHEN last.reason = 'OOMKilled' THEN 'exit code ' + last.exit_code + ', OOMKilled: out of memory'
       WHEN last.exit_code = 137 THEN 'exit code 137: killed (SIGKILL)'
       WHEN last.exit_code = 143 THEN 'exit code 143: terminated (SIGTERM)'
       ELSE 'exit code ' + last.exit_code
     END AS exit_text
RETURN
  rel.key AS release_key,
  CASE WHEN j IS NULL THEN {kind: h.kind, namespace: h.namespace, name: h.name}
       ELSE {kind: 'Job', namespace: j.namespace, name: j.name} END AS subject,
  'The ' + coalesce(h.events[0], 'helm') + ' hook Job ' + h.name + ' failed' +
    CASE WHEN j IS NULL THEN '' ELSE coalesce(' ' + toString(j.failed) + ' time(s)', '') END +
    ' (BackoffLimitExceeded); ' + exit_text +
    CASE WHEN last_line IS NULL THEN '' ELSE ': "' + last_line + '"' END AS summary,
  'Hook ' + h.name + coalesce(' (' + h.path + ')', '') + ' of revision ' + rev.version + ' ran from ' +
    coalesce(toString(h.started_at), 'a time helm did not record') + ' to ' +
    coalesce(toString(h.completed_at), 'a time helm did not record') + '. ' +
    CASE WHEN j IS NULL THEN 'Its Job is gone from the cluster (deleted by its hook-delete-policy?). '
         ELSE 'Its Job allowed ' + coalesce(toString(j.backoff_limit) + ' retries', 'retries (backoffLimit not recorded)') +
              '; ' + size(pods) + ' pod(s) ran. ' END +
    CASE WHEN coalesce(rev.description, '') = '' THEN 'Helm recorded no description.'
         ELSE 'Helm said: ' + rev.description END +
    CASE WHEN last IS NULL OR last.message IS NULL THEN ''
         WHEN last_pod IS NULL THEN '\nTermination message of its last failed pod' +
           coalesce(' (container ' + last.container + ')', '') + ':\n' + last.message
         ELSE '\nTermination message of ' + last_pod.name + coalesce(' (container ' + last.container + ')', '') + ':\n' +
           last.message END
  AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
    text: rev.status + CASE WHEN coalesce(rev.description, '') = '' THEN ', no description'
                            ELSE ': ' + rev.description END},
   {kind: 'Hook', name: h.name, at: h.started_at, text: coalesce('phase ' + h.phase, 'no phase reported')}] +
  CASE WHEN j IS NULL THEN [] ELSE [{kind: 'Job', name: j.name, at: coalesce(j.start_time, j.created_at),
    text: coalesce(j.failed_reason, 'no reason given') + coalesce(': ' + j.failed_message, ', no message') + ' (failed ' +
          coalesce(toString(j.failed), 'not reported') + ', backoffLimit ' + coalesce(toString(j.backoff_limit), 'not recorded') +
          ')'}]
  END +
  [x IN pods | {kind: 'Pod', name: x.name, at: x.created_at, text: coalesce('phase ' + x.phase, 'no phase reported')}] +
  [f IN failures | {kind: 'ContainerState', name: f.container, at: f.at,
                    text: 'terminated, exit code ' + f.exit_code + coalesce(' (' + f.reason + ')', '') +
                          coalesce(': ' + f.message, '')}] AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' started'},
   {at: h.started_at, what: 'hook ' + h.name + ' started'}] +
  [f IN failures | {at: f.at, what: 'container ' + f.container + ' exited with code ' + f.exit_code}] +
  [{at: h.completed_at, what: 'helm marked hook ' + h.name + ' ' + coalesce(h.phase, 'with no phase')}] AS event_chain,
  CASE WHEN last IS NULL THEN 0.8 ELSE 0.9 END AS confidence,
  {hook_namespace: coalesce(j.namespace, h.namespace), job: coalesce(j.name, h.name),
   pod: coalesce(last_pod.name, 'job/' + coalesce(j.name, h.name)), cause: exit_text,
   undo: CASE WHEN last_good IS NULL THEN 'helm uninstall ' + rel.name + ' -n ' + rel.namespace
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END} AS vars

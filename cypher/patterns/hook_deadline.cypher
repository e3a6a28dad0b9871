// id: hook_deadline
// title: A Helm hook ran past its deadline or helm's --timeout
// severity: high
// confidence: 0.9
// tags: [helm, hook, timeout]
// shape: hook_failure
// explains: [wait_timeout, partial_deployment, stuck_release]
// impact: >-
//   Helm gave up on the hook, so the revision is failed and nothing after the hook ran (for a pre-* hook
//   the workloads still run the previous revision; for a post-* hook they already run the new one).
// resolution:
//   - kubectl -n {hook_namespace} logs job/{job} --all-containers --timestamps
//   - kubectl -n {hook_namespace} describe job {job}
//   - "# {fix}"
//   - "{undo}"
:param release_key => null;

// Two ways a hook runs out of time:
// * the hook Job's own spec.activeDeadlineSeconds: the Job fails with reason DeadlineExceeded;
// * helm's --timeout (default 5m): the revision fails with "timed out waiting for the condition"
//   (helm < 3.12), "context deadline exceeded" (>= 3.12) or "not ready. status: InProgress" (helm 4)
//   in a hook's context, while the hook Job was still active (not failed, not complete).
// A hook whose pod could not pull, schedule or connect is a consequence of those patterns (they
// list hook_deadline in their explains).
MATCH (rev:Revision)
USING INDEX rev:Revision(status)
WHERE rev.status = 'failed' AND ($release_key IS NULL OR rev.release_key = $release_key)
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
MATCH (rev)-[:HAS_HOOK]->(h:Hook)-[:RAN_AS]->(j:Job)
WHERE coalesce(h.phase, 'Unknown') <> 'Succeeded'
WITH rel, rev, h, j, toLower(coalesce(rev.description, '')) AS said
WITH rel, rev, h, j, said,
     j.failed_reason = 'DeadlineExceeded' AS own_deadline,
     (said CONTAINS 'timed out waiting for the condition' OR said CONTAINS 'context deadline exceeded'
      OR said CONTAINS 'status: inprogress')
     AND (said CONTAINS 'hook' OR said CONTAINS 'failed pre-' OR said CONTAINS 'failed post-')
     AND j.failed_reason IS NULL AND NOT coalesce(j.complete, false) AS helm_timeout
WHERE own_deadline OR helm_timeout
OPTIONAL MATCH (p:Pod)-[:OWNED_BY]->(j)
WITH rel, rev, h, j, own_deadline, helm_timeout, p ORDER BY p.created_at DESC
WITH rel, rev, h, j, own_deadline, helm_timeout, collect(p) AS pods
WITH rel, rev, h, j, own_deadline, helm_timeout, pods, pods[0] AS last_pod
OPTIONAL MATCH (op:HelmOperation)-[:PRODUCED]->(rev)
WITH rel, rev, h, j, own_deadline, helm_timeout, pods, last_pod, collect(op)[0] AS op
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, h, j, own_deadline, helm_timeout, pods, last_pod, op, max(good.version) AS last_good,
     duration.inSeconds(h.started_at, coalesce(h.completed_at, rev.last_deployed)).seconds AS ran_for
WITH rel, rev, h, j, own_deadline, helm_timeout, pods, last_pod, op, last_good, ran_for,
     // what helm's --timeout was, as far as it was observed: its command line shows the flag, or shows none
     // (then helm's documented default applied), or no helm process was recorded at all
     CASE WHEN op.timeout IS NOT NULL THEN '--timeout ' + op.timeout
          WHEN op.argv IS NOT NULL THEN 'its --timeout (none on its command line, so helm' + "'" +
            's documented default, 5m0s)'
          ELSE 'its --timeout (not observed: no helm process was recorded)' END AS helm_limit
RETURN
  rel.key AS release_key,
  {kind: 'Job', namespace: j.namespace, name: j.name, cluster: j.cluster} AS subject,
  CASE WHEN own_deadline
    THEN 'The ' + coalesce(h.events[0], 'helm') + ' hook Job ' + j.name + ' ran past its activeDeadlineSeconds' +
         coalesce(' (' + toString(j.active_deadline_seconds) + 's)', ' (its value not recorded)') + ': DeadlineExceeded'
    ELSE 'The ' + coalesce(h.events[0], 'helm') + ' hook Job ' + j.name + ' was still running when helm gave up ' +
         'after ' + helm_limit
  END AS summary,
  'Hook ' + h.name + coalesce(' (' + h.path + ')', '') + ' of revision ' + rev.version + coalesce(' ran from ' + toString(h.started_at), ' ran from a time helm did not record') +
    coalesce(' for ' + toString(ran_for) + 's', '') + '. ' +
    CASE WHEN own_deadline THEN coalesce('Kubernetes stopped it: ' + j.failed_message + '. ',
                                         'Kubernetes stopped it (DeadlineExceeded) with no message. ')
         ELSE coalesce('Its Job had ' + toString(j.active) + ' active pod(s)', 'Its Job reported no active count') +
              ' and had neither failed nor ' +
              'completed when helm stopped waiting; the hook is slow or stuck, not failing. '
    END +
    CASE WHEN last_pod IS NULL THEN ''
         ELSE 'Its last pod ' + last_pod.name + ' is ' + coalesce(last_pod.phase, 'with no phase reported') + '. ' END +
    CASE WHEN coalesce(rev.description, '') = '' THEN 'Helm recorded no description.'
         ELSE 'Helm said: ' + rev.description END AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
    text: rev.status + CASE WHEN coalesce(rev.description, '') = '' THEN ', no description'
                            ELSE ': ' + rev.description END},
   {kind: 'Hook', name: h.name, at: h.started_at,
    text: coalesce('phase ' + h.phase, 'no phase reported') + coalesce(', ended ' + toString(h.completed_at), ', no end recorded')},
   {kind: 'Job', name: j.name, at: coalesce(j.start_time, j.created_at),
    text: 'active ' + coalesce(toString(j.active), 'not reported') + ', failed ' + coalesce(toString(j.failed), 'not reported') +
          coalesce(', activeDeadlineSeconds ' + toString(j.active_deadline_seconds), '') +
          coalesce(', ' + j.failed_reason + ': ' + j.failed_message, '')}] +
  [x IN pods | {kind: 'Pod', name: x.name, at: x.created_at, text: coalesce('phase ' + x.phase, 'no phase reported')}] +
  CASE WHEN op IS NULL THEN [] ELSE [{kind: 'HelmOperation', name: op.operation_id, at: op.started_at,
    text: 'helm ' + coalesce(op.command + ' ', '') + helm_limit + coalesce(', ended ' + op.status, ', status not recorded')}] END
  AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' started'},
   {at: h.started_at, what: 'hook ' + h.name + ' started'},
   {at: h.completed_at, what: 'helm marked hook ' + h.name + ' ' + coalesce(h.phase, 'with no phase')}] +
  [x IN pods | {at: x.created_at, what: 'pod ' + x.name + ' created'}] AS event_chain,
  {hook_namespace: j.namespace, job: j.name, hook: h.name,
   fix: CASE WHEN own_deadline
          THEN 'make the hook faster or raise its Job activeDeadlineSeconds (now ' +
               coalesce(toString(j.active_deadline_seconds), '?') + 's), then upgrade again'
          ELSE 'make the hook faster, or give helm more time: helm upgrade ' + rel.name + ' <chart> -n ' +
               rel.namespace + ' --timeout 15m (it now had ' + helm_limit + ')' END,
   undo: CASE WHEN last_good IS NULL THEN 'helm uninstall ' + rel.name + ' -n ' + rel.namespace
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END} AS vars

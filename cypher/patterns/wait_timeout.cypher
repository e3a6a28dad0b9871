// id: wait_timeout
// title: helm --wait timed out because the release's pods did not become ready
// severity: high
// confidence: 0.85
// tags: [helm, wait, timeout]
// shape: wait_timeout
// explains: [partial_deployment, workload_unavailable]
// impact: >-
//   Helm applied the new revision but its workloads never became ready within --timeout, so the revision is
//   failed (with --atomic/--rollback-on-failure helm then rolled back). The objects listed below are not
//   serving the new version.
// resolution:
//   - kubectl -n {namespace} describe {first_kind_lower} {first_name}
//   - kubectl -n {namespace} get events --sort-by=.lastTimestamp | tail -20
//   - "# {fix}"
//   - "{undo}"
:param release_key => null;

// The latest revision failed with a --wait timeout in any helm wording: "timed out waiting for the
// condition" (< 3.12), "context deadline exceeded" (>= 3.12), "rate: Wait(n=1) would exceed context
// deadline" (client-go's limiter), helm 4's "resource Deployment/ns/x not ready. status: InProgress"; and
// not in a hook's context (hooks have their own patterns). For each declared workload that is not ready
// its pods say why: crash loop, image pull, config error, pending (scheduler's words), probe failing
// (Unhealthy events), or running but not ready yet. The pod patterns (crashloop, image_pull_backoff,
// probe_failing, ...) are the root cause where they match: they list wait_timeout in their explains.
MATCH (rev:Revision {status: 'failed'})
USING INDEX rev:Revision(status)
WHERE $release_key IS NULL OR rev.release_key = $release_key
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
WITH rel, rev, coalesce(rev.description, '') AS said
WITH rel, rev, said, toLower(said) AS low
WHERE (low CONTAINS 'timed out waiting for the condition' OR low CONTAINS 'context deadline exceeded'
       OR low CONTAINS 'would exceed context deadline' OR low CONTAINS 'not ready. status: inprogress')
  AND NOT (low CONTAINS 'hook' OR low CONTAINS 'failed pre-' OR low CONTAINS 'failed post-')
MATCH (rev)-[:DECLARES]->(r:Resource)
WHERE r.kind IN ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job', 'PersistentVolumeClaim']
OPTIONAL MATCH (r)<-[:INSTANCE_OF]-(w:Object)
WHERE w.deleted_at IS NULL AND coalesce(w.placeholder, false) = false
WITH rel, rev, said, r, w
WHERE w IS NULL
   OR (w.kind IN ['Deployment', 'StatefulSet', 'ReplicaSet']
       AND coalesce(w.ready_replicas, 0) < coalesce(w.replicas, 1))
   OR (w.kind = 'DaemonSet' AND coalesce(w.ready_replicas, 0) < coalesce(w.desired_scheduled, 0))
   OR (w.kind = 'Job' AND NOT coalesce(w.complete, false))
   OR (w.kind = 'PersistentVolumeClaim' AND coalesce(w.phase, 'Pending') <> 'Bound')
   OR (w.kind = 'Pod' AND NOT coalesce(w.ready, false))
// the pods of each unready workload (through its ReplicaSets for a Deployment), not ready now
OPTIONAL MATCH (p:Pod)-[:OWNED_BY*1..2]->(w)
WHERE p.deleted_at IS NULL AND NOT coalesce(p.ready, false) AND p.phase <> 'Succeeded'
OPTIONAL MATCH (p)-[:HAD_STATE]->(s:ContainerState {state: 'terminated'})
WITH rel, rev, said, r, w, p, s ORDER BY s.at DESC
WITH rel, rev, said, r, w, p, collect(s)[0] AS last_exit
OPTIONAL MATCH (pe:Event)-[:ABOUT]->(p)
WHERE pe.type = 'Warning'
WITH rel, rev, said, r, w, p, last_exit, pe ORDER BY pe.last_seen DESC
WITH rel, rev, said, r, w, p, last_exit, collect(pe) AS pod_events
WITH rel, rev, said, r, w, p, last_exit,
     [e IN pod_events WHERE e.reason = 'Unhealthy'][0] AS unhealthy,
     [e IN pod_events WHERE e.reason = 'FailedScheduling'][0] AS unscheduled,
     coalesce(p.waiting_reasons, []) AS waiting
WITH rel, rev, said, r, w,
     CASE WHEN p IS NULL THEN null ELSE {pod: p, why: CASE
       WHEN 'CrashLoopBackOff' IN waiting
         THEN 'crash loop (CrashLoopBackOff' + coalesce(', last exit code ' + toString(last_exit.exit_code), '') +
              coalesce(' ' + last_exit.reason, '') + coalesce(', ' + toString(p.restarts) + ' restarts', '') + ')'
       WHEN any(x IN waiting WHERE x IN ['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName'])
         THEN 'image pull (' + [x IN waiting WHERE x IN ['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName']][0] +
              coalesce(' ' + [(p)-[:HAD_STATE]->(x:ContainerState)
                              WHERE x.reason IN ['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName']
                                AND x.image IS NOT NULL | x.image][0], '') + ')'
       WHEN any(x IN waiting WHERE x IN ['CreateContainerConfigError', 'CreateContainerError'])
         THEN 'config error (' + [x IN waiting WHERE x IN ['CreateContainerConfigError', 'CreateContainerError']][0] + ')'
       WHEN p.phase = 'Pending' AND p.node_name IS NULL
         THEN 'pending, not scheduled' + coalesce(': ' + unscheduled.message, '')
       WHEN p.phase = 'Pending'
         THEN 'pending on ' + p.node_name + CASE WHEN size(waiting) > 0 THEN ' (' + waiting[0] + ')' ELSE '' END
       WHEN unhealthy IS NOT NULL THEN 'probe failing' + coalesce(': ' + unhealthy.message, ' (no message)')
       WHEN p.phase = 'Running' THEN 'running but not ready' +
         CASE WHEN coalesce(p.has_readiness_probe, false) THEN ' (readiness probe has not passed yet)' ELSE '' END
       ELSE coalesce(p.phase, 'no phase reported') + ', not ready' END} END AS pod_state
WITH rel, rev, said, r, w, pod_state ORDER BY pod_state.pod.name
WITH rel, rev, said, r, w, collect(pod_state) AS pods
OPTIONAL MATCH (we:Event)-[:ABOUT]->(w)
WHERE we.type = 'Warning'
WITH rel, rev, said, r, w, pods, we ORDER BY we.last_seen DESC
WITH rel, rev, said, r, w, pods, collect(we) AS events
WITH rel, rev, said,
     collect({ref: r.ref, kind: r.kind, name: r.name, w: w, pods: pods, events: events,
              state: CASE
                WHEN w IS NULL THEN 'missing'
                WHEN w.kind = 'PersistentVolumeClaim' THEN 'not bound (' + coalesce(w.phase, 'Pending') + ')' +
                  coalesce(': ' + [e IN events WHERE e.reason IN ['ProvisioningFailed', 'FailedBinding']][0].message, '')
                WHEN w.kind = 'Job' THEN 'not complete'
                WHEN w.kind = 'Pod' THEN 'not ready'
                ELSE coalesce(w.ready_replicas, 0) + '/' + coalesce(w.replicas, w.desired_scheduled, 1) + ' ready'
              END}) AS waits
WITH rel, rev, said, waits, waits[0] AS first,
     reduce(all = [], x IN waits | all + x.pods) AS all_pods
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, said, waits, first, all_pods, max(good.version) AS last_good
WITH rel, rev, said, waits, first, all_pods, last_good,
     CASE WHEN size(all_pods) > 0 THEN all_pods[0].why ELSE first.state END AS main_why
RETURN
  rel.key AS release_key,
  {kind: first.kind, namespace: rel.namespace, name: first.name} AS subject,
  'helm --wait gave up on revision ' + rev.version + ' of ' + rel.key + ': ' +
    reduce(t = '', x IN waits | t + CASE WHEN t = '' THEN '' ELSE '; ' END + x.ref + ' ' + x.state) +
    CASE WHEN size(all_pods) > 0 THEN ' (' + all_pods[0].pod.name + ': ' + all_pods[0].why + ')' ELSE '' END
    AS summary,
  'Helm said: ' + said + '\n' +
    reduce(t = '', x IN waits | t + x.ref + ' ' + x.state + '\n' +
      reduce(u = '', q IN x.pods | u + '  pod ' + q.pod.name + ': ' + q.why + '\n')) AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed, text: 'failed: ' + said}] +
  [x IN waits | {kind: x.kind, name: x.ref, at: x.w.created_at, text: x.state}] +
  [q IN all_pods | {kind: 'Pod', name: q.pod.name, at: q.pod.created_at, text: q.why}] +
  reduce(l = [], x IN waits | l + [e IN x.events | {kind: 'Event', name: e.involved_name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + '): ' + e.message}]) AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' applied; helm waits for readiness'}] +
  [q IN all_pods | {at: q.pod.created_at, what: 'pod ' + q.pod.name + ' created'}] +
  reduce(l = [], x IN waits | l + [e IN x.events | {at: e.last_seen, what: e.reason + ': ' + e.message}]) AS event_chain,
  CASE WHEN size(all_pods) = 0 AND all(x IN waits WHERE x.w IS NULL) THEN 0.6 ELSE 0.85 END AS confidence,
  {namespace: rel.namespace, first_kind_lower: toLower(coalesce(all_pods[0].pod.kind, first.kind)),
   first_name: coalesce(all_pods[0].pod.name, first.name),
   fix: CASE
     WHEN main_why STARTS WITH 'crash loop' THEN 'read the crashing container\'s log: kubectl -n ' + rel.namespace +
       ' logs ' + all_pods[0].pod.name + ' --previous'
     WHEN main_why STARTS WITH 'image pull' THEN 'fix the image reference or the registry credentials'
     WHEN main_why STARTS WITH 'probe failing' THEN 'fix the readiness probe or what it checks'
     WHEN main_why STARTS WITH 'pending' THEN 'make room for the pods (requests, node capacity, taints, PVCs)'
     WHEN main_why STARTS WITH 'running but not ready' THEN 'the pods start slowly: give helm more time ' +
       '(--timeout 15m) or speed up the start (readiness probe initialDelaySeconds, startupProbe)'
     WHEN main_why STARTS WITH 'not bound' THEN 'make the claim bind: its StorageClass must exist and provision'
     ELSE 'make the workloads ready, then upgrade again (--timeout to give them longer)' END,
   undo: CASE WHEN last_good IS NULL THEN 'helm uninstall ' + rel.name + ' -n ' + rel.namespace
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END} AS vars

// id: hook_image_pull
// title: A Helm hook's pod cannot pull its image
// severity: critical
// confidence: 0.95
// tags: [helm, hook, image-pull]
// shape: hook_failure
// explains: [hook_deadline, wait_timeout, partial_deployment, stuck_release]
// impact: >-
//   Helm stopped at the hook: the release's new revision is failed (or still pending while helm waits),
//   and nothing after the hook ran. The workloads still run the previous revision.
// resolution:
//   - kubectl -n {hook_namespace} describe pod {pod}
//   - kubectl -n {hook_namespace} get events --field-selector involvedObject.name={pod}
//   - "# fix the image ({image}): {fix}; then run the upgrade again, or go back:"
//   - "{undo}"
:param release_key => null;

// The newest revision, not finished well, whose hook ran as a Job (or Pod) whose pod could not pull.
// A hook that failed to pull once and then succeeded has phase Succeeded and is left alone.
MATCH (rev:Revision)
USING INDEX rev:Revision(status)
WHERE rev.status IN ['failed', 'pending-install', 'pending-upgrade', 'pending-rollback']
  AND ($release_key IS NULL OR rev.release_key = $release_key)
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
MATCH (rev)-[:HAS_HOOK]->(h:Hook)-[:RAN_AS]->(run:Object)
WHERE coalesce(h.phase, 'Unknown') <> 'Succeeded'
// the hook's pod: the object itself (a Pod hook) or a pod its Job owns
MATCH (p:Pod)-[:OWNED_BY*0..1]->(run)
MATCH (p)-[:HAD_STATE]->(s:ContainerState)
WHERE s.reason IN ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']
WITH rel, rev, h, run, p, min(s.at) AS first_failed, collect(DISTINCT s.image)[0] AS image,
     [m IN collect(s.message) WHERE m IS NOT NULL] AS waiting_messages
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.type = 'Warning' OR e.reason IN ['BackOff', 'Failed']
WITH rel, rev, h, run, p, first_failed, image, waiting_messages, e ORDER BY e.last_seen
WITH rel, rev, h, run, p, first_failed, image, waiting_messages, collect(e) AS events
WITH rel, rev, h, run, p, first_failed, image, events,
     toLower(reduce(acc = '', x IN waiting_messages | acc + ' ' + x) +
             reduce(acc = '', ev IN events | acc + ' ' + ev.message)) AS said
WITH rel, rev, h, run, p, first_failed, image, events,
     CASE
       WHEN said CONTAINS '429' OR said CONTAINS 'toomanyrequests' OR said CONTAINS 'rate limit'
         THEN ['the registry is rate limiting pulls (429 Too Many Requests)',
               'authenticate pulls (imagePullSecrets), use a mirror, or wait for the rate limit window']
       WHEN said CONTAINS 'manifest unknown' OR said CONTAINS ' not found'
         THEN ['the image or tag does not exist (manifest unknown)', 'correct the image tag or repository']
       WHEN said CONTAINS 'pull access denied' OR said CONTAINS 'repository does not exist'
         THEN ['pull access denied: the repository does not exist or needs credentials',
               'check the repository name and add imagePullSecrets']
       WHEN said CONTAINS 'unauthorized' OR said CONTAINS 'authentication required' OR said CONTAINS 'denied'
         THEN ['the registry refused the credentials (unauthorized)', 'fix the imagePullSecrets']
       WHEN said CONTAINS 'invalidimagename' OR said CONTAINS 'invalid reference'
         THEN ['the image reference is malformed', 'correct the image reference']
       ELSE ['the pull keeps failing', 'check the image name, the registry and its credentials']
     END AS why
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, h, run, p, first_failed, image, events, why, max(good.version) AS last_good
RETURN
  rel.key AS release_key,
  {kind: 'Pod', namespace: p.namespace, name: p.name, cluster: p.cluster} AS subject,
  'The ' + coalesce(h.events[0], 'helm') + ' hook ' + h.kind + ' ' + h.name + ' of revision ' + rev.version +
    ' cannot pull ' + coalesce(image, CASE WHEN size(p.images) = 1 THEN p.images[0] END,
                               'its image (its status names none)') + ': ' + why[0] AS summary,
  'Helm ran hook ' + h.name + coalesce(' (' + h.path + ')', '') + ' for revision ' + rev.version +
    '; its pod ' + p.name + ' has been waiting on the image since ' + toString(first_failed) +
    '. Revision status: ' + rev.status + '. ' + CASE WHEN coalesce(rev.description, '') = '' THEN 'Helm recorded no description.'
         ELSE 'Helm said: ' + rev.description END AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
    text: rev.status + CASE WHEN coalesce(rev.description, '') = '' THEN ', no description'
                            ELSE ': ' + rev.description END},
   {kind: 'Hook', name: h.name, at: h.started_at, text: coalesce('phase ' + h.phase, 'no phase reported')},
   {kind: run.kind, name: run.name, at: run.created_at,
    text: coalesce(run.failed_reason, 'created for the hook')}] +
  [e IN events | {kind: 'Event', name: p.name, at: e.last_seen,
                  text: e.reason + ' (x' + e.count + '): ' + e.message}] AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' started (' + rev.status + ')'},
   {at: h.started_at, what: 'hook ' + h.name + ' started'},
   {at: first_failed, what: 'pod ' + p.name + ' could not pull ' + coalesce(image, 'its image')},
   {at: h.completed_at, what: 'hook ' + h.name + ' ended' + coalesce(': ' + h.phase, ', no phase reported')}] +
  [e IN events | {at: e.last_seen, what: e.reason + ': ' + e.message}] AS event_chain,
  {hook_namespace: p.namespace, pod: p.name, image: coalesce(image, CASE WHEN size(p.images) = 1 THEN p.images[0] END),
   hook: h.name,
   job: run.name, fix: why[1],
   undo: CASE WHEN last_good IS NULL THEN 'helm uninstall ' + rel.name + ' -n ' + rel.namespace
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END} AS vars

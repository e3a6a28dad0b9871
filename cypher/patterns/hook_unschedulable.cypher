// id: hook_unschedulable
// title: A Helm hook's pod cannot be scheduled
// severity: critical
// confidence: 0.93
// tags: [helm, hook, scheduling]
// shape: hook_failure
// explains: [hook_deadline, wait_timeout, partial_deployment, stuck_release]
// impact: >-
//   The hook pod waits in Pending, so helm waits on the hook until its --timeout and then fails the
//   revision; nothing after the hook runs. The workloads still run the previous revision.
// resolution:
//   - kubectl -n {hook_namespace} describe pod {pod}
//   - kubectl describe nodes | grep -A8 -E 'Taints|Allocated resources'
//   - "# {fix}"
//   - "{undo}"
:param release_key => null;

// The newest revision, not finished well, whose hook's pod is Pending and the scheduler said why
// (a FailedScheduling Event, or the pod's PodScheduled=False condition with reason Unschedulable).
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
WHERE p.phase = 'Pending' AND p.node_name IS NULL
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.reason = 'FailedScheduling'
WITH rel, rev, h, run, p, e ORDER BY e.last_seen DESC
WITH rel, rev, h, run, p, collect(e) AS events
OPTIONAL MATCH (p)-[:HAD_CONDITION]->(c:Condition {type: 'PodScheduled', status: 'False'})
WITH rel, rev, h, run, p, events, c ORDER BY c.at DESC
WITH rel, rev, h, run, p, events, collect(c)[0] AS c
WHERE size(events) > 0 OR c.reason = 'Unschedulable'
WITH rel, rev, h, run, p, events, c, coalesce(events[0].message, c.message, '') AS said
WITH rel, rev, h, run, p, events, c, said,
     CASE
       WHEN said CONTAINS 'unbound immediate PersistentVolumeClaims' OR said CONTAINS 'persistentvolumeclaim'
         THEN ['it needs a PersistentVolumeClaim that is not bound',
               'make the claim exist and bind before the hook runs (a pre-* hook cannot use a PVC the release ' +
               'itself creates: move the hook to post-install/post-upgrade, or create the PVC first)']
       WHEN said CONTAINS 'Insufficient'
         THEN ['no node has enough free ' + CASE WHEN said CONTAINS 'Insufficient memory' THEN 'memory'
                                                  WHEN said CONTAINS 'Insufficient cpu' THEN 'CPU'
                                                  ELSE 'resources' END + ' for its requests',
               'lower the hook\'s resources.requests or add node capacity']
       WHEN said CONTAINS 'taint'
         THEN ['every node has a taint it does not tolerate', 'add a toleration to the hook\'s pod template, ' +
               'or schedule it onto untainted nodes']
       WHEN said CONTAINS 'node selector' OR said CONTAINS 'affinity'
         THEN ['no node matches its nodeSelector/affinity', 'fix the hook\'s nodeSelector or affinity']
       ELSE ['the scheduler finds no node for it', 'read the scheduler message below and adjust the hook pod']
     END AS why
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, h, run, p, events, c, said, why, max(good.version) AS last_good
RETURN
  rel.key AS release_key,
  {kind: 'Pod', namespace: p.namespace, name: p.name, cluster: p.cluster} AS subject,
  'The ' + coalesce(h.events[0], 'helm') + ' hook ' + h.kind + ' ' + h.name + ' of revision ' + rev.version +
    ' cannot be scheduled: ' + why[0] AS summary,
  'Hook pod ' + p.name + ' has been Pending since ' + toString(coalesce(p.created_at, h.started_at)) +
    CASE WHEN said = '' THEN '. The scheduler gave no message.' ELSE '. The scheduler: ' + said END +
    ' Revision status: ' + rev.status + '. ' +
    CASE WHEN coalesce(rev.description, '') = '' THEN 'Helm recorded no description.'
         ELSE 'Helm said: ' + rev.description END AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
    text: rev.status + CASE WHEN coalesce(rev.description, '') = '' THEN ', no description'
                            ELSE ': ' + rev.description END},
   {kind: 'Hook', name: h.name, at: h.started_at, text: coalesce('phase ' + h.phase, 'no phase reported')},
   {kind: 'Pod', name: p.name, at: p.created_at, text: 'Pending, not scheduled'}] +
  CASE WHEN c IS NULL THEN [] ELSE [{kind: 'Condition', name: p.name, at: c.at,
    text: 'PodScheduled False ' + coalesce(c.reason, '') + ': ' + coalesce(c.message, '')}] END +
  [e IN events | {kind: 'Event', name: p.name, at: e.last_seen,
                  text: e.reason + ' (x' + e.count + '): ' + e.message}] AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' started (' + rev.status + ')'},
   {at: h.started_at, what: 'hook ' + h.name + ' started'},
   {at: p.created_at, what: 'pod ' + p.name + ' created, waiting for a node'}] +
  [e IN events | {at: e.last_seen, what: e.reason + ': ' + e.message}] +
  [{at: h.completed_at, what: 'hook ' + h.name + ' ended' + coalesce(': ' + h.phase, ', no phase reported')}] AS event_chain,
  {hook_namespace: p.namespace, pod: p.name, hook: h.name, job: run.name, fix: why[1],
   undo: CASE WHEN last_good IS NULL THEN 'helm uninstall ' + rel.name + ' -n ' + rel.namespace
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END} AS vars

// id: rollout_stuck
// title: A Deployment rollout is stuck (ProgressDeadlineExceeded)
// severity: high
// confidence: 0.75
// tags: [deployment, rollout]
// shape: null
// explains: [wait_timeout, partial_deployment]
// impact: >-
//   The Deployment's new ReplicaSet did not become available within progressDeadlineSeconds: the
//   rollout stopped half way, old and new pods may serve side by side, and `helm --wait` on it fails.
// resolution:
//   - kubectl -n {namespace} rollout status deployment/{deployment} --timeout=10s
//   - kubectl -n {namespace} describe replicaset {replicaset}
//   - kubectl -n {namespace} get pods -l {selector} -o wide
//   - "{undo}"
:param release_key => null;

// Deployments whose Progressing condition is False with ProgressDeadlineExceeded now (the condition
// history node finds them by index; the Deployment's current reason says it still holds).
MATCH (c:Condition {reason: 'ProgressDeadlineExceeded'})<-[:HAD_CONDITION]-(d:Deployment)
WHERE c.type = 'Progressing' AND d.progressing_reason = 'ProgressDeadlineExceeded' AND d.deleted_at IS NULL
WITH d, c ORDER BY c.at DESC
WITH d, collect(c)[0] AS c
// The newest ReplicaSet is the one that timed out; its pods tell why
OPTIONAL MATCH (rs:ReplicaSet)-[:OWNED_BY]->(d)
WHERE rs.deleted_at IS NULL
WITH d, c, rs ORDER BY rs.created_at DESC
WITH d, c, collect(rs)[0] AS rs
OPTIONAL MATCH (p:Pod)-[:OWNED_BY]->(rs)
WHERE p.deleted_at IS NULL
WITH d, c, rs, p ORDER BY p.name
WITH d, c, rs, collect(p) AS pods
OPTIONAL MATCH (rel:Release)-[:MANAGES]->(d)
WITH d, c, rs, pods, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(prev:Revision)
WHERE prev.version < rel.latest_version AND prev.status IN ['deployed', 'superseded']
WITH d, c, rs, pods, rel, max(prev.version) AS good_version
WITH d, c, rs, pods, rel, good_version,
     [p IN pods | p.name + ' ' + coalesce(p.phase, 'with no phase reported') +
       CASE WHEN size(coalesce(p.waiting_reasons, [])) > 0
            THEN ' (' + reduce(t = '', r IN p.waiting_reasons | t + CASE WHEN t = '' THEN '' ELSE ', ' END + r) + ')'
            WHEN p.ready THEN ' ready' ELSE ' not ready' END +
       CASE WHEN p.restarts > 0 THEN ', ' + p.restarts + ' restarts' ELSE '' END] AS pod_lines
RETURN
  rel.key AS release_key,
  {kind: 'Deployment', namespace: d.namespace, name: d.name, cluster: d.cluster} AS subject,
  'Deployment ' + d.name + ' rollout is stuck: ' + coalesce(c.message, 'ProgressDeadlineExceeded, with no message.') + ' ' +
    coalesce(d.available_replicas, 0) + coalesce('/' + d.replicas, ' (spec.replicas not recorded)') + ' available, ' +
    coalesce(d.updated_replicas, 0) + ' updated' AS summary,
  'Progressing=False (ProgressDeadlineExceeded)' + coalesce(' since ' + toString(c.at), '') + '. ' +
    CASE WHEN rs IS NULL THEN 'No ReplicaSet of it is known.'
         WHEN size(pods) = 0 THEN 'ReplicaSet ' + rs.name + ' has no pods: look for FailedCreate events on it.'
         ELSE 'Pods of ReplicaSet ' + rs.name + ': ' + reduce(t = '', l IN pod_lines | t +
           CASE WHEN t = '' THEN '' ELSE '; ' END + l) + '.' END AS details,
  [{kind: 'Deployment', name: d.name, at: c.at, text: 'Progressing False ProgressDeadlineExceeded' +
     coalesce(': ' + c.message, ', no message')}] +
  CASE WHEN rs IS NULL THEN [] ELSE [{kind: 'ReplicaSet', name: rs.name, at: rs.created_at,
     text: coalesce(rs.available_replicas, 0) + '/' + coalesce(rs.replicas, 0) + ' available'}] END +
  [i IN range(0, size(pods) - 1) | {kind: 'Pod', name: pods[i].name, at: pods[i].created_at, text: pod_lines[i]}]
    AS evidence,
  [{at: rs.created_at, what: 'ReplicaSet ' + rs.name + ' created'},
   {at: c.at, what: 'rollout of ' + d.name + ' passed its progress deadline'}] AS event_chain,
  {namespace: d.namespace, deployment: d.name, replicaset: coalesce(rs.name, '<replicaset>'),
   selector: CASE WHEN size(coalesce(d.selector_pairs, [])) = 0 THEN 'app=' + d.name
                  ELSE reduce(t = '', s IN d.selector_pairs | t + CASE WHEN t = '' THEN '' ELSE ',' END + s) END,
   undo: CASE WHEN rel IS NOT NULL AND good_version IS NOT NULL
              THEN 'helm rollback ' + rel.name + ' ' + good_version + ' -n ' + rel.namespace
              ELSE 'kubectl -n ' + d.namespace + ' rollout undo deployment/' + d.name END} AS vars

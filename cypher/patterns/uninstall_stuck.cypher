// id: uninstall_stuck
// title: A helm uninstall did not finish
// severity: high
// confidence: 0.8
// tags: [helm, uninstall, lock]
// shape: stuck_release
// explains: []
// impact: >-
//   Helm marks a release `uninstalling` before its pre-delete hooks run and deletes the record only when the
//   uninstall completes: this one stopped in between (a pre-delete hook failed or timed out, or helm was
//   killed), so some of its objects may still run and a new install of the same name is refused.
// resolution:
//   - helm history {release} -n {namespace} --max 5
//   - kubectl -n {namespace} get jobs,pods -l app.kubernetes.io/instance={release}
//   - "# once the pre-delete hook is fixed or not needed, finish the uninstall without it:"
//   - helm uninstall {release} -n {namespace} --no-hooks
:param release_key => null;
:param now => null;
:param stuck_release_timeout => 600;

// The latest revision is `uninstalling` ("Deletion in progress (or silently failed)"), its record still there,
// for longer than
// stuck_release_timeout seconds (as of $now, from its `deleted` time, else its last_deployed) and no live
// helm process works on the release. Pre-delete hooks of that revision that did not succeed are cited.
MATCH (rev:Revision {status: 'uninstalling'})
USING INDEX rev:Revision(status)
WHERE $release_key IS NULL OR rev.release_key = $release_key
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE rev.version = rel.latest_version AND rev.removed_at IS NULL  // a finished uninstall deletes the record
WITH rel, rev, coalesce($now, datetime()) AS now, coalesce(rev.deleted, rev.last_deployed) AS since
WHERE since IS NOT NULL AND duration.inSeconds(since, now).seconds > $stuck_release_timeout
  AND NOT EXISTS { MATCH (op:HelmOperation {status: 'running'})-[:TARGETS]->(rel) WHERE op.started_at <= now }
OPTIONAL MATCH (rev)-[:HAS_HOOK]->(h:Hook)
WHERE 'pre-delete' IN h.events AND coalesce(h.phase, 'Unknown') <> 'Succeeded'
WITH rel, rev, now, since, collect(h) AS hooks
RETURN
  rel.key AS release_key,
  {kind: 'Release', namespace: rel.namespace, name: rel.name, cluster: rel.cluster} AS subject,
  'helm uninstall of ' + rel.key + ' did not finish: revision ' + rev.version + ' is uninstalling ' +
    CASE WHEN rev.deleted IS NULL THEN '(helm recorded no uninstall time; the revision was deployed ' +
           toString(rev.last_deployed) + ')'
         ELSE 'since ' + toString(rev.deleted) END + CASE WHEN size(hooks) > 0
      THEN ' (pre-delete hook ' + hooks[0].kind + ' ' + hooks[0].name + ' ' +
           CASE WHEN hooks[0].phase IS NULL THEN 'never reported a phase' ELSE hooks[0].phase END + ')'
      ELSE '' END AS summary,
  'Helm said: ' + CASE WHEN rev.description IS NULL OR rev.description = '' THEN 'no description'
                       ELSE rev.description END AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: since, text: 'uninstalling: ' +
    CASE WHEN rev.description IS NULL OR rev.description = '' THEN 'no description' ELSE rev.description END}] +
  [h IN hooks | {kind: 'Hook', name: h.kind + ' ' + h.name, at: h.started_at,
                 text: 'pre-delete hook ' + CASE WHEN h.phase IS NULL THEN 'with no phase' ELSE h.phase END}]
    AS evidence,
  [{at: rev.deleted, what: 'helm uninstall started (revision ' + rev.version + ' uninstalling)'}] +
  [h IN hooks WHERE h.started_at IS NOT NULL | {at: h.started_at, what: 'pre-delete hook ' + h.name + ' started'}]
    AS event_chain,
  {release: rel.name, namespace: rel.namespace} AS vars

// id: helm_unclassified
// title: A Helm operation failed with words no pattern knows yet
// severity: medium
// confidence: 0.3
// tags: [helm, unclassified]
// shape: null
// fallback: true
// explains: []
// impact: >-
//   The release did not reach the new revision. kgrca has no family for this message yet: the text below is
//   helm's own, quoted as it was stored, and nothing more is claimed about its cause.
// resolution:
//   - helm history {release} -n {namespace}
//   - helm status {release} -n {namespace} --show-desc
:param release_key => null;

// Nothing failed goes silent: a failed revision (or a failed helm run that stored none) whose words no family
// of cypher/helm_errors.yaml claims, and that no other pattern explains, is still a diagnosis, with low
// confidence and the tag `unclassified` so such gaps show in reports and can be counted.
MATCH (e:HelmError)
USING INDEX e:HelmError(classified)
WHERE e.classified = false AND ($release_key IS NULL OR e.release_key = $release_key)
MATCH (rel:Release {key: e.release_key})
OPTIONAL MATCH (rev:Revision)-[:FAILED_WITH]->(e)
OPTIONAL MATCH (op:HelmOperation)-[:FAILED_WITH]->(e)
WITH e, rel, rev, op
WHERE (rev IS NOT NULL AND rev.version = rel.failed_version)
   OR (rev IS NULL AND op IS NOT NULL
       AND NOT EXISTS { MATCH (op)-[:PRODUCED]->(:Revision) }
       // a later run of the same release that went well (a traced helm, a Flux reconcile, an Argo CD sync)
       AND NOT EXISTS { MATCH (later:HelmOperation {release_key: op.release_key})
                        WHERE (later.started_at > op.started_at AND later.status = 'succeeded')
                           OR (op.witness_name IS NOT NULL AND later.witness_name = op.witness_name AND later.operation_id <> op.operation_id
                 AND coalesce(later.ended_at, later.started_at) > coalesce(op.ended_at, op.started_at)) }
       AND NOT EXISTS { MATCH (rel)-[:HAS_REVISION]->(later:Revision)
                        WHERE later.last_deployed > op.ended_at AND later.status IN ['deployed', 'superseded'] })
RETURN
  rel.key AS release_key,
  {kind: 'Release', namespace: rel.namespace, name: rel.name, cluster: rel.cluster} AS subject,
  CASE WHEN rev IS NOT NULL THEN 'Revision ' + rev.version + ' of ' + rel.key + ' failed'
       ELSE CASE WHEN op.command = 'sync' THEN 'Argo CD sync'
                 ELSE 'helm ' + coalesce(op.command, '(command not recorded)') END + ' of ' + rel.key + ' failed' END +
    ' (unclassified): "' + e.text + '"' AS summary,
  'Helm said: ' + e.text AS details,
  CASE WHEN rev IS NOT NULL
       THEN [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
              text: rev.status + ': ' + e.text}]
       ELSE [{kind: coalesce(op.witness_kind, 'HelmOperation'), name: coalesce(op.witness_name, op.operation_id),
              at: op.ended_at,
              text: coalesce(op.said_by + ' -> ', '') + CASE WHEN op.command = 'sync' THEN 'Argo CD sync'
                    ELSE 'helm ' + coalesce(op.command, '(command not recorded)') END + ' failed: ' + e.text}] END AS evidence,
  [{at: e.at, what: 'helm failed (unclassified)'}] AS event_chain,
  CASE WHEN op IS NULL THEN null ELSE op.operation_id END AS operation_id,
  {release: rel.name, namespace: rel.namespace} AS vars

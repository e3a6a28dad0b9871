// id: helm_error
// title: A Helm operation failed with an error of a known family
// severity: high
// confidence: 0.75
// tags: [helm, classified]
// shape: null
// fallback: true
// explains: [partial_deployment]
// impact: >-
//   The operation stopped at the error below, so the release did not reach the new revision; what it had
//   already applied stays as it is.
// resolution:
//   - helm history {release} -n {namespace}
//   - "{fix}"
:param release_key => null;

// Helm's words were classified when they were written (kg_builder/helm_errors.py, one table of message families
// in cypher/helm_errors.yaml): each (:HelmError) carries its family, shape, the facts its words named, a summary
// and the fix, all from those words. This pattern speaks for the families no specific pattern claims (an
// update the API server forbids, an RBAC denial, a values schema, ...): as a fallback it stays only where no
// other diagnosis of the release explains its Helm side. It reads the failed operation of the release: the newest
// failed revision (or the one an automatic rollback undid), or a failed helm run that stored no revision.
MATCH (e:HelmError)
USING INDEX e:HelmError(classified)
WHERE e.classified = true AND ($release_key IS NULL OR e.release_key = $release_key)
MATCH (rel:Release {key: e.release_key})
OPTIONAL MATCH (rev:Revision)-[:FAILED_WITH]->(e)
OPTIONAL MATCH (op:HelmOperation)-[:FAILED_WITH]->(e)
WITH e, rel, rev, op
WHERE (rev IS NOT NULL AND (rev.version = rel.failed_version
                            OR (rev.version = rel.latest_version AND rev.status STARTS WITH 'pending')))
   OR (rev IS NULL AND op IS NOT NULL
       AND NOT EXISTS { MATCH (op)-[:PRODUCED]->(:Revision) }
       // a later run of the same release that went well (a traced helm, a Flux reconcile, an Argo CD sync)
       AND NOT EXISTS { MATCH (later:HelmOperation {release_key: op.release_key})
                        WHERE (later.started_at > op.started_at AND later.status = 'succeeded')
                           OR (op.witness_name IS NOT NULL AND later.witness_name = op.witness_name
                               AND later.operation_id <> op.operation_id
                               AND coalesce(later.ended_at, later.started_at) > coalesce(op.ended_at, op.started_at)) }
       AND NOT EXISTS { MATCH (rel)-[:HAS_REVISION]->(later:Revision)
                        WHERE later.last_deployed > op.ended_at AND later.status IN ['deployed', 'superseded'] })
// a Flux source that says why the chart could not be fetched (its words are not in the HelmRelease's)
OPTIONAL MATCH (op)<-[:RAN]-(:HelmRelease)-[:FROM_SOURCE]->(:Resource)<-[:INSTANCE_OF]-(src:Object)
WHERE src.ready_status = 'False' AND src.deleted_at IS NULL
WITH e, rel, rev, op, collect(src)[0] AS src
RETURN
  rel.key AS release_key,
  CASE WHEN e.kind IS NOT NULL AND e.name IS NOT NULL
       THEN {kind: e.kind, namespace: e.object_namespace, name: e.name}
       ELSE {kind: 'Release', namespace: rel.namespace, name: rel.name} END AS subject,
  CASE WHEN rev IS NOT NULL THEN 'Revision ' + rev.version + ' of ' + rel.key + ' failed: '
       ELSE CASE WHEN op.command = 'sync' THEN 'Argo CD sync'
                 ELSE 'helm ' + coalesce(op.command, '(command not recorded)') END + ' of ' + rel.key + ' failed: ' END +
    e.summary AS summary,
  'Helm said: ' + e.text + '\nMessage family: ' + e.family + ' (' + e.cause + ')' +
    CASE WHEN size(e.objects) > 1 THEN '\nObjects named: ' + reduce(t = '', o IN e.objects |
      t + CASE WHEN t = '' THEN '' ELSE ', ' END + o) ELSE '' END AS details,
  CASE WHEN rev IS NOT NULL
       THEN [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
              text: rev.status + ': ' + e.text}]
       ELSE [{kind: coalesce(op.witness_kind, 'HelmOperation'), name: coalesce(op.witness_name, op.operation_id),
              at: op.ended_at,
              text: coalesce(op.said_by + ' -> ', '') + CASE WHEN op.command = 'sync' THEN 'Argo CD sync'
                    ELSE 'helm ' + coalesce(op.command, '(command not recorded)') END + ' failed: ' + e.text}] END +
  CASE WHEN src IS NULL THEN [] ELSE [{kind: src.kind, name: src.namespace + '/' + src.name, at: src.ready_at,
    text: 'Ready=False (' + coalesce(src.ready_reason, 'no reason given') + '): ' +
          coalesce(src.ready_message, 'no message given')}] END AS evidence,
  [{at: e.at, what: 'helm failed: ' + e.family}] AS event_chain,
  e.shape AS shape,
  e.confidence AS confidence,
  CASE WHEN op IS NULL THEN null ELSE op.operation_id END AS operation_id,
  {release: rel.name, namespace: rel.namespace, fix: e.fix} AS vars

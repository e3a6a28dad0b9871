// Releases failing in GitOps right now: every Flux HelmRelease that is not Ready and every Argo CD Application
// whose last sync failed or whose chart does not render, with the release it deploys and helm's words as
// kgrca classified them (family, Helm shape). Run `kgrca diagnose --release <release>` for the cause and fix.
// only this cluster's (as its watcher's --cluster named it); null: every cluster
:param cluster => null;

MATCH (c:Object)-[:DEPLOYS]->(rel:Release)
WHERE c.deleted_at IS NULL AND ($cluster IS NULL OR rel.cluster = $cluster)
  AND ((c:HelmRelease AND c.ready_status = 'False')
       OR (c:Application AND (c.operation_phase IN ['Failed', 'Error']
                              OR any(t IN coalesce(c.conditions_text, [])
                                     WHERE t STARTS WITH 'ComparisonError' OR t STARTS WITH 'InvalidSpecError'))))
OPTIONAL MATCH (c)-[:RAN]->(op:HelmOperation {status: 'failed'})
OPTIONAL MATCH (op)-[:FAILED_WITH]->(e:HelmError)
WITH c, rel, op, e ORDER BY op.ended_at DESC
WITH c, rel, collect(op)[0] AS op, collect(e)[0] AS e
RETURN CASE WHEN c:HelmRelease THEN 'flux' ELSE 'argocd' END AS controller,
       c.kind + ' ' + c.namespace + '/' + c.name AS object, rel.key AS release,
       CASE WHEN c:HelmRelease THEN c.ready_reason ELSE c.operation_phase END AS state,
       e.family AS family, e.shape AS shape,
       coalesce(e.text, c.ready_message, c.operation_message) AS said, op.ended_at AS at
ORDER BY at DESC

// id: resource_conflict_immutable
// title: The upgrade changes a field Kubernetes does not allow to change
// severity: high
// confidence: 0.95
// tags: [helm, immutable, conflict]
// shape: resource_conflict
// explains: [partial_deployment]
// impact: >-
//   The API server rejected the patch of these objects, so the revision is failed. Helm keeps patching the
//   other objects, so some of them may already run the new revision while these keep the old one.
// resolution:
//   - kubectl -n {namespace} get {kind_lower} {object} -o yaml
//   - "# {fix}"
//   - kubectl -n {namespace} delete {kind_lower} {object}
//   - helm upgrade {release} <chart> -n {namespace} --reuse-values
:param release_key => null;

// "cannot patch "x" with kind Deployment: Deployment.apps "x" is invalid: spec.selector: Invalid value:
// ...: field is immutable" (selectors, a Job's spec.template, a Service's clusterIP; "may not change once
// set" for some fields); several objects are joined with " && ". From the failed latest revision's
// description, or from a failed helm process (eBPF) that stored nothing.
CALL {
  MATCH (rev:Revision {status: 'failed'})
  USING INDEX rev:Revision(status)
  WHERE $release_key IS NULL OR rev.release_key = $release_key
  MATCH (rel:Release)-[:HAS_REVISION]->(rev)
  WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
  OPTIONAL MATCH (op:HelmOperation)-[:PRODUCED]->(rev)
  WITH rel, rev, collect(op)[0] AS op
  RETURN rel.key AS key, rel.name AS name, rel.namespace AS namespace, rev.description AS said,
         rev.last_deployed AS at, rev.version AS version, op
  UNION
  MATCH (op:HelmOperation {status: 'failed'})
  WHERE ($release_key IS NULL OR op.release_key = $release_key)
    AND op.command IN ['upgrade', 'rollback', 'sync'] AND op.stderr IS NOT NULL
    AND NOT EXISTS { MATCH (op)-[:PRODUCED]->(r:Revision) WHERE r.last_deployed >= op.started_at }
    AND NOT EXISTS {
      MATCH (later:HelmOperation {release_key: op.release_key})
      // a later run that went well, or the same witness's newer attempt (a retry) speaks instead
      WHERE (later.started_at > op.started_at AND later.status IN ['succeeded', 'running'])
         OR (op.witness_name IS NOT NULL AND later.witness_name = op.witness_name AND later.operation_id <> op.operation_id
                 AND coalesce(later.ended_at, later.started_at) > coalesce(op.ended_at, op.started_at))
    }
  RETURN op.release_key AS key, op.release AS name, op.namespace AS namespace, op.stderr AS said,
         op.ended_at AS at, null AS version, op
}
WITH key, name, namespace, said, at, version, op, replace(coalesce(said, ''), '\n', ' ') AS flat
WHERE flat CONTAINS 'field is immutable' OR flat CONTAINS 'may not change once set'
// Argo CD applies by itself and relays the API server's own words ('Deployment.apps "x" is invalid:
// spec.selector: ...'), which kg_builder classified into the witnessed run's HelmError facts
OPTIONAL MATCH (op)-[:FAILED_WITH]->(e:HelmError {family: 'immutable_field'})
WITH key, name, namespace, said, at, version, op, flat, collect(e)[0] AS e
// Helm 3 (client-side apply): 'cannot patch "NAME" with kind KIND: ...'; Helm 4 (server-side apply):
// 'server-side apply failed for object NS/NAME GROUP/VERSION, Kind=KIND: ...'
WITH key, name, namespace, said, at, version, op, e,
     [seg IN tail(split(flat, 'cannot patch "')) WHERE seg CONTAINS 'field is immutable'
        OR seg CONTAINS 'may not change once set' |
      {name: split(seg, '"')[0],
       kind: trim(split(split(seg, ' with kind ')[1], ':')[0]),
       field: CASE WHEN seg CONTAINS ' is invalid: ' THEN split(split(seg, ' is invalid: ')[1], ':')[0]
                   ELSE 'a field' END}] +
     [seg IN tail(split(flat, 'server-side apply failed for object ')) WHERE seg CONTAINS 'field is immutable'
        OR seg CONTAINS 'may not change once set' |
      {name: last(split(split(seg, ' ')[0], '/')),
       kind: trim(split(split(seg, 'Kind=')[1], ':')[0]),
       field: CASE WHEN seg CONTAINS ' is invalid: ' THEN split(split(seg, ' is invalid: ')[1], ':')[0]
                   ELSE 'a field' END}] AS parsed
WITH key, name, namespace, said, at, version, op,
     CASE WHEN size(parsed) > 0 THEN parsed
          WHEN e IS NOT NULL AND e.kind IS NOT NULL AND e.name IS NOT NULL
            THEN [{name: e.name, kind: e.kind, field: coalesce(e.field, 'a field')}]
          ELSE [] END AS rejected
WHERE size(rejected) > 0
UNWIND rejected AS r
// a named cluster's keys start with '<cluster>:' (kgrca/keys.py); a namespace/name never holds ':'
OPTIONAL MATCH (o:Object {ref: CASE WHEN key CONTAINS ':' THEN split(key, ':')[0] + ':' ELSE '' END +
                             r.kind + '/' + namespace + '/' + r.name})
WHERE o.deleted_at IS NULL
WITH key, name, namespace, said, at, version, op, rejected,
     collect(r {.*, obj: o,
                now: CASE
                  WHEN o IS NULL THEN 'not in the graph'
                  WHEN r.field STARTS WITH 'spec.clusterIP' THEN 'clusterIP is ' + coalesce(o.cluster_ip, '?')
                  WHEN r.field = 'spec.selector' THEN 'selector is ' +
                    reduce(t = '', s IN coalesce(o.selector_pairs, []) | t + CASE WHEN t = '' THEN '' ELSE ',' END + s)
                  ELSE 'created ' + toString(o.created_at) END}) AS objects
WITH key, name, namespace, said, at, version, op, objects, objects[0] AS first
RETURN
  key AS release_key,
  {kind: first.kind, namespace: namespace, name: first.name} AS subject,
  'The upgrade of ' + key + ' tries to change immutable ' +
    reduce(t = '', x IN objects | t + CASE WHEN t = '' THEN '' ELSE ' and ' END + x.field + ' of ' + x.kind + ' ' +
           namespace + '/' + x.name) + '; the API server refused the patch' AS summary,
  CASE WHEN version IS NULL THEN CASE WHEN op.command = 'sync' THEN 'Argo CD sync' ELSE 'helm ' + coalesce(op.command, '(command not recorded)') END + ' failed. '
       ELSE 'Revision ' + version + ' failed. ' END + 'Helm said: ' + said + '\nLive: ' +
    reduce(t = '', x IN objects | t + CASE WHEN t = '' THEN '' ELSE '; ' END + x.kind + ' ' + x.name + ' ' + x.now)
  AS details,
  CASE WHEN version IS NULL THEN [] ELSE [{kind: 'Revision', name: key + ' v' + version, at: at,
    text: 'failed: ' + said}] END +
  CASE WHEN op IS NULL THEN [] ELSE [{kind: coalesce(op.witness_kind, 'HelmOperation'), name: coalesce(op.witness_name, op.operation_id), at: op.started_at,
    text: coalesce(op.said_by, 'pid ' + op.pid) + ' -> ' + CASE WHEN op.command = 'sync' THEN 'Argo CD sync'
          ELSE 'helm ' + coalesce(op.command, '') END + ' failed'}] END +
  [x IN objects | {kind: x.kind, name: x.kind + ' ' + namespace + '/' + x.name, at: x.obj.created_at,
                   text: x.field + ' is immutable; live ' + x.now}] AS evidence,
  [x IN objects WHERE x.obj IS NOT NULL | {at: x.obj.created_at, what: x.kind + ' ' + x.name + ' created'}] +
  [{at: at, what: 'patch refused: ' + first.field + ' of ' + first.kind + ' ' + first.name + ' is immutable'}]
  AS event_chain,
  CASE WHEN op IS NULL THEN null ELSE op.operation_id END AS operation_id,
  {release: name, namespace: namespace, kind_lower: toLower(first.kind), object: first.name,
   fix: CASE
     WHEN first.kind = 'Job' THEN 'a Job\'s pod template cannot change: delete the Job before upgrading, give it a ' +
       'new name per release, or make it a hook with helm.sh/hook-delete-policy: before-hook-creation'
     WHEN first.field = 'spec.selector' THEN 'keep the selector labels stable in the chart (no version or chart ' +
       'labels); to change them anyway, delete ' + first.kind + ' ' + first.name + ' (its pods restart) and upgrade'
     WHEN first.field STARTS WITH 'spec.clusterIP' THEN 'do not set or change clusterIP in the chart; to change it ' +
       'anyway, delete the Service (its IP changes) and upgrade'
     ELSE first.field + ' cannot change in place: recreate the object (delete it, then upgrade), or keep the old value'
   END} AS vars

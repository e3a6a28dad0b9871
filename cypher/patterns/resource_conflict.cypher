// id: resource_conflict
// title: An object the chart creates already exists with another owner
// severity: high
// confidence: 0.95
// tags: [helm, ownership, conflict]
// shape: resource_conflict
// explains: [partial_deployment]
// impact: >-
//   Helm refused to take over an object it did not create, and stopped before applying anything: no revision
//   was stored for an install, and an upgrade left the previous revision deployed.
// resolution:
//   - "{inspect}"
//   - "{step1}"
//   - "{step2}"
//   - "{step3}"
:param release_key => null;

// Helm's ownership check (pkg/action/validate.go) in its wordings:
//   Unable to continue with install: Service "x" in namespace "ns" exists and cannot be imported into the
//   current release: invalid ownership metadata; label validation error: missing key ... / annotation
//   validation error: key "meta.helm.sh/release-name" must equal "a": current value is "b"
//   rendered manifests contain a resource that already exists. ... (helm 3.2 to 3.12)
//   existing resource conflict: namespace: ns, name: x, existing_kind: /v1, Kind=Service (helm 3.0, 3.1)
// Helm stores no revision for it, so the failing helm process (eBPF) is the usual witness; a failed
// revision whose description says it is the other. The current owner is read from the live object
// (its meta.helm.sh/release-name annotation, the Release that MANAGES it) and from helm's message.
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
    AND op.command IN ['install', 'upgrade', 'sync'] AND op.stderr IS NOT NULL
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
WITH key, name, namespace, said, at, version, op, trim(replace(coalesce(said, ''), '\n', ' ')) AS flat
WHERE flat CONTAINS 'exists and cannot be imported into the current release'
   OR flat CONTAINS 'invalid ownership metadata' OR flat CONTAINS 'existing resource conflict:'
WITH key, name, namespace, said, at, version, op, flat,
     CASE WHEN flat CONTAINS ' exists and cannot be imported'
          THEN reverse(split(reverse(split(flat, ' exists and cannot be imported')[0]), ' :')[0]) END AS phrase
WITH key, name, namespace, said, at, version, op, flat,
     CASE WHEN phrase IS NOT NULL THEN split(phrase, ' "')[0]
          WHEN flat CONTAINS 'Kind=' THEN split(split(flat, 'Kind=')[1], ',')[0] END AS obj_kind,
     CASE WHEN phrase IS NOT NULL THEN split(phrase, '"')[1]
          WHEN flat CONTAINS ' name: ' THEN split(split(flat, ' name: ')[1], ',')[0] END AS obj_name,
     CASE WHEN phrase IS NOT NULL AND phrase CONTAINS ' in namespace "' THEN split(phrase, '"')[3]
          WHEN flat CONTAINS 'namespace: ' THEN split(split(flat, 'namespace: ')[1], ',')[0]
          ELSE namespace END AS obj_ns,
     CASE WHEN flat CONTAINS 'release-name" must equal "' AND flat CONTAINS 'current value is "'
          THEN split(split(flat, 'current value is "')[1], '"')[0] END AS said_owner
OPTIONAL MATCH (o:Object {ref: obj_kind + '/' + obj_ns + '/' + obj_name})
WHERE o.deleted_at IS NULL
OPTIONAL MATCH (owner:Release)-[:MANAGES]->(o)
WITH key, name, namespace, said, at, version, op, flat, obj_kind, obj_name, obj_ns, said_owner, o,
     collect(owner)[0] AS owner
WITH key, name, namespace, said, at, version, op, obj_kind, obj_name, obj_ns, o, owner,
     coalesce(o.helm_release, owner.name, said_owner) AS owner_release,
     coalesce(owner.namespace, obj_ns, namespace) AS owner_ns,
     CASE WHEN obj_ns = '' THEN '' ELSE '-n ' + obj_ns + ' ' END AS nsflag,
     toLower(obj_kind) AS kind_lower,
     obj_kind + ' ' + CASE WHEN obj_ns = '' THEN '' ELSE obj_ns + '/' END + obj_name AS shown
RETURN
  key AS release_key,
  {kind: obj_kind, namespace: obj_ns, name: obj_name} AS subject,
  shown + ' already exists' +
    CASE WHEN owner_release IS NOT NULL AND owner_release <> name
           THEN ' and belongs to Helm release ' + owner_ns + '/' + owner_release
         ELSE ' and is not managed by Helm' END +
    ', so helm ' + coalesce(op.command, CASE WHEN version IS NULL THEN 'install' ELSE 'upgrade' END) + ' of ' +
    key + ' cannot import it' AS summary,
  'Helm said: ' + said + '\n' +
    CASE WHEN o IS NULL THEN 'The object is not in the graph (not watched, or deleted since).'
         ELSE shown + ' was created at ' + toString(o.created_at) + '; managed-by label: ' +
              coalesce(o.managed_by, 'none') + ', release annotation: ' + coalesce(o.helm_release, 'none') + '.' END
  AS details,
  CASE WHEN version IS NULL THEN [] ELSE [{kind: 'Revision', name: key + ' v' + version, at: at,
    text: 'failed: ' + said}] END +
  CASE WHEN op IS NULL THEN [] ELSE [{kind: coalesce(op.witness_kind, 'HelmOperation'), name: coalesce(op.witness_name, op.operation_id), at: op.started_at,
    text: coalesce(op.said_by, 'pid ' + op.pid + ': ' + reduce(t = '', a IN coalesce(op.argv, []) | t + a + ' ')) + ' -> ' +
          coalesce(op.status, '') + ': ' + trim(said)}] END +
  [{kind: obj_kind, name: shown, at: o.created_at,
    text: CASE WHEN o IS NULL THEN 'named by helm; not in the graph'
               WHEN owner_release IS NULL THEN 'exists, not managed by Helm (no meta.helm.sh annotations)'
               ELSE 'exists, owned by Helm release ' + owner_ns + '/' + owner_release END}] AS evidence,
  [{at: o.created_at, what: shown + ' created'}] +
  CASE WHEN op IS NULL THEN [] ELSE [{at: op.started_at, what: 'helm ' + coalesce(op.command, '') + ' started'}] END +
  [{at: at, what: 'helm refused to import ' + shown}] AS event_chain,
  CASE WHEN op IS NULL THEN null ELSE op.operation_id END AS operation_id,
  CASE WHEN obj_kind IS NULL OR obj_name IS NULL THEN 0.8 ELSE 0.95 END AS confidence,
  {inspect: 'kubectl ' + nsflag + 'get ' + kind_lower + ' ' + obj_name + ' -o yaml',
   step1: CASE WHEN owner_release IS NOT NULL AND owner_release <> name
               THEN 'helm -n ' + owner_ns + ' status ' + owner_release
               ELSE 'kubectl ' + nsflag + 'label ' + kind_lower + ' ' + obj_name +
                    ' app.kubernetes.io/managed-by=Helm --overwrite' END,
   step2: CASE WHEN owner_release IS NOT NULL AND owner_release <> name
               THEN '# one object cannot belong to two releases: rename it in one chart, or remove it from ' +
                    owner_release + '\'s chart (or uninstall ' + owner_release + ')'
               ELSE 'kubectl ' + nsflag + 'annotate ' + kind_lower + ' ' + obj_name + ' meta.helm.sh/release-name=' +
                    name + ' meta.helm.sh/release-namespace=' + namespace + ' --overwrite' END,
   step3: CASE WHEN owner_release IS NOT NULL AND owner_release <> name
               THEN '# then run helm ' + coalesce(op.command, 'upgrade') + ' ' + name + ' again'
               ELSE '# adopting it (above) keeps it; or delete it and let helm create it: kubectl ' + nsflag +
                    'delete ' + kind_lower + ' ' + obj_name END} AS vars

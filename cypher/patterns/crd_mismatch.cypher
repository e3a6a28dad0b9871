// id: crd_mismatch
// title: The chart uses a kind or apiVersion the cluster does not serve
// severity: high
// confidence: 0.9
// tags: [helm, crd, api-version]
// shape: crd_mismatch
// explains: [partial_deployment, wait_timeout]
// impact: >-
//   The API server cannot map these objects: helm cannot build the release (nothing applied, no revision
//   stored), or the deployed release declares objects that cannot exist in this cluster.
// resolution:
//   - "{inspect}"
//   - "# {fix}"
//   - "{step}"
:param release_key => null;

// Two witnesses:
// * the graph: the latest revision declares an object whose API group is not built in, and no
//   CustomResourceDefinition has that group and kind, or the CRD does not serve the manifest's version;
// * helm's words, for the case it stores no revision: "unable to build kubernetes objects from release
//   manifest: resource mapping not found for name: "x" namespace: "" from "": no matches for kind "K" in
//   version "g/v"\nensure CRDs are installed first" (a failed helm process, or a failed revision). A
//   built-in group there means an API version this cluster removed (policy/v1beta1, extensions/v1beta1);
//   "current release manifest" means it is the last deployed revision that uses it.
CALL {
  // declared slots whose apiVersion has a dot (every CRD group has one; built-in groups are filtered out)
  MATCH (r:Resource)
  USING TEXT INDEX r:Resource(api_version)
  WHERE r.api_version CONTAINS '.' AND NOT split(r.api_version, '/')[0] IN
    ['networking.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'apiextensions.k8s.io',
     'admissionregistration.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io', 'discovery.k8s.io',
     'certificates.k8s.io', 'events.k8s.io', 'flowcontrol.apiserver.k8s.io', 'apiregistration.k8s.io',
     'authentication.k8s.io', 'authorization.k8s.io', 'resource.k8s.io', 'internal.apiserver.k8s.io',
     'storagemigration.k8s.io']
  MATCH (rev:Revision)-[d:DECLARES]->(r)
  WHERE rev.status IN ['deployed', 'failed'] AND ($release_key IS NULL OR rev.release_key = $release_key)
  MATCH (rel:Release)-[:HAS_REVISION]->(rev)
  WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
  WITH rel, rev, r, coalesce(d.api_version, r.api_version) AS av
  RETURN rel.key AS key, rel.name AS name, rel.namespace AS namespace, rev.description AS said,
         rev.last_deployed AS at, rev.version AS version, null AS op,
         collect({kind: r.kind, name: r.name, api_version: av}) AS items, 'manifest' AS source
  UNION
  MATCH (rev:Revision {status: 'failed'})
  USING INDEX rev:Revision(status)
  WHERE ($release_key IS NULL OR rev.release_key = $release_key) AND rev.description CONTAINS 'no matches for kind'
  MATCH (rel:Release)-[:HAS_REVISION]->(rev)
  WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
  RETURN rel.key AS key, rel.name AS name, rel.namespace AS namespace, rev.description AS said,
         rev.last_deployed AS at, rev.version AS version, null AS op, [] AS items, 'message' AS source
  UNION
  MATCH (op:HelmOperation {status: 'failed'})
  WHERE ($release_key IS NULL OR op.release_key = $release_key)
    AND (op.stderr CONTAINS 'no matches for kind'
         // other words for it (Argo CD v3: "The Kubernetes API could not find ..."), classified when written
         OR EXISTS { MATCH (op)-[:FAILED_WITH]->(:HelmError {shape: 'crd_mismatch'}) })
    AND NOT EXISTS {
      MATCH (later:HelmOperation {release_key: op.release_key})
      // a later run that went well, or the same witness's newer attempt (a retry) speaks instead
      WHERE (later.started_at > op.started_at AND later.status IN ['succeeded', 'running'])
         OR (op.witness_name IS NOT NULL AND later.witness_name = op.witness_name AND later.operation_id <> op.operation_id
                 AND coalesce(later.ended_at, later.started_at) > coalesce(op.ended_at, op.started_at))
    }
  OPTIONAL MATCH (op)-[:FAILED_WITH]->(e:HelmError {shape: 'crd_mismatch'})
  WITH op, collect(e)[0] AS e
  RETURN op.release_key AS key, op.release AS name, op.namespace AS namespace, op.stderr AS said,
         op.ended_at AS at, null AS version, op,
         CASE WHEN op.stderr CONTAINS 'no matches for kind' OR e.kind IS NULL THEN []
              ELSE [{kind: e.kind, name: e.name, api_version: e.api_version, grp: e.group}] END AS items,
         CASE WHEN op.stderr CONTAINS 'no matches for kind' THEN 'message' ELSE 'facts' END AS source
}
WITH key, name, namespace, said, at, version, op, source,
     CASE WHEN source IN ['manifest', 'facts'] THEN items
          ELSE [seg IN tail(split(coalesce(said, ''), 'no matches for kind "')) |
                {kind: split(seg, '"')[0], name: null,
                 api_version: split(split(seg, 'in version "')[1], '"')[0]}] END AS items
UNWIND items AS item
WITH key, name, namespace, said, at, version, op, source, item,
     CASE WHEN item.grp IS NOT NULL THEN item.grp
          WHEN item.api_version CONTAINS '/' THEN split(item.api_version, '/')[0] ELSE '' END AS grp
OPTIONAL MATCH (c:CustomResourceDefinition {group: grp})
WHERE c.crd_kind = item.kind AND c.deleted_at IS NULL
WITH key, name, namespace, said, at, version, op, source, item, grp, collect(c)[0] AS c
WITH key, name, namespace, said, at, version, op, source, item, grp, c,
     CASE
       WHEN grp IN ['', 'apps', 'batch', 'autoscaling', 'policy', 'extensions', 'networking.k8s.io',
                    'rbac.authorization.k8s.io', 'storage.k8s.io', 'apiextensions.k8s.io',
                    'admissionregistration.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io',
                    'discovery.k8s.io', 'certificates.k8s.io', 'events.k8s.io', 'flowcontrol.apiserver.k8s.io']
         THEN 'removed'
       WHEN c IS NULL THEN 'no_crd'
       WHEN NOT item.api_version IN coalesce(c.served_api_versions, []) THEN 'not_served'
     END AS problem
WHERE problem IS NOT NULL
WITH key, name, namespace, said, at, version, op, source,
     collect(item {.*, grp: grp, problem: problem, crd: c.name, served: c.served_api_versions,
                   text: item.kind + ' ' + coalesce(item.api_version, grp + ' (no version named)') + ': ' +
                     CASE problem
                     WHEN 'removed' THEN 'this built-in API version is no longer served by the cluster'
                     WHEN 'no_crd' THEN 'no CustomResourceDefinition of kind ' + item.kind + ' in group ' + grp
                     ELSE 'CRD ' + c.name + ' serves only ' +
                          reduce(t = '', v IN coalesce(c.served_api_versions, []) |
                                 t + CASE WHEN t = '' THEN '' ELSE ', ' END + v) END}) AS bad
WITH key, name, namespace, said, at, version, op, source, bad, bad[0] AS first
RETURN
  key AS release_key,
  {kind: first.kind, namespace: namespace, name: coalesce(first.name, first.kind)} AS subject,
  CASE WHEN source = 'manifest' THEN 'Revision ' + version + ' of ' + key + ' declares '
       ELSE CASE WHEN op.command = 'sync' THEN 'Argo CD sync' ELSE 'helm ' + coalesce(op.command, '(command not recorded)') END + ' of ' + key + ' cannot map ' END +
    reduce(t = '', b IN bad | t + CASE WHEN t = '' THEN '' ELSE '; ' END + b.text) AS summary,
  CASE WHEN said IS NULL OR said = '' THEN ''
       ELSE 'Helm said: ' + said + '\n' END +
    CASE WHEN coalesce(said, '') CONTAINS 'current release manifest'
      THEN 'It is the current (last deployed) release manifest that uses it: helm cannot even compare against it. '
      ELSE '' END +
    CASE WHEN first.problem = 'no_crd' THEN 'The CRD must be installed before the chart that uses it.'
         WHEN first.problem = 'not_served' THEN 'The CRD exists but was upgraded past this version.'
         ELSE 'The cluster was upgraded past this API version.' END AS details,
  CASE WHEN version IS NULL THEN [] ELSE [{kind: 'Revision', name: key + ' v' + version, at: at,
    text: coalesce(said, '')}] END +
  CASE WHEN op IS NULL THEN [] ELSE [{kind: coalesce(op.witness_kind, 'HelmOperation'), name: coalesce(op.witness_name, op.operation_id), at: op.started_at,
    text: coalesce(op.said_by, 'pid ' + op.pid) + ' -> ' + CASE WHEN op.command = 'sync' THEN 'Argo CD sync'
          ELSE 'helm ' + coalesce(op.command, '') END + ' failed: ' + trim(said)}] END +
  [b IN bad | {kind: b.kind, name: coalesce(b.name, b.kind), at: null, text: b.text}] AS evidence,
  CASE WHEN op IS NULL THEN [{at: at, what: 'revision ' + coalesce(toString(version), '') + ' recorded'}]
       ELSE [{at: op.started_at, what: CASE WHEN op.command = 'sync' THEN 'Argo CD sync' ELSE 'helm ' + coalesce(op.command, '(command not recorded)') END + ' started'},
             {at: op.ended_at, what: 'failed: ' + first.kind + ' ' +
                                     coalesce(first.api_version, first.grp) + ' is not served'}] END AS event_chain,
  CASE WHEN source = 'manifest' THEN 0.9 ELSE 0.88 END AS confidence,
  CASE WHEN op IS NULL THEN null ELSE op.operation_id END AS operation_id,
  {inspect: CASE WHEN first.problem = 'removed' THEN 'kubectl api-versions | grep ' + first.grp
                 WHEN first.problem = 'no_crd' THEN 'kubectl get crd | grep ' + first.grp
                 ELSE 'kubectl get crd ' + first.crd + ' -o jsonpath=\'{.spec.versions[*].name}\'' END,
   fix: CASE WHEN first.problem = 'removed' THEN 'move ' + first.kind + ' off ' + first.api_version +
               ' in the chart (a newer chart version), and rewrite the stored release manifest:'
             WHEN first.problem = 'no_crd' THEN 'install the CRDs of ' + first.grp +
               ' first (the operator\'s chart or its crds/ folder), then run helm again'
             ELSE 'use an apiVersion the CRD serves (' + reduce(t = '', v IN coalesce(first.served, []) |
               t + CASE WHEN t = '' THEN '' ELSE ', ' END + v) + ') for ' + first.kind + ' in the chart' END,
   step: CASE WHEN first.problem = 'removed' AND op.witness = 'argocd'
              THEN '# Argo CD stores no helm release to rewrite: fix the chart, then sync again'
              WHEN first.problem = 'removed'
              THEN 'helm mapkubeapis ' + coalesce(name, '<release>') + ' -n ' + coalesce(namespace, '<namespace>')
              WHEN first.problem = 'no_crd' THEN 'kubectl api-resources --api-group=' + first.grp
              ELSE 'helm upgrade ' + coalesce(name, '<release>') + ' <chart> -n ' + coalesce(namespace, '<namespace>') +
                   ' --reuse-values' END} AS vars

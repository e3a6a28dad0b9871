// id: template_error
// title: The chart does not render (template, YAML or values error)
// severity: high
// confidence: 0.95
// tags: [helm, template, chart]
// shape: template_error
// explains: []
// impact: >-
//   Helm stopped before touching the cluster: nothing of this change was applied and the workloads run the
//   previous revision (or, for a first install, nothing exists yet).
// resolution:
//   - "{render}"
//   - "# {fix}"
//   - "# the values files helm read: {values_files}"
:param release_key => null;

// Helm's rendering errors, in every wording helm 3 and 4 print:
//   template: <chart>/templates/x.yaml:1:14: executing "..." at <.Values.a.b>: nil pointer evaluating ...
//   <chart>/templates/x.yaml:2:13\n  executing "..." at <...>:\n    nil pointer evaluating ...   (helm 4)
//   parse error at (<chart>/templates/_helpers.tpl:18): function "break" not defined
//   YAML parse error on <chart>/templates/x.yaml: error converting YAML to JSON: yaml: line 39: ...
//   error calling include: template: no template "name" associated with template "gotpl"
// A failed install stores no revision, so the failing helm process (eBPF) is the main witness; a failed
// revision whose description carries such an error is the other. An error a later successful run of the
// same release superseded is not reported.
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
    // Argo CD renders with `helm template` before each sync: its rendering errors count; a person's own
    // `helm template` at a terminal changes nothing in the cluster and does not
    AND (op.command IN ['install', 'upgrade'] OR (op.command = 'template' AND op.witness = 'argocd'))
    AND op.stderr IS NOT NULL
    // helm stored no revision for it (kg_builder links revisions written up to 5s before a run began)
    AND NOT EXISTS { MATCH (op)-[:PRODUCED]->(r:Revision) WHERE r.last_deployed >= op.started_at }
    // nothing later on the same release went well
    AND NOT EXISTS {
      MATCH (later:HelmOperation {release_key: op.release_key})
      // a later run that went well, or the same witness's newer attempt (a retry) speaks instead
      WHERE (later.started_at > op.started_at AND later.status IN ['succeeded', 'running'])
         OR (op.witness_name IS NOT NULL AND later.witness_name = op.witness_name AND later.operation_id <> op.operation_id
                 AND coalesce(later.ended_at, later.started_at) > coalesce(op.ended_at, op.started_at))
    }
    AND NOT EXISTS {
      MATCH (r:Revision {release_key: op.release_key})
      WHERE r.last_deployed > op.started_at
    }
  RETURN op.release_key AS key, op.release AS name, op.namespace AS namespace, op.stderr AS said,
         op.ended_at AS at, null AS version, op
}
WITH key, name, namespace, said, at, version, op,
     trim(replace(replace(coalesce(said, ''), '\n', ' '), '\t', ' ')) AS flat
// cheap words first, the regular expression only on what passes them
WHERE (flat CONTAINS 'template' OR flat CONTAINS 'parse error' OR flat CONTAINS 'nil pointer'
       OR flat CONTAINS 'not defined' OR flat CONTAINS 'YAML' OR flat CONTAINS 'yaml' OR flat CONTAINS 'executing'
       OR flat CONTAINS 'execution error at')
  AND flat =~ '(?is).*((^|[\\s:])template: |parse error at|execution error at \\(|yaml parse error|nil pointer evaluating|function "[^"]+" not defined|error converting yaml to json|error calling include|executing "[^"]+" at <).*'
  AND NOT flat CONTAINS 'unable to build kubernetes objects'
// the first word that names a template file, e.g. "billing/templates/serviceaccount.yaml:1:14:"
WITH key, name, namespace, said, at, version, op, flat,
     [t IN split(flat, ' ') WHERE t CONTAINS 'templates/'][0] AS token
WITH key, name, namespace, said, at, version, op, flat,
     split(replace(replace(replace(coalesce(token, ''), '(', ''), ')', ''), '"', ''), ':') AS parts
WITH key, name, namespace, said, at, version, op, flat,
     CASE WHEN parts[0] = '' THEN null ELSE parts[0] END AS file,
     CASE WHEN size(parts) > 1 AND parts[1] =~ '\\d+' THEN parts[1]
          WHEN flat CONTAINS 'yaml: line ' THEN split(split(flat, 'yaml: line ')[1], ':')[0]
          ELSE null END AS line,
     CASE WHEN size(parts) > 2 AND parts[2] =~ '\\d+' THEN parts[2] ELSE null END AS column
WITH key, name, namespace, said, at, version, op, flat, file, line, column,
     CASE
       WHEN flat CONTAINS 'nil pointer evaluating'
         THEN ['a value the template reads is missing' +
               CASE WHEN flat CONTAINS ' at <' THEN ': ' + split(split(flat, ' at <')[1], '>')[0] ELSE '' END +
               ' is nil',
               'define it in your values (or guard it with `if`/`default` in the template)']
       WHEN flat =~ '(?i).*function "[^"]+" not defined.*'
         THEN ['the template calls function ' + split(split(flat, 'function "')[1], '"')[0] +
               ', which this helm binary does not know',
               'upgrade the helm client (helm version) or avoid the function']
       WHEN flat CONTAINS 'execution error at ('
         THEN ['the chart stopped rendering (required/fail): ' +
               trim(coalesce(split(split(flat, 'execution error at (')[1], '): ')[1], '')),
               'give the value the chart asks for (--set or a values file)']
       WHEN flat CONTAINS 'no template "'
         THEN ['named template "' + split(split(flat, 'no template "')[1], '"')[0] + '" does not exist',
               'run helm dependency update, or fix the include name / dependency version']
       WHEN toLower(flat) CONTAINS 'yaml parse error' OR toLower(flat) CONTAINS 'error converting yaml'
         THEN ['the rendered YAML is invalid' +
               CASE WHEN flat CONTAINS 'yaml: line ' THEN ': ' + trim(split(split(flat, 'yaml: line ')[1], ': ')[1])
                    ELSE '' END,
               'fix the indentation or quoting (nindent/toYaml) at that line of the rendered output']
       ELSE ['the template fails to execute', 'read the message and fix the template']
     END AS why
RETURN
  key AS release_key,
  {kind: 'Template', namespace: namespace, name: coalesce(file, 'chart')} AS subject,
  'Helm could not render ' + coalesce(file, 'the chart') +
    CASE WHEN line IS NULL THEN '' WHEN toLower(flat) CONTAINS 'yaml: line' THEN ' (line ' + line + ' of its output)'
         ELSE ' line ' + line + coalesce(' column ' + column, '') END + ': ' + why[0] AS summary,
  CASE WHEN version IS NULL
    THEN 'helm ' + coalesce(op.command, '') + ' ' + coalesce(name, '') + ' failed before storing a revision. '
    ELSE 'Revision ' + version + ' failed. ' END +
    'Helm said: ' + said +
    CASE WHEN op.witness IN ['flux', 'argocd', 'ci_pod', 'ci_log'] THEN '\nSeen by: ' + op.said_by ELSE '' END +
    CASE WHEN op IS NULL OR size(coalesce(op.values_files, [])) = 0 THEN ''
         ELSE '\nValues files read: ' + reduce(t = '', v IN op.values_files | t + CASE WHEN t = '' THEN '' ELSE ', ' END + v)
    END AS details,
  CASE WHEN version IS NULL THEN [] ELSE [{kind: 'Revision', name: key + ' v' + version, at: at,
    text: 'failed: ' + said}] END +
  CASE WHEN op IS NULL THEN [] ELSE [{kind: coalesce(op.witness_kind, 'HelmOperation'), name: coalesce(op.witness_name, op.operation_id), at: op.started_at,
    text: coalesce(op.said_by, 'pid ' + op.pid + ': ' + reduce(t = '', a IN coalesce(op.argv, []) | t + a + ' ')) + ' -> ' +
          coalesce(op.status, '') + coalesce(', exit code ' + toString(op.exit_code), '') + ': ' + trim(said)}] END +
  [v IN coalesce(op.values_files, []) | {kind: 'ValuesFile', name: v, at: op.started_at, text: 'read by helm'}]
  AS evidence,
  CASE WHEN op IS NULL THEN [] ELSE [{at: op.started_at, what: 'helm ' + coalesce(op.command, '') + ' started'}] END +
  [{at: at, what: 'rendering failed: ' + why[0]}] AS event_chain,
  CASE WHEN op IS NULL THEN null ELSE op.operation_id END AS operation_id,
  {render: 'helm template ' + coalesce(name, '<release>') + ' ' + coalesce(op.chart, '<chart>') + ' -n ' +
           coalesce(namespace, '<namespace>') +
           reduce(t = '', v IN coalesce(op.values_files, []) | t + ' -f ' + v) + ' --debug > /dev/null',
   fix: coalesce(file, 'the template') + coalesce(':' + line, '') + ': ' + why[1],
   values_files: CASE WHEN op IS NULL THEN 'unknown (no helm process traced; enable eBPF)'
                      WHEN op.values_files IS NULL THEN 'not shown by ' + coalesce(op.witness_kind + ' ' + op.witness_name, 'the witness')
                      WHEN size(coalesce(op.values_files, [])) = 0 THEN 'none (chart defaults only)'
                      ELSE reduce(t = '', v IN op.values_files | t + CASE WHEN t = '' THEN '' ELSE ', ' END + v) END}
  AS vars

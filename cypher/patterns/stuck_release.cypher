// id: stuck_release
// title: A Helm release is stuck in a pending state
// severity: high
// confidence: 0.85
// tags: [helm, release, lock]
// shape: stuck_release
// explains: []
// impact: >-
//   Helm treats a pending-* latest revision as an operation in progress: every upgrade, install and rollback
//   of this release fails with "another operation (install/upgrade/rollback) is in progress" until the
//   pending revision is rolled back or removed. The workloads keep whatever state the interrupted
//   operation left them in.
// resolution:
//   - "# first make sure no helm or CI job still works on {release} ({running_check})"
//   - helm history {release} -n {namespace} --max 5
//   - "{undo}"
//   - "# or drop the pending revision record itself: {alternative}"
:param release_key => null;
:param now => null;
:param stuck_release_timeout => 600;

// The latest revision is pending-install / pending-upgrade / pending-rollback and no live helm process
// works on it: no HelmOperation targeting the release is 'running'. It is stuck when it is older than
// stuck_release_timeout seconds (as of $now), or sooner when the helm process that wrote it is known to
// have ended (killed by a signal, or exited without finishing the revision). With eBPF the process, its
// signal and time are cited, and so are later attempts that failed with "another operation
// (install/upgrade/rollback) is in progress" (helm stores no revision for those).
MATCH (rev:Revision)
USING INDEX rev:Revision(status)
WHERE rev.status IN ['pending-install', 'pending-upgrade', 'pending-rollback']
  AND ($release_key IS NULL OR rev.release_key = $release_key)
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE rev.version = rel.latest_version
WITH rel, rev, coalesce($now, datetime()) AS now
OPTIONAL MATCH (op:HelmOperation)-[:TARGETS]->(rel)
WITH rel, rev, now, op ORDER BY op.started_at
WITH rel, rev, now, collect(op) AS ops
WITH rel, rev, now, ops,
     [o IN ops WHERE o.status = 'running' AND o.started_at <= now] AS running,
     // the process that wrote the pending revision: linked by PRODUCED, or running across its time; of two
     // back-to-back runs both within the 5 s slack (an install that ended a second before the killed upgrade
     // wrote: tests/e2e/recordings/stuck_pending_upgrade.processes.jsonl), the last one started by then
     coalesce([o IN ops WHERE ((o)-[:PRODUCED]->(rev)
                OR (o.started_at <= rev.last_deployed + duration('PT5S')
                    AND coalesce(o.ended_at, now) >= rev.last_deployed - duration('PT5S')))
                AND o.started_at <= rev.last_deployed][-1],
              [o IN ops WHERE (o)-[:PRODUCED]->(rev)
                OR (o.started_at <= rev.last_deployed + duration('PT5S')
                    AND coalesce(o.ended_at, now) >= rev.last_deployed - duration('PT5S'))][0]) AS writer,
     [o IN ops WHERE o.started_at > rev.last_deployed AND o.stderr CONTAINS 'another operation'
        AND o.stderr CONTAINS 'in progress'] AS blocked,
     duration.inSeconds(rev.last_deployed, now).seconds AS age
WHERE size(running) = 0 AND rev.last_deployed <= now
  AND (age > $stuck_release_timeout
       OR (writer IS NOT NULL AND writer.status IN ['killed', 'failed', 'succeeded', 'replaced'])
       OR size(blocked) > 0)
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, now, ops, writer, blocked, age, max(good.version) AS last_good
WITH rel, rev, now, ops, writer, blocked, age, last_good,
     // the record's own storage: "Secret ns/name" or "ConfigMap ns/name" (HELM_DRIVER=configmap)
     CASE WHEN rev.storage STARTS WITH 'ConfigMap' THEN 'configmap' ELSE 'secret' END AS storage_kind,
     coalesce(split(coalesce(rev.storage, ''), '/')[1], 'sh.helm.release.v1.' + rel.name + '.v' + rev.version)
       AS storage_name
WITH rel, rev, now, ops, writer, blocked, age, last_good, storage_kind, storage_name,
     CASE WHEN writer IS NULL THEN ''
          WHEN writer.status = 'killed'
            THEN 'helm ' + coalesce(writer.command, '') + ' (' + coalesce('pid ' + writer.pid, writer.said_by) + ') was killed by ' +
                 coalesce(writer.signal, 'a signal') + ' at ' + toString(writer.ended_at) + ' before it finished. '
          ELSE 'helm ' + coalesce(writer.command, '') + ' (' + coalesce('pid ' + writer.pid, writer.said_by) + ') ended ' +
               coalesce(writer.status, '') + ' at ' + toString(writer.ended_at) +
               ' without finishing the revision. ' END AS why
RETURN
  rel.key AS release_key,
  {kind: 'Release', namespace: rel.namespace, name: rel.name, cluster: rel.cluster} AS subject,
  'Release ' + rel.key + ' is stuck in ' + rev.status + ' (revision ' + rev.version + ', for ' +
    CASE WHEN age >= 7200 THEN toString(age / 3600) + 'h' WHEN age >= 120 THEN toString(age / 60) + 'm'
         ELSE toString(age) + 's' END + ')' +
    CASE WHEN writer IS NOT NULL AND writer.status = 'killed'
         THEN ': helm was killed by ' + coalesce(writer.signal, 'a signal') ELSE '' END +
    CASE WHEN size(blocked) > 0 THEN '; ' + size(blocked) + ' later attempt(s) failed with "another operation ' +
         '(install/upgrade/rollback) is in progress"' ELSE '' END AS summary,
  'Revision ' + rev.version + ' (' + coalesce(rev.description, '') + ') was written at ' +
    toString(rev.last_deployed) + ' and is still ' + rev.status + '. ' + why +
    CASE WHEN size(ops) = 0 THEN 'No helm process was traced (eBPF off or not running then), so whether it is stuck is ' +
         'judged by age: older than ' + toString($stuck_release_timeout) + 's. '
         ELSE 'No traced helm process is running for it now. ' END +
    CASE WHEN last_good IS NULL THEN 'There is no earlier deployed revision: this was the first install.'
         ELSE 'The last good revision is ' + last_good + '.' END AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
    text: rev.status + ': ' + coalesce(rev.description, '') + ' (' + coalesce(rev.storage, storage_name) + ')'}] +
  CASE WHEN writer IS NULL THEN [] ELSE [{kind: coalesce(writer.witness_kind, 'HelmOperation'),
    name: coalesce(writer.witness_name, writer.operation_id),
    at: coalesce(writer.ended_at, writer.started_at),
    text: coalesce('pid ' + writer.pid, writer.said_by) + ' helm ' + coalesce(writer.command, '') + ' ' + coalesce(writer.status, '') +
          coalesce(' by ' + writer.signal, '') + coalesce(', exit code ' + toString(writer.exit_code), '')}] END +
  [b IN blocked | {kind: coalesce(b.witness_kind, 'HelmOperation'), name: coalesce(b.witness_name, b.operation_id),
                   at: b.started_at, text: coalesce('pid ' + b.pid, b.said_by) + ' helm ' + coalesce(b.command, '') + ' failed: ' + trim(b.stderr)}]
  AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' written as ' + rev.status}] +
  CASE WHEN writer IS NULL THEN [] ELSE [{at: writer.started_at, what: 'helm ' + coalesce(writer.command, '') +
    ' started (' + coalesce('pid ' + writer.pid, writer.said_by) + ')'}, {at: writer.ended_at, what: 'helm (' + coalesce('pid ' + writer.pid, writer.said_by) + ') ' +
    coalesce(writer.status, 'ended') + coalesce(' by ' + writer.signal, '')}] END +
  [b IN blocked | {at: b.started_at, what: 'helm ' + coalesce(b.command, '') + ' refused: another operation ' +
                   'is in progress'}] AS event_chain,
  CASE WHEN writer IS NOT NULL AND writer.status IN ['killed', 'failed'] THEN 0.97
       WHEN size(blocked) > 0 THEN 0.95
       WHEN size(ops) > 0 THEN 0.9
       ELSE 0.85 END AS confidence,
  CASE WHEN writer IS NULL THEN null ELSE writer.operation_id END AS operation_id,
  {release: rel.name, namespace: rel.namespace, pending_version: rev.version,
   running_check: 'ps -ef | grep "helm.*' + rel.name + '"',
   undo: CASE WHEN last_good IS NULL THEN 'helm uninstall ' + rel.name + ' -n ' + rel.namespace
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END,
   alternative: 'kubectl -n ' + rel.namespace + ' delete ' + storage_kind + ' ' + storage_name} AS vars

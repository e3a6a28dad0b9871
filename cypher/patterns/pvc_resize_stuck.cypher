// id: pvc_resize_stuck
// title: A PersistentVolumeClaim's resize does not finish
// severity: medium
// confidence: 0.85
// tags: [storage, pvc, resize]
// shape: null
// explains: [wait_timeout]
// impact: >-
//   The claim asks for more space than its volume has: the application keeps running on the old size and
//   fills it, and a smaller size can no longer be asked for (the API server refuses to shrink a claim).
// resolution:
//   - kubectl -n {namespace} describe pvc {pvc}
//   - "{fix}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// Bound claims asking for more than their capacity now (resize_wanted: kg_builder compares the two quantities
// in bytes; index pvc_resize_wanted). A resize is a finding when the resizer failed (VolumeResizeFailed, a
// *ResizeError condition, an *Infeasible resize status), when the class does not allow expansion, or when it
// has been Resizing / FileSystemResizePending longer than correlation_window seconds (a setting, 300 s by
// default); one under way is not.
MATCH (c:PersistentVolumeClaim {resize_wanted: true})
WHERE c.deleted_at IS NULL
WITH c, coalesce($now, datetime()) AS now
OPTIONAL MATCH (c)-[:USES {how: 'storageClass'}]->(:Resource)<-[:INSTANCE_OF]-(sc:StorageClass)
WHERE sc.deleted_at IS NULL
WITH c, now, collect(sc)[0] AS sc
OPTIONAL MATCH (e:Event)-[:ABOUT]->(c)
WHERE e.reason IN ['VolumeResizeFailed', 'Resizing', 'FileSystemResizeRequired', 'ExternalExpanding']
WITH c, now, sc, e ORDER BY e.last_seen DESC
WITH c, now, sc, collect(e) AS events
// The resize conditions true now, with their words and since when
OPTIONAL MATCH (c)-[:HAD_CONDITION]->(k:Condition {status: 'True'})
WHERE k.type IN c.conditions_true
WITH c, now, sc, events, k ORDER BY k.at DESC
WITH c, now, sc, events, collect(k) AS conds
WITH c, now, sc, events, conds, [e IN events WHERE e.reason = 'VolumeResizeFailed'][0] AS failed,
     [k IN conds WHERE k.type ENDS WITH 'ResizeError'][0] AS error_cond,
     [k IN conds WHERE k.type IN ['Resizing', 'FileSystemResizePending']][0] AS pending
WITH c, sc, events, conds, failed, error_cond, pending,
     CASE
       WHEN failed IS NOT NULL THEN 'resize_failed'
       WHEN error_cond IS NOT NULL OR c.resize_status ENDS WITH 'Infeasible' THEN 'resize_failed'
       WHEN sc IS NOT NULL AND coalesce(sc.allow_volume_expansion, false) = false
         THEN 'not_expandable'
       WHEN pending IS NOT NULL AND duration.inSeconds(pending.at, now).seconds > $correlation_window
         THEN CASE pending.type WHEN 'FileSystemResizePending' THEN 'fs_pending' ELSE 'resizing' END
       ELSE null END AS cause
WHERE cause IS NOT NULL
OPTIONAL MATCH (c)<-[:MANAGES]-(rel:Release)
WITH c, sc, events, conds, failed, error_cond, pending, cause, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH c, sc, events, conds, failed, error_cond, pending, cause, rel,
     CASE WHEN failed IS NULL OR failed.message = '' THEN null ELSE failed.message END AS failed_said
RETURN
  rel.key AS release_key,
  {kind: 'PersistentVolumeClaim', namespace: c.namespace, name: c.name, cluster: c.cluster} AS subject,
  'PersistentVolumeClaim ' + c.namespace + '/' + c.name + ' asks for ' + c.requested_storage + ' but has ' +
    c.capacity + ': ' +
    CASE cause
      WHEN 'resize_failed' THEN
        CASE WHEN failed IS NOT NULL THEN 'the resize failed (x' + failed.count + '): ' +
               coalesce(failed_said, 'the resizer gave no message')
             WHEN error_cond IS NOT NULL THEN 'the resize failed (' + error_cond.type + '): ' +
               coalesce(error_cond.message, 'no message')
             ELSE 'the resize cannot be done (' + c.resize_status + ')' END
      WHEN 'not_expandable' THEN 'StorageClass ' + sc.name + ' does not allow volume expansion' +
        CASE WHEN sc.allow_volume_expansion IS NULL THEN ' (allowVolumeExpansion is not set)' ELSE '' END
      WHEN 'fs_pending' THEN 'the volume was expanded but its file system waits (FileSystemResizePending since ' +
        toString(pending.at) + ')' + coalesce(': ' + pending.message, '')
      ELSE 'it has been Resizing since ' + toString(pending.at) + ' with no result' +
        coalesce(': ' + pending.message, '') END AS summary,
  'Claim ' + c.namespace + '/' + c.name + coalesce(' on volume ' + c.volume_name, '') +
    coalesce(' of StorageClass ' + c.storage_class, '') +
    CASE WHEN sc IS NULL THEN '' ELSE ' (provisioner ' + coalesce(sc.provisioner, 'not given') +
      ', allowVolumeExpansion ' + coalesce(toString(sc.allow_volume_expansion), 'not set') + ')' END +
    ': requested ' + c.requested_storage + ', capacity ' + c.capacity +
    coalesce(', allocated ' + c.allocated_storage, '') + coalesce(', resize status ' + c.resize_status, '') +
    CASE WHEN size(conds) = 0 THEN '; no resize condition.'
         ELSE '; conditions: ' + reduce(t = '', k IN conds | t + CASE WHEN t = '' THEN '' ELSE ', ' END + k.type +
           ' since ' + toString(k.at)) + '.' END AS details,
  [e IN events[..5] | {kind: 'Event', name: c.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + CASE WHEN e.message = '' THEN ', no message' ELSE ': ' + e.message END}] +
  [k IN conds | {kind: 'PersistentVolumeClaim', name: c.name, at: k.at,
    text: k.type + '=True' + coalesce(': ' + k.message, '')}] AS evidence,
  [{at: c.created_at, what: 'claim ' + c.name + ' created'}] +
  [k IN conds | {at: k.at, what: k.type + coalesce(': ' + k.message, '')}] +
  [e IN events[..5] | {at: e.first_seen, what: 'first ' + e.reason +
    CASE WHEN e.message = '' THEN '' ELSE ': ' + e.message END}] AS event_chain,
  CASE cause WHEN 'resize_failed' THEN 0.9 WHEN 'not_expandable' THEN 0.85 ELSE 0.7 END AS confidence,
  {namespace: c.namespace, pvc: c.name, cause: cause, storage_class: c.storage_class,
   fix: CASE cause
     WHEN 'fs_pending' THEN 'kubectl -n ' + c.namespace + ' get pods -o wide   # restart the pod that mounts ' +
       c.name + ' so the kubelet grows the file system'
     WHEN 'not_expandable' THEN 'kubectl patch storageclass ' + sc.name +
       ' -p \'{"allowVolumeExpansion": true}\'   # only if its provisioner can expand volumes'
     ELSE 'kubectl -n ' + c.namespace + ' get events --field-selector involvedObject.name=' + c.name +
       '   # the resizer\'s words; a size the backend refuses needs the claim re-created (it cannot shrink)' END}
    AS vars

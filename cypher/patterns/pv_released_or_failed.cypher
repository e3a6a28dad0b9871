// id: pv_released_or_failed
// title: A PersistentVolume is Failed, or Released and in the way of a claim
// severity: high
// confidence: 0.9
// tags: [storage, pv, reclaim]
// shape: null
// explains: [workload_unavailable, pvc_pending, pod_unschedulable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   A Released volume still holds the claimRef of the claim that was deleted, so no new claim binds to it (with
//   reclaimPolicy Retain it stays so until someone acts); a Failed volume's reclaim did not happen, so its
//   storage is neither reused nor freed.
// resolution:
//   - kubectl describe pv {pv}
//   - "{fix}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// Volumes Released or Failed now (pv_phase index). A Released volume with reclaimPolicy Retain and no new
// claim of its claim's name is kept on purpose (its data waits for an admin) and is no finding; one with
// Delete is a finding once its deleter complained or correlation_window seconds (a setting, 300 s by default)
// passed since its release.
MATCH (v:PersistentVolume)
WHERE v.phase IN ['Released', 'Failed'] AND v.deleted_at IS NULL
WITH v, coalesce($now, datetime()) AS now
// The live claim in the name slot of its claimRef: a new one when its uid is not the claimRef's
OPTIONAL MATCH (v)-[:USES {how: 'claimRef'}]->(:Resource)<-[:INSTANCE_OF]-(c:PersistentVolumeClaim)
WHERE c.deleted_at IS NULL
WITH v, now, collect(c)[0] AS c
WITH v, now, CASE WHEN c IS NOT NULL AND c.uid <> coalesce(v.claim_uid, '') THEN c END AS newer,
     CASE WHEN c IS NOT NULL AND c.uid = v.claim_uid THEN c END AS own
OPTIONAL MATCH (e:Event)-[:ABOUT]->(v)
WHERE e.reason IN ['VolumeFailedDelete', 'VolumeFailedRecycle'] AND e.type = 'Warning'
WITH v, now, newer, own, e ORDER BY e.last_seen DESC
WITH v, now, newer, own, collect(e) AS events
WITH v, newer, own, events,
     CASE
       WHEN v.phase = 'Failed' THEN 'failed'
       WHEN newer IS NOT NULL AND newer.phase = 'Pending' THEN 'blocks_claim'
       WHEN v.reclaim_policy = 'Delete' AND (size(events) > 0 OR
            duration.inSeconds(coalesce(v.phase_changed_at, v.created_at), now).seconds > $correlation_window)
         THEN 'delete_stuck'
       ELSE null END AS cause
WHERE cause IS NOT NULL
OPTIONAL MATCH (v)<-[:MANAGES]-(r1:Release)
OPTIONAL MATCH (newer)<-[:MANAGES]-(r2:Release)
WITH v, newer, own, events, cause, coalesce(collect(DISTINCT r1)[0], collect(DISTINCT r2)[0]) AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH v, newer, own, events, cause, rel,
     CASE WHEN v.claim_name IS NULL THEN null ELSE coalesce(v.claim_namespace, '') + '/' + v.claim_name END
       AS claim,
     CASE WHEN coalesce(v.message, '') = '' THEN null ELSE v.message END AS said,
     CASE WHEN size(events) = 0 OR events[0].message = '' THEN null ELSE events[0].message END AS event_said,
     CASE v.source_type
       WHEN 'nfs' THEN 'NFS ' + coalesce(v.nfs_server, '(no server given)') + ':' + coalesce(v.source_path, '')
       WHEN 'csi' THEN 'CSI driver ' + coalesce(v.csi_driver, '(not given)') +
         coalesce(' volume ' + v.volume_handle, '')
       WHEN 'hostPath' THEN 'hostPath ' + coalesce(v.source_path, '(no path given)')
       WHEN 'local' THEN 'local path ' + coalesce(v.source_path, '(no path given)')
       ELSE v.source_type END AS backend
RETURN
  rel.key AS release_key,
  {kind: 'PersistentVolume', namespace: '', name: v.name, cluster: v.cluster} AS subject,
  'PersistentVolume ' + v.name + ' is ' + v.phase +
    CASE cause
      WHEN 'failed' THEN ': ' + coalesce(said, event_said, 'the PV controller gave no message')
      WHEN 'blocks_claim' THEN ' (reclaimPolicy ' + coalesce(v.reclaim_policy, 'not given') +
        ') and still holds the claimRef of deleted claim ' + claim + ', so the new claim ' + newer.namespace + '/' +
        newer.name + ' of that name stays Pending'
      ELSE ' with reclaimPolicy Delete but was not deleted: ' +
        coalesce(event_said, said, 'no deleter reported an error') END AS summary,
  'Volume ' + v.name + coalesce(' (' + v.capacity + ')', '') + coalesce(' of StorageClass ' + v.storage_class, '') +
    coalesce(' on ' + backend, '') + ', reclaimPolicy ' + coalesce(v.reclaim_policy, 'not given') +
    ', phase ' + v.phase + coalesce(' since ' + toString(v.phase_changed_at), '') +
    coalesce('; claimRef ' + claim + coalesce(' (uid ' + v.claim_uid + ')', ''), '; no claimRef') +
    CASE WHEN newer IS NOT NULL THEN '; the claim of that name now is a new one (uid ' + newer.uid + ', ' +
           coalesce(newer.phase, 'no phase') + ')'
         WHEN own IS NOT NULL THEN '; that claim still exists'
         WHEN claim IS NOT NULL THEN '; that claim is gone' ELSE '' END + '.' AS details,
  [{kind: 'PersistentVolume', name: v.name, at: v.phase_changed_at,
    text: v.phase + ', reclaimPolicy ' + coalesce(v.reclaim_policy, 'not given') +
      coalesce(', claimRef ' + claim, '') + coalesce(': ' + said, '')}] +
  CASE WHEN newer IS NULL THEN [] ELSE [{kind: 'PersistentVolumeClaim', name: newer.name, at: newer.created_at,
    text: coalesce(newer.phase, 'no phase') + ', uid ' + newer.uid + ' (the volume expects ' +
      coalesce(v.claim_uid, 'no uid') + ')'}] END +
  [e IN events[..5] | {kind: 'Event', name: v.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + CASE WHEN e.message = '' THEN ', no message' ELSE ': ' + e.message END}]
    AS evidence,
  [{at: v.created_at, what: 'volume ' + v.name + ' created'},
   {at: v.phase_changed_at, what: 'volume ' + v.name + ' became ' + v.phase}] +
  CASE WHEN newer IS NULL THEN [] ELSE [{at: newer.created_at, what: 'new claim ' + newer.name + ' created'}] END +
  [e IN events[..5] | {at: e.first_seen, what: 'first ' + e.reason +
    CASE WHEN e.message = '' THEN '' ELSE ': ' + e.message END}] AS event_chain,
  CASE cause WHEN 'blocks_claim' THEN 0.95 WHEN 'delete_stuck' THEN 0.8 ELSE null END AS confidence,
  {pv: v.name, cause: cause, claim: claim,
   fix: CASE cause
     WHEN 'blocks_claim' THEN 'kubectl patch pv ' + v.name +
       ' --type json -p \'[{"op":"remove","path":"/spec/claimRef"}]\'   # after saving or wiping its old data'
     WHEN 'failed' THEN 'kubectl delete pv ' + v.name + '   # after removing or keeping its storage' +
       coalesce(' (' + backend + ')', '') + ' by hand'
     ELSE 'kubectl get volumeattachments | grep ' + v.name + '   # a volume still attached is not deleted' END}
    AS vars

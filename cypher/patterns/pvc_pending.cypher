// id: pvc_pending
// title: A PersistentVolumeClaim stays Pending (no volume is provisioned or bound)
// severity: high
// confidence: 0.9
// tags: [storage, pvc, pending]
// shape: null
// explains: [workload_unavailable, pod_unschedulable, failed_mount, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The claim has no volume, so no pod that mounts it can start: the scheduler keeps such pods Pending
//   ("unbound immediate PersistentVolumeClaims"), the workload runs short, and `helm --wait` on it times out.
// resolution:
//   - kubectl -n {namespace} describe pvc {pvc}
//   - kubectl get storageclass
//   - "{fix}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// Claims Pending now (pvc_phase index). A claim that waits for its first consumer (WaitForFirstConsumer) and
// has no pod using it yet is Pending by design, as `kubectl describe` says ("waiting for first consumer"),
// and is no finding; neither is a claim younger than correlation_window seconds (a setting, 300 s by default)
// with no failure event.
// A class is said to be missing, or the cluster to have no default, only where StorageClasses were seen at all: a
// dump or a watch without them proves nothing about the classes. Asked once, not per claim.
CALL { RETURN EXISTS { MATCH (:StorageClass) } AS classes_seen }
MATCH (c:PersistentVolumeClaim {phase: 'Pending'})
WHERE c.deleted_at IS NULL
  // a Released volume still holding a claimRef of this name is the cause: pv_released_or_failed tells it
  AND NOT EXISTS { (c)-[:INSTANCE_OF]->(:Resource)<-[:USES {how: 'claimRef'}]-(v:PersistentVolume)
                   WHERE v.phase = 'Released' AND v.deleted_at IS NULL AND v.claim_uid <> c.uid }
WITH c, classes_seen, coalesce($now, datetime()) AS now
// The class it names, and whether that class exists
OPTIONAL MATCH (c)-[:USES {how: 'storageClass'}]->(:Resource)<-[:INSTANCE_OF]-(sc:StorageClass)
WHERE sc.deleted_at IS NULL
WITH c, classes_seen, now, collect(sc)[0] AS sc
// The cluster's default classes (storage_class_default index)
OPTIONAL MATCH (d:StorageClass {is_default: true})
WHERE d.deleted_at IS NULL
WITH c, now, sc, collect(d.name) AS defaults, classes_seen
// What the PV controller and the provisioner said about the claim, newest first
OPTIONAL MATCH (e:Event)-[:ABOUT]->(c)
WHERE e.reason IN ['ProvisioningFailed', 'FailedBinding', 'WaitForFirstConsumer', 'ExternalProvisioning',
                   'WaitForPodScheduled', 'Provisioning']
WITH c, now, sc, defaults, classes_seen, e ORDER BY e.last_seen DESC
WITH c, now, sc, defaults, classes_seen, collect(e) AS events
WITH c, now, sc, defaults, classes_seen, events, [e IN events WHERE e.reason = 'ProvisioningFailed'][0] AS failed,
     [e IN events WHERE e.reason = 'FailedBinding'][0] AS unbound
// The live pods that mount it, and for one not on a node, the scheduler's words
OPTIONAL MATCH (c)-[:INSTANCE_OF]->(:Resource)<-[:USES {how: 'volume'}]-(p:Pod)
WHERE p.deleted_at IS NULL
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, p ORDER BY p.node_name IS NULL DESC, p.name
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, collect(p) AS pods
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, [x IN pods WHERE x.node_name IS NULL][0] AS waiter
OPTIONAL MATCH (fs:Event {reason: 'FailedScheduling'})-[:ABOUT]->(waiter)
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, waiter, fs ORDER BY fs.last_seen DESC
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, waiter, collect(fs)[0] AS fs
OPTIONAL MATCH (waiter)-[:HAD_CONDITION]->(ps:Condition {type: 'PodScheduled', status: 'False'})
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, waiter, fs.message AS fs_said, ps ORDER BY ps.at DESC
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, waiter, fs_said, collect(ps)[0].message AS ps_said
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, waiter, coalesce(fs_said, ps_said) AS sched_said
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, waiter,
     CASE WHEN sched_said = '' THEN null ELSE sched_said END AS sched_said,
     duration.inSeconds(c.created_at, now) AS age
WITH c, now, sc, defaults, classes_seen, events, failed, unbound, pods, waiter, sched_said, age,
     CASE
       WHEN coalesce(c.storage_class, '') <> '' AND sc IS NULL AND c.volume_name IS NULL AND classes_seen
         THEN 'class_missing'
       WHEN failed IS NOT NULL THEN 'provisioning_failed'
       WHEN coalesce(c.storage_class, '') = '' AND c.volume_name IS NULL AND size(defaults) = 0 AND classes_seen
            AND (unbound IS NOT NULL OR age.seconds > $correlation_window) THEN 'no_class'
       WHEN sc.volume_binding_mode = 'WaitForFirstConsumer' AND c.selected_node IS NULL
         THEN CASE WHEN waiter IS NOT NULL THEN 'consumer_unscheduled' ELSE null END
       WHEN unbound IS NOT NULL THEN 'no_volume'
       // a class whose "provisioner" provisions nothing: only a PersistentVolume made by hand can bind
       WHEN sc.provisioner = 'kubernetes.io/no-provisioner' AND age.seconds > $correlation_window THEN 'no_volume'
       WHEN age.seconds > $correlation_window AND coalesce(sc.provisioner, c.storage_provisioner) IS NOT NULL
         THEN 'provisioner_silent'
       ELSE null END AS cause
WHERE cause IS NOT NULL
// The Helm release: the claim's own, else that of a pod's workload (a StatefulSet's claims carry none)
OPTIONAL MATCH (c)<-[:MANAGES]-(r1:Release)
OPTIONAL MATCH (c)-[:INSTANCE_OF]->(:Resource)<-[:USES {how: 'volume'}]-(:Pod)-[:OWNED_BY*0..3]->(:Object)
                <-[:MANAGES]-(r2:Release)
WITH c, now, sc, defaults, events, failed, unbound, pods, waiter, sched_said, age, cause,
     coalesce(collect(DISTINCT r1)[0], collect(DISTINCT r2)[0]) AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH c, sc, defaults, events, failed, unbound, pods, waiter, sched_said, age, cause, rel,
     coalesce(sc.provisioner, c.storage_provisioner) AS provisioner,
     CASE WHEN coalesce(c.storage_class, '') = '' THEN null ELSE c.storage_class END AS class_name,
     CASE WHEN failed IS NULL OR failed.message = '' THEN null ELSE failed.message END AS failed_said,
     CASE WHEN unbound IS NULL OR unbound.message = '' THEN null ELSE unbound.message END AS unbound_said
WITH c, sc, defaults, events, failed, unbound, pods, waiter, sched_said, age, cause, rel, provisioner, class_name,
     failed_said, unbound_said,
     CASE cause
       WHEN 'class_missing' THEN 'it asks for StorageClass ' + class_name + ', which does not exist' +
         CASE WHEN size(defaults) > 0 THEN ' (the default class is ' + defaults[0] + ')'
              ELSE ' (and the cluster has no default class)' END
       WHEN 'provisioning_failed' THEN coalesce('provisioner ' + provisioner, 'the provisioner') +
         ' failed to create its volume' + coalesce(' (x' + toString(failed.count) + ')', '') + ': ' +
         coalesce(failed_said, 'it gave no message')
       WHEN 'no_class' THEN
         CASE WHEN c.storage_class = '' THEN 'it asks for no StorageClass (storageClassName "")'
              ELSE 'it names no StorageClass' END +
         ' and the cluster has no default class, so nothing provisions a volume for it' +
         coalesce('; the PV controller: ' + unbound_said, '')
       WHEN 'consumer_unscheduled' THEN 'StorageClass ' + class_name + ' binds on first consumer and pod ' +
         waiter.name + ', which uses it, is not scheduled: ' +
         coalesce(sched_said, 'the scheduler gave no message')
       WHEN 'no_volume' THEN 'no PersistentVolume matches it: ' + coalesce(unbound_said,
         'its class\'s provisioner ' + provisioner + ' creates none, and the PV controller gave no message')
       ELSE 'it has waited ' + toString(age.minutes) + ' minutes for provisioner ' + provisioner +
         ', which reported no result' END AS why
RETURN
  rel.key AS release_key,
  {kind: 'PersistentVolumeClaim', namespace: c.namespace, name: c.name, cluster: c.cluster} AS subject,
  'PersistentVolumeClaim ' + c.namespace + '/' + c.name + ' is Pending: ' + why AS summary,
  'Claim ' + c.namespace + '/' + c.name + ' asks for ' +
    coalesce(c.requested_storage, 'no size (spec.resources.requests.storage is missing)') +
    coalesce(' ' + reduce(t = '', m IN c.access_modes | t + CASE WHEN t = '' THEN '' ELSE ',' END + m), '') +
    CASE WHEN class_name IS NULL THEN ' with no StorageClass'
         ELSE ' of StorageClass ' + class_name +
           CASE WHEN sc IS NULL THEN ' (not found)'
                ELSE ' (provisioner ' + coalesce(sc.provisioner, 'not given') + ', binding mode ' +
                  coalesce(sc.volume_binding_mode, 'not given') + ')' END END +
    '; Pending since ' + toString(c.created_at) +
    CASE WHEN size(pods) = 0 THEN '; no pod uses it yet.'
         ELSE '; used by pod' + CASE WHEN size(pods) > 1 THEN 's ' ELSE ' ' END +
           reduce(t = '', x IN pods | t + CASE WHEN t = '' THEN '' ELSE ', ' END + x.name +
             CASE WHEN x.node_name IS NULL THEN ' (not scheduled)' ELSE ' (on ' + x.node_name + ')' END) + '.' END
    AS details,
  [e IN events[..5] | {kind: 'Event', name: c.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + CASE WHEN e.message = '' THEN ', no message' ELSE ': ' + e.message END}] +
  CASE WHEN class_name IS NOT NULL AND sc IS NULL
       THEN [{kind: 'StorageClass', name: class_name, at: null, text: 'not found'}] ELSE [] END +
  CASE WHEN waiter IS NULL THEN [] ELSE [{kind: 'Pod', name: waiter.name, at: null,
    text: 'not scheduled: ' + coalesce(sched_said, 'the scheduler gave no message')}] END AS evidence,
  [{at: c.created_at, what: 'claim ' + c.name + ' created'}] +
  [e IN events[..5] | {at: e.first_seen, what: 'first ' + e.reason +
    CASE WHEN e.message = '' THEN '' ELSE ': ' + e.message END}] +
  [e IN events[..5] WHERE e.count > 1 | {at: e.last_seen, what: e.reason + ' x' + e.count + ' (last)'}]
    AS event_chain,
  // a claim that cannot get a volume is the cause of its pods' Pending: above pod_unschedulable's 0.9; a pod
  // the scheduler rejects for reasons other than volumes is the cause of its claim's wait, not the effect
  CASE cause WHEN 'class_missing' THEN 0.95 WHEN 'provisioning_failed' THEN 0.92 WHEN 'no_class' THEN 0.92
    WHEN 'no_volume' THEN 0.85 WHEN 'provisioner_silent' THEN 0.6
    ELSE CASE WHEN sched_said CONTAINS 'persistent volume' OR sched_said CONTAINS 'volume node affinity'
                OR sched_said CONTAINS 'PersistentVolumeClaim' THEN 0.85 ELSE 0.6 END END AS confidence,
  {namespace: c.namespace, pvc: c.name, cause: cause, storage_class: class_name, provisioner: provisioner,
   fix: CASE cause
     WHEN 'class_missing' THEN 'kubectl -n ' + c.namespace + ' get pvc ' + c.name + ' -o yaml > claim.yaml' +
       '   # set an existing storageClassName, then delete and re-create the claim (the field is immutable)'
     WHEN 'provisioning_failed' THEN 'kubectl get pods -A | grep -i ' +
       coalesce(split(provisioner, '.')[0], 'provisioner') + '   # the provisioner\'s logs say more'
     WHEN 'no_class' THEN 'kubectl annotate storageclass <class> ' +
       'storageclass.kubernetes.io/is-default-class=true   # or set storageClassName on the claim'
     WHEN 'consumer_unscheduled' THEN 'kubectl -n ' + c.namespace + ' describe pod ' + waiter.name
     WHEN 'no_volume' THEN 'kubectl get pv   # create a PersistentVolume that matches the claim'
     ELSE 'kubectl get pods -A | grep -i ' + coalesce(split(provisioner, '.')[0], 'provisioner') +
       '   # is the provisioner running?' END} AS vars

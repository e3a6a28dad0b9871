// id: failed_mount
// title: A pod's volume cannot be mounted (FailedMount)
// severity: high
// confidence: 0.9
// tags: [pod, volume, mount]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The kubelet cannot set up one of the pod's volumes, so its containers are never created: the pod
//   stays in ContainerCreating, serves nothing, and a rollout or `helm --wait` on it does not finish.
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl -n {namespace} get events --field-selector involvedObject.name={pod},reason={event_reason}
//   - "{fix}"
:param release_key => null;

// FailedMount / FailedAttachVolume events about pods whose containers have not started yet (a pod
// whose secret arrived a moment late and then ran is not a finding).
MATCH (e:Event)-[:ABOUT]->(p:Pod)
WHERE e.reason IN ['FailedMount', 'FailedAttachVolume'] AND p.deleted_at IS NULL
  AND p.phase = 'Pending' AND NOT p.ready
  AND (size(p.waiting_reasons) = 0 OR 'ContainerCreating' IN p.waiting_reasons
       OR 'PodInitializing' IN p.waiting_reasons)
WITH p, e ORDER BY e.last_seen DESC
WITH p, collect(e) AS events
WITH p, events, [e IN events WHERE e.message CONTAINS 'MountVolume.SetUp failed' OR e.message CONTAINS 'Multi-Attach']
  + [e IN events WHERE NOT (e.message CONTAINS 'MountVolume.SetUp failed' OR e.message CONTAINS 'Multi-Attach')]
  AS ranked
WITH p, events, ranked[0] AS decisive, ranked[0].message AS said
// "MountVolume.SetUp failed for volume "cert" : secret "cert" not found"
WITH p, events, decisive, said,
     CASE WHEN said CONTAINS 'for volume "' THEN split(split(said, 'for volume "')[1], '"')[0]
          WHEN said CONTAINS 'unmounted volumes=[' THEN split(split(said, 'unmounted volumes=[')[1], ']')[0]
          ELSE null END AS volume,
     CASE WHEN said =~ '.*(secret|configmap) "[^"]+" not found.*' THEN 'missing'
          WHEN said CONTAINS 'Multi-Attach error' THEN 'multi_attach'
          WHEN said CONTAINS 'timed out waiting for the condition' OR said CONTAINS 'context deadline exceeded'
            THEN 'timeout'
          WHEN said CONTAINS 'not found' THEN 'missing'
          ELSE 'other' END AS cause
WITH p, events, decisive, said, volume, cause,
     CASE WHEN cause = 'missing' AND said =~ '.*(secret|configmap) "[^"]+" not found.*'
          THEN {kind: CASE WHEN said CONTAINS ': configmap "' THEN 'ConfigMap' ELSE 'Secret' END,
                name: split(split(said, CASE WHEN said CONTAINS ': configmap "' THEN ': configmap "'
                                             ELSE ': secret "' END)[1], '"')[0]}
          ELSE null END AS named
// The graph's view: volumes whose ConfigMap, Secret or PVC has no live instance
OPTIONAL MATCH (p)-[u:USES]->(slot:Resource)
WHERE u.how IN ['volume', 'projected'] AND NOT coalesce(u.optional, false)
  AND NOT EXISTS { (slot)<-[:INSTANCE_OF]-(o:Object) WHERE o.deleted_at IS NULL }
WITH p, events, decisive, said, volume, cause, named, collect({kind: slot.kind, name: slot.name}) AS absent
WITH p, events, decisive, said, volume, cause,
     coalesce(named, [a IN absent WHERE a.name IS NOT NULL][0]) AS missing
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, events, decisive, said, volume, cause, missing, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH w, rel, p, events, decisive, said, volume, cause, missing ORDER BY p.name
WITH w, rel, collect({p: p, events: events, decisive: decisive, said: said, volume: volume, cause: cause,
                     missing: missing}) AS stuck
WITH w, rel, stuck, stuck[0] AS first, stuck[0].p AS p
WITH w, rel, stuck, first, p, first.missing AS missing,
     CASE first.cause
       WHEN 'missing' THEN coalesce(toLower(first.missing.kind) + ' ' + first.missing.name + ' does not exist',
                                    'an object it refers to does not exist')
       WHEN 'multi_attach' THEN 'its ReadWriteOnce volume is still attached to another node'
       WHEN 'timeout' THEN 'the volume was not attached or mounted in time'
       ELSE 'mounting fails' END AS why
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'Pod ' + p.name + ' cannot mount ' + coalesce('volume ' + first.volume, 'a volume (the kubelet named none)') +
    ': ' + why +
    CASE WHEN size(stuck) > 1 THEN ' (' + size(stuck) + ' pods of ' + w.kind + ' ' + w.name + ')' ELSE '' END
    AS summary,
  'Pod ' + p.namespace + '/' + p.name + ' is still ' + p.phase + coalesce(' on node ' + p.node_name, '') +
    '; the kubelet has failed to mount since ' + toString(first.decisive.first_seen) + ' (x' +
    first.decisive.count + '): ' + first.said AS details,
  [x IN stuck | {kind: 'Pod', name: x.p.name, at: x.decisive.last_seen,
    text: coalesce('volume ' + x.volume, 'a volume the kubelet did not name') + ': ' + x.said}] +
  CASE WHEN missing IS NULL THEN [] ELSE [{kind: missing.kind, name: missing.name, at: null,
    text: 'not found in namespace ' + p.namespace}] END +
  [e IN first.events[..5] | {kind: 'Event', name: p.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + '): ' + e.message}] AS evidence,
  [{at: p.created_at, what: 'pod ' + p.name + ' created'}] +
  [e IN first.events[..5] | {at: e.first_seen, what: 'first ' + e.reason + ': ' + e.message}] +
  [e IN first.events[..5] WHERE e.count > 1 | {at: e.last_seen, what: e.reason + ' x' + e.count + ' (last)'}]
    AS event_chain,
  {namespace: p.namespace, pod: p.name, event_reason: first.decisive.reason, volume: first.volume,
   fix: CASE
     WHEN missing.kind = 'ConfigMap'
       THEN 'kubectl -n ' + p.namespace + ' create configmap ' + missing.name + ' --from-file=<file>'
     WHEN missing.kind = 'Secret'
       THEN 'kubectl -n ' + p.namespace + ' create secret generic ' + missing.name + ' --from-file=<file>' +
         '   # or, for TLS: kubectl -n ' + p.namespace + ' create secret tls ' + missing.name +
         ' --cert=<crt> --key=<key>'
     WHEN missing.kind = 'PersistentVolumeClaim'
       THEN 'kubectl -n ' + p.namespace + ' get pvc ' + missing.name + '   # create the claim the pod names'
     WHEN first.cause = 'multi_attach'
       THEN 'kubectl get volumeattachments | grep <pv>   # delete the old pod that holds the volume, or wait ' +
         'for its node to release it'
     ELSE 'kubectl -n ' + p.namespace + ' get pvc,pv; kubectl get volumeattachments' END} AS vars

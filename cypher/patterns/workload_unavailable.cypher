// id: workload_unavailable
// title: A Deployment, StatefulSet, DaemonSet or ReplicaSet runs fewer ready pods than it asks for
// severity: high
// confidence: 0.7
// tags: [workload, availability, statefulset, daemonset]
// shape: null
// explains: []
// impact: >-
//   The workload serves with fewer pods than it asks for (none, when no pod is ready). A StatefulSet with
//   OrderedReady pods creates no pod past the first one that is not Ready; a DaemonSet leaves the nodes whose
//   pod failed or does not fit without its agent.
// resolution:
//   - kubectl -n {namespace} describe {kind_lower} {name}
//   - kubectl -n {namespace} get pods -l {selector} -o wide
//   - "{inspect}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// Controllers short of ready pods now (kg_builder sets short_of_pods: facts_workloads.py), for longer than
// the correlation window. A Deployment past its progress deadline is rollout_stuck's, and a ReplicaSet of a
// Deployment is told as its Deployment. The pod-level causes (image pulls, scheduling, probes, config, mounts,
// sandboxes, hooks, quota and admission refusals, nodes) explain this pattern and stay the root cause; this
// pattern is the root only where the pods show no cause another pattern tells.
MATCH (c:Object {short_of_pods: true})
WHERE c.deleted_at IS NULL AND c.kind IN ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']
  AND coalesce(c.progressing_reason, '') <> 'ProgressDeadlineExceeded'
  AND NOT (c.kind = 'ReplicaSet' AND EXISTS { (c)-[:OWNED_BY]->(:Deployment) })
// its live pods (a Deployment's through its ReplicaSets)
OPTIONAL MATCH (rs:ReplicaSet)-[:OWNED_BY]->(c)
WHERE c.kind = 'Deployment'
WITH c, CASE WHEN c.kind = 'Deployment' THEN collect(rs) ELSE [c] END AS owners
UNWIND CASE WHEN size(owners) = 0 THEN [null] ELSE owners END AS o
OPTIONAL MATCH (p:Pod)-[:OWNED_BY]->(o)
WHERE p.deleted_at IS NULL
WITH c, collect(p) AS live
// cheap first cut, before any pod's history is read: where every failing pod is in CrashLoopBackOff and the
// controller posted no event of its own, crashloop tells it (see below)
WHERE any(x IN live WHERE (NOT coalesce(x.ready, false) OR x.phase <> 'Running')
                          AND NOT 'CrashLoopBackOff' IN coalesce(x.waiting_reasons, []))
   OR none(x IN live WHERE NOT coalesce(x.ready, false) OR x.phase <> 'Running')
   OR EXISTS { (e:Event)-[:ABOUT]->(c) WHERE e.reason IN ['FailedDaemonPod', 'FailedPlacement'] }
OPTIONAL MATCH (c)-[:OWNED_BY*0..1]->(:Object)<-[:MANAGES]-(rel:Release)
WITH c, live, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
UNWIND CASE WHEN size(live) = 0 THEN [null] ELSE live END AS p
OPTIONAL MATCH (p)-[:HAD_CONDITION]->(rc:Condition {type: 'Ready', status: 'False'})
WITH c, rel, p, rc ORDER BY rc.at DESC
WITH c, rel, p, collect(rc)[0] AS unready
OPTIONAL MATCH (p)-[:HAD_CONDITION]->(sc:Condition {type: 'PodScheduled', status: 'False'})
WITH c, rel, p, unready, sc ORDER BY sc.at DESC
WITH c, rel, p, unready, collect(sc)[0] AS unscheduled
WITH c, rel, p, unready, unscheduled,
     p IS NOT NULL AND (NOT coalesce(p.ready, false) OR p.phase <> 'Running') AS bad
WITH c, rel, p, bad, unready, unscheduled,
     CASE WHEN NOT bad THEN null
          WHEN p.phase = 'Failed' THEN 'Failed' + coalesce(' (' + p.reason + ')', '') +
            coalesce(': ' + p.message, ', no message')
          WHEN p.node_name IS NULL AND unscheduled IS NOT NULL THEN 'Pending, not scheduled' +
            coalesce(' (' + unscheduled.reason + ')', '') + coalesce(': ' + unscheduled.message, '')
          WHEN p.node_name IS NULL THEN coalesce(p.phase, 'with no phase reported') + ', not scheduled'
          WHEN size(coalesce(p.waiting_reasons, [])) > 0 THEN coalesce(p.phase, 'with no phase reported') +
            ' on ' + p.node_name + ', waiting: ' +
            reduce(t = '', r IN p.waiting_reasons | t + CASE WHEN t = '' THEN '' ELSE ', ' END + r)
          ELSE coalesce(p.phase, 'with no phase reported') + ' on ' + p.node_name + ' but not Ready' +
            coalesce(' (' + unready.reason + coalesce(': ' + unready.message, '') + ')', ', no reason given')
     END AS state,
     CASE WHEN bad THEN coalesce(unready.at, unscheduled.at, p.created_at) END AS since
// what other patterns tell of a pod, so that this one does not say it again where they are the only story: a
// container in CrashLoopBackOff (crashloop, which names this workload), a pod on a node that is not Ready
// (node_not_ready names its pods), a running pod that is not ready by its readiness probe (probe_failing from
// its Unhealthy events, service_no_endpoints for the Service that routes to it)
OPTIONAL MATCH (p)-[:SCHEDULED_ON]->(:Resource)<-[:INSTANCE_OF]-(n:Node)
WITH c, rel, p, bad, state, since, unready,
     bad AND ('CrashLoopBackOff' IN coalesce(p.waiting_reasons, []) OR coalesce(n.ready, true) = false) AS quiet,
     bad AND p.phase = 'Running' AND size(coalesce(p.waiting_reasons, [])) = 0
       AND unready.reason = 'ContainersNotReady' AS readiness_only
WITH c, rel, p, bad, state, since, quiet, readiness_only ORDER BY p.name
WITH c, rel, [x IN collect(CASE WHEN p IS NOT NULL THEN {p: p, bad: bad, state: state, since: since, quiet: quiet,
                                                        readiness_only: readiness_only} END)
              WHERE x IS NOT NULL] AS pods
WITH c, rel, pods, [x IN pods WHERE x.bad] AS failing
// the DaemonSet controller's own events: a daemon pod that failed on a node (killed and made again), a pod
// it could not place (before 1.12)
OPTIONAL MATCH (e:Event)-[:ABOUT]->(c)
WHERE e.reason IN ['FailedDaemonPod', 'FailedPlacement']
WITH c, rel, pods, failing, e ORDER BY e.last_seen DESC
WITH c, rel, pods, failing, collect(e) AS events
WITH c, rel, pods, failing, events,
     reduce(m = null, x IN failing | CASE WHEN m IS NULL OR x.since < m THEN x.since ELSE m END) AS pods_since,
     reduce(m = null, e IN events | CASE WHEN m IS NULL OR e.first_seen < m THEN e.first_seen ELSE m END) AS events_since
WITH c, rel, pods, failing, events,
     CASE WHEN events_since IS NOT NULL AND (pods_since IS NULL OR events_since < pods_since) THEN events_since
          ELSE coalesce(pods_since, c.created_at) END AS since
WHERE since IS NULL OR since <= coalesce($now, datetime()) - duration({seconds: $correlation_window})
// a StatefulSet with OrderedReady pods stops at the lowest ordinal that is not Ready
WITH c, rel, pods, failing, events, since,
     [x IN pods WHERE c.kind = 'StatefulSet' AND x.p.name STARTS WITH c.name + '-' |
       {x: x, ordinal: toInteger(substring(x.p.name, size(c.name) + 1))}] AS numbered
WITH c, rel, pods, failing, events, since, numbered,
     [n IN numbered WHERE n.x.bad AND n.ordinal IS NOT NULL | n] AS stuck_at
WITH c, rel, pods, failing, events, since, numbered,
     reduce(m = null, n IN stuck_at | CASE WHEN m IS NULL OR n.ordinal < m.ordinal THEN n ELSE m END) AS stuck
WITH c, rel, pods, failing, events, since, stuck,
     CASE WHEN stuck IS NULL OR c.replicas IS NULL THEN []
          ELSE [i IN range(stuck.ordinal + 1, c.replicas - 1)
                WHERE NOT any(n IN numbered WHERE n.ordinal = i) | c.name + '-' + i] END AS never_created
WITH c, rel, pods, failing, events, since, stuck, never_created,
     c.kind = 'StatefulSet' AND stuck IS NOT NULL AND size(never_created) > 0
       AND coalesce(c.pod_management_policy, 'OrderedReady') = 'OrderedReady' AS ordinal_stuck,
     CASE WHEN c.kind = 'DaemonSet' THEN coalesce(c.desired_scheduled, 0) ELSE coalesce(c.replicas, 1) END AS wanted
WHERE size(failing) = 0 OR size(events) > 0
   OR any(x IN failing WHERE NOT x.quiet AND (NOT x.readiness_only OR ordinal_stuck))
RETURN
  rel.key AS release_key,
  {kind: c.kind, namespace: c.namespace, name: c.name, cluster: c.cluster} AS subject,
  c.kind + ' ' + c.namespace + '/' + c.name + ' has ' + coalesce(c.ready_replicas, 0) + ' of ' + wanted +
    CASE WHEN c.kind = 'DaemonSet' THEN ' daemon pods ready (desiredNumberScheduled ' + wanted +
           coalesce(', currentNumberScheduled ' + c.current_scheduled, '') +
           CASE WHEN coalesce(c.misscheduled, 0) > 0 THEN ', numberMisscheduled ' + c.misscheduled ELSE '' END + ')'
         WHEN c.replicas IS NULL THEN ' pods ready (spec.replicas not recorded; the API\'s default is 1)'
         ELSE ' pods ready' END +
    CASE
      WHEN ordinal_stuck THEN ': it is stuck at ordinal ' + stuck.ordinal + ', pod ' + stuck.x.p.name + ' is ' +
        stuck.x.state + ', so ' + reduce(t = '', n IN never_created | t + CASE WHEN t = '' THEN '' ELSE ', ' END + n) +
        CASE WHEN size(never_created) = 1 THEN ' is' ELSE ' are' END + ' not created' +
        CASE WHEN c.pod_management_policy IS NULL
             THEN ' (podManagementPolicy not recorded; the API\'s default is OrderedReady)'
             ELSE ' (podManagementPolicy OrderedReady)' END
      WHEN size(events) > 0 THEN ': ' + events[0].reason + ' (x' + events[0].count + '): ' + events[0].message +
        CASE WHEN size(failing) > 0 THEN '; pod ' + failing[0].p.name + ' is ' + failing[0].state ELSE '' END
      WHEN size(failing) > 0 THEN ': pod ' + failing[0].p.name + ' is ' + failing[0].state +
        CASE WHEN size(failing) > 1 THEN ' (and ' + (size(failing) - 1) + ' more not ready)' ELSE '' END
      WHEN size(pods) = 0 THEN ': none of its pods was observed'
      WHEN coalesce(c.misscheduled, 0) > 0 THEN ': ' + c.misscheduled + ' daemon pod(s) run on nodes that should not run them'
      ELSE ': all its observed pods are ready; the controller has not counted them yet, or some were not observed'
    END AS summary,
  CASE WHEN size(pods) = 0 THEN 'No pod of it was observed.'
       ELSE 'Its pods: ' + reduce(t = '', x IN pods | t + CASE WHEN t = '' THEN '' ELSE '; ' END + x.p.name + ' ' +
         CASE WHEN x.bad THEN x.state ELSE 'ready' END) + '.' END +
    CASE WHEN size(events) > 0 THEN '\n' + reduce(t = '', e IN events[0..3] | t + e.reason + ' (x' + e.count +
      coalesce(', last ' + toString(e.last_seen), '') + '): ' + e.message + '\n') ELSE '' END +
    coalesce('\nShort since ' + toString(since) + '.', '') AS details,
  [x IN failing[0..10] | {kind: 'Pod', name: x.p.name, at: x.since, text: x.state}] +
  [e IN events[0..3] | {kind: 'Event', name: c.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + coalesce(' from ' + e.source, '') + ': ' + e.message}] +
  [{kind: c.kind, name: c.name, at: since, text: coalesce(c.ready_replicas, 0) + ' of ' + wanted + ' ready' +
    CASE WHEN ordinal_stuck THEN ', never created: ' +
      reduce(t = '', n IN never_created | t + CASE WHEN t = '' THEN '' ELSE ', ' END + n) ELSE '' END}] AS evidence,
  [x IN failing[0..5] | {at: x.since, what: x.p.name + ' ' + x.state}] +
  [e IN events[0..3] | {at: e.first_seen, what: e.reason + ' first seen: ' + e.message}] AS event_chain,
  {namespace: c.namespace, kind_lower: toLower(c.kind), name: c.name,
   selector: CASE WHEN size(coalesce(c.selector_pairs, [])) = 0 THEN '<selector>'
                  ELSE reduce(t = '', s IN c.selector_pairs | t + CASE WHEN t = '' THEN '' ELSE ',' END + s) END,
   inspect: CASE WHEN ordinal_stuck THEN 'kubectl -n ' + c.namespace + ' describe pod ' + stuck.x.p.name
                 WHEN size(failing) > 0 THEN 'kubectl -n ' + c.namespace + ' describe pod ' + failing[0].p.name
                 ELSE 'kubectl -n ' + c.namespace + ' get events --field-selector involvedObject.name=' + c.name END,
   ordinal: CASE WHEN ordinal_stuck THEN stuck.ordinal END,
   never_created: never_created} AS vars

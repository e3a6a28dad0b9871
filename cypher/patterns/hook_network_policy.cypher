// id: hook_network_policy
// title: A Helm hook cannot reach a service it needs (NetworkPolicy or network)
// severity: high
// confidence: 0.6
// tags: [helm, hook, network]
// shape: hook_failure
// explains: [hook_script_failed, hook_deadline, wait_timeout, partial_deployment, stuck_release]
// impact: >-
//   The hook's connection was dropped or refused, so the hook failed or ran until helm's --timeout and the
//   revision failed; nothing after the hook ran.
// resolution:
//   - kubectl -n {hook_namespace} get networkpolicy -o wide
//   - kubectl -n {target_namespace} get networkpolicy -o wide
//   - kubectl -n {hook_namespace} run netcheck --rm -it --restart=Never --image=busybox:1.36 -- nc -zv -w 5 {target_host} {target_port}
//   - "# allow the hook's pod to reach {target}: an egress rule in {hook_namespace} and an ingress rule at the target"
//   - "{undo}"
:param release_key => null;

// kgrca does not watch NetworkPolicies (nor Endpoints), so this is judged from the hook container's own
// words only: a terminated state whose message (the termination message, or the log tail with
// terminationMessagePolicy FallbackToLogsOnError) says "i/o timeout" / "connection timed out" (a policy
// that drops packets) or "connection refused" (nothing listening, or a policy that rejects). That is why
// the confidence is low: the same words come from a target that is down. A timeout scores higher than a
// refusal, which more often means the target is not up.
MATCH (rev:Revision)
USING INDEX rev:Revision(status)
WHERE rev.status IN ['failed', 'pending-install', 'pending-upgrade', 'pending-rollback']
  AND ($release_key IS NULL OR rev.release_key = $release_key)
MATCH (rel:Release)-[:HAS_REVISION]->(rev)
WHERE (rev.version = rel.latest_version OR rev.version = rel.failed_version)
MATCH (rev)-[:HAS_HOOK]->(h:Hook)-[:RAN_AS]->(run:Object)
WHERE coalesce(h.phase, 'Unknown') <> 'Succeeded'
// the hook's pod: the object itself (a Pod hook) or a pod its Job owns
MATCH (p:Pod)-[:OWNED_BY*0..1]->(run)
MATCH (p)-[:HAD_STATE]->(s:ContainerState {state: 'terminated'})
WHERE s.message IS NOT NULL
  AND toLower(s.message) =~ '(?s).*(i/o timeout|connection timed out|connection refused|no route to host|network is unreachable|dial tcp).*'
WITH rel, rev, h, run, p, s ORDER BY s.at DESC
WITH rel, rev, h, run, collect(p) AS pods, collect(s) AS states
WITH rel, rev, h, run, pods, states, states[0] AS last, toLower(states[0].message) AS said
WITH rel, rev, h, run, pods, states, last, said,
     [p IN pods WHERE (p)-[:HAD_STATE]->(last)][0] AS p,
     said CONTAINS 'i/o timeout' OR said CONTAINS 'timed out' OR said CONTAINS 'no route to host'
       OR said CONTAINS 'network is unreachable' AS dropped,
     // "dial tcp 10.96.0.15:5432: i/o timeout" names the address it could not reach
     CASE WHEN last.message CONTAINS 'dial tcp ' THEN split(split(last.message, 'dial tcp ')[1], ': ')[0]
          ELSE null END AS target
WITH rel, rev, h, run, pods, states, last, said, p, dropped, target,
     CASE WHEN target IS NULL THEN null ELSE reverse(split(reverse(target), ':')[0]) END AS target_port
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port,
     CASE WHEN target IS NULL THEN null
          ELSE substring(target, 0, size(target) - size(target_port) - 1) END AS target_host
// The target, when kgrca sees it: the Service named in the message ("<name>.<namespace>.svc") or owning
// the address. A Service with no ready pod is down, not blocked: then this is not reported (the hook's
// failure and the target's own pod diagnosis tell that story). One with ready pods is up, which makes a
// NetworkPolicy the likelier cause.
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port, target_host,
     CASE WHEN last.message CONTAINS '.svc' THEN
       split(reverse(split(reverse(replace(replace(replace(split(last.message, '.svc')[0], '=', ' '), '/', ' '),
                                            '`', ' ')), ' ')[0]), '.') END AS dns
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port, target_host,
     CASE WHEN size(coalesce(dns, [])) >= 2 THEN 'Service/' + dns[1] + '/' + dns[0] END AS svc_ref
// Two index seeks (by name, else by address), not one OR that the planner turns into Service label scans.
OPTIONAL MATCH (named:Object:Service {ref: svc_ref})
USING INDEX named:Object(ref)
WHERE named.deleted_at IS NULL
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port, target_host, collect(named)[0] AS named
OPTIONAL MATCH (by_ip:Service {cluster_ip: target_host})
USING INDEX by_ip:Service(cluster_ip)
WHERE named IS NULL AND by_ip.deleted_at IS NULL
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port, target_host, named,
     collect(by_ip)[0] AS by_ip
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port, target_host,
     coalesce(named, by_ip) AS svc
OPTIONAL MATCH (svc)-[:SELECTS]->(sp:Pod)
WHERE sp.deleted_at IS NULL
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port, target_host, svc,
     count(sp) AS selected, sum(CASE WHEN sp.ready THEN 1 ELSE 0 END) AS ready_pods
WHERE svc IS NULL OR ready_pods > 0
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(good:Revision)
WHERE good.version < rev.version AND good.status IN ['deployed', 'superseded']
WITH rel, rev, h, run, pods, states, last, p, dropped, target, target_port, target_host, svc, ready_pods,
     max(good.version) AS last_good
RETURN
  rel.key AS release_key,
  {kind: 'Pod', namespace: p.namespace, name: p.name, cluster: p.cluster} AS subject,
  'The ' + coalesce(h.events[0], 'helm') + ' hook ' + h.name + ' of revision ' + rev.version + ' cannot reach ' +
    coalesce(target, 'a service it needs') + ': ' +
    CASE WHEN dropped THEN 'the connection times out (a NetworkPolicy dropping its traffic?)'
         ELSE 'the connection is refused (target down, or a NetworkPolicy rejecting it?)' END AS summary,
  'Hook pod ' + p.name + ' ended' + coalesce(' at ' + toString(last.at), '') +
    coalesce(' with exit code ' + toString(last.exit_code), ' with no exit code recorded') + ': ' + last.message + '\nNetworkPolicies are not watched by kgrca, so this is read from the hook\'s message ' +
    'alone; check the policies of ' + p.namespace + ' and of the target' +
    CASE WHEN svc IS NULL THEN ', and that the target is up. '
         ELSE '. The target Service ' + svc.namespace + '/' + svc.name + ' has ' + ready_pods +
              ' ready pod(s), so it is up. ' END +
    'Revision status: ' + rev.status + '. ' + CASE WHEN coalesce(rev.description, '') = '' THEN 'Helm recorded no description.'
         ELSE 'Helm said: ' + rev.description END AS details,
  [{kind: 'Revision', name: rel.key + ' v' + rev.version, at: rev.last_deployed,
    text: rev.status + CASE WHEN coalesce(rev.description, '') = '' THEN ', no description'
                            ELSE ': ' + rev.description END},
   {kind: 'Hook', name: h.name, at: h.started_at, text: coalesce('phase ' + h.phase, 'no phase reported')}] +
  [i IN range(0, size(states) - 1) | {kind: 'ContainerState', name: pods[i].name, at: states[i].at,
    text: 'terminated, exit code ' + coalesce(toString(states[i].exit_code), 'not recorded') + ': ' + states[i].message}]
    AS evidence,
  [{at: rev.last_deployed, what: 'revision ' + rev.version + ' started'},
   {at: h.started_at, what: 'hook ' + h.name + ' started'}] +
  [i IN range(0, size(states) - 1) | {at: states[i].at, what: 'pod ' + pods[i].name + ' could not connect'}] +
  [{at: h.completed_at, what: 'hook ' + h.name + ' ended' + coalesce(': ' + h.phase, ', no phase reported')}] AS event_chain,
  CASE WHEN dropped THEN 0.6 ELSE 0.5 END + CASE WHEN svc IS NULL THEN 0 ELSE 0.15 END AS confidence,
  {hook_namespace: p.namespace, pod: p.name, hook: h.name, job: run.name,
   target: coalesce(target, 'the service in its message'), target_host: coalesce(target_host, '<host>'),
   target_port: coalesce(target_port, '<port>'),
   target_namespace: coalesce(svc.namespace, CASE WHEN last.message =~ '(?s).*[a-z0-9-]+\\.[a-z0-9-]+\\.svc.*'
                          THEN split(split(last.message, '.svc')[0], '.')[-1] ELSE p.namespace END),
   undo: CASE WHEN last_good IS NULL THEN 'helm uninstall ' + rel.name + ' -n ' + rel.namespace
              ELSE 'helm rollback ' + rel.name + ' ' + last_good + ' -n ' + rel.namespace END} AS vars

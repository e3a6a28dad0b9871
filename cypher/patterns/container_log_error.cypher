// id: container_log_error
// title: A failing container's last log lines say why it died
// severity: high
// confidence: 0.92
// tags: [pod, logs, crashloop]
// shape: null
// explains: [crashloop, job_failed, pod_exited_nonzero, hook_script_failed, rollout_stuck, wait_timeout, partial_deployment, service_no_endpoints]
// impact: >-
//   The container stops for the reason its own last lines give, and will again on every start until that is
//   fixed: whatever waits on it (a rollout, helm --wait, a Job, a Service's endpoints) waits with it.
// resolution:
//   - kubectl -n {namespace} logs {pod} -c {container}{previous}
//   - "{checks}"
//   - kubectl -n {namespace} describe pod {pod}
:param release_key => null;

// Logs kgrca read (kgrca watch) or was handed (kgrca ingest --logs) whose lines were classified when written
// (kg_builder/facts_logs.py, kgrca/log_lines.py): the findings, most specific class first. No finding, no match.
MATCH (f:LogFinding)<-[:FOUND]-(l:ContainerLog)<-[:LOGGED]-(p:Pod)
WHERE p.deleted_at IS NULL AND (l.pod_uid IS NULL OR l.pod_uid = p.uid)
WITH p, l, f ORDER BY f.rank, f.line_number
WITH p, l, collect(f) AS found
// The run the lines are from: the log's own restart count, else (a saved file) the container's newest end. A log
// saved without -c is the pod's only container's.
MATCH (p)-[:HAD_STATE]->(t:ContainerState {state: 'terminated'})
WHERE (t.container = l.container OR (l.container = '' AND size(coalesce(p.images, [])) = 1))
  AND (l.restart_count IS NULL OR t.restart_count = l.restart_count)
WITH p, l, found, t ORDER BY t.restart_count DESC, t.finished_at DESC
WITH p, l, found, collect(t)[0] AS t
// Failing now: the container waits in CrashLoopBackOff, or it stopped for good with a non-zero exit code (a Job's
// pod, restartPolicy Never or OnFailure). A pod that crashed once and runs again is not told here.
WITH p, l, found, t,
     'CrashLoopBackOff' IN coalesce(p.waiting_reasons, []) AND
       EXISTS { (p)-[:HAD_STATE]->(c:ContainerState {reason: 'CrashLoopBackOff'}) WHERE c.container = t.container }
       AS crashlooping,
     coalesce(p.exited_nonzero, false) AND t.container IN coalesce(p.exited_containers, []) AS stopped
WHERE crashlooping OR stopped
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, l, found, t, crashlooping, o1, o2, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
// The subject the pod patterns give the same failure (crashloop: the workload; job_failed: the Job;
// pod_exited_nonzero: the pod), so this one folds them in as its consequences.
WITH p, l, found, t, crashlooping, rel,
     CASE WHEN crashlooping THEN coalesce(o2, o1, p) WHEN o1.kind = 'Job' THEN o1 ELSE p END AS w
// one diagnosis per subject: its newest failing pod with classified lines tells it
WITH p, l, found, t, crashlooping, rel, w ORDER BY t.finished_at DESC, p.name
WITH w, rel, collect({p: p, l: l, found: found, t: t, crashlooping: crashlooping}) AS failing
WITH w, rel, size(failing) AS pods, failing[0] AS x
WITH w, rel, pods, x.p AS p, x.l AS l, x.found AS found, x.t AS t, x.crashlooping AS crashlooping,
     x.found[0] AS f
WITH p, l, found, t, crashlooping, rel, w, f, pods,
     CASE f.class
       WHEN 'out_of_memory' THEN 'it ran out of memory'
       WHEN 'panic' THEN 'it panicked'
       WHEN 'leader_election_lost' THEN 'it lost its leader election' + coalesce(' (lease ' + f.lease + ')', '')
       WHEN 'database' THEN 'it could not reach its ' + f.engine + ' database' +
         coalesce(' at ' + f.host + coalesce(':' + f.port, ''), '') + ' (' +
         CASE f.detail WHEN 'dns_failure' THEN 'the host name did not resolve'
                       WHEN 'connection_refused' THEN 'the connection failed or was refused'
                       WHEN 'timeout' THEN 'it timed out' WHEN 'authentication' THEN 'authentication failed'
                       ELSE f.detail END + ')'
       WHEN 'dns_failure' THEN CASE WHEN f.host IS NULL THEN 'a host name did not resolve (the line names no host)'
                                    ELSE 'the host name ' + f.host + ' did not resolve' END
       WHEN 'connection_refused' THEN 'a connection was refused' +
         coalesce(' by ' + f.host + coalesce(':' + f.port, ''), ' (the line names no host)')
       WHEN 'timeout' THEN 'its connection to ' + f.host + coalesce(':' + f.port, '') + ' timed out'
       WHEN 'permission_denied' THEN 'it was denied permission' + coalesce(' on ' + f.file, '')
       WHEN 'missing_file' THEN 'a file it needs is missing' + coalesce(' (' + f.file + ')', '')
       WHEN 'exception' THEN 'it died of an uncaught exception' + coalesce(' (' + f.detail + ')', '')
       WHEN 'http_5xx' THEN 'it logged ' + f.count + ' HTTP 5xx responses' + coalesce(' (' + f.status + ')', '')
       ELSE f.class
     END AS said,
     // the host a line names, as a Service's name where it is a name and not an address
     CASE WHEN f.host IS NULL OR f.host =~ '[0-9.]+|\\[.*\\]|localhost' THEN null
          ELSE split(f.host, '.')[0] END AS service
WITH p, l, found, t, crashlooping, rel, w, f, pods, said, service,
     CASE
       WHEN f.host IS NOT NULL AND (f.class = 'dns_failure' OR f.detail = 'dns_failure')
         THEN ['kubectl -n ' + p.namespace + ' run dns-check --rm -it --restart=Never --image=busybox:1.36 -- ' +
               'nslookup ' + f.host]
       ELSE [] END +
     CASE
       WHEN service IS NOT NULL AND f.class IN ['connection_refused', 'timeout', 'database', 'dns_failure']
         THEN ['kubectl get endpointslices -A -l kubernetes.io/service-name=' + service]
       ELSE [] END +
     CASE f.class
       WHEN 'leader_election_lost' THEN
         [CASE WHEN f.lease IS NULL THEN 'kubectl -n ' + p.namespace + ' get leases'
               ELSE 'kubectl -n ' + split(f.lease, '/')[0] + ' get lease ' + split(f.lease, '/')[1] + ' -o yaml' END]
       WHEN 'permission_denied' THEN
         ['kubectl -n ' + p.namespace + ' get pod ' + p.name + ' -o jsonpath=\'{.spec.securityContext}' +
          '{.spec.containers[*].securityContext}{.spec.containers[*].volumeMounts}\'']
       WHEN 'missing_file' THEN
         ['kubectl -n ' + p.namespace + ' get pod ' + p.name + ' -o jsonpath=\'{.spec.containers[*].volumeMounts}\'']
       WHEN 'out_of_memory' THEN
         ['kubectl -n ' + p.namespace + ' get pod ' + p.name + ' -o jsonpath=\'{.spec.containers[*].resources}\'']
       ELSE [] END AS checks
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  CASE WHEN f.class = 'http_5xx' THEN 0.75 WHEN f.class = 'exception' THEN 0.88 ELSE 0.92 END AS confidence,
  CASE WHEN w = p THEN 'Pod ' + p.name ELSE w.kind + ' ' + w.name END + ': container ' + t.container +
    ' of pod ' + p.name + CASE WHEN crashlooping THEN ' keeps crashing' ELSE ' failed' END +
    coalesce(' (exit code ' + toString(t.exit_code) + ')', ' (no exit code recorded)') +
    '; its last log lines say ' + said + ': "' + left(f.line, 300) + '"' AS summary,
  'Container ' + t.container + coalesce(' (' + t.image + ')', '') + ' of pod ' + p.namespace + '/' + p.name +
    CASE WHEN crashlooping THEN ' is in CrashLoopBackOff' ELSE ' terminated and is not restarted' END +
    '; its run ' + t.restart_count + ' ended' + coalesce(' at ' + toString(t.finished_at), '') +
    coalesce(' with exit code ' + toString(t.exit_code), ', no exit code recorded') +
    coalesce(' (' + t.reason + ')', '') + '. ' +
    CASE WHEN l.source = 'watch' THEN 'The ' + CASE WHEN l.previous THEN 'previous ' ELSE '' END +
           'log of that run, read by kgrca watch' ELSE 'The log handed to kgrca (' + coalesce(l.origin, 'a file') +
           ')' END +
    ' (' + l.line_count + ' last lines kept' + CASE WHEN l.truncated THEN ', cut to the budget' ELSE '' END +
    '), says at line ' + f.line_number + ' of them' +
    CASE WHEN f.count > 1 THEN ' (one of ' + f.count + ' such lines)' ELSE '' END + ': "' + f.line + '"' +
    CASE WHEN size(found) > 1 THEN '\nAlso in those lines: ' +
      reduce(s = '', x IN found[1..] | s + CASE WHEN s = '' THEN '' ELSE ', ' END + replace(x.class, '_', ' ') +
        ' at line ' + x.line_number) + '.' ELSE '' END +
    CASE WHEN pods > 1 THEN '\n' + pods + ' failing pods of ' + w.kind + ' ' + w.name + ' have classified log lines; ' +
      'this is the newest.' ELSE '' END AS details,
  [{kind: 'Pod', name: p.name, at: t.finished_at,
    text: 'container ' + t.container + ' run ' + t.restart_count + ' terminated' +
      coalesce(' with exit code ' + toString(t.exit_code), ', no exit code recorded') +
      coalesce(' (' + t.reason + ')', '')}] +
  [x IN found[0..5] | {kind: 'Log', name: p.name, at: l.fetched_at,
    text: replace(x.class, '_', ' ') + ', line ' + x.line_number + ' of container ' + t.container + ': ' + x.line}]
    AS evidence,
  [{at: t.started_at, what: 'container ' + t.container + ' started (run ' + t.restart_count + ')'},
   {at: t.finished_at, what: 'container ' + t.container + ' terminated' +
     coalesce(' with exit code ' + toString(t.exit_code), ', no exit code recorded')},
   {at: l.fetched_at, what: 'last ' + l.line_count + ' log lines of container ' + t.container + ' read'}]
    AS event_chain,
  {namespace: p.namespace, pod: p.name, container: t.container, checks: checks, class: f.class,
   previous: CASE WHEN l.previous OR (l.restart_count IS NULL AND crashlooping) THEN ' --previous' ELSE '' END}
    AS vars

// id: hpa_cannot_scale
// title: A HorizontalPodAutoscaler cannot scale, cannot read its metrics, or is held at its maximum
// severity: medium
// confidence: 0.85
// tags: [hpa, autoscaling, metrics]
// shape: null
// explains: []
// impact: >-
//   The autoscaler does not follow the load: it cannot compute a replica count without its metrics
//   (ScalingActive False), cannot change the target's scale (AbleToScale False), or wants more replicas than
//   maxReplicas allows (ScalingLimited TooManyReplicas); the target keeps the replicas it has.
// resolution:
//   - kubectl -n {namespace} describe hpa {name}
//   - "{inspect}"
//   - "{fix}"
:param release_key => null;
:param now => null;
:param correlation_window => 300;

// HPAs whose conditions say they cannot act now, held for longer than the correlation window (a new HPA reports
// FailedGetResourceMetric until its first metrics arrive). Back-off (stabilization windows) and ScalingDisabled
// (the target was scaled to zero by hand) are the autoscaler working as configured, not failures.
MATCH (h:HorizontalPodAutoscaler)
WHERE h.deleted_at IS NULL AND (
    (h.able_to_scale_status = 'False' AND NOT coalesce(h.able_to_scale_reason, '') STARTS WITH 'Backoff')
    OR (h.scaling_active_status = 'False' AND coalesce(h.scaling_active_reason, '') <> 'ScalingDisabled')
    OR (h.scaling_limited_status = 'True' AND h.scaling_limited_reason = 'TooManyReplicas'))
WITH h, coalesce($now, datetime()) - duration({seconds: $correlation_window}) AS settled,
     CASE WHEN h.able_to_scale_status = 'False' AND NOT coalesce(h.able_to_scale_reason, '') STARTS WITH 'Backoff'
            THEN 'able_to_scale'
          WHEN h.scaling_active_status = 'False' THEN 'scaling_active'
          ELSE 'scaling_limited' END AS problem
WITH h, problem, settled,
     CASE problem WHEN 'able_to_scale' THEN 'AbleToScale' WHEN 'scaling_active' THEN 'ScalingActive'
                  ELSE 'ScalingLimited' END AS condition,
     CASE problem WHEN 'able_to_scale' THEN h.able_to_scale_status WHEN 'scaling_active' THEN h.scaling_active_status
                  ELSE h.scaling_limited_status END AS status,
     CASE problem WHEN 'able_to_scale' THEN h.able_to_scale_reason WHEN 'scaling_active' THEN h.scaling_active_reason
                  ELSE h.scaling_limited_reason END AS reason,
     CASE problem WHEN 'able_to_scale' THEN h.able_to_scale_message
                  WHEN 'scaling_active' THEN h.scaling_active_message ELSE h.scaling_limited_message END AS message,
     CASE problem WHEN 'able_to_scale' THEN h.able_to_scale_since WHEN 'scaling_active' THEN h.scaling_active_since
                  ELSE h.scaling_limited_since END AS since
WHERE since IS NULL OR since <= settled
// the target it scales, by its name slot (the HPA's own ref gives the cluster prefix, if any)
OPTIONAL MATCH (:Resource {ref: left(h.ref, size(h.ref) - size('HorizontalPodAutoscaler/' + h.namespace + '/' + h.name))
                                + h.target_kind + '/' + h.namespace + '/' + h.target_name})<-[:INSTANCE_OF]-(t:Object)
WHERE t.deleted_at IS NULL
OPTIONAL MATCH (e:Event)-[:ABOUT]->(h)
WHERE e.type = 'Warning' AND e.reason STARTS WITH 'Failed'
WITH h, problem, condition, status, reason, message, since, t, e ORDER BY e.last_seen DESC
WITH h, problem, condition, status, reason, message, since, collect(t)[0] AS t, collect(DISTINCT e) AS events
OPTIONAL MATCH (h)<-[:MANAGES]-(own:Release)
OPTIONAL MATCH (t)<-[:MANAGES]-(of_target:Release)
WITH h, problem, condition, status, reason, message, since, t, events,
     coalesce(collect(DISTINCT own)[0], collect(DISTINCT of_target)[0]) AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
WITH h, problem, condition, status, reason, message, since, t, events, rel,
     coalesce(h.target_kind, 'target') + ' ' + coalesce(h.target_name, '(not named)') AS target,
     coalesce(message, '') CONTAINS 'missing request for' AS no_requests
RETURN
  rel.key AS release_key,
  {kind: 'HorizontalPodAutoscaler', namespace: h.namespace, name: h.name, cluster: h.cluster} AS subject,
  'HorizontalPodAutoscaler ' + h.namespace + '/' + h.name + ' of ' + target +
    CASE problem
      WHEN 'scaling_active' THEN ' cannot compute a replica count'
      WHEN 'able_to_scale' THEN ' cannot scale its target'
      ELSE ' is held at its maximum of ' + coalesce(toString(h.max_replicas), '(maxReplicas not recorded)') + ' replicas'
    END + ': ' + condition + ' ' + status + coalesce(' (' + reason + ')', '') +
    coalesce(': ' + message, ', no message') +
    CASE WHEN t IS NULL AND problem = 'able_to_scale' THEN '. No ' + target + ' was observed in ' + h.namespace
         ELSE '' END AS summary,
  'Replicas: ' + coalesce(toString(h.current_replicas), 'current not reported') + ' current, ' +
    coalesce(toString(h.desired_replicas), 'desired not reported') + ' desired, min ' +
    coalesce(toString(h.min_replicas), 'not set') + ', max ' + coalesce(toString(h.max_replicas), 'not recorded') + '.' +
    ' Metrics targeted: ' + CASE WHEN size(coalesce(h.metric_targets, [])) = 0 THEN 'none recorded'
      ELSE reduce(s = '', m IN h.metric_targets | s + CASE WHEN s = '' THEN '' ELSE '; ' END + m) END +
    '; current: ' + CASE WHEN size(coalesce(h.current_metrics, [])) = 0 THEN 'none reported'
      ELSE reduce(s = '', m IN h.current_metrics | s + CASE WHEN s = '' THEN '' ELSE '; ' END + m) END + '.' +
    CASE WHEN no_requests AND t IS NOT NULL THEN '\nRequests of ' + target + '\'s containers (' +
      reduce(s = '', i IN range(0, size(coalesce(t.container_names, [])) - 1) | s + CASE WHEN s = '' THEN '' ELSE ', ' END +
        t.container_names[i] + ': cpu ' + CASE WHEN t.cpu_requests[i] = '' THEN 'not set' ELSE t.cpu_requests[i] END +
        ', memory ' + CASE WHEN t.memory_requests[i] = '' THEN 'not set' ELSE t.memory_requests[i] END) + ').'
      ELSE '' END +
    coalesce('\n' + condition + ' since ' + toString(since) + '.', '') AS details,
  [{kind: 'HorizontalPodAutoscaler', name: h.name, at: since,
    text: condition + ' ' + status + coalesce(' ' + reason, '') + coalesce(': ' + message, '')}] +
  [e IN events[0..3] | {kind: 'Event', name: h.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + ')' + coalesce(' from ' + e.source, '') + ': ' + e.message}] AS evidence,
  [{at: since, what: condition + ' ' + status + coalesce(' (' + reason + ')', '')}] AS event_chain,
  {namespace: h.namespace, name: h.name,
   inspect: CASE WHEN problem = 'scaling_active' AND NOT no_requests THEN 'kubectl get apiservices | grep metrics'
                 ELSE 'kubectl -n ' + h.namespace + ' get ' + toLower(coalesce(h.target_kind, 'deployment')) + ' ' +
                      coalesce(h.target_name, '<target>') + ' -o yaml' END,
   fix: CASE
     WHEN no_requests THEN 'kubectl -n ' + h.namespace + ' set resources ' + toLower(coalesce(h.target_kind, 'deployment')) +
       '/' + coalesce(h.target_name, '<target>') + ' --requests=cpu=...   # a utilization target needs requests on every container'
     WHEN problem = 'scaling_active' THEN '# bring the metrics API back (kubectl -n kube-system get pods -l k8s-app=metrics-server)'
     WHEN problem = 'able_to_scale' THEN '# fix the scaleTargetRef (the target must exist and have a scale subresource)'
     ELSE 'kubectl -n ' + h.namespace + ' patch hpa ' + h.name + ' -p \'{"spec":{"maxReplicas":' +
       coalesce(toString(h.max_replicas), 'N') + '}}\'   # raise it if the cluster has room' END} AS vars

// id: cronjob_failing
// title: A CronJob cannot start its Jobs (missed schedule, bad schedule or time zone, Job not created)
// severity: medium
// confidence: 0.85
// tags: [workload, cronjob]
// shape: null
// explains: [partial_deployment]
// impact: >-
//   The CronJob controller did not start the Job this schedule asked for, so the periodic work (a backup,
//   a report, a cleanup) did not run; it tries again at the next scheduled time, with the same outcome
//   until the cause is fixed.
// resolution:
//   - kubectl -n {namespace} describe cronjob {cronjob}
//   - kubectl -n {namespace} get events --field-selector involvedObject.name={cronjob}
//   - "{fix}"
:param release_key => null;

// The cronjob-controller's Warning events that say a scheduled Job was not started (kubernetes
// pkg/controller/cronjob/cronjob_controllerv2.go: UnknownTimeZone, UnparseableSchedule, InvalidSchedule,
// MissSchedule, FailedCreate "Error creating job: ..."), about a CronJob that is not suspended and has not
// scheduled a Job since the event was last seen (so a fixed CronJob is not reported).
MATCH (e:Event)-[:ABOUT]->(cj:CronJob)
WHERE e.reason IN ['UnknownTimeZone', 'UnparseableSchedule', 'InvalidSchedule', 'MissSchedule', 'FailedCreate']
  AND e.type = 'Warning' AND cj.deleted_at IS NULL AND coalesce(cj.suspend, false) = false
  AND (cj.last_schedule_time IS NULL OR cj.last_schedule_time <= e.last_seen)
WITH cj, e ORDER BY e.last_seen DESC
WITH cj, collect(e) AS events
WITH cj, events, events[0] AS last
OPTIONAL MATCH (cj)<-[:MANAGES]-(rel:Release)
WITH cj, events, last, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
RETURN
  rel.key AS release_key,
  {kind: 'CronJob', namespace: cj.namespace, name: cj.name, cluster: cj.cluster} AS subject,
  'CronJob ' + cj.namespace + '/' + cj.name + ' (schedule ' + coalesce('"' + cj.schedule + '"', 'not recorded') +
    coalesce(', timeZone ' + cj.time_zone, '') + ') did not start its Job: ' + last.reason +
    coalesce(': ' + last.message, ', no message') AS summary,
  'The cronjob-controller reported ' + last.reason + ' ' + last.count + ' times' +
    coalesce(' from ' + toString(last.first_seen), '') + coalesce(' to ' + toString(last.last_seen), '') + '. ' +
    CASE WHEN cj.last_schedule_time IS NULL THEN 'The CronJob has never scheduled a Job'
         ELSE 'Its last scheduled Job was at ' + toString(cj.last_schedule_time) END +
    CASE WHEN cj.last_successful_time IS NULL THEN '; no Job of it is recorded as successful'
         ELSE '; its last successful Job finished at ' + toString(cj.last_successful_time) END +
    coalesce('; startingDeadlineSeconds ' + toString(cj.starting_deadline_seconds), '') +
    coalesce('; concurrencyPolicy ' + cj.concurrency_policy, '') + '.' +
    CASE WHEN size(events) > 1 THEN '\nAlso reported: ' +
      reduce(s = '', x IN events[1..4] | s + CASE WHEN s = '' THEN '' ELSE '; ' END + x.reason +
        coalesce(': ' + x.message, '')) ELSE '' END AS details,
  [x IN events[0..5] | {kind: 'Event', name: cj.name, at: x.last_seen,
    text: x.reason + ' (x' + x.count + ')' + coalesce(': ' + x.message, ', no message')}] AS evidence,
  [{at: cj.last_schedule_time, what: 'last Job scheduled'}, {at: cj.last_successful_time, what: 'last Job succeeded'}] +
  [x IN reverse(events[0..5]) | {at: x.last_seen, what: x.reason + coalesce(': ' + x.message, '')}] AS event_chain,
  {namespace: cj.namespace, cronjob: cj.name, reason: last.reason,
   fix: CASE last.reason
     WHEN 'UnknownTimeZone' THEN '# the controller-manager cannot load timeZone ' + coalesce(cj.time_zone, '') +
       ': use an IANA name it knows, or give kube-controller-manager the time zone database'
     WHEN 'MissSchedule' THEN '# the Job could not start within startingDeadlineSeconds (' +
       coalesce(toString(cj.starting_deadline_seconds), 'not set') + '): raise it, or find what delays the controller'
     WHEN 'FailedCreate' THEN '# fix what the message names; then: kubectl -n ' + cj.namespace + ' create job ' + cj.name +
       '-manual --from=cronjob/' + cj.name
     ELSE 'kubectl -n ' + cj.namespace + ' patch cronjob ' + cj.name +
       ' -p \'{"spec":{"schedule":"<a valid 5-field schedule>"}}\'' END} AS vars

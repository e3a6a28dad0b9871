// id: webhook_unavailable
// title: A fail-closed admission webhook whose Service is missing or has no ready pod
// severity: critical
// confidence: 0.95
// tags: [admission, webhook, cluster-scoped, leftover]
// shape: null
// explains: [workload_unavailable, helm_error, admission_denied, partial_deployment, rollout_stuck, wait_timeout]
// impact: >-
//   The API server calls the webhook for every create and update its rules match and, with failurePolicy
//   Fail, refuses the request when the call fails: installs, upgrades and the pods controllers create in
//   the namespaces it matches all fail until the webhook's Service answers again or the configuration goes.
// resolution:
//   - kubectl get {config_kind} {config} -o yaml
//   - kubectl -n {service_namespace} get svc,endpoints {service}
//   - "{fix}"
:param release_key => null;

// Webhook configurations (cluster-scoped, a few dozen per cluster at most) from the Object(kind) index;
// kg_builder stores each webhook as one entry of parallel lists ('' where the object sets nothing).
MATCH (w:Object)
USING INDEX w:Object(kind)
WHERE w.kind IN ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'] AND w.deleted_at IS NULL
UNWIND range(0, size(coalesce(w.webhook_names, [])) - 1) AS i
WITH w, w.webhook_names[i] AS webhook, w.webhook_failure_policies[i] AS policy,
     w.webhook_service_namespaces[i] AS service_ns, w.webhook_service_names[i] AS service,
     w.webhook_service_ports[i] AS port, w.webhook_service_paths[i] AS path, w.webhook_service_refs[i] AS ref,
     w.webhook_namespace_selectors[i] AS selector, w.webhook_rules[i] AS rules
// Fail-closed only: failurePolicy Fail, or not set on a v1 object (the v1 API documents Fail as the default;
// v1beta1 documented Ignore). A webhook called by url is not judged: kgrca cannot see where it points.
WHERE ref <> '' AND (policy = 'Fail' OR (policy = '' AND w.api_version = 'admissionregistration.k8s.io/v1'))
// The Service by its name slot (unique index): its live instance, else when it was deleted
OPTIONAL MATCH (slot:Resource {ref: ref})
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, slot,
     CASE WHEN slot IS NULL THEN [] ELSE [(slot)<-[:INSTANCE_OF]-(s:Service) WHERE s.deleted_at IS NULL | s] END AS live,
     CASE WHEN slot IS NULL THEN []
          ELSE [(slot)<-[:INSTANCE_OF]-(s:Service) WHERE s.deleted_at IS NOT NULL | s.deleted_at] END AS deletions
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, slot, live[0] AS svc, deletions
// The pods it selects now (SELECTS links, checked against the current selector and labels)
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, slot, svc, deletions,
     CASE WHEN svc IS NULL THEN []
          ELSE [(svc)-[:SELECTS]->(p:Pod) WHERE p.deleted_at IS NULL
                AND all(x IN svc.selector_pairs WHERE x IN p.label_pairs) | p] END AS pods
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, slot, svc, deletions, pods,
     [p IN pods WHERE p.ready] AS ready_pods
// What kgrca saw of the Service's namespace: a Service absent from the graph is missing only when its
// deletion, its namespace's deletion or other Services of that namespace were seen (a dump without Services,
// or a watcher not watching that namespace, proves nothing); no pod only when pods of it were seen
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, slot, svc, deletions, pods, ready_pods,
     CASE WHEN svc IS NULL
          THEN COLLECT { MATCH (n:Object {ref: coalesce(w.cluster + ':', '') + 'Namespace//' + service_ns}) WHERE n.deleted_at IS NOT NULL
                         RETURN n.deleted_at }[0] END
       AS ns_deleted_at,
     CASE WHEN svc IS NULL AND size(deletions) = 0 THEN EXISTS { MATCH (x:Service {namespace: service_ns}) WHERE coalesce(x.cluster, '') = coalesce(w.cluster, '') } END
       AS services_seen,
     CASE WHEN svc IS NOT NULL AND size(pods) = 0 THEN EXISTS { MATCH (x:Pod {namespace: service_ns}) WHERE coalesce(x.cluster, '') = coalesce(w.cluster, '') } END
       AS pods_seen
// A Service without a selector (hand-made Endpoints) or of type ExternalName is not judged
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, slot, svc, deletions, pods, ready_pods,
     ns_deleted_at,
     CASE WHEN svc IS NULL AND (size(deletions) > 0 OR ns_deleted_at IS NOT NULL OR services_seen) THEN 'missing'
          WHEN size(svc.selector_pairs) > 0 AND size(ready_pods) = 0 AND (size(pods) > 0 OR pods_seen)
            THEN 'no ready pod' END AS state
WHERE state IS NOT NULL
// Which release would bring the Service back: those whose newest stored revision declares it
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, svc, deletions, pods, state, ns_deleted_at,
     CASE WHEN slot IS NULL THEN []
          ELSE [(slot)<-[:DECLARES]-(rev:Revision)<-[:HAS_REVISION]-(rel:Release)
                WHERE rev.version = rel.latest_version AND rev.removed_at IS NULL
                | {release: rel.key, namespace: rel.namespace, name: rel.name, version: rev.version,
                   status: rev.status}] END AS declared_by
// What it broke: a failed helm operation whose error (HelmError, classified when written) names this
// webhook: the newest failed revision (or the one a rollback undid), or a helm run that stored no revision
// (eBPF); the controllers' FailedCreate events come below, read once for every broken webhook
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, svc, deletions, pods, state, declared_by,
     ns_deleted_at, COLLECT {
       MATCH (e:HelmError {webhook: webhook})
       USING INDEX e:HelmError(webhook)
       MATCH (rel:Release {key: e.release_key})
       OPTIONAL MATCH (rev:Revision)-[:FAILED_WITH]->(e)
       OPTIONAL MATCH (op:HelmOperation)-[:FAILED_WITH]->(e)
       WITH e, rel, rev, op
       WHERE (rev IS NOT NULL AND rev.status = 'failed'
              AND (rev.version = rel.latest_version OR rev.version = rel.failed_version))
          OR (rev IS NULL AND op IS NOT NULL
              AND NOT EXISTS { MATCH (op)-[:PRODUCED]->(:Revision) }
              AND NOT EXISTS { MATCH (rel)-[:HAS_REVISION]->(later:Revision)
                               WHERE later.last_deployed > op.ended_at AND later.status IN ['deployed', 'superseded'] })
       RETURN DISTINCT {webhook: webhook, release: rel.key, at: e.at, count: 1, helm: true,
               what: CASE WHEN rev IS NOT NULL THEN 'revision ' + rev.version + ' failed'
                          ELSE 'helm ' + coalesce(op.command, '(command not recorded)') + ' failed' END, text: e.text} AS hit
     } AS hits
WITH w, webhook, policy, service_ns, service, port, path, selector, rules, svc, deletions, pods, state, declared_by,
     ns_deleted_at, hits, [d IN declared_by WHERE d.status = 'deployed'][0] AS restorer,
     reduce(last = null, t IN deletions | CASE WHEN last IS NULL OR t > last THEN t ELSE last END) AS deleted_at,
     CASE WHEN svc IS NULL THEN null ELSE reduce(s = '', x IN svc.selector_pairs | s + CASE WHEN s = '' THEN '' ELSE ',' END + x) END
       AS pod_selector
WITH w, hits, {
       webhook: webhook, policy: policy, service_ns: service_ns, service: service, port: port, path: path,
       selector: selector, rules: rules, state: state, deleted_at: deleted_at, pods: size(pods),
       pod_names: [p IN pods | p.name][..5], declared_by: [d IN declared_by | d.release + ' revision ' + d.version + ' (' + d.status + ')'],
       said:
         'webhook ' + webhook + ' (failurePolicy ' +
         CASE WHEN policy = '' THEN 'not set: Fail by the v1 API default' ELSE policy END + ') calls Service ' +
         service_ns + '/' + service + CASE WHEN port = '' THEN '' ELSE ':' + port END + CASE WHEN path = '' THEN '' ELSE ' ' + path END +
         ', which ' + CASE WHEN state = 'missing'
           THEN CASE WHEN deleted_at IS NOT NULL THEN 'was deleted at ' + toString(deleted_at)
                     WHEN ns_deleted_at IS NOT NULL
                       THEN 'does not exist: namespace ' + service_ns + ' was deleted at ' + toString(ns_deleted_at)
                     ELSE 'does not exist (never seen, though other Services of namespace ' + service_ns +
                       ' are)' END
           ELSE 'selects ' + size(pods) + ' pod(s) (' + pod_selector + '), none of them ready' END,
       fix: CASE
         WHEN state = 'missing' AND restorer IS NOT NULL
           THEN 'helm -n ' + restorer.namespace + ' rollback ' + restorer.name + ' ' + restorer.version +
                '   # re-applies revision ' + restorer.version + ', which declares Service ' + service_ns + '/' + service
         WHEN state = 'missing' AND size(declared_by) > 0
           THEN 'helm -n ' + declared_by[0].namespace + ' history ' + declared_by[0].name + '   # revision ' +
                declared_by[0].version + ' (' + declared_by[0].status + ') declares Service ' + service_ns + '/' + service
         WHEN state = 'missing'
           THEN 'kubectl delete ' + toLower(w.kind) + ' ' + w.name + '   # no installed release declares Service ' +
                service_ns + '/' + service + ': the configuration is a leftover'
         WHEN size(pods) > 0
           THEN 'kubectl -n ' + service_ns + ' describe pods -l ' + pod_selector +
                '   # why the webhook' + "'" + 's pods are not ready; bring them back (or delete the configuration if nothing serves it any more)'
         ELSE 'kubectl -n ' + service_ns + ' get deployments,statefulsets,daemonsets -o wide   # no pod matches ' +
              pod_selector + '; bring the webhook' + "'" + 's workload back (or delete the configuration if nothing serves it any more)'
       END} AS broken
WITH collect({w: w, broken: broken, hits: hits}) AS found
// A controller of a release that cannot create its pods because of a broken webhook (FailedCreate events
// quoting it, the controller still short of pods): the events are read once, not once per webhook
WITH found, [f IN found | f.broken.webhook] AS names
WITH found, CASE WHEN size(names) = 0 THEN [] ELSE COLLECT {
       MATCH (e:Event {reason: 'FailedCreate'})
       USING INDEX e:Event(reason)
       WHERE e.message CONTAINS 'failed calling webhook "'
       WITH e, split(split(e.message, 'failed calling webhook "')[1], '"')[0] AS named
       WHERE named IN names
       MATCH (e)-[:ABOUT]->(c:Object)
       WHERE c.deleted_at IS NULL
         AND (c.replicas IS NULL OR coalesce(c.available_replicas, 0) < c.replicas)
         AND (c.kind <> 'DaemonSet' OR coalesce(c.available_replicas, 0) < coalesce(c.desired_scheduled, 1))
         AND coalesce(c.complete, false) = false
       MATCH (c)-[:OWNED_BY*0..2]->(:Object)<-[:MANAGES]-(rel:Release)
       RETURN DISTINCT {webhook: named, release: rel.key, at: e.last_seen, count: e.count, helm: false,
               what: e.reason + ' of ' + c.kind + ' ' + c.namespace + '/' + c.name, text: e.message} AS hit
     } END AS event_hits
UNWIND found AS f
WITH f.w AS w, f.broken AS broken, f.hits + [h IN event_hits WHERE h.webhook = f.broken.webhook] AS hits
WITH w, collect(broken) AS broken, reduce(acc = [], h IN collect(hits) | acc + h) AS hits
WITH w, broken, hits, reduce(acc = [], h IN hits | CASE WHEN h.release IN acc THEN acc ELSE acc + h.release END) AS releases
// One finding per release it broke, with the webhook as subject; a finding of its own when it broke none yet
UNWIND CASE WHEN size(releases) = 0 THEN [null] ELSE releases END AS rk
WITH w, broken, rk, [h IN hits WHERE h.release = rk] AS hits
WHERE $release_key IS NULL OR rk = $release_key
WITH w, rk, hits, CASE WHEN rk IS NULL THEN broken ELSE [b IN broken WHERE b.webhook IN [h IN hits | h.webhook]] END AS shown
WITH w, rk, hits, shown, shown[0] AS first
OPTIONAL MATCH (owner:Release)-[:MANAGES]->(w)
WITH w, rk, hits, shown, first, owner,
     CASE WHEN owner IS NULL THEN [] ELSE [(owner)-[:HAS_REVISION]->(r:Revision) WHERE r.removed_at IS NULL | r] END AS kept
RETURN
  rk AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  CASE WHEN rk IS NULL THEN ''
       WHEN any(h IN hits WHERE h.helm) THEN 'Release ' + rk + ' failed on a webhook that cannot be called: '
       ELSE 'The pods of release ' + rk + ' are refused by a webhook that cannot be called: ' END +
    w.kind + ' ' + w.name + ': ' + first.said +
    CASE WHEN size(shown) > 1 THEN ' (and ' + (size(shown) - 1) + ' more webhook(s) of it)' ELSE '' END AS summary,
  reduce(s = '', b IN shown | s + b.said + '; namespaceSelector: ' +
      CASE WHEN b.selector = '' THEN 'none (every namespace)' ELSE b.selector END + '; rules: ' +
      CASE WHEN b.rules = '' THEN 'none' ELSE b.rules END + '; Service declared by: ' +
      CASE WHEN size(b.declared_by) = 0 THEN 'no installed release' ELSE reduce(d = '', x IN b.declared_by | d + CASE WHEN d = '' THEN '' ELSE ', ' END + x) END +
      '. ') +
    CASE WHEN owner IS NULL
      THEN w.kind + ' ' + w.name + ' carries no Helm release annotation. '
      ELSE w.kind + ' ' + w.name + ' belongs to release ' + owner.key + CASE WHEN size(kept) = 0
        THEN ', of which no stored revision is in the graph (helm keeps one while a release is installed). '
        ELSE ' (newest revision ' + owner.latest_version + ', ' + owner.status + '). ' END END +
    CASE WHEN rk IS NULL
      THEN 'With failurePolicy Fail the API server refuses every request these webhooks match; no failed release quotes them yet.'
      ELSE 'Release ' + rk + ': ' + reduce(s = '', h IN hits | s + CASE WHEN s = '' THEN '' ELSE '; ' END +
             h.what + CASE WHEN h.count > 1 THEN ' (x' + h.count + ')' ELSE '' END + ': ' + h.text) END AS details,
  [{kind: w.kind, name: w.name, at: w.created_at,
    text: reduce(s = '', b IN shown | s + CASE WHEN s = '' THEN '' ELSE '; ' END + b.webhook + ' failurePolicy ' +
          CASE WHEN b.policy = '' THEN 'not set' ELSE b.policy END)}] +
  [b IN shown | {kind: 'Service', name: b.service_ns + '/' + b.service, at: b.deleted_at,
                 text: CASE WHEN b.state = 'missing'
                         THEN CASE WHEN b.deleted_at IS NULL THEN 'never seen' ELSE 'deleted' END
                         ELSE b.pods + ' pod(s) selected, none ready' +
                           CASE WHEN size(b.pod_names) > 0 THEN ': ' + reduce(s = '', n IN b.pod_names | s + CASE WHEN s = '' THEN '' ELSE ', ' END + n) ELSE '' END END}] +
  [h IN hits[..5] | {kind: CASE WHEN NOT h.helm THEN 'Event' WHEN h.what STARTS WITH 'revision' THEN 'Revision'
                           ELSE 'HelmOperation' END, name: rk, at: h.at,
                     text: h.what + ': ' + h.text}] AS evidence,
  [{at: w.created_at, what: w.kind + ' ' + w.name + ' created'}] +
  [b IN shown WHERE b.deleted_at IS NOT NULL | {at: b.deleted_at, what: 'Service ' + b.service_ns + '/' + b.service + ' deleted'}] +
  [h IN hits[..5] | {at: h.at, what: h.what + ': ' + h.text}] AS event_chain,
  {config_kind: toLower(w.kind), config: w.name, service_namespace: first.service_ns, service: first.service,
   webhook: first.webhook, fix: first.fix} AS vars,
  // certain when the Service is gone and a release failed on it; pods not ready may be starting
  CASE WHEN rk IS NOT NULL AND first.state = 'missing' THEN 0.95 WHEN rk IS NULL AND first.state <> 'missing' THEN 0.85
       ELSE 0.9 END AS confidence,
  // the API server refused helm's own request: the Helm shape is resource_conflict; refused pods (events only)
  // take the shape of what they explain (a --wait timeout, a partial deployment)
  CASE WHEN any(h IN hits WHERE h.helm) THEN 'resource_conflict' END AS shape

// id: image_pull_backoff
// title: A pod cannot pull its image (ImagePullBackOff / ErrImagePull)
// severity: high
// confidence: 0.92
// tags: [pod, image-pull]
// shape: null
// explains: [workload_unavailable, rollout_stuck, wait_timeout, partial_deployment]
// impact: >-
//   The container never starts: the pod stays Pending in ImagePullBackOff, serves nothing, and a
//   rollout or `helm --wait` on it does not finish. Pods of the previous version keep running.
// resolution:
//   - kubectl -n {namespace} describe pod {pod}
//   - kubectl -n {namespace} get events --field-selector involvedObject.name={pod},reason=Failed
//   - "{fix}"
//   - "{undo}"
:param release_key => null;

// Pods waiting on an image now. A Helm hook's pod is left to hook_image_pull, which says more.
// (collecting first makes the planner start from the container_state_reason index, not from every Pod)
MATCH (s:ContainerState)
WHERE s.reason IN ['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull']
WITH collect(s) AS pulls
UNWIND pulls AS s
MATCH (s)<-[:HAD_STATE]-(p:Pod)
WHERE p.deleted_at IS NULL
  AND any(r IN p.waiting_reasons WHERE r IN ['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName',
                                             'ErrImageNeverPull'])
  AND NOT EXISTS { (p)<-[:RAN_AS]-(:Hook) } AND NOT EXISTS { (p)-[:OWNED_BY]->(:Object)<-[:RAN_AS]-(:Hook) }
WITH p, s ORDER BY s.at DESC
WITH p, collect(s)[0] AS s
// The kubelet's pull errors carry the registry's answer
OPTIONAL MATCH (e:Event)-[:ABOUT]->(p)
WHERE e.reason IN ['Failed', 'BackOff', 'ErrImagePull', 'InspectFailed'] AND e.type = 'Warning'
WITH p, s, e ORDER BY e.last_seen
WITH p, s, collect(e) AS events
// the image of the container whose status failed; the pod's only image where its status names none
WITH p, s, events, coalesce(s.image, CASE WHEN size(p.images) = 1 THEN p.images[0] END) AS image,
     toLower(coalesce(s.message, '') + ' ' + reduce(t = '', e IN events | t + ' ' + e.message)) AS said
WITH p, s, events, image, said,
     CASE
       WHEN said CONTAINS '429 too many requests' OR said CONTAINS 'toomanyrequests' OR said CONTAINS 'rate limit'
         THEN 'rate_limit'
       WHEN said CONTAINS 'manifest unknown' OR said CONTAINS ': not found' OR said CONTAINS 'not found: manifest'
         OR (said CONTAINS 'manifest for' AND said CONTAINS 'not found') THEN 'not_found'
       WHEN said CONTAINS 'unauthorized' OR said CONTAINS 'authentication required'
         OR said CONTAINS 'pull access denied' OR said CONTAINS 'access denied' OR said CONTAINS '403 forbidden'
         OR said CONTAINS 'requested access to the resource is denied' THEN 'unauthorized'
       WHEN s.reason = 'InvalidImageName' OR said CONTAINS 'invalid reference format' THEN 'invalid'
       WHEN said CONTAINS 'no such host' OR said CONTAINS 'i/o timeout' OR said CONTAINS 'connection refused'
         OR said CONTAINS 'tls: ' OR said CONTAINS 'x509' THEN 'unreachable'
       ELSE 'unknown'
     END AS cause
WITH p, s, events, image, cause,
     CASE cause
       WHEN 'rate_limit' THEN 'the registry is rate limiting pulls (429 Too Many Requests)'
       WHEN 'not_found' THEN 'the image or tag does not exist (manifest unknown)'
       WHEN 'unauthorized' THEN 'the registry refused the pull: unauthorized (credentials missing or wrong)'
       WHEN 'invalid' THEN 'the image reference is malformed (InvalidImageName)'
       WHEN 'unreachable' THEN 'the registry cannot be reached (DNS, network or TLS)'
       ELSE 'the pull keeps failing (' + s.reason + ')'
     END AS why,
     CASE WHEN image IS NULL THEN null
          WHEN size(split(image, '/')) > 1 AND (split(image, '/')[0] CONTAINS '.' OR split(image, '/')[0] CONTAINS ':'
                                                OR split(image, '/')[0] = 'localhost')
          THEN split(image, '/')[0] ELSE 'docker.io' END AS registry
OPTIONAL MATCH (p)-[:OWNED_BY]->(o1:Object) WHERE o1.kind <> 'Node'
OPTIONAL MATCH (o1)-[:OWNED_BY]->(o2:Object)
OPTIONAL MATCH (p)-[:OWNED_BY*0..3]->(:Object)<-[:MANAGES]-(rel:Release)
WITH p, s, events, image, cause, why, registry, coalesce(o2, o1, p) AS w, collect(DISTINCT rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
OPTIONAL MATCH (p)-[:USES {how: 'imagePull'}]->(pull:Resource)
WITH p, s, events, image, cause, why, registry, w, rel, collect(pull.name) AS pull_secrets
WITH w, rel, p, s, events, image, cause, why, registry, pull_secrets ORDER BY p.name
WITH w, rel, collect({p: p, s: s, events: events, image: image, cause: cause, why: why, registry: registry,
                     pull_secrets: pull_secrets}) AS pulling
WITH w, rel, pulling, pulling[0] AS first
WITH w, rel, pulling, first, first.p AS p
OPTIONAL MATCH (rel)-[:HAS_REVISION]->(prev:Revision)
WHERE prev.version < rel.latest_version AND prev.status IN ['deployed', 'superseded']
WITH w, rel, pulling, first, p, max(prev.version) AS good_version
WITH w, rel, pulling, first, p, good_version,
     CASE WHEN rel IS NOT NULL THEN 'helm upgrade ' + rel.name + ' <chart> -n ' + rel.namespace + ' --reuse-values'
          ELSE '' END AS helm_upgrade
RETURN
  rel.key AS release_key,
  {kind: w.kind, namespace: w.namespace, name: w.name, cluster: w.cluster} AS subject,
  'Pod ' + p.name + ' cannot pull ' + coalesce(first.image, 'an image (its status names none)') + ': ' + first.why +
    CASE WHEN size(pulling) > 1 THEN ' (' + size(pulling) + ' pods of ' + w.kind + ' ' + w.name + ')' ELSE '' END
    AS summary,
  'Pod ' + p.namespace + '/' + p.name + ' has waited in ' + first.s.reason + ' since ' + toString(first.s.at) +
    coalesce(' on image ' + first.image + ' from ' + first.registry, ' (the status names no image)') + '. ' +
    CASE WHEN size(first.pull_secrets) > 0 THEN 'imagePullSecrets: ' +
      reduce(t = '', n IN first.pull_secrets | t + n + ' ') ELSE 'The pod has no imagePullSecrets. ' END +
    CASE WHEN first.s.message IS NULL THEN '' ELSE 'The kubelet: ' + first.s.message END AS details,
  [x IN pulling | {kind: 'Pod', name: x.p.name, at: x.s.at,
    text: x.s.reason + coalesce(' for ' + x.image, '') + CASE WHEN x.s.message IS NULL THEN '' ELSE ': ' + x.s.message END}] +
  [e IN first.events[-5..] | {kind: 'Event', name: p.name, at: e.last_seen,
    text: e.reason + ' (x' + e.count + '): ' + e.message}] AS evidence,
  [{at: p.created_at, what: 'pod ' + p.name + ' created'},
   {at: first.s.at, what: 'pod ' + p.name + ' ' + first.s.reason + coalesce(' on ' + first.image, '')}] +
  [e IN first.events[-5..] | {at: e.last_seen, what: e.reason + ': ' + e.message}] AS event_chain,
  {namespace: p.namespace, pod: p.name, image: first.image, registry: first.registry, cause: first.cause,
   fix: CASE first.cause
     WHEN 'rate_limit' THEN 'kubectl -n ' + p.namespace + ' create secret docker-registry regcred --docker-server=' +
       first.registry + ' --docker-username=<user> --docker-password=<token>   # authenticated pulls get a higher ' +
       'limit; then add it to imagePullSecrets (or use a mirror)'
     WHEN 'unauthorized' THEN 'kubectl -n ' + p.namespace + ' create secret docker-registry regcred --docker-server=' +
       first.registry + ' --docker-username=<user> --docker-password=<token> && kubectl -n ' + p.namespace +
       ' patch serviceaccount ' + coalesce(p.service_account, 'default') +
       ' -p ' + "'" + '{"imagePullSecrets":[{"name":"regcred"}]}' + "'"
     WHEN 'not_found' THEN CASE WHEN rel IS NOT NULL THEN helm_upgrade + ' --set image.tag=<a tag that exists>'
       WHEN w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet']
         THEN 'kubectl -n ' + w.namespace + ' set image ' + toLower(w.kind) + '/' + w.name + ' ' +
           first.s.container + '=' + split(first.image, ':')[0] + ':<a tag that exists>'
       ELSE '# fix the image of ' + p.name + ' to a tag that exists, then recreate the pod' END
     WHEN 'invalid' THEN '# correct the image reference ' + first.image + ' (registry/repository:tag)'
     ELSE 'kubectl -n ' + p.namespace + ' debug node/' + coalesce(p.node_name, '<node>') +
       ' -it --image=busybox -- nslookup ' + first.registry END,
   undo: CASE
     WHEN rel IS NOT NULL AND good_version IS NOT NULL
       THEN 'helm rollback ' + rel.name + ' ' + good_version + ' -n ' + rel.namespace
     WHEN w.kind IN ['Deployment', 'StatefulSet', 'DaemonSet']
       THEN 'kubectl -n ' + w.namespace + ' rollout undo ' + toLower(w.kind) + '/' + w.name
     ELSE 'kubectl -n ' + p.namespace + ' delete pod ' + p.name + '   # once the image can be pulled' END} AS vars

// id: ingress_tls_secret_missing
// title: An Ingress names a TLS Secret that does not exist
// severity: medium
// confidence: 0.8
// tags: [network, ingress, tls, secret]
// shape: null
// explains: []
// impact: >-
//   The ingress controller cannot load the certificate for these hosts: it serves its own default (self-signed)
//   certificate instead, and clients refuse the connection or warn.
// resolution:
//   - kubectl -n {namespace} get secret {secret}
//   - kubectl -n {namespace} create secret tls {secret} --cert=<cert file> --key=<key file>
:param release_key => null;

// Ingresses (backend_count, indexed) whose spec.tls[].secretName slot has no live Secret. kgrca's watcher
// reads only Helm's release Secrets (label owner=helm): a Secret it did not see may well exist. So a Secret is
// judged missing only when the input shows other Secrets of the same namespace than Helm's (a dump, `kgrca
// ingest` of `kubectl get secrets -o json`); otherwise the pattern says nothing (docs/patterns-network.md).
MATCH (i:Ingress)
USING INDEX i:Ingress(backend_count)
WHERE i.backend_count >= 0 AND i.deleted_at IS NULL AND size(coalesce(i.tls_secrets, [])) > 0
MATCH (i)-[u:USES {how: 'tls'}]->(slot:Resource)
WHERE NOT EXISTS {
  MATCH (slot)<-[:INSTANCE_OF]-(s:Secret)
  WHERE s.deleted_at IS NULL AND coalesce(s.placeholder, false) = false
}
CALL (i) {
  MATCH (s:Secret {namespace: i.namespace})
  USING INDEX s:Secret(namespace)
  WHERE s.deleted_at IS NULL AND NOT 'owner=helm' IN coalesce(s.label_pairs, [])
  WITH s ORDER BY s.name
  RETURN count(s) AS listed, collect(s.name)[0..5] AS listed_names
}
WITH i, u, slot, listed, listed_names
WHERE listed > 0
OPTIONAL MATCH (slot)<-[:INSTANCE_OF]-(gone:Secret)
WHERE gone.deleted_at IS NOT NULL
WITH i, u, slot, listed, listed_names, max(gone.deleted_at) AS deleted_at
WITH i, listed, listed_names, collect({secret: slot.name, hosts: u.key, deleted_at: deleted_at}) AS missing
OPTIONAL MATCH (rel:Release)-[:MANAGES]->(i)
WITH i, listed, listed_names, missing, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
RETURN
  rel.key AS release_key,
  {kind: 'Ingress', namespace: i.namespace, name: i.name, cluster: i.cluster} AS subject,
  'Ingress ' + i.namespace + '/' + i.name + ' names TLS Secret ' + missing[0].secret +
    coalesce(' for ' + nullif(missing[0].hosts, ''), '') + ', which does not exist in namespace ' + i.namespace +
    CASE WHEN size(missing) > 1 THEN ' (and ' + (size(missing) - 1) + ' more)' ELSE '' END AS summary,
  'Missing: ' + reduce(t = '', m IN missing | t + CASE WHEN t = '' THEN '' ELSE '; ' END + 'Secret ' + m.secret +
      coalesce(' (hosts ' + nullif(m.hosts, '') + ')', '') +
      coalesce(', deleted at ' + toString(m.deleted_at), '')) + '. ' +
    'The input lists ' + listed + ' other Secret' + CASE WHEN listed = 1 THEN '' ELSE 's' END + ' of ' +
    i.namespace + ' (' + reduce(t = '', n IN listed_names | t + CASE WHEN t = '' THEN '' ELSE ', ' END + n) +
    CASE WHEN listed > size(listed_names) THEN ', ...' ELSE '' END + '), not this one.' AS details,
  [m IN missing | {kind: 'Ingress', name: i.namespace + '/' + i.name, at: i.created_at,
    text: 'tls secretName ' + m.secret + coalesce(' for ' + nullif(m.hosts, ''), '')}] +
  [m IN missing | {kind: 'Secret', name: i.namespace + '/' + m.secret, at: m.deleted_at,
    text: CASE WHEN m.deleted_at IS NULL THEN 'not found' ELSE 'deleted' END}] AS evidence,
  [{at: i.created_at, what: 'Ingress ' + i.name + ' created'}] +
  [m IN missing WHERE m.deleted_at IS NOT NULL | {at: m.deleted_at, what: 'Secret ' + m.secret + ' deleted'}]
    AS event_chain,
  {namespace: i.namespace, ingress: i.name, secret: missing[0].secret} AS vars

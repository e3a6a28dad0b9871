// id: ingress_class_missing
// title: An Ingress names an IngressClass that does not exist
// severity: high
// confidence: 0.85
// tags: [network, ingress]
// shape: null
// explains: []
// impact: >-
//   No ingress controller claims the Ingress: its hosts and paths are not served and it gets no address.
// resolution:
//   - kubectl get ingressclass
//   - "kubectl -n {namespace} edit ingress {ingress}   # set spec.ingressClassName to one of the classes, or install the controller of {ingress_class}"
:param release_key => null;

// Ingresses (backend_count, indexed: every Ingress has one) whose spec.ingressClassName names a slot
// (IngressClass//<name>) with no live IngressClass. The watcher lists IngressClasses, so one not in the graph
// was not in the cluster; the classes that were seen are named (a handful, read after the seek). The legacy
// kubernetes.io/ingress.class annotation needs no IngressClass object and is not judged.
MATCH (i:Ingress)
USING INDEX i:Ingress(backend_count)
WHERE i.backend_count >= 0 AND i.deleted_at IS NULL AND i.ingress_class IS NOT NULL
MATCH (i)-[:OF_CLASS]->(slot:Resource)
WHERE NOT EXISTS {
  MATCH (slot)<-[:INSTANCE_OF]-(c:IngressClass)
  WHERE c.deleted_at IS NULL AND coalesce(c.placeholder, false) = false
}
OPTIONAL MATCH (rel:Release)-[:MANAGES]->(i)
WITH i, slot, collect(rel)[0] AS rel
WHERE $release_key IS NULL OR rel.key = $release_key
OPTIONAL MATCH (slot)<-[:INSTANCE_OF]-(gone:IngressClass)
WHERE gone.deleted_at IS NOT NULL
WITH i, slot, rel, max(gone.deleted_at) AS deleted_at
OPTIONAL MATCH (other:IngressClass)
WHERE other.deleted_at IS NULL AND coalesce(other.placeholder, false) = false
WITH i, slot, rel, deleted_at, other ORDER BY other.name
WITH i, slot, rel, deleted_at, collect(other) AS classes
WITH i, rel, deleted_at, classes,
     reduce(t = '', c IN classes | t + CASE WHEN t = '' THEN '' ELSE ', ' END + c.name +
       coalesce(' (' + c.controller + ')', '') + CASE WHEN c.is_default_class THEN ' default' ELSE '' END) AS seen
RETURN
  rel.key AS release_key,
  {kind: 'Ingress', namespace: i.namespace, name: i.name, cluster: i.cluster} AS subject,
  'Ingress ' + i.namespace + '/' + i.name + ' names IngressClass ' + i.ingress_class + ', which does not exist' +
    CASE WHEN size(classes) = 0 THEN ' (no IngressClass was observed at all)'
         ELSE ' (the classes are: ' + seen + ')' END AS summary,
  'spec.ingressClassName is ' + i.ingress_class + '; no IngressClass of that name was observed' +
    coalesce(' (one was deleted at ' + toString(deleted_at) + ')', '') + '. ' +
    CASE WHEN size(classes) = 0 THEN 'No IngressClass was observed at all: no ingress controller may be installed.'
         ELSE 'The IngressClasses observed: ' + seen + '.' END +
    CASE WHEN size(coalesce(i.load_balancer, [])) = 0 THEN ' The Ingress has no address in its status.'
         ELSE '' END AS details,
  [{kind: 'Ingress', name: i.namespace + '/' + i.name, at: i.created_at,
    text: 'ingressClassName ' + i.ingress_class}] +
  [c IN classes | {kind: 'IngressClass', name: c.name, at: c.created_at,
    text: 'controller ' + coalesce(c.controller, '(not given)')}] AS evidence,
  [{at: i.created_at, what: 'Ingress ' + i.name + ' created'}] +
  CASE WHEN deleted_at IS NULL THEN [] ELSE [{at: deleted_at, what: 'IngressClass ' + i.ingress_class + ' deleted'}]
  END AS event_chain,
  {namespace: i.namespace, ingress: i.name, ingress_class: i.ingress_class} AS vars

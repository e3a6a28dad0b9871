"""Graph facts for networking: EndpointSlices, Ingresses, IngressClasses, NetworkPolicies (docs/patterns-network.md).

Registered by kg_builder/k8s_objects.py: ``PROPS[(group, kind)]`` returns properties merged into the object's,
``ROWS[(group, kind)]`` yields extra (Statement, row) pairs; the core group is "".

A property holds no map, so repeated parts (an Ingress's paths, a slice's endpoints) are parallel lists, one
entry per item, with '' where the item left a field out (a list holds no null). A field the object does not
carry at all is None, so the property stays absent. References by name go to the name slot
(``(:Resource {ref})``), so they resolve whichever end arrives first and a slot without a live instance is an
object that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kg_builder.statements import DERIVED, LINKS, Emitted, Statement
from kgrca.contracts import Observation
from kgrca.keys import resource_ref, resource_version

SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # set by the EndpointSlice controller on every slice it manages
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"

Obj = dict[str, Any]


def _port_text(port: Any) -> str:
    """A port given as a number or a name (IntOrString), as text so one list holds both; '' when not given."""
    return "" if port is None else str(port)


def _slot_row(kind: str, namespace: str | None, name: str, **extra: Any) -> dict[str, Any]:
    return {"ref": resource_ref(kind, namespace, name), "kind": kind, "namespace": namespace or "", "name": name,
            **extra}


# --- EndpointSlice ---------------------------------------------------------------------------------


def _endpoint_condition(endpoint: Obj, field: str) -> str:
    """'true', 'false' or '' (not reported): the API says a nil ready means ready, but kgrca keeps what was said."""
    value = (endpoint.get("conditions") or {}).get(field)
    return "" if value is None else ("true" if value else "false")


def endpoint_slice_props(obj: Obj) -> dict[str, Any]:
    """Its Service, its endpoints' conditions and targets, its ports; ``no_ready_endpoints`` marks (indexed) a
    slice that holds no endpoint whose ready condition is true or unreported, so service_no_endpoints seeks."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    endpoints = [e for e in obj.get("endpoints") or [] if isinstance(e, dict)]
    targets = [e.get("targetRef") or {} for e in endpoints]
    ready = [_endpoint_condition(e, "ready") for e in endpoints]
    ports = [p for p in obj.get("ports") or [] if isinstance(p, dict)]
    return {
        "service_name": labels.get(SERVICE_NAME_LABEL),
        "managed_by_controller": labels.get("endpointslice.kubernetes.io/managed-by"),
        "address_type": obj.get("addressType"),
        "endpoint_count": len(endpoints),
        "endpoint_addresses": [",".join(e.get("addresses") or []) for e in endpoints],
        "endpoint_ready": ready,
        "endpoint_serving": [_endpoint_condition(e, "serving") for e in endpoints],
        "endpoint_terminating": [_endpoint_condition(e, "terminating") for e in endpoints],
        "endpoint_target_kinds": [t.get("kind") or "" for t in targets],
        "endpoint_target_names": [t.get("name") or "" for t in targets],
        "endpoint_nodes": [e.get("nodeName") or "" for e in endpoints],
        "ready_count": sum(1 for r in ready if r != "false"),
        "no_ready_endpoints": True if all(r == "false" for r in ready) else None,
        "port_names": [p.get("name") or "" for p in ports],
        "port_numbers": [_port_text(p.get("port")) for p in ports],
        "port_protocols": [p.get("protocol") or "" for p in ports],
    }


# A slice's Service by name: its slot, replaced when the label changes (a stale replay changes nothing).
SLICE_OF = Statement("network_slice_of", LINKS, """
UNWIND $rows AS row
MATCH (s:Object {uid: row.uid})
WHERE coalesce(s.rv, -2) <= row.rv
OPTIONAL MATCH (s)-[old:SLICE_OF]->()
DELETE old
WITH DISTINCT s, row
UNWIND row.services AS svc
MERGE (r:Resource {ref: svc.ref})
ON CREATE SET r.kind = svc.kind, r.namespace = svc.namespace, r.name = svc.name
MERGE (s)-[:SLICE_OF]->(r)
""")


def endpoint_slice_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    meta = obj["metadata"]
    service = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    services = [_slot_row("Service", meta.get("namespace"), service)] if service else []
    yield SLICE_OF, {"uid": meta["uid"], "rv": _rv(meta), "services": services}


# --- Ingress ---------------------------------------------------------------------------------------


def _backends(spec: Obj) -> Iterator[tuple[str, str, str, Obj]]:
    """(host, path, pathType, backend) of every path of every rule; the default backend as host '' path ''."""
    default = spec.get("defaultBackend") or spec.get("backend")  # extensions/v1beta1 called it backend
    if isinstance(default, dict):
        yield "", "", "default", default
    for rule in spec.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        for path in (rule.get("http") or {}).get("paths") or []:
            if isinstance(path, dict) and isinstance(path.get("backend"), dict):
                yield rule.get("host") or "", path.get("path") or "", path.get("pathType") or "", path["backend"]


def _backend_service(backend: Obj) -> tuple[str, str]:
    """(service name, port number or name) in networking.k8s.io/v1 or the older serviceName/servicePort form."""
    service = backend.get("service")
    if isinstance(service, dict):
        port = service.get("port") or {}
        return service.get("name") or "", _port_text(port.get("number") if port.get("number") is not None
                                                      else port.get("name"))
    return backend.get("serviceName") or "", _port_text(backend.get("servicePort"))


def ingress_props(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    routes = [(host, path, kind, *_backend_service(b), (b.get("resource") or {}).get("kind") or "")
              for host, path, kind, b in _backends(spec)]
    tls = [t for t in spec.get("tls") or [] if isinstance(t, dict)]
    return {
        "ingress_class": spec.get("ingressClassName"),
        "ingress_class_annotation": annotations.get(LEGACY_CLASS_ANNOTATION),
        "backend_count": len(routes),
        "backend_hosts": [r[0] for r in routes],
        "backend_paths": [r[1] for r in routes],
        "backend_path_types": [r[2] for r in routes],
        "backend_services": [r[3] for r in routes],
        "backend_ports": [r[4] for r in routes],
        "backend_resource_kinds": [r[5] for r in routes],
        "tls_secrets": [t.get("secretName") or "" for t in tls] if "tls" in spec else None,
        "tls_hosts": [",".join(t.get("hosts") or []) for t in tls] if "tls" in spec else None,
        "load_balancer": [i.get("ip") or i.get("hostname") or ""
                          for i in ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []],
    }


# An Ingress's references, replaced as a whole on each fresh observation: ROUTES_TO its backend Services'
# slots (one link per host, path and port), USES {how: 'tls'} its TLS Secrets' slots, OF_CLASS its class's slot.
INGRESS_LINKS = Statement("network_ingress_links", LINKS, """
UNWIND $rows AS row
MATCH (i:Object {uid: row.uid})
WHERE coalesce(i.rv, -2) <= row.rv
OPTIONAL MATCH (i)-[old:ROUTES_TO|OF_CLASS]->()
DELETE old
WITH DISTINCT i, row
OPTIONAL MATCH (i)-[tls:USES {how: 'tls'}]->()
DELETE tls
WITH DISTINCT i, row
CALL (i, row) {
  UNWIND row.routes AS route
  MERGE (r:Resource {ref: route.ref})
  ON CREATE SET r.kind = route.kind, r.namespace = route.namespace, r.name = route.name
  MERGE (i)-[l:ROUTES_TO {host: route.host, path: route.path, port: route.port}]->(r)
}
CALL (i, row) {
  UNWIND row.tls AS secret
  MERGE (r:Resource {ref: secret.ref})
  ON CREATE SET r.kind = secret.kind, r.namespace = secret.namespace, r.name = secret.name
  MERGE (i)-[u:USES {how: 'tls', key: secret.hosts}]->(r)
  SET u.optional = false
}
CALL (i, row) {
  UNWIND row.classes AS class
  MERGE (r:Resource {ref: class.ref})
  ON CREATE SET r.kind = class.kind, r.namespace = class.namespace, r.name = class.name
  MERGE (i)-[:OF_CLASS]->(r)
}
""")


def ingress_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    spec = obj.get("spec") or {}
    routes = []
    for host, path, _kind, backend in _backends(spec):
        name, port = _backend_service(backend)
        if name:
            routes.append(_slot_row("Service", namespace, name, host=host, path=path, port=port))
    tls = [_slot_row("Secret", namespace, t["secretName"], hosts=",".join(t.get("hosts") or []))
           for t in spec.get("tls") or [] if isinstance(t, dict) and t.get("secretName")]
    classes = [_slot_row("IngressClass", None, spec["ingressClassName"])] if spec.get("ingressClassName") else []
    yield INGRESS_LINKS, {"uid": meta["uid"], "rv": _rv(meta), "routes": routes, "tls": tls, "classes": classes}


def ingress_class_props(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    default = annotations.get("ingressclass.kubernetes.io/is-default-class")
    return {"controller": spec.get("controller"), "is_default_class": None if default is None else default == "true"}


# --- NetworkPolicy ---------------------------------------------------------------------------------


def _peer_text(peer: Obj) -> str:
    """One `from` peer as text: "pods app=web", "namespaces team=a", "ipBlock 10.0.0.0/8 except 10.1.0.0/16"."""
    parts = []
    if "namespaceSelector" in peer:
        parts.append("namespaces " + (_selector_text(peer.get("namespaceSelector")) or "(all)"))
    if "podSelector" in peer:
        parts.append("pods " + (_selector_text(peer.get("podSelector")) or "(all)"))
    block = peer.get("ipBlock")
    if isinstance(block, dict):
        parts.append("ipBlock " + str(block.get("cidr") or "") +
                     (" except " + ",".join(block.get("except") or []) if block.get("except") else ""))
    return " and ".join(parts)


def _rule_text(rule: Obj) -> str:
    """One ingress rule: "from pods app=web; ports TCP/8080" (no from: any source; no ports: every port)."""
    peers = [_peer_text(p) for p in rule.get("from") or [] if isinstance(p, dict)]
    ports = [f"{p.get('protocol') or 'TCP'}/{_port_text(p.get('port')) or '(all)'}"
             for p in rule.get("ports") or [] if isinstance(p, dict)]
    return ("from " + (" or ".join(peers) if peers else "anywhere") + "; ports " +
            (",".join(ports) if ports else "all"))


def network_policy_props(obj: Obj) -> dict[str, Any]:
    """podSelector as text (and its pairs when it is matchLabels only), policyTypes as given (absent when not
    given: the API then infers them), and each ingress rule summarized."""
    spec = obj.get("spec") or {}
    selector = spec.get("podSelector") or {}
    rules = [r for r in spec.get("ingress") or [] if isinstance(r, dict)]
    return {
        "pod_selector": _selector_text(selector),
        "pod_selector_pairs": sorted(f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()),
        "pod_selector_has_expressions": bool(selector.get("matchExpressions")),
        "policy_types": spec.get("policyTypes"),
        "ingress_rule_count": len(rules),
        "ingress_rules": [_rule_text(r) for r in rules],
        "egress_rule_count": len([r for r in spec.get("egress") or [] if isinstance(r, dict)]),
    }


def _selector_text(selector: Obj | None) -> str:
    """A label selector as kubectl's -l text ("a=b,team in (x,y),!legacy"); '' when it selects everything."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(op, f"{key} {op} ({values})"))
    return ",".join(parts)


# --- more of Services and Pods ---------------------------------------------------------------------


def service_props(obj: Obj) -> dict[str, Any]:
    """A Service's ports: port, name, protocol and targetPort (a number or a container port's name) in parallel."""
    spec = obj.get("spec") or {}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    return {
        "port_numbers": [_port_text(p.get("port")) for p in ports],
        "port_names": [p.get("name") or "" for p in ports],
        "port_protocols": [p.get("protocol") or "" for p in ports],
        "target_ports": [_port_text(p.get("targetPort")) for p in ports],
        "selector_text": _selector_text({"matchLabels": spec.get("selector") or {}}) or None,
        "external_name": spec.get("externalName"),
    }


def pod_props(obj: Obj) -> dict[str, Any]:
    """The ports a Pod's containers declare: container, number, name, protocol in parallel lists."""
    spec = obj.get("spec") or {}
    ports = [(c.get("name") or "", p) for c in spec.get("containers") or [] if isinstance(c, dict)
             for p in c.get("ports") or [] if isinstance(p, dict)]
    if not ports:  # no container declares a port: the properties stay absent
        return {"container_port_containers": None, "container_port_numbers": None, "container_port_names": None,
                "container_port_protocols": None}
    return {
        "container_port_containers": [c for c, _ in ports],
        "container_port_numbers": [_port_text(p.get("containerPort")) for _, p in ports],
        "container_port_names": [p.get("name") or "" for _, p in ports],
        "container_port_protocols": [p.get("protocol") or "" for _, p in ports],
    }


# A Service's target ports that no container of the pods it selects declares, kept on the Service (indexed) so
# service_target_port_mismatch seeks the few such Services. Written after SELECTS (DERIVED stage), from either
# end: a Service's write and the write of any pod it selects recompute it. A numeric targetPort is judged only
# against pods that declare ports (declaring one is optional for a number; a name must be declared to resolve).
# Reading at most 20 selected pods bounds the cost of a write.
TARGET_PORTS = Statement("network_target_ports", DERIVED, """
UNWIND $rows AS row
MATCH (o:Object {uid: row.uid})
OPTIONAL MATCH (o)<-[:SELECTS]-(from_pod:Service)
WITH o, collect(from_pod) + CASE WHEN o:Service THEN [o] ELSE [] END AS services
UNWIND services AS s
WITH DISTINCT s
CALL (s) {
  OPTIONAL MATCH (s)-[:SELECTS]->(p:Pod)
  WHERE p.deleted_at IS NULL AND all(x IN s.selector_pairs WHERE x IN p.label_pairs)
  WITH p LIMIT 20
  RETURN collect(p) AS pods
}
WITH s, pods, [k IN range(0, size(coalesce(s.target_ports, [])) - 1) WHERE s.target_ports[k] <> ''] AS judged
WITH s, [k IN judged WHERE size(pods) > 0 AND
          CASE WHEN s.target_ports[k] =~ '[0-9]+'
               THEN any(p IN pods WHERE p.container_port_numbers IS NOT NULL)
                    AND none(p IN pods WHERE s.target_ports[k] IN coalesce(p.container_port_numbers, []))
               ELSE none(p IN pods WHERE s.target_ports[k] IN coalesce(p.container_port_names, [])) END
        | s.target_ports[k]] AS unexposed
SET s.unexposed_target_ports = CASE WHEN size(unexposed) > 0 THEN unexposed END,
    s.target_port_mismatch = CASE WHEN size(unexposed) > 0 THEN true END
""", partition_by="uid")


def target_port_rows(obj: Obj, observation: Observation) -> Iterator[Emitted]:
    yield TARGET_PORTS, {"uid": obj["metadata"]["uid"]}


def _rv(meta: Obj) -> int:
    """The freshness number object_upsert stores as o.rv: a link statement skips a row older than the object."""
    return resource_version(meta)


PROPS: dict[tuple[str, str], Any] = {
    ("discovery.k8s.io", "EndpointSlice"): endpoint_slice_props,
    ("networking.k8s.io", "Ingress"): ingress_props,
    ("extensions", "Ingress"): ingress_props,
    ("networking.k8s.io", "IngressClass"): ingress_class_props,
    ("networking.k8s.io", "NetworkPolicy"): network_policy_props,
    ("", "Service"): service_props,
    ("", "Pod"): pod_props,
}
ROWS: dict[tuple[str, str], Any] = {
    ("discovery.k8s.io", "EndpointSlice"): endpoint_slice_rows,
    ("networking.k8s.io", "Ingress"): ingress_rows,
    ("extensions", "Ingress"): ingress_rows,
    ("", "Service"): target_port_rows,
    ("", "Pod"): target_port_rows,
}

"""The Cypher the Kubernetes mapper emits. Every statement MERGEs on a constrained key (cypher/schema.cypher).

Freshness: an object's resourceVersion (``rv``) is kept; a row older than what the graph holds does not
overwrite the latest state, so replays and redeliveries never move the graph backwards. The test is made
ON MATCH only: a node just created has nothing to protect, and skipping the test there made the most
common write (a new Event) a quarter faster. ``rv`` is set last, after the guarded fields read the old one.
"""

from __future__ import annotations

import functools

from kg_builder.statements import DERIVED, HISTORY, LINKS, NODES, Statement

_SLOT = ("MERGE (r:Resource {ref: row.ref}) "
         "ON CREATE SET r.kind = row.kind, r.namespace = row.namespace, r.name = row.name, r.cluster = row.cluster")


@functools.cache
def object_upsert(label: str) -> Statement:
    """One statement per kind so its label is static and its plan cached. It also links the object to its
    name slot (INSTANCE_OF), which only the object itself decides."""
    return Statement(f"object:{label}", NODES, f"""
UNWIND $rows AS row
MERGE (o:Object {{uid: row.uid}})
ON CREATE SET o:{label}, o += row.props, o.rv = row.rv, o.deleted_at = CASE WHEN row.deleted THEN row.at END,
    o.cluster = row.cluster
ON MATCH SET o:{label}, o.cluster = row.cluster,
    o += CASE WHEN coalesce(o.rv, -2) <= row.rv THEN row.props ELSE {{}} END,
    o.placeholder = CASE WHEN coalesce(o.rv, -2) <= row.rv THEN null ELSE o.placeholder END,
    o.deleted_at = CASE WHEN row.deleted THEN coalesce(o.deleted_at, row.at) ELSE o.deleted_at END,
    o.rv = CASE WHEN coalesce(o.rv, -2) <= row.rv THEN row.rv ELSE o.rv END
WITH o, row
{_SLOT}
MERGE (o)-[:INSTANCE_OF]->(r)
""", locks=("uid", "ref"))


OWNED_BY = Statement("owned_by", HISTORY, """
UNWIND $rows AS row
MATCH (o:Object {uid: row.uid})
MERGE (p:Object {uid: row.owner_uid})
ON CREATE SET p.kind = row.owner_kind, p.name = row.owner_name, p.ref = row.owner_ref, p.placeholder = true
MERGE (o)-[rel:OWNED_BY]->(p)
SET rel.controller = row.controller
""", partition_by="owner_uid", locks=("uid", "owner_uid"))

MANAGES = Statement("manages", HISTORY, """
UNWIND $rows AS row
MATCH (o:Object {uid: row.uid})
MERGE (rel:Release {key: row.key})
ON CREATE SET rel.namespace = row.namespace, rel.name = row.name, rel.cluster = row.cluster
MERGE (rel)-[:MANAGES]->(o)
""", partition_by="key", locks=("uid", "key"))

SCHEDULED_ON = Statement("scheduled_on", HISTORY, """
UNWIND $rows AS row
MATCH (o:Object {uid: row.uid})
MERGE (r:Resource {ref: row.ref})
ON CREATE SET r.kind = 'Node', r.namespace = '', r.name = row.name
MERGE (o)-[:SCHEDULED_ON]->(r)
""", partition_by="ref", locks=("uid", "ref"))

USES = Statement("uses", HISTORY, f"""
UNWIND $rows AS row
MATCH (o:Object {{uid: row.uid}})
{_SLOT}
MERGE (o)-[u:USES {{how: row.how, key: coalesce(row.key, '')}}]->(r)
SET u.optional = row.optional
""", partition_by="ref", locks=("uid", "ref"))

def _history(name: str, label: str, link: str) -> Statement:
    """All of an object's history nodes of one kind from one row: the object is looked up once."""
    return Statement(name, HISTORY, f"""
UNWIND $rows AS row
MATCH (o:Object {{uid: row.uid}})
UNWIND row.items AS item
MERGE (h:{label} {{key: item.key}})
ON CREATE SET h.at = item.at
SET h += item.props
MERGE (o)-[:{link}]->(h)
""", locks=("uid",))  # every item's key starts with the object's uid


CONTAINER_STATES = _history("container_states", "ContainerState", "HAD_STATE")
CONDITIONS = _history("conditions", "Condition", "HAD_CONDITION")

_EVENT_UPSERT = """
UNWIND $rows AS row
MERGE (e:Event {uid: row.uid})
ON CREATE SET e += row.props, e.rv = row.rv
ON MATCH SET e += CASE WHEN coalesce(e.rv, -2) <= row.rv THEN row.props ELSE {} END,
             e.rv = CASE WHEN coalesce(e.rv, -2) <= row.rv THEN row.rv ELSE e.rv END
WITH e, row
"""

# An Event and its ABOUT link in one pass: the link needs nothing but the Event and its target, which the
# statement MERGEs itself (as a placeholder until the object's own observation arrives).
EVENT_ON_OBJECT = Statement("event", NODES, _EVENT_UPSERT + """
MERGE (o:Object {uid: row.involved_uid})
ON CREATE SET o.kind = row.kind, o.name = row.name, o.namespace = row.namespace, o.ref = row.ref,
              o.placeholder = true
MERGE (e)-[:ABOUT]->(o)
""", partition_by="involved_uid", locks=("uid", "involved_uid"))

# An Event whose object has no uid (some controllers leave it out): linked to the object's name slot.
EVENT_ON_NAME = Statement("event_by_name", NODES, _EVENT_UPSERT + """
MERGE (r:Resource {ref: row.ref})
ON CREATE SET r.kind = row.kind, r.namespace = row.namespace, r.name = row.name
MERGE (e)-[:ABOUT]->(r)
""", partition_by="ref", locks=("uid", "ref"))

REVISION = Statement("revision", NODES, """
UNWIND $rows AS row
MERGE (rel:Release {key: row.release_key})
ON CREATE SET rel.namespace = row.props.namespace, rel.name = row.props.release
SET rel.cluster = row.cluster
MERGE (rev:Revision {key: row.key})
MERGE (rel)-[:HAS_REVISION]->(rev)
WITH rel, rev, row, coalesce(rev.storage_rv, -2) <= row.rv AS fresh
FOREACH (_ IN CASE WHEN fresh THEN [1] ELSE [] END |
  SET rev += row.props, rev.storage_rv = row.rv, rev.release_key = row.release_key)
FOREACH (_ IN CASE WHEN fresh AND row.props.version >= coalesce(rel.latest_version, 0) THEN [1] ELSE [] END |
  SET rel.latest_version = row.props.version, rel.status = row.props.status,
      rel.description = row.props.description, rel.chart = row.props.chart,
      rel.chart_version = row.props.chart_version, rel.app_version = row.props.app_version,
      rel.last_deployed = row.props.last_deployed)
""", partition_by="release_key", locks=("release_key", "key"))

# The operation a diagnosis is about: the newest failed revision, where only automatic rollbacks came after
# it. helm --atomic / --rollback-on-failure and GitOps remediation write "Rollback to N" right after the failure:
# a rollback is automatic when the helm process that wrote the failed revision wrote it too or ran with
# --atomic, or, with no process record, when it started within AUTO_ROLLBACK_WINDOW of the failed revision (helm's
# default --timeout is 5m; the rollback starts when the wait gives up). A rollback a separate `helm rollback`
# wrote, or one that came later, is the user's: it clears the failure, as any later upgrade or install does.
AUTO_ROLLBACK_WINDOW = "PT30M"
RELEASE_FAILED_OPERATION = Statement("release_failed_operation", DERIVED, f"""
UNWIND $rows AS row
MATCH (rel:Release {{key: row.release_key}})
CALL (rel) {{
  MATCH (rel)-[:HAS_REVISION]->(r:Revision)
  OPTIONAL MATCH (op:HelmOperation)-[:PRODUCED]->(r)
  WITH r, collect(op) AS ops ORDER BY r.version DESC
  WITH collect({{rev: r, ops: ops}}) AS revs
  WITH revs, [i IN range(0, size(revs) - 1) WHERE revs[i].rev.status = 'failed'][0] AS failed
  WITH revs, failed, CASE WHEN failed IS NULL THEN null ELSE revs[failed] END AS bad
  RETURN CASE WHEN failed IS NOT NULL AND all(j IN range(0, failed - 1) WHERE
      coalesce(revs[j].rev.description, '') STARTS WITH 'Rollback to ' AND (
        any(op IN bad.ops WHERE op IN revs[j].ops)
        OR (size(revs[j].ops) = 0 AND (any(op IN bad.ops WHERE coalesce(op.atomic, false) = true)
            OR revs[j].rev.last_deployed <= bad.rev.last_deployed + duration('{AUTO_ROLLBACK_WINDOW}')))))
    THEN bad.rev.version END AS failed_version
}}
SET rel.failed_version = failed_version
""", partition_by="release_key", locks=("release_key",))

REVISION_REMOVED = Statement("revision_removed", NODES, """
UNWIND $rows AS row
MATCH (rev:Revision {storage_uid: row.storage_uid})
SET rev.removed_at = coalesce(rev.removed_at, row.at)
""", locks=("storage_uid",))

DECLARES = Statement("declares", HISTORY, f"""
UNWIND $rows AS row
MATCH (rev:Revision {{key: row.revision_key}})
WHERE coalesce(rev.storage_rv, -2) <= row.rv
{_SLOT}
SET r.api_version = row.api_version
MERGE (rev)-[d:DECLARES]->(r)
SET d.api_version = row.api_version, d.source = row.source
""", partition_by="release_key", locks=("release_key", "ref"))

HOOK = Statement("hook", HISTORY, f"""
UNWIND $rows AS row
MATCH (rev:Revision {{key: row.revision_key}})
WHERE coalesce(rev.storage_rv, -2) <= row.rv
MERGE (h:Hook {{key: row.key}})
SET h += row.props
MERGE (rev)-[:HAS_HOOK]->(h)
WITH h, row
{_SLOT}
MERGE (h)-[:RUNS]->(r)
""", partition_by="release_key", locks=("release_key", "ref"))

# --- links that need both ends; each runs from whichever end was just written ------------------
# Their index hints matter: a plan is made once, often on a nearly empty graph, where starting from the
# few Hooks or Services looks cheapest; on a grown graph that plan scans them all for every row.

_HOOK_WINDOW = """
h.started_at IS NOT NULL AND j.created_at >= h.started_at - duration('PT30S')
AND (h.completed_at IS NULL OR j.created_at <= h.completed_at + duration('PT30S'))
"""

HOOK_RAN_AS = Statement("hook_ran_as", LINKS, f"""
UNWIND $rows AS row
MATCH (h:Hook {{key: row.key}})-[:RUNS]->(:Resource)<-[:INSTANCE_OF]-(j:Object)
USING INDEX h:Hook(key)
WHERE {_HOOK_WINDOW}
MERGE (h)-[:RAN_AS]->(j)
""")

OBJECT_RAN_FOR_HOOK = Statement("object_ran_for_hook", LINKS, f"""
UNWIND $rows AS row
MATCH (j:Object {{uid: row.uid}})-[:INSTANCE_OF]->(:Resource)<-[:RUNS]-(h:Hook)
USING INDEX j:Object(uid)
WHERE {_HOOK_WINDOW}
MERGE (h)-[:RAN_AS]->(j)
""")

REVISION_LINKS = Statement("revision_links", LINKS, """
UNWIND $rows AS row
MATCH (rev:Revision {key: row.key})
OPTIONAL MATCH (prev:Revision {key: row.prev_key})
OPTIONAL MATCH (next:Revision {key: row.next_key})
FOREACH (_ IN CASE WHEN prev IS NULL THEN [] ELSE [1] END | MERGE (rev)-[:SUPERSEDES]->(prev))
FOREACH (_ IN CASE WHEN next IS NULL THEN [] ELSE [1] END | MERGE (next)-[:SUPERSEDES]->(rev))
WITH rev, row
OPTIONAL MATCH (op:HelmOperation {release_key: row.release_key})
WHERE rev.last_deployed IS NOT NULL
  AND op.started_at <= rev.last_deployed + duration('PT5S')
  AND (op.ended_at IS NULL OR op.ended_at >= rev.last_deployed - duration('PT5S'))
FOREACH (_ IN CASE WHEN op IS NULL THEN [] ELSE [1] END | MERGE (op)-[:PRODUCED]->(rev))
""", partition_by="release_key",
   locks=("release_key",))  # every revision and helm operation it links belongs to the release

POD_SELECTED_BY = Statement("pod_selected_by", LINKS, """
UNWIND $rows AS row
MATCH (p:Object {uid: row.uid})
USING INDEX p:Object(uid)
MATCH (s:Service {namespace: row.namespace})
USING INDEX s:Service(namespace)
WHERE size(s.selector_pairs) > 0 AND all(x IN s.selector_pairs WHERE x IN p.label_pairs)
  AND coalesce(s.cluster, '') = coalesce(p.cluster, '')
MERGE (s)-[:SELECTS]->(p)
""", partition_by="namespace", locks=("uid", "namespace"))

SERVICE_SELECTS = Statement("service_selects", LINKS, """
UNWIND $rows AS row
MATCH (s:Object {uid: row.uid})
USING INDEX s:Object(uid)
MATCH (p:Pod {namespace: row.namespace})
USING INDEX p:Pod(namespace)
WHERE all(x IN s.selector_pairs WHERE x IN p.label_pairs) AND coalesce(s.cluster, '') = coalesce(p.cluster, '')
MERGE (s)-[:SELECTS]->(p)
""", locks=("uid", "namespace"))  # a Service selects pods of its namespace only

"""``kgrca db migrate --cluster NAME``: a graph written for the unnamed cluster, rewritten into a named cluster's keys.

A graph written before clusters were named holds one cluster, keyed ``prod/api``, ``Pod/prod/web-0``, by bare uid.
Once a second cluster is to join it, the first gets its name: every key of the unnamed cluster takes the prefix
``<cluster>:`` exactly as kgrca/keys.py would have written it, and Release, Object and Resource nodes get
their ``cluster`` property. Relationships stay as they are (they join the same nodes). Nodes that are no
cluster's (webhook context: commits, pull requests, issues, CI runs, deliveries) are left alone.

Idempotent and restartable: a node already keyed in a named cluster is skipped, so running it again after an
interruption finishes the rest. It refuses a name that is already in the graph (two nodes would claim a key).
"""

from __future__ import annotations

import dataclasses

import neo4j

from kgrca.contracts import KgrcaError, check_cluster

# Node properties that hold keys of the cluster's own nodes (a uid, a ref, a release key ...), per label.
_COMMON = ("key", "ref", "uid", "release_key", "revision_key", "storage_uid", "witness_uid", "claim_uid")
_LISTS = ("target_release_keys", "helm_release_keys", "webhook_service_refs")
# label -> the property that identifies the node (tells which cluster it is in)
LABELS = {"Release": "key", "Revision": "key", "Hook": "key", "Object": "uid", "Resource": "ref", "Event": "uid",
          "ContainerState": "key", "Condition": "key",
          "HelmError": "release_key"}  # an error of a witnessed run is keyed by its operation, not its cluster
STAMPED = ("Release", "Object", "Resource")  # the labels that carry a ``cluster`` property
OPERATIONS = ("HelmOperation", "KubectlOperation")
BATCH = 5000

KNOWN = """
CALL { MATCH (n:Release) WHERE n.cluster IS NOT NULL RETURN DISTINCT n.cluster AS cluster
       UNION MATCH (n:Object) WHERE n.cluster IS NOT NULL RETURN DISTINCT n.cluster AS cluster }
RETURN collect(cluster) AS clusters
"""


def _prefixed(prop: str) -> str:
    return f"n.{prop} = CASE WHEN n.{prop} IS NULL THEN null ELSE $prefix + n.{prop} END"


def _prefixed_list(prop: str) -> str:
    return (f"n.{prop} = CASE WHEN n.{prop} IS NULL THEN null "
            f"ELSE [v IN n.{prop} | CASE WHEN v = '' THEN v ELSE $prefix + v END] END")


def _statement(label: str, key: str) -> str:
    sets = [_prefixed(p) for p in _COMMON] + [_prefixed_list(p) for p in _LISTS]
    if label in STAMPED:
        sets.append("n.cluster = $cluster")
    return f"""
MATCH (n:{label}) WHERE n.{key} IS NOT NULL AND NONE(p IN $known WHERE n.{key} STARTS WITH p)
CALL {{ WITH n SET {", ".join(sets)} }} IN TRANSACTIONS OF {BATCH} ROWS
RETURN count(*) AS rewritten"""


def _operations(label: str) -> str:
    # An operation a witness (a HelmRelease, an Application, a CI pod) saw is keyed by that object's uid, which now
    # carries the prefix; a traced process's id takes the prefix whole. Its HelmError (<operation id>#stderr) follows.
    return f"""
MATCH (n:{label}) WHERE NONE(p IN $known WHERE coalesce(n.witness_uid, n.operation_id) STARTS WITH p)
CALL {{ WITH n
  WITH n, n.operation_id AS old,
       CASE WHEN n.witness_uid IS NULL THEN $prefix + n.operation_id
            ELSE replace(n.operation_id, n.witness_uid, $prefix + n.witness_uid) END AS new
  SET n.operation_id = new, {_prefixed("release_key")}, {_prefixed("witness_uid")},
      {_prefixed_list("target_release_keys")}
  WITH old, new
  OPTIONAL MATCH (e:HelmError {{key: $prefix + old + '#stderr'}})
  FOREACH (_ IN CASE WHEN e IS NULL THEN [] ELSE [1] END | SET e.key = new + '#stderr')
}} IN TRANSACTIONS OF {BATCH} ROWS
RETURN count(*) AS rewritten"""


@dataclasses.dataclass
class Migration:
    cluster: str
    rewritten: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rewritten.values())


def migrate(driver: neo4j.Driver, cluster: str, database: str | None = None) -> Migration:
    """Rewrite the unnamed cluster's nodes into ``cluster``'s keys; how many nodes of each label were rewritten."""
    if not check_cluster(cluster):
        raise KgrcaError("--cluster: name the cluster the graph's data comes from (the unnamed cluster is '')")
    known = driver.execute_query(KNOWN, database_=database).records[0]["clusters"]
    if cluster in known:
        raise KgrcaError(f"cluster {cluster} is already in the graph: migrating the unnamed cluster into it would "
                         "give two nodes one key; choose another name")
    params = {"prefix": f"{cluster}:", "cluster": cluster, "known": [f"{name}:" for name in known]}
    rewritten: dict[str, int] = {}
    with driver.session(database=database) as session:
        # HelmError first: the operations' step then moves the keys of the errors they failed with
        for label in ("HelmError", *[name for name in LABELS if name != "HelmError"]):
            rewritten[label] = session.run(_statement(label, LABELS[label]), params).single(strict=True)[0]
        for label in OPERATIONS:
            rewritten[label] = session.run(_operations(label), params).single(strict=True)[0]
    return Migration(cluster, rewritten)

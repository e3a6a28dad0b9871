"""Which cluster a diagnosis is about, and which Release node a face means by a cluster and ``ns/name``.

A named cluster's keys are ``<cluster>:<key>`` (kgrca/keys.py); the unnamed cluster's are as they always
were. A diagnosis says its cluster in ``release.cluster`` (or ``subject.cluster`` when no release is involved);
``None`` is the unnamed cluster.
"""

from __future__ import annotations

from collections.abc import Iterable

import neo4j

from kgrca.contracts import Diagnosis, KgrcaError
from kgrca.keys import qualify

# Every cluster that holds a release of this namespace and name (release_name index, then a filter).
RELEASES_NAMED = """
MATCH (r:Release {name: $name}) WHERE r.namespace = $namespace
RETURN r.key AS key, r.cluster AS cluster ORDER BY key
"""


def release_key(cluster: str | None, namespace: str, name: str) -> str:
    """The key of release ``namespace/name`` in ``cluster`` (None or ``""``: the unnamed cluster)."""
    return qualify(f"{namespace}/{name}", cluster or "")


def cluster_of(diagnosis: Diagnosis) -> str:
    """The cluster a diagnosis is about; ``""`` for the unnamed cluster."""
    return str((diagnosis.release or {}).get("cluster") or (diagnosis.subject or {}).get("cluster") or "")


def of_cluster(diagnoses: Iterable[Diagnosis], cluster: str | None) -> list[Diagnosis]:
    """The diagnoses of ``cluster``, all of them when it is None (``""`` keeps the unnamed cluster's)."""
    return list(diagnoses) if cluster is None else [d for d in diagnoses if cluster_of(d) == cluster]


def resolve_release(driver: neo4j.Driver, database: str | None, namespace: str, name: str,
                    cluster: str | None) -> str:
    """The key of the release a user means. With a cluster: that cluster's. Without: the unnamed cluster's when
    it has one, else the one cluster that does; several give an error naming them, none an error too."""
    if cluster is not None:
        key = release_key(cluster, namespace, name)
        found = driver.execute_query("MATCH (r:Release {key: $k}) RETURN count(r) AS n", k=key,
                                     database_=database, routing_=neo4j.RoutingControl.READ).records[0]["n"]
        if not found:
            raise KgrcaError(f"no release {namespace}/{name} of cluster {cluster or '(unnamed)'} in the graph")
        return key
    rows = driver.execute_query(RELEASES_NAMED, namespace=namespace, name=name, database_=database,
                                routing_=neo4j.RoutingControl.READ).records
    keys = {row["key"]: row["cluster"] for row in rows}
    unnamed = release_key(None, namespace, name)
    if unnamed in keys or len(keys) == 1:
        return unnamed if unnamed in keys else next(iter(keys))
    if not keys:
        raise KgrcaError(f"no release {namespace}/{name} in the graph")
    clusters = ", ".join(sorted(str(c) for c in keys.values()))
    raise KgrcaError(f"release {namespace}/{name} is in several clusters ({clusters}): name one with --cluster")

"""The writer's sessions never lock the same node (docs/performance.md, issue #20 item 4).

Two sessions writing one statement's rows deadlock when both lock a node in different orders; the writer deals
whole lock groups (rows naming a common node in any field of ``Statement.locks``) to sessions, so no node is
locked by two. Checked on the rows kgrca's own mappers make from a cluster, without a server.
"""

from __future__ import annotations

from kg_builder import k8s_statements as st
from kg_builder.statements import Statement
from kg_builder.writer import map_observations, partition
from kgrca.contracts import Observation
from tests import factories as f


def _cluster() -> list[Observation]:
    """Deployments owning ReplicaSets owning pods, all on one node, with events: a ReplicaSet is the owner in its
    pods' OWNED_BY rows and the child in its own row to its Deployment, the shape that deadlocked."""
    out = []
    for d in range(40):
        deploy = f.deployment(f"d{d}", f"ns{d % 3}", release=f"d{d}", replicas=3, ready=3)
        rs = f.replicaset(deploy)
        pods = [f.pod(f"d{d}-{p}", f"ns{d % 3}", owner_obj=rs, labels={"app": f"d{d}"}) for p in range(3)]
        out += [deploy, rs, *pods, *(f.event(pod, "BackOff", "Back-off restarting failed container") for pod in pods)]
    return [Observation("k8s", "ADDED", obj, "2026-11-20T10:05:00Z", "test") for obj in out]


def _locked(statement: Statement, rows: list[dict]) -> set[str]:
    return {str(row[field]) for row in rows for field in statement.locks if row.get(field) not in (None, "")}


def test_no_node_is_locked_from_two_sessions() -> None:
    _, grouped = map_observations(_cluster())
    assert st.OWNED_BY in grouped and st.EVENT_ON_OBJECT in grouped
    for statement, rows in grouped.items():
        parts = partition(statement, rows, 2)
        assert sorted(map(id, (row for part in parts for row in part))) == sorted(map(id, rows)), statement.name
        if not statement.locks:
            assert len(parts) == 1, f"{statement.name} locks nodes it finds in the graph: one session"
            continue
        left, right = (_locked(statement, part) for part in parts)
        assert not left & right, f"{statement.name}: both sessions lock {sorted(left & right)[:3]}"
    owned = partition(st.OWNED_BY, grouped[st.OWNED_BY], 2)
    assert all(owned), "owned_by still uses both sessions"


def test_one_objects_rows_keep_their_order_in_one_session() -> None:
    pod = f.pod("api-0", "prod")
    versions = []
    for rv in range(1, 6):
        obj = f.pod("api-0", "prod")
        obj["metadata"]["uid"] = pod["metadata"]["uid"]
        obj["metadata"]["resourceVersion"] = str(rv)
        versions.append(Observation("k8s", "MODIFIED", obj, "2026-11-20T10:05:00Z", "test"))
    others = [Observation("k8s", "ADDED", f.pod(f"other-{i}", "prod"), "2026-11-20T10:05:00Z", "test")
              for i in range(20)]
    _, grouped = map_observations(others[:10] + versions + others[10:])
    upserts = next(rows for statement, rows in grouped.items() if statement.name == "object:Pod")
    statement = next(statement for statement in grouped if statement.name == "object:Pod")
    uid = upserts[10]["uid"]
    seen = [[row["rv"] for row in part if row["uid"] == uid] for part in partition(statement, upserts, 2)]
    assert sorted(seen) == [[], [1, 2, 3, 4, 5]], seen

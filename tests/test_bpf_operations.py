"""helm/kubectl process records in the graph, on a real Neo4j: operation nodes, TARGETS, PRODUCED,
CHILD_OF, and the questions the stuck-release and template-error diagnoses ask of them."""

from __future__ import annotations

import copy

import neo4j
import pytest

from kg_builder.operations import rows
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests import factories as f

pytestmark = pytest.mark.neo4j


def record(pid: int = 12345, argv: tuple[str, ...] = ("helm", "upgrade", "api", "./charts/api", "-n", "prod",
                                                     "-f", "/ci/values-prod.yaml", "--wait", "--timeout", "10m"),
           **fields) -> dict:
    """A record as bpf/records.py makes it (the shape the kernel tests check field by field)."""
    from kgrca.commandline import parse_command

    tool = "kubectl" if argv[0].endswith("kubectl") else "helm"
    base = {
        "schema": 1, "operation_id": f"{tool}-{pid}-1763632790000", "tool": tool, "host": "ci-runner-1",
        "pid": pid, "ppid": 4000, "parent_operation_id": None, "binary": f"/usr/local/bin/{tool}", "comm": tool,
        "argv": list(argv), "argv_truncated": False, "argv_source": "kernel", "cwd": "/ci",
        **parse_command(tool, list(argv)),
        "uid": 1001, "user": "ci", "gid": 1001, "cgroup_id": 77, "cgroup": "/", "container_id": None,
        "started_at": "2026-11-20T09:59:50.000Z", "status": "killed",
        "files_read": ["/ci/values-prod.yaml", "/ci/charts/api/Chart.yaml"], "files_written": [],
        "files_failed": [{"path": "/root/.config/helm/repositories.yaml", "error": "ENOENT"}], "files_dropped": 0,
        "api_endpoints": ["10.96.0.1:443"], "stderr": "", "stderr_bytes": 0, "stderr_truncated": False,
        "children": [{"pid": pid + 1, "binary": "/bin/sh", "argv": ["/bin/sh", "render.sh"],
                      "started_at": "2026-11-20T09:59:51.000Z", "ended_at": "2026-11-20T09:59:52.000Z",
                      "exit_code": 0, "signal": None}],
        "ended_at": "2026-11-20T10:15:00.000Z", "duration_seconds": 910.0, "exit_code": None,
        "signal": "SIGKILL", "signal_received": "SIGKILL", "signal_from_pid": 1,
        "signaled_at": "2026-11-20T10:15:00.000Z",
    }
    base.update(fields)
    return base


def helm_obs(rec: dict, action: str = "EXITED") -> Observation:
    kind = "kubectl_process" if rec["tool"] == "kubectl" else "helm_process"
    return Observation(kind, action, rec, "2026-11-20T10:15:01Z", f"test:{rec['operation_id']}")


def revision_obs(version: int, last_deployed: str, status: str = "pending-upgrade") -> Observation:
    secret = f.release_secret(f.release_json("api", "prod", version, status, last_deployed=last_deployed))
    return Observation("k8s", "ADDED", secret, "2026-11-20T10:15:01Z", f"test:rev{version}")


@pytest.fixture
def writer(neo4j_driver):
    apply_schema(neo4j_driver)
    return Neo4jWriter(neo4j_driver, batch_size=3)


def one(driver: neo4j.Driver, query: str, **params):
    with driver.session() as session:
        return session.run(query, **params).single()


def test_killed_upgrade_answers_the_stuck_release_question(writer, neo4j_driver):
    stats = writer.write([revision_obs(6, "2026-11-19T10:00:00Z", "deployed"),
                          revision_obs(7, "2026-11-20T09:59:52Z"), helm_obs(record())])
    assert stats.rejected == []
    row = one(neo4j_driver, """
        MATCH (op:HelmOperation)-[:TARGETS]->(r:Release {key: 'prod/api'})
        WHERE op.mutates_release
        WITH r, op ORDER BY op.started_at DESC LIMIT 1
        OPTIONAL MATCH (later:HelmOperation)-[:TARGETS]->(r) WHERE later.started_at > op.ended_at
        OPTIONAL MATCH (op)-[:PRODUCED]->(rev:Revision)
        RETURN op.command AS command, op.pid AS pid, op.signal AS signal, op.ended_at AS ended,
               op.exit_code AS code, count(later) AS since, collect(rev.version) AS produced,
               r.namespace AS ns, r.name AS name""")
    assert (row["command"], row["pid"], row["signal"], row["code"]) == ("upgrade", 12345, "SIGKILL", None)
    assert isinstance(row["ended"], neo4j.time.DateTime) and row["ended"].iso_format().startswith("2026-11-20T10:15:00")
    assert row["since"] == 0
    assert row["produced"] == [7]  # revision 6 is a day older than the operation's window
    assert (row["ns"], row["name"]) == ("prod", "api")


def test_every_field_is_stored_under_a_clear_name(writer, neo4j_driver):
    writer.write([helm_obs(record())])
    op = one(neo4j_driver, "MATCH (op:HelmOperation {operation_id: 'helm-12345-1763632790000'}) RETURN op")["op"]
    assert op["release_key"] == "prod/api" and op["target_release_keys"] == ["prod/api"]
    assert op["produces_revision"] is True and op["mutates_release"] is True
    assert op["values_files"] == ["/ci/values-prod.yaml"]
    assert op["files_failed"] == ["/root/.config/helm/repositories.yaml: ENOENT"]
    assert op["timeout_seconds"] == 600.0 and op["wait"] is True and op["atomic"] is False
    assert op["api_endpoints"] == ["10.96.0.1:443"]
    assert op["user"] == "ci" and op["host"] == "ci-runner-1" and op["signal_from_pid"] == 1
    assert isinstance(op["started_at"], neo4j.time.DateTime) and isinstance(op["signaled_at"], neo4j.time.DateTime)
    assert '"/bin/sh"' in op["children_json"] and '"timeout": "10m"' in op["flags_json"]
    assert op["placeholder"] is None


def test_revision_written_after_the_operation_is_linked_too(writer, neo4j_driver):
    writer.write([helm_obs(record())])
    writer.write([revision_obs(7, "2026-11-20T09:59:52Z")])
    produced = one(neo4j_driver, "MATCH (:HelmOperation)-[:PRODUCED]->(rev:Revision) RETURN collect(rev.version) AS v")
    assert produced["v"] == [7]


def test_running_operation_links_revisions_after_its_start(writer, neo4j_driver):
    running = record(status="running", ended_at=None, duration_seconds=None, signal=None, signal_received=None,
                     signal_from_pid=None, signaled_at=None)
    writer.write([revision_obs(6, "2026-11-20T09:00:00Z", "deployed"), revision_obs(7, "2026-11-20T10:30:00Z"),
                  helm_obs(running, "RUNNING")])
    row = one(neo4j_driver, """MATCH (op:HelmOperation) OPTIONAL MATCH (op)-[:PRODUCED]->(rev)
                               RETURN op.status AS status, op.ended_at AS ended, collect(rev.version) AS v""")
    assert (row["status"], row["ended"], row["v"]) == ("running", None, [7])


def test_replays_are_idempotent_and_running_never_overwrites_exited(writer, neo4j_driver):
    exited = record()
    running = record(status="running", ended_at=None, signal=None, exit_code=None)
    batch = [revision_obs(7, "2026-11-20T09:59:52Z"), helm_obs(running, "RUNNING"), helm_obs(exited)]
    writer.write(batch)
    count = "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS nodes, count(r) AS rels"
    first = one(neo4j_driver, count)
    writer.write(batch)
    writer.write([helm_obs(running, "RUNNING")])  # a late RUNNING must not undo the end
    again = one(neo4j_driver, count)
    assert (again["nodes"], again["rels"]) == (first["nodes"], first["rels"])
    row = one(neo4j_driver, "MATCH (op:HelmOperation) RETURN op.status AS s, op.signal AS sig, op.ended_at AS e")
    assert (row["s"], row["sig"]) == ("killed", "SIGKILL") and row["e"] is not None


def test_template_error_keeps_helms_message_and_values_files(writer, neo4j_driver):
    message = ("Error: UPGRADE FAILED: template: api/templates/deployment.yaml:21:28: executing "
               "\"api/templates/deployment.yaml\" at <.Values.image.tag>: nil pointer evaluating interface {}.tag\n")
    rec = record(pid=222, status="failed", exit_code=1, signal=None, signal_received=None, signal_from_pid=None,
                 signaled_at=None, stderr=message, stderr_bytes=len(message), ended_at="2026-11-20T09:59:51.000Z")
    writer.write([helm_obs(rec)])
    row = one(neo4j_driver, """MATCH (op:HelmOperation {status: 'failed'})-[:TARGETS]->(:Release {key: 'prod/api'})
                               RETURN op.stderr AS stderr, op.values_files AS values, op.files_read AS read""")
    assert row["stderr"] == message and row["values"] == ["/ci/values-prod.yaml"]
    assert "/ci/values-prod.yaml" in row["read"]


def test_read_only_and_dry_run_commands_target_but_never_produce(writer, neo4j_driver):
    status = record(pid=300, argv=("helm", "status", "api", "-n", "prod"), status="succeeded", exit_code=0,
                    signal=None, ended_at="2026-11-20T10:00:01.000Z")
    dry = record(pid=301, argv=("helm", "upgrade", "api", "./c", "-n", "prod", "--dry-run"), status="succeeded",
                 exit_code=0, signal=None, ended_at="2026-11-20T10:00:01.000Z")
    writer.write([revision_obs(7, "2026-11-20T09:59:52Z"), helm_obs(status), helm_obs(dry)])
    rows_ = one(neo4j_driver, """MATCH (op:HelmOperation)-[t:TARGETS]->(:Release {key: 'prod/api'})
                                 OPTIONAL MATCH (op)-[p:PRODUCED]->()
                                 RETURN collect(DISTINCT op.command) AS commands, count(p) AS produced,
                                        collect(op.release_key) AS keys, collect(op.mutates_release) AS mutates""")
    assert sorted(rows_["commands"]) == ["status", "upgrade"]
    assert rows_["produced"] == 0 and rows_["keys"] == [] and rows_["mutates"] == [False, False]


def test_uninstall_targets_every_release_it_names(writer, neo4j_driver):
    rec = record(pid=400, argv=("helm", "uninstall", "api", "worker", "-n", "prod"), status="succeeded", exit_code=0,
                 signal=None)
    writer.write([helm_obs(rec)])
    keys = one(neo4j_driver, "MATCH (:HelmOperation)-[:TARGETS]->(r:Release) RETURN collect(r.key) AS k")["k"]
    assert sorted(keys) == ["prod/api", "prod/worker"]


def test_child_operation_links_to_a_parent_that_arrives_later(writer, neo4j_driver):
    parent = record(pid=500, argv=("kubectl", "plugin-runner"), status="succeeded", exit_code=0, signal=None)
    child = record(pid=501, parent_operation_id=parent["operation_id"], status="failed", exit_code=1, signal=None)
    writer.write([helm_obs(child)])
    placeholder = one(neo4j_driver, "MATCH (p:KubectlOperation) RETURN p.placeholder AS ph, p.command AS c")
    assert (placeholder["ph"], placeholder["c"]) == (True, None)
    writer.write([helm_obs(parent)])
    row = one(neo4j_driver, """MATCH (c:HelmOperation)-[:CHILD_OF]->(p:KubectlOperation)
                               RETURN c.pid AS child, p.pid AS parent, p.placeholder AS ph, p.command AS cmd""")
    assert (row["child"], row["parent"], row["ph"], row["cmd"]) == (501, 500, None, "plugin-runner")


def test_kubectl_operation_naming_a_release_by_selector(writer, neo4j_driver):
    rec = record(pid=600, argv=("kubectl", "delete", "pods", "-l", "app.kubernetes.io/instance=api", "-n", "prod"),
                 status="succeeded", exit_code=0, signal=None)
    writer.write([helm_obs(rec)])
    row = one(neo4j_driver, """MATCH (op:KubectlOperation)-[:TARGETS]->(r:Release)
                               RETURN r.key AS key, op.mutates_release AS m, op.release_key AS rk""")
    assert (row["key"], row["m"], row["rk"]) == ("prod/api", True, None)


@pytest.mark.parametrize("mutate, reason", [
    (lambda o: Observation("helm_process", "STARTED", o.payload, o.observed_at, "x"), "EXITED or RUNNING"),
    (lambda o: Observation("helm_process", "EXITED", {**o.payload, "operation_id": ""}, o.observed_at, "x"),
     "no operation_id"),
    (lambda o: Observation("helm_process", "EXITED", {**o.payload, "started_at": None}, o.observed_at, "x"),
     "no started_at"),
])
def test_bad_records_are_rejected_with_a_reason(mutate, reason):
    with pytest.raises(Exception) as caught:
        list(rows(mutate(helm_obs(copy.deepcopy(record())))))
    assert reason in str(caught.value)

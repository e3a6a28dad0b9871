"""The saved queries of cypher/browser/ run as-is (their :param defaults) and answer their question."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests import factories as f
from tests.test_graph import failed_hook_upgrade

pytestmark = pytest.mark.neo4j
BROWSER = Path(__file__).resolve().parents[1] / "cypher" / "browser"
PARAM = re.compile(r"^:param\s+(\w+)\s*=>\s*(.+?);?\s*$")


def browser_query(name: str) -> tuple[str, dict]:
    params, lines = {}, []
    for line in (BROWSER / f"{name}.cypher").read_text().splitlines():
        match = PARAM.match(line.strip())
        if match:
            params[match.group(1)] = yaml.safe_load(match.group(2))
        elif not line.strip().startswith("//"):
            lines.append(line)
    return "\n".join(lines), params


def run(driver, name: str, **overrides) -> list[dict]:
    query, params = browser_query(name)
    return [r.data() for r in driver.execute_query(query, {**params, **overrides}).records]


@pytest.fixture
def graph(neo4j_driver):
    apply_schema(neo4j_driver)
    crash_pod = f.pod("api-7d4b9c-x1", restarts=4, waiting="CrashLoopBackOff", ready=False,
                      last_terminated={"exitCode": 1, "reason": "Error", "startedAt": "2026-11-20T10:02:00Z",
                                       "finishedAt": "2026-11-20T10:02:30Z"})
    stuck = f.release_json("web", "prod", 3, "pending-upgrade", last_deployed="2026-11-20T09:00:00Z")
    extra = [Observation("k8s", "MODIFIED", o, "2026-11-20T10:05:00Z", "test")
             for o in (crash_pod, f.release_secret(stuck))]
    Neo4jWriter(neo4j_driver).write(failed_hook_upgrade() + extra)
    return neo4j_driver


def test_every_browser_file_is_tested():
    tested = {"what_broke_release", "release_timeline", "before_pod_crashed", "stuck_releases",
              "argocd_synced_today", "missing_declared_objects",
              "gitops_failing"}  # on the GitOps scenarios' graphs: tests/test_gitops_context.py
    assert {p.stem for p in BROWSER.glob("*.cypher")} == tested
    assert (BROWSER / "style.grass").read_text().count("node.") >= 10


def test_what_broke_release_walks_to_the_hook_pod(graph):
    rows = run(graph, "what_broke_release")
    assert rows and rows[0]["rev"]["status"] == "failed"
    assert any(row["hooks"] is not None for row in rows)


def test_release_timeline_is_ordered_and_has_the_hook(graph):
    rows = run(graph, "release_timeline")
    whats = [r["what"] for r in rows]
    assert any(w.startswith("hook api-migrate") for w in whats)
    assert any("ImagePullBackOff" in w for w in whats)
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)


def test_before_pod_crashed_lists_the_crash(graph):
    rows = run(graph, "before_pod_crashed")
    assert any(r["what"] == "first crash" for r in rows)


def test_stuck_releases_finds_the_pending_one(graph):
    rows = run(graph, "stuck_releases")
    assert [(r["release"], r["revision"], r["status"]) for r in rows] == [("prod/web", 3, "pending-upgrade")]


def test_missing_declared_objects(graph):
    rows = run(graph, "missing_declared_objects")
    assert ("prod/api", "Service/prod/api") in {(r["release"], r["missing"]) for r in rows}


def test_argocd_query_runs_on_a_graph_without_argo(graph):
    assert run(graph, "argocd_synced_today") == []

"""One bad record costs only itself (#19 item 1): a file where every second line is broken in another way loads
every good line into the graph, names every bad one with its line and field, and nothing crashes.

The broken lines are the classes issue #19 found crashing ``kgrca ingest`` (and ``kgrca watch``, same code):
wrong-typed fields in objects, corrupt Helm releases, and values Neo4j cannot store (the writer bisects a refused
batch down to the refused rows).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from faces.commands import ingest
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import Observation
from tests import factories as f

T0 = "2026-11-20T10:00:00Z"


def good(index: int) -> dict[str, Any]:
    """A good object of a kind that changes with the index, so every mapper runs between the bad lines."""
    name = f"good-{index}"
    kind = index % 5
    if kind == 0:
        return f.pod(name, labels={"app": name})
    if kind == 1:
        return f.deployment(name, release=name)
    if kind == 2:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": f.meta(name), "data": {"k": "v"}}
    if kind == 3:
        return f.release_secret(f.release_json(name, "prod", 1, "deployed",
                                               manifest=f.manifest(("v1", "ConfigMap", name))))
    return f.event(f.pod(f"{name}-about"), "BackOff", "Back-off restarting failed container")


def _with(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    *parents, last = path.split(".")
    target = obj
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return obj


def _release(**changes: Any) -> dict[str, Any]:
    release = f.release_json("bad-rel", "prod", 2, "failed", manifest=f.manifest(("v1", "ConfigMap", "x")),
                             hooks=[f.hook("bad-rel-migrate", ["pre-upgrade"])])
    secret = f.release_secret(release)  # the Secret as Helm labels it; its data holds the broken release
    for path, value in changes.items():
        release = _with(release, path.replace("__", "."), value)
    secret["data"]["release"] = base64.b64encode(f.helm_encode(release).encode()).decode()
    return secret


POD = f.pod("bad", labels={"app": "bad"})
EVENT = f.event(POD, "BackOff", "Back-off")

# (what is broken, the object, what the rejection must name)
BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("status a string", _with(POD, "status", "Running"), "field status: expected an object, got the string"),
    ("spec a string", _with(f.deployment("bad"), "spec", "replicas: 3"), "field spec: expected an object"),
    ("labels a list", _with(POD, "metadata.labels", ["app=bad"]), "field metadata.labels: expected an object, "
                                                                   "got a list"),
    ("annotations a string", _with(POD, "metadata.annotations", "a=b"), "field metadata.annotations: expected an "
                                                                         "object"),
    ("ownerReferences of strings", _with(POD, "metadata.ownerReferences", ["x"]),
     "field metadata.ownerReferences[0]: expected an object"),
    ("restartCount a string", _with(POD, "status.containerStatuses", [{"name": "app", "restartCount": "x"}]),
     "field status.containerStatuses[0].restartCount: expected an integer, got the string 'x'"),
    ("Event count a word", _with(EVENT, "count", "many"), "field count: expected an integer, got the string 'many'"),
    ("a map as a name", _with(POD, "metadata.name", {"first": "a"}), "field metadata.name: expected a string, got "
                                                                      "an object"),
    ("a mixed-type list", _with(POD, "spec.containers.0.args", ["--port", 8080]),
     "field spec.containers[0].args[1]: expected a string, got the number 8080"),
    ("UTC offset out of range", _with(POD, "metadata.creationTimestamp", "2026-11-20T10:00:00+20:00"),
     "field metadata.creationTimestamp: expected an RFC 3339 time"),
    ("generation beyond 64 bits", _with(POD, "metadata.generation", 2**64), "field metadata.generation: expected a "
                                                                             "64-bit integer"),
    ("release info a string", _release(info="deployed"), "release field info: expected an object"),
    ("release chart a list", _release(chart=["app"]), "release field chart: expected an object"),
    ("hook last_run a string", _release(hooks__0__last_run="Succeeded"), "release field hooks[0].last_run: "
                                                                         "expected an object"),
    ("hook weight a string", _release(hooks__0__weight="-5"), "release field hooks[0].weight: expected an integer"),
    ("release version a string", _release(version="two"), "release field version: expected an integer"),
    ("manifest a list", _release(manifest=["kind: ConfigMap"]), "release field manifest: expected a string"),
    ("Helm ConfigMap with string data", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": f.meta(
        "bad.v1", labels={"owner": "helm", "name": "bad", "version": "1"}), "data": "release"},
     "field data: expected an object, got the string 'release'"),
    # valid to pydantic, refused by Neo4j's driver: the writer bisects the batch down to this row
    ("a string that is no UTF-8", _with(POD, "metadata.labels", {"app": "\ud800"}), "Neo4j refused its object"),
]


# Odd but not wrong: kept, not rejected. resourceVersion is an opaque string (only ASCII digits are read as a number);
# a manifest document that is no Kubernetes object is skipped like one that does not parse, and the revision stays.
ODD_MANIFEST = (f.manifest(("v1", "ConfigMap", "declared"))
                + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: not-a-map\n---\nkind: [1]\nmetadata: {name: y}\n")
ODD = [
    _with({"apiVersion": "v1", "kind": "ConfigMap", "metadata": f.meta("odd-rv")}, "metadata.resourceVersion", "²³"),
    f.release_secret(f.release_json("odd-manifest", "prod", 1, "deployed", manifest=ODD_MANIFEST)),
]


def write_lines(path: Path) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Good and broken lines alternating; returns the good objects and, by line number, what each bad one says."""
    goods, expected, lines = list(ODD), {}, [json.dumps(obj) for obj in ODD]
    for index, (_, broken, says) in enumerate(BROKEN):
        obj = good(index)
        goods.append(obj)
        lines.append(json.dumps({"type": "ADDED", "object": obj}))
        lines.append(json.dumps({"type": "MODIFIED", "object": broken}))
        expected[len(lines)] = says
    path.write_text("\n".join(lines) + "\n")
    return goods, expected


def in_graph(driver, obj: dict[str, Any]) -> bool:
    uid = obj["metadata"]["uid"]
    found = driver.execute_query("MATCH (o {uid: $uid}) RETURN count(o) AS n", uid=uid).records[0]["n"]
    if obj.get("type") == "helm.sh/release.v1":  # a release Secret: its revision too
        found *= driver.execute_query("MATCH (r:Revision {storage_uid: $uid}) RETURN count(r) AS n",
                                      uid=uid).records[0]["n"]
    return found == 1


@pytest.mark.neo4j
def test_every_second_line_broken_in_another_way_costs_only_that_line(tmp_path, neo4j_driver, neo4j_config, capsys):
    path = tmp_path / "cluster.jsonl"
    goods, expected = write_lines(path)

    parser = argparse.ArgumentParser()
    ingest.register(parser.add_subparsers(dest="command"), "ingest")  # the options a user's command line gets
    code = ingest.run(parser.parse_args(["ingest", "--quiet", str(path)]), neo4j_config)

    err = capsys.readouterr().err
    skipped = [line.removeprefix("kgrca: skipped ") for line in err.splitlines() if line.startswith("kgrca: skipped")]
    assert code == 1  # something was skipped, and said so
    lost = [obj["metadata"]["name"] for obj in goods if not in_graph(neo4j_driver, obj)]
    assert lost == []
    for line, says in expected.items():
        named = [problem for problem in skipped if problem.startswith(f"{path}:{line}: ")]
        assert named, f"line {line} ({says}) is not named; skipped: {skipped}"
        assert any(says in problem for problem in named), (line, named)
    good_lines = set(range(1, len(lines(path)) + 1)) - set(expected)
    assert not [problem for problem in skipped if any(problem.startswith(f"{path}:{n}: ") for n in good_lines)]
    assert "Traceback" not in err
    declared = neo4j_driver.execute_query("MATCH (:Revision {key: 'prod/odd-manifest/1'})-[:DECLARES]->(r) "
                                          "RETURN collect(r.ref) AS refs").records[0]["refs"]
    assert declared == ["ConfigMap/prod/declared"]


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.mark.neo4j
def test_a_refused_row_in_a_big_batch_costs_only_its_own_object(neo4j_driver):
    """Thousands of rows in batches over two sessions: the batches holding a refused row are bisected, every other
    object lands, and the refused ones are named by their origin."""
    apply_schema(neo4j_driver)
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": f.meta(f"cm-{i}", labels={"i": str(i)})}
               for i in range(2500)]
    bad = {7, 1200, 2499}
    for i in bad:
        objects[i]["metadata"]["labels"] = {"i": "\udc80"}  # what json.loads makes of "\udc80"
    observations = [Observation("k8s", "ADDED", obj, T0, f"dump.jsonl:{i + 1}") for i, obj in enumerate(objects)]

    stats = Neo4jWriter(neo4j_driver, batch_size=200, sessions=2).write(observations)

    assert sorted(origin for origin, _ in stats.rejected) == sorted(f"dump.jsonl:{i + 1}" for i in bad)
    assert all("Neo4j refused its object" in reason for _, reason in stats.rejected)
    landed = neo4j_driver.execute_query("MATCH (o:ConfigMap) RETURN count(o) AS n").records[0]["n"]
    assert landed == len(objects) - len(bad)

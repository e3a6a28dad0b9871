"""`kgrca ingest` reading files a careless hand made: the format is told from the content, and one bad line
costs that line (named), never the good ones around it."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.files import FileSource


def config_map(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "prod", "uid": name}}


def event_line(name: str) -> str:
    return json.dumps({"type": "ADDED", "object": config_map(name), "observed_at": "2026-11-20T10:00:00Z"})


def read(path: Path) -> tuple[list[str], list[str]]:
    source = FileSource([path])
    names = [o.payload["metadata"]["name"] for o in source.observations()]
    return names, [str(problem) for problem in source.problems]


def test_json_lines_named_json_with_a_broken_first_line_keep_every_good_line(tmp_path):
    path = tmp_path / "dump.json"
    path.write_text('{"type": "ADDED", "object": {"kind": \n' + "\n".join(event_line(f"cm-{i}") for i in range(4))
                    + "\n")
    names, problems = read(path)
    assert names == ["cm-0", "cm-1", "cm-2", "cm-3"]
    assert len(problems) == 1 and problems[0].startswith(f"{path}:1: not valid JSON (")


def test_every_second_line_broken_in_another_way_loses_only_those_lines(tmp_path):
    path = tmp_path / "events.json"
    broken = [b"{not json}", b"\xff\xfe garbage", b'{"type": "ADDED", "object": ', b'{"a": "tab\x01here"}']
    lines = []
    for index, bad in enumerate(broken):
        lines += [event_line(f"good-{index}").encode(), bad]
    path.write_bytes(b"\n".join(lines) + b"\n")
    names, problems = read(path)
    assert names == [f"good-{i}" for i in range(4)]
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:{n}" for n in (2, 4, 6, 8)]
    assert "not UTF-8 text (byte 0xff at column 1)" in problems[1]
    assert all(" at at " not in problem for problem in problems), problems  # json's "...character at" message


def test_a_pretty_printed_document_is_read_as_one_document(tmp_path):
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                "items": [config_map("a"), config_map("b")]}, indent=2))
    assert read(path) == (["a", "b"], [])


def test_invalid_utf8_in_a_document_names_its_line_and_column(tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n")
    names, problems = read(path)
    assert names == [] and problems == [f"{path}:4: not UTF-8 text (byte 0xe9 at column 12)"]

"""A large JSON document is read item by item (ingest/json_stream.py) with the same observations as json.loads."""

from __future__ import annotations

import io
import json

import pytest

from ingest import files, json_stream
from ingest.files import FileSource
from tests import factories as f


def kubectl_list(n: int) -> dict:
    """As `kubectl get -o json` writes it: apiVersion, items, then kind and metadata."""
    items = []
    for i in range(n):
        items.append(f.pod(f"api-{i}", "prod", labels={"app": "api", "n": str(i)}))
        items.append(f.event(items[-1], "BackOff", f'Back-off restarting failed container "main" {i} \u00e9'))
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


@pytest.mark.parametrize("read_chars", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize("indent", [None, 4])
def test_every_item_is_what_json_loads_reads_whatever_the_buffer_size(read_chars, indent):
    document = kubectl_list(30) | {"count": 12345678901234567890, "ratio": -1.5e-3, "ok": True, "none": None}
    text = json.dumps(document, indent=indent)
    got = list(json_stream.values(io.StringIO(text), read_chars))
    assert [v for where, _, v in got if where == "items"] == document["items"]
    assert got[-1] == ("rest", 0, {**document, "items": []})


def test_a_top_level_array_is_read_element_by_element():
    text = json.dumps([{"a": [1, 2, {"b": "]"}]}, "x", 3.25, [], {}])
    assert [(w, i, v) for w, i, v in json_stream.values(io.StringIO(text), 3)] == [
        ("array", 0, {"a": [1, 2, {"b": "]"}]}), ("array", 1, "x"), ("array", 2, 3.25), ("array", 3, []),
        ("array", 4, {})]


@pytest.mark.parametrize(("text", "line", "reason", "read"), [
    ('{\n "items": [\n  {"kind": "Pod"},\n  {"kind": "Pod",}\n ]\n}', 4, "Expecting property name enclosed", 1),
    ('{\n "items": [\n  {"kind": "Pod"}\n  {"kind": "Pod"}\n ]\n}', 4, "expected ',' or ']'", 1),
    ('{"items": [{"kind": "Pod"}]}\n{"x": 1}', 2, "extra data", 2),
    ('{"items": [{"kind": "Pod"}, {"kind": "Pod"', 1, "Expecting", 1),
    ('{"items": [1, 2] "kind": "List"}', 1, "expected ','", 2),
])
def test_broken_json_is_named_by_its_line_after_what_came_before_was_read(text, line, reason, read):
    seen = []
    with pytest.raises(json_stream.StreamError) as caught:
        for value in json_stream.values(io.StringIO(text), 5):
            seen.append(value)
    assert caught.value.line == line and caught.value.reason.startswith(reason)
    assert len(seen) == read and seen[0] == (("items", 0, {"kind": "Pod"}) if "Pod" in text else ("items", 0, 1))


def test_a_dump_over_the_streaming_size_gives_the_observations_of_a_small_one(tmp_path, monkeypatch):
    """The same List as a small file (json.loads) and as a large one (streamed) reads the same; a typed list's
    kind reaches the items that lack one, wherever kubectl puts it."""
    document = kubectl_list(400)
    typed = {"kind": "PodList", "apiVersion": "v1", "metadata": {},
             "items": [{k: v for k, v in p.items() if k != "kind"} for p in document["items"][::2]]}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document, indent=2)[:-200])
    for name, data in {"list.json": document, "typed.json": typed}.items():
        (tmp_path / name).write_text(json.dumps(data, indent=2))

    def read(path):
        source = FileSource([path])
        return [(o.action, o.payload, o.origin) for o in source.observations()], [str(p) for p in source.problems]

    small = {name: read(tmp_path / name) for name in ("list.json", "typed.json")}
    small_broken = read(broken)
    monkeypatch.setattr(files, "STREAM_BYTES", 1000)  # every file above is larger: all streamed
    for name, expected in small.items():
        assert read(tmp_path / name) == expected
        assert len(expected[0]) == len((document if name == "list.json" else typed)["items"])
    assert all(payload["kind"] == "Pod" for _, payload, _ in small["typed.json"][0])
    streamed, problems = read(broken)
    # a broken document: json.loads reads nothing of it; streaming keeps the items before the break, and both
    # name the line
    assert small_broken[0] == [] and len(streamed) > 700
    assert [p.split(": ")[0].rsplit(":", 1)[1] for p in problems + small_broken[1]] == \
        [str(json.dumps(document, indent=2)[:-200].count("\n") + 1)] * 2

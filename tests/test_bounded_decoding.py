"""No input can exhaust memory: a gzip bomb in a release Secret, a YAML alias bomb, JSON nested 100,000 deep.

Each bomb is read the way the builder reads it (the release decoder and mappers, `kgrca ingest`'s file reader),
in a child process whose peak RSS is measured: it must be one clear rejection, and stay far below the
builder's 500 MB budget.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from kg_builder import helm_release
from kgrca import yamlio

ROOT = Path(__file__).resolve().parents[1]
BUDGET_KB = 500 * 1024


def gzip_of_zeros(size: int) -> bytes:
    stream = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 24)
    return b"".join(stream.compress(chunk) for _ in range(size // len(chunk))) + stream.flush()


def run_child(code: str) -> dict:
    """Run ``code`` (which prints one JSON line) in a fresh interpreter; adds its peak RSS in KiB."""
    script = textwrap.dedent(code) + textwrap.dedent("""
        import resource, json as _json
        print(_json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {key: value for line in lines for key, value in line.items()}


def test_a_gzip_bomb_in_a_release_secret_is_one_rejection_within_budget(tmp_path):
    bomb = gzip_of_zeros(256 * 1024 * 1024)  # 256 MiB of zeros in about 250 KB: over the 64 MiB cap
    helm_encoded = base64.b64encode(bomb)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
              "metadata": {"name": "sh.helm.release.v1.api.v7", "namespace": "prod", "uid": "bomb",
                           "labels": {"owner": "helm", "name": "api", "version": "7"}},
              "data": {"release": base64.b64encode(helm_encoded).decode()}}
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(secret))
    result = run_child(f"""
        import json
        from kgrca.contracts import Observation, PermanentError
        from kg_builder import k8s_objects
        secret = json.load(open({str(path)!r}))
        try:
            list(k8s_objects.rows(Observation("k8s", "ADDED", secret, "2026-11-20T10:00:00Z")))
            print(json.dumps({{"error": None}}))
        except PermanentError as exc:
            print(json.dumps({{"error": str(exc)}}))
    """)
    assert "decompresses to more than 64 MiB" in result["error"]
    assert "Secret prod/sh.helm.release.v1.api.v7" in result["error"]
    assert result["peak_kb"] < BUDGET_KB, result
    print(f"gzip bomb: peak RSS {result['peak_kb'] // 1024} MiB")


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{child}: &{child} [{','.join([f'*{parent}'] * 9)}]\n"
        for parent, child in zip("abcdefgh", "bcdefghi", strict=True))
    assert len(bomb) < 2048  # 9^9 nodes in two kilobytes
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    result = run_child(f"""
        import json
        from ingest.files import FileSource
        source = FileSource([{str(path)!r}])
        print(json.dumps({{"read": len(list(source.observations())),
                           "problems": [str(p) for p in source.problems]}}))
    """)
    assert result["read"] == 0 and len(result["problems"]) == 1
    assert "aliases expand to more than" in result["problems"][0] and str(path) in result["problems"][0]
    assert result["peak_kb"] < BUDGET_KB, result
    print(f"alias bomb: peak RSS {result['peak_kb'] // 1024} MiB")
    with pytest.raises(yamlio.AliasBomb):
        yamlio.safe_load(bomb)


def test_ordinary_anchors_still_load():
    assert yamlio.safe_load("base: &b {cpu: 1}\nweb: *b\nurl: 'https://x?a=1&b=*'\n") == {
        "base": {"cpu": 1}, "web": {"cpu": 1}, "url": "https://x?a=1&b=*"}


def test_json_nested_100000_deep_is_one_rejection(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    lines = tmp_path / "deep.jsonl"
    lines.write_text(json.dumps({"type": "ADDED", "object": {"kind": "ConfigMap", "metadata": {
        "name": "ok", "namespace": "prod", "uid": "ok"}}}) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    from ingest.files import FileSource

    source = FileSource([path, lines])
    names = [o.payload["metadata"]["name"] for o in source.observations()]
    assert names == ["ok"]
    assert [str(p) for p in source.problems] == [
        f"{path}: JSON nested deeper than it can be read (no Kubernetes object is); refused",
        f"{lines}:2: JSON nested deeper than it can be read (no Kubernetes object is); refused"]


def test_a_release_nested_too_deep_or_too_big_says_why():
    deep = base64.b64encode(("[" * 100_000 + "]" * 100_000).encode())
    with pytest.raises(ValueError, match="nested deeper"):
        helm_release.decode_release(deep)
    chain: dict = {}
    node = chain
    for _ in range(200):
        node["k"] = {}
        node = node["k"]
    node["leaf"] = 1
    keys = helm_release.value_keys(chain)
    assert keys == [".".join(["k"] * helm_release.MAX_VALUES_DEPTH)]

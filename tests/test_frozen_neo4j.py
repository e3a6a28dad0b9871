"""A frozen Neo4j never stalls `kgrca serve`: /readyz, the REST reads and a signed webhook are answered
503 within seconds, /healthz answers while every Neo4j call is stuck, and a delivery spooled meanwhile is
written once Neo4j answers again (also by the next server, after a restart).

The one thing faked is the freeze. A Neo4j that accepts TCP and never answers (a paused JVM, a host under
a swap storm) cannot be produced on demand from a test: SIGSTOP would need a Neo4j process of the test's
own, and the server a test gets may be shared or remote. So the real server (`kgrca serve` under gunicorn)
talks to the real Neo4j through ``FreezableRelay``, a 127.0.0.1 TCP relay that, frozen, still accepts
connections and takes bytes, as the kernel does for a stopped process, but passes nothing on in either
direction until it thaws, when what it held flows on as a resumed process would read it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from faces.api.app import close_app, create_app
from faces.api.process import free_port, serving
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.config import load_config
from kgrca.contracts import ConfigError
from tests import factories as f
from tests.test_api import obs
from tests.test_webhooks import GITHUB_SECRET, SHA, count, payload
from webhooks import auth

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[1]
PROMISED = 5.0  # seconds: the bound for a webhook; /readyz and reads are held to it as well


class FreezableRelay:
    """A 127.0.0.1 TCP relay to ``target`` that ``freeze()`` stops answering and ``thaw()`` resumes."""

    def __init__(self, host: str, port: int):
        self._target = (host, port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thawed = threading.Event()
        self._thawed.set()
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._thawed.clear()

    def thaw(self) -> None:
        self._thawed.set()

    def close(self) -> None:
        self._closed = True
        self._thawed.set()
        for sock in [self._server, *self._sockets]:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
                upstream = socket.create_connection(self._target)
            except OSError:
                return
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._thawed.wait()  # frozen: taken, held, not passed on
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def driver(neo4j_driver):
    apply_schema(neo4j_driver)
    Neo4jWriter(neo4j_driver).write([obs(f.release_secret(f.release_json("api", "prod", 1, "deployed")))])
    return neo4j_driver


@pytest.fixture
def relay(neo4j_config):
    target = urlparse(neo4j_config.neo4j_uri)
    relay = FreezableRelay(target.hostname, target.port or 7687)
    yield relay
    relay.close()


@pytest.fixture
def cfg(neo4j_config, relay):
    return neo4j_config.replace(neo4j_uri=f"bolt://127.0.0.1:{relay.port}", github_webhook_secret=GITHUB_SECRET)


def call(base: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 60) -> tuple[int, dict[str, Any] | str, float, dict[str, str]]:
    """(status, JSON or text, seconds taken, headers)."""
    request = urllib.request.Request(base + path, data=body, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, got = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), dict(exc.headers)
    seconds = time.monotonic() - started
    try:
        return status, json.loads(raw), seconds, got
    except ValueError:
        return status, raw.decode(), seconds, got


def push(base: str, delivery: str) -> tuple[int, Any, float, dict[str, str]]:
    body = payload("github_push.json")
    return call(base, "/webhooks/github", body, {"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery,
                                                 "X-Hub-Signature-256": auth.hmac_sha256(GITHUB_SECRET, body)})


def spool_depth(base: str) -> float:
    status, text, _, _ = call(base, "/metrics")
    assert status == 200
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith("kgrca_webhook_spool_depth "))


def wait_for(check, seconds: float) -> float:
    """Seconds until ``check()`` is true; fails after ``seconds``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds}s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_a_frozen_neo4j_is_answered_503_within_seconds_and_healthz_keeps_answering(cfg, driver, relay, tmp_path):
    figures: dict[str, float] = {}
    with serving(cfg, workers=1, threads=4, log_path=tmp_path / "serve.log") as base:
        # warm: the worker holds pooled connections, as a server that has been answering does
        assert call(base, "/readyz")[0] == 200
        assert call(base, "/api/v1/releases/prod/api")[0] == 200
        assert push(base, "before-freeze")[0] == 202

        relay.freeze()
        status, answer, figures["readyz"], _ = call(base, "/readyz")
        assert status == 503 and answer["error"].startswith("Neo4j is"), answer
        status, answer, figures["rest_read"], _ = call(base, "/api/v1/releases/prod/api")
        assert status == 503 and answer["error"].startswith("Neo4j is"), answer
        status, answer, figures["signed_push"], headers = push(base, "during-freeze")
        assert status == 503 and answer["error"].startswith("Neo4j is"), answer
        assert headers["Retry-After"].isdigit()
        assert max(figures.values()) < PROMISED, figures

        # every thread that may wait on Neo4j is waiting: /healthz and /metrics still answer at once
        answers: list[tuple[int, float]] = []
        stuck = [threading.Thread(target=lambda: answers.append(call(base, "/api/v1/releases")[::2]))
                 for _ in range(6)]
        for thread in stuck:
            thread.start()
        time.sleep(0.5)
        status, _, figures["healthz_while_stuck"], _ = call(base, "/healthz", timeout=5)
        assert status == 200
        assert call(base, "/metrics", timeout=5)[0] == 200
        for thread in stuck:
            thread.join()
        assert [status for status, _ in answers] == [503] * 6
        figures["slowest_of_6_concurrent_reads"] = max(seconds for _, seconds in answers)
        assert figures["healthz_while_stuck"] < 1.0 and figures["slowest_of_6_concurrent_reads"] < PROMISED

        relay.thaw()
        figures["ready_again"] = wait_for(lambda: call(base, "/readyz")[0] == 200, 15)
        assert call(base, "/api/v1/releases/prod/api")[0] == 200
        # the sender redelivers what was answered 503 (GitHub: "Redeliver"); whether or not a write that was
        # already on its way landed after the thaw, the delivery is stored once
        assert push(base, "during-freeze")[0] == 202
    print("frozen Neo4j, seconds:", json.dumps({k: round(v, 2) for k, v in figures.items()}))
    assert count(driver, "MATCH (d:Delivery {id: 'github:during-freeze'}) RETURN count(d)") == 1


def test_a_delivery_spooled_while_neo4j_is_frozen_is_written_when_it_answers(cfg, driver, relay, tmp_path):
    spool = tmp_path / "spool"
    spooled = cfg.replace(webhook_spool_dir=str(spool))
    commits = "MATCH (c:Commit {sha: $sha}) RETURN count(c)"
    figures: dict[str, float] = {}
    with serving(spooled, workers=2, threads=4, log_path=tmp_path / "serve-1.log") as base:
        assert call(base, "/readyz")[0] == 200
        relay.freeze()
        status, answer, figures["spooled_push"], _ = push(base, "spooled-1")
        assert status == 202 and answer["status"] == "spooled", answer
        assert "Neo4j is unavailable" in answer["reason"]
        assert spool_depth(base) == 1 and count(driver, commits, sha=SHA) == 0
        relay.thaw()
        # the write that timed out may land by itself after the thaw; the spool's is the one that must
        figures["landed_after_thaw"] = wait_for(lambda: spool_depth(base) == 0, 30)
        assert count(driver, "MATCH (d:Delivery {id: 'github:spooled-1'}) RETURN count(d)") == 1
        assert count(driver, commits, sha=SHA) == 1

        # spooled again, and the server stops before Neo4j is back: the next server writes it
        relay.freeze()
        status, answer, _, _ = push(base, "spooled-2")
        assert status == 202 and answer["status"] == "spooled", answer
    assert [path.suffix for path in spool.iterdir() if path.is_file() and not path.name.startswith(".")] == [".json"]
    relay.thaw()
    with serving(spooled, workers=1, log_path=tmp_path / "serve-2.log") as base:
        figures["landed_after_restart"] = wait_for(lambda: spool_depth(base) == 0, 30)
    assert count(driver, "MATCH (d:Delivery {id: 'github:spooled-2'}) RETURN count(d)") == 1
    print("spool, seconds:", json.dumps({k: round(v, 2) for k, v in figures.items()}))
    assert figures["spooled_push"] < PROMISED


def test_serve_stops_with_one_line_in_seconds_when_neo4j_is_frozen_at_start(cfg, relay):
    relay.freeze()
    env = {**os.environ, **cfg.environ()}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "faces.cli", "serve", "--port", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - started
    assert done.returncode == 1 and done.stderr.startswith(f"kgrca: Neo4j is not answering at {cfg.neo4j_uri}")
    assert len(done.stderr.strip().splitlines()) == 1
    assert seconds < 15, seconds  # 3 s of acquisition timeout, the rest is Python starting on a busy machine


def test_time_limits_have_a_floor_and_a_ceiling(neo4j_config):
    app = create_app(neo4j_config.replace(webhook_store_timeout="8s", serve_neo4j_acquire_timeout="500ms"))
    close_app(app)
    for name, value, says in [("webhook_store_timeout", "30s", "expected between 0.5s and 8s"),
                              ("serve_neo4j_acquire_timeout", "0", "expected between 0.5s and 30s"),
                              ("serve_neo4j_transaction_timeout", "1h", "expected between 1s and 300s")]:
        with pytest.raises(ConfigError, match=f"{name}=.*{says}"):
            create_app(neo4j_config.replace(**{name: value}))
    # `kgrca serve` refuses it with one line before it binds
    env = {**os.environ, **neo4j_config.environ(), "KGRCA_WEBHOOK_STORE_TIMEOUT": "30s"}
    done = subprocess.run([sys.executable, "-m", "faces.cli", "serve", "--port", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "KGRCA_WEBHOOK_STORE_TIMEOUT: webhook_store_timeout=30s: expected between 0.5s and 8s" in done.stderr
    assert load_config(environ={}).serve_neo4j_acquire_timeout == 3

"""The local Neo4j Community server: jars from Maven Central, data under ``cfg.data_path/neo4j``.

Neo4j's own launcher (``bin/neo4j``) is not on Maven Central, so kgrca does its job: it writes
``neo4j.conf``, sets the initial password with the admin tool, and starts
``org.neo4j.server.CommunityEntryPoint`` with the JVM flags of the official distribution.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import neo4j
from neo4j import exceptions as neo4j_errors

from kgrca.config import Config
from kgrca.contracts import KgrcaError
from localdev.servers import fetch, tools
from localdev.servers.base import LocalServer, NotReady

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"  # what bin/neo4j-admin runs in the end

# The JVM flags of the official 5.26 neo4j.conf (server.jvm.additional). Left out on purpose:
# -XX:+AlwaysPreTouch, which would make the JVM take its whole heap from the first second on a
# machine that runs Kafka, the tests and more beside it.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)


class Neo4jServer(LocalServer):
    name = "neo4j"
    title = "Neo4j"
    # Neo4j takes 15 s to stop here; the stop that writes the class archive (once) took 90 s on a
    # loaded two-core machine
    stop_grace = 180.0

    def version(self) -> str:
        return fetch.pom_property("neo4j", "neo4j.version")

    def log_file(self, cfg: Config) -> Path:
        return self.home(cfg) / "logs" / "console.log"

    def ports(self, cfg: Config) -> dict[str, tuple[int, str]]:
        return {"bolt": (cfg.neo4j_bolt_port, "neo4j_bolt_port"),
                "http": (cfg.neo4j_http_port, "neo4j_http_port")}

    def endpoints(self, cfg: Config) -> dict[str, str]:
        return {"bolt": bolt_uri(cfg), "browser": f"http://127.0.0.1:{cfg.neo4j_http_port}/browser/"}

    def is_installed(self, cfg: Config) -> bool:
        return fetch.is_installed(cfg, "neo4j", self.version())

    def install(self, cfg: Config) -> Path:
        return fetch.ensure_jars(
            cfg, "neo4j", self.version(), {"kgrca.lib": "lib", "kgrca.plugins": "plugins"},
            ["lib/neo4j-server-*.jar", "lib/neo4j-browser-*.jar", "plugins/apoc-core-*.jar",
             "plugins/apoc-common-*.jar"])

    def prepare(self, cfg: Config, install: Path) -> None:
        home = self.home(cfg)
        for sub in ("conf", "data", "logs", "run", "import"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        (home / "conf" / "neo4j.conf").write_text(render_conf(cfg, home, install))
        if not (home / "data" / "databases" / "system").exists():
            self._set_initial_password(cfg, home, install)

    def command(self, cfg: Config, install: Path) -> list[str]:
        home = self.home(cfg)
        classpath = os.pathsep.join([f"{install / 'plugins'}/*", f"{home / 'conf'}/*", f"{install / 'lib'}/*"])
        return [tools.java(), f"-Xms{cfg.neo4j_heap}", f"-Xmx{cfg.neo4j_heap}", *JVM_FLAGS,
                "-cp", classpath, MAIN_CLASS, f"--home-dir={install}", f"--config-dir={home / 'conf'}",
                "--console-mode"]

    def probe(self, cfg: Config, timeout: float) -> None:
        driver = neo4j.GraphDatabase.driver(bolt_uri(cfg), auth=(cfg.neo4j_user, cfg.neo4j_password),
                                            connection_timeout=timeout)
        try:
            with driver.session() as session:  # a query, not just a handshake: the database is up
                session.run("RETURN 1").consume()
        except neo4j_errors.AuthError:
            raise KgrcaError(
                f"the local Neo4j at {bolt_uri(cfg)} refused user '{cfg.neo4j_user}' with the configured "
                f"password (from {cfg.origin('neo4j_password')}): its data in {self.home(cfg) / 'data'} was "
                "set up with another one; set KGRCA_NEO4J_PASSWORD to that, or start empty with "
                f"'kgrca servers down neo4j' and deleting {self.home(cfg) / 'data'}") from None
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired,
                neo4j_errors.TransientError, OSError) as exc:
            raise NotReady(f"{exc.__class__.__name__}: {exc}") from None
        finally:
            driver.close()

    def _set_initial_password(self, cfg: Config, home: Path, install: Path) -> None:
        # The admin tool writes data/dbms/auth.ini, which the first start turns into the user.
        env = dict(os.environ, NEO4J_HOME=str(install), NEO4J_CONF=str(home / "conf"))
        command = [tools.java(), "-Xmx256m", "-cp", f"{install / 'lib'}/*", ADMIN_CLASS,
                   "dbms", "set-initial-password", cfg.neo4j_password]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180,
                                  cwd=home)
        except subprocess.TimeoutExpired:
            raise KgrcaError("setting the initial Neo4j password took over 180s; run again") from None
        if done.returncode != 0:
            lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            reason = lines[0].strip()[:300] if lines else f"exit code {done.returncode}"
            raise KgrcaError(f"cannot set the initial Neo4j password (from "
                             f"{cfg.origin('neo4j_password')}): {reason}")


def bolt_uri(cfg: Config) -> str:
    return f"bolt://127.0.0.1:{cfg.neo4j_bolt_port}"


def render_conf(cfg: Config, home: Path, install: Path) -> str:
    """neo4j.conf, written anew at every start from kgrca's settings."""
    bolt = f"127.0.0.1:{cfg.neo4j_bolt_port}"
    http = f"127.0.0.1:{cfg.neo4j_http_port}"
    settings = {
        "server.directories.data": home / "data",
        "server.directories.logs": home / "logs",
        "server.directories.run": home / "run",
        "server.directories.import": home / "import",
        "server.directories.plugins": install / "plugins",
        "server.directories.lib": install / "lib",
        "server.default_listen_address": "127.0.0.1",
        "server.default_advertised_address": "127.0.0.1",
        "server.bolt.enabled": "true",
        "server.bolt.listen_address": bolt,
        "server.bolt.advertised_address": bolt,
        "server.http.enabled": "true",
        "server.http.listen_address": http,
        "server.http.advertised_address": http,
        "server.https.enabled": "false",
        # The heap flags are given to the JVM directly (that is the launcher's job); these lines
        # record them for Neo4j's own memory checks.
        "server.memory.heap.initial_size": cfg.neo4j_heap,
        "server.memory.heap.max_size": cfg.neo4j_heap,
        "server.memory.pagecache.size": cfg.neo4j_pagecache,
        "dbms.security.auth_enabled": "true",
        "dbms.security.procedures.unrestricted": "apoc.*",
        "dbms.usage_report.enabled": "false",
        "db.tx_log.rotation.retention_policy": "1 days",
    }
    lines = ["# Written by kgrca at every 'kgrca servers up'; change kgrca's settings instead.",
             *(f"{key}={value}" for key, value in settings.items())]
    return "\n".join(lines) + "\n"


SERVER = Neo4jServer()

"""The local Kafka broker: one KRaft node (broker and controller in one JVM), jars from Maven
Central, data under ``cfg.data_path/kafka``. The controller listens on ``kafka_port + 1``."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import uuid
from pathlib import Path

from kgrca.config import Config
from kgrca.contracts import KgrcaError
from localdev.servers import fetch, ports, tools
from localdev.servers.base import LocalServer, NotReady

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
NODE_ID = 1

# kafka-server-start.sh / kafka-run-class.sh defaults
JVM_FLAGS = (
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

# Everything to the console, which kgrca sends to one log file.
LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
"""

_rdkafka_log = logging.getLogger("localdev.servers.kafka.client")


class KafkaServer(LocalServer):
    name = "kafka"
    title = "Kafka"
    stop_grace = 120.0  # includes writing the class archive at the first stop
    start_timeout = 180.0

    def version(self) -> str:
        return fetch.pom_property("kafka", "kafka.version")

    def log_file(self, cfg: Config) -> Path:
        return self.home(cfg) / "logs" / "kafka.log"

    def ports(self, cfg: Config) -> dict[str, tuple[int, str]]:
        # The controller has no setting of its own: it takes the port after the broker's.
        return {"broker": (cfg.kafka_port, "kafka_port"), "controller": (controller_port(cfg), "kafka_port")}

    def endpoints(self, cfg: Config) -> dict[str, str]:
        return {"bootstrap": bootstrap(cfg), "controller": f"127.0.0.1:{controller_port(cfg)}"}

    def is_installed(self, cfg: Config) -> bool:
        return fetch.is_installed(cfg, "kafka", self.version())

    def install(self, cfg: Config) -> Path:
        return fetch.ensure_jars(cfg, "kafka", self.version(), {"kgrca.lib": "lib"},
                                 ["lib/kafka_2.13-*.jar", "lib/log4j-core-*.jar"])

    def prepare(self, cfg: Config, install: Path) -> None:
        home = self.home(cfg)
        for sub in ("data", "logs"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        (home / "server.properties").write_text(render_properties(cfg, home))
        (home / "log4j2.properties").write_text(LOG4J2)
        if not (home / "data" / "meta.properties").exists():
            self._format(cfg, home, install)

    def command(self, cfg: Config, install: Path) -> list[str]:
        home = self.home(cfg)
        return [tools.java(), f"-Xms{cfg.kafka_heap}", f"-Xmx{cfg.kafka_heap}", *JVM_FLAGS,
                f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
                f"-Dkafka.logs.dir={home / 'logs'}",
                "-cp", f"{install / 'lib'}/*", MAIN_CLASS, str(home / "server.properties")]

    def probe(self, cfg: Config, timeout: float) -> None:
        if not ports.accepts(cfg.kafka_port):
            raise NotReady(f"nothing accepts connections on {bootstrap(cfg)} yet")
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": bootstrap(cfg), "logger": _rdkafka_log,
                             "socket.timeout.ms": int(timeout * 1000)})
        try:
            metadata = admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise NotReady(f"no metadata from {bootstrap(cfg)}: {exc}") from None
        if not metadata.brokers:
            raise NotReady(f"{bootstrap(cfg)} lists no broker yet")

    def _format(self, cfg: Config, home: Path, install: Path) -> None:
        # The cluster id is made once and kept beside the data, so a data folder formatted by an
        # earlier run and the properties written now always agree.
        id_file = home / "cluster.id"
        if not id_file.exists():
            id_file.write_text(new_cluster_id() + "\n")
        cluster_id = id_file.read_text().strip()
        command = [tools.java(), "-Xmx256m", "-cp", f"{install / 'lib'}/*", STORAGE_TOOL, "format",
                   "--cluster-id", cluster_id, "--config", str(home / "server.properties"),
                   "--ignore-formatted"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=home,
                                  env={k: v for k, v in os.environ.items() if k != "JAVA_TOOL_OPTIONS"})
        except subprocess.TimeoutExpired:
            raise KgrcaError("formatting the Kafka storage took over 180s; run again") from None
        if done.returncode != 0:
            lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            reason = lines[-1].strip()[:300] if lines else f"exit code {done.returncode}"
            raise KgrcaError(f"cannot format the Kafka storage in {home / 'data'}: {reason}")


def controller_port(cfg: Config) -> int:
    return cfg.kafka_port + 1


def bootstrap(cfg: Config) -> str:
    return f"127.0.0.1:{cfg.kafka_port}"


def new_cluster_id() -> str:
    """A cluster id as Kafka's ``Uuid.randomUuid()`` makes it: 16 random bytes, URL-safe base64,
    no padding, never starting with '-' (which a command line would take for an option)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def render_properties(cfg: Config, home: Path) -> str:
    """server.properties, written anew at every start from kgrca's settings."""
    broker = f"127.0.0.1:{cfg.kafka_port}"
    controller = f"127.0.0.1:{controller_port(cfg)}"
    settings = {
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        "controller.quorum.voters": f"{NODE_ID}@{controller}",
        "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{broker}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": home / "data",
        "num.partitions": 1,
        "auto.create.topics.enable": "true",
        # one node: every internal topic has a single replica
        "offsets.topic.replication.factor": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        # consumers in tests and `kgrca build` join at once instead of after 3 s
        "group.initial.rebalance.delay.ms": 0,
        "log.retention.hours": 168,
    }
    lines = ["# Written by kgrca at every 'kgrca servers up'; change kgrca's settings instead.",
             *(f"{key}={value}" for key, value in settings.items())]
    return "\n".join(lines) + "\n"


SERVER = KafkaServer()

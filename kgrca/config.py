"""kgrca's configuration: one table of keys, read from defaults, an optional YAML file and the environment.

Precedence, lowest first: the defaults below, the YAML file (``--config FILE`` or ``KGRCA_CONFIG``),
then environment variables ``KGRCA_<KEY>`` (``stuck_release_timeout`` -> ``KGRCA_STUCK_RELEASE_TIMEOUT``).
The YAML file uses the same keys as this table. A bad value stops the program with one line naming the
key, where it came from, and the form expected.

``KEYS`` is the one declaration of a setting: ``Settings``, a pydantic-settings model, is derived from it
(each key's parser is its field's validator), and docs/configuration.md from that model
(``kgrca config docs docs/configuration.md``; a test fails while the file is stale). Adding a setting is one
``Key(...)`` line plus that command.

The Neo4j password default is the documented *development* password of the local servers
(``kgrca servers up``); set ``KGRCA_NEO4J_PASSWORD`` for anything else.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from kgrca.contracts import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(text: str | int | float) -> float:
    """Seconds from '30s', '5m', '2h', '7d', '1w', '250ms' or a bare number of seconds."""
    if isinstance(text, bool):
        raise ValueError("a duration like 30s, 5m, 2h or 7d")
    if isinstance(text, int | float):
        return float(text)
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError("a duration like 30s, 5m, 2h or 7d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("true or false")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a whole number")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("a whole number") from None


def _positive_int(value: Any) -> int:
    number = _int(value)
    if number <= 0:
        raise ValueError("a whole number above 0")
    return number


def _port(value: Any) -> int:
    number = _int(value)
    if not 1 <= number <= 65535:
        raise ValueError("a port number from 1 to 65535")
    return number


def _port_or_off(value: Any) -> int:
    number = _int(value)
    if not 0 <= number <= 65535:
        raise ValueError("a port number from 1 to 65535, or 0 for none")
    return number


def _str(value: Any) -> str:
    if isinstance(value, dict | list):
        raise ValueError("a single string")
    return str(value)


def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _str(value)


def _str_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    raise ValueError("a list of names, or names separated by commas")


def _helm_major(value: Any) -> int:
    number = _int(value)
    if number not in (3, 4):
        raise ValueError("3 or 4")
    return number


def _uri(schemes: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _str(value)
        if text.split("://", 1)[0] not in schemes or "://" not in text:
            raise ValueError(f"a URI starting with {' or '.join(s + '://' for s in schemes)}")
        return text

    return check


def _host_port(value: Any) -> str:
    text = _str(value)
    for part in text.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("host:port, or several separated by commas")
    return text


def _memory(value: Any) -> str:
    text = _str(value).strip()
    if not re.fullmatch(r"\d+[kKmMgG]?", text):
        raise ValueError("a size like 512m or 2g")
    return text


@dataclasses.dataclass(frozen=True)
class Key:
    name: str
    default: Any
    parse: Callable[[Any], Any]
    help: str


def _default_cache() -> str:
    return str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kgrca")


def _default_data() -> str:
    return str(Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "kgrca")


KEYS: tuple[Key, ...] = (
    Key("neo4j_uri", "bolt://127.0.0.1:7687", _uri(("bolt", "neo4j", "bolt+s", "neo4j+s", "bolt+ssc",
                                                    "neo4j+ssc")), "Neo4j Bolt URI"),
    Key("neo4j_user", "neo4j", _str, "Neo4j user"),
    Key("neo4j_password", "kgrca-dev-password", _str,
        "Neo4j password; the default is the local development server's"),
    Key("neo4j_database", "neo4j", _str, "Neo4j database name"),
    Key("kafka_bootstrap", "127.0.0.1:9092", _host_port, "Kafka bootstrap servers"),
    Key("kafka_topic_prefix", "kgrca", _str, "prefix of kgrca's Kafka topics"),
    Key("kafka_group", "kgrca-builder", _str, "consumer group of `kgrca build`"),
    Key("correlation_window", 300.0, parse_duration, "how far apart related events may be"),
    Key("stuck_release_timeout", 600.0, parse_duration, "a pending-* revision older than this is stuck"),
    Key("csr_pending_timeout", 900.0, parse_duration,
        "a CertificateSigningRequest pending (or approved but not issued) longer than this is stuck"),
    Key("hook_timeout", 300.0, parse_duration, "helm's hook timeout assumed when the command is unknown"),
    Key("namespaces", [], _str_list, "namespaces to watch; empty means all"),
    Key("cluster", None, _optional_str, "the cluster observations come from (graph keys carry it); "
        "`kgrca watch` defaults to the kubeconfig's current context"),
    Key("enable_ebpf", True, _bool, "trace helm and kubectl with eBPF where the kernel allows"),
    Key("enable_k8s_watching", True, _bool, "watch the Kubernetes API"),
    Key("track_kubectl", True, _bool, "trace kubectl as well as helm"),
    Key("track_files", True, _bool, "record files helm opens (values files, templates)"),
    Key("track_api", True, _bool, "record API server addresses helm connects to"),
    Key("buffer_size", 64, _positive_int, "eBPF ring buffer size in pages per CPU"),
    Key("batch_size", 1000, _positive_int, "rows per UNWIND batch written to Neo4j"),
    Key("build_batch", 5000, _positive_int,
        "messages `kgrca build` writes (and commits) per batch at most; a batch is what has arrived"),
    Key("write_sessions", 2, _positive_int,
        "concurrent write transactions; one object's rows always go through the same one"),
    Key("kubeconfig", None, _optional_str, "kubeconfig path; in-cluster config when unset and available"),
    Key("cache_dir", None, _optional_str, "where downloads and builds are cached (default ~/.cache/kgrca)"),
    Key("data_dir", None, _optional_str, "where local servers keep data (default ~/.local/share/kgrca)"),
    Key("helm_major", 4, _helm_major, "helm of the local cluster (`kgrca cluster`, e2e tests, recordings): 4, or 3"),
    Key("neo4j_heap", "1g", _memory, "local Neo4j JVM heap"),
    Key("neo4j_pagecache", "1g", _memory, "local Neo4j page cache"),
    Key("neo4j_bolt_port", 7687, _port, "local Neo4j Bolt port"),
    Key("neo4j_http_port", 7474, _port, "local Neo4j HTTP port (Browser at /browser/)"),
    Key("kafka_heap", "512m", _memory, "local Kafka JVM heap"),
    Key("kafka_port", 9092, _port, "local Kafka broker port"),
    Key("http_host", "127.0.0.1", _str, "address `kgrca serve` listens on"),
    Key("http_port", 8080, _port, "port `kgrca serve` listens on"),
    Key("serve_metrics_port", 0, _port_or_off, "port of `kgrca serve`'s Prometheus metrics (all workers); 0: none"),
    Key("watch_metrics_port", 0, _port_or_off, "port of `kgrca watch`'s Prometheus metrics; 0: none"),
    Key("trace_metrics_port", 0, _port_or_off, "port of `kgrca trace`'s Prometheus metrics; 0: none"),
    Key("github_webhook_secret", None, _optional_str, "shared secret of GitHub webhooks"),
    Key("argocd_webhook_token", None, _optional_str, "bearer token of Argo CD notifications"),
    Key("jira_webhook_secret", None, _optional_str, "shared secret of Jira webhooks"),
    Key("webhook_max_bytes", 1048576, _positive_int, "largest webhook body accepted"),
    Key("serve_neo4j_acquire_timeout", 3.0, parse_duration,
        "`kgrca serve`: longest wait for a Neo4j connection (connect, handshake, liveness check); 0.5s to 30s"),
    Key("serve_neo4j_transaction_timeout", 10.0, parse_duration,
        "`kgrca serve`: longest a REST read or /readyz waits on Neo4j, also its reads' server-side "
        "transaction timeout; 1s to 300s"),
    Key("webhook_store_timeout", 4.0, parse_duration,
        "longest a webhook delivery waits to be stored before it is spooled, or answered 503; 0.5s to 8s "
        "(GitHub gives up at 10s)"),
    Key("webhook_spool_dir", None, _optional_str,
        "durable journal of deliveries Neo4j (or Kafka) did not take in time, written when it answers again; "
        "unset: such a delivery is answered 503"),
    Key("report_schedule", None, _optional_str, "cron expression of scheduled reports in `kgrca serve`"),
    Key("report_dir", "reports", _str, "where scheduled reports are written"),
    Key("report_webhook_url", None, _optional_str, "Slack-compatible URL scheduled reports are posted to"),
    Key("report_templates", None, _optional_str, "folder whose report templates replace the built-in ones of the "
        "same file name (report.html.j2, report.md.j2, slack.txt.j2, ...; see docs/reports.md)"),
    Key("log_level", "INFO", _str, "DEBUG, INFO, WARNING or ERROR"),
    Key("container_logs", True, _bool, "kgrca watch fetches the last lines of a crashed container's log (off: never)"),
    Key("container_log_lines", 50, _positive_int, "lines of a crashed container's log fetched (tail), per container"),
    Key("container_log_bytes", 16384, _positive_int, "bytes of a crashed container's log fetched, per container"),
    Key("container_log_fetches_per_minute", 20, _positive_int, "log fetches kgrca watch makes per minute at most"),
)

_BY_NAME = {key.name: key for key in KEYS}


def env_name(key: str) -> str:
    return "KGRCA_" + key.upper()


# The settings model, derived from KEYS so that adding a setting stays one ``Key(...)`` line: each key's parser is
# the field's validator and its return annotation the field's type (``Any`` for a parser without one).


def _value_type(parse: Callable[[Any], Any]) -> Any:
    try:
        return typing.get_type_hints(parse).get("return", Any)
    except (TypeError, NameError):
        return Any


def _validator(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # a plain one-argument function whatever the parser is: pydantic reads a validator's signature to decide how to
    # call it, and a builtin (``str``) or a partial has none it can read
    def validate(value: Any) -> Any:
        return parse(value)

    return validate


class _Environment(EnvSettingsSource):
    """``KGRCA_<KEY>`` variables of a given mapping (``os.environ`` by default), upper case only as before."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ
        self._found: dict[str, Any] | None = None
        super().__init__(settings_cls)

    def __call__(self) -> dict[str, Any]:
        if self._found is None:  # load_config asks once for the origins and once to build: look once
            self._found = super().__call__()
        return self._found

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # pydantic-settings matches case-insensitively; kgrca reads exactly KGRCA_BUFFER_SIZE, not kgrca_buffer_size
        return {name.lower(): value for name, value in self._environ.items()
                if name.startswith("KGRCA_") and name == name.upper()}


class _YamlFile(YamlConfigSettingsSource):
    """The YAML file, which must exist and hold a mapping; unreadable or broken files are one clear line."""

    def _read_files(self, files: Any, deep_merge: bool = False) -> dict[str, Any]:
        return _read_file(Path(files)) if files else {}

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        return _read_file(file_path)


class _SettingsBase(BaseSettings):
    """Defaults, then the YAML file named by ``KGRCA_CONFIG``, then ``KGRCA_*`` variables, then arguments."""

    model_config = SettingsConfigDict(env_prefix="KGRCA_", extra="forbid", validate_assignment=True,
                                      protected_namespaces=(), arbitrary_types_allowed=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _Environment(settings_cls),
                _YamlFile(settings_cls, yaml_file=os.environ.get("KGRCA_CONFIG") or None))


Settings: type[BaseSettings] = pydantic.create_model(
    "Settings", __base__=_SettingsBase, __doc__="kgrca's settings, one field per entry of KEYS.",
    **{key.name: (Annotated[_value_type(key.parse), NoDecode, pydantic.BeforeValidator(_validator(key.parse))],
                  pydantic.Field(default=key.default, description=key.help)) for key in KEYS})


class Config(Mapping[str, Any]):
    """Read-only settings; attribute or item access (``cfg.neo4j_uri``, ``cfg["neo4j_uri"]``)."""

    def __init__(self, settings: BaseSettings, origins: dict[str, str]):
        self._settings = settings
        self._values = {name: getattr(settings, name) for name in Settings.model_fields}
        self._origins = origins

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def origin(self, name: str) -> str:
        """Where a value came from: 'default', a file path, an environment variable, or 'argument'."""
        return self._origins[name]

    def to_settings(self) -> BaseSettings:
        """These settings as the pydantic ``Settings`` model (a copy)."""
        return self._settings.model_copy(deep=True)

    @property
    def cache_path(self) -> Path:
        return Path(self._values["cache_dir"] or _default_cache())

    @property
    def data_path(self) -> Path:
        return Path(self._values["data_dir"] or _default_data())

    def environ(self) -> dict[str, str]:
        """These settings as ``KGRCA_*`` variables, to hand to a child process."""
        env = {}
        for key in KEYS:
            value = self._values[key.name]
            if value is not None:
                env[env_name(key.name)] = ",".join(value) if isinstance(value, list) else str(value)
        return env

    def replace(self, **changes: Any) -> Config:
        settings = self._settings.model_copy()
        origins = dict(self._origins)
        for name, raw in changes.items():
            _check_known(name, "argument")
            origins[name] = "argument"
            try:
                setattr(settings, name, raw)  # validate_assignment runs the key's parser
            except pydantic.ValidationError as exc:
                raise _one_line(exc, origins) from None
        return Config(settings, origins)


def _check_known(name: str, origin: str) -> None:
    if name not in _BY_NAME:
        known = ", ".join(sorted(_BY_NAME))
        raise ConfigError(f"{origin}: unknown setting '{name}'; known settings: {known}")


def _one_line(exc: pydantic.ValidationError, origins: Mapping[str, str]) -> ConfigError:
    """The first error as ``<where>: <key>=<value>: expected <form>``, where the key is spelt as it was given."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    origin = origins.get(name, "argument")
    if error["type"] == "extra_forbidden":
        _check_known(name, origin)
    cause = (error.get("ctx") or {}).get("error")
    expected = str(cause) if isinstance(cause, ValueError) else error["msg"]
    if origin == env_name(name):
        return ConfigError(f"environment {origin}={error['input']!r}: expected {expected}")
    return ConfigError(f"{origin}: {name}={error['input']!r}: expected {expected}")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of setting: value at the top level")
    return {str(name): value for name, value in data.items()}


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Settings from defaults, then the YAML file, then ``KGRCA_*`` environment variables."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("KGRCA_CONFIG")
    environment = _Environment(Settings, environ)
    sources: tuple[PydanticBaseSettingsSource, ...] = (environment,)
    origins = {key.name: "default" for key in KEYS}
    if path:
        file = _YamlFile(Settings, yaml_file=Path(path))
        sources += (file,)
        origins.update(dict.fromkeys(file(), str(path)))
    origins.update({name: env_name(name) for name in environment()})
    for name in origins:
        _check_known(name, origins[name])
    try:
        settings = Settings(_build_sources=(sources, {}))
    except pydantic.ValidationError as exc:
        raise _one_line(exc, origins) from None
    return Config(settings, origins)


DURATION_KEYS = tuple(key.name for key in KEYS if key.parse is parse_duration)


def markdown_table() -> str:
    """docs/configuration.md's table, from the Settings model (`kgrca config docs` writes the file, tests check it)."""
    rows = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else field.default
        if name in DURATION_KEYS:
            default = f"{default:g}s"
        rows.append(f"| `{name}` | `{env_name(name)}` | `{default}` | {field.description} |")
    return "\n".join(rows) + "\n"

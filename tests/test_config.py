"""Settings: defaults, file, environment, and one clear line for a bad value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgrca.config import KEYS, env_name, load_config, parse_duration
from kgrca.contracts import ConfigError


def test_defaults_are_the_documented_ones():
    cfg = load_config(environ={})
    assert cfg.correlation_window == 300 and cfg.stuck_release_timeout == 600 and cfg.hook_timeout == 300
    assert cfg.namespaces == [] and cfg.enable_ebpf is True and cfg.neo4j_uri == "bolt://127.0.0.1:7687"


def test_environment_beats_file_beats_defaults(tmp_path):
    path = tmp_path / "kgrca.yaml"
    path.write_text("stuck_release_timeout: 15m\nnamespaces: [prod, staging]\nbuffer_size: 128\n")
    cfg = load_config(path, environ={"KGRCA_BUFFER_SIZE": "256", "KGRCA_ENABLE_EBPF": "false"})
    assert cfg.stuck_release_timeout == 900
    assert cfg.namespaces == ["prod", "staging"]
    assert cfg.buffer_size == 256 and cfg.origin("buffer_size") == "KGRCA_BUFFER_SIZE"
    assert cfg.enable_ebpf is False
    assert cfg.origin("stuck_release_timeout") == str(path)


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("5m", 300), ("2h", 7200), ("7d", 604800),
                                           ("250ms", 0.25), ("45", 45), (90, 90)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("variable, value, expected", [
    ("KGRCA_STUCK_RELEASE_TIMEOUT", "ten minutes", "KGRCA_STUCK_RELEASE_TIMEOUT='ten minutes': expected a duration"),
    ("KGRCA_ENABLE_EBPF", "maybe", "expected true or false"),
    ("KGRCA_BUFFER_SIZE", "-4", "expected a whole number above 0"),
    ("KGRCA_NEO4J_URI", "http://x", "expected a URI starting with bolt://"),
    ("KGRCA_KAFKA_BOOTSTRAP", "localhost", "expected host:port"),
    ("KGRCA_HTTP_PORT", "70000", "expected a port number"),
    ("KGRCA_HELM_MAJOR", "2", "KGRCA_HELM_MAJOR='2': expected 3 or 4"),
])
def test_a_bad_value_names_the_variable_and_the_form(variable, value, expected):
    with pytest.raises(ConfigError) as caught:
        load_config(environ={variable: value})
    message = str(caught.value)
    assert expected in message and "\n" not in message


def test_a_bad_file_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "kgrca.yaml"
    path.write_text("hook_timeout: soon\n")
    with pytest.raises(ConfigError, match=rf"{path}: hook_timeout='soon': expected a duration"):
        load_config(path, environ={})
    path.write_text("hook_timeout: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: not valid YAML"):
        load_config(path, environ={})
    path.write_text("hook_timout: 5m\n")
    with pytest.raises(ConfigError, match="unknown setting 'hook_timout'"):
        load_config(path, environ={})


def test_environ_round_trips_every_setting():
    cfg = load_config(environ={"KGRCA_NAMESPACES": "a,b", "KGRCA_REPORT_SCHEDULE": "0 6 * * *"})
    again = load_config(environ=cfg.environ())
    assert dict(again) == dict(cfg)
    assert {env_name(k.name) for k in KEYS} >= set(cfg.environ())


def test_configuration_doc_lists_every_setting():
    from pathlib import Path

    from kgrca.config import markdown_table
    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    assert markdown_table() in doc, "regenerate docs/configuration.md from kgrca.config.markdown_table()"


def test_the_settings_model_has_one_typed_field_per_key():
    from kgrca.config import Settings

    fields = Settings.model_fields
    assert list(fields) == [key.name for key in KEYS]
    assert {name: fields[name].annotation for name in ("namespaces", "stuck_release_timeout", "enable_ebpf",
                                                        "http_port", "kubeconfig")} == \
        {"namespaces": list[str], "stuck_release_timeout": float, "enable_ebpf": bool, "http_port": int,
         "kubeconfig": str | None}
    assert all(fields[key.name].description == key.help and fields[key.name].default == key.default for key in KEYS)


def test_settings_read_alone_take_the_same_sources_as_load_config(tmp_path, monkeypatch):
    from kgrca.config import Settings

    path = tmp_path / "kgrca.yaml"
    path.write_text("stuck_release_timeout: 15m\nbuffer_size: 128\n")
    for name in [n for n in os.environ if n.startswith("KGRCA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KGRCA_CONFIG", str(path))
    monkeypatch.setenv("KGRCA_BUFFER_SIZE", "256")
    monkeypatch.setenv("kgrca_http_port", "9999")  # only upper-case names are kgrca's, as before
    settings = Settings()
    assert (settings.stuck_release_timeout, settings.buffer_size, settings.http_port) == (900, 256, 8080)
    assert load_config().to_settings() == settings


def test_replace_checks_its_values_and_says_they_are_arguments():
    cfg = load_config(environ={})
    changed = cfg.replace(http_port="8181", stuck_release_timeout="2m")
    assert (changed.http_port, changed.stuck_release_timeout, changed.origin("http_port")) == (8181, 120, "argument")
    assert cfg.http_port == 8080 and cfg.origin("http_port") == "default"
    with pytest.raises(ConfigError, match=r"^argument: http_port='eighty': expected a whole number$"):
        cfg.replace(http_port="eighty")
    with pytest.raises(ConfigError, match="^argument: unknown setting 'htp_port'"):
        cfg.replace(htp_port=1)


def _kgrca(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "faces.cli", *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env})


def test_configuration_doc_is_generated_and_a_stale_one_fails(tmp_path):
    doc = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    result = _kgrca("config", "docs", "--check", str(doc), env={})
    assert result.returncode == 0, result.stderr
    stale = tmp_path / "configuration.md"
    stale.write_text("".join(line for line in doc.read_text().splitlines(True) if "`hook_timeout`" not in line))
    result = _kgrca("config", "docs", "--check", str(stale), env={})
    assert result.returncode == 1 and "is stale: run 'kgrca config docs" in result.stderr
    assert _kgrca("config", "docs", str(stale), env={}).returncode == 0
    assert stale.read_text() == doc.read_text()


def test_config_show_says_where_each_value_came_from_and_hides_secrets(tmp_path):
    path = tmp_path / "kgrca.yaml"
    path.write_text("namespaces: [prod, staging]\n")
    result = _kgrca("--config", str(path), "config", "show", "--json",
                    env={"KGRCA_NEO4J_PASSWORD": "hunter2", "KGRCA_HTTP_PORT": "8181"})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["namespaces"] == {"value": ["prod", "staging"], "origin": str(path)}
    assert shown["http_port"] == {"value": 8181, "origin": "KGRCA_HTTP_PORT"}
    assert shown["neo4j_password"] == {"value": "(set)", "origin": "KGRCA_NEO4J_PASSWORD"}
    assert shown["log_level"] == {"value": "INFO", "origin": "default"}
    assert "hunter2" not in result.stdout and set(shown) == {key.name for key in KEYS}

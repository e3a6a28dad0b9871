"""Settings: defaults, file, environment, and one clear line for a bad value."""

from __future__ import annotations

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

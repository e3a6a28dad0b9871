"""Shared fixtures: real servers come from tests/fixtures/servers.py."""

pytest_plugins = ["tests.fixtures.servers"]

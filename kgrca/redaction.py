"""Secrets out of text before it is stored: one set of rules for command lines, helm's words and logs.

Used by kgrca/commandline.py (argv and flags of helm and kubectl), by kg_builder for helm's messages (a
Revision's description, a process's stderr, a witness's relayed words) and by the CI sources. What is
replaced becomes ``<redacted>``; everything else is kept as it was, so a diagnosis can still quote it.

The rules, each with a real shape it covers (tests/test_redaction.py holds the table):

* ``KEY=VALUE`` assignments (``--set``, ``--set-string``, ``--from-literal``) whose key looks secret
  (``db.password=...``, ``auth.rootPassword=...``, ``apiKey=...``);
* JSON (``--set-json``, ``kubectl patch -p``): values under secret-looking keys, and everything under a
  Secret's ``data`` / ``stringData``;
* credentials in URLs (``https://user:pass@charts.example.com``);
* bearer tokens and basic credentials in headers (``Authorization: Bearer ...``);
* a rejected value the API server quotes for a Secret (``Secret "db" is invalid: data[password]: Invalid
  value: "..."``).
"""

from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "<redacted>"
SECRET_KEY = re.compile(
    r"pass|pwd|secret|token|credential|private|api[_-]?key|auth|access[_-]?key|dsn|connection[_-]?string|"
    r"cookie|session[_-]?key|signing[_-]?key|encryption[_-]?key|license[_-]?key|webhook[_-]?url",
    re.IGNORECASE)
# Keys whose every value is a secret's content, whatever they are called (a Secret's data).
SECRET_DATA_KEYS = frozenset({"data", "stringData", "binaryData"})
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\"']+):(?P<secret>[^@/\s\"']+)@")
# "Bearer <token>" anywhere; "Basic <credentials>" only in an Authorization header (plain English says "Basic")
_BEARER = re.compile(r"(?P<head>(?:\bBearer|\bAuthorization:\s*Basic)\s+)(?P<secret>[A-Za-z0-9._~+/=-]{8,})",
                     re.IGNORECASE)
# --api-key=..., DB_PASSWORD=... inside a string (a container's args in a patch, a CI script's line)
_SECRET_ASSIGNMENT = re.compile(r"(?P<head>(?<![\w.-])-{0,2}(?P<key>[A-Za-z_][\w.-]*)=)(?P<secret>[^\s,;\"']+)")
_SECRET_INVALID_VALUE = re.compile(
    r"(?P<head>\bSecret \"[^\"]*\"[^\"]*?Invalid value: \")(?P<secret>(?:[^\"\\]|\\.)*)\"")


def secret_key(key: str) -> bool:
    """A key that names a secret: judged by its last dotted part (``auth.adminPassword`` yes, ``auth.adminUser``
    no), so a chart's ``auth`` section keeps its user names."""
    return bool(SECRET_KEY.search(key.rsplit(".", 1)[-1]))


def redact_assignments(text: str) -> str:
    """``a.b=v,c.password=w``: the values of secret-looking keys replaced (helm's --set syntax)."""
    parts = []
    for part in text.split(","):
        key, eq, _ = part.partition("=")
        parts.append(f"{key}={REDACTED}" if eq and secret_key(key) else part)
    return redact_text(",".join(parts))


def redact_json_assignment(text: str) -> str:
    """``key={"password": "..."}`` (helm's --set-json): secret-looking keys inside the JSON value redacted."""
    key, eq, value = text.partition("=")
    if not eq:
        return redact_json(text)
    if secret_key(key) and not value.lstrip().startswith("{"):
        return f"{key}={REDACTED}"
    return f"{key}={redact_json(value)}"


def redact_json(text: str) -> str:
    """JSON text with secret-looking keys' values and a Secret's data replaced; other text as redact_text."""
    try:
        data = json.loads(text)
    except ValueError:
        return redact_text(_redact_json_like(text))
    return json.dumps(_scrub(data), separators=(",", ":"))


def _scrub(value: Any, under_secret: bool = False) -> Any:
    """JSON with secrets replaced: everything under a Secret's data, scalars and lists under a secret key;
    an object under a secret-looking key is judged key by key (``auth: {user, password}`` keeps the user)."""
    if isinstance(value, dict):
        return {k: _scrub(v, under_secret or k in SECRET_DATA_KEYS
                          or (secret_key(str(k)) and not isinstance(v, dict)))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, under_secret) for v in value]
    if under_secret:
        return REDACTED
    return redact_text(value) if isinstance(value, str) else value


_JSON_PAIR = re.compile(r"(\"(?P<key>[^\"]+)\"\s*:\s*)\"(?:[^\"\\]|\\.)*\"")


def _redact_json_like(text: str) -> str:
    """Text that is almost JSON (a shell ate a quote): ``"password": "..."`` pairs still redacted."""
    return _JSON_PAIR.sub(lambda m: m.group(1) + f'"{REDACTED}"' if secret_key(m.group("key"))
                          else m.group(0), text)


def redact_text(text: str) -> str:
    """Credentials in URLs, bearer tokens and a Secret's rejected value quoted by the API server."""
    if not text:
        return text
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('head')}:{REDACTED}@", text)
    text = _BEARER.sub(lambda m: f"{m.group('head')}{REDACTED}", text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group('head')}{REDACTED}" if secret_key(m.group("key"))
                                  and m.group("secret") != REDACTED else m.group(0), text)
    return _SECRET_INVALID_VALUE.sub(lambda m: f"{m.group('head')}{REDACTED}\"", text)

"""Who may post a delivery: HMAC signatures and shared tokens, compared in constant time.

Every check returns ``None`` when the request is authentic, or the one-line reason it is not (answered
with 401 before anything is parsed or stored). A receiver whose secret is not configured refuses all
deliveries: an open endpoint would let anyone write the graph.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def hmac_sha256(secret: str, body: bytes) -> str:
    """``sha256=<hex>`` as GitHub (``X-Hub-Signature-256``) and Jira Cloud (``X-Hub-Signature``) send it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _unset(setting: str) -> str:
    return f"this receiver has no secret configured: set KGRCA_{setting.upper()} and the same value at the sender"


def github(secret: str | None, headers: Mapping[str, str], body: bytes) -> str | None:
    if not secret:
        return _unset("github_webhook_secret")
    given = headers.get("X-Hub-Signature-256")
    if not given:
        return "missing X-Hub-Signature-256: set the webhook's secret in GitHub"
    if not hmac.compare_digest(given.strip().encode(), hmac_sha256(secret, body).encode()):
        return "X-Hub-Signature-256 does not match the body: the secrets differ, or the body was changed"
    return None


def bearer(token: str | None, headers: Mapping[str, str], setting: str = "argocd_webhook_token") -> str | None:
    if not token:
        return _unset(setting)
    scheme, _, given = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return "missing 'Authorization: Bearer <token>' header"
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return "the bearer token is wrong"
    return None


def jira(secret: str | None, headers: Mapping[str, str], query_secret: str | None, body: bytes) -> str | None:
    """Jira Cloud signs with ``X-Hub-Signature``; Jira Data Center and Automation rules can only add a
    ``?secret=`` to the URL or an ``Authorization: Bearer`` header, so those are accepted too."""
    if not secret:
        return _unset("jira_webhook_secret")
    signature = headers.get("X-Hub-Signature")
    if signature:
        if hmac.compare_digest(signature.strip().encode(), hmac_sha256(secret, body).encode()):
            return None
        return "X-Hub-Signature does not match the body: the secrets differ, or the body was changed"
    if query_secret is not None:
        if hmac.compare_digest(query_secret.encode(), secret.encode()):
            return None
        return "the ?secret= parameter is wrong"
    if headers.get("Authorization"):
        return bearer(secret, headers, "jira_webhook_secret")
    return "missing X-Hub-Signature, ?secret= or 'Authorization: Bearer <secret>'"

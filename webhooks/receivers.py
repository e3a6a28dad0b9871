"""The webhook receivers: ``POST /webhooks/github``, ``/webhooks/argocd`` and ``/webhooks/jira``.

Each request is checked in this order, and nothing is stored unless every check passes:

1. size: a body over ``webhook_max_bytes`` is answered 413 (Flask's ``MAX_CONTENT_LENGTH``, set by
   ``kgrca.api.app.create_app``);
2. authenticity (``webhooks/auth.py``): 401;
3. JSON and event (``webhooks/normalize.py``): 400 naming what is wrong;
4. the sink takes the observation: 202. A sink that is unavailable (Neo4j down, Kafka unreachable) is
   answered 503 with ``Retry-After``; the sender's retry is safe, because a delivery is stored once.

A delivery's id: GitHub's ``X-GitHub-Delivery``; Jira Cloud's ``X-Atlassian-Webhook-Identifier``;
otherwise (Argo CD, Jira Data Center) the SHA-256 of the body, so a resent body is the same delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from kgrca.config import Config
from kgrca.contracts import GraphWriter, Observation, PermanentError, TemporaryError, utc_now
from webhooks import auth, normalize

log = logging.getLogger(__name__)


def error(status: int, message: str, **headers: str) -> tuple[Response, int, dict[str, str]]:
    """The JSON error form shared with the REST API: ``{"error": message, "status": status}``."""
    return jsonify(error=message, status=status), status, headers


def _parse(body: bytes, what: str) -> Any:
    if not body.strip():
        raise PermanentError(f"empty body: expected the {what} JSON payload")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PermanentError(f"body is not valid JSON ({exc}): send the {what} payload as application/json") from None


def _body_id(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def blueprint(cfg: Config, sink: Callable[[], GraphWriter]) -> Blueprint:
    """The receivers, writing to ``sink()`` (a GraphWriter: Neo4jWriter or kgrca.bus.KafkaSink)."""
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

    def deliver(provider: str, payload: dict[str, Any]) -> tuple[Response, int, dict[str, str]]:
        delivery = payload["delivery_id"]
        observation = Observation("webhook", provider, payload, payload["received_at"],
                                  f"webhook:{provider}:{delivery}")
        try:
            stats = sink().write([observation])
        except TemporaryError as exc:
            log.warning("%s delivery %s not stored: %s", provider, delivery, exc)
            return error(503, str(exc), **{"Retry-After": str(max(1, int(exc.delay)))})
        if stats.rejected:
            return error(400, stats.rejected[0][1])
        response = jsonify(status="accepted", provider=provider, event=payload.get("event"), delivery=delivery)
        return response, 202, {}

    @bp.post("/github")
    def github() -> Any:
        body = request.get_data(cache=True)
        reason = auth.github(cfg.github_webhook_secret, request.headers, body)
        if reason:
            return error(401, f"GitHub webhook refused: {reason}")
        event = request.headers.get("X-GitHub-Event")
        delivery = request.headers.get("X-GitHub-Delivery")
        if not event or not delivery:
            return error(400, "missing X-GitHub-Event or X-GitHub-Delivery header: is this a GitHub webhook?")
        try:
            payload = normalize.github(event, delivery, _parse(body, "GitHub"), utc_now())
        except PermanentError as exc:
            return error(400, f"GitHub {event} delivery {delivery}: {exc}")
        if payload is None:
            return jsonify(status="ok", provider="github", event=event, delivery=delivery), 200
        return deliver("github", payload)

    @bp.post("/argocd")
    def argocd() -> Any:
        reason = auth.bearer(cfg.argocd_webhook_token, request.headers)
        if reason:
            return error(401, f"Argo CD notification refused: {reason}")
        body = request.get_data(cache=True)
        try:
            payload = normalize.argocd(_body_id(body), _parse(body, "Argo CD notification"), utc_now())
        except PermanentError as exc:
            return error(400, f"Argo CD notification: {exc}")
        return deliver("argocd", payload)

    @bp.post("/jira")
    def jira() -> Any:
        body = request.get_data(cache=True)
        reason = auth.jira(cfg.jira_webhook_secret, request.headers, request.args.get("secret"), body)
        if reason:
            return error(401, f"Jira webhook refused: {reason}")
        delivery = request.headers.get("X-Atlassian-Webhook-Identifier") or _body_id(body)
        try:
            payload = normalize.jira(delivery, _parse(body, "Jira"), utc_now())
        except PermanentError as exc:
            return error(400, f"Jira delivery: {exc}")
        return deliver("jira", payload)

    return bp

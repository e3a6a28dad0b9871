"""The webhook receivers: ``POST /webhooks/github``, ``/webhooks/argocd`` and ``/webhooks/jira``.

Each request is checked in this order, and nothing is stored unless every check passes:

1. size: a body over ``webhook_max_bytes`` is answered 413, with a Content-Length (Flask's
   ``MAX_CONTENT_LENGTH``, set by ``faces.api.app.create_app``) or chunked (``webhooks/body.py``);
2. authenticity (``webhooks/auth.py``): 401;
3. JSON, nesting, event and the shape of every field read (``webhooks/body.py``, ``webhooks/shapes.py``,
   ``webhooks/normalize.py``): 400 naming what is wrong;
4. the sink takes the observation within ``webhook_store_timeout``: 202. When it does not (Neo4j down or
   not answering, Kafka unreachable), the delivery is kept in the spool (``webhooks/spool.py``) and
   answered 202 ``spooled`` when ``webhook_spool_dir`` is set, else answered 503 with ``Retry-After``; the
   sender's retry is safe, because a delivery is stored once.

A delivery's id: GitHub's ``X-GitHub-Delivery``; Jira Cloud's ``X-Atlassian-Webhook-Identifier``;
otherwise (Argo CD, Jira Data Center) the SHA-256 of the body, so a resent body is the same delivery.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from kg_builder.writer import map_observations
from kgrca.config import Config
from kgrca.contracts import Observation, PermanentError, TemporaryError, WriteStats, utc_now
from webhooks import auth, body, normalize, shapes
from webhooks.spool import Spool

log = logging.getLogger(__name__)


def error(status: int, message: str, **headers: str) -> tuple[Response, int, dict[str, str]]:
    """The JSON error form shared with the REST API: ``{"error": message, "status": status}``."""
    return jsonify(error=message, status=status), status, headers


def _parse(data: bytes, what: str, shape: dict[str, Any]) -> Any:
    """The JSON value of a delivery's body, checked against the shape of the fields the normalizer reads."""
    value = body.decode(data, what)
    found = shapes.problem(value, shape)
    if found:
        raise PermanentError(found)
    return value


def _body_id(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def blueprint(cfg: Config, store: Callable[[Observation], WriteStats], spool: Spool | None = None) -> Blueprint:
    """The receivers. ``store`` writes one observation to the sink (Neo4jWriter or kgrca.bus.KafkaSink)
    within ``webhook_store_timeout`` or raises ``TemporaryError``; ``spool`` keeps what it did not take."""
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

    def deliver(provider: str, payload: dict[str, Any]) -> tuple[Response, int, dict[str, str]]:
        delivery = payload["delivery_id"]
        observation = Observation("webhook", provider, payload, payload["received_at"],
                                  f"webhook:{provider}:{delivery}")
        try:
            stats = store(observation)
        except TemporaryError as exc:
            return not_stored(provider, observation, exc)
        if stats.rejected:
            return error(400, stats.rejected[0][1])
        response = jsonify(status="accepted", provider=provider, event=payload.get("event"), delivery=delivery)
        return response, 202, {}

    def not_stored(provider: str, observation: Observation, exc: TemporaryError) -> tuple[Response, int, dict]:
        delivery = observation.payload["delivery_id"]
        retry = {"Retry-After": str(max(1, int(exc.delay)))}
        if spool is None:
            log.warning("%s delivery %s not stored: %s", provider, delivery, exc)
            return error(503, str(exc), **retry)
        mapped, _ = map_observations([observation])  # what the graph would refuse is a 400 now, not a file later
        if mapped.rejected:
            return error(400, mapped.rejected[0][1])
        try:
            spool.put(observation)
        except OSError as failed:
            log.error("%s delivery %s neither stored (%s) nor spooled (%s)", provider, delivery, exc, failed)
            return error(503, f"{exc}; and the spool {spool.directory} did not take it: {failed.strerror}",
                         **retry)
        log.warning("%s delivery %s spooled: %s", provider, delivery, exc)
        response = jsonify(status="spooled", provider=provider, event=observation.payload.get("event"),
                           delivery=delivery, reason=str(exc))
        return response, 202, {}

    @bp.post("/github")
    def github() -> Any:
        """GitHub webhook (the operation is in the OpenAPI document: faces/api/openapi.py).
        ---
        post:
          tags: [webhooks]
          summary: "GitHub webhook: push, pull_request, issues, deployment, deployment_status, workflow_job,
            workflow_run (and ping)"
          description: Signed with the webhook's secret (X-Hub-Signature-256, HMAC-SHA256 of the body);
            deduplicated by X-GitHub-Delivery.
          security: [{githubSignature: []}]
          parameters:
            - {name: X-GitHub-Event, in: header, required: true, description: the event name, schema: {type: string}}
            - {name: X-GitHub-Delivery, in: header, required: true, description: the delivery id,
               schema: {type: string}}
            - {name: X-Hub-Signature-256, in: header, required: true,
               description: "sha256=<hex HMAC-SHA256 of the body>", schema: {type: string}}
          requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
          responses:
            200: WebhookOk
            202: WebhookStored
            400: WebhookInvalid
            401: Unauthorized
            413: TooLarge
            503: WebhookUnavailable
        """
        data = body.read(request, cfg.webhook_max_bytes)
        reason = auth.github(cfg.github_webhook_secret, request.headers, data)
        if reason:
            return error(401, f"GitHub webhook refused: {reason}")
        event = request.headers.get("X-GitHub-Event")
        delivery = request.headers.get("X-GitHub-Delivery")
        if not event or not delivery:
            return error(400, "missing X-GitHub-Event or X-GitHub-Delivery header: is this a GitHub webhook?")
        try:
            shape = {**shapes.GITHUB_COMMON, **shapes.GITHUB.get(event, {})}
            payload = normalize.github(event, delivery, _parse(data, "GitHub", shape), utc_now())
        except PermanentError as exc:
            return error(400, f"GitHub {event} delivery {delivery}: {exc}")
        if payload is None:
            return jsonify(status="ok", provider="github", event=event, delivery=delivery), 200
        return deliver("github", payload)

    @bp.post("/argocd")
    def argocd() -> Any:
        """Argo CD Notifications webhook.
        ---
        post:
          tags: [webhooks]
          summary: Argo CD Notifications webhook, rendered from the template in docs/webhooks.md
          description: Authorized with a bearer token; a resent body is the same delivery.
          security: [{argocdToken: []}]
          parameters:
            - {name: Authorization, in: header, required: true, description: "Bearer <argocd_webhook_token>",
               schema: {type: string}}
          requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
          responses:
            200: WebhookOk
            202: WebhookStored
            400: WebhookInvalid
            401: Unauthorized
            413: TooLarge
            503: WebhookUnavailable
        """
        reason = auth.bearer(cfg.argocd_webhook_token, request.headers)
        if reason:
            return error(401, f"Argo CD notification refused: {reason}")
        data = body.read(request, cfg.webhook_max_bytes)
        try:
            payload = normalize.argocd(_body_id(data), _parse(data, "Argo CD notification", shapes.ARGOCD),
                                       utc_now())
        except PermanentError as exc:
            return error(400, f"Argo CD notification: {exc}")
        return deliver("argocd", payload)

    @bp.post("/jira")
    def jira() -> Any:
        """Jira webhook.
        ---
        post:
          tags: [webhooks]
          summary: "Jira webhook: jira:issue_created, jira:issue_updated"
          description: "Authorized by Jira Cloud's X-Hub-Signature (HMAC-SHA256 of the body with the webhook's
            secret), or the secret as ?secret= or 'Authorization: Bearer <secret>'. Deduplicated by
            X-Atlassian-Webhook-Identifier, or by the body's SHA-256."
          security: [{jiraSecret: []}]
          parameters:
            - {name: X-Hub-Signature, in: header, required: false, description: "sha256=<hex HMAC-SHA256 of the body>",
               schema: {type: string}}
            - {name: X-Atlassian-Webhook-Identifier, in: header, required: false,
               description: "Jira Cloud's delivery id", schema: {type: string}}
            - {name: secret, in: query, required: false, description: "the shared secret, where the sender cannot sign",
               schema: {type: string}}
          requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
          responses:
            200: WebhookOk
            202: WebhookStored
            400: WebhookInvalid
            401: Unauthorized
            413: TooLarge
            503: WebhookUnavailable
        """
        data = body.read(request, cfg.webhook_max_bytes)
        reason = auth.jira(cfg.jira_webhook_secret, request.headers, request.args.get("secret"), data)
        if reason:
            return error(401, f"Jira webhook refused: {reason}")
        delivery = request.headers.get("X-Atlassian-Webhook-Identifier") or _body_id(data)
        try:
            payload = normalize.jira(delivery, _parse(data, "Jira", shapes.JIRA), utc_now())
        except PermanentError as exc:
            return error(400, f"Jira delivery: {exc}")
        return deliver("jira", payload)

    return bp

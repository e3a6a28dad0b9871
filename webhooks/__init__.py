"""Webhook receivers: GitHub, Argo CD and Jira deliveries become ``Observation(kind="webhook")``.

``receivers.blueprint`` is mounted by the REST app (``faces.api.app.create_app``); ``auth`` checks who sent
a delivery, ``normalize`` turns each provider's JSON into the payload ``kg_builder.webhook_context`` maps,
``sinks`` picks where observations go. Receivers never read the graph. See docs/webhooks.md.
"""

"""The REST API of ``kgrca serve`` (``app.create_app``), its reads (``queries``) and its OpenAPI document."""

"""The Flask app of ``kgrca serve``: the REST API (docs/rest-api.md) and the webhook receivers.

``create_app(cfg)`` is all a WSGI server needs. Every error is JSON ``{"error", "status"}``: 400 for a bad
parameter (named, with the form expected), 404 for an unknown release or route, 503 when Neo4j does not
answer (with ``kgrca.graphdb.explain``'s one line), 500 for a bug (logged with its traceback).

No request waits on Neo4j longer than its ceiling (``faces/api/limits.py``): ``/readyz`` and the REST
reads ``serve_neo4j_transaction_timeout``, a webhook delivery ``webhook_store_timeout``; connecting is
bounded by ``serve_neo4j_acquire_timeout``. ``/healthz`` and ``/metrics`` never touch Neo4j.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

import neo4j
from flask import Flask, Response, jsonify, request
from neo4j import exceptions as neo4j_errors
from werkzeug.exceptions import HTTPException

from faces.api import limits, metrics, openapi, queries
from kg_builder.times import parse_time
from kg_builder.writer import Neo4jWriter
from kgrca.config import Config
from kgrca.contracts import GraphWriter, KgrcaError, Observation, TemporaryError, WriteStats, check_cluster
from kgrca.graphdb import explain, server_driver
from rca import clusters
from rca.runner import Detector
from webhooks import receivers
from webhooks.sinks import make_sink
from webhooks.spool import Replayer, Spool

log = logging.getLogger(__name__)

HELM_STATUSES = ("unknown", "deployed", "uninstalled", "superseded", "failed", "uninstalling", "pending-install",
                 "pending-upgrade", "pending-rollback")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_RELEASE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
# Threads of a worker that may wait on Neo4j at once when gunicorn's are not known (the test client): the
# server passes its --threads less one, so one thread is always free for /healthz.
NEO4J_SLOTS = 3
# A diagnosis runs every pattern (each bounded by Neo4j's transaction timeout, rca.runner.QUERY_TIMEOUT), and
# the first one of a process also checks them all: on a big or cold graph that legitimately takes longer
# than a plain read. A Neo4j that stopped answering is still found within serve_neo4j_acquire_timeout, when
# the connection is taken; this ceiling is for one that stops in the middle.
DIAGNOSIS_SECONDS = 120.0


class BadRequest(KgrcaError):
    """A request parameter that is not valid: answered 400."""


class NotFound(KgrcaError):
    """Something the request names that the graph does not hold: answered 404."""


@dataclasses.dataclass
class State:
    cfg: Config
    driver: neo4j.Driver
    sink_factory: Callable[[], GraphWriter]
    calls: limits.Calls
    owns_driver: bool = False
    spool: Spool | None = None
    replayer: Replayer | None = None
    detector: Detector | None = None
    _sink: GraphWriter | None = None
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def sink(self) -> GraphWriter:
        # Made on first use: a Kafka producer must be created in the worker process, after gunicorn forks;
        # the lock keeps a worker's threads from making one each.
        with self._lock:
            if self._sink is None:
                self._sink = self.sink_factory()
            return self._sink

    def store(self, observation: Observation) -> WriteStats:
        """Write one webhook observation within ``webhook_store_timeout``, else ``TemporaryError``."""
        return self.calls.run(lambda: self.sink().write([observation]), self.cfg.webhook_store_timeout,
                              "storing the delivery")

    def read(self, work: Callable[[], Any], what: str, seconds: float | None = None) -> Any:
        """``work()`` (reads of Neo4j) within ``seconds`` (``serve_neo4j_transaction_timeout``), else
        ``TemporaryError``."""
        return self.calls.run(work, seconds or self.cfg.serve_neo4j_transaction_timeout, what)


def create_app(cfg: Config, driver: neo4j.Driver | None = None, sink: str | GraphWriter = "neo4j",
               neo4j_slots: int = NEO4J_SLOTS) -> Flask:
    """The app; ``driver`` defaults to one for ``cfg.neo4j_uri`` (it connects on first use), ``sink`` is
    ``"neo4j"`` (write the graph), ``"kafka"`` (publish for ``kgrca build``) or a GraphWriter.
    ``neo4j_slots``: requests of this process that may wait on Neo4j at once (the rest answer 503 at once).
    With ``webhook_spool_dir`` set, deliveries not stored in time are spooled and a thread writes them."""
    limits.check(cfg)
    app = Flask("kgrca")
    app.config["MAX_CONTENT_LENGTH"] = cfg.webhook_max_bytes
    app.json.sort_keys = False
    owns_driver = driver is None
    driver = driver or server_driver(cfg)
    factory: Callable[[], GraphWriter] = (lambda: sink) if not isinstance(sink, str) else \
        (lambda: make_sink(sink, cfg, driver))
    state = State(cfg, driver, factory, metrics.CountedCalls(limits.Calls(neo4j_slots)), owns_driver)
    if cfg.webhook_spool_dir:
        state.spool = Spool(cfg.webhook_spool_dir)
        # the replayer writes through the same ceiling as a request, so a frozen Neo4j never holds it long
        state.replayer = Replayer(state.spool, lambda observations: state.store(observations[0]))
        state.replayer.start()
    app.extensions["kgrca"] = state
    metrics.instrument(app)  # REST latency by route, webhook deliveries by outcome (faces/api/metrics.py)
    _errors(app, cfg)
    _routes(app, state)
    app.register_blueprint(receivers.blueprint(cfg, state.store, state.spool))
    return app


def close_app(app: Flask) -> None:
    """Release what ``create_app`` opened: the spool's thread, its own Neo4j driver, a Kafka producer."""
    state: State = app.extensions["kgrca"]
    if state.replayer is not None:
        state.replayer.stop()
    state.calls.close()
    if state._sink is not None and not isinstance(state._sink, Neo4jWriter):
        state._sink.close()  # a Neo4jWriter's close would close the driver, which is not the sink's
    if state.owns_driver:
        state.driver.close()


def _error(status: int, message: str) -> tuple[Any, int]:
    return jsonify(error=message, status=status), status


def _errors(app: Flask, cfg: Config) -> None:
    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest) -> Any:
        return _error(400, str(exc))

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Any:
        return _error(404, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        message = exc.description or exc.name
        if exc.code == 413:
            message = f"the body is larger than {cfg.webhook_max_bytes} bytes (webhook_max_bytes)"
        elif exc.code == 404:
            message = f"no route {request.path}: see /api/v1/openapi.json for the API's routes"
        elif exc.code == 405:
            message = f"{request.method} is not allowed on {request.path}: see /api/v1/openapi.json"
        return _error(exc.code or 500, message)

    @app.errorhandler(TemporaryError)
    def unavailable(exc: TemporaryError) -> Any:
        response, status = _error(503, str(exc))
        response.headers["Retry-After"] = str(max(1, int(exc.delay)))
        return response, status

    @app.errorhandler(neo4j_errors.DriverError)
    @app.errorhandler(neo4j_errors.AuthError)
    @app.errorhandler(OSError)
    def neo4j_down(exc: Exception) -> Any:
        # The driver's own text spans lines (one per address tried): the answer is one line.
        return _error(503, " ".join(str(explain(exc, cfg)).split()))

    @app.errorhandler(KgrcaError)
    def failed(exc: KgrcaError) -> Any:
        log.error("%s %s: %s", request.method, request.path, exc)  # a 500 the log does not explain helps no one
        return _error(500, str(exc))

    @app.errorhandler(Exception)
    def bug(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, f"internal error ({exc.__class__.__name__}); the server log has the details")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r}: expected a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}={value}: expected a whole number from {low} to {high}")
    return value


def _time_arg(name: str) -> Any:
    raw = request.args.get(name)
    if not raw:
        return None
    value = parse_time(raw)
    if value is None:
        raise BadRequest(f"{name}={raw!r}: expected an RFC 3339 time like 2026-11-20T10:00:00Z")
    return value


def _release_key(namespace: str, name: str) -> str:
    if len(namespace) > 63 or not _NAMESPACE.match(namespace):
        raise BadRequest(f"namespace {namespace!r}: expected a Kubernetes namespace name (lower-case letters, "
                         "digits and '-', at most 63)")
    if len(name) > 53 or not _RELEASE.match(name):
        raise BadRequest(f"release name {name!r}: expected a Helm release name (lower-case letters, digits, '-' "
                         "and '.', at most 53)")
    return f"{namespace}/{name}"


def _routes(app: Flask, state: State) -> None:
    cfg, driver, database = state.cfg, state.driver, state.cfg.neo4j_database

    timeout = cfg.serve_neo4j_transaction_timeout

    def known_release(namespace: str, name: str, cluster: str | None = None) -> tuple[str, dict[str, Any]]:
        key = _release_key(namespace, name)
        if cluster is not None:  # /api/v1/clusters/<cluster>/...: that cluster's keys (kgrca/keys.py)
            key = clusters.release_key(check_cluster(cluster, BadRequest), namespace, name)
        found = queries.release(driver, database, key, timeout=timeout)
        if found is None and cluster is None:  # the one-cluster routes serve a graph of one named cluster too
            try:
                key = clusters.resolve_release(driver, database, namespace, name, None)
            except KgrcaError as exc:
                if "several clusters" in str(exc):
                    raise BadRequest(f"{exc} (GET /api/v1/clusters/<cluster>/releases/{namespace}/{name})") \
                        from None
            else:
                found = queries.release(driver, database, key, timeout=timeout)
        if found is None:
            where = f" of cluster {cluster}" if cluster is not None else ""
            raise NotFound(f"no release {namespace}/{name}{where} in the graph: list releases with GET "
                           "/api/v1/releases, or load data with 'kgrca ingest' / 'kgrca watch'")
        return key, found

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness.
        ---
        get:
          tags: [meta]
          summary: "Liveness: the process answers"
          responses:
            200: {description: alive, content: {application/json: {schema: Health}}}
        """
        return jsonify(status="alive")  # the process answers; never asks Neo4j (that is /readyz)

    @app.get("/readyz")
    def readyz() -> Any:
        """Readiness.
        ---
        get:
          tags: [meta]
          summary: "Readiness: Neo4j answers"
          responses:
            200: {description: ready, content: {application/json: {schema: Health}}}
            503:
              description: Neo4j is not answering (within serve_neo4j_acquire_timeout, at most
                serve_neo4j_transaction_timeout)
              content: {application/json: {schema: Error}}
        """
        state.read(driver.verify_connectivity, "the readiness check")
        return jsonify(status="ready")

    @app.get("/metrics")
    def prometheus() -> Any:
        """Prometheus metrics.
        ---
        get:
          tags: [meta]
          summary: "Prometheus metrics of the webhook spool; the server's others are on serve_metrics_port"
          responses:
            200: {description: Prometheus text format, content: {text/plain: {schema: {type: string}}}}
        """
        body, content_type = metrics.exposition(state.spool)
        return Response(body, content_type=content_type)

    @app.get("/api/v1/openapi.json")
    def openapi_document() -> Any:
        """This document.
        ---
        get:
          tags: [meta]
          summary: This document, generated from the routes and the models (faces/api/openapi.py)
          responses:
            200: {description: the OpenAPI 3.1 document, content: {application/json: {schema: {type: object}}}}
        """
        return jsonify(openapi.cached_document(app))

    @app.get("/api/v1/releases")
    def releases() -> Any:
        """Releases.
        ---
        get:
          tags: [releases]
          summary: List releases, filtered by status and namespace
          parameters:
            - {name: status, in: query, description: "only releases whose newest revision has this Helm status",
               schema: {type: string, enum: [unknown, deployed, uninstalled, superseded, failed, uninstalling,
                                             pending-install, pending-upgrade, pending-rollback]}}
            - {name: namespace, in: query, schema: {type: string}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 5000, default: 500}}
            - {name: offset, in: query, schema: {type: integer, minimum: 0, default: 0}}
          responses:
            200: {description: releases sorted by namespace/name, content: {application/json: {schema: ReleaseList}}}
            400: BadRequest
            503: Unavailable
        """
        status = request.args.get("status") or None
        if status is not None and status not in HELM_STATUSES:
            raise BadRequest(f"status={status!r}: expected one of {', '.join(HELM_STATUSES)}")
        namespace = request.args.get("namespace") or None
        if namespace is not None and not _NAMESPACE.match(namespace):
            raise BadRequest(f"namespace={namespace!r}: expected a Kubernetes namespace name")
        limit = _int_arg("limit", 500, 1, 5000)
        offset = _int_arg("offset", 0, 0, 10_000_000)
        found, total = state.read(lambda: queries.releases(driver, database, status, namespace, limit, offset,
                                                           timeout=timeout), "the list of releases")
        return jsonify(releases=found, total=total, limit=limit, offset=offset)

    @app.get("/api/v1/releases/<namespace>/<name>")
    def release(namespace: str, name: str, cluster: str | None = None) -> Any:
        """One release.
        ---
        get:
          tags: [releases]
          summary: "One release: its newest revision's state and its context"
          parameters: [namespace, name]
          responses:
            200: {description: the release, content: {application/json: {schema: ReleaseDetail}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        return jsonify(state.read(lambda: known_release(namespace, name, cluster), "the release")[1])

    @app.get("/api/v1/releases/<namespace>/<name>/revisions")
    def revisions(namespace: str, name: str, cluster: str | None = None) -> Any:
        """Revisions.
        ---
        get:
          tags: [releases]
          summary: The release's revisions, newest first
          parameters: [namespace, name]
          responses:
            200: {description: revisions newest first, content: {application/json: {schema: RevisionList}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        def read() -> tuple[str, list[dict[str, Any]]]:
            key, _ = known_release(namespace, name, cluster)
            return key, queries.revisions(driver, database, key, timeout=timeout)

        key, found = state.read(read, "the revisions")
        return jsonify(release=key, revisions=found)

    @app.get("/api/v1/releases/<namespace>/<name>/timeline")
    def timeline(namespace: str, name: str, cluster: str | None = None) -> Any:
        """Timeline.
        ---
        get:
          tags: [releases]
          summary: Everything that happened to the release, on one time axis
          description: Revisions, hooks, hook jobs, objects created and deleted, container states, conditions,
            events, helm operations, Argo CD syncs and incidents, oldest first.
          parameters:
            - namespace
            - name
            - {name: since, in: query, schema: {type: string, format: date-time}}
            - {name: until, in: query, schema: {type: string, format: date-time}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 10000, default: 1000}}
          responses:
            200: {description: items sorted by time, content: {application/json: {schema: Timeline}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        since, until = _time_arg("since"), _time_arg("until")
        limit = _int_arg("limit", 1000, 1, 10_000)
        if since and until and since > until:
            raise BadRequest("since is after until: swap them")
        def read() -> tuple[str, list[dict[str, Any]]]:
            key, _ = known_release(namespace, name, cluster)
            return key, queries.timeline(driver, database, key, since, until, limit, timeout=timeout)

        key, items = state.read(read, "the timeline")
        return jsonify(release=key, items=items)

    @app.get("/api/v1/releases/<namespace>/<name>/diagnosis")
    def diagnosis(namespace: str, name: str, cluster: str | None = None) -> Any:
        """Diagnosis.
        ---
        get:
          tags: [releases]
          summary: What broke the release, why, the evidence and what to run
          description: The diagnoses of every failure pattern that matches this release, best first (the same
            JSON as `kgrca diagnose --release NS/NAME --json`; docs/diagnosis.schema.json). An empty list means
            nothing is wrong. A pattern that failed to run is named in the X-Kgrca-Pattern-Errors header.
          parameters:
            - namespace
            - name
            - now
          responses:
            200:
              description: diagnoses, best first
              headers:
                X-Kgrca-Pattern-Errors: {description: "patterns that failed to run, comma-separated",
                                         schema: {type: string}}
              content: {application/json: {schema: {type: array, items: Diagnosis}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        now = _time_arg("now")

        def read() -> Any:
            key, _ = known_release(namespace, name, cluster)
            if state.detector is None:
                state.detector = Detector(driver, cfg)  # loads and checks the patterns once per process
            return state.detector.run(key, now)

        result = state.read(read, "the diagnosis", DIAGNOSIS_SECONDS)
        for pattern, error in result.errors:
            log.error("[%s] %s", pattern, error)
        response = jsonify([d.to_json() for d in result.diagnoses])
        if result.errors:
            response.headers["X-Kgrca-Pattern-Errors"] = ",".join(pattern for pattern, _ in result.errors)
        return response

    # One graph of several clusters (`kgrca watch --cluster NAME` per cluster): the same four routes under
    # /api/v1/clusters/<cluster>/; the routes above serve the unnamed cluster, or the one cluster holding the release.
    @app.get("/api/v1/clusters/<cluster>/releases/<namespace>/<name>")
    def cluster_release(cluster: str, namespace: str, name: str) -> Any:
        """One release of a cluster.
        ---
        get:
          tags: [clusters]
          summary: "One release of one cluster: its newest revision's state and its context"
          parameters:
            - cluster
            - namespace
            - name
          responses:
            200: {description: the release, content: {application/json: {schema: ReleaseDetail}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        return release(namespace, name, cluster)

    @app.get("/api/v1/clusters/<cluster>/releases/<namespace>/<name>/revisions")
    def cluster_revisions(cluster: str, namespace: str, name: str) -> Any:
        """Revisions of a cluster's release.
        ---
        get:
          tags: [clusters]
          summary: The revisions of one cluster's release, newest first
          parameters:
            - cluster
            - namespace
            - name
          responses:
            200: {description: revisions newest first, content: {application/json: {schema: RevisionList}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        return revisions(namespace, name, cluster)

    @app.get("/api/v1/clusters/<cluster>/releases/<namespace>/<name>/timeline")
    def cluster_timeline(cluster: str, namespace: str, name: str) -> Any:
        """Timeline of a cluster's release.
        ---
        get:
          tags: [clusters]
          summary: Everything that happened to one cluster's release, on one time axis
          parameters:
            - cluster
            - namespace
            - name
            - {name: since, in: query, schema: {type: string, format: date-time}}
            - {name: until, in: query, schema: {type: string, format: date-time}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 10000, default: 1000}}
          responses:
            200: {description: items sorted by time, content: {application/json: {schema: Timeline}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        return timeline(namespace, name, cluster)

    @app.get("/api/v1/clusters/<cluster>/releases/<namespace>/<name>/diagnosis")
    def cluster_diagnosis(cluster: str, namespace: str, name: str) -> Any:
        """Diagnosis of a cluster's release.
        ---
        get:
          tags: [clusters]
          summary: What broke one cluster's release, why, the evidence and what to run
          description: As GET /api/v1/releases/{namespace}/{name}/diagnosis, in one cluster; each diagnosis
            names it in release.cluster.
          parameters:
            - cluster
            - namespace
            - name
            - now
          responses:
            200:
              description: diagnoses, best first
              headers:
                X-Kgrca-Pattern-Errors: {description: "patterns that failed to run, comma-separated",
                                         schema: {type: string}}
              content: {application/json: {schema: {type: array, items: Diagnosis}}}
            400: BadRequest
            404: NoRelease
            503: Unavailable
        """
        return diagnosis(namespace, name, cluster)

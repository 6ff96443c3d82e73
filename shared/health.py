"""Health, readiness and metrics endpoints every service's web app serves.

``GET /healthz`` (liveness: Redis and the database answer), ``GET /readyz`` (the database, Redis,
the service's queue depth and outbox backlog; 503 only when the database fails) and ``GET /metrics``
(Prometheus text, read from Redis at scrape time by ``shared.metrics``).

``/readyz`` and ``/metrics`` say more about the system than a stranger should learn (queue depths,
backlogs, error texts), so they need ``Authorization: Bearer <METRICS_TOKEN>`` (the API token when
unset); ``/healthz`` stays open for load balancers and container health checks.
"""
from __future__ import annotations

import functools
import hmac
import time
from typing import Callable

import redis
from flask import Blueprint, Response, jsonify, request
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared import __version__
from shared.auth import public
from shared.errors import ApiError
from shared.metrics import metrics_registry, metrics_redis, queue_depth


def ping_redis(url: str) -> None:
    """Raise unless Redis at ``url`` answers PING within a second."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def ops_blueprint(service: str, redis_url: str, check_db: Callable[[], None],
                  outbox_backlog: Callable[[], int], token: str) -> Blueprint:
    """``/healthz``, and ``/readyz`` and ``/metrics`` behind the bearer ``token``, of one service."""
    bp = Blueprint("ops", __name__)
    registry = metrics_registry(service, redis_url, outbox_backlog)

    def require_metrics_token(view):
        @functools.wraps(view)
        def wrapper():
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
                raise ApiError(401, "send 'Authorization: Bearer <METRICS_TOKEN>' (the API token when METRICS_TOKEN is unset)")
            return view()

        wrapper.pipeline_auth = ("metrics token", "METRICS_TOKEN (the API token when unset)")
        return wrapper

    @bp.get("/healthz")
    @public("liveness for load balancers and container health checks; shows only ok or the failing check")
    def healthz():
        results, ok = {}, True
        for name, check in (("redis", lambda: ping_redis(redis_url)), ("db", check_db)):
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # a failing dependency is the answer, not a crash
                results[name] = f"error: {exc}"
                ok = False
        return jsonify({"service": service, "version": __version__, "status": "ok" if ok else "degraded",
                        "checks": results}), (
            200 if ok else 503)

    @bp.get("/readyz")
    @require_metrics_token
    def readyz():
        checks: dict = {}
        started = time.monotonic()
        try:
            check_db()
            checks["db"] = "ok"
        except Exception as exc:  # the failing dependency is the answer
            checks["db"] = f"error: {exc}"
        try:
            checks["outbox_pending"] = outbox_backlog()
        except Exception as exc:
            checks["outbox_pending"] = f"error: {exc}"
        try:
            client = metrics_redis(redis_url)
            client.ping()
            checks["redis"] = "ok"
            checks["queue_depth"] = queue_depth(client, service)
        except redis.RedisError as exc:
            checks["redis"] = f"error: {exc}"
            checks["queue_depth"] = None
        # Without its database the app can serve nothing; without Redis it still accepts work
        # (the outbox keeps every event), so Redis down is "degraded" but still ready.
        ready = checks["db"] == "ok"
        status = "ok" if ready and checks["redis"] == "ok" else ("degraded" if ready else "unavailable")
        body = {"service": service, "status": status, "checks": checks,
                "elapsed_ms": round((time.monotonic() - started) * 1000, 1)}
        return jsonify(body), 200 if ready else 503

    @bp.get("/metrics")
    @require_metrics_token
    def metrics():
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return bp

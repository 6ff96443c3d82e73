"""Health, readiness and metrics endpoints every service's web app serves.

``GET /healthz`` (liveness: Redis and the database answer), ``GET /readyz`` (the database, Redis,
the service's queue depth and outbox backlog; 503 only when the database fails) and ``GET /metrics``
(Prometheus text, read from Redis at scrape time by ``shared.metrics``).
"""
from __future__ import annotations

import time
from typing import Callable

import redis
from flask import Blueprint, Response, jsonify
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared import __version__
from shared.metrics import metrics_registry, metrics_redis, queue_depth


def ping_redis(url: str) -> None:
    """Raise unless Redis at ``url`` answers PING within a second."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def ops_blueprint(service: str, redis_url: str, check_db: Callable[[], None],
                  outbox_backlog: Callable[[], int]) -> Blueprint:
    """``/healthz``, ``/readyz`` and ``/metrics`` of one service."""
    bp = Blueprint("ops", __name__)
    registry = metrics_registry(service, redis_url, outbox_backlog)

    @bp.get("/healthz")
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
    def metrics():
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return bp
